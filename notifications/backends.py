"""Delivery channels. A backend takes a stored Notification and sends it; add a channel
(SMS via GOV.UK Notify, web push) by adding a class here and naming it in the
NOTIFICATION_BACKENDS setting."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from notifications.models import Notification

log = logging.getLogger("flexpool.notifications")


class ConsoleBackend:
    name = "console"

    def send(self, notification: Notification) -> None:
        log.info(
            "notify %s [%s] %s", notification.user.email, notification.kind, notification.subject
        )


class EmailBackend:
    name = "email"

    def send(self, notification: Notification) -> None:
        body = notification.body
        if notification.url:
            body += f"\n\n{settings.SITE_URL}{notification.url}"
        send_mail(notification.subject, body, None, [notification.user.email])
