"""Eligibility: every rule that decides whether a worker may be offered a shift.

Each rule is named in ``RULES`` with the sentence people see. The rules the database can
answer alone are applied in one query (``_prefiltered_rows``); the per-worker rules
(documents valid through the shift, availability in London wall-clock time, overlap, rest,
weekly hours) are loaded in bulk for a slice of workers (``_documents_held``, ``_time_data``)
and checked in Python (``_time_failures``). ``matching_explain`` re-checks every rule for
one worker and says which exclude them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import (
    Abs,
    ASin,
    Cast,
    Coalesce,
    Cos,
    Floor,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils import timezone

from pools.models import DocumentType
from providers.models import Favourite, ProviderBlock, Site
from shifts.models import Booking, Offer, ShiftRequest
from workers.models import AvailabilityException, AvailabilityRule, Document, Worker, WorkerBlock

LONDON = ZoneInfo("Europe/London")
KM_PER_DEGREE = 111.2
EARTH_RADIUS_KM = 6371.0
DISTANCE_BAND_KM = 0.5

# Rule name -> what a coordinator or worker is told when it excludes someone.
RULES: dict[str, str] = {
    "vetted": "not vetted and active in the pool",
    "pool": "not a member of this shift's pool and not opted in to it",
    "role": "does not hold the shift's role",
    "skills": "does not have every skill the shift needs",
    "documents": "missing a compliance document valid through the shift's end",
    "distance": "the site is beyond the worker's travel radius",
    "provider_blocked": "the provider has asked not to be sent this worker",
    "worker_blocked": "the worker has asked not to work for this provider",
    "already_offered": "already offered this shift",
    "availability": "not available for the whole shift",
    "overlap": "already booked at an overlapping time",
    "rest": "would not have the pool's minimum rest between shifts",
    "weekly_hours": "would go over the weekly hours cap",
}


@dataclass
class _Context:
    shift: ShiftRequest
    site: Site
    now: datetime
    skill_ids: list[int]
    documents: dict[int, str]
    start_local: datetime
    end_local: datetime
    week_start: datetime
    week_end: datetime
    rest: timedelta
    urgent: bool


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _iso_week(local: datetime) -> tuple[datetime, datetime]:
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, datetime.min.time(), tzinfo=LONDON)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=LONDON)
    return start, end


def _context(shift: ShiftRequest, now: datetime) -> _Context:
    pool = shift.pool
    skill_ids = list(shift.skills.values_list("pk", flat=True))
    docs = DocumentType.objects.filter(
        Q(required_for_all=True) | Q(roles=shift.role_id) | Q(skills__in=skill_ids)
    ).distinct()
    start_local = shift.start.astimezone(LONDON)
    week_start, week_end = _iso_week(start_local)
    return _Context(
        shift=shift,
        site=shift.site,
        now=now,
        skill_ids=skill_ids,
        documents=dict(docs.values_list("pk", "name")),
        start_local=start_local,
        end_local=shift.end.astimezone(LONDON),
        week_start=week_start,
        week_end=week_end,
        rest=timedelta(hours=pool.rest_hours),
        urgent=shift.start - now <= timedelta(hours=pool.urgent_within_hours),
    )


def _ids_filter(qs: QuerySet[Any], column: str, ids: list[int]) -> QuerySet[Any]:
    """``column IN ids``, as one array parameter on PostgreSQL however many ids there are
    (passed as one array literal: adapting thousands of separate numbers is slow)."""
    if connection.vendor == "postgresql":
        literal = "{" + ",".join(str(int(i)) for i in ids) + "}"
        return qs.extra(where=[f"{column} = ANY(%s::bigint[])"], params=[literal])
    return qs.filter(**{f"{column}__in": ids})


def _worker_rows(ctx: _Context, only_worker_id: int | None) -> list[dict[str, Any]]:
    """One query: the workers to consider, with the row-by-row rules answered by SQL."""
    shift, site = ctx.shift, ctx.site
    pool = shift.pool
    in_extra_pool = Exists(
        Worker.extra_pools.through.objects.filter(worker_id=OuterRef("pk"), pool_id=pool.pk)
    )
    qs = Worker.objects.all()
    if only_worker_id is not None:
        qs = qs.filter(pk=only_worker_id)
    else:
        # The search area: each worker's own radius plus the shift's bonus, as a bounding box
        # (the precise great-circle check follows in Python).
        radius = Coalesce(
            Cast("travel_radius_km", FloatField()), Value(float(pool.default_radius_km))
        ) + Value(float(shift.radius_bonus_km) + 0.5)
        lon_km = KM_PER_DEGREE * max(math.cos(math.radians(site.latitude)), 0.01)
        qs = (
            qs.filter(Q(pool_id=pool.pk) | in_extra_pool)
            .annotate(
                _dlat=Abs(F("latitude") - Value(site.latitude)) * Value(KM_PER_DEGREE),
                _dlon=Abs(F("longitude") - Value(site.longitude)) * Value(lon_km),
                _radius=radius,
            )
            .filter(_dlat__lte=F("_radius"), _dlon__lte=F("_radius"))
        )
    end_day = ctx.end_local.date()
    start_day = ctx.start_local.date()
    annotations: dict[str, Any] = {
        "in_extra_pool": in_extra_pool,
        "has_role": Exists(
            Worker.roles.through.objects.filter(worker_id=OuterRef("pk"), role_id=shift.role_id)
        ),
        "provider_blocked": Exists(
            ProviderBlock.objects.filter(worker_id=OuterRef("pk"), provider_id=shift.provider_id)
        ),
        "worker_blocked": Exists(
            WorkerBlock.objects.filter(worker_id=OuterRef("pk"), provider_id=shift.provider_id)
        ),
        "already_offered": Exists(
            Offer.objects.filter(worker_id=OuterRef("pk"), shift_id=shift.pk)
        ),
        "favourite": Exists(
            Favourite.objects.filter(worker_id=OuterRef("pk"), provider_id=shift.provider_id)
        ),
    }
    if ctx.skill_ids:
        annotations["skills_held"] = Subquery(
            Worker.skills.through.objects.filter(
                worker_id=OuterRef("pk"), skill_id__in=ctx.skill_ids
            )
            .values("worker_id")
            .annotate(n=Count("skill_id", distinct=True))
            .values("n")[:1]  # type: ignore[misc]
        )
    if ctx.documents:
        annotations["documents_held"] = Subquery(
            Document.objects.filter(
                worker_id=OuterRef("pk"),
                doc_type_id__in=list(ctx.documents),
                status=Document.Status.APPROVED,
                issued_on__lte=start_day,
            )
            .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=end_day))
            .values("worker_id")
            .annotate(n=Count("doc_type_id", distinct=True))
            .values("n")[:1]
        )
    return list(
        qs.annotate(**annotations).values(
            "pk",
            "user_id",
            "status",
            "pool_id",
            "latitude",
            "longitude",
            "travel_radius_km",
            "weekly_hours_cap",
            "ready_now_until",
            *annotations.keys(),
        )
    )


def _row_failures(row: dict[str, Any], ctx: _Context, every: bool) -> tuple[list[str], float]:
    """The stage-one rules (answerable from the worker row). Returns failing rule names
    (the first only, unless ``every``) and the distance to the site."""
    shift, site = ctx.shift, ctx.site
    failures: list[str] = []
    distance = math.inf
    if row["latitude"] is not None and row["longitude"] is not None:
        distance = haversine_km(row["latitude"], row["longitude"], site.latitude, site.longitude)
    radius = row["travel_radius_km"]
    if radius is None:
        radius = shift.pool.default_radius_km
    checks: list[tuple[str, bool]] = [
        ("vetted", row["status"] == Worker.Status.APPROVED),
        ("pool", row["pool_id"] == shift.pool_id or bool(row["in_extra_pool"])),
        ("role", bool(row["has_role"])),
        ("skills", not ctx.skill_ids or (row.get("skills_held") or 0) >= len(ctx.skill_ids)),
        ("documents", not ctx.documents or (row.get("documents_held") or 0) >= len(ctx.documents)),
        ("distance", distance <= float(radius + shift.radius_bonus_km)),
        ("provider_blocked", not row["provider_blocked"]),
        ("worker_blocked", not row["worker_blocked"]),
        ("already_offered", not row["already_offered"]),
    ]
    for name, ok in checks:
        if not ok:
            failures.append(name)
            if not every:
                break
    return failures, distance


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(intervals: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in intervals:
        if cut[1] <= a or cut[0] >= b:
            out.append((a, b))
            continue
        if a < cut[0]:
            out.append((a, cut[0]))
        if cut[1] < b:
            out.append((cut[1], b))
    return out


def _needed_minutes(ctx: _Context) -> list[tuple[date, int, int]]:
    """The local wall-clock minutes the shift covers, day by day (overnight shifts span two
    days; on the days the clocks change the wall clock is what availability is written in)."""
    needed: list[tuple[date, int, int]] = []
    day = ctx.start_local.date()
    last = ctx.end_local.date()
    while day <= last:
        a = (
            ctx.start_local.hour * 60 + ctx.start_local.minute
            if day == ctx.start_local.date()
            else 0
        )
        b = ctx.end_local.hour * 60 + ctx.end_local.minute if day == last else 1440
        if b > a:
            needed.append((day, a, b))
        day += timedelta(days=1)
    return needed


def _is_available(
    needed: list[tuple[date, int, int]],
    rules: list[tuple[int, int, int]],
    exceptions: list[tuple[date, bool, int, int]],
) -> bool:
    for day, a, b in needed:
        spans = [(s, e) for wd, s, e in rules if wd == day.weekday()]
        for ex_day, available, s, e in exceptions:
            if ex_day == day and available:
                spans.append((s, e))
        spans = _merge(spans)
        for ex_day, available, s, e in exceptions:
            if ex_day == day and not available:
                spans = _subtract(spans, (s, e))
        if not any(s <= a and b <= e for s, e in spans):
            return False
    return True


def _clipped_hours(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    # Timestamps, not datetimes: two times in the same zone subtract by the wall clock.
    seconds = min(end.timestamp(), hi.timestamp()) - max(start.timestamp(), lo.timestamp())
    return max(seconds, 0.0) / 3600


def _time_failures(
    row: dict[str, Any],
    ctx: _Context,
    needed: list[tuple[date, int, int]],
    rules: list[tuple[int, int, int]],
    exceptions: list[tuple[date, bool, int, int]],
    bookings: list[tuple[datetime, datetime]],
    every: bool,
) -> tuple[list[str], float, bool]:
    """The stage-two rules: availability, overlap, rest and weekly hours. Returns failing
    rule names, hours booked in the shift's week, and whether "ready now" made them available."""
    shift = ctx.shift
    failures: list[str] = []
    ready_now = (
        ctx.urgent
        and row["ready_now_until"] is not None
        and row["ready_now_until"] > ctx.now
        and row["ready_now_until"] >= min(shift.start, ctx.now + timedelta(hours=24))
    )
    if not ready_now and not _is_available(needed, rules, exceptions):
        failures.append("availability")
    overlap = rest = False
    week_hours = 0.0
    for b_start, b_end in bookings:
        week_hours += _clipped_hours(b_start, b_end, ctx.week_start, ctx.week_end)
        if b_start < shift.end and b_end > shift.start:
            overlap = True
        elif (
            b_end <= shift.start
            and shift.start - b_end < ctx.rest
            or b_start >= shift.end
            and b_start - shift.end < ctx.rest
        ):
            rest = True
    if overlap:
        failures.append("overlap")
    if rest:
        failures.append("rest")
    shift_hours = _clipped_hours(shift.start, shift.end, ctx.week_start, ctx.week_end)
    if week_hours + shift_hours > row["weekly_hours_cap"]:
        failures.append("weekly_hours")
    if not every:
        failures = failures[:1]
    return failures, week_hours, ready_now


