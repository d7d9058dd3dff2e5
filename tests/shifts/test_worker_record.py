"""Each worker's record (offers answered, attendance) is kept by the database as offers and
bookings change, and always equals counting the worker's history: after every transition,
for the worker concerned only, and after the migration's backfill."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shifts.matching import shift_match_wave
from shifts.matching.ranking import RECORD_COLUMNS
from shifts.models import Booking, Offer, ShiftRequest, WorkerRecord
from shifts.services.lifecycle import booking_record_no_show, shifts_close_past
from shifts.services.offers import offer_accept, offer_decline, offers_expire
from shifts.services.records import worker_records_recount
from shifts.services.timesheets import booking_confirm_attended, timesheets_auto_approve
from tests import factories as f
from tests.providers.conftest import book, past_shift, submit_timesheet
from workers.models import Worker

pytestmark = pytest.mark.django_db


def history(worker: Worker) -> tuple[int, ...]:
    """The record as counting the worker's history gives it (``RECORD_COLUMNS``)."""
    offers = Offer.objects.filter(worker=worker)
    bookings = Booking.objects.filter(worker=worker)
    return (
        offers.filter(status=Offer.Status.ACCEPTED).count(),
        offers.filter(status=Offer.Status.DECLINED).count(),
        offers.filter(status=Offer.Status.EXPIRED).count(),
        bookings.filter(status=Booking.Status.ATTENDED).count(),
        bookings.filter(status=Booking.Status.NO_SHOW).count(),
    )


def record(worker: Worker) -> tuple[int, ...]:
    row = WorkerRecord.objects.filter(worker=worker).values_list(*RECORD_COLUMNS).first()
    return tuple(row) if row else (0, 0, 0, 0, 0)


def offered(shift: ShiftRequest, worker: Worker, **kw) -> Offer:
    return f.OfferFactory(shift=shift, worker=worker, **kw)


def test_accepting_an_offer_counts_for_that_worker_and_not_for_the_others(
    site, worker, other_worker
):
    shift = f.ShiftFactory(site=site, headcount=2)
    mine, theirs = offered(shift, worker), offered(shift, other_worker)
    offer_decline(offer=theirs, worker=other_worker)
    before = record(other_worker)

    offer_accept(offer=mine, worker=worker)

    assert record(worker) == history(worker) == (1, 0, 0, 0, 0)
    assert record(other_worker) == before == history(other_worker) == (0, 1, 0, 0, 0)


def test_declining_and_expiring_offers_count_and_pending_or_withdrawn_ones_do_not(
    site, worker, other_worker
):
    now = timezone.now()
    declined = offered(f.ShiftFactory(site=site), worker)
    offered(f.ShiftFactory(site=site), worker, sent_at=now - timedelta(hours=2), expires_at=now)
    offered(f.ShiftFactory(site=site), worker, status=Offer.Status.WITHDRAWN)
    offered(f.ShiftFactory(site=site), worker)  # still pending
    offered(f.ShiftFactory(site=site), other_worker)  # the other worker's: still pending

    offer_decline(offer=declined, worker=worker)
    assert offers_expire(now=now) == 1

    assert record(worker) == history(worker) == (0, 1, 1, 0, 0)
    assert record(other_worker) == history(other_worker) == (0, 0, 0, 0, 0)


def test_a_past_shift_closed_expires_its_offers_into_the_record(site, worker, other_worker):
    start = timezone.now() - timedelta(hours=1)
    shift = f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=8))
    offered(shift, worker, sent_at=start - timedelta(hours=3), expires_at=start)
    offered(f.ShiftFactory(site=site), other_worker)  # another shift, still open

    assert shifts_close_past() == 1

    assert record(worker) == history(worker) == (0, 0, 1, 0, 0)
    assert record(other_worker) == history(other_worker) == (0, 0, 0, 0, 0)


def test_attendance_and_no_shows_count_whichever_way_they_are_recorded(
    site, worker, other_worker, manager
):
    confirmed = book(past_shift(site, days_ago=1), worker)
    no_show = book(past_shift(site, days_ago=2), worker)
    auto = book(past_shift(site, days_ago=9), worker)
    cancelled = book(past_shift(site, days_ago=5), worker)
    theirs = book(past_shift(site, days_ago=1), other_worker)

    booking_confirm_attended(booking=confirmed, by=manager)
    booking_record_no_show(booking=no_show, by=manager)
    submit_timesheet(auto)
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)
    auto.timesheet.reminder_sent_at = timezone.now() - timedelta(days=2)
    auto.timesheet.save()
    assert timesheets_auto_approve().approved == 1

    assert record(worker) == history(worker) == (0, 0, 0, 2, 1)
    assert Booking.objects.get(pk=theirs.pk).status == Booking.Status.BOOKED
    assert record(other_worker) == history(other_worker) == (0, 0, 0, 0, 0)


def test_offers_deleted_or_moved_leave_the_record_and_a_status_changed_back_is_taken_away(
    site, worker, other_worker
):
    shift = f.ShiftFactory(site=site)
    declined = offered(shift, worker, status=Offer.Status.DECLINED)
    offered(f.ShiftFactory(site=site), worker, status=Offer.Status.EXPIRED)
    assert record(worker) == history(worker) == (0, 1, 1, 0, 0)

    Offer.objects.filter(pk=declined.pk).update(worker=other_worker)
    assert record(worker) == history(worker) == (0, 0, 1, 0, 0)
    assert record(other_worker) == history(other_worker) == (0, 1, 0, 0, 0)

    Offer.objects.filter(worker=worker).update(status=Offer.Status.PENDING)
    shift.delete()  # cascades to the (moved) declined offer
    assert record(worker) == history(worker) == (0, 0, 0, 0, 0)
    assert record(other_worker) == history(other_worker) == (0, 0, 0, 0, 0)


