from __future__ import annotations

from django.db import transaction

from accounts.models import User
from notifications.models import Notification


def notification_send(*, user: User, kind: str, subject: str, body: str, url: str = "") -> Notification:
    """Store a message for ``user`` and deliver it from Celery once the caller commits."""
    from notifications.tasks import notification_deliver

    notification = Notification.objects.create(
        user=user, kind=kind, subject=subject, body=body, url=url
    )
    transaction.on_commit(lambda: notification_deliver.delay(notification.pk))
    return notification
