from __future__ import annotations

from django.db import connection
from django.db.models import Q

from accounts.models import User
from notifications.models import Delivery, Notification, NotificationPreference, PushSubscription


def notification_preference_get(*, user: User) -> NotificationPreference:
    """The person's stored preferences, or the defaults (e-mail on, SMS off, no quiet hours)."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)


def notification_channels_for(*, preference: NotificationPreference) -> set[str]:
    channels = {"console"}
    if preference.email:
        channels.add("email")
    if preference.sms:
        channels.add("sms")
    # Push goes only to browsers the person subscribed; subscribing is the opt-in.
    channels.add("push")
    return channels


def notifications_recent(*, user: User, limit: int = 20) -> list[Notification]:
    return list(Notification.objects.filter(user=user)[:limit])


def push_subscriptions_for(*, user: User) -> list[PushSubscription]:
    return list(PushSubscription.objects.filter(user=user).order_by("created_at", "pk"))


def deliveries_given_up(*, pool_ids: list[int], limit: int = 50) -> list[Delivery]:
    """Deliveries FlexPool stopped trying, newest first, to the people of these pools
    (workers, provider staff, coordinators): what coordinators must follow up by hand."""
    return list(
        Delivery.objects.filter(status=Delivery.Status.GAVE_UP)
        .filter(
            Q(notification__user__worker__pool_id__in=pool_ids)
            | Q(notification__user__provider_membership__provider__pool_id__in=pool_ids)
            | Q(notification__user__coordinator__pool_id__in=pool_ids)
        )
        .select_related("notification__user")
        .order_by("-updated_at", "-pk")[:limit]
    )


def notifications_unread_count(*, user: User) -> int:
    """What ``Notification.objects.filter(user=user, read_at__isnull=True).count()`` counts,
    written out: every worker page shows it, where building the ORM's query cost a few
    times running it."""
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_SQL, [user.pk])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


_UNREAD_SQL = (
    f'SELECT COUNT(*) FROM "{Notification._meta.db_table}" '
    f'WHERE "{Notification._meta.get_field("user").column}" = %s '
    f'AND "{Notification._meta.get_field("read_at").column}" IS NULL'
)
