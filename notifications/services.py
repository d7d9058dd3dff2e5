from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification, NotificationPreference, PushSubscription


def notification_send(
    *, user: User, kind: str, subject: str, body: str, url: str = ""
) -> Notification:
    """Store a message for ``user`` and deliver it from Celery once the caller commits."""
    from notifications.tasks import notification_deliver

    notification = Notification.objects.create(
        user=user, kind=kind, subject=subject, body=body, url=url
    )
    transaction.on_commit(lambda: notification_deliver.delay(notification.pk))
    return notification


@dataclass(frozen=True)
class Message:
    user_id: int
    kind: str
    subject: str
    body: str
    url: str = ""


# One broker message per this many notifications, sent behind other work on the broker
# (on Redis, priority 0 is served first and 9 last): a big wave's messages must not hold
# up the matching of the next shift.
BULK_BATCH = 100
BULK_PRIORITY = 9


def notifications_send_many(*, messages: list[Message]) -> int:
    """Store many messages in one query and deliver them from Celery, in batches, once the
    caller commits. Each is still delivered by ``notification_deliver`` (channels, quiet
    hours, never twice)."""
    from notifications.tasks import notifications_deliver_batch

    if not messages:
        return 0
    created = Notification.objects.bulk_create(
        Notification(user_id=m.user_id, kind=m.kind, subject=m.subject, body=m.body, url=m.url)
        for m in messages
    )
    ids = [n.pk for n in created if n.pk is not None]

    def deliver() -> None:
        for i in range(0, len(ids), BULK_BATCH):
            notifications_deliver_batch.apply_async(
                (ids[i : i + BULK_BATCH],), priority=BULK_PRIORITY
            )

    transaction.on_commit(deliver)
    return len(ids)


def notification_preference_update(
    *, user: User, email: bool, sms: bool, quiet_start: time | None, quiet_end: time | None
) -> NotificationPreference:
    """Save how ``user`` wants to hear from us. Quiet hours need both ends, or neither."""
    if (quiet_start is None) != (quiet_end is None):
        quiet_start = quiet_end = None
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={"email": email, "sms": sms, "quiet_start": quiet_start, "quiet_end": quiet_end},
    )
    return preference


def quiet_hours_end(*, preference: NotificationPreference, now: datetime) -> datetime | None:
    """When the quiet hours that contain ``now`` end (an aware time), or None if ``now``
    is not in quiet hours."""
    local = timezone.localtime(now)
    if preference.quiet_end is None or not preference.is_quiet_at(local.time()):
        return None
    end_day = local.date()
    if local.time() >= preference.quiet_end:
        end_day += timedelta(days=1)
    naive = datetime.combine(end_day, preference.quiet_end)
    return timezone.make_aware(naive, timezone.get_current_timezone())


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def push_subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Remember a browser that agreed to receive web push for ``user``. The same endpoint
    sent again (a renewed subscription, or a phone passed to another person) is updated
    in place, so one browser never gets a message twice."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "last_error": ""},
    )
    return subscription


def push_subscription_delete(*, user: User, endpoint: str) -> bool:
    """Forget one of ``user``'s browsers. Returns False when ``user`` has no such
    subscription (someone else's endpoint included), so the caller can answer 404."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted > 0