def _time_data(
    ctx: _Context, worker_ids: list[int]
) -> tuple[
    dict[int, list[tuple[int, int, int]]],
    dict[int, list[tuple[date, bool, int, int]]],
    dict[int, list[tuple[datetime, datetime]]],
]:
    """Three queries: the workers' weekly patterns for the weekdays the shift touches,
    their exceptions on its days, and their live bookings near it or in its week."""
    needed = _needed_minutes(ctx)
    days = [d for d, _a, _b in needed]
    weekdays = sorted({d.weekday() for d in days})
    rules: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    exceptions: dict[int, list[tuple[date, bool, int, int]]] = defaultdict(list)
    bookings: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    if not worker_ids:
        return rules, exceptions, bookings
    rule_qs = _ids_filter(
        AvailabilityRule.objects.filter(weekday__in=weekdays), "worker_id", worker_ids
    )
    for wid, wd, s, e in rule_qs.values_list("worker_id", "weekday", "start_minute", "end_minute"):
        rules[wid].append((wd, s, e))
    ex_qs = _ids_filter(AvailabilityException.objects.filter(day__in=days), "worker_id", worker_ids)
    for wid, day, available, s, e in ex_qs.values_list(
        "worker_id", "day", "available", "start_minute", "end_minute"
    ):
        exceptions[wid].append((day, available, s, e))
    lo = min(ctx.week_start, ctx.shift.start - ctx.rest)
    hi = max(ctx.week_end, ctx.shift.end + ctx.rest)
    booking_qs = _ids_filter(
        Booking.objects.filter(status__in=Booking.LIVE_STATUSES, start__lt=hi, end__gt=lo).exclude(
            shift_id=ctx.shift.pk
        ),
        "worker_id",
        worker_ids,
    )
    for wid, b_start, b_end in booking_qs.values_list("worker_id", "start", "end"):
        bookings[wid].append((b_start, b_end))
    return rules, exceptions, bookings


