"""Every rule that can change after an offer is sent is re-checked when the worker accepts:
the offer is made while the worker is eligible, something changes, and the accept is
refused with the rule's own words — and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from providers.models import ProviderBlock
from shifts.exceptions import OfferUnavailable
from shifts.matching import acceptance_rules, shift_match_wave
from shifts.models import Booking, Offer, ShiftRequest
from shifts.services.offers import offer_accept
from tests import factories as f
from workers.models import Document, Worker, WorkerBlock


@pytest.fixture
def offered(site, worker):
    shift = f.ShiftFactory(site=site)
    shift_match_wave(shift_id=shift.pk)
    return shift, Offer.objects.get(shift=shift, worker=worker)


def book(worker, start, end, site):
    other = f.ShiftFactory(site=site, start=start, end=end)
    return Booking.objects.create(
        shift=other, worker=worker, start=start, end=end, booked_at=timezone.now()
    )


def suspend(shift, worker, site) -> None:
    Worker.objects.filter(pk=worker.pk).update(status=Worker.Status.SUSPENDED)


def lapse_dbs(shift, worker, site) -> None:
    Document.objects.filter(worker=worker, doc_type__slug="dbs-enhanced").update(
        expires_on=timezone.localdate(shift.start)
    )


def reject_right_to_work(shift, worker, site) -> None:
    Document.objects.filter(worker=worker, doc_type__slug="right-to-work").update(
        status=Document.Status.REJECTED
    )


def provider_blocks(shift, worker, site) -> None:
    ProviderBlock.objects.create(provider=shift.provider, worker=worker, reason="Late")


def worker_blocks(shift, worker, site) -> None:
    WorkerBlock.objects.create(worker=worker, provider=shift.provider)


def overlapping_booking(shift, worker, site) -> None:
    book(worker, shift.start + timedelta(hours=2), shift.end + timedelta(hours=2), site)


def too_little_rest(shift, worker, site) -> None:
    book(worker, shift.end + timedelta(hours=3), shift.end + timedelta(hours=9), site)


def over_the_weekly_cap(shift, worker, site) -> None:
    Worker.objects.filter(pk=worker.pk).update(weekly_hours_cap=4)


def over_the_48_hour_average(shift, worker, site) -> None:
    Worker.objects.filter(pk=worker.pk).update(approved_at=timezone.now() - timedelta(days=900))
    for back in range(1, 17):
        start = shift.start - timedelta(weeks=back)
        book(worker, start, start + timedelta(hours=51), site)


CHANGES: dict[str, Callable[..., None]] = {
    "vetted": suspend,
    "documents": lapse_dbs,
    "provider_blocked": provider_blocks,
    "worker_blocked": worker_blocks,
    "overlap": overlapping_booking,
    "rest": too_little_rest,
    "weekly_hours": over_the_weekly_cap,
    "working_time": over_the_48_hour_average,
}


def test_every_rule_marked_for_acceptance_has_a_test_here():
    assert {rule.name for rule in acceptance_rules()} == set(CHANGES)


@pytest.mark.parametrize("rule", sorted(CHANGES))
def test_it_refuses_an_accept_once_a_rule_stops_the_worker(offered, worker, site, rule):
    shift, offer = offered
    CHANGES[rule](shift, worker, site)
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=offer, worker=worker)
    assert exc.value.message.startswith("You cannot take this shift: ")
    assert exc.value.code in {"clash", "not_eligible"}
    assert not Booking.objects.filter(shift=shift).exists()
    shift.refresh_from_db()
    assert shift.booked_count == 0 and shift.status == ShiftRequest.Status.OPEN
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_a_rejected_document_stops_an_accept_and_says_which(offered, worker, site):
    shift, offer = offered
    reject_right_to_work(shift, worker, site)
    with pytest.raises(OfferUnavailable) as exc:
        offer_accept(offer=offer, worker=worker)
    assert "Right to work" in exc.value.message


def test_an_accept_is_booked_when_nothing_changed(offered, worker):
    shift, offer = offered
    booking = offer_accept(offer=offer, worker=worker)
    assert booking.shift_id == shift.pk
