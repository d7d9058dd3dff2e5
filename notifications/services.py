from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import monotonic

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from accounts.models import User
from notifications.models import Delivery, Notification, NotificationPreference, PushSubscription
from outbox.services import outbox_put, outbox_put_many

log = logging.getLogger("flexpool.notifications")


def notification_send(
    *, user: User, kind: str, subject: str, body: str, url: str = ""
) -> Notification:
    """Store a message for ``user``; its delivery is an outbox row in the same transaction,
    so it is delivered once the caller commits, even if the broker or a worker fails."""
    notification = Notification.objects.create(
        user=user, kind=kind, subject=subject, body=body, url=url
    )
    outbox_put(handler=DELIVER_HANDLER, payload={"notification_ids": [notification.pk]})
    return notification


@dataclass(frozen=True)
class Message:
    user_id: int
    kind: str
    subject: str
    body: str
    url: str = ""
    offer_id: int | None = None


# One outbox row (one broker message) per this many notifications, sent behind other work
# on the broker (on Redis, priority 0 is served first and 9 last): a big wave's messages
# must not hold up the matching of the next shift.
BULK_BATCH = 100
BULK_PRIORITY = 9
DELIVER_HANDLER = "notifications.tasks.notifications_deliver_outbox"


def notifications_send_many(*, messages: list[Message]) -> int:
    """Store many messages in one query and deliver them in batches once the caller
    commits (outbox rows in the caller's transaction). Each is still delivered by
    ``notification_deliver`` (channels, quiet hours, never twice per channel)."""
    if not messages:
        return 0
    ids = _notifications_insert(messages)
    outbox_put_many(
        handler=DELIVER_HANDLER,
        payloads=[
            {"notification_ids": ids[i : i + BULK_BATCH]} for i in range(0, len(ids), BULK_BATCH)
        ],
        priority=BULK_PRIORITY,
    )
    return len(ids)


def _notifications_insert(messages: list[Message]) -> list[int]:
    """Store the messages; their ids. On PostgreSQL one statement with the rows passed as
    one JSON document (a wave's hundreds of messages cost Django's per-object saving
    otherwise); elsewhere ``bulk_create``."""
    if connection.vendor != "postgresql":
        created = Notification.objects.bulk_create(
            Notification(
                user_id=m.user_id,
                kind=m.kind,
                subject=m.subject,
                body=m.body,
                url=m.url,
                offer_id=m.offer_id,
            )
            for m in messages
        )
        return [n.pk for n in created if n.pk is not None]
    rows = json.dumps([[m.user_id, m.kind, m.subject, m.body, m.url, m.offer_id] for m in messages])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_notification "
            "(user_id, kind, subject, body, url, created_at, offer_id) "
            "SELECT (m->>0)::bigint, m->>1, m->>2, m->>3, m->>4, %s, (m->>5)::bigint "
            "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(m, n) ORDER BY n "
            "RETURNING id",
            [timezone.now(), rows],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


# --- Delivery: one row per message and channel ----------------------------------------------


def _retry_after(attempts: int) -> timedelta:
    base = settings.NOTIFICATION_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


def _backends() -> list[tuple[str, str]]:
    """(channel, dotted path) of every configured backend."""
    return [
        (str(getattr(import_string(path), "channel", "console")), path)
        for path in settings.NOTIFICATION_BACKENDS
    ]


def _send_one(delivery: Delivery, path: str, notification: Notification, now: datetime) -> str:
    """Claim one delivery (a lease, so two senders never both send it), send it, record
    the outcome. A channel error is recorded and retried later; it never propagates."""
    lease = now + timedelta(seconds=settings.NOTIFICATION_SEND_LEASE_SECONDS)
    claimed = (
        Delivery.objects.filter(
            pk=delivery.pk, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(claimed_until=lease)
    )
    if not claimed:
        return "skipped"
    attempts = delivery.attempts + 1
    ids = {"notification_id": notification.pk, "channel": delivery.channel}
    try:
        import_string(path)().send(notification)
    except SoftTimeLimitExceeded:
        Delivery.objects.filter(pk=delivery.pk).update(claimed_until=None)
        raise
    except Exception as exc:  # noqa: BLE001 - any channel failure is this channel's alone
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            status, retry_at = Delivery.Status.GAVE_UP, None
            log.error("delivery gave up after %d attempts: %s", attempts, error, extra=ids)
        else:
            status, retry_at = Delivery.Status.FAILED, now + _retry_after(attempts)
            log.warning("delivery attempt %d failed: %s", attempts, error, extra=ids)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status,
            attempts=attempts,
            next_attempt_at=retry_at,
            claimed_until=None,
            last_error=error,
        )
        return str(status)
    _sent_record(delivery.pk, attempts)
    log.info("delivered", extra=ids)
    return "sent"


