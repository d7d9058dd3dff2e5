"""Thin Celery interfaces over ``notifications.services`` (delivery per message and channel)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from notifications import services
from outbox.services import outbox_handler


@outbox_handler(atomic=False)
def notifications_deliver_outbox(*, notification_ids: list[int]) -> None:
    """The outbox's delivery intent, written with the messages. Not atomic: sending is
    outside the database, so each delivery records its own outcome as it goes."""
    services.notifications_deliver(notification_ids=notification_ids)


@shared_task(acks_late=True)
def notification_deliver(notification_id: int) -> None:
    """Deliver one stored message (idempotent: a duplicated task sends nothing twice)."""
    services.notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True)
def notifications_deliver_batch(notification_ids: list[int]) -> None:
    services.notifications_deliver(notification_ids=notification_ids)


@shared_task(acks_late=True)
def notifications_deliver_due() -> int:
    """Beat: queue the messages whose quiet hours ended, whose failed channels' back-off
    passed, or whose sender died mid-send. Two of these at once send nothing twice (each
    delivery is claimed before it is sent)."""
    due = services.notifications_due()
    for i in range(0, len(due), services.BULK_BATCH):
        notifications_deliver_batch.apply_async(
            (due[i : i + services.BULK_BATCH],), priority=services.BULK_PRIORITY
        )
    return len(due)


@outbox_handler(atomic=False)
def sms_reply_send(*, phone_number: str, text: str) -> None:
    """The outbox's intent to answer a worker's text (reply to accept) through GOV.UK
    Notify; a Notify outage raises, and the outbox tries again later."""
    from notifications.backends import sms_send

    if settings.NOTIFY_API_KEY and settings.NOTIFY_SMS_TEMPLATE_ID:
        sms_send(phone_number=phone_number, text=text)
