from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.models import Notification
from notifications.selectors import notification_channels_for, notification_preference_get
from notifications.services import quiet_hours_end


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_deliver(notification_id: int) -> None:
    """Deliver a stored notification over the channels its person chose. One already
    delivered is skipped, so a duplicated task sends nothing twice. In the person's quiet
    hours it is held back (``deliver_after``) and ``notifications_deliver_due`` sends it."""
    notification = (
        Notification.objects.select_related("user", "user__worker")
        .filter(pk=notification_id, delivered_at__isnull=True)
        .first()
    )
    if notification is None:
        return
    now = timezone.now()
    if notification.deliver_after is not None and notification.deliver_after > now:
        return
    preference = notification_preference_get(user=notification.user)
    hold_until = quiet_hours_end(preference=preference, now=now)
    if hold_until is not None:
        Notification.objects.filter(pk=notification_id).update(deliver_after=hold_until)
        return
    channels = notification_channels_for(preference=preference)
    for path in settings.NOTIFICATION_BACKENDS:
        backend = import_string(path)()
        if getattr(backend, "channel", "console") in channels:
            backend.send(notification)
    Notification.objects.filter(pk=notification_id).update(delivered_at=timezone.now())


@shared_task(acks_late=True)
def notifications_deliver_batch(notification_ids: list[int]) -> None:
    """Deliver many stored messages, one broker message per batch. Each delivery skips a
    message already delivered, so a retried batch sends nothing twice."""
    for pk in notification_ids:
        notification_deliver(pk)


@shared_task(acks_late=True)
def notifications_deliver_due() -> int:
    """Queue the messages held back by quiet hours whose time has come."""
    due = list(
        Notification.objects.filter(
            delivered_at__isnull=True, deliver_after__lte=timezone.now()
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in due:
        notification_deliver.delay(pk)
    return len(due)
