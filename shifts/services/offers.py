"""Offers: a worker accepting or declining, direct offers, expiry and withdrawal.

Acceptance is the one place where a shift's scarce places are taken. The guard, in
order (and the lock order every shift service follows: worker, shift, offers, bookings):

1. the worker's row is locked first, so one worker's simultaneous accepts queue up and
   each sees the bookings the one before it made;
2. a conditional ``UPDATE shift SET booked_count = booked_count + 1 WHERE status = 'open'
   AND booked_count < headcount``; no row means the shift is full (or gone). The update
   also holds the shift's row lock until commit, so accepts on one shift queue up;
3. the offer is locked and must still be pending and unexpired; every eligibility rule
   that can change after an offer is sent is re-checked (matching's own rule objects);
4. the booking is inserted; on PostgreSQL the exclusion constraint
   ``booking_worker_no_overlap`` refuses one that overlaps the worker's other live bookings,
   which becomes ``OfferUnavailable("clash")``;
5. if that took the last place the shift is filled and the other pending offers are
   withdrawn, and their workers told.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from shifts.exceptions import OfferUnavailable
from shifts.models import Booking, Offer, ShiftRequest
from shifts.services.lifecycle import offers_expire_pending, shift_fill
from workers.models import Worker

log = logging.getLogger("flexpool.offers")

# Only the control tests in tests/shifts/test_concurrency.py turn these off, to show that
# without the guard simultaneous accepts really do overbook a shift, and without the
# worker's lock one worker's simultaneous accepts really do break rest or weekly hours.
ACCEPT_GUARD = True
WORKER_LOCK = True

# Which refusal code a broken rule gives (the API and pages show the message either way).
_CODES = {"overlap": "clash", "rest": "clash"}


def _recheck_rules(shift: ShiftRequest, worker: Worker, now: datetime) -> None:
    """Re-check, at the moment of booking, every eligibility rule that can have changed
    since the offer was sent (``acceptance_rules()``: vetting, documents valid through the
    shift, blocks, overlap, rest, weekly hours), with matching's own rule objects."""
    from shifts.matching import acceptance_rules, worker_rule_failures

    verdict = worker_rule_failures(
        shift=shift, worker_id=worker.pk, now=now, rules=acceptance_rules()
    )
    if verdict.failed:
        words = verdict.words("worker")[0]
        code = _CODES.get(verdict.failed[0].name, "not_eligible")
        raise OfferUnavailable(code, f"You cannot take this shift: {words}.")


def _take_place(shift_id: int) -> None:
    if ACCEPT_GUARD:
        taken = ShiftRequest.objects.filter(
            pk=shift_id, status=ShiftRequest.Status.OPEN, booked_count__lt=F("headcount")
        ).update(booked_count=F("booked_count") + 1)
        if taken:
            return
        status = ShiftRequest.objects.filter(pk=shift_id).values_list("status", flat=True).first()
        if status in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED):
            raise OfferUnavailable("filled")
        raise OfferUnavailable("not_pending", "This shift is no longer available.")
    # The naive check-then-write, kept only to prove the guard matters.
    shift = ShiftRequest.objects.get(pk=shift_id)
    if shift.status != ShiftRequest.Status.OPEN or shift.booked_count >= shift.headcount:
        raise OfferUnavailable("filled")
    shift.booked_count += 1
    shift.save(update_fields=["booked_count"])


