"""The simulator: a range of demand replayed through the real matching code.

Where it runs: inside one database transaction that is always rolled back. We chose that
over copies in a scratch schema because the code under test then runs unchanged against
the real tables, constraints and indexes (the overbooking check, the overlap exclusion
constraint, the unique offer per worker), with nothing to keep in step when other
engineers add columns or rules; PostgreSQL's MVCC keeps every simulated row invisible to
everyone else, and the after-commit work (message delivery, Celery tasks) is registered
with ``transaction.on_commit`` and so is dropped with the rollback: no message is ever sent.
The cost is row locks for the length of a run on the few live rows the simulation writes:
the pool row (when a policy is changed) and the bookings of the replayed shifts (set aside
so the replay starts from an empty range). Ranges must end before today, so the closing
sweep (``shifts_close_past``) run at simulated times never reaches a live open shift; the
escalation sweep can, if a live open shift starts within the pool's escalation window of the
last simulated moment (at most 168 hours): it is then row-locked, never changed, until the
run rolls back.

The simulated clock: the public matching functions take ``now``; the two offer services
(``offer_accept``, ``offer_decline``) read ``django.utils.timezone.now``, which the
simulator points at its clock while it runs (``SimClock``).

One run, step by step:
1. Set the policy changes on the pool, add the hypothetical workers, set aside the
   bookings of the shifts being replayed, and post a copy of every shift request in the
   range (same site, role, skills, times, headcount, posting time).
2. Events in time order (ties in posting order): a posting runs the first wave
   (``shift_match_wave``); each offer made is answered as the response model says for that
   (shift, worker) pair (``offer_accept`` / ``offer_decline`` at the drawn delay, or left to
   lapse); the next wave runs when matching stored it (``next_wave_at``). A wave that found
   nobody left to offer is not repeated every interval: eligibility only shrinks as time
   passes except when the shift becomes urgent (ready-now workers), so the next wave is run
   at that moment. Escalation (``shifts_escalate``) and closing (``shifts_close_past``) run at
   the times beat would run them for each shift.
3. The figures are read, and the transaction is rolled back.
"""

from __future__ import annotations

import gc
import heapq
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from lab.response import (
    Answer,
    ResponseModel,
    hours_in_week,
    iso_week_start,
    offer_features,
    pair_uniforms,
)
from pools.models import DocumentType, Pool, Role, RoleRate, Skill
from providers.models import Favourite
from shifts.exceptions import OfferUnavailable
from shifts.matching import (
    FactsBook,
    ShiftMatching,
    Wave,
    is_urgent,
    shift_eligible_workers,
    shift_match_wave,
    shifts_close_past,
    shifts_escalate,
)
from shifts.matching.memory import PrefilterAhead, PrefilterAnswers
from shifts.models import Booking, MatchRun, Offer, ShiftRequest
from shifts.services.offers import offer_accept, offer_decline, offers_expire
from workers.models import AvailabilityRule, Document, Worker

LONDON = ZoneInfo("Europe/London")

# The pool policy fields a what-if may change (the same names as on Pool).
POLICY_FIELDS = {
    "first_wave_size": int,
    "wave_growth": int,
    "wave_interval_minutes": int,
    "offer_ttl_minutes": int,
    "urgent_within_hours": int,
    "default_radius_km": Decimal,
    "rest_hours": int,
    "escalate_within_hours": int,
    "critical_escalate_within_hours": int,
    "default_weekly_hours_cap": int,
}
POLICY_LIMITS = {
    "first_wave_size": (1, 32767),
    "wave_growth": (1, 10),
    "wave_interval_minutes": (1, 1440),
    "offer_ttl_minutes": (1, 10080),
    "urgent_within_hours": (0, 72),
    "default_radius_km": (0.5, 200),
    "rest_hours": (11, 24),
    "escalate_within_hours": (0, 168),
    "critical_escalate_within_hours": (0, 168),
    "default_weekly_hours_cap": (1, 100),
}
BROADCAST = {"first_wave_size": 32767}
CASCADE = {"first_wave_size": 1, "wave_growth": 1, "urgent_within_hours": 0}


class ScenarioError(ValueError):
    """The scenario asks for something that cannot be simulated; the message says what."""


@dataclass(frozen=True)
class WorkerBatch:
    """``count`` hypothetical workers holding ``role`` (and ``skills``) living in ``district``."""

    count: int
    role: str
    skills: tuple[str, ...]
    district: str

    def label(self) -> str:
        skills = " ".join(self.skills)
        return f"{self.count} {self.role}{' ' + skills if skills else ''} {self.district}"


@dataclass(frozen=True)
class Demand:
    key: str
    provider_id: int
    site_id: int
    role_id: int
    skill_ids: tuple[int, ...]
    start: datetime
    end: datetime
    headcount: int
    agency_hourly_rate: Decimal
    posted_at: datetime
    is_critical: bool = False
    direct_worker_id: int | None = None
    radius_bonus_km: Decimal = Decimal("0")
    original_id: int | None = None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass
class Scenario:
    pool: Pool
    start: date
    end: date  # inclusive
    seed: int = 0
    policy: dict[str, Any] = field(default_factory=dict)
    add_workers: list[WorkerBatch] = field(default_factory=list)
    advance_on_answer: bool = False  # the strict cascade: next offer as soon as one is answered
    demand: list[Demand] | None = None  # None: the pool's own shift requests in the range


