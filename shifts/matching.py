"""Matching: who may lawfully and practically work a shift, in what order, and in which wave.

Every eligibility rule lives here, named in ``RULES``. A run is set-based: it issues a
bounded number of SQL queries (at most 25) whatever the size of the pool.

1. Load the shift, its skills and the documents it needs (role's, skills', and those every
   worker needs).
2. One query (``_prefiltered_rows``) returns the workers who pass every rule the database
   can answer alone: in the shift's pool or opted in, vetted and active, holds the role and
   every skill, neither side has blocked the other, not yet offered this shift, and the site
   within their own radius (plus the shift's bonus) by great-circle distance. They come
   ordered by the ranking's first two keys: favourites first, then half-kilometre band.
3. The per-worker rules (documents valid through the shift's end, availability in London
   wall-clock time incl. overnight and DST days or "ready now" for urgent shifts, no
   overlapping booking, the pool's rest hours, the weekly hours cap) and the ranking facts
   (reliability, hours this week) are loaded in bulk, one query each, for only as many whole
   bands as the wave needs (``_slices``); a second pass covers the rest if that is short.
4. Rank the eligible: favourites, band, reliability (acceptance and attendance, smoothed),
   fairness (fewer hours booked this week first), worker id. Each candidate carries human
   reasons for its place ("4.2 km away", "favourite of this home", "12 h this week").
5. A wave offers the next slice of the ranking: a direct worker alone first if the provider
   named one; then ``pool.first_wave_size``, growing by ``pool.wave_growth`` each wave;
   everyone at once for critical shifts and those starting within ``pool.urgent_within_hours``.
   The next wave's time is stored on the shift (``next_wave_at``) and a periodic sweep runs it.

``matching_explain`` re-checks every rule for one worker and says which exclude them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
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
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from notifications.services import Message, notifications_send_many
from pools.models import Coordinator, DocumentType
from providers.models import Favourite, ProviderBlock, Site
from shifts.models import Booking, MatchRun, Offer, ShiftRequest
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
class Candidate:
    worker_id: int
    user_id: int | None
    distance_km: float
    favourite: bool = False
    hours_this_week: float = 0.0
    reliability: float = 0.5
    reasons: list[str] = field(default_factory=list)


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


def _reliability(worker_ids: list[int]) -> dict[int, tuple[float, list[str]]]:
    """Two queries: each worker's offer responses and attendance, smoothed so a newcomer
    starts in the middle rather than at the top or bottom."""
    offers: dict[int, dict[str, int]] = defaultdict(dict)
    attendance: dict[int, dict[str, int]] = defaultdict(dict)
    if worker_ids:
        offer_qs = _ids_filter(
            Offer.objects.filter(
                status__in=[Offer.Status.ACCEPTED, Offer.Status.DECLINED, Offer.Status.EXPIRED]
            ),
            "worker_id",
            worker_ids,
        )
        for wid, status, n in (
            offer_qs.order_by().values_list("worker_id", "status").annotate(n=Count("id"))
        ):
            offers[wid][status] = n
        booking_qs = _ids_filter(
            Booking.objects.filter(status__in=[Booking.Status.ATTENDED, Booking.Status.NO_SHOW]),
            "worker_id",
            worker_ids,
        )
        for wid, status, n in (
            booking_qs.order_by().values_list("worker_id", "status").annotate(n=Count("id"))
        ):
            attendance[wid][status] = n
    result: dict[int, tuple[float, list[str]]] = {}
    for wid in worker_ids:
        o, a = offers.get(wid, {}), attendance.get(wid, {})
        accepted, answered = o.get("accepted", 0), sum(o.values())
        attended, worked = a.get("attended", 0), sum(a.values())
        score = ((accepted + 1) / (answered + 2) + (attended + 1) / (worked + 2)) / 2
        notes = []
        if answered:
            notes.append(f"accepted {accepted} of {answered} offers")
        if worked:
            notes.append(f"attended {attended} of {worked} shifts")
        result[wid] = (score, notes)
    return result


@dataclass
class Evaluation:
    candidates: list[Candidate]
    excluded: dict[str, list[int]]


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


def _slices(rows: list[tuple[Any, ...]], need: int | None) -> list[list[tuple[Any, ...]]]:
    """Split the ranked-by-(favourite, half-kilometre band) rows into the part a wave of ``need`` must
    examine (whole bands, at least three times the wave and 50) and the rest,
    examined only if the first part does not yield enough. ``None`` examines everyone."""
    if need is None or not rows:
        return [rows] if rows else []
    target = max(3 * need, 50)
    if target >= len(rows):
        return [rows]

    def group(row: tuple[Any, ...]) -> tuple[bool, int]:
        return (not row[5], int(row[2] // DISTANCE_BAND_KM))

    cut = target
    while cut < len(rows) and group(rows[cut]) == group(rows[cut - 1]):
        cut += 1
    return [rows[:cut], rows[cut:]] if cut < len(rows) else [rows]


def _examine(
    ctx: _Context,
    rows: list[tuple[Any, ...]],
    excluded: dict[str, list[int]],
) -> list[Candidate]:
    """The per-worker rules on one slice, then the ranking facts of those who pass: six
    queries (documents, weekly patterns, exceptions, bookings, two of history) whatever its
    size."""
    chunk = [
        (
            {
                "pk": pk,
                "user_id": user_id,
                "weekly_hours_cap": cap,
                "ready_now_until": ready,
                "favourite": favourite,
            },
            distance,
        )
        for pk, user_id, distance, cap, ready, favourite in rows
    ]
    ids = [row["pk"] for row, _d in chunk]
    documents = _documents_held(ctx, ids)
    rules, exceptions, bookings = _time_data(ctx, ids)
    needed = _needed_minutes(ctx)
    n_docs = len(ctx.documents)
    passed: list[tuple[dict[str, Any], float, float, bool]] = []
    for row, distance in chunk:
        wid = row["pk"]
        if n_docs and documents.get(wid, 0) < n_docs:
            excluded["documents"].append(wid)
            continue
        failures, week_hours, ready_now = _time_failures(
            row,
            ctx,
            needed,
            rules.get(wid, []),
            exceptions.get(wid, []),
            bookings.get(wid, []),
            False,
        )
        if failures:
            excluded[failures[0]].append(wid)
            continue
        passed.append((row, distance, week_hours, ready_now))
    reliability = _reliability([row["pk"] for row, *_rest in passed])
    favourite_text = (
        "favourite of this home"
        if ctx.site.site_type == Site.SiteType.RESIDENTIAL
        else "favourite of this provider"
    )
    candidates: list[Candidate] = []
    for row, distance, week_hours, ready_now in passed:
        score, notes = reliability[row["pk"]]
        reasons = [favourite_text] if row["favourite"] else []
        reasons.append(f"{distance:.1f} km away")
        reasons.extend(notes)
        reasons.append(f"{week_hours:g} h this week" if week_hours else "no hours yet this week")
        if ready_now:
            reasons.append("ready now")
        candidates.append(
            Candidate(
                worker_id=row["pk"],
                user_id=row["user_id"],
                distance_km=round(distance, 1),
                favourite=bool(row["favourite"]),
                hours_this_week=round(week_hours, 2),
                reliability=score,
                reasons=reasons,
            )
        )
    return candidates


def _evaluate(shift: ShiftRequest, now: datetime, need: int | None = None) -> Evaluation:
    """Rank the workers who may be offered ``shift``.

    ``excluded`` lists, rule by rule, the workers the per-worker rules turned away; those the
    SQL prefilter drops (not vetted, without the role or skills, out of radius, blocked, or
    already offered) are not listed one by one, since naming them would cost a run three
    times as much; ``matching_explain`` answers for any worker.

    With ``need`` (a wave's size) the per-worker rules are applied in ranking order only as
    far as the wave needs (see ``_slices``); the workers not reached are listed under
    ``"not_reached"`` and examined by later waves. At most two slices, so a run costs the
    same bounded number of queries whatever the pool's size."""
    ctx = _context(shift, now)
    excluded: dict[str, list[int]] = defaultdict(list)
    located = _prefiltered_rows(ctx)
    candidates: list[Candidate] = []
    for index, chunk in enumerate(_slices(located, need)):
        if index and need is not None and len(candidates) >= need:
            excluded["not_reached"] = [row[0] for row in chunk]
            break
        candidates.extend(_examine(ctx, chunk, excluded))
    candidates.sort(key=_rank_key)
    return Evaluation(candidates=candidates, excluded=dict(excluded))


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


def _rank_key(c: Candidate) -> tuple[bool, int, float, float, int]:
    return (
        not c.favourite,
        int(c.distance_km // DISTANCE_BAND_KM),
        -round(c.reliability, 1),
        c.hours_this_week,
        c.worker_id,
    )


def shift_eligible_workers(*, shift: ShiftRequest, now: datetime | None = None) -> list[Candidate]:
    """Every worker who may be offered ``shift`` now, best first, with reasons."""
    return _evaluate(shift, now or timezone.now()).candidates


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


# --- Waves ------------------------------------------------------------------------------


def offer_expiry(shift: ShiftRequest, now: datetime) -> datetime:
    """An offer lasts the pool's TTL, but never beyond the shift's start (or, for a shift
    already under way after a no-show, its end)."""
    limit = shift.start if shift.start > now else shift.end
    return min(now + timedelta(minutes=shift.pool.offer_ttl_minutes), limit)


def wave_interval(shift: ShiftRequest, now: datetime) -> timedelta:
    """The pool's interval, tightened as the start approaches: never more than a twelfth
    of the time left, never less than a minute."""
    base = timedelta(minutes=shift.pool.wave_interval_minutes)
    left = (shift.start - now) / 12
    return max(min(base, left), timedelta(minutes=1))


def is_urgent(shift: ShiftRequest, now: datetime) -> bool:
    return shift.is_critical or shift.start - now <= timedelta(hours=shift.pool.urgent_within_hours)


def _wave_size(shift: ShiftRequest, now: datetime) -> int | None:
    """How many workers the next wave offers to; ``None`` means every eligible worker."""
    wave = shift.wave + 1
    if (shift.direct_worker_id and wave == 1) or is_urgent(shift, now):
        return None
    pool = shift.pool
    # Waves after a direct offer count from 1 again.
    ordinal = wave - 1 if shift.direct_worker_id else wave
    return int(pool.first_wave_size * pool.wave_growth ** max(ordinal - 1, 0))


def _wave_pick(shift: ShiftRequest, ranked: list[Candidate], now: datetime) -> list[Candidate]:
    if shift.direct_worker_id and shift.wave == 0:
        direct = [c for c in ranked if c.worker_id == shift.direct_worker_id]
        if direct:
            return direct
        if not is_urgent(shift, now):
            return ranked[: shift.pool.first_wave_size]
    size = _wave_size(shift, now)
    return ranked if size is None else ranked[:size]


def offers_notify(offer_ids: Iterable[int]) -> int:
    """Tell each worker about a new offer: the notifications are written in bulk (one
    query) and delivered by Celery after commit."""
    rows = list(
        Offer.objects.filter(pk__in=list(offer_ids), worker__user__isnull=False).values_list(
            "worker__user_id", "shift_id", "expires_at"
        )
    )
    return _notify(rows)


def _notify(rows: list[tuple[int, int, datetime]]) -> int:
    if not rows:
        return 0
    shift_ids = {shift_id for _u, shift_id, _e in rows}
    shifts = {
        s.pk: s
        for s in ShiftRequest.objects.filter(pk__in=shift_ids).select_related("site", "role")
    }
    try:
        url = reverse("workers:offers")
    except (NoReverseMatch, ImportError):
        url = ""
    messages = []
    for user_id, shift_id, expires in rows:
        shift = shifts[shift_id]
        start = shift.start.astimezone(LONDON)
        end = shift.end.astimezone(LONDON)
        messages.append(
            Message(
                user_id=user_id,
                kind="offer",
                subject=f"Shift offer: {shift.role.name} at {shift.site.name}",
                body=(
                    f"{shift.role.name}, {start:%a %d %b %H:%M}–{end:%H:%M} at {shift.site.name}. "
                    f"Reply by {expires.astimezone(LONDON):%H:%M} — first to accept gets it."
                ),
                url=url,
            )
        )
    return notifications_send_many(messages=messages)


def _due(shift: ShiftRequest, now: datetime) -> bool:
    if not shift.is_open or shift.end <= now:
        return False
    return shift.matched_at is None or (
        shift.next_wave_at is not None and shift.next_wave_at <= now
    )


def shift_match_wave(
    *, shift_id: int, now: datetime | None = None, force: bool = False
) -> MatchRun | None:
    """Run the next wave for one shift if it is due (or ``force``). Safe to call twice at
    once or again later: the shift row is locked (a busy one is skipped), a shift not yet
    due is left alone, and already-offered workers are excluded (and the unique constraint
    on offer (shift, worker) would refuse them anyway)."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = (
            ShiftRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("pool", "site", "provider", "role")
            .filter(pk=shift_id)
            .first()
        )
        if shift is None or not (force or _due(shift, now)):
            return None
        if not shift.is_open or shift.end <= now:
            return None
        evaluation = _evaluate(shift, now, need=_wave_size(shift, now))
        picked = _wave_pick(shift, evaluation.candidates, now)
        wave = shift.wave + 1
        expires = offer_expiry(shift, now)
        first_rank = Offer.objects.filter(shift=shift).count()
        Offer.objects.bulk_create(
            [
                Offer(
                    shift=shift,
                    worker_id=c.worker_id,
                    wave=wave,
                    rank=first_rank + i + 1,
                    distance_km=Decimal(str(c.distance_km)).quantize(Decimal("0.1")),
                    reasons=c.reasons,
                    sent_at=now,
                    expires_at=expires,
                )
                for i, c in enumerate(picked)
            ],
            ignore_conflicts=True,
        )
        # Only the offers this run really created (a conflicting one was not) are announced.
        new_rows = list(
            Offer.objects.filter(
                shift=shift, wave=wave, sent_at=now, worker__user__isnull=False
            ).values_list("worker__user_id", "shift_id", "expires_at")
        )
        _notify(new_rows)
        run = MatchRun.objects.create(
            shift=shift,
            wave=wave,
            ran_at=now,
            eligible_count=len(evaluation.candidates),
            offered_count=len(picked),
            excluded=evaluation.excluded,
        )
        shift.wave = wave
        shift.matched_at = now
        shift.next_wave_at = now + wave_interval(shift, now)
        shift.save(update_fields=["wave", "matched_at", "next_wave_at"])
    return run


def shifts_due_for_matching(*, now: datetime) -> QuerySet[ShiftRequest]:
    """Open shifts whose next wave is due, or that were never matched a minute after posting
    (their task was lost between commit and broker)."""
    return ShiftRequest.objects.filter(status=ShiftRequest.Status.OPEN, end__gt=now).filter(
        Q(next_wave_at__lte=now)
        | Q(matched_at__isnull=True, posted_at__lte=now - timedelta(minutes=1))
    )


def matching_sweep(*, now: datetime | None = None, limit: int = 200) -> int:
    """Run every due wave. Two sweeps at once share the work: each claims a shift by
    locking it, skipping shifts another sweep holds."""
    now = now or timezone.now()
    ran = 0
    due = shifts_due_for_matching(now=now).order_by("next_wave_at", "pk")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for shift_id in ids:
        if shift_match_wave(shift_id=shift_id, now=now) is not None:
            ran += 1
    return ran


def shifts_escalate(*, now: datetime | None = None) -> int:
    """Escalate open shifts close to their start to the pool's coordinators, once each."""
    from notifications.services import notification_send

    now = now or timezone.now()
    escalated = 0
    horizon = now + timedelta(hours=168)
    candidates = ShiftRequest.objects.filter(
        status=ShiftRequest.Status.OPEN,
        escalated_at__isnull=True,
        start__gt=now,
        start__lte=horizon,
    ).select_related("pool", "site", "role")
    for shift in candidates:
        hours = (
            shift.pool.critical_escalate_within_hours
            if shift.is_critical
            else shift.pool.escalate_within_hours
        )
        if shift.start - now > timedelta(hours=hours):
            continue
        with transaction.atomic():
            claimed = ShiftRequest.objects.filter(
                pk=shift.pk, escalated_at__isnull=True, status=ShiftRequest.Status.OPEN
            ).update(escalated_at=now)
            if not claimed:
                continue
            escalated += 1
            places = shift.headcount - shift.booked_count
            for coordinator in Coordinator.objects.filter(pool_id=shift.pool_id).select_related(
                "user"
            ):
                notification_send(
                    user=coordinator.user,
                    kind="shift_escalated",
                    subject=f"Unfilled shift needs help: {shift}",
                    body=(
                        f"{places} of {shift.headcount} places still open, starting "
                        f"{shift.start.astimezone(LONDON):%a %d %b %H:%M}."
                    ),
                )
    return escalated


def shifts_close_past(*, now: datetime | None = None) -> int:
    """Open shifts whose start has passed with places unfilled become expired; their
    pending offers expire with them."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            ShiftRequest.objects.select_for_update(skip_locked=True)
            .filter(status=ShiftRequest.Status.OPEN, start__lte=now)
            .exclude(bookings__status=Booking.Status.NO_SHOW, end__gt=now)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Offer.objects.filter(shift_id__in=ids, status=Offer.Status.PENDING).update(
            status=Offer.Status.EXPIRED
        )
        return ShiftRequest.objects.filter(pk__in=ids, status=ShiftRequest.Status.OPEN).update(
            status=ShiftRequest.Status.EXPIRED, next_wave_at=None
        )