def offer_accept(*, offer: Offer, worker: Worker) -> Booking:
    """Book ``worker`` on the offer's shift, or raise ``OfferUnavailable``."""
    if offer.worker_id != worker.pk:
        raise Offer.DoesNotExist("That offer is not this worker's.")
    now = timezone.now()
    current = Offer.objects.filter(pk=offer.pk).values_list("status", "expires_at").first()
    if current is None or current[0] != Offer.Status.PENDING:
        raise OfferUnavailable("not_pending")
    if current[1] <= now:
        raise OfferUnavailable("expired")
    try:
        with transaction.atomic():
            if WORKER_LOCK:
                # First, before the shift: one worker's accepts queue up here, so each sees
                # the bookings the one before it made (rest, weekly hours, overlap).
                Worker.objects.select_for_update().filter(pk=worker.pk).values_list("pk").first()
            _take_place(offer.shift_id)
            locked = Offer.objects.select_for_update().get(pk=offer.pk)
            if locked.status != Offer.Status.PENDING:
                raise OfferUnavailable("not_pending")
            if locked.expires_at <= now:
                raise OfferUnavailable("expired")
            shift = ShiftRequest.objects.select_related("site", "pool").get(pk=offer.shift_id)
            if shift.start <= now:
                raise OfferUnavailable("expired", "This shift has already started.")
            _recheck_rules(shift, worker, now)
            booking = Booking.objects.create(
                shift=shift,
                worker=worker,
                offer=locked,
                start=shift.start,
                end=shift.end,
                booked_at=now,
            )
            locked.status = Offer.Status.ACCEPTED
            locked.responded_at = now
            locked.save(update_fields=["status", "responded_at"])
            if ACCEPT_GUARD:
                shift.refresh_from_db(fields=["booked_count", "status"])
            if shift.booked_count >= shift.headcount and shift.is_open:
                shift_fill(shift=shift, now=now)
    except IntegrityError as exc:
        raise OfferUnavailable("clash") from exc
    offer.status = Offer.Status.ACCEPTED
    offer.responded_at = now
    log.info(
        "offer accepted",
        extra={"offer_id": offer.pk, "shift_id": offer.shift_id, "booking_id": booking.pk},
    )
    return booking


def offer_decline(*, offer: Offer, worker: Worker, reason: str = "") -> Offer:
    """The worker says no; no further messages about this shift reach them."""
    if offer.worker_id != worker.pk:
        raise Offer.DoesNotExist("That offer is not this worker's.")
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if locked.status != Offer.Status.PENDING:
            raise OfferUnavailable("not_pending")
        locked.status = Offer.Status.DECLINED
        locked.responded_at = timezone.now()
        locked.decline_reason = reason.strip()[:200]
        locked.save(update_fields=["status", "responded_at", "decline_reason"])
    return locked


def offer_mark_viewed(*, offer: Offer, worker: Worker) -> Offer:
    if offer.worker_id != worker.pk:
        raise Offer.DoesNotExist("That offer is not this worker's.")
    if offer.viewed_at is None:
        offers_mark_viewed(offer_ids=[offer.pk], worker=worker)
        offer.viewed_at = timezone.now()
    return offer


def offers_mark_viewed(*, offer_ids: Sequence[int], worker: Worker) -> int:
    """Note that the worker has seen these offers of theirs (one UPDATE for the list), so
    coordinators can tell "not seen yet" from "seen, not answered". Others' offers and
    offers already seen are left alone. Returns how many were marked."""
    if not offer_ids:
        return 0
    return Offer.objects.filter(
        worker=worker, pk__in=list(offer_ids), viewed_at__isnull=True
    ).update(viewed_at=timezone.now())


def offer_send_direct(*, shift: ShiftRequest, worker: Worker, by: User | None) -> Offer:
    """Offer an open shift straight to one named worker, if they can lawfully take it.

    Raises ``ValidationError`` naming the eligibility rule that stops it."""
    from shifts.matching import matching_explain, offer_expiry, offers_notify

    with transaction.atomic():
        locked = ShiftRequest.objects.select_for_update().select_related("pool").get(pk=shift.pk)
        if not locked.is_open:
            raise ValidationError({"shift": ["This shift is not open."]})
        reasons = matching_explain(shift=locked, worker=worker)
        if reasons:
            raise ValidationError({"worker": [f"{worker} cannot take this shift: {reasons[0]}."]})
        now = timezone.now()
        offer = Offer.objects.create(
            shift=locked,
            worker=worker,
            wave=max(locked.wave, 1),
            rank=0,
            distance_km=0,
            reasons=["offered to you directly by the provider"],
            sent_at=now,
            expires_at=offer_expiry(locked, now),
        )
        offers_notify([offer.pk])
    return offer


def offers_expire(*, now: datetime | None = None) -> int:
    """Mark pending offers past their expiry as expired (idempotent)."""
    now = now or timezone.now()
    return offers_expire_pending(Offer.objects.filter(expires_at__lte=now))
