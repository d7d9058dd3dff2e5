from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.authenticator import code_now
from tests.factories import PASSWORD

URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counts live in the cache: give each test a fresh one."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    cache.clear()


def test_good_credentials_buy_a_token_that_authenticates(worker):
    client = APIClient()
    response = client.post(URL, {"email": worker.user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/offers/").status_code == 200


def test_wrong_credentials_are_refused(worker):
    response = APIClient().post(
        URL, {"email": worker.user.email, "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_missing_fields_get_field_errors(db):
    response = APIClient().post(URL, {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_repeated_failures_are_throttled(worker):
    client = APIClient()
    codes = [
        client.post(URL, {"email": worker.user.email, "password": "x"}, format="json").status_code
        for _ in range(12)
    ]
    assert codes[0] == 400
    assert codes[-1] == 429


def test_a_user_with_an_authenticator_app_must_give_a_valid_code(manager):
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    client = APIClient()
    body = {"email": manager.email, "password": PASSWORD}
    response = client.post(URL, body, format="json")
    assert response.status_code == 400 and "code" in response.json()
    response = client.post(URL, {**body, "code": "000000"}, format="json")
    assert response.status_code == 400 and "code" in response.json()
    code = code_now(secret)
    response = client.post(URL, {**body, "code": code}, format="json")
    assert response.status_code == 200 and response.json()["token"]


def test_a_recovery_code_also_works_once(manager):
    TOTP.activate(manager, generate_totp_secret())
    codes = RecoveryCodes.activate(manager).get_unused_codes()
    client = APIClient()
    body = {"email": manager.email, "password": PASSWORD, "code": codes[0]}
    assert client.post(URL, body, format="json").status_code == 200
    assert client.post(URL, body, format="json").status_code == 400
    assert Authenticator.objects.filter(user=manager).count() == 2