@dataclass
class PlacedBooking:
    shift_key: str
    worker_id: int
    at: datetime


@dataclass
class RunResult:
    """What one simulated run produced; the figures come from ``figures``."""

    demand: list[Demand]
    bookings: list[PlacedBooking]
    offers: list[tuple[str, int, datetime]]  # shift key, worker id, sent at
    escalations: int
    active_workers: list[int]
    rates: dict[int, tuple[Decimal, Decimal]]  # role -> (agency benchmark, pool cost)
    eligible: dict[str, list[dict[str, Any]]] | None = None  # shift key -> candidates
    worker_facts: dict[int, dict[str, Any]] = field(default_factory=dict)
    rest_hours: int = 11
    week_hours: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    answers: dict[tuple[str, int], Answer] = field(default_factory=dict)
    seconds: float = 0.0


class SimClock:
    """``django.utils.timezone.now`` answers the simulated time while this is active."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    @contextmanager
    def active(self) -> Iterator[SimClock]:
        with mock.patch.object(timezone, "now", self.now):
            yield self


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


def demand_from_history(*, pool: Pool, start: date, end: date) -> list[Demand]:
    """The pool's own shift requests starting (UK time) from ``start`` to ``end`` inclusive,
    as they were posted; cancelled requests are left out."""
    lo, hi = _local_midnight(start), _local_midnight(end + timedelta(days=1))
    shifts = list(
        ShiftRequest.objects.filter(pool=pool, start__gte=lo, start__lt=hi)
        .exclude(status=ShiftRequest.Status.CANCELLED)
        .order_by("posted_at", "pk")
    )
    skills: dict[int, list[int]] = defaultdict(list)
    for shift_id, skill_id in ShiftRequest.skills.through.objects.filter(
        shiftrequest_id__in=[s.pk for s in shifts]
    ).values_list("shiftrequest_id", "skill_id"):
        skills[shift_id].append(skill_id)
    return [
        Demand(
            key=f"s{s.pk}",
            provider_id=s.provider_id,
            site_id=s.site_id,
            role_id=s.role_id,
            skill_ids=tuple(sorted(skills.get(s.pk, []))),
            start=s.start,
            end=s.end,
            headcount=s.headcount,
            agency_hourly_rate=s.agency_hourly_rate,
            posted_at=min(s.posted_at, s.start - timedelta(minutes=1)),
            is_critical=s.is_critical,
            direct_worker_id=s.direct_worker_id,
            radius_bonus_km=s.radius_bonus_km,
            original_id=s.pk,
        )
        for s in shifts
    ]


def demand_synthetic(
    *, pool: Pool, day: date, volume: int, urgent_share: float, seed: int
) -> list[Demand]:
    """A synthetic day: ``volume`` requests like the pool's own of the last 90 days (sites,
    roles, skills, times of day, lengths, headcounts, rates), re-dated to ``day``; a share
    ``urgent_share`` is posted 1-6 hours ahead, the rest 6-72 hours ahead."""
    import random

    rng = random.Random(seed)
    lo = _local_midnight(day) - timedelta(days=90)
    source = demand_from_history(pool=pool, start=lo.date(), end=day - timedelta(days=1))
    if not source:
        raise ScenarioError("The pool has no shift requests in the 90 days before that day.")
    demand = []
    for i in range(volume):
        model = source[rng.randrange(len(source))]
        local = model.start.astimezone(LONDON)
        start = datetime(day.year, day.month, day.day, local.hour, local.minute, tzinfo=LONDON)
        end = (start + (model.end - model.start)).astimezone(LONDON)
        lead = rng.uniform(1, 6) if rng.random() < urgent_share else rng.uniform(6, 72)
        demand.append(
            Demand(
                key=f"syn{day.isoformat()}-{i}",
                provider_id=model.provider_id,
                site_id=model.site_id,
                role_id=model.role_id,
                skill_ids=model.skill_ids,
                start=start,
                end=end,
                headcount=model.headcount,
                agency_hourly_rate=model.agency_hourly_rate,
                posted_at=start - timedelta(hours=lead),
            )
        )
    demand.sort(key=lambda d: (d.posted_at, d.key))
    return demand


def policy_parse(pairs: list[str]) -> dict[str, Any]:
    """``["wave_size=10", "offer_ttl_minutes=30"]`` to checked policy values.
    ``wave_size`` is accepted for ``first_wave_size``."""
    policy: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if name == "wave_size":
            name = "first_wave_size"
        if name == "radius_km":
            name = "default_radius_km"
        if not sep or name not in POLICY_FIELDS:
            known = ", ".join(sorted(POLICY_FIELDS))
            raise ScenarioError(f"Unknown policy setting {pair!r}: use NAME=VALUE with {known}.")
        try:
            value = POLICY_FIELDS[name](raw.strip())
        except (ValueError, ArithmeticError) as exc:
            raise ScenarioError(f"{name} must be a number, not {raw!r}.") from exc
        low, high = POLICY_LIMITS[name]
        if not low <= float(value) <= high:
            raise ScenarioError(f"{name} must be between {low} and {high}.")
        policy[name] = value
    return policy


def workers_parse(texts: list[str]) -> list[WorkerBatch]:
    """``"10 senior-carer medication M26"``: a count, a role, any skills, a district."""
    roles = set(Role.objects.values_list("slug", flat=True))
    skills = set(Skill.objects.values_list("slug", flat=True))
    batches = []
    for text in texts:
        parts = text.split()
        if len(parts) < 3 or not parts[0].isdigit():
            raise ScenarioError(
                f"{text!r}: write a count, a role, any skills and a district, "
                "like '10 senior-carer medication M26'."
            )
        count, role, *middle, district = parts
        if not 1 <= int(count) <= 1000:
            raise ScenarioError(f"{text!r}: the count must be between 1 and 1000.")
        if role not in roles:
            raise ScenarioError(f"{text!r}: unknown role {role!r} ({', '.join(sorted(roles))}).")
        unknown = [s for s in middle if s not in skills]
        if unknown:
            raise ScenarioError(f"{text!r}: unknown skill {unknown[0]!r}.")
        batches.append(WorkerBatch(int(count), role, tuple(sorted(middle)), district.upper()))
    return batches


# --- the run ------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


# Allocations between two collections of the youngest generation while a run replays.
RUN_GC_THRESHOLD = 50_000
RUN_SWITCH_INTERVAL = 0.0005


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect cyclic garbage less often while a run replays, and never look again at the
    objects alive when it starts. A run allocates millions of short-lived objects (facts,
    rows, candidates) next to millions it keeps (the prefilter's rows, the facts book), and
    at Python's default of a collection every 700 allocations the collector's passes over
    those were a third of building the facts (one day at 20,000 workers). Nothing a run
    computes depends on when garbage is collected."""
    threshold = gc.get_threshold()
    interval = sys.getswitchinterval()
    gc.freeze()
    gc.set_threshold(RUN_GC_THRESHOLD, threshold[1], threshold[2])
    # The thread asking the prefilter ahead (``PrefilterAhead``) needs the interpreter for a
    # moment each time an answer comes back; at the default 5 ms the replay kept it waiting.
    sys.setswitchinterval(RUN_SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.unfreeze()


def simulate_run(
    *,
    scenario: Scenario,
    model: ResponseModel,
    with_eligibility: bool = False,
    progress: Callable[[float], None] | None = None,
    engine: str = "memory",
    prefilter: PrefilterAnswers | None = None,
    ask_ahead: bool = True,
) -> RunResult:
    """Replay the scenario's demand (see the module's docstring); nothing it writes survives.
    ``engine="services"`` drives the offer services and the lifecycle sweeps through the
    database; ``"memory"`` (the default, many times faster) keeps what they would write in
    memory and matches over ``shifts.matching.memory``'s facts book. Runs of one call
    (several policies on the same demand) may share ``prefilter``; a scenario that adds
    workers does not use it (its workers are new rows)."""
    if engine not in ("memory", "services"):
        raise ScenarioError(f"Unknown engine {engine!r}.")
    today = timezone.localdate()
    if scenario.end < scenario.start:
        raise ScenarioError("The range ends before it starts.")
    demand = scenario.demand
    if demand is None:
        if scenario.end >= today:
            raise ScenarioError("Replay a range that ends before today.")
        demand = demand_from_history(pool=scenario.pool, start=scenario.start, end=scenario.end)
    elif any(d.start.date() >= today for d in demand):
        raise ScenarioError("Synthetic demand must start before today.")
    started = time.perf_counter()
    holder: list[RunResult] = []
    try:
        with _few_collections(), transaction.atomic():
            if engine == "services":
                holder.append(_run(scenario, demand, model, with_eligibility, progress))
            else:
                shared = None if scenario.add_workers else prefilter
                holder.append(
                    _run_memory(
                        scenario, demand, model, with_eligibility, progress, shared, ask_ahead
                    )
                )
            raise _Rollback
    except _Rollback:
        pass
    result = holder[0]
    result.seconds = time.perf_counter() - started
    return result


def _apply_policy(pool: Pool, policy: dict[str, Any]) -> Pool:
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    for name, value in policy.items():
        setattr(pool, name, value)
    if policy:
        pool.save(update_fields=list(policy))
    return pool


def _add_workers(pool: Pool, batches: list[WorkerBatch], seed: int) -> dict[int, str]:
    """Create the hypothetical workers: vetted, every document they need valid for years,
    the default radius, and the weekly availability of the pool's own workers with that
    role (taken in turn, so a batch works like the people already there). Returns id -> key."""
    import random

    from geo.models import Postcode

    if not batches:
        return {}
    rng = random.Random(seed)
    centroids = {
        p.postcode: (p.latitude, p.longitude)
        for p in Postcode.objects.filter(postcode__in=[b.district for b in batches])
    }
    docs_all = list(DocumentType.objects.filter(required_for_all=True))
    keys: dict[int, str] = {}
    for b_index, batch in enumerate(batches):
        if batch.district not in centroids:
            raise ScenarioError(f"Unknown postcode district {batch.district!r}.")
        lat0, lon0 = centroids[batch.district]
        role = Role.objects.get(slug=batch.role)
        skills = list(Skill.objects.filter(slug__in=batch.skills))
        docs = {d.pk: d for d in docs_all}
        docs |= {d.pk: d for d in role.required_documents.all()}
        for skill in skills:
            docs |= {d.pk: d for d in skill.required_documents.all()}
        models_ = list(
            Worker.objects.filter(pool=pool, status=Worker.Status.APPROVED, roles=role)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        patterns: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for wid, wd, s, e in AvailabilityRule.objects.filter(worker_id__in=models_).values_list(
            "worker_id", "weekday", "start_minute", "end_minute"
        ):
            patterns[wid].append((wd, s, e))
        for i in range(batch.count):
            worker = Worker.objects.create(
                pool=pool,
                display_name=f"Planned recruit {b_index + 1}.{i + 1}",
                district=batch.district,
                latitude=round(lat0 + rng.uniform(-0.012, 0.012), 6),
                longitude=round(lon0 + rng.uniform(-0.018, 0.018), 6),
                status=Worker.Status.APPROVED,
                weekly_hours_cap=pool.default_weekly_hours_cap,
                drives="driver" in batch.skills,
                approved_at=timezone.now() - timedelta(days=3650),
            )
            worker.roles.add(role)
            worker.skills.add(*skills)
            Document.objects.bulk_create(
                Document(
                    worker=worker,
                    doc_type=d,
                    status=Document.Status.APPROVED,
                    issued_on=date(2000, 1, 1),
                    expires_on=None,
                )
                for d in docs.values()
            )
            pattern = patterns.get(models_[i % len(models_)]) if models_ else None
            spans = pattern or [(d, 0, 1440) for d in range(7)]
            AvailabilityRule.objects.bulk_create(
                AvailabilityRule(worker=worker, weekday=wd, start_minute=s, end_minute=e)
                for wd, s, e in spans
            )
            keys[worker.pk] = f"new{b_index}-{i}"
    return keys


def _post_copies(pool: Pool, demand: list[Demand]) -> dict[int, Demand]:
    copies = ShiftRequest.objects.bulk_create(
        ShiftRequest(
            pool=pool,
            provider_id=d.provider_id,
            site_id=d.site_id,
            role_id=d.role_id,
            start=d.start,
            end=d.end,
            headcount=d.headcount,
            agency_hourly_rate=d.agency_hourly_rate,
            is_critical=d.is_critical,
            direct_worker_id=d.direct_worker_id,
            radius_bonus_km=d.radius_bonus_km,
            posted_at=d.posted_at,
            notes="Matching lab copy",
        )
        for d in demand
    )
    ShiftRequest.skills.through.objects.bulk_create(
        ShiftRequest.skills.through(shiftrequest_id=c.pk, skill_id=skill_id)
        for c, d in zip(copies, demand, strict=True)
        for skill_id in d.skill_ids
    )
    return {c.pk: d for c, d in zip(copies, demand, strict=True)}


@dataclass
class _Prepared:
    """The run's starting point, the same for either engine: the policy set, the recruits
    added, the range's own bookings set aside and a copy of each request posted."""

    pool: Pool
    new_keys: dict[int, str]
    by_id: dict[int, Demand]
    shifts: dict[int, ShiftRequest]
    statuses: dict[int, str]
    caps: dict[int, int]
    held: dict[int, list[tuple[datetime, datetime]]]
    answer_of: Callable[[Demand, int, float], Answer]
    answers: dict[tuple[str, int], Answer]

    def result(
        self,
        demand: list[Demand],
        placed: list[PlacedBooking],
        offers_made: list[tuple[str, int, datetime]],
        escalations: int,
        eligible: dict[str, list[dict[str, Any]]] | None,
    ) -> RunResult:
        pool = self.pool
        rates = {
            r.role_id: (r.benchmark_agency_rate, r.pool_hourly_cost)
            for r in RoleRate.objects.filter(pool=pool)
        }
        return RunResult(
            demand=demand,
            bookings=placed,
            offers=offers_made,
            escalations=escalations,
            active_workers=sorted(self.statuses),
            rates=rates,
            eligible=eligible,
            worker_facts={pk: {"cap": self.caps[pk]} for pk in self.caps},
            rest_hours=pool.rest_hours,
            week_hours=dict(self.held),
            answers=self.answers,
        )


def _prepare(scenario: Scenario, demand: list[Demand], model: ResponseModel) -> _Prepared:
    pool = _apply_policy(scenario.pool, scenario.policy)
    new_keys = _add_workers(pool, scenario.add_workers, scenario.seed)
    originals = [d.original_id for d in demand if d.original_id is not None]
    Booking.objects.filter(shift_id__in=originals).update(status=Booking.Status.CANCELLED)
    by_id = _post_copies(pool, demand)
    shifts = {
        s.pk: s
        for s in ShiftRequest.objects.filter(pk__in=list(by_id)).select_related(
            "pool", "site", "role"
        )
    }
    worker_rows = list(
        Worker.objects.filter(pool=pool, status=Worker.Status.APPROVED)
        # A worker without a cap of their own has the pool's default.
        .annotate(cap=Coalesce("weekly_hours_cap", "pool__default_weekly_hours_cap"))
        .values_list("pk", "status", "cap")
    )
    statuses = {pk: status for pk, status, _cap in worker_rows}
    caps = {pk: cap for pk, _status, cap in worker_rows}
    lo = min((d.start for d in demand), default=timezone.now()) - timedelta(days=8)
    hi = max((d.end for d in demand), default=timezone.now()) + timedelta(days=8)
    held: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for wid, b_start, b_end in Booking.objects.filter(
        status__in=Booking.LIVE_STATUSES, start__lt=hi, end__gt=lo
    ).values_list("worker_id", "start", "end"):
        held[wid].append((b_start, b_end))
    favourites = set(
        Favourite.objects.filter(provider__pool=pool).values_list("provider_id", "worker_id")
    )
    answers: dict[tuple[str, int], Answer] = {}
    # (worker, Monday) -> hours booked that week before the run; shifts of one week ask alike
    hours_kept: dict[tuple[int, datetime], float] = {}
    mondays: dict[datetime, datetime] = {}

    def week_hours(worker_id: int, start: datetime) -> float:
        monday = mondays.get(start)
        if monday is None:
            monday = mondays[start] = iso_week_start(start)
        key = (worker_id, monday)
        if key not in hours_kept:
            hours_kept[key] = hours_in_week(held.get(worker_id, []), monday)
        return hours_kept[key]

    def answer_of(d: Demand, worker_id: int, distance_km: float) -> Answer:
        key = (d.key, worker_id)
        if key not in answers:
            x = offer_features(
                distance_km=distance_km,
                week_hours=week_hours(worker_id, d.start),
                start=d.start,
                notice=d.start - d.posted_at,
                favourite=(d.provider_id, worker_id) in favourites,
            )
            worker_key = new_keys.get(worker_id, f"w{worker_id}")
            answers[key] = model.answer(x, pair_uniforms(scenario.seed, d.key, worker_key))
        return answers[key]

    return _Prepared(
        pool=pool,
        new_keys=new_keys,
        by_id=by_id,
        shifts=shifts,
        statuses=statuses,
        caps=caps,
        held=held,
        answer_of=answer_of,
        answers=answers,
    )


class _Events:
    """The simulator's event queue, in time order and, at the same time, in the order the
    events were pushed; both engines use it, so they replay events alike."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str, int, int]] = []
        self._counter = 0

    def __bool__(self) -> bool:
        return bool(self._heap)

    def push(self, at: datetime, kind: str, a: int, b: int = 0) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (at, self._counter, kind, a, b))

    def pop(self) -> tuple[datetime, str, int, int]:
        at, _n, kind, a, b = heapq.heappop(self._heap)
        return at, kind, a, b

    def schedule_shifts(self, by_id: dict[int, Any], pool: Pool) -> None:
        """Each shift's first wave at its posting, its escalation check, and its close."""
        for sid, d in by_id.items():
            self.push(d.posted_at, "wave", sid)
            hours = (
                pool.critical_escalate_within_hours if d.is_critical else pool.escalate_within_hours
            )
            at = max(d.start - timedelta(hours=hours), d.posted_at + timedelta(minutes=1))
            self.push(at, "esc", sid)
            self.push(d.start, "close", sid)


def _run(
    scenario: Scenario,
    demand: list[Demand],
    model: ResponseModel,
    with_eligibility: bool,
    progress: Callable[[float], None] | None,
) -> RunResult:
    """The replay through the offer services and the database (``engine="services"``)."""
    prep = _prepare(scenario, demand, model)
    pool, by_id, shifts, statuses = prep.pool, prep.by_id, prep.shifts, prep.statuses
    answer_of = prep.answer_of
    eligible: dict[str, list[dict[str, Any]]] | None = None
    if with_eligibility:
        eligible = {}
        for sid, d in by_id.items():
            candidates = shift_eligible_workers(shift=shifts[sid], now=d.posted_at)
            eligible[d.key] = [
                {"worker_id": c.worker_id, "distance_km": c.distance_km} for c in candidates
            ]
            for c in candidates:
                answer_of(d, c.worker_id, c.distance_km)

    clock = SimClock(min((d.posted_at for d in demand), default=timezone.now()))
    events = _Events()
    push = events.push
    events.schedule_shifts(by_id, pool)

    open_ids = set(by_id)
    booked: dict[int, int] = defaultdict(int)
    pending: dict[int, set[int]] = defaultdict(set)  # shift -> offers not yet answered
    offer_shift: dict[int, int] = {}
    placed: list[PlacedBooking] = []
    offers_made: list[tuple[str, int, datetime]] = []
    last_expire = clock.at
    first_at = clock.at
    span = max(((max((d.start for d in demand), default=first_at)) - first_at).total_seconds(), 1)
    processed = 0

    def after_wave(sid: int, run: MatchRun, now: datetime) -> None:
        d = by_id[sid]
        new = list(
            Offer.objects.filter(shift_id=sid, wave=run.wave, sent_at=now).values_list(
                "pk", "worker_id", "distance_km", "expires_at"
            )
        )
        for offer_id, wid, km, expires in new:
            offers_made.append((d.key, wid, now))
            pending[sid].add(offer_id)
            offer_shift[offer_id] = sid
            answer = answer_of(d, wid, float(km))
            at = now + answer.delay
            if (answer.accepts or answer.declines) and at < expires:
                push(at, "accept" if answer.accepts else "decline", offer_id, wid)
            elif scenario.advance_on_answer:
                push(expires, "lapse", offer_id, sid)
        remaining = run.eligible_count - run.offered_count + run.not_reached
        shift = shifts[sid]
        if run.offered_count == 0 and remaining > 0:
            return
        if remaining > 0:
            next_at = (
                ShiftRequest.objects.filter(pk=sid).values_list("next_wave_at", flat=True).first()
            )
            if next_at is not None and not scenario.advance_on_answer:
                push(next_at, "wave", sid)
            elif next_at is not None and not pending[sid]:
                push(now, "force", sid)
        elif not is_urgent(shift, now) and pool.urgent_within_hours:
            push(d.start - timedelta(hours=pool.urgent_within_hours), "force", sid)

    with clock.active():
        while events:
            at, kind, a, b = events.pop()
            clock.at = at
            processed += 1
            if progress is not None and processed % 200 == 0:
                progress(min((at - first_at).total_seconds() / span, 1.0))
            if kind in ("wave", "force"):
                if a not in open_ids or at >= shifts[a].start:
                    continue
                if kind == "force" and scenario.advance_on_answer and pending[a]:
                    continue
                if at - last_expire >= timedelta(minutes=15):
                    offers_expire(now=at)
                    last_expire = at
                run = shift_match_wave(shift_id=a, now=at, force=kind == "force")
                if run is not None:
                    after_wave(a, run, at)
            elif kind == "accept":
                offer = Offer(pk=a, worker_id=b)
                sid = offer_shift[a]
                pending[sid].discard(a)
                if sid not in open_ids:
                    continue
                offer.shift_id = sid
                try:
                    offer_accept(offer=offer, worker=Worker(pk=b, status=statuses.get(b, "")))
                except OfferUnavailable:
                    _advance(scenario, pending, sid, open_ids, at, push)
                    continue
                booked[sid] += 1
                placed.append(PlacedBooking(by_id[sid].key, b, at))
                if booked[sid] >= shifts[sid].headcount:
                    open_ids.discard(sid)
                else:
                    _advance(scenario, pending, sid, open_ids, at, push)
            elif kind == "decline":
                sid = offer_shift[a]
                pending[sid].discard(a)
                if sid not in open_ids:
                    continue
                with suppress(OfferUnavailable):
                    offer_decline(offer=Offer(pk=a, worker_id=b), worker=Worker(pk=b))
                _advance(scenario, pending, sid, open_ids, at, push)
            elif kind == "lapse":
                pending[b].discard(a)
                if b in open_ids:
                    offers_expire(now=at)
                    _advance(scenario, pending, b, open_ids, at, push)
            elif kind == "esc":
                if a in open_ids:
                    shifts_escalate(now=at)
            elif kind == "close" and a in open_ids:
                shifts_close_past(now=at)
                open_ids.difference_update(
                    [sid for sid in list(open_ids) if shifts[sid].start <= at]
                )
    escalations = ShiftRequest.objects.filter(
        pk__in=list(by_id), escalated_at__isnull=False
    ).count()
    return prep.result(demand, placed, offers_made, escalations, eligible)


class _Offer:
    """An offer made in memory: its shift, worker, expiry and status."""

    __slots__ = ("shift_id", "worker_id", "expires", "status")

    def __init__(self, shift_id: int, worker_id: int, expires: datetime) -> None:
        self.shift_id, self.worker_id, self.expires = shift_id, worker_id, expires
        self.status: str = Offer.Status.PENDING


def _run_memory(
    scenario: Scenario,
    demand: list[Demand],
    model: ResponseModel,
    with_eligibility: bool,
    progress: Callable[[float], None] | None,
    prefilter: PrefilterAnswers | None = None,
    ask_ahead: bool = True,
) -> RunResult:
    """The same replay with matching's facts held in memory (``engine="memory"``, see
    ``shifts.matching.memory``): the waves, rules, ranking, wave sizes and expiry are
    matching's own functions; what the offer services and the lifecycle sweeps would write
    (offers, bookings, fills, withdrawals, expiry, escalation, closing) is kept here, in the
    same order of events as ``_run``, and told to the facts book. The database is read
    once per shift (matching's SQL prefilter) and in bulk."""
    prep = _prepare(scenario, demand, model)
    pool, by_id, shifts = prep.pool, prep.by_id, prep.shifts
    answer_of = prep.answer_of
    lo = min((d.start for d in demand), default=timezone.now())
    hi = max((d.end for d in demand), default=timezone.now())
    book = FactsBook(pool=pool, worker_ids=prep.statuses, lo=lo, hi=hi, prefilter=prefilter)
    matchings = {
        sid: ShiftMatching(shift=shifts[sid], book=book, skill_ids=list(d.skill_ids))
        for sid, d in by_id.items()
    }
    state: list[_Offer] = []
    expiry: list[tuple[datetime, int]] = []
    shift_offers: dict[int, list[int]] = defaultdict(list)
    # Pending offers already in the database expire too (``offers_expire`` is global).
    for worker_id, expires in Offer.objects.filter(status=Offer.Status.PENDING).values_list(
        "worker_id", "expires_at"
    ):
        state.append(_Offer(0, worker_id, expires))
        heapq.heappush(expiry, (expires, len(state) - 1))

    def offer_lapses(offer: _Offer, status: str) -> None:
        if offer.status == Offer.Status.PENDING:
            offer.status = status
            if status != Offer.Status.WITHDRAWN:
                book.answered(worker_id=offer.worker_id, status=status)

    def expire(now: datetime) -> None:
        """``offers_expire``."""
        while expiry and expiry[0][0] <= now:
            _at, offer_id = heapq.heappop(expiry)
            offer_lapses(state[offer_id], Offer.Status.EXPIRED)

    if ask_ahead and connection.vendor == "postgresql" and not book.prefilter.rows_kept:
        # The prefilter's questions in the order they will be asked: every shift at once
        # for the eligibility lists, else each at its first wave (``PrefilterAhead``).
        # Not for a run whose answers an earlier run of the same call has already asked.
        order = list(by_id)
        if not with_eligibility:
            order.sort(key=lambda sid: (by_id[sid].posted_at, sid))
        contexts = [matchings[sid].context(by_id[sid].posted_at) for sid in order]
        book.ahead = PrefilterAhead(book.prefilter, contexts)
    try:
        eligible: dict[str, list[dict[str, Any]]] | None = None
        if with_eligibility:
            eligible = {}
            for sid, d in by_id.items():
                candidates = matchings[sid].evaluate(d.posted_at, None).candidates
                eligible[d.key] = [
                    {"worker_id": c.worker_id, "distance_km": c.distance_km} for c in candidates
                ]
                for c in candidates:
                    answer_of(d, c.worker_id, c.distance_km)

        clock_at = min((d.posted_at for d in demand), default=timezone.now())
        events = _Events()
        push = events.push
        events.schedule_shifts(by_id, pool)

        open_ids = set(by_id)
        escalated: set[int] = set()
        # The two sweeps' queues, so a sweep touches only the shifts it acts on (open shifts
        # by escalation time, and by start).
        to_escalate = [(shifts[sid].escalate_at, sid) for sid in by_id]
        to_close = [(shifts[sid].start, sid) for sid in by_id]
        heapq.heapify(to_escalate)
        heapq.heapify(to_close)
        booked: dict[int, int] = defaultdict(int)
        pending: dict[int, set[int]] = defaultdict(set)
        placed: list[PlacedBooking] = []
        offers_made: list[tuple[str, int, datetime]] = []
        last_expire = first_at = clock_at
        span = max(
            ((max((d.start for d in demand), default=first_at)) - first_at).total_seconds(), 1
        )
        processed = 0

        def after_wave(sid: int, wave: Wave, now: datetime) -> None:
            d = by_id[sid]
            for c in wave.picked:
                state.append(_Offer(sid, c.worker_id, wave.expires))
                offer_id = len(state) - 1
                heapq.heappush(expiry, (wave.expires, offer_id))
                shift_offers[sid].append(offer_id)
                offers_made.append((d.key, c.worker_id, now))
                pending[sid].add(offer_id)
                km = float(Decimal(str(c.distance_km)).quantize(Decimal("0.1")))
                answer = answer_of(d, c.worker_id, km)
                at = now + answer.delay
                if (answer.accepts or answer.declines) and at < wave.expires:
                    push(at, "accept" if answer.accepts else "decline", offer_id, c.worker_id)
                elif scenario.advance_on_answer:
                    push(wave.expires, "lapse", offer_id, sid)
            remaining = wave.remaining
            shift = shifts[sid]
            if not wave.picked and remaining > 0:
                return
            if remaining > 0:
                next_at = shift.next_wave_at
                if next_at is not None and not scenario.advance_on_answer:
                    push(next_at, "wave", sid)
                elif next_at is not None and not pending[sid]:
                    push(now, "force", sid)
            elif not is_urgent(shift, now) and pool.urgent_within_hours:
                push(d.start - timedelta(hours=pool.urgent_within_hours), "force", sid)

        def close(sid: int, status: str) -> None:
            shift = shifts[sid]
            shift.status = status
            shift.next_wave_at = None
            lapse = Offer.Status.WITHDRAWN if status == "filled" else Offer.Status.EXPIRED
            for offer_id in shift_offers[sid]:
                offer_lapses(state[offer_id], lapse)
            open_ids.discard(sid)
            matchings[sid].forget()

        def accept(offer_id: int, worker_id: int, at: datetime) -> bool:
            """``offer_accept``'s checks, in its order."""
            offer = state[offer_id]
            sid = offer.shift_id
            shift = shifts[sid]
            if offer.status != Offer.Status.PENDING or offer.expires <= at:
                return False
            if not shift.is_open or booked[sid] >= shift.headcount or shift.start <= at:
                return False
            if matchings[sid].acceptance_failures(worker_id, at):
                return False
            offer.status = Offer.Status.ACCEPTED
            book.answered(worker_id=worker_id, status=Offer.Status.ACCEPTED)
            book.booked(worker_id=worker_id, shift_id=sid, start=shift.start, end=shift.end)
            booked[sid] += 1
            placed.append(PlacedBooking(by_id[sid].key, worker_id, at))
            if booked[sid] >= shift.headcount:
                close(sid, ShiftRequest.Status.FILLED)
            return True

        while events:
            at, kind, a, b = events.pop()
            processed += 1
            if progress is not None and processed % 200 == 0:
                progress(min((at - first_at).total_seconds() / span, 1.0))
            if kind in ("wave", "force"):
                if a not in open_ids or at >= shifts[a].start:
                    continue
                if kind == "force" and scenario.advance_on_answer and pending[a]:
                    continue
                if at - last_expire >= timedelta(minutes=15):
                    expire(at)
                    last_expire = at
                wave = matchings[a].wave(at, force=kind == "force")
                if wave is not None:
                    after_wave(a, wave, at)
            elif kind == "accept":
                sid = state[a].shift_id
                pending[sid].discard(a)
                if sid not in open_ids:
                    continue
                if not accept(a, b, at) or sid in open_ids:
                    _advance(scenario, pending, sid, open_ids, at, push)
            elif kind == "decline":
                sid = state[a].shift_id
                pending[sid].discard(a)
                if sid not in open_ids:
                    continue
                if state[a].status == Offer.Status.PENDING:
                    state[a].status = Offer.Status.DECLINED
                    book.answered(worker_id=b, status=Offer.Status.DECLINED)
                _advance(scenario, pending, sid, open_ids, at, push)
            elif kind == "lapse":
                pending[b].discard(a)
                if b in open_ids:
                    expire(at)
                    _advance(scenario, pending, b, open_ids, at, push)
            elif kind == "esc":
                if a in open_ids:
                    # ``shifts_escalate``: every open shift past its escalation time and not yet
                    # started, once (escalating at most 168 hours ahead, all of them are within
                    # its horizon). One that has started by now never will be.
                    while to_escalate and to_escalate[0][0] <= at:
                        _due, sid = heapq.heappop(to_escalate)
                        if sid in open_ids and at < shifts[sid].start:
                            escalated.add(sid)
            elif kind == "close" and a in open_ids:
                # ``shifts_close_past``: open shifts that have started expire, with their offers.
                while to_close and to_close[0][0] <= at:
                    _start, sid = heapq.heappop(to_close)
                    if sid in open_ids:
                        close(sid, ShiftRequest.Status.EXPIRED)
        return prep.result(demand, placed, offers_made, len(escalated), eligible)
    finally:
        if book.ahead is not None:
            book.ahead.close()
            book.ahead = None


def _advance(
    scenario: Scenario,
    pending: dict[int, set[int]],
    sid: int,
    open_ids: set[int],
    at: datetime,
    push: Callable[[datetime, str, int, int], None],
) -> None:
    """The strict cascade offers the next worker as soon as the last one has answered."""
    if scenario.advance_on_answer and sid in open_ids and not pending[sid]:
        push(at, "force", sid, 0)


# --- figures --------------------------------------------------------------------------------


def gini(values: list[float]) -> float:
    if not values or sum(values) == 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * sum(ordered)) - (n + 1) / n


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(result: RunResult) -> dict[str, Any]:
    """The run's figures, as the issue lists them."""
    by_key = {d.key: d for d in result.demand}
    places = sum(d.headcount for d in result.demand)
    hours_requested = sum(d.hours * d.headcount for d in result.demand)
    filled: dict[str, list[PlacedBooking]] = defaultdict(list)
    for b in result.bookings:
        filled[b.shift_key].append(b)
    hours_filled = sum(by_key[b.shift_key].hours for b in result.bookings)
    full = [k for k, bs in filled.items() if len(bs) >= by_key[k].headcount]
    ttf = [(max(b.at for b in filled[k]) - by_key[k].posted_at).total_seconds() / 60 for k in full]
    agency = Decimal("0")
    cost = Decimal("0")
    for b in result.bookings:
        d = by_key[b.shift_key]
        benchmark, pool_cost = result.rates.get(d.role_id, (Decimal("0"), Decimal("0")))
        rate = d.agency_hourly_rate or benchmark
        agency += rate * Decimal(str(d.hours))
        cost += pool_cost * Decimal(str(d.hours))
    worker_hours: dict[int, float] = defaultdict(float)
    for b in result.bookings:
        worker_hours[b.worker_id] += by_key[b.shift_key].hours
    active = result.active_workers
    hours_list = [worker_hours.get(w, 0.0) for w in active]
    top = sorted(hours_list, reverse=True)[: max(1, len(hours_list) // 10)]
    weeks: dict[str, set[int]] = defaultdict(set)
    for d in result.demand:
        weeks.setdefault(iso_week_start(d.start).date().isoformat(), set())
    for _key, wid, sent in result.offers:
        weeks[iso_week_start(sent).date().isoformat()].add(wid)
    weekly_share = (
        statistics.mean(len(ws & set(active)) / len(active) for ws in weeks.values())
        if active and weeks
        else 0.0
    )
    median = _percentile(ttf, 0.5)
    p90 = _percentile(ttf, 0.9)
    return {
        "shifts": len(result.demand),
        "places": places,
        "hours_requested": round(hours_requested, 2),
        "places_filled": len(result.bookings),
        "shifts_filled": len(full),
        "hours_filled": round(hours_filled, 2),
        "fill_rate_shifts": round(len(full) / len(result.demand), 4) if result.demand else 0.0,
        "fill_rate_places": round(len(result.bookings) / places, 4) if places else 0.0,
        "fill_rate_hours": round(hours_filled / hours_requested, 4) if hours_requested else 0.0,
        "median_time_to_fill_minutes": round(median, 1) if median is not None else None,
        "p90_time_to_fill_minutes": round(p90, 1) if p90 is not None else None,
        "offers": len(result.offers),
        "offers_per_filled_place": (
            round(len(result.offers) / len(result.bookings), 2) if result.bookings else None
        ),
        "active_workers": len(active),
        "share_of_active_workers_offered_weekly": round(weekly_share, 4),
        "hours_gini": round(gini(hours_list), 4),
        "hours_top10_share": round(sum(top) / sum(hours_list), 4) if sum(hours_list) else 0.0,
        "agency_hours_avoided": round(hours_filled, 2),
        "agency_spend_avoided": float(agency.quantize(Decimal("0.01"))),
        "pool_cost": float(cost.quantize(Decimal("0.01"))),
        "escalations": result.escalations,
        "sim_seconds": round(result.seconds, 2),
    }
