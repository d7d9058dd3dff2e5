"""The simulator's two engines agree: matching over facts held in memory books, offers and
escalates exactly as the replay through the offer services and the database does, on a
small demo borough (documents expiring, exceptions, favourites, blocks, opt-outs, bookings
either side of the range); and the facts book builds the facts ``worker_facts`` loads."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lab.response import response_model_fit
from lab.simulator import Scenario, simulate_run
from pools.models import Pool
from shifts.matching import FactsBook, Rule, ShiftMatching, rules
from shifts.matching.memory import PrefilterAnswers
from shifts.matching.rules import LONDON, _context, _prefiltered_rows, worker_facts
from shifts.models import Booking, Offer, ShiftRequest
from workers.models import Worker

pytestmark = pytest.mark.postgres


@pytest.fixture
def demo(reference):
    call_command(
        "seed_demo",
        providers=8,
        workers=60,
        days=28,
        history_shifts=260,
        future_days=2,
        verbosity=0,
    )
    return Pool.objects.get(slug="bury")


def replay(pool, engine, prefilter=None, **policy):
    today = timezone.localdate()
    scenario = Scenario(
        pool=pool, start=today - timedelta(days=21), end=today - timedelta(days=1), seed=3,
        policy=policy,
    )  # fmt: skip
    result = simulate_run(
        scenario=scenario,
        model=response_model_fit(pool=pool),
        with_eligibility=True,
        engine=engine,
        prefilter=prefilter,
    )
    return {
        "bookings": [(b.shift_key, b.worker_id, b.at) for b in result.bookings],
        "offers": result.offers,
        "escalations": result.escalations,
        "eligible": result.eligible,
    }


@pytest.mark.parametrize("policy", [{}, {"first_wave_size": 2, "offer_ttl_minutes": 30}])
def test_the_memory_engine_replays_exactly_what_the_services_engine_does(demo, policy):
    services = replay(demo, "services", **policy)
    memory = replay(demo, "memory", **policy)
    assert len(services["bookings"]) > 20  # a real replay, not an empty one
    assert memory == services


def comparable(facts):
    """The facts with their lists in one order and hour sums to the microsecond."""
    out = asdict(facts)
    out["bookings"] = sorted(out["bookings"])
    out["availability"] = sorted(out["availability"])
    out["exceptions"] = sorted(out["exceptions"])
    out["weekly_totals"] = {k: round(v, 6) for k, v in out["weekly_totals"].items()}
    return out


def test_the_facts_book_builds_the_facts_worker_facts_loads(demo):
    """For every shift of the demo and every worker the prefilter lets through, with a
    booking added by the caller counted as the database would count it."""
    shifts = list(
        ShiftRequest.objects.filter(pool=demo).select_related("pool", "site", "role")[:60]
    )
    lo = min(s.start for s in shifts)
    hi = max(s.end for s in shifts)
    with transaction.atomic():
        everyone = Worker.objects.values_list("pk", flat=True)
        book = FactsBook(pool=demo, worker_ids=everyone, lo=lo, hi=hi)
        late = shifts[-1]
        someone = _prefiltered_rows(_context(late, late.posted_at))[0][0]
        Booking.objects.create(
            shift=late, worker_id=someone, start=late.start, end=late.end, booked_at=lo
        )
        book.booked(worker_id=someone, shift_id=late.pk, start=late.start, end=late.end)
        compared = 0
        for shift in shifts:
            ctx = _context(shift, shift.posted_at)
            rows = [(r[0], r[3], r[4]) for r in _prefiltered_rows(ctx)]
            expected = worker_facts(ctx, rows)
            got = book.facts(ctx, rows)
            for e, g in zip(expected, got, strict=True):
                assert comparable(g) == comparable(e), (shift.pk, e.worker_id)
                compared += 1
        transaction.set_rollback(True)
    assert compared > 200


def test_a_shift_matched_in_memory_never_offers_a_worker_twice(demo):
    shift = (
        ShiftRequest.objects.filter(pool=demo, status=ShiftRequest.Status.OPEN)
        .select_related("pool", "site", "role")
        .first()
    )
    book = FactsBook(pool=demo, worker_ids=[], lo=shift.start, hi=shift.end)
    matching = ShiftMatching(
        shift=shift, book=book, skill_ids=list(shift.skills.values_list("pk", flat=True))
    )
    now = timezone.now()
    seen: list[int] = []
    while (wave := matching.wave(now, force=True)) is not None and wave.picked:
        seen += [c.worker_id for c in wave.picked]
        now += timedelta(minutes=1)
    assert len(seen) == len(set(seen))


def weekdays_only(ctx):
    """A rule that reads something no other SQL rule reads (the shift's start)."""
    return Q() if ctx.shift.start.astimezone(LONDON).weekday() < 5 else Q(pk__lt=0)


@pytest.mark.parametrize("extra_rule", [False, True])
def test_the_books_prefilter_answers_as_the_prefilter_does_asking_once_per_question(
    demo, monkeypatch, extra_rule
):
    """Shifts asking the same question (same site, role, skills...) share one answer; a
    rule added to matching that reads more of the shift is part of the question at once."""
    if extra_rule:
        rule = Rule("weekdays", "weekends off", "weekends off", where=weekdays_only)
        monkeypatch.setattr(rules, "ELIGIBILITY", (*rules.ELIGIBILITY, rule))
    # As the lab's copies of shifts: no offers in the database.
    Offer.objects.all().delete()
    shifts = list(ShiftRequest.objects.filter(pool=demo).select_related("pool", "site", "role"))
    book = FactsBook(pool=demo, worker_ids=[], lo=shifts[0].start, hi=shifts[0].end)
    for shift in shifts:
        skills = list(shift.skills.values_list("pk", flat=True))
        ctx = _context(shift, shift.posted_at, skill_ids=skills)
        assert book.prefiltered(ctx) == _prefiltered_rows(ctx), shift.pk
    read = {path for paths in book.prefilter.by_paths for path in paths}
    assert (("shift", "start") in read) == extra_rule
    if not extra_rule:  # (with it, every start is another question)
        assert book.prefilter.queries < len(shifts) * 0.8


def test_runs_sharing_the_prefilters_answers_replay_as_runs_on_their_own_do(demo):
    shared = PrefilterAnswers()
    policies = [{}, {"first_wave_size": 2}]
    together = [replay(demo, "memory", prefilter=shared, **p) for p in policies]
    queries = shared.queries
    assert together == [replay(demo, "memory", **p) for p in policies]
    replay(demo, "memory", prefilter=shared)
    assert shared.queries == queries > 0  # the third run asked nothing


def test_answers_dropped_to_stay_within_their_budget_are_asked_again_with_the_same_replay(
    demo,
):
    # A budget of one row keeps one answer at a time: every question asked again is a query.
    kept_whole, one_at_a_time = PrefilterAnswers(), PrefilterAnswers(max_rows=1)
    assert replay(demo, "memory", prefilter=kept_whole) == replay(
        demo, "memory", prefilter=one_at_a_time
    )
    assert one_at_a_time.queries > kept_whole.queries
    assert sum(len(answers) for answers in one_at_a_time.by_paths.values()) == 1


def test_a_kept_answer_whose_workers_own_columns_changed_comes_back_as_it_was_given():
    """Answers keep a worker's own columns once; an answer that disagrees (another database
    behind the same answers) is kept whole rather than rewritten."""
    answers = PrefilterAnswers()
    first = [(1, 10, 2.5, 40, None, False), (2, 20, 3.0, None, None, True)]
    other = [(2, 20, 1.0, 30, None, False), (1, 10, 4.0, 40, None, True)]
    answers.put((("site", "pk"),), (1,), first)
    answers.put((("site", "pk"),), (2,), other)
    kept = answers.by_paths[(("site", "pk"),)]
    assert kept[(1,)].rows is None and kept[(2,)].rows == other
    assert answers._rows(kept[(1,)]) == first
    assert answers._rows(kept[(2,)]) == other
