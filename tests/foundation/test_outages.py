"""Outages: with the database or Redis unreachable nobody sees a 500. Pages and the API
answer 503 with Retry-After, the throttle falls back to a local cache, /healthz tells
the truth. The outages are real: connections to a port nothing listens on, and a
redis-server of the test's own that is stopped."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD
from tests.faults import OwnRedis, celery_app_broker
from tests.pools.conftest import give_totp

CLOSED_PORT = 9119  # this engineer's range: nothing listens there


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_api_and_pages_answer_503_with_retry_after(
    manager, coordinator, database_down_later
):
    api = APIClient(raise_request_exception=False)
    token = Token.objects.create(user=manager)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    web = Client(raise_request_exception=False)
    web.force_login(manager)
    pool_client = Client(raise_request_exception=False)
    give_totp(coordinator)
    pool_client.force_login(coordinator)

    database_down_later()
    response = api.get("/api/v1/shifts/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["retry_after"] == 30
    page = web.get("/provider/")  # the view loads the user
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "try again" in page.content.decode()
    board = pool_client.get("/pool/")  # a middleware loads the user first
    assert board.status_code == 503 and board["Retry-After"] == "30"
    health = Client().get("/healthz")
    assert health.status_code == 503
    assert health.json()["database"]["ok"] is False
    token_response = APIClient(raise_request_exception=False).post(
        "/api/v1/auth/token/", {"email": manager.email, "password": PASSWORD}, format="json"
    )
    assert token_response.status_code == 503


@pytest.fixture
def database_down_later():
    state: dict[str, object] = {}

    def down() -> None:
        state["port"] = connection.settings_dict["PORT"]
        connection.close()
        connection.settings_dict["PORT"] = CLOSED_PORT

    yield down
    if "port" in state:
        connection.close()
        connection.settings_dict["PORT"] = state["port"]


@pytest.fixture
def redis_down(tmp_path, settings):
    """Cache and broker on a redis-server of our own, stopped before the test runs."""
    original_broker = settings.CELERY_BROKER_URL  # a test may repoint settings before teardown
    redis = OwnRedis(tmp_path)
    settings.CACHES = {
        "default": {
            "BACKEND": "flexpool.cache.FallbackRedisCache",
            "LOCATION": redis.url(),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    celery_app_broker(redis.url())
    yield redis
    redis.stop()
    celery_app_broker(original_broker)


@pytest.mark.django_db
def test_with_redis_down_the_token_endpoint_answers_and_still_throttles(worker, redis_down):
    client = APIClient(raise_request_exception=False)
    body = {"email": worker.user.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/token/", body, format="json").status_code == 200
    codes = [client.post("/api/v1/auth/token/", body, format="json").status_code for _ in range(12)]
    assert 500 not in codes
    assert codes[-1] == 429  # the local fallback still counts


@pytest.mark.django_db
def test_with_redis_down_a_signed_in_worker_stays_signed_in_and_can_sign_out(worker, redis_down):
    client = Client(raise_request_exception=False)
    client.force_login(worker.user)  # the session is written to the database first
    assert client.get("/worker/offers/").status_code == 200  # read from the database
    client.post("/accounts/logout/")
    assert client.get("/worker/offers/").status_code == 302  # sent to sign in


def test_the_cache_borrows_one_redis_client_for_every_operation(redis_down):
    backend = cache._cache  # the client Django's Redis cache calls for each operation
    assert backend.get_client("a") is backend.get_client("b", write=True)


@pytest.mark.django_db
def test_the_cache_returns_to_redis_when_it_is_back(redis_down):
    cache.set("k", "local")
    assert cache.get("k") == "local"
    redis_down.start()
    cache._down_until = 0.0  # the pause after a failure is over
    cache.set("k", "redis")
    assert cache.get("k") == "redis"


@pytest.mark.django_db
def test_healthz_says_the_broker_is_down_when_redis_is(redis_down, settings):
    settings.CELERY_BROKER_URL = redis_down.url()
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False and body["database"]["ok"] is True


def _connections_received(redis_server) -> int:
    import redis

    client = redis.Redis.from_url(redis_server.url())
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


@pytest.mark.django_db
def test_healthz_borrows_one_open_redis_connection_instead_of_opening_one_per_request(
    redis_down, settings
):
    redis_down.start()
    settings.CELERY_BROKER_URL = redis_down.url()
    before = _connections_received(redis_down)
    for _ in range(20):
        assert Client().get("/healthz").status_code == 200
    # One connection for the 20 checks, and one for each count we asked for ourselves.
    assert _connections_received(redis_down) - before == 2


@pytest.mark.django_db
def test_healthz_says_the_broker_is_back_once_redis_restarts(redis_down, settings):
    redis_down.start()
    settings.CELERY_BROKER_URL = redis_down.url()
    assert Client().get("/healthz").status_code == 200
    redis_down.stop()
    assert Client().get("/healthz").status_code == 503
    redis_down.start()
    # The pooled connection died with the old server: it is replaced, not reported down.
    assert Client().get("/healthz").status_code == 200
