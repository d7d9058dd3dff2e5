from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.models import Notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_deliver(notification_id: int) -> None:
    """Deliver a stored notification; one already delivered is skipped, so a duplicated
    task sends nothing twice."""
    notification = (
        Notification.objects.select_related("user")
        .filter(pk=notification_id, delivered_at__isnull=True)
        .first()
    )
    if notification is None:
        return
    for path in settings.NOTIFICATION_BACKENDS:
        import_string(path)().send(notification)
    Notification.objects.filter(pk=notification_id).update(delivered_at=timezone.now())
