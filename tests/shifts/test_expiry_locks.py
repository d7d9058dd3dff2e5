"""Expiring offers in bulk (the offer sweep, a past shift closing) while a worker takes the
last place on a shift, on PostgreSQL with real threads and connections.

The accept holds the worker's offer, then (through the record trigger) the worker's
record, then the shift's other pending offers, to withdraw them. A sweep that had locked
one of those other offers and then waited for the accepted one, or for the worker's
record, would deadlock with it, and PostgreSQL would abort one of the two: perhaps the
worker's booking. The control turns the guard off to show the deadlock is real, forced in
the same order every time."""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from shifts.models import Booking, Offer, ShiftRequest, WorkerRecord
from shifts.services import lifecycle
from shifts.services import offers as offer_services
from tests import factories as f
from tests.locking import someone_waits_for_a_lock
from workers.models import Worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def offered(shift: ShiftRequest, worker: Worker, expires: timedelta) -> Offer:
    now = timezone.now()
    return f.OfferFactory(
        shift=shift, worker=worker, sent_at=now - timedelta(hours=1), expires_at=now + expires
    )


def race(monkeypatch: pytest.MonkeyPatch, accept: Offer, sweep_at: datetime) -> dict[str, object]:
    """The worker accepts ``accept``: once they hold it (worker, shift and offer locked, the
    rules being re-checked), the sweep runs as at ``sweep_at``; the accept goes on when the
    sweep waits for it or has finished."""
    holding, go = threading.Event(), threading.Event()
    recheck = offer_services._recheck_rules

    def paused(*args, **kwargs):  # type: ignore[no-untyped-def]
        holding.set()
        go.wait(timeout=20)
        return recheck(*args, **kwargs)

    monkeypatch.setattr(offer_services, "_recheck_rules", paused)
    results: dict[str, object] = {}

    def run(name: str, job: Callable[[], object]) -> None:
        try:
            results[name] = job()
        except Exception as exc:  # noqa: BLE001 - the test reads what each raised
            results[name] = exc
        finally:
            connection.close()

    worker = threading.Thread(
        target=run,
        args=("accept", lambda: offer_services.offer_accept(offer=accept, worker=accept.worker)),
    )
    worker.start()
    assert holding.wait(timeout=20)
    sweeper = threading.Thread(
        target=run, args=("sweep", lambda: offer_services.offers_expire(now=sweep_at))
    )
    sweeper.start()
    deadline = clock.monotonic() + 10
    while sweeper.is_alive() and not someone_waits_for_a_lock() and clock.monotonic() < deadline:
        clock.sleep(0.02)
    go.set()
    worker.join(timeout=60)
    sweeper.join(timeout=60)
    return results


def record(worker: Worker) -> tuple[int, int]:
    row = WorkerRecord.objects.filter(worker=worker).values_list(
        "offers_accepted", "offers_expired"
    )
    return tuple(row.first() or (0, 0))  # type: ignore[return-value]


def last_place_and_expired_offers(site, worker, other_worker):  # type: ignore[no-untyped-def]
    """A shift with one place: the worker's offer expires in a minute, an outsider's has
    expired; and another of the worker's offers, elsewhere, has expired too."""
    shift = f.ShiftFactory(site=site, headcount=1)
    theirs = offered(shift, other_worker, timedelta(minutes=-2))
    elsewhere = offered(f.ShiftFactory(site=site), worker, timedelta(minutes=-1))
    mine = offered(shift, worker, timedelta(minutes=1))
    return shift, theirs, elsewhere, mine


@pytest.mark.parametrize("answered_before", [True, False], ids=["with-record", "first-answer"])
def test_taking_the_last_place_as_the_sweep_runs_books_the_worker_and_expires_the_rest(
    site, worker, other_worker, monkeypatch, answered_before
):
    # The sweep's clock is two minutes on: it counts the accepted offer as expired too.
    shift, theirs, elsewhere, mine = last_place_and_expired_offers(site, worker, other_worker)
    if answered_before:
        WorkerRecord.objects.bulk_create(
            [WorkerRecord(worker=worker), WorkerRecord(worker=other_worker)]
        )

    results = race(monkeypatch, mine, sweep_at=timezone.now() + timedelta(minutes=2))

    assert isinstance(results["accept"], Booking), results
    if answered_before:  # the outsider's offer and the worker's other one
        assert results["sweep"] == 2
    else:
        # The worker's first record could not be written while the accept held the worker:
        # their other offer was left alone, and the next sweep expires it.
        assert results["sweep"] == 1
        assert offer_services.offers_expire(now=timezone.now() + timedelta(minutes=2)) == 1
    statuses = dict(Offer.objects.values_list("pk", "status"))
    assert statuses[mine.pk] == Offer.Status.ACCEPTED
    assert statuses[theirs.pk] == statuses[elsewhere.pk] == Offer.Status.EXPIRED
    shift.refresh_from_db()
    assert shift.status == ShiftRequest.Status.FILLED and shift.booked_count == 1
    assert record(worker) == (1, 1) and record(other_worker) == (0, 1)


def test_control_expiring_in_one_plain_update_deadlocks_with_the_accept(
    site, worker, other_worker, monkeypatch
):
    monkeypatch.setattr(lifecycle, "EXPIRY_SKIPS_LOCKED", False)
    _shift, _theirs, _elsewhere, mine = last_place_and_expired_offers(site, worker, other_worker)

    results = race(monkeypatch, mine, sweep_at=timezone.now() + timedelta(minutes=2))

    deadlocks = [
        r for r in results.values() if isinstance(r, OperationalError) and "deadlock" in str(r)
    ]
    assert deadlocks, results


def hold(offer: Offer) -> tuple[threading.Event, threading.Thread]:
    """Another connection holds ``offer`` (as a worker answering it would) until released."""
    held, release = threading.Event(), threading.Event()

    def run() -> None:
        with transaction.atomic():
            Offer.objects.select_for_update().get(pk=offer.pk)
            held.set()
            release.wait(timeout=20)
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert held.wait(timeout=20)
    return release, thread


def test_an_offer_the_sweep_skipped_while_held_expires_on_the_next_sweep(site, worker):
    offer = offered(f.ShiftFactory(site=site), worker, timedelta(minutes=-5))
    release, holder = hold(offer)

    assert offer_services.offers_expire() == 0

    release.set()
    holder.join(timeout=20)
    assert offer_services.offers_expire() == 1
    assert record(worker) == (0, 1)


def test_a_started_shift_closes_while_one_offer_is_held_and_the_sweep_expires_it_after(
    site, worker, other_worker
):
    began = timezone.now() - timedelta(minutes=30)
    shift = f.ShiftFactory(site=site, start=began)
    held = offered(shift, worker, timedelta(minutes=-31))
    other = offered(shift, other_worker, timedelta(minutes=-31))
    release, holder = hold(held)

    assert lifecycle.shifts_close_past() == 1

    shift.refresh_from_db()
    assert shift.status == ShiftRequest.Status.EXPIRED
    assert Offer.objects.get(pk=other.pk).status == Offer.Status.EXPIRED
    assert Offer.objects.get(pk=held.pk).status == Offer.Status.PENDING
    release.set()
    holder.join(timeout=20)
    assert offer_services.offers_expire() == 1
    assert record(worker) == (0, 1) and record(other_worker) == (0, 1)
