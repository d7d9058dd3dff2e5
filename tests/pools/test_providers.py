from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from geo.services import district_centroid_set
from outbox.models import OutboxMessage
from outbox.services import outbox_consume
from pools.models import AuditEntry
from providers.models import Provider, ProviderMember, Site


@pytest.fixture
def bury_districts(db):
    district_centroid_set(district="BL9", latitude=53.593, longitude=-2.298)


def _post(client, **overrides):
    data = {
        "provider-name": "Birch Lodge Care",
        "provider-size": "small",
        "provider-admin_first_name": "Bea",
        "provider-admin_last_name": "Birch",
        "provider-admin_email": "bea@birch.test",
        "site-name": "Birch Lodge",
        "site-cqc_location_id": "1-987654321",
        "site-site_type": "residential",
        "site-address": "1 Birch Road, Bury",
        "site-postcode": "bl9 7zz",
        "site-latitude": "",
        "site-longitude": "",
    }
    data.update(overrides)
    return client.post(reverse("pools:provider_new"), data)


def test_onboarding_creates_provider_site_and_admin_and_emails_a_set_password_link(
    client, coordinator, pool, bury_districts, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        response = _post(client)
    assert len(mail.outbox) == 0  # sent after commit, by a worker: here, by hand
    invite = OutboxMessage.objects.get(handler="providers.tasks.member_invite_send")
    assert outbox_consume(message_id=invite.pk) is True
    provider = Provider.objects.get(name="Birch Lodge Care")
    assert response.status_code == 302
    assert provider.pool == pool
    site = Site.objects.get(provider=provider)
    assert (site.postcode, site.district, site.latitude) == ("BL9 7ZZ", "BL9", 53.593)
    member = ProviderMember.objects.get(provider=provider)
    assert member.is_admin and member.user.email == "bea@birch.test"
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bea@birch.test"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"provider.onboard", "site.add", "provider.invite_admin"} <= actions


def test_onboarding_while_the_mail_server_is_down_keeps_the_provider_and_the_invitation(
    client, coordinator, pool, bury_districts, settings, django_capture_on_commit_callbacks
):
    """Before the outbox, the set-password e-mail went out in the request: an SMTP server
    that refused connections turned the onboarding into a 500."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        response = _post(client)
    assert response.status_code == 302
    assert ProviderMember.objects.filter(provider__name="Birch Lodge Care").exists()
    invite = OutboxMessage.objects.get(handler="providers.tasks.member_invite_send")
    assert outbox_consume(message_id=invite.pk) is False  # the mail server is still down
    invite.refresh_from_db()
    assert invite.done_at is None and invite.attempts == 1  # kept, tried again later


def test_a_bad_cqc_location_id_is_a_field_error_and_nothing_is_saved(
    client, coordinator, bury_districts
):
    client.force_login(coordinator)
    response = _post(client, **{"site-cqc_location_id": "12345"})
    assert response.status_code == 400
    assert "CQC location ID is" in response.content.decode()
    assert not Provider.objects.filter(name="Birch Lodge Care").exists()


def test_an_unknown_postcode_needs_coordinates_and_then_uses_them(client, coordinator, db):
    client.force_login(coordinator)
    response = _post(client, **{"site-postcode": "ZZ9 9ZZ"})
    assert response.status_code == 400
    assert "latitude and longitude" in response.content.decode()
    assert not Provider.objects.exists() or not Provider.objects.filter(name="Birch Lodge Care")
    response = _post(
        client, **{"site-postcode": "ZZ9 9ZZ", "site-latitude": "53.6", "site-longitude": "-2.3"}
    )
    assert response.status_code == 302
    site = Site.objects.get(cqc_location_id="1-987654321")
    assert (site.district, site.latitude, site.longitude) == ("ZZ9", 53.6, -2.3)


def test_an_existing_email_cannot_be_invited_again(client, coordinator, manager, bury_districts):
    client.force_login(coordinator)
    response = _post(client, **{"provider-admin_email": manager.email})
    assert response.status_code == 400
    assert "already has an account" in response.content.decode()
    assert not Provider.objects.filter(name="Birch Lodge Care").exists()


def test_adding_a_second_site_to_a_provider(client, coordinator, provider, bury_districts):
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:provider", kwargs={"pk": provider.pk}),
        {
            "site-name": "Oak Annexe",
            "site-cqc_location_id": "1-11122233344",
            "site-site_type": "non_residential",
            "site-address": "2 Oak Street",
            "site-postcode": "BL9 1AA",
        },
    )
    assert response.status_code == 302
    assert provider.sites.filter(name="Oak Annexe").exists()
