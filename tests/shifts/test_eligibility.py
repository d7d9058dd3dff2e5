"""Each eligibility rule, shown excluding a worker who is otherwise perfectly matchable."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from pools.models import DocumentType, Pool
from providers.models import Favourite, ProviderBlock
from shifts.matching import matching_explain, shift_eligible_workers, shift_match_wave
from shifts.models import Booking, MatchRun, Offer
from tests import factories as f
from workers.models import AvailabilityException, AvailabilityRule, Document, Worker, WorkerBlock

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def shift(site):
    return f.ShiftFactory(site=site)


def eligible_ids(shift) -> list[int]:
    return [c.worker_id for c in shift_eligible_workers(shift=shift)]


def book(worker, start, end, site):
    other = f.ShiftFactory(site=site, start=start, end=end)
    return Booking.objects.create(
        shift=other, worker=worker, start=start, end=end, booked_at=timezone.now()
    )


def test_a_default_worker_is_eligible_and_explained_as_such(shift, worker):
    assert eligible_ids(shift) == [worker.pk]
    assert matching_explain(shift=shift, worker=worker) == []


@pytest.mark.parametrize("status", [Worker.Status.CHECKS, Worker.Status.SUSPENDED])
def test_it_refuses_a_worker_who_is_not_vetted_and_active(shift, worker, status):
    Worker.objects.filter(pk=worker.pk).update(status=status)
    assert eligible_ids(shift) == []
    assert "not vetted and active in the pool" in matching_explain(shift=shift, worker=worker)


def test_it_refuses_a_worker_without_the_role(shift, worker):
    worker.roles.clear()
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == ["does not hold the shift's role"]


def test_it_refuses_a_worker_without_every_required_skill(site, worker):
    worker.skills.set(worker.skills.model.objects.filter(slug="hoist"))
    shift = f.ShiftFactory(site=site, skills=["hoist", "dementia"])
    assert eligible_ids(shift) == []
    worker.skills.add(worker.skills.model.objects.get(slug="dementia"))
    assert eligible_ids(shift) == [worker.pk]


def test_it_refuses_a_worker_whose_dbs_lapses_mid_shift(shift, worker):
    dbs = Document.objects.get(worker=worker, doc_type__slug="dbs-enhanced")
    dbs.expires_on = timezone.localdate(shift.start)
    dbs.save()
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == [
        "no valid Enhanced DBS check with adults' barred list through the shift's end"
    ]


def test_it_refuses_a_document_still_pending_review(shift, worker):
    Document.objects.filter(worker=worker, doc_type__slug="right-to-work").update(
        status=Document.Status.PENDING
    )
    assert eligible_ids(shift) == []


def test_a_skill_brings_its_own_document_requirement(site, worker):
    worker.skills.set(worker.skills.model.objects.filter(slug="medication"))
    shift = f.ShiftFactory(site=site, skills=["medication"])
    assert eligible_ids(shift) == [worker.pk]
    Document.objects.filter(worker=worker, doc_type__slug="medication-training").delete()
    assert eligible_ids(shift) == []
    assert "no valid Medication administration training through the shift's end" in (
        matching_explain(shift=shift, worker=worker)
    )


def test_a_document_required_for_all_applies_to_every_role(shift, worker):
    DocumentType.objects.create(slug="new-check", name="New check", required_for_all=True)
    assert eligible_ids(shift) == []


def test_it_refuses_a_worker_not_available_for_the_whole_shift(shift, worker):
    weekday = shift.start.astimezone(LONDON).weekday()
    AvailabilityRule.objects.filter(worker=worker, weekday=weekday).update(end_minute=12 * 60)
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == ["not available for the whole shift"]


def test_adjacent_availability_windows_cover_a_shift_together(shift, worker):
    weekday = shift.start.astimezone(LONDON).weekday()
    AvailabilityRule.objects.filter(worker=worker, weekday=weekday).update(end_minute=12 * 60)
    AvailabilityRule.objects.create(worker=worker, weekday=weekday, start_minute=720)
    assert eligible_ids(shift) == [worker.pk]


def test_an_unavailable_day_overrides_the_weekly_pattern(shift, worker):
    AvailabilityException.objects.create(
        worker=worker,
        day=shift.start.astimezone(LONDON).date(),
        available=False,
        start_minute=10 * 60,
        end_minute=11 * 60,
    )
    assert eligible_ids(shift) == []


def test_an_available_exception_adds_hours_outside_the_pattern(shift, worker):
    AvailabilityRule.objects.filter(worker=worker).delete()
    AvailabilityException.objects.create(
        worker=worker, day=shift.start.astimezone(LONDON).date(), available=True
    )
    assert eligible_ids(shift) == [worker.pk]


def test_a_worker_ready_now_is_offered_an_urgent_shift_without_a_pattern(site, worker):
    AvailabilityRule.objects.filter(worker=worker).delete()
    soon = f.ShiftFactory(
        site=site,
        start=timezone.now() + timedelta(hours=1),
        end=timezone.now() + timedelta(hours=5),
    )
    assert eligible_ids(soon) == []
    Worker.objects.filter(pk=worker.pk).update(ready_now_until=timezone.now() + timedelta(hours=3))
    assert eligible_ids(soon) == [worker.pk]
    later = f.ShiftFactory(site=site)
    assert eligible_ids(later) == []


def test_it_refuses_a_worker_booked_at_an_overlapping_time(shift, worker, site):
    book(worker, shift.start + timedelta(hours=4), shift.end + timedelta(hours=4), site)
    assert eligible_ids(shift) == []
    assert "already booked at an overlapping time" in matching_explain(shift=shift, worker=worker)


def test_it_refuses_a_worker_without_eleven_hours_rest_before(shift, worker, site):
    book(worker, shift.start - timedelta(hours=18), shift.start - timedelta(hours=10), site)
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == [
        "would have less than 11 hours' rest between shifts"
    ]


def test_it_refuses_a_worker_without_rest_after(shift, worker, site):
    book(worker, shift.end + timedelta(hours=5), shift.end + timedelta(hours=13), site)
    assert eligible_ids(shift) == []


def test_rest_hours_are_the_pools_setting(shift, worker, site):
    book(worker, shift.start - timedelta(hours=20), shift.start - timedelta(hours=12), site)
    assert eligible_ids(shift) == [worker.pk]
    Pool.objects.filter(pk=shift.pool_id).update(rest_hours=13)
    shift.pool.refresh_from_db()
    assert eligible_ids(shift) == []


def test_it_refuses_a_worker_who_would_pass_their_weekly_cap(shift, worker, site):
    Worker.objects.filter(pk=worker.pk).update(weekly_hours_cap=10)
    assert eligible_ids(shift) == [worker.pk]
    # Another 4 hours earlier in the same ISO week (and far enough away to rest).
    local = shift.start.astimezone(LONDON)
    monday = datetime.combine(
        local.date() - timedelta(days=local.weekday()), datetime.min.time(), tzinfo=LONDON
    )
    if local - monday < timedelta(days=1):
        start = shift.end + timedelta(hours=20)
    else:
        start = shift.start - timedelta(hours=20)
        start = max(start, monday)
    book(worker, start, start + timedelta(hours=4), site)
    assert eligible_ids(shift) == []
    assert "would go over the weekly hours cap" in matching_explain(shift=shift, worker=worker)


def test_it_refuses_a_worker_beyond_their_travel_radius(shift, worker):
    Worker.objects.filter(pk=worker.pk).update(latitude=53.70)  # about 12 km north
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == [
        "the site is beyond the worker's travel radius"
    ]
    Worker.objects.filter(pk=worker.pk).update(travel_radius_km=Decimal("15"))
    assert eligible_ids(shift) == [worker.pk]


def test_a_worker_without_a_radius_uses_the_pools_default(shift, worker):
    Worker.objects.filter(pk=worker.pk).update(latitude=53.66, travel_radius_km=None)
    assert eligible_ids(shift) == [worker.pk]  # about 7.5 km, inside the default 10 km
    Pool.objects.filter(pk=shift.pool_id).update(default_radius_km=Decimal("5"))
    shift.pool.refresh_from_db()
    assert eligible_ids(shift) == []


def test_widening_the_radius_reaches_further(shift, worker):
    Worker.objects.filter(pk=worker.pk).update(latitude=53.70)
    shift.radius_bonus_km = Decimal("5")
    shift.save()
    assert eligible_ids(shift) == [worker.pk]


def test_it_refuses_a_worker_the_provider_blocked(shift, worker, manager):
    ProviderBlock.objects.create(
        provider=shift.provider, worker=worker, reason="Late", created_by=manager
    )
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == [
        "the provider has asked not to be sent this worker"
    ]


def test_it_refuses_a_worker_who_blocked_the_provider(shift, worker):
    WorkerBlock.objects.create(worker=worker, provider=shift.provider)
    assert eligible_ids(shift) == []


def test_it_never_offers_a_shift_twice(shift, worker):
    shift_match_wave(shift_id=shift.pk)
    assert Offer.objects.filter(shift=shift).count() == 1
    assert eligible_ids(shift) == []
    assert matching_explain(shift=shift, worker=worker) == ["already offered this shift"]


def test_a_worker_of_another_pool_is_offered_only_after_opting_in(shift, worker):
    elsewhere = f.PoolFactory(name="Rochdale", slug="rochdale")
    Worker.objects.filter(pk=worker.pk).update(pool=elsewhere)
    assert eligible_ids(shift) == []
    assert "not a member of this shift's pool and not opted in to it" in matching_explain(
        shift=shift, worker=worker
    )
    worker.extra_pools.add(shift.pool)
    assert eligible_ids(shift) == [worker.pk]


def test_a_match_run_records_who_each_rule_excluded(shift, worker, other_worker):
    AvailabilityRule.objects.filter(worker=other_worker).delete()
    run = shift_match_wave(shift_id=shift.pk)
    assert isinstance(run, MatchRun)
    assert run.eligible_count == 1 and run.offered_count == 1
    assert run.excluded == {"availability": [other_worker.pk]}


def test_a_small_wave_examines_only_as_far_down_the_ranking_as_it_needs(site, pool):
    Pool.objects.filter(pk=pool.pk).update(first_wave_size=2)
    near = [f.WorkerFactory(pool=pool, latitude=f.BURY[0]) for _ in range(50)]
    far = f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.05)  # about 5.6 km
    shift = f.ShiftFactory(site=site)
    run = shift_match_wave(shift_id=shift.pk)
    assert run is not None and run.offered_count == 2
    assert run.excluded == {} and run.not_reached == 1
    assert run.eligible_count == len(near)
    assert far.pk in [c.worker_id for c in shift_eligible_workers(shift=shift)]


def test_favourites_come_first_then_the_nearest(shift, worker, other_worker):
    Worker.objects.filter(pk=worker.pk).update(latitude=shift.site.latitude + 0.05)
    Worker.objects.filter(pk=other_worker.pk).update(latitude=shift.site.latitude)
    ranked = shift_eligible_workers(shift=shift)
    assert [c.worker_id for c in ranked] == [other_worker.pk, worker.pk]
    Favourite.objects.create(provider=shift.provider, worker=worker)
    ranked = shift_eligible_workers(shift=shift)
    assert [c.worker_id for c in ranked] == [worker.pk, other_worker.pk]
    assert "favourite of this home" in ranked[0].reasons
    assert any(r.endswith("km away") for r in ranked[0].reasons)
    assert "no hours yet this week" in ranked[0].reasons
