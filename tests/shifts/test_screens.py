"""The screens (each per-worker rule written as SQL on the worker's row, judged in the
prefilter's scan of an urgent evaluation) hold to the rules they stand for, on workers
drawn at random: a screen that says TRUE or FALSE says what the rule's check says on the
worker's facts, and an urgent evaluation with screens offers, ranks, explains and excludes
exactly as the facts alone do. A control shows that a screen that lies is caught."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from pools.models import DocumentType
from shifts.matching import rules as matching_rules
from shifts.matching.ranking import Evaluation, _examine, evaluate_rows, evaluate_screened
from shifts.matching.rules import (
    Screen,
    _Context,
    _context,
    _ids_literal,
    _joined_after,
    _prefiltered_rows,
    _rows,
    screened_rules,
    weekly_totals_sql,
    worker_facts,
)
from shifts.models import Booking, ShiftRequest
from tests import factories as f
from workers.models import AvailabilityException, AvailabilityRule, Document, Worker

pytestmark = pytest.mark.postgres

LONDON = ZoneInfo("Europe/London")
WORKERS = 45


@pytest.fixture
def reference(db):
    """The standard document types with ids from 1, as a live database has them (a test
    database's sequence runs on past rolled-back rows, beyond the 63 types a screen masks)."""
    from geo.reference import district_centroids_ensure
    from pools.reference import reference_data_ensure

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval('pools_documenttype_id_seq', "
            "COALESCE((SELECT max(id) FROM pools_documenttype), 0) + 1, false)"
        )
    reference_data_ensure()
    district_centroids_ensure()
    assert max(DocumentType.objects.values_list("pk", flat=True)) <= 63


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def random_documents(rng: random.Random, worker: Worker, first_day: date) -> None:
    """Per type: none, valid, expired, expiring on or just after the shift's last day,
    issued on or after its first day, pending or rejected, or two approved at once (an old
    one and its renewal, either of which may be the valid one)."""
    approved = Document.Status.APPROVED
    rows = []
    types = list(DocumentType.objects.all())
    # Most workers keep their papers in order; the rest have trouble with one or two types.
    trouble = set(rng.sample(types, rng.choice([0, 0, 1, 2])))
    for doc_type in types:
        kind = "valid"
        if doc_type in trouble:
            kind = rng.choice(["none", "expired", "edge", "late", "pending", "rejected", "two"])
        elif rng.random() < 0.01:
            kind = "two"
        day = first_day
        if kind == "valid":
            expires = None if rng.random() < 0.3 else day + timedelta(days=400)
            rows.append((doc_type, approved, day - timedelta(days=90), expires))
        elif kind == "expired":
            rows.append((doc_type, approved, day - timedelta(days=900), day - timedelta(days=3)))
        elif kind == "edge":
            expires = day + timedelta(days=rng.randint(0, 2))
            rows.append((doc_type, approved, day - timedelta(days=30), expires))
        elif kind == "late":
            rows.append((doc_type, approved, day + timedelta(days=rng.randint(0, 2)), None))
        elif kind in ("pending", "rejected"):
            status = Document.Status.PENDING if kind == "pending" else Document.Status.REJECTED
            rows.append((doc_type, status, day - timedelta(days=10), None))
        elif kind == "two":
            rows.append((doc_type, approved, day - timedelta(days=700), day + timedelta(days=1)))
            issued = day + timedelta(days=rng.randint(-1, 1))
            rows.append((doc_type, approved, issued, day + timedelta(days=900)))
    Document.objects.bulk_create(
        Document(worker=worker, doc_type=t, status=s, issued_on=i, expires_on=e)
        for t, s, i, e in rows
    )


def random_week(rng: random.Random, worker: Worker) -> None:
    """A weekly pattern: each day nothing, all day, a working day, two stretches that touch
    or overlap (together the whole day), or a morning only."""
    rows = []
    for weekday in range(7):
        kind = rng.choice(["all", "all", "day", "split", "overlap", "morning", "none"])
        spans = {
            "all": [(0, 1440)],
            "day": [(420, 1320)],
            "split": [(0, 600), (600, 1440)],
            "overlap": [(0, 700), (600, 1440)],
            "morning": [(360, 720)],
            "none": [],
        }[kind]
        rows += [
            AvailabilityRule(worker=worker, weekday=weekday, start_minute=a, end_minute=b)
            for a, b in spans
        ]
    AvailabilityRule.objects.bulk_create(rows)


def random_exceptions(rng: random.Random, worker: Worker, first_day: date) -> None:
    if rng.random() < 0.2:
        available = rng.random() < 0.5
        start, end = rng.choice([(0, 1440), (600, 900), (0, 600)])
        AvailabilityException.objects.create(
            worker=worker,
            day=first_day + timedelta(days=rng.randint(0, 1)),
            available=available,
            start_minute=start,
            end_minute=end,
        )


def random_bookings(rng: random.Random, worker: Worker, site, shift: ShiftRequest) -> None:
    """Nothing, or one booking: overlapping the shift, just before it (short rest), or
    elsewhere in its week (hours against the cap)."""
    kind = rng.choice(["none", "none", "none", "overlap", "before", "week", "long week"])
    if kind == "none":
        return
    if kind == "overlap":
        start = shift.start + timedelta(hours=2)
        end = start + timedelta(hours=6)
    elif kind == "before":
        end = shift.start - timedelta(hours=rng.choice([3, 12]))
        start = end - timedelta(hours=6)
    else:
        start = shift.start + timedelta(days=rng.choice([-2, 2]))
        end = start + timedelta(hours=12 if kind == "long week" else 4)
    other = f.ShiftFactory(site=site, start=start, end=end)
    Booking.objects.create(
        shift=other, worker=worker, start=start, end=end, booked_at=timezone.now()
    )


def random_history(rng: random.Random, worker: Worker, site, shift: ShiftRequest) -> None:
    """Now and then, long weeks well before the shift's (none near it): the 48-hour average
    is theirs to keep, and only their weeks one by one can say whether they do."""
    if rng.random() >= 0.2:
        return
    hours = rng.choice([40, 50, 55, 60])
    monday = shift.start.astimezone(LONDON).date()
    monday -= timedelta(days=monday.weekday())
    for back in range(2, 18):
        start = local(monday - timedelta(weeks=back), 6)
        end = start + timedelta(hours=hours)
        Booking.objects.create(
            shift=f.ShiftFactory(site=site, start=start, end=end),
            worker=worker,
            start=start,
            end=end,
            booked_at=timezone.now(),
        )


def random_workers(rng: random.Random, pool, site, shift: ShiftRequest) -> list[Worker]:
    first_day = shift.start.astimezone(LONDON).date()
    workers = []
    for _ in range(WORKERS):
        worker = f.WorkerFactory(
            pool=pool,
            documents=False,
            availability=False,
            latitude=site.latitude + rng.uniform(-0.05, 0.05),
            weekly_hours_cap=rng.choice([None, None, 6, 10, 48]),
            ready_now_until=rng.choice(
                [
                    None,
                    None,
                    timezone.now() + timedelta(hours=30),
                    timezone.now() + timedelta(hours=1),
                ]
            ),
            # Joined this week, around the start of the 17-week reference period, or long
            # ago; now and then opted out of the 48-hour average.
            approved_at=timezone.now() - timedelta(weeks=rng.choice([0, 0, 15, 16, 17, 18, 60])),
            opt_out_signed_on=rng.choice([None] * 5 + [first_day - timedelta(days=200)]),
        )
        random_documents(rng, worker, first_day)
        random_week(rng, worker)
        random_exceptions(rng, worker, first_day)
        random_bookings(rng, worker, site, shift)
        random_history(rng, worker, site, shift)
        workers.append(worker)
    return workers


def random_shift(rng: random.Random, site) -> ShiftRequest:
    """A day shift, an overnight one or an evening one, some days ahead, urgent or not."""
    day = timezone.localdate() + timedelta(days=rng.randint(1, 9))
    start_hour, hours = rng.choice([(8, 8), (20, 12), (14, 9), (6, 6)])
    start = local(day, start_hour)
    return f.ShiftFactory(
        site=site, start=start, end=start + timedelta(hours=hours), is_critical=rng.random() < 0.4
    )


def screen_says(ctx: _Context, screen: Screen, ids: list[int]) -> dict[int, bool | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "workers_worker"."id", ({screen.sql}) FROM "workers_worker" '
            'WHERE "workers_worker"."id" = ANY(%s)',
            (*screen.params, ids),
        )
        return dict(cursor.fetchall())


def facts_only(ctx: _Context) -> Evaluation:
    """The urgent evaluation as it was before screens: every rule judged on facts."""
    return evaluate_rows(ctx, _prefiltered_rows(ctx), None, _examine)


def same(a: Evaluation, b: Evaluation) -> bool:
    def seen(e: Evaluation):
        return [(c.worker_id, c.distance_km, c.reliability, c.reasons) for c in e.candidates]

    return seen(a) == seen(b) and a.excluded == b.excluded


def wrong_screens(ctx: _Context, workers: list[Worker]) -> list[str]:
    """Every (rule, worker) where a screen says TRUE or FALSE and the rule's check on the
    worker's facts says otherwise."""
    rules = screened_rules()
    assert rules
    ids = [w.pk for w in workers]
    facts = {
        fact.worker_id: fact
        for fact in worker_facts(
            ctx, [(w.pk, w.weekly_hours_cap, w.ready_now_until) for w in workers]
        )
    }
    wrong = []
    for rule in rules:
        assert rule.screen is not None and rule.passes is not None
        for wid, said in screen_says(ctx, rule.screen(ctx), ids).items():
            if said is not None and said != rule.passes(ctx, facts[wid]):
                wrong.append(f"{rule.name}: worker {wid} screened {said}")
    return wrong


@pytest.mark.parametrize("seed", range(6))
def test_every_screen_says_what_its_rule_says_or_leaves_it_to_the_facts(seed, pool, site):
    rng = random.Random(seed)
    shift = random_shift(rng, site)
    workers = random_workers(rng, pool, site, shift)
    outsider = f.WorkerFactory(pool=f.PoolFactory(name="Rochdale", slug="rochdale"))
    ctx = _context(
        ShiftRequest.objects.select_related("site", "pool").get(pk=shift.pk), timezone.now()
    )

    assert wrong_screens(ctx, workers + [outsider]) == []
    # Most workers are decided by the screens; some are left to the facts.
    rules = screened_rules()
    assert rules is not None and rules[0].screen is not None
    said = screen_says(ctx, rules[0].screen(ctx), [w.pk for w in workers])
    assert sum(v is not None for v in said.values()) > len(workers) // 2


@pytest.mark.parametrize("seed", range(6, 12))
def test_an_urgent_evaluation_with_screens_is_the_evaluation_on_facts(seed, pool, site):
    rng = random.Random(seed)
    shift = random_shift(rng, site)
    random_workers(rng, pool, site, shift)
    f.WorkerFactory(pool=f.PoolFactory(name="Rochdale", slug="rochdale"))  # the outsider
    ctx = _context(
        ShiftRequest.objects.select_related("site", "pool").get(pk=shift.pk), timezone.now()
    )
    rules = screened_rules()
    assert rules is not None

    screened, on_facts = evaluate_screened(ctx, rules), facts_only(ctx)

    assert same(screened, on_facts)
    assert screened.candidates and len(screened.excluded) >= 3


@pytest.mark.parametrize("seed", range(3))
def test_the_weeks_read_for_the_joiners_the_scan_found_are_the_weeks_read_for_everyone(
    seed, pool, site
):
    rng = random.Random(seed)
    shift = random_shift(rng, site)
    workers = random_workers(rng, pool, site, shift)
    outsider = f.WorkerFactory(pool=pool, approved_at=timezone.now())  # a joiner not asked
    Booking.objects.create(
        shift=f.ShiftFactory(site=site, start=shift.start - timedelta(days=1)),
        worker=outsider,
        start=shift.start - timedelta(days=1),
        end=shift.start - timedelta(days=1) + timedelta(hours=8),
        booked_at=timezone.now(),
    )
    ctx = _context(
        ShiftRequest.objects.select_related("site", "pool").get(pk=shift.pk), timezone.now()
    )
    asked = _ids_literal([w.pk for w in workers])
    joiners = [w.pk for w in workers if w.approved_at > _joined_after(ctx)]

    def weeks(joined: str | None) -> list[tuple]:
        return sorted(_rows(weekly_totals_sql(ctx, asked, joined)))

    everyone = weeks(None)
    assert everyone and weeks(_ids_literal(joiners)) == everyone
    assert outsider.pk not in {row[0] for row in everyone}
    # The control: told of no joiners, their weeks are not read.
    assert weeks(_ids_literal([])) != everyone


def test_a_screen_that_lies_is_caught(pool, site, monkeypatch):
    """The control: a documents screen that lets everyone through."""
    rng = random.Random(3)
    shift = random_shift(rng, site)
    workers = random_workers(rng, pool, site, shift)
    ctx = _context(
        ShiftRequest.objects.select_related("site", "pool").get(pk=shift.pk), timezone.now()
    )
    liar = replace(matching_rules.RULE_BY_NAME["documents"], screen=lambda ctx: Screen("TRUE"))
    eligibility = tuple(
        liar if rule.name == "documents" else rule for rule in matching_rules.ELIGIBILITY
    )
    monkeypatch.setattr(matching_rules, "ELIGIBILITY", eligibility)

    assert any(w.startswith("documents:") for w in wrong_screens(ctx, workers))
    rules = screened_rules()
    assert rules is not None
    assert not same(evaluate_screened(ctx, rules), facts_only(ctx))


def test_a_rule_added_without_a_screen_sends_the_evaluation_back_to_the_facts(monkeypatch):
    extra = matching_rules.Rule(
        "tall_enough", "too short", "you are too short", passes=lambda ctx, facts: True
    )
    monkeypatch.setattr(matching_rules, "ELIGIBILITY", (*matching_rules.ELIGIBILITY, extra))
    assert screened_rules() is not None  # after the working-time rule: still judged on facts
    first = matching_rules.ELIGIBILITY[:1]
    monkeypatch.setattr(
        matching_rules, "ELIGIBILITY", (*first, extra, *matching_rules.ELIGIBILITY[1:])
    )
    assert screened_rules() is None
