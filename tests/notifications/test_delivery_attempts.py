"""Delivery per message and channel: a failed channel is retried on its own with back-off,
given up after a limit where coordinators see it; one failure never stops a batch."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.models import Delivery, Notification
from notifications.services import (
    notification_deliver,
    notification_preference_update,
    notifications_deliver,
    notifications_due,
)
from tests import factories as f
from tests.notifications.channels import FlakyBackend
from tests.pools.conftest import give_totp

pytestmark = pytest.mark.django_db

BACKENDS = ["tests.notifications.channels.FlakyBackend", "notifications.backends.EmailBackend"]


@pytest.fixture(autouse=True)
def channels(settings):
    settings.NOTIFICATION_BACKENDS = BACKENDS
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    FlakyBackend.reset()
    yield
    FlakyBackend.reset()


def _note(user, subject="New shift"):
    return Notification.objects.create(user=user, kind="offer", subject=subject, body="b")


def test_a_failed_channel_is_retried_without_resending_the_one_that_succeeded(worker):
    note = _note(worker.user)
    FlakyBackend.fail_next = 1
    assert notification_deliver(notification_id=note.pk) == "pending"
    console = Delivery.objects.get(notification=note, channel="console")
    assert console.status == Delivery.Status.FAILED and "OSError" in console.last_error
    assert Delivery.objects.get(notification=note, channel="email").status == "sent"
    assert len(mail.outbox) == 1

    # Not before its back-off; then once more, and the e-mail is not sent again.
    assert notifications_due() == []
    later = timezone.now() + timedelta(seconds=31)
    assert notifications_due(now=later) == [note.pk]
    assert notification_deliver(notification_id=note.pk, now=later) == "delivered"
    console.refresh_from_db()
    assert console.status == "sent" and console.attempts == 2
    assert FlakyBackend.sent == [note.pk]
    assert len(mail.outbox) == 1
    note.refresh_from_db()
    assert note.delivered_at is not None


def test_it_gives_up_after_the_limit_and_the_failure_is_visible_to_coordinators(
    client, worker, coordinator, outsider
):
    FlakyBackend.failing = {worker.user.email}
    note = _note(worker.user, subject="Shift offer: Oak House")
    now = timezone.now()
    for minutes in (0, 1, 3):  # back-off 30 s, then 60 s
        notification_deliver(notification_id=note.pk, now=now + timedelta(minutes=minutes))
    console = Delivery.objects.get(notification=note, channel="console")
    assert console.status == Delivery.Status.GAVE_UP and console.attempts == 3
    note.refresh_from_db()
    assert note.delivered_at is not None  # nothing left to try
    assert notifications_due(now=now + timedelta(hours=1)) == []

    give_totp(coordinator)
    client.force_login(coordinator)
    page = client.get("/pool/deliveries/")
    assert page.status_code == 200
    assert "Shift offer: Oak House" in page.content.decode()
    assert "OSError" in page.content.decode()
    client.force_login(outsider)
    assert client.get("/pool/deliveries/").status_code == 404


def test_a_coordinator_of_another_pool_does_not_see_the_failure(client, worker):
    FlakyBackend.failing = {worker.user.email}
    note = _note(worker.user, subject="Shift offer: Oak House")
    Delivery.objects.create(notification=note, channel="console", status="gave_up")
    other = f.UserFactory(email="otis@elsewhere.test")
    f.CoordinatorFactory(user=other, pool=f.PoolFactory(name="Bolton", slug="bolton"))
    give_totp(other)
    client.force_login(other)
    page = client.get("/pool/deliveries/")
    assert page.status_code == 200 and "Oak House" not in page.content.decode()


def test_a_channel_error_never_stops_the_rest_of_the_batch(worker, other_worker):
    FlakyBackend.failing = {worker.user.email}
    notes = [_note(worker.user), _note(other_worker.user), _note(other_worker.user)]
    assert notifications_deliver(notification_ids=[n.pk for n in notes]) == 2
    assert FlakyBackend.sent == [notes[1].pk, notes[2].pk]
    assert len(mail.outbox) == 3  # e-mail went to all three, the failing one included


def test_a_retry_in_quiet_hours_waits_until_they_end(worker):
    tz = timezone.get_current_timezone()
    note = _note(worker.user)
    FlakyBackend.fail_next = 1
    evening = timezone.datetime(2026, 6, 10, 21, 59, 45, tzinfo=tz)
    with time_machine.travel(evening, tick=False):
        notification_deliver(notification_id=note.pk)
    notification_preference_update(
        user=worker.user, email=True, sms=False, quiet_start=time(22, 0), quiet_end=time(7, 0)
    )
    night = evening + timedelta(minutes=5)
    assert notifications_due(now=night) == [note.pk]
    assert notification_deliver(notification_id=note.pk, now=night) == "held"
    assert FlakyBackend.sent == []
    morning = timezone.datetime(2026, 6, 11, 7, 0, 1, tzinfo=tz)
    assert notifications_due(now=morning) == [note.pk]
    assert notification_deliver(notification_id=note.pk, now=morning) == "delivered"
    assert FlakyBackend.sent == [note.pk]


def test_a_delivery_another_sender_holds_is_not_sent_twice(worker):
    note = _note(worker.user)
    now = timezone.now()
    Delivery.objects.create(
        notification=note, channel="console", claimed_until=now + timedelta(seconds=60)
    )
    assert notification_deliver(notification_id=note.pk, now=now) == "pending"
    assert FlakyBackend.sent == []  # the other sender has it
    # That sender died: its lease runs out and the sweep sends it once.
    later = now + timedelta(seconds=61)
    assert notifications_due(now=later) == [note.pk]
    assert notification_deliver(notification_id=note.pk, now=later) == "delivered"
    assert FlakyBackend.sent == [note.pk] and len(mail.outbox) == 1


def test_a_batch_out_of_time_queues_the_rest_as_a_new_outbox_row(worker, other_worker, settings):
    from outbox.models import OutboxMessage

    settings.NOTIFICATION_BATCH_BUDGET_SECONDS = -1  # out of time after the first message
    notes = [_note(worker.user), _note(other_worker.user), _note(other_worker.user)]
    assert notifications_deliver(notification_ids=[n.pk for n in notes]) == 1
    assert FlakyBackend.sent == [notes[0].pk]
    row = OutboxMessage.objects.get()
    assert row.payload == {"notification_ids": [notes[1].pk, notes[2].pk]}
