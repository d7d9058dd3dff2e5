"""Sign-up and sign-in speak as FlexPool, whatever host the request came in on."""

from __future__ import annotations

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-phone-password-42"


def test_the_sign_up_email_is_in_flexpools_words_with_its_address(client, settings):
    settings.SITE_URL = "http://127.0.0.1:8811"
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    settings.ACCOUNT_RATE_LIMITS = False
    client.post(
        "/accounts/signup/",
        {"email": "ada@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    [message] = mail.outbox
    assert message.subject == "FlexPool: Confirm your e-mail address"
    assert "Hello from" not in message.body and "127.0.0.1:8811!" not in message.body
    assert "FlexPool account" in message.body
    assert "http://127.0.0.1:8811" in message.body


def test_the_sign_in_and_sign_up_pages_say_what_flexpool_is(client):
    login = client.get("/accounts/login/").content.decode()
    assert "Sign in to FlexPool" in login and "care and support workers" in login
    signup = client.get("/accounts/signup/").content.decode()
    assert "Create a FlexPool account" in signup and "Create account" in signup


def test_make_run_points_site_url_at_its_own_port():
    from pathlib import Path

    source = (Path(__file__).parents[2] / "scripts" / "run_all.py").read_text()
    assert 'env.setdefault("SITE_URL", f"http://{args.host}:{args.port}")' in source
