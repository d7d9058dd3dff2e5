"""Two beat processes by mistake: every periodic task is sent twice at the same moment,
so two workers run each one concurrently on PostgreSQL. Nothing may happen twice: no
outbox row published twice, no wave run twice, no message sent twice on a channel, no
reminder sent twice. The broker is a real redis-server of the test's own, so the count
of published tasks is the length of its queue."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.utils import timezone

from notifications.models import Delivery, Notification
from notifications.services import notifications_deliver, notifications_due
from outbox.models import OutboxMessage
from outbox.services import outbox_consume, outbox_publish
from outbox.tasks import outbox_relay
from pools.models import Role
from shifts.models import MatchRun, ShiftRequest
from shifts.services.posting import shift_post
from shifts.tasks import matching_sweep, offers_expire, shifts_escalate
from tests.faults import OwnRedis, celery_app_broker
from tests.notifications.channels import FlakyBackend
from tests.workers.conftest import make_booking, shift_at
from workers.models import BookingReminder
from workers.tasks import bookings_send_reminders

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(tmp_path, settings):
    original_broker = settings.CELERY_BROKER_URL
    own = OwnRedis(tmp_path)
    own.start()
    celery_app_broker(own.url())
    settings.NOTIFICATION_BACKENDS = ["tests.notifications.channels.FlakyBackend"]
    FlakyBackend.reset()
    client = redis.Redis.from_url(own.url())
    yield client
    FlakyBackend.reset()
    own.stop()
    celery_app_broker(original_broker)


def _twice(job) -> None:
    """Run ``job`` in two threads (two connections) released at the same instant."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def _queued(client) -> int:
    return int(client.llen("celery"))


def _post_shifts(provider, site, n, hours_later=24):
    start = timezone.now() + timedelta(hours=hours_later)
    for i in range(n):
        shift_post(
            provider=provider,
            site=site,
            role=Role.objects.get(slug="care-worker"),
            skills=[],
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i + 8),
            headcount=1,
        )


def test_two_beats_at_once_duplicate_nothing(broker, provider, site, worker, other_worker):
    _post_shifts(provider, site, 6)
    broker.flushdb()  # as if every immediate publish had been lost
    OutboxMessage.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    booking = make_booking(shift_at(site, timezone.now() + timedelta(hours=10)), worker)
    type(booking).objects.filter(pk=booking.pk).update(booked_at=timezone.now() - timedelta(days=2))
    failed = [
        Notification.objects.create(user=u.user, kind="k", subject="s", body="b")
        for u in (worker, other_worker)
    ]
    for note in failed:
        Delivery.objects.create(
            notification=note,
            channel="console",
            status=Delivery.Status.FAILED,
            attempts=1,
            next_attempt_at=timezone.now() - timedelta(seconds=1),
        )

    _twice(outbox_relay)
    assert _queued(broker) == 6  # each of the six rows published once

    # Each published row reaches two workers (a duplicated task): one wave each, whether
    # the message says the handler is atomic (claimed at once) or not (read first).
    ids = list(OutboxMessage.objects.values_list("pk", flat=True))
    _twice(lambda: [outbox_consume(message_id=pk, atomic=pk % 2 == 0) for pk in ids])
    assert MatchRun.objects.count() == 6
    assert not OutboxMessage.objects.filter(
        handler="shifts.tasks.shift_match_due", done_at__isnull=True
    ).exists()
    # The waves' offer messages, each delivery row reaching two workers too.
    ids = list(OutboxMessage.objects.filter(done_at__isnull=True).values_list("pk", flat=True))
    assert ids
    _twice(lambda: [outbox_consume(message_id=pk) for pk in ids])
    assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()
    # The sweep's recovery of never-matched shifts, twice at once, on fresh shifts.
    _post_shifts(provider, site, 3, hours_later=48)
    ShiftRequest.objects.filter(matched_at__isnull=True).update(
        posted_at=timezone.now() - timedelta(minutes=2)
    )
    _twice(matching_sweep)
    runs = list(MatchRun.objects.values_list("shift_id", "wave"))
    assert len(runs) == len(set(runs)) >= 9  # one run per shift and wave
    assert not ShiftRequest.objects.filter(matched_at__isnull=True).exists()

    _twice(bookings_send_reminders)
    assert BookingReminder.objects.filter(booking=booking).count() == 1
    assert Notification.objects.filter(kind__startswith="booking").count() <= 1

    _twice(lambda: notifications_deliver(notification_ids=notifications_due()))
    assert len(FlakyBackend.sent) == len(set(FlakyBackend.sent))  # nothing sent twice
    assert {n.pk for n in failed} <= set(FlakyBackend.sent)
    assert set(FlakyBackend.sent) == set(
        Delivery.objects.filter(status="sent").values_list("notification_id", flat=True)
    )

    _twice(offers_expire)
    _twice(shifts_escalate)
    offers = list(worker.offers.values_list("shift_id", flat=True))
    assert len(offers) == len(set(offers))


def test_control_a_relay_without_its_claim_publishes_twice(broker, provider, site):
    """What the claim (SKIP LOCKED, available_at pushed on) prevents."""
    _post_shifts(provider, site, 3)
    broker.flushdb()
    ids = list(OutboxMessage.objects.values_list("pk", flat=True))
    _twice(lambda: outbox_publish(message_ids=ids))
    assert _queued(broker) == 6