def _prefiltered_rows(ctx: _Context) -> list[tuple[Any, ...]]:
    """One query: the workers who pass every rule SQL can answer on its own (pool, vetted,
    role, skills, neither block, not yet offered, within their travel radius by great-circle
    distance), favourites first, then by half-kilometre band, then id. Rows are
    (id, user id, distance km, weekly hours cap, ready-now-until, favourite).

    Written for the executor's per-row cost, which is what a run on a big pool pays for
    (every vetted worker of the role within range comes back, thousands of rows): the blocks,
    the offers already made and the favourites are ``IN (subquery)`` tests, which PostgreSQL
    answers by hashing the (small) subquery once, not by a join node probing each row; and on
    PostgreSQL the distance is computed once per row in a subquery, not again for the filter,
    the result and the sort."""
    shift, site = ctx.shift, ctx.site
    pool = shift.pool
    radius = Coalesce(
        Cast("travel_radius_km", FloatField()), Value(float(pool.default_radius_km))
    ) + Value(float(shift.radius_bonus_km))
    lon_km = KM_PER_DEGREE * max(math.cos(math.radians(site.latitude)), 0.01)
    half_dlat = Radians(F("latitude") - Value(site.latitude)) / Value(2.0)
    half_dlon = Radians(F("longitude") - Value(site.longitude)) / Value(2.0)
    haversine = Power(Sin(half_dlat), Value(2.0)) + Cos(Radians("latitude")) * Value(
        math.cos(math.radians(site.latitude))
    ) * Power(Sin(half_dlon), Value(2.0))
    distance = Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(haversine))
    in_extra_pool = Exists(
        Worker.extra_pools.through.objects.filter(worker_id=OuterRef("pk"), pool_id=pool.pk)
    )
    provider_id = shift.provider_id
    qs = (
        Worker.objects.filter(Q(pool_id=pool.pk) | in_extra_pool, status=Worker.Status.APPROVED)
        .annotate(
            _dlat=Abs(F("latitude") - Value(site.latitude)) * Value(KM_PER_DEGREE),
            _dlon=Abs(F("longitude") - Value(site.longitude)) * Value(lon_km),
            _radius=ExpressionWrapper(radius, output_field=FloatField()),
        )
        # A box first (cheap); the great circle is compared below.
        .filter(_dlat__lte=F("_radius") + 0.5, _dlon__lte=F("_radius") + 0.5)
        .annotate(_distance=ExpressionWrapper(distance, output_field=FloatField()))
        .filter(
            Exists(
                Worker.roles.through.objects.filter(worker_id=OuterRef("pk"), role_id=shift.role_id)
            )
        )
        .exclude(pk__in=ProviderBlock.objects.filter(provider_id=provider_id).values("worker_id"))
        .exclude(pk__in=WorkerBlock.objects.filter(provider_id=provider_id).values("worker_id"))
        .exclude(pk__in=Offer.objects.filter(shift_id=shift.pk).values("worker_id"))
    )
    for skill_id in ctx.skill_ids:
        qs = qs.filter(
            Exists(
                Worker.skills.through.objects.filter(worker_id=OuterRef("pk"), skill_id=skill_id)
            )
        )
    qs = qs.annotate(
        _favourite=ExpressionWrapper(
            Q(pk__in=Favourite.objects.filter(provider_id=provider_id).values("worker_id")),
            output_field=BooleanField(),
        ),
    )
    columns = ("pk", "user_id", "_distance", "weekly_hours_cap", "ready_now_until", "_favourite")
    if connection.vendor == "postgresql":
        # The same query with the great circle filtered and sorted on outside it (OFFSET 0
        # keeps the planner from folding the distance back into the filter, the result and
        # the sort key: three times the trigonometry). psycopg already returns these columns
        # as Python wants them, so Django's per-row converters are skipped too.
        # The order (favourites first, band, id) is sorted on as one bigint, a fifth of the
        # query's time cheaper than three keys: not-a-favourite in bit 56, the band in bits
        # 40-55 (no two points on Earth are 20,100 km apart: under 2**16 half-kilometre
        # bands), the id in bits 0-39 (ids stay under 2**40).
        inner, params = qs.order_by().values_list(*columns, "_radius").query.sql_with_params()
        sql = (
            'SELECT w."pk", w."user_id", w."_distance", w."weekly_hours_cap", '
            'w."ready_now_until", w."_favourite" FROM (' + inner + " OFFSET 0) AS w "
            'WHERE w."_distance" <= w."_radius" '
            'ORDER BY ((NOT w."_favourite")::int::bigint << 56)'
            ' | (FLOOR(w."_distance" / %s)::bigint << 40) | w."pk"'
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, (*params, DISTANCE_BAND_KM))
            return list(cursor.fetchall())
    qs = qs.filter(_distance__lte=F("_radius")).annotate(
        _band=Floor(F("_distance") / Value(DISTANCE_BAND_KM))
    )
    return list(qs.order_by("-_favourite", "_band", "pk").values_list(*columns))


