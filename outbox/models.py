from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """Work that must happen because a transaction committed (run a wave, deliver
    messages). Written in that same transaction, handed to Celery by the relay
    (``outbox.services``) and done only once its handler has recorded the effect."""

    handler = models.CharField(
        max_length=120, help_text="Dotted path of a function marked with @outbox_handler."
    )
    payload = models.JSONField(default=dict)
    priority = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Broker priority (Redis: 0 first, 9 last); none: 0."
    )
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the relay's sweep may (re)publish it: after a grace for the "
        "immediate publish, after a failed handler's back-off, or after a claim's lease.",
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    published_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="Handler runs that failed.")
    last_error = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"], condition=Q(done_at__isnull=True), name="outbox_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handler}({self.payload}) #{self.pk}"
