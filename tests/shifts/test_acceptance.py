from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Notification
from pools.models import Role
from shifts.exceptions import OfferUnavailable
from shifts.matching import shift_match_wave
from shifts.models import Booking, Offer, ShiftRequest
from shifts.services.lifecycle import booking_cancel, shift_cancel
from shifts.services.offers import offer_accept, offer_decline
from shifts.services.posting import shift_post


def _post(provider, site, **kw):
    start = kw.pop("start", timezone.now() + timedelta(days=1))
    return shift_post(
        provider=provider,
        site=site,
        role=Role.objects.get(slug="care-worker"),
        skills=[],
        start=start,
        end=kw.pop("end", start + timedelta(hours=8)),
        headcount=kw.pop("headcount", 1),
        **kw,
    )


def test_posting_a_shift_queues_matching_which_offers_it(
    provider, site, manager, worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        shift = _post(provider, site, created_by=manager)
    assert len(callbacks) == 1
    assert (
        shift.agency_hourly_rate == shift.pool.role_rates.get(role=shift.role).benchmark_agency_rate
    )
    run = shift_match_wave(shift_id=shift.pk)
    assert run is not None and run.offered_count == 1
    offer = Offer.objects.get(shift=shift)
    assert offer.worker == worker
    assert any("km away" in r for r in offer.reasons)
    assert Notification.objects.filter(user=worker.user, kind="offer").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": timezone.now() + timedelta(days=1)}, "end"),
        ({"start": timezone.now() - timedelta(hours=2)}, "start"),
        ({"headcount": 0}, "headcount"),
        ({"headcount": 51}, "headcount"),
        ({"end": timezone.now() + timedelta(days=1, hours=20)}, "end"),
    ],
)
def test_it_refuses_bad_shifts_with_field_errors(provider, site, change, field):
    start = change.pop("start", timezone.now() + timedelta(days=1))
    if field == "end":
        change["end"] = start + (change["end"] - (timezone.now() + timedelta(days=1)))
    with pytest.raises(ValidationError) as exc:
        _post(provider, site, start=start, **change)
    assert field in exc.value.message_dict
    assert not ShiftRequest.objects.exists()


def test_it_refuses_another_providers_site(provider, outsider):
    other_site = outsider.provider_membership.provider.sites.get()
    with pytest.raises(ValidationError) as exc:
        _post(provider, other_site)
    assert "site" in exc.value.message_dict


def test_accepting_the_last_place_fills_the_shift_and_withdraws_the_rest(
    provider, site, worker, other_worker, django_capture_on_commit_callbacks
):
    shift = _post(provider, site)
    shift_match_wave(shift_id=shift.pk)
    mine = Offer.objects.get(shift=shift, worker=worker)
    with django_capture_on_commit_callbacks(execute=True):
        booking = offer_accept(offer=mine, worker=worker)
    shift.refresh_from_db()
    assert (booking.start, booking.end) == (shift.start, shift.end)
    assert shift.status == ShiftRequest.Status.FILLED and shift.filled_at is not None
    theirs = Offer.objects.get(shift=shift, worker=other_worker)
    assert theirs.status == Offer.Status.WITHDRAWN
    assert Notification.objects.filter(user=other_worker.user, kind="offer_withdrawn").exists()
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=theirs, worker=other_worker)
    assert exc.value.code == "not_pending"


def test_a_full_shift_answers_filled(provider, site, worker, other_worker):
    shift = _post(provider, site)
    shift_match_wave(shift_id=shift.pk)
    theirs = Offer.objects.get(shift=shift, worker=other_worker)
    ShiftRequest.objects.filter(pk=shift.pk).update(booked_count=1)
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=theirs, worker=other_worker)
    assert exc.value.code == "filled"
    assert exc.value.message == "This shift has already been filled."


def test_an_expired_offer_cannot_be_accepted(provider, site, worker):
    shift = _post(provider, site)
    shift_match_wave(shift_id=shift.pk)
    offer = Offer.objects.get(shift=shift)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    offer.refresh_from_db()
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=offer, worker=worker)
    assert exc.value.code == "expired"