def _documents_held(ctx: _Context, worker_ids: list[int]) -> dict[int, int]:
    """One query: how many of the required document types each worker holds valid from the
    shift's first day through its last."""
    held: dict[int, set[int]] = defaultdict(set)
    if not ctx.documents or not worker_ids:
        return {}
    docs = _ids_filter(
        Document.objects.filter(
            doc_type_id__in=list(ctx.documents),
            status=Document.Status.APPROVED,
            issued_on__lte=ctx.start_local.date(),
        ).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=ctx.end_local.date())),
        "worker_id",
        worker_ids,
    )
    for wid, doc_type_id in docs.order_by().values_list("worker_id", "doc_type_id"):
        held[wid].add(doc_type_id)
    return {wid: len(types) for wid, types in held.items()}


def _explain_failures(shift: ShiftRequest, worker_id: int, now: datetime) -> list[str]:
    """Every rule that excludes one worker (not only the first), for ``matching_explain``."""
    ctx = _context(shift, now)
    rows = _worker_rows(ctx, worker_id)
    if not rows:
        return ["vetted"]
    row = rows[0]
    failures, _distance = _row_failures(row, ctx, True)
    rules, exceptions, bookings = _time_data(ctx, [worker_id])
    more, _hours, _ready = _time_failures(
        row,
        ctx,
        _needed_minutes(ctx),
        rules.get(worker_id, []),
        exceptions.get(worker_id, []),
        bookings.get(worker_id, []),
        True,
    )
    return failures + more


