"""Reply to accept: an offer's text message carries a short code, and a worker who texts
that code back books the shift, so a worker without mobile data can still take one.

GOV.UK Notify passes each text it receives to ``notifications.views.notify_inbound_sms``
(an inbound-SMS callback); ``sms_inbound_handle`` finds the worker by the sender's number,
spends the code once and accepts through ``shifts.services.offers.offer_accept`` — the
one way any offer is accepted, with every rule it checks. The answer goes back by text.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Func, Value
from django.utils import timezone

from notifications.models import OfferReplyCode
from outbox.services import outbox_put
from shifts.exceptions import OfferUnavailable
from shifts.models import Booking, Offer
from shifts.services.offers import offer_accept
from workers.models import Worker

CODE_DIGITS = 6
LONDON_TIME = "%a %d %b %H:%M"


def phone_national(number: str) -> str:
    """A UK mobile number as its national significant digits (``7700900123``), whether
    written ``07700 900 123``, ``+44 7700 900123`` or Notify's ``447700900123``."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("44") and len(digits) > 10:
        digits = digits[2:]
    return digits.lstrip("0")


def offer_reply_code_issue(*, offer: Offer) -> str:
    """The offer's reply code, made on first need: digits only (easy on any keypad),
    unique among the worker's codes, so a code names one offer of one worker."""
    existing = OfferReplyCode.objects.filter(offer=offer).values_list("code", flat=True).first()
    if existing:
        return existing
    for _ in range(20):
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        try:
            with transaction.atomic():
                OfferReplyCode.objects.create(offer=offer, worker_id=offer.worker_id, code=code)
        except IntegrityError:
            # Either the code is taken for this worker, or a concurrent send made one.
            existing = (
                OfferReplyCode.objects.filter(offer=offer).values_list("code", flat=True).first()
            )
            if existing:
                return existing
            continue
        return code
    raise RuntimeError("Could not find a free reply code for this worker.")


@dataclass(frozen=True)
class SmsReply:
    """What happened to an incoming text, and the text we send back."""

    outcome: str  # booked, unknown_sender, no_code, wrong_code, used_code, refused
    text: str
    booking: Booking | None = None


def _worker_for_number(number: str) -> Worker | None:
    national = phone_national(number)
    if len(national) < 9:
        return None
    digits: F | Func = F("phone")
    for ch in (" ", "-", "(", ")", "+"):
        digits = Func(digits, Value(ch), Value(""), function="REPLACE")
    matches = list(
        Worker.objects.annotate(phone_digits=digits)
        .filter(phone_digits__endswith=national, user__isnull=False)
        .exclude(status=Worker.Status.LEFT)
        .order_by("pk")[:2]
    )
    # Two workers sharing a number cannot be told apart: refuse rather than guess.
    return matches[0] if len(matches) == 1 else None


def sms_inbound_handle(*, sender: str, message: str) -> SmsReply:
    """Act on a text a worker sent us: accept the offer whose code it carries, or say
    plainly why not (a wrong, late or already used code). The answer goes back by text
    through the outbox (written with the booking, sent after it commits)."""
    reply = _sms_inbound_outcome(sender=sender, message=message)
    outbox_put(
        handler="notifications.tasks.sms_reply_send",
        payload={"phone_number": sender, "text": reply.text},
    )
    return reply


def _sms_inbound_outcome(*, sender: str, message: str) -> SmsReply:
    worker = _worker_for_number(sender)
    if worker is None:
        return SmsReply(
            "unknown_sender",
            "FlexPool: we do not know this phone number. Sign in to FlexPool to answer offers.",
        )
    found = re.search(rf"\d{{{CODE_DIGITS}}}", message.replace(" ", ""))
    if found is None:
        return SmsReply(
            "no_code",
            f"FlexPool: to accept a shift, reply with the {CODE_DIGITS}-digit code "
            "from its offer text.",
        )
    code = found.group(0)
    reply_code = (
        OfferReplyCode.objects.select_related("offer__shift__site", "offer__shift__role")
        .filter(worker=worker, code=code)
        .first()
    )
    if reply_code is None:
        return SmsReply(
            "wrong_code",
            f"FlexPool: {code} is not the code of any of your offers. Check the offer text "
            "and try again.",
        )
    # Spend the code first, with a guard, so two texts with one code book nothing twice.
    spent = OfferReplyCode.objects.filter(pk=reply_code.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not spent:
        return SmsReply("used_code", f"FlexPool: code {code} has already been used.")
    offer = reply_code.offer
    shift = offer.shift
    try:
        booking = offer_accept(offer=offer, worker=worker)
    except OfferUnavailable as exc:
        return SmsReply(
            "refused", f"FlexPool: not booked: {shift.role.name} at {shift.site.name}. {exc}"
        )
    start = timezone.localtime(shift.start)
    end = timezone.localtime(shift.end)
    site = shift.site
    address = ", ".join(p for p in (site.address, site.postcode) if p)
    return SmsReply(
        "booked",
        f"FlexPool: booked. {shift.role.name}, {start:{LONDON_TIME}}-{end:%H:%M} at "
        f"{site.name}, {address}. Details: {settings.SITE_URL}/worker/shifts/{booking.pk}/",
        booking,
    )
