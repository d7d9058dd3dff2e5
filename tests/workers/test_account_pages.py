from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_allauth_pages_use_the_govuk_design_system(client, name):
    body = client.get(reverse(name)).content.decode()
    assert 'class="govuk-heading-l"' in body
    assert 'class="govuk-input' in body
    assert 'class="govuk-label"' in body
    assert "govuk-button" in body


def test_a_failed_sign_in_shows_a_govuk_error_summary(client, worker):
    response = client.post(
        reverse("account_login"), {"login": "wendy@worker.test", "password": "wrong"}
    )
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "There is a problem" in body
