"""Delivery channels. A backend takes a stored Notification and sends it over one
channel; the person's preferences decide which channels are used (see
``notifications.selectors.notification_channels_for``). Add a channel by adding a class
here with a ``channel`` name and naming it in the NOTIFICATION_BACKENDS setting.

Web push (``WebPushBackend``) sends to every browser the person subscribed; the service
worker served at /sw.js shows the message.
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
from pywebpush import WebPushException, webpush
from requests import RequestException

from notifications.models import Notification, PushSubscription

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


def web_push_payload(notification: Notification) -> str:
    """What the service worker receives: the title, the text and the page to open."""
    return json.dumps(
        {"title": notification.subject, "body": notification.body, "url": notification.url or "/"}
    )


class WebPushBackend:
    """Web push to each browser the person subscribed (see ``PushSubscription``), signed
    with the VAPID key. Enabled only when WEBPUSH_VAPID_PRIVATE_KEY is set. A browser the
    push service no longer knows (404 or 410) is forgotten; any other failure is noted on
    its subscription and does not stop the other channels."""

    channel = "push"

    def __init__(self) -> None:
        if not settings.WEBPUSH_VAPID_PRIVATE_KEY:
            raise ImproperlyConfigured("Set WEBPUSH_VAPID_PRIVATE_KEY for web push.")

    def send(self, notification: Notification) -> None:
        payload = web_push_payload(notification)
        for subscription in PushSubscription.objects.filter(user_id=notification.user_id):
            self._send_one(subscription, payload)

    def _send_one(self, subscription: PushSubscription, payload: str) -> None:
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        error = ""
        try:
            webpush(
                subscription_info=info,
                data=payload,
                vapid_private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},
                ttl=24 * 60 * 60,
                timeout=10,
            )
        except WebPushException as exc:
            if exc.status_code in (404, 410):
                subscription.delete()
                return
            error = f"{exc.status_code or ''} {exc.message}".strip()
        except (RequestException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error or subscription.last_error:
            log.warning("web push to subscription %s: %s", subscription.pk, error or "ok")
            PushSubscription.objects.filter(pk=subscription.pk).update(last_error=error[:500])
