"""The simulator on hand-built cases whose best answer is known by hand."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lab.models import LabRun
from lab.optimum import optimum_compute
from lab.response import ResponseModel
from lab.services import lab_simulate
from lab.simulator import Scenario, figures, policy_parse, simulate_run, workers_parse
from notifications.models import Notification
from pools.models import Pool, Role
from providers.models import ProviderBlock
from shifts.matching import Rule, rules
from shifts.models import Booking, MatchRun, Offer, ShiftRequest
from tests import factories as f
from tests.lab.conftest import at, past_shift
from workers.models import AvailabilityRule, Worker

pytestmark = pytest.mark.postgres
EVERYONE_SAYS_YES = ResponseModel.fixed(p=1.0, delay_minutes=5)


@pytest.fixture
def trap(pool, site, day):
    """Greedy first-come booking falls into this. Shift A (Mon 08-16) suits X and Y; shift B
    (Mon 20-23, needs dementia care) suits only X, and B starts 4 hours after A ends, inside
    the 11 hours' rest. X lives nearer, so X is ranked first for A and takes it; B, posted the
    next day, then has nobody. The best possible: Y on A, X on B, 11 hours."""
    x = f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.001, skills=["dementia"])
    y = f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.02)
    a = past_shift(site, at(day, 8), 8)
    b = past_shift(site, at(day, 20), 3, posted_before=timedelta(hours=30), skills=["dementia"])
    return {"x": x, "y": y, "a": a, "b": b}


def run(pool, day, model=EVERYONE_SAYS_YES, eligibility=True, **kwargs):
    scenario = Scenario(pool=pool, start=day, end=day + timedelta(days=6), **kwargs)
    return simulate_run(scenario=scenario, model=model, with_eligibility=eligibility)


def test_greedy_first_come_booking_is_provably_worse_than_the_optimum(pool, day, trap):
    result = run(pool, day)
    booked = {(b.shift_key, b.worker_id) for b in result.bookings}
    assert booked == {(f"s{trap['a'].pk}", trap["x"].pk)}
    assert figures(result)["hours_filled"] == 8.0

    best = optimum_compute(result)
    assert best["bound"] == "matching"  # each worker can take one of the two at most
    assert (best["places"], best["hours"]) == (2, 11.0)


def test_the_bound_is_an_exact_mip_when_workers_can_take_several_shifts(pool, site, day):
    """X may work Monday, Wednesday and Friday but only 16 hours a week; Y only on Friday.
    Three 8-hour shifts: X takes two, Y the Friday: 24 hours. With X capped at 8: 16 hours."""
    x = f.WorkerFactory(pool=pool, weekly_hours_cap=16)
    y = f.WorkerFactory(pool=pool, availability=False)
    AvailabilityRule.objects.create(worker=y, weekday=4, start_minute=0, end_minute=1440)
    for offset in (0, 2, 4):
        past_shift(site, at(day + timedelta(days=offset), 8), 8)

    best = optimum_compute(run(pool, day))
    assert (best["bound"], best["places"], best["hours"]) == ("exact", 3, 24.0)

    Worker.objects.filter(pk=x.pk).update(weekly_hours_cap=8)
    best = optimum_compute(run(pool, day))
    assert (best["bound"], best["places"], best["hours"]) == ("exact", 2, 16.0)


def test_the_bound_respects_matchings_rest_hours_between_shifts(pool, site, day):
    """One worker, two shifts 10 hours apart (under 11 hours' rest): one place at most;
    12 hours apart: both."""
    f.WorkerFactory(pool=pool)
    past_shift(site, at(day, 6), 6)  # 06-12
    late = past_shift(site, at(day, 22), 8)  # 22-06, 10 h after the first ends
    assert optimum_compute(run(pool, day))["places"] == 1
    ShiftRequest.objects.filter(pk=late.pk).update(
        start=at(day, 23, 59) + timedelta(minutes=1), end=at(day + timedelta(days=1), 8)
    )
    assert optimum_compute(run(pool, day))["places"] == 2


def test_a_simulation_leaves_no_row_behind_and_sends_nothing(pool, day, trap):
    original = Booking.objects.create(
        shift=trap["a"], worker=trap["y"], start=trap["a"].start, end=trap["a"].end,
        booked_at=trap["a"].posted_at, status=Booking.Status.ATTENDED,
    )  # fmt: skip
    models = [ShiftRequest, Offer, Booking, MatchRun, Notification, Worker, LabRun]
    before = {m: m.objects.count() for m in models}
    pool_before = Pool.objects.values().get(pk=pool.pk)

    lab_simulate(
        pool=pool,
        start=day,
        end=day + timedelta(days=6),
        policy={"first_wave_size": 1},
        add_workers=workers_parse(["3 care-worker BL9"]),
        model=EVERYONE_SAYS_YES,
    )

    assert {m: m.objects.count() for m in models} == before
    assert Pool.objects.values().get(pk=pool.pk) == pool_before
    original.refresh_from_db()
    assert original.status == Booking.Status.ATTENDED


def test_the_replay_sets_aside_the_ranges_own_bookings(pool, day, trap):
    """Y really worked shift A; the replay starts from an empty range, so X (first in the
    ranking) books A again in the simulation."""
    Booking.objects.create(
        shift=trap["a"], worker=trap["y"], start=trap["a"].start, end=trap["a"].end,
        booked_at=trap["a"].posted_at, status=Booking.Status.ATTENDED,
    )  # fmt: skip
    result = run(pool, day)
    assert [(b.shift_key, b.worker_id) for b in result.bookings] == [
        (f"s{trap['a'].pk}", trap["x"].pk)
    ]


def test_the_same_seed_gives_the_same_figures_and_another_seed_may_not(pool, site, day):
    for i in range(6):
        f.WorkerFactory(pool=pool, latitude=f.BURY[0] + 0.004 * i)
    for hour in (6, 7, 8, 9, 10, 11, 12, 13):
        past_shift(site, at(day, hour), 4, headcount=2)
    coin = ResponseModel.fixed(p=0.4, delay_minutes=7)

    def figs(seed):
        out = figures(run(pool, day, model=coin, seed=seed, eligibility=False))
        out.pop("sim_seconds")
        return out

    first = figs(1)
    assert figs(1) == first
    assert any(figs(seed) != first for seed in (2, 3, 4))


def test_a_rule_added_to_matching_changes_the_simulation(pool, day, trap, monkeypatch):
    """The simulator books through matching's own rule code: a new per-worker rule that
    turns X away (one more Rule in matching's ELIGIBILITY) changes who books A."""
    assert [b.worker_id for b in run(pool, day).bookings] == [trap["x"].pk]
    not_x = Rule(
        "not_x",
        "is X",
        "you are X",
        passes=lambda ctx, facts: facts.worker_id != trap["x"].pk,
    )
    monkeypatch.setattr(rules, "ELIGIBILITY", (*rules.ELIGIBILITY, not_x))
    result = run(pool, day)
    assert [b.worker_id for b in result.bookings] == [trap["y"].pk]
    assert optimum_compute(result)["places"] == 1  # the bound sees the rule too


def test_the_simulation_applies_the_pools_own_data_rules(pool, day, trap):
    """A provider's block, as matching applies it, is what the simulation applies."""
    ProviderBlock.objects.create(provider=trap["a"].provider, worker=trap["x"])
    result = run(pool, day)
    assert [b.worker_id for b in result.bookings] == [trap["y"].pk]


def test_added_workers_are_offered_shifts_they_suit(pool, site, day):
    past_shift(site, at(day, 8), 8, role=Role.objects.get(slug="senior-carer"))
    assert run(pool, day).bookings == []
    result = run(pool, day, add_workers=workers_parse(["2 senior-carer medication BL9"]))
    assert len(result.bookings) == 1


def test_the_cascade_offers_one_worker_at_a_time_and_broadcast_everyone(pool, day, trap):
    from lab.simulator import BROADCAST, CASCADE

    cascade = run(pool, day, policy=CASCADE, advance_on_answer=True, eligibility=False)
    broadcast = run(pool, day, policy=BROADCAST, eligibility=False)
    a_key = f"s{trap['a'].pk}"
    assert [w for k, w, _t in cascade.offers if k == a_key] == [trap["x"].pk]
    assert sorted(w for k, w, _t in broadcast.offers if k == a_key) == sorted(
        [trap["x"].pk, trap["y"].pk]
    )


def test_the_command_prints_one_json_object_and_stores_the_run(pool, day, trap):
    out = StringIO()
    call_command(
        "simulate", "--pool", pool.slug, "--from", day.isoformat(),
        "--to", (day + timedelta(days=6)).isoformat(), "--seed", "7",
        "--set", "wave_size=5", "--add-workers", "1 care-worker BL9", "--json", stdout=out,
    )  # fmt: skip
    data = json.loads(out.getvalue())
    for key in (
        "fill_rate_hours", "optimum_fill_rate_hours", "ratio_to_optimum", "bound",
        "offers_per_filled_place", "median_time_to_fill_minutes", "agency_spend_avoided",
        "baselines", "seconds",
    ):  # fmt: skip
        assert key in data
    assert set(data["baselines"]) == {"broadcast", "cascade"}
    assert data["policy"]["first_wave_size"] == 5
    run_ = LabRun.objects.get(pk=data["run_id"])
    assert run_.seed == 7 and run_.inputs["set"] == ["wave_size=5"]
    assert run_.outputs["fill_rate_hours"] == data["fill_rate_hours"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "wave_size=0"], "between"),
        (["--set", "colour=blue"], "Unknown policy"),
        (["--add-workers", "ten carers BL9"], "count"),
        (["--add-workers", "2 astronaut BL9"], "unknown role"),
        (["--add-workers", "2 care-worker ZZ1"], "Unknown postcode district"),
    ],
)
def test_the_command_refuses_bad_input_in_words(pool, day, trap, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "simulate", "--pool", pool.slug, "--from", day.isoformat(),
            "--to", day.isoformat(), "--no-store", *args, stdout=StringIO(),
        )  # fmt: skip


