"""Texts and e-mails go through GOV.UK Notify's official client, signed as Notify
requires; an offer's text carries its reply code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifications.backends import NotifyUnavailable, sms_send
from notifications.models import Notification, NotificationPreference, OfferReplyCode
from notifications.tasks import notification_deliver
from shifts.models import Offer
from tests import factories as f

from .conftest import SERVICE_ID

pytestmark = pytest.mark.django_db

SMS = ["notifications.backends.ConsoleBackend", "notifications.backends.NotifySmsBackend"]
EMAIL = ["notifications.backends.ConsoleBackend", "notifications.backends.NotifyEmailBackend"]


def _offer(worker, site):
    shift = f.ShiftFactory(site=site)
    from django.utils import timezone

    return Offer.objects.create(
        shift=shift,
        worker=worker,
        wave=1,
        rank=1,
        distance_km=Decimal("1.6"),
        sent_at=timezone.now(),
        expires_at=timezone.now() + timezone.timedelta(minutes=30),
    )


def test_a_text_goes_through_notify_signed_with_the_services_key(worker, notify, settings):
    settings.NOTIFICATION_BACKENDS = SMS
    NotificationPreference.objects.create(user=worker.user, sms=True)
    note = Notification.objects.create(
        user=worker.user, kind="k", subject="Shift changed", body="Now 09:00.", url="/worker/"
    )
    notification_deliver(note.pk)
    [request] = notify.received
    assert request.path == "/v2/notifications/sms"
    assert request.issuer == SERVICE_ID
    assert request.payload["phone_number"] == worker.phone
    assert request.payload["template_id"] == settings.NOTIFY_SMS_TEMPLATE_ID
    assert request.payload["personalisation"]["body"].startswith("Now 09:00. http")
    assert request.payload["reference"] == f"flexpool-{note.pk}"


def test_an_offer_text_carries_a_six_digit_reply_code(worker, site, notify, settings):
    settings.NOTIFICATION_BACKENDS = SMS
    NotificationPreference.objects.create(user=worker.user, sms=True)
    offer = _offer(worker, site)
    note = Notification.objects.create(
        user=worker.user, kind="offer", subject="Offer", body="A shift.", offer=offer
    )
    notification_deliver(note.pk)
    code = OfferReplyCode.objects.get(offer=offer).code
    assert len(code) == 6 and code.isdigit()
    assert f"Reply {code} to accept." in notify.received[0].payload["personalisation"]["body"]


def test_an_email_goes_through_notify_when_an_email_template_is_set(worker, notify, settings):
    settings.NOTIFICATION_BACKENDS = EMAIL
    note = Notification.objects.create(user=worker.user, kind="k", subject="Hello", body="Text")
    notification_deliver(note.pk)
    [request] = notify.received
    assert request.path == "/v2/notifications/email"
    assert request.payload["email_address"] == worker.user.email
    assert request.payload["personalisation"] == {"subject": "Hello", "body": "Text"}


def test_notify_failing_on_its_side_raises_so_delivery_is_retried(worker, notify):
    notify.status = 500
    with pytest.raises(NotifyUnavailable) as caught:
        sms_send(phone_number="07700900123", text="hi")
    assert isinstance(caught.value, OSError)  # the delivery task retries OSError


def test_a_number_notify_refuses_is_not_retried(worker, notify):
    notify.status = 400
    sms_send(phone_number="07700900123", text="hi")  # logged, not raised
    assert len(notify.received) == 1


def test_notify_unreachable_raises_so_delivery_is_retried(notify, settings):
    settings.NOTIFY_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(NotifyUnavailable):
        sms_send(phone_number="07700900123", text="hi")
