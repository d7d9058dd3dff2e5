from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    """A message to one person. Stored first, then delivered by a Celery task over the
    channels the person chose (see ``notifications.services.notification_send``)."""

    # Looked up by user through the index (user, -created_at), not one of its own: a wave
    # writes a thousand messages at once, each paying for every index.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    deliver_after = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Held back until then (the person's quiet hours); a periodic sweep sends it.",
    )
    read_at = models.DateTimeField(null=True, blank=True)
    offer = models.ForeignKey(
        "shifts.Offer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The offer a message is about, so a text can carry its reply code.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # Only the few messages held back (quiet hours) are in it: the sweep asks for
            # ``deliver_after <= now``, and most messages, a wave's hundreds among them,
            # are not written to an index they would never be found by.
            models.Index(
                fields=["deliver_after"],
                condition=Q(deliver_after__isnull=False),
                name="notification_held_back",
            ),
        ]


class NotificationPreference(models.Model):
    """How one person wants to hear from FlexPool: which channels, and hours when nothing
    but the in-app list should disturb them (messages wait until the quiet hours end)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField("E-mail", default=True)
    sms = models.BooleanField("Text message (SMS)", default=False)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    def is_quiet_at(self, moment: time) -> bool:
        """Whether a local time of day falls in the quiet hours (which may cross midnight)."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= moment < self.quiet_end
        return moment >= self.quiet_start or moment < self.quiet_end


class PushSubscription(models.Model):
    """One browser (usually a worker's phone) that agreed to receive web push messages.
    The endpoint is the push service's address for that browser; p256dh and auth are the
    browser's public key and secret, used to encrypt each message for it alone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"Push subscription of {self.user}"


class Delivery(models.Model):
    """One message over one channel: its own state, so a retry re-sends only the channels
    that failed, and a channel that keeps failing is given up on where coordinators see it
    (see ``notifications.services.notification_deliver``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will retry"
        GAVE_UP = "gave_up", "Gave up"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A sender holds it until then (a lease)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="one_delivery_per_channel"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="failed"),
                name="delivery_retry_due",
            ),
            models.Index(
                fields=["-updated_at"],
                condition=models.Q(status="gave_up"),
                name="delivery_gave_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery of notification {self.notification_id}"


class OfferReplyCode(models.Model):
    """The short code an offer's text message carries: the worker replies with it to
    accept the shift by text (see ``notifications.sms``). Unique among one worker's
    codes, good until the offer stops being open, and spent on first use."""

    offer = models.OneToOneField(
        "shifts.Offer", on_delete=models.CASCADE, related_name="reply_code"
    )
    worker = models.ForeignKey(
        "workers.Worker", on_delete=models.CASCADE, related_name="offer_reply_codes"
    )
    code = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["worker", "code"], name="reply_code_unique_per_worker")
        ]

    def __str__(self) -> str:
        return f"Reply code for offer {self.offer_id}"