def test_the_migrations_backfill_writes_the_records_counting_the_history_gives(
    site, worker, other_worker
):
    shift = f.ShiftFactory(site=site)
    offered(shift, worker, status=Offer.Status.ACCEPTED)
    offered(f.ShiftFactory(site=site), worker, status=Offer.Status.EXPIRED)
    offered(f.ShiftFactory(site=site), other_worker, status=Offer.Status.DECLINED)
    book(past_shift(site), worker, status=Booking.Status.ATTENDED)
    book(past_shift(site, days_ago=2), other_worker, status=Booking.Status.NO_SHOW)
    WorkerRecord.objects.all().delete()

    migration = importlib.import_module("shifts.migrations.0004_worker_record")
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)

    assert record(worker) == history(worker) == (1, 0, 1, 1, 0)
    assert record(other_worker) == history(other_worker) == (0, 1, 0, 0, 1)
    assert WorkerRecord.objects.count() == 2


def test_recounting_writes_the_records_from_the_history_as_the_demo_builder_does(
    site, worker, other_worker
):
    offered(f.ShiftFactory(site=site), worker, status=Offer.Status.DECLINED)
    book(past_shift(site), other_worker, status=Booking.Status.NO_SHOW)
    WorkerRecord.objects.filter(worker=worker).update(offers_declined=7)
    WorkerRecord.objects.filter(worker=other_worker).delete()

    assert worker_records_recount() == 2

    assert record(worker) == history(worker) == (0, 1, 0, 0, 0)
    assert record(other_worker) == history(other_worker) == (0, 0, 0, 0, 1)


def test_a_wave_ranks_and_words_reliability_from_the_record(site, worker, other_worker):
    for answer in (Offer.Status.ACCEPTED, Offer.Status.ACCEPTED, Offer.Status.DECLINED):
        offered(f.ShiftFactory(site=site), worker, status=answer)
    book(past_shift(site), worker, status=Booking.Status.ATTENDED)
    offered(f.ShiftFactory(site=site), other_worker, status=Offer.Status.EXPIRED)
    shift = f.ShiftFactory(site=site, is_critical=True)

    shift_match_wave(shift_id=shift.pk)

    reasons = dict(Offer.objects.filter(shift=shift).values_list("worker_id", "reasons"))
    assert "accepted 2 of 3 offers" in reasons[worker.pk]
    assert "attended 1 of 1 shifts" in reasons[worker.pk]
    assert "accepted 0 of 1 offers" in reasons[other_worker.pk]


def live_seconds(worker: Worker) -> int:
    return (
        WorkerRecord.objects.filter(worker=worker).values_list("live_seconds", flat=True).first()
        or 0
    )


def live_history(worker: Worker) -> int:
    """Seconds of the worker's live bookings (booked or attended), as counting gives them."""
    return int(
        sum(
            (b.end - b.start).total_seconds()
            for b in Booking.objects.filter(worker=worker, status__in=Booking.LIVE_STATUSES)
        )
    )


def test_live_seconds_follow_bookings_made_retimed_moved_cancelled_and_deleted(
    site, worker, other_worker
):
    def agree() -> bool:
        return all(live_seconds(w) == live_history(w) for w in (worker, other_worker))

    first = book(f.ShiftFactory(site=site), worker)
    assert live_seconds(worker) == 8 * 3600 and live_seconds(other_worker) == 0 and agree()
    Booking.objects.filter(pk=first.pk).update(status=Booking.Status.ATTENDED)  # still live
    assert live_seconds(worker) == 8 * 3600 and agree()
    second = book(past_shift(site, days_ago=3), worker)
    Booking.objects.filter(pk=second.pk).update(end=second.end + timedelta(hours=2))
    assert live_seconds(worker) == live_history(worker) and agree()
    Booking.objects.filter(pk=second.pk).update(worker=other_worker)  # moved
    assert live_seconds(other_worker) > 0 and agree()
    Booking.objects.filter(pk=second.pk).update(status=Booking.Status.CANCELLED)
    assert live_seconds(other_worker) == 0 and agree()
    Booking.objects.filter(pk=second.pk).update(status=Booking.Status.BOOKED)  # back again
    assert agree()
    Booking.objects.filter(pk=first.pk).update(status=Booking.Status.NO_SHOW)
    assert live_seconds(worker) == 0 and agree()
    Booking.objects.filter(pk=second.pk).delete()
    assert live_seconds(other_worker) == 0 and agree()


def test_recounting_and_the_backfill_write_the_live_seconds_counting_gives(
    site, worker, other_worker
):
    book(f.ShiftFactory(site=site), worker)
    book(past_shift(site), other_worker, status=Booking.Status.ATTENDED)
    book(past_shift(site, days_ago=2), other_worker, status=Booking.Status.CANCELLED)
    WorkerRecord.objects.update(live_seconds=12345)

    migration = importlib.import_module("shifts.migrations.0009_workerrecord_live_seconds")
    with connection.cursor() as cursor:
        cursor.execute(migration.backfill_sql(connection.vendor))
    assert (live_seconds(worker), live_seconds(other_worker)) == (8 * 3600, 8 * 3600)

    WorkerRecord.objects.update(live_seconds=12345)
    worker_records_recount()
    assert live_seconds(worker) == live_history(worker) == 8 * 3600
    assert live_seconds(other_worker) == live_history(other_worker) == 8 * 3600
