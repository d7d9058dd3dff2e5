"""Simultaneous accepts on PostgreSQL: real threads, each with its own connection, released
together by a barrier."""

from __future__ import annotations

import threading
import time as clock
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from pools.models import DocumentType
from shifts.exceptions import OfferUnavailable
from shifts.models import Booking, Offer, ShiftRequest
from shifts.services import offers as offer_services
from tests import factories as f
from workers.models import Document, Worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCEPTS = 100


def run_together(jobs: list[Callable[[], object]]) -> list[object]:
    """Run each job in its own thread (and so its own connection), all released at once.
    Returns each job's result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def runner(i: int, job: Callable[[], object]) -> None:
        barrier.wait()
        for _try in range(50):
            try:
                results[i] = job()
            except OperationalError as exc:
                # The server allows 100 connections, shared with everyone else's tests: when
                # it is full, wait for a slot (nothing was written) and try again.
                if "too many clients" not in str(exc) and "slots" not in str(exc):
                    results[i] = exc
                    break
                connection.close()
                clock.sleep(0.05)
                continue
            except Exception as exc:  # noqa: BLE001 - the test inspects what each raised
                results[i] = exc
            break
        connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def shift_with_offers(site, pool, headcount: int, n: int) -> tuple[ShiftRequest, list[Offer]]:
    shift = f.ShiftFactory(site=site, headcount=headcount)
    workers = Worker.objects.bulk_create(
        Worker(pool=pool, display_name=f"Racer {i}", status=Worker.Status.APPROVED)
        for i in range(n)
    )
    # Acceptance re-checks documents: each racer holds every one the shift needs.
    needed = DocumentType.objects.needed_for(role_ids=[shift.role_id], skill_ids=[])
    today = timezone.localdate()
    Document.objects.bulk_create(
        Document(
            worker=w,
            doc_type=t,
            status=Document.Status.APPROVED,
            issued_on=today - timedelta(days=30),
            expires_on=today + timedelta(days=365),
        )
        for w in workers
        for t in needed
    )
    now = timezone.now()
    offers = Offer.objects.bulk_create(
        Offer(
            shift=shift,
            worker=w,
            wave=1,
            rank=i + 1,
            distance_km=1,
            sent_at=now,
            expires_at=now + timedelta(hours=1),
        )
        for i, w in enumerate(workers)
    )
    return shift, offers


def accept_job(offer: Offer) -> Callable[[], object]:
    return lambda: offer_services.offer_accept(offer=offer, worker=offer.worker)


def test_a_hundred_simultaneous_accepts_book_exactly_the_headcount(site, pool):
    shift, offers = shift_with_offers(site, pool, headcount=2, n=ACCEPTS)
    results = run_together([accept_job(o) for o in offers])
    booked = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, OfferUnavailable)]
    assert len(booked) == 2
    assert len(refused) == ACCEPTS - 2, Counter(type(r).__name__ for r in results)
    assert {r.code for r in refused} <= {"filled", "not_pending"}
    shift.refresh_from_db()
    assert shift.booked_count == 2 and shift.status == ShiftRequest.Status.FILLED
    assert Booking.objects.filter(shift=shift).count() == 2
    assert Offer.objects.filter(shift=shift, status=Offer.Status.ACCEPTED).count() == 2
    assert not Offer.objects.filter(shift=shift, status=Offer.Status.PENDING).exists()


def test_control_without_the_guard_the_same_race_overbooks(site, pool, monkeypatch):
    """Proves the test above can fail: the naive check-then-write lets more in. On two busy
    cores the threads may run one after another and never overlap, so the first three to
    pass the naive check wait for each other before writing (at most 10 s): the race is
    forced, not hoped for."""
    monkeypatch.setattr(offer_services, "ACCEPT_GUARD", False)
    three_have_read = threading.Barrier(3, timeout=10)
    save = ShiftRequest.save

    def save_once_three_have_read(self: ShiftRequest, *args: object, **kwargs: Any) -> None:
        if kwargs.get("update_fields") == ["booked_count"]:
            with suppress(threading.BrokenBarrierError):
                three_have_read.wait()
        save(self, *args, **kwargs)

    monkeypatch.setattr(ShiftRequest, "save", save_once_three_have_read)
    shift, offers = shift_with_offers(site, pool, headcount=2, n=ACCEPTS)
    run_together([accept_job(o) for o in offers])
    assert Booking.objects.filter(shift=shift).count() > 2


def test_one_worker_accepting_two_overlapping_offers_at_once_gets_one_booking(site, worker):
    for _attempt in range(5):
        start = timezone.now() + timedelta(days=2 + _attempt)
        first = f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=8))
        second = f.ShiftFactory(
            site=site, start=start + timedelta(hours=2), end=start + timedelta(hours=10)
        )
        now = timezone.now()
        offers = [
            Offer.objects.create(
                shift=s,
                worker=worker,
                wave=1,
                rank=1,
                distance_km=1,
                sent_at=now,
                expires_at=now + timedelta(hours=1),
            )
            for s in (first, second)
        ]
        results = run_together([accept_job(o) for o in offers])
        assert sum(isinstance(r, Booking) for r in results) == 1
        clash = [r for r in results if isinstance(r, OfferUnavailable)]
        assert [c.code for c in clash] == ["clash"]
        assert Booking.objects.filter(worker=worker, shift__in=[first, second]).count() == 1


def test_the_database_itself_forbids_overlapping_bookings(site, worker):
    from django.db import IntegrityError, transaction

    start = timezone.now() + timedelta(days=2)
    first = f.ShiftFactory(site=site, start=start)
    second = f.ShiftFactory(site=site, start=start + timedelta(hours=1))
    Booking.objects.create(
        shift=first, worker=worker, start=first.start, end=first.end, booked_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            shift=second,
            worker=worker,
            start=second.start,
            end=second.end,
            booked_at=timezone.now(),
        )


def test_two_sweeps_at_once_run_each_due_wave_once(site, pool):
    from shifts.matching import matching_sweep
    from shifts.models import MatchRun

    for _ in range(3):
        f.WorkerFactory(pool=pool)
    long_ago = timezone.now() - timedelta(minutes=5)
    shifts = [f.ShiftFactory(site=site, posted_at=long_ago) for _ in range(6)]
    results = run_together([matching_sweep, matching_sweep])
    assert sum(r for r in results if isinstance(r, int)) == len(shifts), results
    assert MatchRun.objects.count() == len(shifts)
    assert Offer.objects.count() == 3 * len(shifts)


LONDON = ZoneInfo("Europe/London")
ROUNDS = 5


def offers_to(worker, shifts) -> list[Offer]:
    now = timezone.now()
    return [
        Offer.objects.create(
            shift=s,
            worker=worker,
            wave=1,
            rank=1,
            distance_km=1,
            sent_at=now,
            expires_at=now + timedelta(hours=1),
        )
        for s in shifts
    ]


def two_shifts_two_hours_apart(site, round_: int) -> list[ShiftRequest]:
    start = timezone.now() + timedelta(days=2 + 2 * round_)
    first = f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=6))
    second = f.ShiftFactory(
        site=site, start=first.end + timedelta(hours=2), end=first.end + timedelta(hours=8)
    )
    return [first, second]


def three_eight_hour_days_in_one_week(site, round_: int) -> list[ShiftRequest]:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 + round_)
    shifts = []
    for day in (1, 2, 3):  # Tuesday, Wednesday, Thursday 09:00-17:00: rest is kept
        start = datetime.combine(monday + timedelta(days=day), time(9), tzinfo=LONDON)
        shifts.append(f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=8)))
    return shifts


def race_rest(site, worker) -> list[int]:
    """Each round, the worker accepts two shifts 2 hours apart at the same moment;
    returns how many were booked in each round."""
    booked = []
    for round_ in range(ROUNDS):
        shifts = two_shifts_two_hours_apart(site, round_)
        run_together([accept_job(o) for o in offers_to(worker, shifts)])
        booked.append(Booking.objects.filter(worker=worker, shift__in=shifts).count())
    return booked


def race_weekly_cap(site, worker) -> list[int]:
    """Each round, a worker with a 16-hour cap accepts three 8-hour days of one week at
    the same moment; returns how many were booked in each round."""
    Worker.objects.filter(pk=worker.pk).update(weekly_hours_cap=16)
    booked = []
    for round_ in range(ROUNDS):
        shifts = three_eight_hour_days_in_one_week(site, round_)
        run_together([accept_job(o) for o in offers_to(worker, shifts)])
        booked.append(Booking.objects.filter(worker=worker, shift__in=shifts).count())
    return booked


def test_one_worker_accepting_two_shifts_too_close_for_rest_at_once_gets_one(site, worker):
    assert race_rest(site, worker) == [1] * ROUNDS


def test_control_without_the_workers_lock_the_rest_race_books_both(site, worker, monkeypatch):
    """Proves the test above can fail: without the lock both accepts read no booking."""
    monkeypatch.setattr(offer_services, "WORKER_LOCK", False)
    assert 2 in race_rest(site, worker)


def test_one_worker_accepting_a_weeks_shifts_at_once_stays_within_the_cap(site, worker):
    assert race_weekly_cap(site, worker) == [2] * ROUNDS


def test_control_without_the_workers_lock_the_weekly_cap_is_broken(site, worker, monkeypatch):
    """Proves the test above can fail: without the lock all three read a week of 0 hours."""
    monkeypatch.setattr(offer_services, "WORKER_LOCK", False)
    assert 3 in race_weekly_cap(site, worker)
