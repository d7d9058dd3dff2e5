"""Sign-in under attack: the client's address comes from our own proxies, failed attempts
lock an account on the form and the API alike (django-axes), and every limit answers 429
with a page (or JSON), never 500."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from accounts.client_ip import client_ip
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token/"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counts live in the cache: give each test a fresh one."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "h"}
    }
    cache.clear()


def _request(xff: str | None, remote: str = "10.0.0.5"):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **meta)


def test_with_no_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("1.2.3.4")) == "10.0.0.5"


def test_with_trusted_proxies_the_address_they_saw_is_used_and_client_entries_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    # Fewer entries than our proxies add: it did not come through them, use the socket.
    assert client_ip(_request("203.0.113.9")) == "10.0.0.5"
    assert client_ip(_request(None)) == "10.0.0.5"


def test_varying_x_forwarded_for_does_not_escape_the_token_throttle(worker, settings):
    settings.AXES_FAILURE_LIMIT = 1000  # this test is about the throttle alone
    client = APIClient()
    codes = [
        client.post(
            TOKEN,
            {"email": f"guess{i}@x.test", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(30)
    ]
    assert codes[0] == 400
    assert codes.count(429) >= 19


def _fail_on_the_form(email: str, times: int) -> list[int]:
    web = Client()
    return [
        web.post(LOGIN, {"login": email, "password": f"wrong-{i}"}).status_code
        for i in range(times)
    ]


def test_an_account_locked_on_the_form_gets_no_api_token(worker, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.ACCOUNT_RATE_LIMITS = False  # the lock, not allauth's own limit
    codes = _fail_on_the_form(worker.user.email, 3)
    assert codes[:2] == [200, 200] and codes[2] == 429
    response = APIClient().post(
        TOKEN, {"email": worker.user.email.upper(), "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert "token" not in response.json()
    page = Client().post(LOGIN, {"login": worker.user.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Too many attempts" in page.content.decode()
    assert page.wsgi_request.user.is_anonymous


def test_an_account_locked_through_the_api_cannot_sign_in_on_the_form(worker, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.ACCOUNT_RATE_LIMITS = False
    api = APIClient()
    codes = [
        api.post(TOKEN, {"email": worker.user.email, "password": "x"}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]
    page = Client().post(LOGIN, {"login": worker.user.email, "password": PASSWORD})
    assert page.status_code == 429


def test_another_account_is_not_locked_by_someone_elses_failures(worker, other_worker, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_LOCKOUT_PARAMETERS = ["username"]
    settings.ACCOUNT_RATE_LIMITS = False
    _fail_on_the_form(worker.user.email, 3)
    response = APIClient().post(
        TOKEN, {"email": other_worker.user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_allauths_own_rate_limit_answers_429_with_a_govuk_page(worker, settings):
    settings.AXES_FAILURE_LIMIT = 1000
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}  # sign-in attempts per address
    codes = _fail_on_the_form(worker.user.email, 4)
    assert 500 not in codes
    assert codes[-1] == 429
    page = Client().post(LOGIN, {"login": worker.user.email, "password": "again"})
    assert page.status_code == 429
    text = page.content.decode()
    assert "govuk-heading-l" in text and "Too many attempts" in text