def _sent_record(pk: int, attempts: int) -> None:
    """Record a delivery as sent. The message is out and cannot be called back, so a
    database connection lost at this moment (a restart, a failover, a dropped network)
    must not leave the delivery open: its lease would run out and the message would go out
    a second time. The write is tried again on a fresh connection for up to
    NOTIFICATION_OUTCOME_RETRY_SECONDS (well inside the lease); past that it raises, and
    the message is delivered at least once, as after a crash between send and record.
    Inside a transaction (a caller's own) a new connection cannot help, so it is one try."""

    def record() -> None:
        Delivery.objects.filter(pk=pk).update(
            status=Delivery.Status.SENT,
            attempts=attempts,
            sent_at=timezone.now(),
            next_attempt_at=None,
            claimed_until=None,
            last_error="",
        )

    if connection.in_atomic_block:
        record()
        return
    # tenacity (well kept, widely used) rather than a hand-written back-off loop.
    for attempt in Retrying(
        retry=retry_if_exception_type((OperationalError, InterfaceError)),
        stop=stop_after_delay(settings.NOTIFICATION_OUTCOME_RETRY_SECONDS),
        wait=wait_exponential(multiplier=0.25, max=4),
        before_sleep=_connection_drop,
        reraise=True,
    ):
        with attempt:
            record()


def _connection_drop(state: object) -> None:
    log.warning("recording a sent delivery failed; trying again on a new connection: %s", state)
    connection.close()


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Deliver one stored message over each channel its person chose, each channel on its
    own: a failed channel is retried with back-off (``notifications_deliver_due``) without
    re-sending the channels that succeeded, and given up after NOTIFICATION_MAX_ATTEMPTS.
    In the person's quiet hours the message is held back (``deliver_after``). Safe to run
    twice at once. Returns "delivered", "held", "pending" or "none"."""
    from notifications.selectors import notification_channels_for, notification_preference_get

    now = now or timezone.now()
    notification = (
        Notification.objects.select_related("user", "user__worker")
        .filter(pk=notification_id, delivered_at__isnull=True)
        .first()
    )
    if notification is None:
        return "none"
    if notification.deliver_after is not None and notification.deliver_after > now:
        return "held"
    preference = notification_preference_get(user=notification.user)
    hold_until = quiet_hours_end(preference=preference, now=now)
    if hold_until is not None:
        Notification.objects.filter(pk=notification_id).update(deliver_after=hold_until)
        return "held"
    channels = notification_channels_for(preference=preference)
    chosen = [(channel, path) for channel, path in _backends() if channel in channels]
    Delivery.objects.bulk_create(
        [Delivery(notification=notification, channel=channel) for channel, _ in chosen],
        ignore_conflicts=True,
    )
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification=notification)}
    for channel, path in chosen:
        delivery = deliveries.get(channel)
        if delivery is not None and delivery.status in (
            Delivery.Status.PENDING,
            Delivery.Status.FAILED,
        ):
            _send_one(delivery, path, notification, now)
    open_ = Delivery.objects.filter(
        notification=notification, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]
    )
    if open_.exists():
        return "pending"
    Notification.objects.filter(pk=notification_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )
    return "delivered"


def notifications_deliver(*, notification_ids: list[int]) -> int:
    """Deliver a batch. One message's failure never stops the others; if any failed for a
    reason other than its channels (those are retried per delivery), this raises at the
    end so the batch's outbox row is tried again (the others are not re-sent).

    A batch works for at most NOTIFICATION_BATCH_BUDGET_SECONDS: past that, the messages
    left become a new outbox row (queued behind matching again) and this one returns, so a
    slow channel never holds a worker process for long while shifts wait for their wave."""
    delivered = 0
    errors: list[str] = []
    deadline = monotonic() + settings.NOTIFICATION_BATCH_BUDGET_SECONDS
    for i, pk in enumerate(notification_ids):
        if i and monotonic() > deadline:
            rest = notification_ids[i:]
            outbox_put(
                handler=DELIVER_HANDLER, payload={"notification_ids": rest}, priority=BULK_PRIORITY
            )
            log.info("delivery batch out of time: %d message(s) queued again", len(rest))
            break
        try:
            if notification_deliver(notification_id=pk) == "delivered":
                delivered += 1
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001
            log.exception("delivery of notification %s failed", pk, extra={"notification_id": pk})
            errors.append(f"{pk}: {type(exc).__name__}")
    if errors:
        raise RuntimeError(f"{len(errors)} message(s) not handled: {', '.join(errors[:5])}")
    return delivered


def notifications_due(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Messages not yet delivered whose time has come: quiet hours over, a failed channel's
    back-off passed, or a sender's lease run out (its process died mid-send)."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(delivered_at__isnull=True)
        .filter(
            Q(deliver_after__lte=now)
            | Q(
                deliveries__status=Delivery.Status.FAILED,
                deliveries__next_attempt_at__lte=now,
            )
            | Q(deliveries__status=Delivery.Status.PENDING, deliveries__claimed_until__lt=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:limit]
    )


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


def notifications_mark_read(*, user: User, ids: list[int]) -> int:
    """Mark these of ``user``'s messages read (those they have now seen in the list)."""
    return Notification.objects.filter(user=user, pk__in=ids, read_at__isnull=True).update(
        read_at=timezone.now()
    )