def test_a_worker_cannot_accept_a_shift_overlapping_their_booking(provider, site, worker):
    first = _post(provider, site)
    second = _post(provider, site, start=first.start + timedelta(hours=2))
    shift_match_wave(shift_id=first.pk)
    shift_match_wave(shift_id=second.pk)
    offer_accept(offer=Offer.objects.get(shift=first), worker=worker)
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=Offer.objects.get(shift=second), worker=worker)
    assert exc.value.code == "clash"
    assert Booking.objects.filter(worker=worker).count() == 1


def test_declining_stops_further_offers_of_that_shift(provider, site, worker):
    shift = _post(provider, site)
    shift_match_wave(shift_id=shift.pk)
    offer = offer_decline(offer=Offer.objects.get(shift=shift), worker=worker, reason="Busy")
    assert offer.status == Offer.Status.DECLINED
    shift_match_wave(shift_id=shift.pk, force=True)
    assert Offer.objects.filter(shift=shift, worker=worker).count() == 1


def test_a_worker_cancelling_reopens_the_place_and_resumes_matching(
    provider, site, worker, manager, django_capture_on_commit_callbacks
):
    shift = _post(provider, site, start=timezone.now() + timedelta(hours=10))
    shift_match_wave(shift_id=shift.pk)
    booking = offer_accept(offer=Offer.objects.get(shift=shift), worker=worker)
    with django_capture_on_commit_callbacks() as callbacks:
        booking = booking_cancel(booking=booking, by=worker.user, reason="Ill")
    assert booking.cancelled_by == Booking.CancelledBy.WORKER
    assert booking.late_cancellation
    shift.refresh_from_db()
    assert shift.status == ShiftRequest.Status.OPEN and shift.booked_count == 0
    assert len(callbacks) >= 1
    assert Notification.objects.filter(user=manager, kind="booking_cancelled").exists()


def test_cancelling_a_shift_withdraws_offers_and_tells_booked_workers(
    provider, site, manager, worker, other_worker
):
    shift = _post(provider, site, headcount=2)
    shift_match_wave(shift_id=shift.pk)
    offer_accept(offer=Offer.objects.get(shift=shift, worker=worker), worker=worker)
    shift = shift_cancel(shift=shift, by=manager, reason="Resident moved")
    assert shift.status == ShiftRequest.Status.CANCELLED
    assert Booking.objects.get(worker=worker).status == Booking.Status.CANCELLED
    assert Offer.objects.get(worker=other_worker).status == Offer.Status.WITHDRAWN
    assert Notification.objects.filter(user=worker.user, kind="booking_cancelled").exists()


def test_an_outsider_cannot_cancel_someone_elses_booking(provider, site, worker, outsider):
    from django.core.exceptions import PermissionDenied

    shift = _post(provider, site)
    shift_match_wave(shift_id=shift.pk)
    booking = offer_accept(offer=Offer.objects.get(shift=shift), worker=worker)
    with pytest.raises(PermissionDenied):
        booking_cancel(booking=booking, by=outsider, reason="")


def test_accepting_is_refused_when_it_would_break_the_rest_rule(provider, site, worker):
    first = _post(provider, site)
    second = _post(provider, site, start=first.end + timedelta(hours=5))
    shift_match_wave(shift_id=first.pk)
    shift_match_wave(shift_id=second.pk)
    offer_accept(offer=Offer.objects.get(shift=first), worker=worker)
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=Offer.objects.get(shift=second), worker=worker)
    assert exc.value.code == "clash" and "11 hours' rest" in exc.value.message


def test_a_provider_cancelling_a_whole_shift_shortly_before_is_a_late_cancellation(
    provider, site, worker, manager
):
    shift = _post(provider, site, start=timezone.now() + timedelta(hours=5))
    shift_match_wave(shift_id=shift.pk)
    offer_accept(offer=Offer.objects.get(shift=shift, worker=worker), worker=worker)
    shift_cancel(shift=shift, by=manager, reason="Resident moved")
    booking = Booking.objects.get(worker=worker, shift=shift)
    assert booking.cancelled_by == Booking.CancelledBy.PROVIDER
    assert booking.late_cancellation is True


def test_a_whole_shift_cancelled_well_ahead_is_not_late(provider, site, worker, manager):
    shift = _post(provider, site, start=timezone.now() + timedelta(days=3))
    shift_match_wave(shift_id=shift.pk)
    offer_accept(offer=Offer.objects.get(shift=shift, worker=worker), worker=worker)
    shift_cancel(shift=shift, by=manager, reason="")
    assert Booking.objects.get(worker=worker, shift=shift).late_cancellation is False