def test_it_refuses_a_range_that_reaches_today(pool):
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    with pytest.raises(CommandError, match="before today"):
        call_command(
            "simulate", "--pool", pool.slug, "--from", today, "--to", today, stdout=StringIO()
        )


def test_policy_names_are_checked():
    assert policy_parse(["wave_size=3", "offer_ttl_minutes=30"]) == {
        "first_wave_size": 3,
        "offer_ttl_minutes": 30,
    }


def test_a_synthetic_day_is_made_of_the_pools_own_kinds_of_request(pool, site, day):
    from lab.simulator import demand_synthetic

    for offset in range(1, 6):
        past_shift(site, at(day - timedelta(days=offset), 7), 12, headcount=2)
    target = day + timedelta(days=1)
    demand = demand_synthetic(pool=pool, day=target, volume=20, urgent_share=0.5, seed=4)
    assert demand == demand_synthetic(pool=pool, day=target, volume=20, urgent_share=0.5, seed=4)
    assert len(demand) == 20
    assert {(d.start, d.hours, d.headcount, d.site_id) for d in demand} == {
        (at(target, 7), 12.0, 2, site.pk)
    }
    urgent = [d for d in demand if d.start - d.posted_at <= timedelta(hours=6)]
    assert 5 <= len(urgent) <= 15
    result = simulate_run(
        scenario=Scenario(pool=pool, start=target, end=target, demand=demand),
        model=EVERYONE_SAYS_YES,
    )
    assert len(result.demand) == 20
