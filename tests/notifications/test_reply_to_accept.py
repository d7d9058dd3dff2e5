"""Reply to accept: GOV.UK Notify's inbound-SMS callback, replayed as Notify sends it
(JSON, the service's bearer token), books the shift through offer_accept."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OfferReplyCode
from notifications.sms import offer_reply_code_issue, phone_national
from notifications.tasks import sms_reply_send
from outbox.models import OutboxMessage
from shifts.models import Booking, Offer
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/notify/inbound-sms/"


@pytest.fixture
def offer(worker, site):
    worker.phone = "07700 900 111"
    worker.save(update_fields=["phone"])
    shift = f.ShiftFactory(site=site)
    return Offer.objects.create(
        shift=shift,
        worker=worker,
        wave=1,
        rank=1,
        distance_km=Decimal("1.6"),
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=30),
    )


def callback(client, message, *, sender="447700900111", token="callback-token-set-in-notify"):
    """What Notify posts for a text received on the service's number."""
    body = {
        "id": "df10a23e-2c6d-4ea5-87fb-82e520cbf93a",
        "source_number": sender,
        "destination_number": "07700900000",
        "message": message,
        "date_received": "2026-12-01 08:30:00.000000",
    }
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def test_a_worker_who_replies_with_the_code_books_the_shift(
    client, offer, notify, django_capture_on_commit_callbacks
):
    code = offer_reply_code_issue(offer=offer)
    with django_capture_on_commit_callbacks() as queued:
        response = callback(client, f"yes {code}")
    assert response.status_code == 200
    answer = response.json()
    assert answer["outcome"] == "booked"
    booking = Booking.objects.get(offer=offer)
    assert booking.worker == offer.worker
    assert offer.shift.site.address in answer["reply"]  # the address, now it is booked
    # The answer is an outbox row, published after commit.
    [row] = OutboxMessage.objects.filter(handler="notifications.tasks.sms_reply_send")
    assert row.payload == {"phone_number": "447700900111", "text": answer["reply"]}
    assert len(queued) >= 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED


def test_the_answer_goes_back_by_text_through_notify(notify):
    sms_reply_send(phone_number="447700900111", text="FlexPool: booked.")
    [request] = notify.received
    assert request.payload["phone_number"] == "447700900111"
    assert request.payload["personalisation"]["body"] == "FlexPool: booked."


def test_the_same_code_twice_books_once_and_says_it_was_used(client, offer, notify):
    code = offer_reply_code_issue(offer=offer)
    assert callback(client, code).json()["outcome"] == "booked"
    second = callback(client, code).json()
    assert second["outcome"] == "used_code" and "already been used" in second["reply"]
    assert Booking.objects.filter(offer=offer).count() == 1


def test_a_wrong_code_is_refused_by_reply(client, offer, notify):
    code = offer_reply_code_issue(offer=offer)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answer = callback(client, wrong).json()
    assert answer["outcome"] == "wrong_code" and "not the code" in answer["reply"]
    assert not Booking.objects.exists()


def test_a_late_code_is_refused_by_reply(client, offer, notify):
    code = offer_reply_code_issue(offer=offer)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    answer = callback(client, code).json()
    assert answer["outcome"] == "refused" and answer["reply"].startswith("FlexPool: not booked")
    assert not Booking.objects.exists()


def test_a_code_sent_from_another_workers_phone_books_nothing(client, offer, other_worker, notify):
    other_worker.phone = "07700 900 222"
    other_worker.save(update_fields=["phone"])
    code = offer_reply_code_issue(offer=offer)
    answer = callback(client, code, sender="447700900222").json()
    assert answer["outcome"] == "wrong_code"
    assert not Booking.objects.exists()


def test_a_text_from_an_unknown_number_books_nothing(client, offer, notify):
    code = offer_reply_code_issue(offer=offer)
    assert callback(client, code, sender="447700900999").json()["outcome"] == "unknown_sender"
    assert not Booking.objects.exists()


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_a_callback_without_notifys_bearer_token_is_refused(client, offer, notify, token):
    code = offer_reply_code_issue(offer=offer)
    assert callback(client, code, token=token).status_code == 401
    assert not Booking.objects.exists()


def test_the_callback_is_off_until_its_token_is_set(client, offer, settings):
    settings.NOTIFY_INBOUND_SMS_TOKEN = ""
    assert callback(client, "123456").status_code == 404


def test_a_malformed_callback_gets_400_not_500(client, notify):
    response = client.post(
        URL,
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer callback-token-set-in-notify",
    )
    assert response.status_code == 400


def test_codes_are_unique_per_worker_and_issued_once_per_offer(offer, site):
    first = offer_reply_code_issue(offer=offer)
    assert offer_reply_code_issue(offer=offer) == first
    assert OfferReplyCode.objects.filter(offer=offer).count() == 1


def test_uk_numbers_in_any_form_compare_equal():
    forms = ["07700 900111", "+44 7700 900111", "447700900111", "0044 7700 900-111"]
    assert {phone_national(n) for n in forms} == {"7700900111"}
    assert reverse("notify_inbound_sms") == URL
