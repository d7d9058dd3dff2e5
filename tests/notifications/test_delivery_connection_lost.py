"""A message is out the moment its channel takes it; if the database connection drops
before the delivery is recorded as sent, the record is written again on a new connection,
so the lease never runs out on a message that went and it never goes twice. The control
shows the duplicate this prevents, with the retry switched off."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from notifications.models import Delivery, Notification
from notifications.services import notification_deliver, notifications_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class ConnectionCuttingBackend:
    """The "console" channel. Each send is recorded, then the sender's own database
    connection is terminated from outside (as a database restart or failover does), so the
    next statement, the one recording the send, meets a dead connection."""

    channel = "console"
    sent: list[int] = []

    def send(self, notification: Notification) -> None:
        type(self).sent.append(notification.pk)
        pid = connection.connection.info.backend_pid
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture(autouse=True)
def cutting_channel(settings):
    if connection.vendor != "postgresql":
        pytest.skip("terminating a connection needs PostgreSQL")
    settings.NOTIFICATION_BACKENDS = [f"{__name__}.ConnectionCuttingBackend"]
    settings.NOTIFICATION_SEND_LEASE_SECONDS = 60
    ConnectionCuttingBackend.sent = []
    yield
    ConnectionCuttingBackend.sent = []
    connection.close()


def _note(user):
    return Notification.objects.create(user=user, kind="offer", subject="New shift", body="b")


def test_a_send_whose_record_meets_a_dropped_connection_is_recorded_and_never_sent_again(
    worker, settings
):
    settings.NOTIFICATION_OUTCOME_RETRY_SECONDS = 10
    note = _note(worker.user)

    assert notification_deliver(notification_id=note.pk) == "delivered"

    delivery = Delivery.objects.get(notification=note)
    assert delivery.status == Delivery.Status.SENT and delivery.claimed_until is None
    # Long after the sender's lease would have run out, nothing is due and nothing re-sent.
    later = timezone.now() + timedelta(seconds=61)
    assert notifications_due(now=later) == []
    assert notification_deliver(notification_id=note.pk, now=later) == "none"
    assert ConnectionCuttingBackend.sent == [note.pk]


def test_control_without_the_retry_the_same_drop_sends_the_message_twice(worker, settings):
    settings.NOTIFICATION_OUTCOME_RETRY_SECONDS = 0
    note = _note(worker.user)

    with pytest.raises((OperationalError, InterfaceError)):
        notification_deliver(notification_id=note.pk)
    connection.close()

    delivery = Delivery.objects.get(notification=note)
    assert delivery.status == Delivery.Status.PENDING and delivery.claimed_until is not None
    later = timezone.now() + timedelta(seconds=61)
    assert notifications_due(now=later) == [note.pk]
    settings.NOTIFICATION_BACKENDS = ["tests.notifications.channels.FlakyBackend"]
    from tests.notifications.channels import FlakyBackend

    FlakyBackend.reset()
    assert notification_deliver(notification_id=note.pk, now=later) == "delivered"
    assert ConnectionCuttingBackend.sent == [note.pk] and FlakyBackend.sent == [note.pk]
    FlakyBackend.reset()
