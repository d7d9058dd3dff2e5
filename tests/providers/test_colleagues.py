"""A provider's administrator invites and removes colleagues; others cannot."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from outbox.models import OutboxMessage
from outbox.services import outbox_consume
from providers.models import ProviderMember
from tests import factories as f

pytestmark = pytest.mark.django_db

INVITE = {"first_name": "Dee", "last_name": "Deputy", "email": "Dee@OakCare.test", "job_title": ""}


def test_an_admin_invites_a_colleague_who_sets_a_password_by_email(
    client, manager, provider, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("providers:members"), INVITE)
    assert response.status_code == 302
    assert len(mail.outbox) == 0  # sent after commit, by a worker: here, by hand
    invite = OutboxMessage.objects.get(handler="providers.tasks.member_invite_send")
    assert outbox_consume(message_id=invite.pk) is True

    dee = User.objects.get(email="dee@oakcare.test")
    assert not dee.has_usable_password()
    assert ProviderMember.objects.get(user=dee).provider == provider
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    client.logout()
    page = client.get(link.group(0).split("8000", 1)[-1].split("testserver", 1)[-1], follow=True)
    assert page.status_code == 200
    assert b"password1" in page.content  # allauth's choose-a-password form, token accepted


def test_an_invitation_to_an_address_already_in_use_is_refused_beside_the_email(
    client, manager, worker
):
    client.force_login(manager)
    response = client.post(reverse("providers:members"), {**INVITE, "email": worker.user.email})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors


def test_a_member_who_is_not_an_admin_cannot_invite_or_remove(client, manager, provider):
    staff = f.ProviderMemberFactory(provider=provider, is_admin=False)
    client.force_login(staff.user)
    assert client.get(reverse("providers:members")).status_code == 200
    assert client.post(reverse("providers:members"), INVITE).status_code == 403
    admin = ProviderMember.objects.get(user=manager)
    remove = reverse("providers:member_remove", kwargs={"pk": admin.pk})
    assert client.post(remove).status_code == 403
    assert ProviderMember.objects.filter(pk=admin.pk).exists()


def test_an_admin_removes_a_colleague_who_can_then_no_longer_sign_in(client, manager, provider):
    staff = f.ProviderMemberFactory(provider=provider, is_admin=False)
    client.force_login(manager)
    client.post(reverse("providers:member_remove", kwargs={"pk": staff.pk}))
    staff.user.refresh_from_db()
    assert not ProviderMember.objects.filter(pk=staff.pk).exists()
    assert not staff.user.is_active


def test_an_admin_cannot_remove_herself(client, manager):
    client.force_login(manager)
    me = ProviderMember.objects.get(user=manager)
    client.post(reverse("providers:member_remove", kwargs={"pk": me.pk}))
    assert ProviderMember.objects.filter(pk=me.pk).exists()


def test_another_provider_gets_404_removing_her_colleagues(client, manager, outsider):
    client.force_login(outsider)
    me = ProviderMember.objects.get(user=manager)
    assert client.post(reverse("providers:member_remove", kwargs={"pk": me.pk})).status_code == 404
    assert b"mary@oakcare.test" not in client.get(reverse("providers:members")).content


def test_a_mail_server_that_is_down_never_fails_the_invitation(client, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9119  # nothing listens there
    client.force_login(manager)
    response = client.post(reverse("providers:members"), INVITE)
    assert response.status_code == 302
    invite = OutboxMessage.objects.get(handler="providers.tasks.member_invite_send")
    assert outbox_consume(message_id=invite.pk) is False  # refused: kept, tried again later
    invite.refresh_from_db()
    assert invite.done_at is None and invite.attempts == 1
    assert "ConnectionRefusedError" in invite.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_consume(message_id=invite.pk) is True
    assert len(mail.outbox) == 1
