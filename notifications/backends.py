"""Delivery channels. A backend takes a stored Notification and sends it over one
channel; the person's preferences decide which channels are used (see
``notifications.selectors.notification_channels_for``). Add a channel by adding a class
here with a ``channel`` name and naming it in the NOTIFICATION_BACKENDS setting.

Web push is not implemented: it needs a VAPID signing library, which FlexPool does not
depend on yet. The service worker is ready to receive pushes once it is added.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail

from notifications.models import Notification

log = logging.getLogger("flexpool.notifications")


class Backend(Protocol):
    channel: str

    def send(self, notification: Notification) -> None: ...


class ConsoleBackend:
    """Writes a line to the log: the development default, always on."""

    channel = "console"

    def send(self, notification: Notification) -> None:
        log.info(
            "notify %s [%s] %s", notification.user.email, notification.kind, notification.subject
        )


class EmailBackend:
    channel = "email"

    def send(self, notification: Notification) -> None:
        body = notification.body
        if notification.url:
            body += f"\n\n{settings.SITE_URL}{notification.url}"
        send_mail(notification.subject, body, None, [notification.user.email])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class NotifyKey:
    """A GOV.UK Notify API key is ``{key name}-{service id}-{secret}``; the ids are UUIDs."""

    service_id: str
    secret: str

    @classmethod
    def parse(cls, api_key: str) -> NotifyKey:
        if len(api_key) < 74:
            raise ImproperlyConfigured("NOTIFY_API_KEY does not look like a GOV.UK Notify key.")
        service_id, secret = api_key[-73:-37], api_key[-36:]
        try:
            uuid.UUID(service_id)
            uuid.UUID(secret)
        except ValueError:
            raise ImproperlyConfigured(
                "NOTIFY_API_KEY does not look like a GOV.UK Notify key."
            ) from None
        return cls(service_id=service_id, secret=secret)

    def bearer_token(self, issued_at: int) -> str:
        """An HS256 JSON Web Token with the service id as issuer, as Notify expects."""
        header = _b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        claims = _b64url(json.dumps({"iss": self.service_id, "iat": issued_at}).encode())
        signing_input = f"{header}.{claims}".encode()
        signature = hmac.new(self.secret.encode(), signing_input, hashlib.sha256).digest()
        return f"{header}.{claims}.{_b64url(signature)}"


def notify_sms_request(
    *,
    api_key: str,
    base_url: str,
    template_id: str,
    phone_number: str,
    notification: Notification,
    issued_at: int,
) -> urllib.request.Request:
    """The HTTP request GOV.UK Notify's "send a text message" endpoint takes."""
    key = NotifyKey.parse(api_key)
    text = notification.body
    if notification.url:
        text += f" {settings.SITE_URL}{notification.url}"
    payload = {
        "phone_number": phone_number,
        "template_id": template_id,
        "personalisation": {"subject": notification.subject, "body": text},
        "reference": f"flexpool-{notification.pk}",
    }
    return urllib.request.Request(
        f"{base_url.rstrip('/')}/v2/notifications/sms",
        data=json.dumps(payload).encode(),
        headers={
            "Authorization": f"Bearer {key.bearer_token(issued_at)}",
            "Content-Type": "application/json",
            "User-Agent": "flexpool",
        },
        method="POST",
    )


class NotifySmsBackend:
    """Text messages through GOV.UK Notify. Enabled only when NOTIFY_API_KEY is set; the
    Notify template must have ((subject)) and ((body)) placeholders."""

    channel = "sms"

    def __init__(self) -> None:
        if not settings.NOTIFY_API_KEY or not settings.NOTIFY_SMS_TEMPLATE_ID:
            raise ImproperlyConfigured("Set NOTIFY_API_KEY and NOTIFY_SMS_TEMPLATE_ID for SMS.")

    def send(self, notification: Notification) -> None:
        worker = getattr(notification.user, "worker", None)
        phone = getattr(worker, "phone", "")
        if not phone:
            return
        request = notify_sms_request(
            api_key=settings.NOTIFY_API_KEY,
            base_url=settings.NOTIFY_BASE_URL,
            template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
            phone_number=phone,
            notification=notification,
            issued_at=int(time.time()),
        )
        # A failure raises (URLError is an OSError), so the Celery task retries.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()
