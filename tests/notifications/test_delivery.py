from __future__ import annotations

from datetime import time

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, NotificationPreference
from notifications.services import notification_preference_update, notification_send
from notifications.tasks import notification_deliver, notifications_deliver_due

pytestmark = pytest.mark.django_db

BACKENDS = ["notifications.backends.ConsoleBackend", "notifications.backends.EmailBackend"]


def test_sending_stores_the_message_and_queues_delivery_after_commit(
    worker, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATION_BACKENDS = BACKENDS
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = notification_send(user=worker.user, kind="offer", subject="New shift", body="Hi")
    assert len(callbacks) == 1
    assert note.delivered_at is None and len(mail.outbox) == 0  # nothing in the request
    notification_deliver(note.pk)
    note.refresh_from_db()
    assert note.delivered_at is not None
    assert [m.subject for m in mail.outbox] == ["New shift"]
    notification_deliver(note.pk)  # a duplicate task sends nothing twice
    assert len(mail.outbox) == 1


def test_a_worker_who_turned_email_off_gets_no_email(worker, settings):
    settings.NOTIFICATION_BACKENDS = BACKENDS
    notification_preference_update(
        user=worker.user, email=False, sms=False, quiet_start=None, quiet_end=None
    )
    note = Notification.objects.create(user=worker.user, kind="k", subject="s", body="b")
    notification_deliver(note.pk)
    note.refresh_from_db()
    assert note.delivered_at is not None
    assert mail.outbox == []


def test_messages_in_quiet_hours_wait_until_they_end(worker, settings):
    settings.NOTIFICATION_BACKENDS = BACKENDS
    notification_preference_update(
        user=worker.user, email=True, sms=False, quiet_start=time(22, 0), quiet_end=time(7, 0)
    )
    tz = timezone.get_current_timezone()
    with time_machine.travel(timezone.datetime(2026, 6, 10, 23, 30, tzinfo=tz)):
        note = Notification.objects.create(user=worker.user, kind="k", subject="s", body="b")
        notification_deliver(note.pk)
        note.refresh_from_db()
        assert note.delivered_at is None
        assert timezone.localtime(note.deliver_after).replace(tzinfo=None) == (
            timezone.datetime(2026, 6, 11, 7, 0)
        )
        assert notifications_deliver_due() == 0
    with time_machine.travel(timezone.datetime(2026, 6, 11, 7, 1, tzinfo=tz)):
        notification_deliver(note.pk)
        note.refresh_from_db()
        assert note.delivered_at is not None
    assert len(mail.outbox) == 1


def test_quiet_hours_within_one_day_and_none_at_all():
    pref = NotificationPreference(quiet_start=time(13, 0), quiet_end=time(14, 0))
    assert pref.is_quiet_at(time(13, 30)) and not pref.is_quiet_at(time(14, 0))
    assert not NotificationPreference().is_quiet_at(time(3, 0))


def test_a_worker_sets_channels_and_quiet_hours_on_their_page(client, worker, other_worker):
    client.force_login(worker.user)
    url = reverse("workers:notifications")
    response = client.post(url, {"sms": "on", "quiet_start": "21:00", "quiet_end": "08:00"})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=worker.user)
    assert (pref.email, pref.sms, pref.quiet_start) == (False, True, time(21, 0))
    assert not NotificationPreference.objects.filter(user=other_worker.user).exists()
    response = client.post(url, {"email": "on", "quiet_start": "21:00"})
    assert "Enter both times, or neither." in response.content.decode()


def test_a_worker_sees_only_their_own_messages(client, worker, other_worker):
    Notification.objects.create(user=other_worker.user, kind="k", subject="For Olive", body="b")
    Notification.objects.create(user=worker.user, kind="k", subject="For Wendy", body="b")
    client.force_login(worker.user)
    body = client.get(reverse("workers:messages")).content.decode()
    assert "For Wendy" in body and "For Olive" not in body


def test_sms_is_off_unless_a_notify_key_is_set(settings):
    from django.core.exceptions import ImproperlyConfigured

    from notifications.backends import NotifySmsBackend

    assert "notifications.backends.NotifySmsBackend" not in settings.NOTIFICATION_BACKENDS
    settings.NOTIFY_API_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        NotifySmsBackend()