def matching_explain(
    *, shift: ShiftRequest, worker: Worker, now: datetime | None = None
) -> list[str]:
    """Why ``worker`` would not be offered ``shift`` now, in plain words; empty if eligible."""
    now = now or timezone.now()
    messages: list[str] = []
    for name in _explain_failures(shift, worker.pk, now):
        if name == "documents":
            messages.extend(_missing_documents(shift, worker))
        elif name == "distance" and (worker.latitude is None or worker.longitude is None):
            messages.append("we have no home location for this worker")
        elif name == "rest":
            messages.append(
                f"would have less than {shift.pool.rest_hours} hours' rest between shifts"
            )
        else:
            messages.append(RULES[name])
    return messages


def _missing_documents(shift: ShiftRequest, worker: Worker) -> list[str]:
    ctx = _context(shift, timezone.now())
    valid = set(
        Document.objects.filter(
            worker=worker,
            doc_type_id__in=list(ctx.documents),
            status=Document.Status.APPROVED,
            issued_on__lte=ctx.start_local.date(),
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=ctx.end_local.date()))
        .values_list("doc_type_id", flat=True)
    )
    return [
        f"no valid {name} through the shift's end"
        for pk, name in sorted(ctx.documents.items(), key=lambda kv: kv[1])
        if pk not in valid
    ]
