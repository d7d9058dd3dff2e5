"""Eligibility: every rule that decides whether a worker may be offered (or take) a shift.

Each rule is one ``Rule`` object in ``ELIGIBILITY``: its name, the sentence a coordinator
sees, the words the worker sees, and how it is evaluated —

- ``where``: a SQL condition on ``Worker`` rows (pool, vetted, role, skills, distance,
  blocks, already offered). The matching prefilter ANDs them into one query; explaining
  or re-checking one worker evaluates each as a boolean column of that worker's row.
- ``passes``: a check in Python on a worker's ``Facts`` (documents, availability,
  overlap, rest, weekly hours), which are loaded in bulk, a fixed number of queries for any
  number of workers (``worker_facts``). Such a rule may also have a ``screen``: the same
  rule as a SQL expression on the worker's row (PostgreSQL), TRUE where the worker
  certainly passes, FALSE where they certainly fail, NULL where only the facts can say; an
  urgent evaluation decides most workers with it in the prefilter's own scan
  (``screened_prefilter_sql``). A test holds each screen to its check on random workers.

Every door uses these objects: the matching prefilter and its per-worker checks,
``matching_explain`` and ``worker_rule_failures`` (direct offers, coordinators' "why not?",
and acceptance, which re-checks the rules marked ``at_acceptance``). To add a rule, add one
object here and its test.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import (
    Floor,
    TruncWeek,
)
from django.utils import timezone

from pools.models import DocumentType
from providers.models import Favourite, ProviderBlock, Site
from shifts.models import Booking, Offer, ShiftRequest
from workers.models import (
    WORKING_TIME_LIMIT_HOURS,
    WORKING_TIME_REFERENCE_WEEKS,
    AvailabilityException,
    AvailabilityRule,
    Document,
    Worker,
    WorkerBlock,
    working_time_opted_out,
)

LONDON = ZoneInfo("Europe/London")
KM_PER_DEGREE = 111.2
EARTH_RADIUS_KM = 6371.0
DISTANCE_BAND_KM = 0.5
# Personal radii above this are looked up by radius, not by a box this wide (see
# ``_box_radius_km``).
BOX_RADIUS_CAP_KM = 30.0
# ``_Context.largest_radius_km`` when the caller did not load it.
UNKNOWN_RADIUS = -1.0

Audience = Literal["coordinator", "worker"]


@dataclass
class _Context:
    """The facts about one shift every rule reads, loaded once per run."""

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
    # The largest personal travel radius anyone has (``largest_radius_queryset``), if the
    # caller loaded it with its other queries; ``UNKNOWN_RADIUS``: ``_box_radius_km`` asks.
    largest_radius_km: float | None = UNKNOWN_RADIUS

    @cached_property
    def needed(self) -> list[tuple[date, int, int]]:
        return _needed_minutes(self)

    @cached_property
    def ready_now_bounds(self) -> tuple[datetime, datetime] | None:
        """An urgent shift may go to a worker who said they are ready now (until at least its
        start, or for the next day), whatever their weekly pattern says: ready until later
        than the first of these and no earlier than the second. None: not urgent."""
        if not self.urgent:
            return None
        return self.now, min(self.shift.start, self.now + timedelta(hours=24))

    @cached_property
    def week_timestamps(self) -> tuple[float, float]:
        """The shift's week's ends as timestamps (``hours_booked_in_week``)."""
        return self.week_start.timestamp(), self.week_end.timestamp()

    @cached_property
    def shift_hours_in_week(self) -> float:
        return _clipped_hours(self.shift.start, self.shift.end, self.week_start, self.week_end)

    @property
    def first_day(self) -> date:
        return self.start_local.date()

    @property
    def last_day(self) -> date:
        return self.end_local.date()


@dataclass(slots=True)
class Facts:
    """What the per-worker rules need to know about one worker, loaded in bulk (an urgent
    evaluation makes thousands: slots, and every field given in one call)."""

    worker_id: int
    weekly_hours_cap: int  # their own, or the pool's default
    ready_now_until: datetime | None
    opted_out: bool = False  # of the 48-hour average week, on the shift's first day
    first_week: date | None = None  # the Monday of the week they were approved
    # The document types they hold valid through the shift, of those it needs (read only).
    documents: AbstractSet[int] = field(default_factory=set)
    availability: list[tuple[int, int, int]] = field(default_factory=list)
    exceptions: list[tuple[date, bool, int, int]] = field(default_factory=list)
    bookings: list[tuple[datetime, datetime]] = field(default_factory=list)
    # Hours booked in each week (its Monday) around the shift's, for the 17-week average;
    # a booking counts in the week it starts. Loaded only for workers not opted out.
    weekly_totals: dict[date, float] = field(default_factory=dict)


# What the per-worker rules need from the prefilter's row: id, weekly cap, ready-now-until.
# (The opt-out and start date are loaded by ``worker_facts`` for the few who have them.)
WorkerRow = tuple[int, int | None, datetime | None]
WORKER_ROW_COLUMNS = ("pk", "weekly_hours_cap", "ready_now_until")


@dataclass(frozen=True)
class Screen:
    """A boolean SQL expression on ``"workers_worker"`` (the prefilter's table) and its
    parameters: TRUE, the worker passes the rule; FALSE, they fail it; NULL, the rule must
    be judged on their facts. It must never say TRUE or FALSE where the rule's ``passes``
    would not (tests/shifts/test_screens.py)."""

    sql: str
    params: tuple[Any, ...] = ()
    # What it says once ``given`` (another rule's screen, earlier in the order) has said
    # TRUE, when that is cheaper: ``then`` and its parameters (``screened_prefilter_sql``).
    given: Screen | None = None
    then: str = ""
    then_params: tuple[Any, ...] = ()


UNSURE = Screen("NULL::boolean")


@dataclass(frozen=True)
class Rule:
    """One eligibility rule. Exactly one of ``where`` and ``passes`` is set."""

    name: str
    sentence: str  # to coordinators, about the worker
    to_worker: str  # to the worker, about themselves
    where: Callable[[_Context], Q] | None = None
    passes: Callable[[_Context, Facts], bool] | None = None
    at_acceptance: bool = False
    # More precise words than the sentence, where the rule can say exactly what is wrong.
    detail: Callable[[_Context, Facts | None, Audience], list[str]] | None = None
    # It reads ``Facts.weekly_totals`` or the worker's working-time standing
    # (``opted_out``, ``first_week``): a wave loads those last, and only for the workers who
    # pass every per-worker rule before it (``ranking.fact_checks``). No rule before it may
    # read them, and it reads nothing else of the worker's: so every worker with no weekly
    # totals and no standing gets the same verdict (``evaluate_screened`` asks it once).
    reads_weeks: bool = False
    # The rule in SQL on the worker's row, for a ``passes`` rule (PostgreSQL): ``Screen``.
    screen: Callable[[_Context], Screen] | None = None
    # The fact queries its check reads (``facts_sql``'s names), for a screened rule: a
    # worker its screen could not judge gets only what this rule and those after it read.
    reads: tuple[str, ...] = ()

    def words(self, ctx: _Context, facts: Facts | None, audience: Audience) -> list[str]:
        if self.detail is not None:
            found = self.detail(ctx, facts, audience)
            if found:
                return found
        return [self.sentence if audience == "coordinator" else self.to_worker]


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


def _context(
    shift: ShiftRequest,
    now: datetime,
    *,
    skill_ids: list[int] | None = None,
    documents: dict[int, str] | None = None,
    largest_radius_km: float | None = UNKNOWN_RADIUS,
) -> _Context:
    """The shift's context at ``now``; a caller that already knows the shift's skills, the
    documents they need (``needed_documents``) and the largest travel radius
    (``largest_radius_queryset``) passes them and saves three queries."""
    pool = shift.pool
    if skill_ids is None and documents is None:
        # Both in one round trip (the documents asked with the skills as a subquery).
        fetched = fetch_many(
            {
                "skills": shift.skills.values_list("pk"),
                "documents": needed_documents_queryset(shift.role_id, shift.skills.values("pk")),
            }
        )
        skill_ids = [pk for (pk,) in fetched["skills"]]
        documents = dict(fetched["documents"])
    if skill_ids is None:
        skill_ids = list(shift.skills.values_list("pk", flat=True))
    if documents is None:
        documents = needed_documents(shift.role_id, skill_ids)
    start_local = shift.start.astimezone(LONDON)
    week_start, week_end = _iso_week(start_local)
    return _Context(
        shift=shift,
        site=shift.site,
        now=now,
        skill_ids=skill_ids,
        documents=documents,
        start_local=start_local,
        end_local=shift.end.astimezone(LONDON),
        week_start=week_start,
        week_end=week_end,
        rest=timedelta(hours=pool.rest_hours),
        urgent=shift.is_urgent(now),
        largest_radius_km=largest_radius_km,
    )


def needed_documents_queryset(role_id: int, skill_ids: list[int] | QuerySet[Any]) -> QuerySet[Any]:
    """The document types a shift of this role needing these skills (ids, or a queryset of
    them) asks for, as ``(id, name)`` rows."""
    docs = DocumentType.objects.needed_for(role_ids=[role_id], skill_ids=skill_ids)
    return docs.values_list("pk", "name")


def needed_documents(role_id: int, skill_ids: list[int]) -> dict[int, str]:
    """The document types (id -> name) a shift of this role needing these skills asks for."""
    return dict(needed_documents_queryset(role_id, skill_ids))


def largest_radius_queryset() -> QuerySet[Any]:
    """The largest personal travel radius anyone has (one row, NULL if nobody has one):
    one look-up in an index (``worker_radius``)."""
    return (
        Worker.objects.order_by()
        .annotate(_all=Value(1))
        .values("_all")
        .annotate(top=Max("travel_radius_km"))
        .values_list("top")
    )


def _ids_filter(qs: QuerySet[Any], column: str, ids: list[int]) -> QuerySet[Any]:
    """``column IN ids``, as one array parameter on PostgreSQL however many ids there are
    (passed as one array literal: adapting thousands of separate numbers is slow)."""
    if connection.vendor == "postgresql":
        return qs.extra(where=[f"{column} = ANY(%s::bigint[])"], params=[_ids_literal(ids)])
    return qs.filter(**{f"{column}__in": ids})


def _ids_literal(ids: list[int]) -> str:
    """PostgreSQL's array literal of these ids, to pass as one parameter."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


# --- The SQL rules ---------------------------------------------------------------------------


def _in_pool(ctx: _Context) -> Q:
    pool_id = ctx.shift.pool_id
    if connection.vendor == "postgresql":
        # Workers opted in as ``id = ANY(ARRAY(subquery))``: unlike EXISTS or IN, an index
        # condition, so PostgreSQL can answer both sides of the OR from indexes (the
        # pool's, the primary key's) and need not read the rest of a region's workers.
        opted_in = RawSQL(
            '"workers_worker"."id" = ANY(ARRAY(SELECT "worker_id" FROM '
            '"workers_worker_extra_pools" WHERE "pool_id" = %s))',
            (pool_id,),
            output_field=BooleanField(),
        )
        return Q(pool_id=pool_id) | Q(opted_in)
    return Q(pool_id=pool_id) | Q(
        Exists(Worker.extra_pools.through.objects.filter(worker_id=OuterRef("pk"), pool_id=pool_id))
    )


def _vetted(ctx: _Context) -> Q:
    return Q(status=Worker.Status.APPROVED)


def _has_role(ctx: _Context) -> Q:
    role_id = ctx.shift.role_id
    if connection.vendor == "postgresql":
        # The worker row's own copy of its role ids (``role_ids``, kept in step with the
        # link table by a trigger: workers migration 0006): a test on the row already read,
        # where asking the link table costs an index probe for every worker in range, or a
        # hash of every role holder in a region.
        return Q(_array_contains("role_ids", [role_id]))
    return Q(Exists(Worker.roles.through.objects.filter(worker_id=OuterRef("pk"), role_id=role_id)))


def _has_skills(ctx: _Context) -> Q:
    if not ctx.skill_ids:
        return Q()
    if connection.vendor == "postgresql":
        # As for the role: the row's ``skill_ids`` holds every skill the shift needs.
        return Q(_array_contains("skill_ids", ctx.skill_ids))
    condition = Q()
    for skill_id in ctx.skill_ids:
        condition &= Q(
            Exists(
                Worker.skills.through.objects.filter(worker_id=OuterRef("pk"), skill_id=skill_id)
            )
        )
    return condition


def _array_contains(column: str, ids: list[int]) -> RawSQL:
    """PostgreSQL: the worker row's ``column`` (a bigint array the model does not declare)
    holds every one of ``ids``."""
    literal = "{" + ",".join(str(int(i)) for i in sorted(ids)) + "}"
    return RawSQL(
        f'"workers_worker"."{column}" @> %s::bigint[]', (literal,), output_field=BooleanField()
    )


def _distance_annotations(ctx: _Context) -> dict[str, Any]:
    """Each worker's reach (own radius or the pool's default, plus the shift's bonus) and
    the great-circle distance in km (NULL without a home). Written as SQL (both databases
    have the functions: SQLite's through Django): built from Django's function objects,
    these two were half the Python cost of building a wave's prefilter."""
    shift, site = ctx.shift, ctx.site
    radius = RawSQL(
        'COALESCE(CAST("workers_worker"."travel_radius_km" AS double precision), %s) + %s',
        (float(shift.pool.default_radius_km), float(shift.radius_bonus_km)),
        output_field=FloatField(),
    )
    distance = RawSQL(
        '%s * ASIN(SQRT(POWER(SIN(RADIANS("workers_worker"."latitude" - %s) / 2.0), 2) '
        '+ COS(RADIANS("workers_worker"."latitude")) * %s '
        '* POWER(SIN(RADIANS("workers_worker"."longitude" - %s) / 2.0), 2)))',
        (
            2 * EARTH_RADIUS_KM,
            site.latitude,
            math.cos(math.radians(site.latitude)),
            site.longitude,
        ),
        output_field=FloatField(),
    )
    return {"_radius": radius, "_distance": distance}


def _box_radius_km(ctx: _Context) -> tuple[float, float | None]:
    """The reach the box around the site is drawn for, and the personal radius above which
    a worker is looked up by radius instead (None: nobody's is).

    Every worker's reach is their radius (or the pool's default) plus the shift's bonus, so
    a box drawn for the largest radius anyone has holds everyone within reach. That largest
    radius is one look-up in an index (``worker_radius``); one worker with a very
    large radius should not make every shift's box cover the county, so radii above
    ``BOX_RADIUS_CAP_KM`` (and the pool's default) are found by radius instead."""
    default = float(ctx.shift.pool.default_radius_km)
    largest = ctx.largest_radius_km
    if largest == UNKNOWN_RADIUS:
        [(largest,)] = list(largest_radius_queryset())
    largest = float(largest) if largest is not None else 0.0
    limit = max(default, min(largest, BOX_RADIUS_CAP_KM))
    return limit + float(ctx.shift.radius_bonus_km), limit if largest > limit else None


def _distance_box(ctx: _Context) -> Q:
    """Implied by ``_within_reach`` and far cheaper: a fixed box of latitudes and longitudes
    around the site that holds every point within the largest reach (``_box_radius_km``),
    or a radius larger than the box was drawn for. Constant bounds on indexed columns
    (``worker_home``: latitude, longitude), so the database can find the workers near a
    site without reading the rest of a region; and its planner, knowing from the columns'
    statistics how much of the table the box holds, can choose between that and the pool's
    index (``_in_pool``), whichever reads fewer rows. The trigonometry is only done for
    the rows that pass."""
    reach, radius_above = _box_radius_km(ctx)
    lat_lo, lat_hi, lon = _box_bounds(ctx.site.latitude, ctx.site.longitude, reach)
    box = Q(latitude__gte=lat_lo, latitude__lte=lat_hi)
    if lon is not None:
        box &= Q(longitude__gte=lon[0], longitude__lte=lon[1])
    if radius_above is not None:
        box |= Q(travel_radius_km__gt=radius_above)
    return box


def _box_bounds(
    latitude: float, longitude: float, reach_km: float, spare_km: float = 0.5
) -> tuple[float, float, tuple[float, float] | None]:
    """The latitudes and longitudes (None: every longitude) of a box holding every point
    within ``reach_km`` of (latitude, longitude) by great-circle distance.

    The box is exact, not a guess: a point at great-circle angle d from the site differs
    from it by at most d in latitude and by at most asin(sin d / cos latitude) in longitude
    (the meridians tangent to the circle), with ``spare_km`` to spare for rounding."""
    angle = (reach_km + spare_km) / EARTH_RADIUS_KM
    dlat = math.degrees(angle)
    lat_lo, lat_hi = latitude - dlat, latitude + dlat
    cos_lat = math.cos(math.radians(latitude))
    # Near a pole (or the date line) the circle spans every longitude the box could name.
    if max(abs(lat_lo), abs(lat_hi)) < 90.0 and math.sin(angle) < cos_lat:
        dlon = math.degrees(math.asin(math.sin(angle) / cos_lat))
        if abs(longitude) + dlon < 180.0:
            return lat_lo, lat_hi, (longitude - dlon, longitude + dlon)
    return lat_lo, lat_hi, None


def _near_box(ctx: _Context, km: float) -> RawSQL:
    """PostgreSQL: the worker's home inside the box holding every point within ``km`` of
    the site (``_box_bounds``), asked of the GiST index on homes as points
    (``worker_home_point``), which reads only the workers inside it, where the btree on
    (latitude, longitude) would read a strip across the region."""
    site = ctx.site
    # Ten metres to spare: the box's area, hence the rows read, grows with its side squared.
    lat_lo, lat_hi, lon = _box_bounds(site.latitude, site.longitude, km, spare_km=0.01)
    lon_lo, lon_hi = lon if lon is not None else (-180.0, 180.0)
    return RawSQL(
        'point("workers_worker"."longitude", "workers_worker"."latitude") '
        "<@ box(point(%s, %s), point(%s, %s))",
        (lon_lo, lat_lo, lon_hi, lat_hi),
        output_field=BooleanField(),
    )


def _within_reach(ctx: _Context) -> Q:
    return Q(_distance__lte=F("_radius"))


# The blocks, the offers made and the favourites as SQL: as Django subqueries, building
# them was a third of the Python cost of a wave's prefilter.
def _worker_listed(table: str, column: str, value: int) -> RawSQL:
    """The worker is among those ``table`` lists (``worker_id``) where ``column`` = ``value``."""
    return RawSQL(
        f'"workers_worker"."id" IN (SELECT worker_id FROM {table} WHERE {column} = %s)',
        (value,),
        output_field=BooleanField(),
    )


def _not_blocked_by_provider(ctx: _Context) -> Q:
    return ~Q(_worker_listed(ProviderBlock._meta.db_table, "provider_id", ctx.shift.provider_id))


def _not_blocking_provider(ctx: _Context) -> Q:
    return ~Q(_worker_listed(WorkerBlock._meta.db_table, "provider_id", ctx.shift.provider_id))


def _not_offered(ctx: _Context) -> Q:
    return ~Q(_worker_listed(Offer._meta.db_table, "shift_id", ctx.shift.pk))


# --- The per-worker rules --------------------------------------------------------------------


def _holds_documents(ctx: _Context, facts: Facts) -> bool:
    return ctx.documents.keys() <= facts.documents


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
        weekday = day.weekday()
        spans = [(s, e) for wd, s, e in rules if wd == weekday]
        if exceptions:
            spans.extend((s, e) for ex_day, on, s, e in exceptions if ex_day == day and on)
        if len(spans) > 1:  # one span (most workers' day) is merged already
            spans = _merge(spans)
        for ex_day, available, s, e in exceptions:
            if ex_day == day and not available:
                spans = _subtract(spans, (s, e))
        if not any(s <= a and b <= e for s, e in spans):
            return False
    return True


def is_ready_now(ctx: _Context, facts: Facts) -> bool:
    """``_Context.ready_now_bounds``: the worker said they are ready now, for this urgent
    shift."""
    return ready_until_covers(ctx.ready_now_bounds, facts.ready_now_until)


def ready_until_covers(bounds: tuple[datetime, datetime] | None, until: datetime | None) -> bool:
    """Ready now until ``until`` holds for an urgent shift's ``ready_now_bounds``."""
    return bounds is not None and until is not None and until > bounds[0] and until >= bounds[1]


def _available(ctx: _Context, facts: Facts) -> bool:
    if is_ready_now(ctx, facts):
        return True
    return _is_available(ctx.needed, facts.availability, facts.exceptions)


def _no_overlap(ctx: _Context, facts: Facts) -> bool:
    shift = ctx.shift
    return not any(s < shift.end and e > shift.start for s, e in facts.bookings)


def _rested(ctx: _Context, facts: Facts) -> bool:
    shift = ctx.shift
    for s, e in facts.bookings:
        if e <= shift.start and shift.start - e < ctx.rest:
            return False
        if s >= shift.end and s - shift.end < ctx.rest:
            return False
    return True


def _clipped_hours(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    # Timestamps, not datetimes: two times in the same zone subtract by the wall clock.
    return _hours_within(start.timestamp(), end.timestamp(), lo.timestamp(), hi.timestamp())


def _hours_within(start: float, end: float, lo: float, hi: float) -> float:
    """The hours of ``start``-``end`` within ``lo``-``hi`` (timestamps)."""
    return max(min(end, hi) - max(start, lo), 0.0) / 3600


def hours_booked_in_week(ctx: _Context, facts: Facts) -> float:
    """Hours the worker is already booked in the shift's week (Monday to Monday, London
    time; real hours, so a week with a clock change is 167 or 169 hours long): each
    booking's ``_clipped_hours``, with the week's ends as timestamps worked out once."""
    lo, hi = ctx.week_timestamps
    return sum(_hours_within(s.timestamp(), e.timestamp(), lo, hi) for s, e in facts.bookings)


def _within_weekly_cap(ctx: _Context, facts: Facts) -> bool:
    return hours_booked_in_week(ctx, facts) + ctx.shift_hours_in_week <= facts.weekly_hours_cap


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _glance_seconds(ctx: _Context) -> int:
    """Other hours in the 33 weeks around the shift up to which no 17-week window can
    break the 48-hour average (the limit over a full window, less the shift, less an hour's
    margin), in whole seconds."""
    shift_seconds = (ctx.shift.end - ctx.shift.start).total_seconds()
    limit = WORKING_TIME_LIMIT_HOURS * WORKING_TIME_REFERENCE_WEEKS * 3600
    return int(limit - shift_seconds - 3600)


def weeks_matter(ctx: _Context, facts: Facts) -> bool:
    """Whether ``_within_working_time`` must look at the worker's weeks one by one: they
    joined within the reference period, or their other hours in the 33 weeks around could
    reach the limit. Otherwise the weeks are not kept (nor, on PostgreSQL, loaded): the
    rule passes them at a glance."""
    total = round(sum(facts.weekly_totals.values()) * 3600)
    return facts.first_week is not None or total > _glance_seconds(ctx)


def _within_working_time(ctx: _Context, facts: Facts) -> bool:
    """Working Time Regulations 1998: no more than 48 hours a week averaged over 17 weeks,
    unless the worker has opted out in writing. Every 17-week window that holds the shift's
    week must stay within 48 hours times its length; a window never reaches back before the
    worker's first week (a newer worker's reference period is the time since they started)."""
    shift_hours = (ctx.shift.end - ctx.shift.start).total_seconds() / 3600
    if facts.opted_out or not facts.weekly_totals:
        # No other hours in the 33 weeks around: one shift (at most 14 h) cannot break it.
        return facts.opted_out or shift_hours <= WORKING_TIME_LIMIT_HOURS
    week = _monday(ctx.first_day)
    first = min(facts.first_week, week) if facts.first_week is not None else None
    span = WORKING_TIME_REFERENCE_WEEKS
    if (first is None or first <= week - timedelta(weeks=span - 1)) and (
        shift_hours + sum(facts.weekly_totals.values()) <= WORKING_TIME_LIMIT_HOURS * span
    ):
        # Every window is the full 17 weeks and all the loaded weeks together (the union of
        # the windows) stay within it: no window can break it. Most workers, at a glance.
        return True
    for offset in range(span):
        last = week + timedelta(weeks=offset)
        start = last - timedelta(weeks=span - 1)
        if first is not None and start < first:
            start = first
        weeks = (last - start).days // 7 + 1
        total = shift_hours + sum(
            hours for monday, hours in facts.weekly_totals.items() if start <= monday <= last
        )
        if total > WORKING_TIME_LIMIT_HOURS * weeks:
            return False
    return True


# --- The screens: the per-worker rules on the worker's row (PostgreSQL) ----------------------
#
# Read from the summaries the database keeps on each worker row (workers migration 0009:
# ``week_free``, ``doc_*``) and from small hashed subqueries, never a probe per worker.

# The highest document type id ``doc_mask`` has a bit for.
SCREENED_DOCUMENT_TYPES = 63


def _documents_screen(ctx: _Context) -> Screen:
    """``_holds_documents``: every needed type held (``doc_mask``), then either every
    document the worker holds valid through the shift (a glance), or each needed type's
    one approved document valid through it (``doc_days``); a needed type held by more than
    one approved document (``doc_multi``) is left to the facts."""
    types = sorted(int(t) for t in ctx.documents)
    if not types:
        return Screen("TRUE")
    if types[0] < 1 or types[-1] > SCREENED_DOCUMENT_TYPES:
        return UNSURE
    mask = sum(1 << (t - 1) for t in types)
    first, last = ctx.first_day, ctx.last_day
    each = " AND ".join(
        f'"workers_worker"."doc_days"[{2 * t - 1}] <= %s '
        f'AND "workers_worker"."doc_days"[{2 * t}] > %s'
        for t in types
    )
    return Screen(
        f'CASE WHEN ("workers_worker"."doc_mask" & {mask}) <> {mask} THEN FALSE '
        'WHEN "workers_worker"."doc_from_latest" <= %s '
        'AND "workers_worker"."doc_until_earliest" > %s THEN TRUE '
        f'WHEN ("workers_worker"."doc_multi" & {mask}) <> 0 THEN NULL '
        f"ELSE ({each}) END",
        (first, last, *[day for _t in types for day in (first, last)]),
    )


def _available_screen(ctx: _Context) -> Screen:
    """``_available``: ready now for an urgent shift; otherwise, for a worker with no
    exception on the shift's days, the weekly pattern (``week_free``, minutes of the week)
    holding each day's stretch of the shift. An exception is left to the facts."""
    params: list[Any] = []
    ready = "FALSE"
    bounds = ctx.ready_now_bounds
    if bounds is not None:
        ready = (
            '"workers_worker"."ready_now_until" > %s AND "workers_worker"."ready_now_until" >= %s'
        )
        params.extend(bounds)
    days = [d for d, _a, _b in ctx.needed]
    params.append("{" + ",".join(d.isoformat() for d in days) + "}")
    covers = " AND ".join('"workers_worker"."week_free" @> int4range(%s, %s)' for _ in ctx.needed)
    for day, a, b in ctx.needed:
        params.extend((day.weekday() * 1440 + a, day.weekday() * 1440 + b))
    return Screen(
        f"CASE WHEN {ready} THEN TRUE "
        'WHEN "workers_worker"."id" IN (SELECT worker_id FROM workers_availabilityexception '
        "WHERE day = ANY(%s::date[])) THEN NULL "
        f"ELSE ({covers or 'TRUE'}) END",
        tuple(params),
    )


def _booked_near(ctx: _Context) -> Screen:
    """The worker has a live booking among those the overlap, rest and weekly-hours rules
    read (``_bookings_span``): exactly the workers whose ``Facts.bookings`` are not empty."""
    lo, hi = _bookings_span(ctx)
    return Screen(
        '"workers_worker"."id" IN (SELECT worker_id FROM shifts_booking '
        f'WHERE status IN ({_LIVE}) AND start < %s AND "end" > %s '
        'AND tstzrange(start, "end") && tstzrange(%s, %s) AND shift_id <> %s)',
        (hi, lo, lo, hi, ctx.shift.pk),
    )


def _unbooked_screen(ctx: _Context) -> Screen:
    """``_no_overlap`` and ``_rested``: no booking near the shift, nothing to clash with."""
    booked = _booked_near(ctx)
    return Screen(f"CASE WHEN {booked.sql} THEN NULL ELSE TRUE END", booked.params)


def _weekly_cap_screen(ctx: _Context) -> Screen:
    """``_within_weekly_cap``: with no booking near the shift, no other hours in its week, so
    the shift's own hours against the worker's cap (or the pool's)."""
    booked = _booked_near(ctx)
    shift_hours = ctx.shift_hours_in_week
    within = 'COALESCE("workers_worker"."weekly_hours_cap", %s) >= %s'
    within_params = (ctx.shift.pool.default_weekly_hours_cap, shift_hours)
    return Screen(
        f"CASE WHEN {booked.sql} THEN NULL ELSE {within} END",
        (*booked.params, *within_params),
        # After the overlap screen said TRUE, the worker is not booked near the shift.
        given=_unbooked_screen(ctx),
        then=within,
        then_params=within_params,
    )


# --- Precise words ---------------------------------------------------------------------------


def _documents_detail(ctx: _Context, facts: Facts | None, audience: Audience) -> list[str]:
    held = facts.documents if facts is not None else set()
    missing = sorted(name for pk, name in ctx.documents.items() if pk not in held)
    if audience == "coordinator":
        return [f"no valid {name} through the shift's end" for name in missing]
    return [f"your {name} is missing or not valid until this shift ends" for name in missing]


def _rest_detail(ctx: _Context, facts: Facts | None, audience: Audience) -> list[str]:
    hours = ctx.shift.pool.rest_hours
    if audience == "coordinator":
        return [f"would have less than {hours} hours' rest between shifts"]
    return [f"you would have less than {hours} hours' rest between this and another shift"]


ELIGIBILITY: tuple[Rule, ...] = (
    Rule(
        "vetted",
        "not vetted and active in the pool",
        "you are not yet vetted and active in the pool",
        where=_vetted,
        at_acceptance=True,
    ),
    Rule(
        "pool",
        "not a member of this shift's pool and not opted in to it",
        "this shift is in a pool you have not joined",
        where=_in_pool,
    ),
    Rule(
        "role",
        "does not hold the shift's role",
        "this shift is for a role you do not hold",
        where=_has_role,
    ),
    Rule(
        "skills",
        "does not have every skill the shift needs",
        "this shift needs a skill you have not listed",
        where=_has_skills,
    ),
    Rule(
        "documents",
        "missing a compliance document valid through the shift's end",
        "one of your documents is missing or not valid until this shift ends",
        passes=_holds_documents,
        screen=_documents_screen,
        reads=("documents_lacking",),
        at_acceptance=True,
        detail=_documents_detail,
    ),
    Rule(
        "distance",
        "the site is beyond the worker's travel radius",
        "it is further away than you travel",
        where=_within_reach,
    ),
    Rule(
        "provider_blocked",
        "the provider has asked not to be sent this worker",
        "this provider is not taking bookings from you",
        where=_not_blocked_by_provider,
        at_acceptance=True,
    ),
    Rule(
        "worker_blocked",
        "the worker has asked not to work for this provider",
        "you asked not to work for this provider",
        where=_not_blocking_provider,
        at_acceptance=True,
    ),
    Rule(
        "already_offered",
        "already offered this shift",
        "you were already offered this shift",
        where=_not_offered,
    ),
    Rule(
        "availability",
        "not available for the whole shift",
        "your availability does not cover the whole shift",
        passes=_available,
        screen=_available_screen,
        reads=("availability", "exceptions"),
    ),
    Rule(
        "overlap",
        "already booked at an overlapping time",
        "you are booked on another shift at that time",
        passes=_no_overlap,
        screen=_unbooked_screen,
        reads=("bookings",),
        at_acceptance=True,
    ),
    Rule(
        "rest",
        "would not have the pool's minimum rest between shifts",
        "you would not have enough rest between shifts",
        passes=_rested,
        screen=_unbooked_screen,
        reads=("bookings",),
        at_acceptance=True,
        detail=_rest_detail,
    ),
    Rule(
        "weekly_hours",
        "would go over the weekly hours cap",
        "it would take you over the most hours you work in a week",
        passes=_within_weekly_cap,
        screen=_weekly_cap_screen,
        reads=("bookings",),
        at_acceptance=True,
    ),
    Rule(
        "working_time",
        "would average over 48 hours a week across 17 weeks without a written opt-out",
        "it would take you over an average of 48 hours a week (you have not opted out)",
        passes=_within_working_time,
        at_acceptance=True,
        reads_weeks=True,
    ),
)
RULE_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ELIGIBILITY}


# Read at call time (not frozen at import), so a rule added to ELIGIBILITY — in a test or a
# what-if simulation — is applied by every door at once.
def sql_rules() -> tuple[Rule, ...]:
    return tuple(rule for rule in ELIGIBILITY if rule.where is not None)


def fact_rules() -> tuple[Rule, ...]:
    return tuple(rule for rule in ELIGIBILITY if rule.passes is not None)


def screened_rules() -> tuple[Rule, ...] | None:
    """The per-worker rules an urgent evaluation decides with their screens: those before the
    first that reads the weekly totals (which stay with the facts), if every one of them has
    a screen; None otherwise (a rule added without one, in a test or a what-if simulation,
    is then judged on facts, as every rule was before screens)."""
    screened: list[Rule] = []
    for rule in fact_rules():
        if rule.reads_weeks:
            break
        if rule.screen is None:
            return None
        screened.append(rule)
    return tuple(screened)


def acceptance_rules() -> tuple[Rule, ...]:
    return tuple(rule for rule in ELIGIBILITY if rule.at_acceptance)


# Rule name -> what a coordinator is told when it excludes someone.
RULES: dict[str, str] = {rule.name: rule.sentence for rule in ELIGIBILITY}


# --- Loading and applying them ---------------------------------------------------------------


def fetch_many(
    querysets: Mapping[str, QuerySet[Any] | RawRows],
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of several ``values_list`` querysets, by name. On PostgreSQL they are sent
    together in one round trip (psycopg's pipeline mode): on a busy machine every wait for
    the server is a trip through the scheduler, and a wave's eight fact queries otherwise
    pay it eight times. Rows come as psycopg returns them: fine for the columns these
    queries select (ids, text, dates, times, booleans, intervals, counts); Django's
    converters are not applied."""
    if connection.vendor != "postgresql" or len(querysets) < 2:
        return {name: _rows(qs) for name, qs in querysets.items()}
    import psycopg

    compiled = {
        name: (qs.sql, qs.params) if isinstance(qs, RawRows) else qs.query.sql_with_params()
        for name, qs in querysets.items()
    }
    connection.ensure_connection()
    raw = connection.connection
    started = time.monotonic()
    with connection.wrap_database_errors:
        with raw.pipeline():
            cursors = {}
            for name, (sql, params) in compiled.items():
                cursor = psycopg.Cursor(raw)  # server-side binding, as pipelines need
                cursor.adapters.register_loader("timestamptz", _timestamptz_loader())
                cursor.execute(sql, params)
                cursors[name] = cursor
        fetched = {name: cursor.fetchall() for name, cursor in cursors.items()}
    if connection.queries_logged:  # so tests and the debug toolbar count them
        each = f"{(time.monotonic() - started) / len(compiled):.3f}"
        for sql, params in compiled.values():
            connection.queries_log.append({"sql": f"{sql} -- {params!r}", "time": each})
    return fetched


@lru_cache(maxsize=1)
def _timestamptz_loader() -> type[Any]:
    """psycopg's own loader of ``timestamptz`` text (compiled, when psycopg's C extension is
    installed), for the facts' cursors. Django registers a Python subclass of it on every
    connection, which only sets the zone psycopg has already given the value (the session's,
    which Django keeps at its connection's zone: UTC); it costs ~7.5 µs a value against
    ~0.75, and an urgent evaluation loads the start and end of thousands of bookings (20 ms
    a wave, on average, of the floor bench's 40 urgent waves). The values are the same, zone
    included."""
    import psycopg
    from psycopg.pq import Format

    loader = psycopg.postgres.adapters.get_loader(
        psycopg.postgres.types["timestamptz"].oid, Format.TEXT
    )
    assert loader is not None
    return loader


# How many rows ``stream_rows`` asks the server for at a time.
STREAM_CHUNK = 500


def stream_rows(sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The rows of a hand-written query (PostgreSQL), handed over as the server sends them,
    ``STREAM_CHUNK`` at a time (libpq's chunked rows, libpq 17 and later; all at once with
    an older one), with ``_rows``'s loaders.

    For a query whose rows come out of a scan unsorted: the caller works through the first
    thousand while the server is still scanning for the rest, so on a machine with two cores
    the database's work and the application's overlap instead of taking turns. The
    connection is busy until the last row: the caller must not query the database in
    between (psycopg would wait on itself), and leaving early cancels the query."""
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    started = time.monotonic()
    with connection.wrap_database_errors:
        cursor = psycopg.ClientCursor(raw)
        cursor.adapters.register_loader("timestamptz", _timestamptz_loader())
        if psycopg.pq.version() >= 170000:
            yield from cursor.stream(sql, params, size=STREAM_CHUNK)
            # libpq (17.5) keeps the chunked mode for the next query if that one is sent in
            # a pipeline (``fetch_many``'s), whose rows then come back as chunks the
            # pipeline does not expect; a plain statement first clears it.
            cursor.execute("SELECT NULL")
        else:
            cursor.execute(sql, params)
            yield from cursor.fetchall()
    if connection.queries_logged:  # so tests and the debug toolbar count it
        elapsed = f"{time.monotonic() - started:.3f}"
        connection.queries_log.append({"sql": f"{sql} -- {params!r}", "time": elapsed})


def _rows(qs: QuerySet[Any] | RawRows) -> list[tuple[Any, ...]]:
    """The rows of a queryset, or of a hand-written query (on PostgreSQL with psycopg's own
    ``timestamptz`` loader, as ``fetch_many``'s: a prefilter's thousands of rows carry the
    ready-now times and working-time starts of hundreds)."""
    if not isinstance(qs, RawRows):
        return list(qs)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.cursor.adapters.register_loader("timestamptz", _timestamptz_loader())
        cursor.execute(qs.sql, qs.params)
        return list(cursor.fetchall())


def worker_facts(ctx: _Context, rows: list[WorkerRow]) -> list[Facts]:
    """Six queries, whatever the number of workers (``facts_querysets``): opt-outs and
    recent joiners, the documents valid through the shift, the weekly patterns for the
    weekdays it touches, the exceptions on its days, the live bookings near it or in its
    week, and the weekly totals for the 17-week average. ``rows`` are ``WorkerRow`` tuples."""
    if not rows:
        return []
    fetched = fetch_many(facts_querysets(ctx, [pk for pk, _cap, _ready in rows]))
    return facts_from_rows(ctx, rows, fetched)


def _joined_after(ctx: _Context) -> datetime:
    """Workers approved after this joined within the 17 weeks before the shift's week."""
    return datetime.combine(
        _monday(ctx.first_day) - timedelta(weeks=WORKING_TIME_REFERENCE_WEEKS - 1),
        datetime.min.time(),
        tzinfo=LONDON,
    )


def facts_querysets(ctx: _Context, ids: list[int]) -> dict[str, QuerySet[Any] | RawRows]:
    """The queries ``worker_facts`` runs for these workers, by name (``values_list`` rows;
    on PostgreSQL written out, see ``facts_sql``)."""
    if connection.vendor == "postgresql":
        return facts_sql(ctx, _ids_literal(ids))
    querysets: dict[str, QuerySet[Any] | RawRows] = {}
    if ctx.documents:
        querysets["documents"] = (
            _ids_filter(
                Document.objects.valid_between(ctx.first_day, ctx.last_day).filter(
                    doc_type_id__in=list(ctx.documents)
                ),
                "worker_id",
                ids,
            )
            .order_by()
            .values_list("worker_id", "doc_type_id")
        )
    # The few with an opt-out on record, or who joined within the 17 weeks before the
    # shift's week (their reference period is shorter): one small query.
    querysets["special"] = _ids_filter(
        Worker.objects.filter(
            Q(opt_out_signed_on__isnull=False) | Q(approved_at__gt=_joined_after(ctx))
        ),
        "id",
        ids,
    ).values_list("pk", "opt_out_signed_on", "opt_out_withdrawn_on", "approved_at")
    days = [d for d, _a, _b in ctx.needed]
    weekdays = sorted({d.weekday() for d in days})
    querysets["availability"] = _ids_filter(
        AvailabilityRule.objects.filter(weekday__in=weekdays), "worker_id", ids
    ).values_list("worker_id", "weekday", "start_minute", "end_minute")
    querysets["exceptions"] = _ids_filter(
        AvailabilityException.objects.filter(day__in=days), "worker_id", ids
    ).values_list("worker_id", "day", "available", "start_minute", "end_minute")
    lo, hi = _bookings_span(ctx)
    querysets["bookings"] = _ids_filter(
        Booking.objects.filter(status__in=Booking.LIVE_STATUSES, start__lt=hi, end__gt=lo).exclude(
            shift_id=ctx.shift.pk
        ),
        "worker_id",
        ids,
    ).values_list("worker_id", "start", "end")
    # Kept only for those not opted out (``facts_from_rows``).
    week_lo, week_hi = _totals_span(ctx)
    querysets["weekly_totals"] = (
        _ids_filter(
            Booking.objects.filter(
                status__in=Booking.LIVE_STATUSES, start__gte=week_lo, start__lt=week_hi
            ).exclude(shift_id=ctx.shift.pk),
            "worker_id",
            ids,
        )
        .order_by()
        .annotate(week=TruncWeek("start", tzinfo=LONDON))
        .values_list("worker_id", "week")
        .annotate(length=Sum(F("end") - F("start")))
        .values_list("worker_id", "week", "length")
    )
    return querysets


def _bookings_span(ctx: _Context) -> tuple[datetime, datetime]:
    """The live bookings the overlap, rest and weekly-hours rules read are those within
    these times: the shift's week, and the rest period either side of the shift."""
    return min(ctx.week_start, ctx.shift.start - ctx.rest), max(
        ctx.week_end, ctx.shift.end + ctx.rest
    )


def _totals_span(ctx: _Context) -> tuple[datetime, datetime]:
    """The weeks the 17-week average reads: 16 weeks either side of the shift's."""
    span = timedelta(weeks=WORKING_TIME_REFERENCE_WEEKS - 1)
    week = datetime.combine(_monday(ctx.first_day), datetime.min.time(), tzinfo=LONDON)
    return week - span, week + span + timedelta(weeks=1)


@lru_cache(maxsize=256)
def _valid_documents_sql(
    first_day: date, last_day: date, types: tuple[int, ...]
) -> tuple[str, tuple[Any, ...]]:
    """The documents of these types valid from ``first_day`` to ``last_day``
    (``Document.objects.valid_between``, the one definition) as SQL selecting (worker id,
    type): compiled once per distinct question, which many shifts share."""
    documents = Document.objects.valid_between(first_day, last_day).filter(
        doc_type_id__in=list(types)
    )
    sql, params = (
        documents.order_by().values_list("worker_id", "doc_type_id").query.sql_with_params()
    )
    return sql, tuple(params)


_LIVE = ", ".join(f"'{status.value}'" for status in Booking.LIVE_STATUSES)


def facts_sql(ctx: _Context, workers: str) -> dict[str, QuerySet[Any] | RawRows]:
    """``facts_querysets`` on PostgreSQL for the workers in ``workers`` (``_ids_literal``),
    written out: the same rows, but a wave does not pay for Django building and compiling
    six querysets (a third of a first wave's Python time), and the ids are passed as one
    literal built once. The definition of a valid document stays Django's
    (``_valid_documents_sql``).

    The documents come back only for the workers who lack one the shift needs
    (``documents_lacking``: the needed types they do hold); everyone else holds them all.
    The live statuses are written into the text, as the overlap index's predicate is
    (``booking_worker_no_overlap``), so the planner can use it."""
    shift = ctx.shift
    fetched: dict[str, QuerySet[Any] | RawRows] = {}
    if ctx.documents:
        needed = tuple(sorted(ctx.documents))
        valid, params = _valid_documents_sql(ctx.first_day, ctx.last_day, needed)
        fetched["documents_lacking"] = RawRows(
            "SELECT u.id, COALESCE(d.types, '{}') FROM unnest(%s::bigint[]) AS u(id) "
            "LEFT JOIN (SELECT v.worker_id, ARRAY_AGG(DISTINCT v.doc_type_id) AS types FROM ("
            + valid
            + ") AS v WHERE v.worker_id = ANY(%s::bigint[]) GROUP BY 1) AS d "
            "ON d.worker_id = u.id WHERE d.types IS NULL OR cardinality(d.types) < %s",
            (workers, *params, workers, len(needed)),
        )
    fetched["special"] = standing_sql(ctx, workers)
    days = [d for d, _a, _b in ctx.needed]
    weekdays = sorted({d.weekday() for d in days})
    fetched["availability"] = RawRows(
        "SELECT worker_id, weekday, start_minute, end_minute FROM workers_availabilityrule "
        "WHERE worker_id = ANY(%s::bigint[]) AND weekday = ANY(%s::smallint[])",
        (workers, "{" + ",".join(map(str, weekdays)) + "}"),
    )
    fetched["exceptions"] = RawRows(
        "SELECT worker_id, day, available, start_minute, end_minute "
        "FROM workers_availabilityexception WHERE worker_id = ANY(%s::bigint[]) "
        "AND day = ANY(%s::date[])",
        (workers, "{" + ",".join(d.isoformat() for d in days) + "}"),
    )
    # The live bookings near the shift, found by time alone in the GiST index of live
    # bookings' times (``booking_live_when``, shifts migration 0008: a few thousand
    # bookings in a week, a few dozen index pages), then kept for these workers. The range
    # is written ``tstzrange(start, "end")`` as that index is, not with the explicit '[)'
    # (the same range) of the exclusion constraint's index (``booking_worker_no_overlap``),
    # which leads with the worker: asked by time alone, it reads the whole index (4,000
    # pages, 50-100 ms at 1,000,000 shifts), yet the planner prefers it. OFFSET 0 keeps the
    # workers' test (a hash of the ids) out of the index scan.
    lo, hi = _bookings_span(ctx)
    fetched["bookings"] = RawRows(
        'SELECT b.worker_id, b.start, b."end" FROM (SELECT worker_id, start, "end", id '
        f'FROM shifts_booking WHERE status IN ({_LIVE}) AND start < %s AND "end" > %s '
        'AND tstzrange(start, "end") && tstzrange(%s, %s) AND shift_id <> %s OFFSET 0) AS b '
        "WHERE b.worker_id = ANY(%s::bigint[]) ORDER BY b.start, b.id",
        (hi, lo, lo, hi, shift.pk, workers),
    )
    fetched["weekly_totals"] = weekly_totals_sql(ctx, workers)
    return fetched


# A worker's working-time standing (``working_time_standing``), as ``standing_sql`` reads it.
STANDING_COLUMNS = ("opt_out_signed_on", "opt_out_withdrawn_on", "approved_at")


def standing_sql(ctx: _Context, workers: str) -> RawRows:
    """The few of the workers in ``workers`` (``_ids_literal``) with an opt-out on record, or
    who joined within the 17 weeks before the shift's week (their reference period is
    shorter): rows (id, opt-out signed, withdrawn, approved at) for
    ``working_time_standing``."""
    return RawRows(
        "SELECT id, opt_out_signed_on, opt_out_withdrawn_on, approved_at FROM workers_worker "
        "WHERE id = ANY(%s::bigint[]) AND (opt_out_signed_on IS NOT NULL OR approved_at > %s)",
        (workers, _joined_after(ctx)),
    )


def weekly_totals_sql(ctx: _Context, workers: str, joiners: str | None = None) -> RawRows:
    """Hours booked in each week around the shift's (a booking counts in the week it starts,
    London time) for the workers in ``workers`` (``_ids_literal``), only for those
    ``_within_working_time`` must look at week by week (``weeks_matter``, in SQL): most
    pass at a glance, and an urgent evaluation otherwise reads tens of thousands of weekly
    rows. The recent joiners among them are found by primary key, for the few workers
    with weeks (the joiners asked among ``workers`` only: asked of every worker, as an
    ``EXISTS`` was, the planner hashed the whole table's joiners, 5 ms a first wave at
    20,000 workers). The live statuses are written into the text, as the predicate of the
    index that answers it alone is (``booking_live_weeks``: worker, start, with the end and
    the shift; shifts migration 0008), so each worker's 33 weeks are read from the index,
    not their whole history from the table. Rows (worker id, Monday, length).

    A caller that already knows which of ``workers`` joined within that period passes them
    (``joiners``, ``_ids_literal``): then no worker row is read (an urgent evaluation, whose
    scan returns each one's start, looked thousands up by primary key again: 6 of its 7 ms
    at 20,000 workers)."""
    week_lo, week_hi = _totals_span(ctx)
    # Two steps: first which workers need their weeks (their hours over the 33 weeks summed
    # straight from the index, no week worked out per booking, and only for those whose live
    # bookings ever add up to more than the glance allows: ``WorkerRecord.live_seconds``, one
    # row each, where most workers' bookings are dozens of index entries), then the weeks of
    # those few only. Working out every booking's London week for every worker, then dropping most,
    # cost three times as much (120 against 40 ms for 2,700 workers at 1,000,000 shifts).
    live = (
        f"FROM shifts_booking b WHERE b.status IN ({_LIVE}) AND b.start >= %s AND b.start < %s "
        "AND b.shift_id <> %s"
    )
    span = (week_lo, week_hi, ctx.shift.pk)
    if joiners is None:
        joined: tuple[str, tuple[Any, ...]] = (
            "SELECT w.id FROM workers_worker w WHERE w.id = ANY(%s::bigint[]) "
            "AND w.approved_at > %s",
            (workers, _joined_after(ctx)),
        )
    else:
        joined = ("SELECT unnest(%s::bigint[])", (joiners,))
    return RawRows(
        "WITH chosen AS (SELECT b.worker_id "
        + live
        + " AND b.worker_id = ANY(ARRAY(SELECT r.worker_id FROM shifts_workerrecord r "
        "WHERE r.worker_id = ANY(%s::bigint[]) AND r.live_seconds > %s)) GROUP BY 1 "
        'HAVING EXTRACT(EPOCH FROM SUM(b."end" - b.start)) > %s UNION '
        + joined[0]
        + ") SELECT b.worker_id, DATE_TRUNC('week', b.start AT TIME ZONE %s) AS week, "
        'SUM(b."end" - b.start) AS length '
        + live
        + " AND b.worker_id = ANY(ARRAY(SELECT worker_id FROM chosen)) GROUP BY 1, 2",
        (
            *span,
            workers,
            _glance_seconds(ctx),
            _glance_seconds(ctx),
            *joined[1],
            LONDON.key,
            *span,
        ),
    )


@dataclass(frozen=True)
class RawRows:
    """A hand-written query ``fetch_many`` runs beside the querysets (PostgreSQL only)."""

    sql: str
    params: tuple[Any, ...]


_NONE_HELD: frozenset[int] = frozenset()


def working_time_standing(
    special: Sequence[Any], *, pool: Any, day: date, joined_after: datetime
) -> tuple[bool, date | None]:
    """From a worker's (opt-out signed, withdrawn, approved at): whether they have opted
    out of the 48-hour average on ``day``, and the Monday of their first week if they were
    approved after ``joined_after`` (a recent joiner's reference period starts then)."""
    signed_on, withdrawn_on, approved_at = special
    opted_out = working_time_opted_out(
        signed_on=signed_on,
        withdrawn_on=withdrawn_on,
        notice_days=pool.opt_out_notice_days,
        day=day,
    )
    first_week = None
    if approved_at is not None and approved_at > joined_after:
        first_week = _monday(approved_at.astimezone(LONDON).date())
    return opted_out, first_week


def facts_from_rows(
    ctx: _Context, rows: list[WorkerRow], fetched: dict[str, list[tuple[Any, ...]]]
) -> list[Facts]:
    """Each worker's ``Facts`` from the rows of ``facts_querysets``: the rows grouped by
    worker first, then each worker's ``Facts`` made in one call."""
    pool = ctx.shift.pool
    held: dict[int, AbstractSet[int]] = {}
    if "documents_lacking" in fetched:
        # Only those lacking a document came back; everyone else holds every one needed.
        everyone = frozenset(ctx.documents)
        for wid, types in fetched["documents_lacking"]:
            held[wid] = set(types)
    else:
        everyone = _NONE_HELD
        for wid, doc_type in fetched.get("documents", ()):
            held.setdefault(wid, set()).add(doc_type)  # type: ignore[attr-defined]
    special = {wid: rest for wid, *rest in fetched["special"]}
    availability: dict[int, list[tuple[int, int, int]]] = {}
    for wid, wd, s, e in fetched["availability"]:
        availability.setdefault(wid, []).append((wd, s, e))
    exceptions: dict[int, list[tuple[date, bool, int, int]]] = {}
    for wid, day, available, s, e in fetched["exceptions"]:
        exceptions.setdefault(wid, []).append((day, available, s, e))
    bookings: dict[int, list[tuple[datetime, datetime]]] = {}
    for wid, b_start, b_end in fetched["bookings"]:
        bookings.setdefault(wid, []).append((b_start, b_end))
    totals = _weeks_by_worker(fetched["weekly_totals"])
    joined_after = _joined_after(ctx)
    default_cap = pool.default_weekly_hours_cap
    facts: list[Facts] = []
    for pk, cap, ready in rows:
        opted_out, first_week = False, None
        if pk in special:
            opted_out, first_week = working_time_standing(
                special[pk], pool=pool, day=ctx.first_day, joined_after=joined_after
            )
        weeks = None if opted_out else totals.get(pk)
        worker = Facts(
            worker_id=pk,
            weekly_hours_cap=cap if cap is not None else default_cap,
            ready_now_until=ready,
            opted_out=opted_out,
            first_week=first_week,
            documents=held.get(pk, everyone),
            availability=availability.get(pk) or [],
            exceptions=exceptions.get(pk) or [],
            bookings=bookings.get(pk) or [],
            weekly_totals=weeks or {},
        )
        if weeks and not weeks_matter(ctx, worker):
            worker.weekly_totals = {}
        facts.append(worker)
    return facts


def _weeks_by_worker(rows: list[tuple[Any, ...]]) -> dict[int, dict[date, float]]:
    """The rows of the weekly totals' query as hours by Monday, by worker."""
    totals: dict[int, dict[date, float]] = {}
    for wid, monday, length in rows:
        totals.setdefault(wid, {})[monday.date()] = length.total_seconds() / 3600
    return totals


def facts_add_standing(ctx: _Context, facts: list[Facts], rows: list[tuple[Any, ...]]) -> None:
    """Give these workers' ``Facts`` (loaded without it) their working-time standing from
    the rows of ``standing_sql``, as ``facts_from_rows`` would have; before their weekly
    totals (``facts_add_weeks`` keeps none for those opted out)."""
    special = {wid: rest for wid, *rest in rows}
    if not special:
        return
    pool, joined_after = ctx.shift.pool, _joined_after(ctx)
    for worker in facts:
        found = special.get(worker.worker_id)
        if found is not None:
            worker.opted_out, worker.first_week = working_time_standing(
                found, pool=pool, day=ctx.first_day, joined_after=joined_after
            )


def facts_add_weeks(ctx: _Context, facts: list[Facts], rows: list[tuple[Any, ...]]) -> None:
    """Give these workers' ``Facts`` (loaded without them) their weekly totals from the rows
    of ``weekly_totals_sql``, as ``facts_from_rows`` would have: kept only for those not
    opted out, and dropped where the rule passes them at a glance (``weeks_matter``)."""
    totals = _weeks_by_worker(rows)
    for worker in facts:
        weeks = None if worker.opted_out else totals.get(worker.worker_id)
        if weeks:
            worker.weekly_totals = weeks
            if not weeks_matter(ctx, worker):
                worker.weekly_totals = {}


def fact_failures(
    ctx: _Context, facts: Facts, *, every: bool, rules: tuple[Rule, ...] | None = None
) -> list[Rule]:
    """The per-worker rules ``facts`` break, in order (the first only, unless ``every``)."""
    failed: list[Rule] = []
    for rule in fact_rules() if rules is None else rules:
        assert rule.passes is not None
        if not rule.passes(ctx, facts):
            failed.append(rule)
            if not every:
                break
    return failed


# The prefilter's columns: (id, user id, distance km, weekly hours cap, ready-now-until,
# favourite).
PREFILTER_COLUMNS = (
    "pk",
    "user_id",
    "_distance",
    "weekly_hours_cap",
    "ready_now_until",
    "_favourite",
)


@dataclass(frozen=True)
class Near:
    """A first wave's search near the site first: only the workers within ``km`` of it
    (and the provider's favourites, wherever they live, who rank first): see
    ``_prefiltered_near_first``."""

    km: float
    favourite_ids: Sequence[int]


def _prefilter_queryset(ctx: _Context, near: Near | None = None) -> QuerySet[Worker]:
    """The workers who pass every SQL rule (``sql_rules()``), annotated with ``_distance``,
    ``_radius`` and ``_favourite``; on PostgreSQL the great circle is still to be compared
    (``_within_reach``), see ``_prefiltered_rows``.

    Written for the executor's per-row cost, which is what a run on a big pool pays for
    (every vetted worker of the role within range comes back, thousands of rows): the blocks,
    the offers already made and the favourites are ``IN (subquery)`` tests, which PostgreSQL
    answers by hashing the (small) subquery once, not by a join node probing each row."""
    provider_id = ctx.shift.provider_id
    # The rules' conditions in their order, ANDed and filtered on at once (a queryset
    # cloned once, not once per rule: a third of building it).
    condition = Q()
    for rule in sql_rules():
        assert rule.where is not None
        if rule.where is not _within_reach:
            condition &= rule.where(ctx)
        elif near is None:
            # For the distance, a box first (cheap); the great circle is compared later.
            condition &= _distance_box(ctx)
        else:
            condition &= Q(_near_box(ctx, near.km)) | Q(pk__in=list(near.favourite_ids))
    return Worker.objects.annotate(
        **_distance_annotations(ctx),
        _favourite=_worker_listed(Favourite._meta.db_table, "provider_id", provider_id),
    ).filter(condition)


# The order the prefilter returns (favourites first, band, id) as one bigint, a fifth of the
# query's time cheaper to sort on than three keys: not-a-favourite in bit 56, the band in
# bits 40-55 (no two points on Earth are 20,100 km apart: under 2**16 half-kilometre bands),
# the id in bits 0-39 (ids stay under 2**40). ``key >> 40`` is the (favourite, band) group.
_ORDER_KEY = (
    '((NOT w."_favourite")::int::bigint << 56) | (FLOOR(w."_distance" / %s)::bigint << 40) | w."pk"'
)
# The worker's id in an order key: its low 40 bits.
ORDER_KEY_ID = (1 << 40) - 1


def _prefiltered_rows(ctx: _Context) -> list[tuple[Any, ...]]:
    """One query: the workers who pass every SQL rule (``sql_rules()``: pool, vetted, role,
    skills, within their travel radius by great-circle distance, neither block, not yet
    offered), favourites first, then by half-kilometre band, then id. Rows are
    ``PREFILTER_COLUMNS``: (id, user id, distance km, weekly hours cap, ready-now-until,
    favourite)."""
    if connection.vendor == "postgresql":
        return _rows(RawRows(*prefilter_sql(ctx)))
    qs = _prefilter_queryset(ctx).filter(_within_reach(ctx))
    qs = qs.annotate(_band=Floor(F("_distance") / Value(DISTANCE_BAND_KM)))
    return list(qs.order_by("-_favourite", "_band", "pk").values_list(*PREFILTER_COLUMNS))


def prefilter_sql(ctx: _Context) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: ``_prefiltered_rows``'s query and its parameters.

    The distance is computed once per row in a subquery, not again for the filter, the
    result and the sort: the great circle (``_within_reach``) is filtered and sorted on
    outside it (OFFSET 0 keeps the planner from folding the distance back into the filter,
    the result and the sort key: three times the trigonometry). psycopg already returns
    these columns as Python wants them, so Django's per-row converters are skipped too. The
    order is ``_ORDER_KEY``."""
    qs = _prefilter_queryset(ctx)
    inner, params = qs.order_by().values_list(*PREFILTER_COLUMNS, "_radius").query.sql_with_params()
    sql = (
        'SELECT w."pk", w."user_id", w."_distance", w."weekly_hours_cap", '
        'w."ready_now_until", w."_favourite" FROM (' + inner + " OFFSET 0) AS w "
        'WHERE w."_distance" <= w."_radius" ORDER BY ' + _ORDER_KEY
    )
    return sql, (*params, DISTANCE_BAND_KM)


def screened_prefilter_sql(ctx: _Context, rules: tuple[Rule, ...]) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: ``prefilter_sql`` with the screens of ``rules`` (``screened_rules()``)
    judged in the same scan. Rows (order key, verdict, then the rest of
    ``PREFILTER_COLUMNS``, then ``STANDING_COLUMNS``), unsorted, as the scan finds them
    (``stream_rows``): the order key is ``_ORDER_KEY``, whose low 40 bits are the worker's
    id (``ORDER_KEY_ID``); the verdict is the first rule that certainly fails (its place in
    ``rules``, from 1), 0 if every one certainly passes, or minus the place of the first
    whose screen could not say (that rule and those after it are for the facts to judge;
    those before it passed). The other columns come back only for those not failed (NULL
    otherwise: most of an urgent evaluation's rows, nothing to read), the working-time
    standing only for those who have one (``standing_sql``)."""
    screens = []
    for rule in rules:
        assert rule.screen is not None
        screens.append(rule.screen(ctx))
    # The verdict once the rules before a place have passed, built from the last rule back:
    # ``after[0]`` from this place on, ``after[1]`` from the next. Each screen is asked only
    # where the ones before it said TRUE, so one that is the same as the one before it
    # (overlap's and rest's: no booking near the shift) is not asked again, and one that
    # says something cheaper once an earlier one said TRUE (``Screen.given``) says that: a
    # hashed probe per row saved each.
    after: list[tuple[str, tuple[Any, ...]]] = [("0", ()), ("0", ())]
    for place in range(len(rules), 0, -1):
        said = screens[place - 1]
        passed = after[1] if place < len(rules) and screens[place] == said else after[0]
        sql, sql_params = said.sql, said.params
        if said.given is not None and said.given in screens[: place - 1]:
            sql, sql_params = said.then, said.then_params
        verdict = (
            f"CASE ({sql}) WHEN FALSE THEN {place} WHEN TRUE THEN ({passed[0]}) ELSE -{place} END"
        )
        after = [(verdict, (*sql_params, *passed[1])), after[0]]
    verdict, params = after[0]
    qs = _prefilter_queryset(ctx).annotate(
        _verdict=RawSQL(verdict, params, output_field=IntegerField())
    )
    inner, inner_params = (
        qs.order_by()
        .values_list(*PREFILTER_COLUMNS, *STANDING_COLUMNS, "_radius", "_verdict")
        .query.sql_with_params()
    )
    kept = ", ".join(
        f'CASE WHEN w."_verdict" <= 0 THEN w."{column}" END' for column in PREFILTER_COLUMNS[1:]
    )
    standing = ", ".join(
        f'CASE WHEN w."_verdict" <= 0 AND (w."opt_out_signed_on" IS NOT NULL '
        f'OR w."approved_at" > %s) THEN w."{column}" END'
        for column in STANDING_COLUMNS
    )
    sql = (
        "SELECT "
        + _ORDER_KEY
        + ', w."_verdict", '
        + kept
        + ", "
        + standing
        + " FROM ("
        + inner
        + ' OFFSET 0) AS w WHERE w."_distance" <= w."_radius"'
    )
    joined_after = _joined_after(ctx)
    return sql, (DISTANCE_BAND_KM, *[joined_after] * len(STANDING_COLUMNS), *inner_params)


def _prefiltered_first(ctx: _Context, target: int) -> tuple[list[tuple[Any, ...]], int]:
    """``_prefiltered_rows`` cut where a wave stops examining (PostgreSQL only), in one query:
    the rows of the first ``target`` workers and of the rest of the last one's (favourite,
    band) group, and how many come after them (the workers a wave does not reach, whose
    rows a second pass loads only if the first falls short).

    What a wave pays for is then the distance and a top-N sort, not handing (or sorting,
    or storing) thousands of rows or ids."""
    first, rest, _group, _after = _first_slice(ctx, target, None)
    return first, rest


# How far from the site a first wave looks before reading everyone in reach
# (``_prefiltered_near_first``): far enough that a borough's first slice (about 50 workers
# of the shift's role) usually lies inside; closer than any pool's default radius.
NEAR_FIRST_KM = 2.0


@dataclass
class NearFirst:
    """What a first wave read near the site (``_prefiltered_near_first``): the first slice,
    the rows after it up to about ``SLICE_GROWTH`` slices' worth (whole groups: the next
    slice a wave that falls short reads), and how many more the box holds after those.
    ``first + after`` is the start of ``_prefiltered_rows`` exactly."""

    first: list[tuple[Any, ...]]
    after: list[tuple[Any, ...]]
    beyond: int


def _prefiltered_near_first(ctx: _Context, target: int, near: Near) -> NearFirst | None:
    """``_prefiltered_first`` read near the site only (PostgreSQL), or None when that cannot
    be the same first slice.

    The box of ``near.km`` (``_near_box``, a GiST index) and the favourites are read and
    cut as ``_prefiltered_first`` cuts; the slice is the one the whole reach would give when
    its last (favourite, band) group is a favourites' group (every favourite in reach is
    read) or a band that ends within ``near.km`` (every worker of it and of the bands
    before lives in the box), and someone in the box is left after it. The rows after the
    slice that come back (``NearFirst.after``) are whole groups within ``near.km`` too, so a
    wave that falls short reads on through them before it reads everyone. The rest is a
    count of those in the box only: at least one, not all (``MatchRun.searched_km``). So a
    first wave on a big pool reads the few hundred workers around the site, not the
    thousands in reach."""
    first, rest, group, after = _first_slice(ctx, target, near)
    if len(first) < target or rest < 1:
        return None
    not_favourite, band = group >> 16, group & 0xFFFF
    if not_favourite and (band + 1) * DISTANCE_BAND_KM > near.km:
        return None
    # ``after`` ends where a group ends, inside the box (its bands end within ``near.km``
    # as the slice's do, since every row in it is nearer than ``near.km`` or a favourite).
    return NearFirst(first, after, rest - len(after))


def _first_slice(
    ctx: _Context, target: int, near: Near | None
) -> tuple[list[tuple[Any, ...]], int, int, list[tuple[Any, ...]]]:
    """``_prefiltered_first``'s query, over everyone in reach or (``near``) the workers near
    the site and the favourites: the first slice's rows, how many come after them, the
    (favourite, band) group the slice ends with (``_ORDER_KEY >> 40``), and (``near`` only)
    the rows after the slice up to the group of the ``(1 + SLICE_GROWTH) * target``-th."""
    qs = _prefilter_queryset(ctx, near)
    inner, params = qs.order_by().values_list(*PREFILTER_COLUMNS, "_radius").query.sql_with_params()
    within: tuple[Any, ...] = ()
    where = 'w."_distance" <= w."_radius"'
    if near is not None:
        where += ' AND (w."_favourite" OR w."_distance" < %s)'
        within = (near.km,)
    # The cuts are the (favourite, band) groups of the ``target``-th worker (the first
    # slice) and, near the site, of the ``(1 + SLICE_GROWTH) * target``-th (what else comes
    # back), found by top-N sorts (heaps), not by numbering every row: the rows in groups up
    # to the last cut come back, the rest are only counted. Fewer workers than that:
    # everyone comes back.
    top = "COALESCE((SELECT k >> 40 FROM o ORDER BY k OFFSET %s LIMIT 1), 9223372036854775807)"
    offsets: tuple[int, ...] = (max(target - 1, 0),)
    cuts, upto = top + " AS g", "g"
    if near is not None:
        offsets += ((1 + SLICE_GROWTH) * target - 1,)
        cuts, upto = cuts + ", " + top + " AS g2", "g2"
    sql = (
        "WITH o AS MATERIALIZED ("
        'SELECT w."pk", w."user_id", w."_distance", w."weekly_hours_cap", '
        'w."ready_now_until", w."_favourite", ' + _ORDER_KEY + " AS k "
        "FROM (" + inner + " OFFSET 0) AS w WHERE " + where + "), "
        "cut AS (SELECT " + cuts + ") "
        'SELECT o."pk", o."user_id", o."_distance", o."weekly_hours_cap", '
        'o."ready_now_until", o."_favourite", NULL::bigint AS rest, o.k, '
        "(o.k >> 40) <= (SELECT g FROM cut) AS in_first FROM o "
        "WHERE (o.k >> 40) <= (SELECT " + upto + " FROM cut) "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, count(*), NULL, NULL "
        "FROM o WHERE (o.k >> 40) > (SELECT g FROM cut) "
        "ORDER BY 8 NULLS LAST"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (DISTANCE_BAND_KM, *params, *within, *offsets))
        fetched = cursor.fetchall()
    rest = int(fetched[-1][6] or 0) if fetched and fetched[-1][0] is None else 0
    first = [row[:6] for row in fetched if row[0] is not None and row[8]]
    after = [row[:6] for row in fetched if row[0] is not None and not row[8]]
    group = max((row[7] for row in fetched if row[0] is not None and row[8]), default=0) >> 40
    return first, rest, group, after


# After a first slice that fell short, each further slice takes (whole groups of) this many
# times the workers of the one before: a wave examines about as many workers as it needs,
# in a handful of round trips however far the prefilter's list runs.
SLICE_GROWTH = 4


@dataclass
class Verdict:
    """Every rule one worker breaks for one shift, and the facts they were judged on."""

    ctx: _Context
    failed: list[Rule]
    facts: Facts | None
    distance_km: float | None

    def words(self, audience: Audience = "coordinator") -> list[str]:
        return [w for rule in self.failed for w in self.words_for(rule, audience)]

    def words_for(self, rule: Rule, audience: Audience = "coordinator") -> list[str]:
        if rule.name == "distance" and self.distance_km is None:
            return [
                "we have no home location for this worker"
                if audience == "coordinator"
                else "we have no home address for you"
            ]
        return rule.words(self.ctx, self.facts, audience)


def worker_rule_failures(
    *,
    shift: ShiftRequest,
    worker_id: int,
    now: datetime,
    rules: tuple[Rule, ...] | None = None,
) -> Verdict:
    """Judge one worker against ``rules`` (all of them unless told), in the order they are
    listed: each SQL rule as a boolean column of the worker's row, each per-worker rule on
    their ``Facts``. A handful of queries, for ``matching_explain``, direct offers, "why
    not?" and acceptance alike."""
    ctx = _context(shift, now)
    rules = ELIGIBILITY if rules is None else rules
    columns: dict[str, Any] = {}
    for rule in (r for r in rules if r.where is not None):
        assert rule.where is not None
        condition = rule.where(ctx)
        # An empty condition (no skills needed) passes everyone.
        columns[f"_ok_{rule.name}"] = (
            ExpressionWrapper(condition, output_field=BooleanField()) if condition else Value(True)
        )
    row = (
        Worker.objects.filter(pk=worker_id)
        .annotate(**_distance_annotations(ctx))
        .annotate(**columns)
        .values(*WORKER_ROW_COLUMNS, "_distance", *columns)
        .first()
    )
    if row is None:
        return Verdict(ctx, [RULE_BY_NAME["vetted"]], None, None)
    worker_row: WorkerRow = tuple(row[c] for c in WORKER_ROW_COLUMNS)  # type: ignore[assignment]
    facts = worker_facts(ctx, [worker_row])[0]
    failed = [
        rule
        for rule in rules
        if (rule.where is not None and not row[f"_ok_{rule.name}"])
        or (rule.passes is not None and not rule.passes(ctx, facts))
    ]
    return Verdict(ctx, failed, facts, row["_distance"])


def matching_explain(
    *,
    shift: ShiftRequest,
    worker: Worker,
    now: datetime | None = None,
    audience: Audience = "coordinator",
) -> list[str]:
    """Why ``worker`` would not be offered ``shift`` now, in plain words; empty if eligible.
    ``audience="worker"`` words it to the worker themselves."""
    verdict = worker_rule_failures(shift=shift, worker_id=worker.pk, now=now or timezone.now())
    return verdict.words(audience)
