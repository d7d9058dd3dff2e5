from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from tests.pools.conftest import give_totp


@pytest.mark.parametrize("url", ["/pool/", "/pool/workers/", "/pool/dashboard/"])
def test_a_coordinator_without_a_second_factor_is_sent_to_enrol_first(
    client, coordinator_without_mfa, url
):
    client.force_login(coordinator_without_mfa)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_the_enrolment_page_itself_is_reachable(client, coordinator_without_mfa):
    client.force_login(coordinator_without_mfa)
    response = client.get(reverse("mfa_activate_totp"))
    # allauth asks for the password again first (a fresh sign-in goes straight through).
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(response["Location"]).status_code == 200


def test_once_enrolled_the_coordinator_sees_the_board(client, coordinator_without_mfa):
    give_totp(coordinator_without_mfa)
    client.force_login(coordinator_without_mfa)
    assert client.get("/pool/").status_code == 200


def test_signing_in_with_a_password_alone_is_not_enough_for_an_enrolled_coordinator(
    client, coordinator
):
    EmailAddress.objects.create(
        user=coordinator, email=coordinator.email, verified=True, primary=True
    )
    response = client.post(
        reverse("account_login"), {"login": coordinator.email, "password": "flexpool-test-pw"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/pool/").status_code == 302  # not signed in until the code is given


def test_other_people_are_not_asked_to_enrol(client, manager):
    client.force_login(manager)
    assert client.get("/pool/").status_code == 404
