"""Delivery channels. A backend takes a stored Notification and sends it over one
channel; the person's preferences decide which channels are used (see
``notifications.selectors.notification_channels_for``). Add a channel by adding a class
here with a ``channel`` name and naming it in the NOTIFICATION_BACKENDS setting.

Web push (``WebPushBackend``) sends to every browser the person subscribed; the service
worker served at /sw.js shows the message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
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


class NotifyUnavailable(ConnectionError):
    """GOV.UK Notify could not be reached or failed on its side (an ``OSError``, so the
    delivery task retries it); a message Notify refuses (a bad number) is not retried."""


def notify_client() -> NotificationsAPIClient:
    """The official GOV.UK Notify client (notifications-python-client): it signs each
    request with a short-lived token made from the API key, as Notify requires."""
    if not settings.NOTIFY_API_KEY:
        raise ImproperlyConfigured("Set NOTIFY_API_KEY for GOV.UK Notify.")
    return NotificationsAPIClient(
        settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL, timeout=10
    )


def notify_call(send: Callable[..., Any], **kwargs: Any) -> Any:
    """Make one Notify call; a failure Notify may recover from raises NotifyUnavailable."""
    try:
        return send(**kwargs)
    except HTTPError as exc:
        if exc.status_code >= 500 or exc.status_code == 429:
            raise NotifyUnavailable(f"GOV.UK Notify answered {exc.status_code}") from exc
        log.warning("GOV.UK Notify refused a message: %s", exc)
        return None
    except RequestException as exc:
        raise NotifyUnavailable(f"GOV.UK Notify could not be reached: {exc}") from exc


def sms_text(notification: Notification) -> str:
    """The text message for a notification; an offer's carries its reply code."""
    text = notification.body
    if notification.kind == "offer" and notification.offer_id is not None:
        from notifications.sms import offer_reply_code_issue
        from shifts.models import Offer

        offer = Offer.objects.filter(pk=notification.offer_id, status=Offer.Status.PENDING).first()
        if offer is not None:
            code = offer_reply_code_issue(offer=offer)
            text += f" Reply {code} to accept."
    if notification.url:
        text += f" {settings.SITE_URL}{notification.url}"
    return text


def sms_send(*, phone_number: str, text: str, reference: str = "") -> None:
    """Send one text through Notify's SMS template (placeholders ((subject)), ((body)))."""
    client = notify_client()
    notify_call(
        client.send_sms_notification,
        phone_number=phone_number,
        template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
        personalisation={"subject": "FlexPool", "body": text},
        reference=reference or None,
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
        sms_send(
            phone_number=phone,
            text=sms_text(notification),
            reference=f"flexpool-{notification.pk}",
        )


class NotifyEmailBackend:
    """E-mail through GOV.UK Notify instead of SMTP: on when NOTIFY_API_KEY and
    NOTIFY_EMAIL_TEMPLATE_ID are set (the template has ((subject)) and ((body)))."""

    channel = "email"

    def __init__(self) -> None:
        if not settings.NOTIFY_API_KEY or not settings.NOTIFY_EMAIL_TEMPLATE_ID:
            raise ImproperlyConfigured(
                "Set NOTIFY_API_KEY and NOTIFY_EMAIL_TEMPLATE_ID for e-mail through Notify."
            )

    def send(self, notification: Notification) -> None:
        body = notification.body
        if notification.url:
            body += f"\n\n{settings.SITE_URL}{notification.url}"
        notify_call(
            notify_client().send_email_notification,
            email_address=notification.user.email,
            template_id=settings.NOTIFY_EMAIL_TEMPLATE_ID,
            personalisation={"subject": notification.subject, "body": body},
            reference=f"flexpool-{notification.pk}",
        )


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
