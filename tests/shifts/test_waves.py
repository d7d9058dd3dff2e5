"""Waves, intervals, expiry, escalation and the sweep, with time under the test's control."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Notification
from notifications.tasks import notifications_deliver_batch
from pools.models import Pool
from shifts import tasks
from shifts.matching import (
    matching_sweep,
    shift_eligible_workers,
    shift_match_wave,
    shifts_close_past,
    shifts_escalate,
)
from shifts.models import Offer, ShiftRequest
from shifts.services.offers import offers_expire
from tests import factories as f
from workers.models import AvailabilityRule

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)


@pytest.fixture
def crowd(pool):
    """Seven workers at increasing distances from the site (about 1 km apart)."""
    workers = []
    for i in range(7):
        workers.append(f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.009 * i))
    return workers


@pytest.fixture
def small_waves(pool):
    Pool.objects.filter(pk=pool.pk).update(
        first_wave_size=2, wave_growth=2, wave_interval_minutes=15
    )
    pool.refresh_from_db()
    return pool


def offered(shift, wave=None):
    qs = Offer.objects.filter(shift=shift)
    if wave is not None:
        qs = qs.filter(wave=wave)
    return list(qs.order_by("rank").values_list("worker_id", flat=True))


def test_waves_start_small_grow_and_follow_the_stored_schedule(site, crowd, small_waves):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(days=2))
        ranked = [c.worker_id for c in shift_eligible_workers(shift=shift)]
        assert ranked == [w.pk for w in crowd]
        shift_match_wave(shift_id=shift.pk)
        assert offered(shift, wave=1) == ranked[:2]
        shift.refresh_from_db()
        assert shift.next_wave_at == T0 + timedelta(minutes=15)
    with time_machine.travel(T0 + timedelta(minutes=14), tick=False):
        assert matching_sweep() == 0
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        assert matching_sweep() == 1
        assert offered(shift, wave=2) == ranked[2:6]
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        matching_sweep()
        assert offered(shift, wave=3) == ranked[6:]


def test_a_shift_starting_within_the_urgent_window_goes_to_everyone_at_once(
    site, crowd, small_waves
):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(minutes=90))
        run = shift_match_wave(shift_id=shift.pk)
        assert run is not None and run.offered_count == len(crowd)


def test_a_critical_shift_goes_to_everyone_at_once(site, crowd, small_waves):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(days=2), is_critical=True)
        shift_match_wave(shift_id=shift.pk)
        assert len(offered(shift)) == len(crowd)


def test_a_direct_worker_gets_the_shift_alone_first(site, crowd, small_waves):
    with time_machine.travel(T0, tick=False):
        chosen = crowd[5]
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(days=2), direct_worker=chosen)
        shift_match_wave(shift_id=shift.pk)
        assert offered(shift) == [chosen.pk]
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        matching_sweep()
        assert offered(shift, wave=2) == [crowd[0].pk, crowd[1].pk]


def test_the_interval_tightens_as_the_start_approaches(site, crowd, small_waves):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(hours=2, minutes=24))
        shift_match_wave(shift_id=shift.pk)
        shift.refresh_from_db()
        # A twelfth of the 144 minutes left: 12 minutes, not the pool's 15.
        assert shift.next_wave_at == T0 + timedelta(minutes=12)


def test_offers_expire_after_the_pools_ttl_but_never_after_the_start(site, crowd, small_waves):
    with time_machine.travel(T0, tick=False):
        later = f.ShiftFactory(site=site, start=T0 + timedelta(days=2))
        soon = f.ShiftFactory(
            site=site, start=T0 + timedelta(minutes=30), end=T0 + timedelta(hours=4)
        )
        shift_match_wave(shift_id=later.pk)
        shift_match_wave(shift_id=soon.pk)
        assert {o.expires_at for o in Offer.objects.filter(shift=later)} == {
            T0 + timedelta(minutes=60)
        }
        assert {o.expires_at for o in Offer.objects.filter(shift=soon)} == {soon.start}
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        assert offers_expire() == len(crowd)
        assert offers_expire() == 0
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        tasks.offers_expire()
        assert not Offer.objects.filter(status=Offer.Status.PENDING).exists()


def test_an_open_shift_close_to_its_start_escalates_to_coordinators_once(site, coordinator):
    with time_machine.travel(T0, tick=False):
        near = f.ShiftFactory(site=site, start=T0 + timedelta(hours=5))
        far = f.ShiftFactory(site=site, start=T0 + timedelta(hours=10))
        critical = f.ShiftFactory(site=site, start=T0 + timedelta(hours=10), is_critical=True)
        assert shifts_escalate() == 2
        assert shifts_escalate() == 0
        near.refresh_from_db()
        far.refresh_from_db()
        critical.refresh_from_db()
        assert near.escalated_at == T0 and critical.escalated_at == T0
        assert far.escalated_at is None
        assert Notification.objects.filter(user=coordinator, kind="shift_escalated").count() == 2
    with time_machine.travel(T0 + timedelta(hours=4, minutes=1), tick=False):
        tasks.shifts_escalate()
        far.refresh_from_db()
        assert far.escalated_at is not None


def test_the_sweep_recovers_a_shift_whose_matching_task_was_lost(site, crowd):
    with time_machine.travel(T0, tick=False):
        lost = f.ShiftFactory(site=site, start=T0 + timedelta(days=2), posted_at=T0)
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert matching_sweep() == 0  # give the queued task its chance first
    with time_machine.travel(T0 + timedelta(seconds=61), tick=False):
        tasks.matching_sweep()
        assert offered(lost)


def test_a_duplicated_matching_task_sends_no_duplicate_offers(
    site, crowd, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(days=2))
        tasks.shift_match(shift.pk)
        tasks.shift_match(shift.pk)
        first = Offer.objects.filter(shift=shift).count()
        assert first == 7  # pool default first wave is 10
        assert Notification.objects.filter(kind="offer").count() == first
        # Forcing a re-run (as a retry might) still finds no one new to offer.
        run = shift_match_wave(shift_id=shift.pk, force=True)
        assert run is not None and run.offered_count == 0
        assert Offer.objects.filter(shift=shift).count() == first


def test_a_past_open_shift_is_closed_and_its_offers_expire(site, crowd):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(site=site, start=T0 + timedelta(hours=3))
        shift_match_wave(shift_id=shift.pk)
    with time_machine.travel(T0 + timedelta(hours=3, minutes=1), tick=False):
        assert shifts_close_past() == 1
        tasks.shifts_close_past()
        shift.refresh_from_db()
        assert shift.status == ShiftRequest.Status.EXPIRED
        assert not Offer.objects.filter(status=Offer.Status.PENDING).exists()


# --- Overnight shifts and the clocks changing ------------------------------------------


def only_available(worker, weekday: int, start_minute: int, end_minute: int, *more):
    AvailabilityRule.objects.filter(worker=worker).delete()
    spans = [(weekday, start_minute, end_minute), *more]
    for wd, s, e in spans:
        AvailabilityRule.objects.create(worker=worker, weekday=wd, start_minute=s, end_minute=e)


def test_an_overnight_shift_needs_availability_on_both_evenings_and_mornings(site, worker):
    start = datetime(2026, 12, 8, 20, 0, tzinfo=LONDON)  # Tuesday night to Wednesday
    shift = f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=12))
    now = T0
    only_available(worker, 1, 18 * 60, 1440, (2, 9 * 60, 1440))
    assert shift_eligible_workers(shift=shift, now=now) == []
    only_available(worker, 1, 18 * 60, 1440, (2, 0, 8 * 60))
    assert [c.worker_id for c in shift_eligible_workers(shift=shift, now=now)] == [worker.pk]


def test_a_night_shift_when_the_clocks_go_back_uses_the_wall_clock(site, worker):
    # 24-25 October 2026: 20:00 Saturday to 08:00 Sunday is 13 real hours.
    start = datetime(2026, 10, 24, 20, 0, tzinfo=LONDON)
    end = datetime(2026, 10, 25, 8, 0, tzinfo=LONDON)
    shift = f.ShiftFactory(site=site, start=start, end=end)
    assert end.timestamp() - start.timestamp() == 13 * 3600
    now = datetime(2026, 10, 20, 9, 0, tzinfo=LONDON)
    only_available(worker, 5, 19 * 60, 1440, (6, 0, 8 * 60))
    assert [c.worker_id for c in shift_eligible_workers(shift=shift, now=now)] == [worker.pk]
    only_available(worker, 5, 19 * 60, 1440, (6, 0, 7 * 60))
    assert shift_eligible_workers(shift=shift, now=now) == []


def test_a_night_shift_when_the_clocks_go_forward_counts_real_hours_against_the_cap(site, worker):
    # 27-28 March 2027: 22:00 Saturday to 08:00 Sunday is 9 real hours, not 10.
    start = datetime(2027, 3, 27, 22, 0, tzinfo=LONDON)
    end = datetime(2027, 3, 28, 8, 0, tzinfo=LONDON)
    shift = f.ShiftFactory(site=site, start=start, end=end)
    now = datetime(2027, 3, 20, 9, 0, tzinfo=LONDON)
    worker.weekly_hours_cap = 9
    worker.save()
    assert [c.worker_id for c in shift_eligible_workers(shift=shift, now=now)] == [worker.pk]
    worker.weekly_hours_cap = 8
    worker.save()
    assert shift_eligible_workers(shift=shift, now=now) == []


def test_a_shift_already_started_is_not_matched(site, crowd):
    with time_machine.travel(T0, tick=False):
        shift = f.ShiftFactory(
            site=site,
            start=timezone.now() - timedelta(hours=9),
            end=timezone.now() - timedelta(hours=1),
        )
        assert shift_match_wave(shift_id=shift.pk) is None


def test_offer_messages_are_delivered_in_batches_once_each(
    site, crowd, django_capture_on_commit_callbacks
):
    shift = f.ShiftFactory(site=site, start=timezone.now() + timedelta(days=2))
    with django_capture_on_commit_callbacks() as callbacks:
        shift_match_wave(shift_id=shift.pk)
    assert len(callbacks) == 1
    ids = list(Notification.objects.filter(kind="offer").values_list("pk", flat=True))
    assert len(ids) == len(crowd)
    notifications_deliver_batch(ids)
    notifications_deliver_batch(ids)  # a retried batch sends nothing twice
    assert not Notification.objects.filter(pk__in=ids, delivered_at__isnull=True).exists()
