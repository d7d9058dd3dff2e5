"""The council's numbers: one definition of every figure, used by the dashboard pages, the
CSV exports and ``GET /api/v1/stats/summary/`` alike, so a figure means the same thing
wherever it is read.

Definitions (their words for people are in reports.definitions, the one registry):

1. A shift request belongs to a date range when it *starts* (Europe/London) on a day in
   the range, inclusive at both ends. A night shift starting at 22:00 on the last day
   counts in full, even though most of its hours fall after the range ends.
2. Requested: shift requests in the range that the provider did not withdraw (status
   other than cancelled). Places requested = their headcount; hours requested = headcount
   × shift length.
3. Filled places = places booked by the pool and not cancelled (a live booking: booked or
   attended). A no-show frees the place again, so it is not filled unless re-booked.
   A shift is filled when all of its places are. Hours filled = filled places × shift length.
4. Fill rate = filled ÷ requested, in shifts (whole shifts filled) and in hours.
5. Time to fill = from the request being posted to its last place being booked
   (``posted_at`` → ``filled_at``), over shifts that are filled; median and 90th percentile
   (linear interpolation, as PostgreSQL's ``percentile_cont``).
6. Unfilled places = places requested − places filled. "Went to agency" = the unfilled
   places of requests the provider marked as covered by an agency. Requests that have not
   started yet may still fill.
7. Agency hours avoided = hours filled. Agency spend avoided = Σ filled places × shift
   length × the agency hourly rate on the request (the provider's stated rate, or the pool's
   benchmark rate for the role when they gave none).
8. The pool's own cost = Σ filled places × shift length × the pool's hourly cost for the role.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncMonth, TruncWeek

from pools.models import RoleRate
from reports.definitions import dashboard_definitions, ratio
from shifts.models import Booking, ShiftRequest, Timesheet

LONDON = ZoneInfo("Europe/London")
CENT = Decimal("0.01")

# The dashboards' "How these figures are defined", from the one registry.
DEFINITIONS: list[tuple[str, str]] = dashboard_definitions()

SPEND_FORMULA = "filled places × shift length (hours) × agency hourly rate on the request"


# --- SQL building blocks -------------------------------------------------------------------


class MinutesBetween(Func):
    """Whole minutes from ``earlier`` to ``later`` (two datetime expressions)."""

    output_field = IntegerField()

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        (later, later_params), (earlier, earlier_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        if connection.vendor == "sqlite":
            sql = f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 1440) AS integer)"
        else:
            sql = f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})) / 60) AS integer)"
        return sql, (*later_params, *earlier_params)


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


SHIFT_MINUTES = MinutesBetween(F("end"), F("start"))
TTF_MINUTES = MinutesBetween(F("filled_at"), F("posted_at"))
UNFILLED = F("headcount") - F("booked_count")
IS_FILLED = Q(booked_count__gte=F("headcount"))


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, exactly as ``percentile_cont``."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def hours(minutes: int | None) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(CENT, ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


rate = ratio  # filled ÷ requested and the like: reports.definitions.ratio


# --- The scope of a report ------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which shifts a report covers: pools, an inclusive date range and optional filters."""

    pool_ids: tuple[int, ...]
    start: date
    end: date
    provider_id: int | None = None
    role_id: int | None = None
    site_type: str = ""

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        low = datetime.combine(self.start, time.min, tzinfo=LONDON)
        high = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LONDON)
        return low, high

    def shifts(self) -> QuerySet[ShiftRequest]:
        """Every shift request starting in the range, withdrawn ones included."""
        low, high = self.bounds
        qs = ShiftRequest.objects.filter(pool_id__in=self.pool_ids, start__gte=low, start__lt=high)
        if self.provider_id:
            qs = qs.filter(provider_id=self.provider_id)
        if self.role_id:
            qs = qs.filter(role_id=self.role_id)
        if self.site_type:
            qs = qs.filter(site__site_type=self.site_type)
        return qs

    def requested(self) -> QuerySet[ShiftRequest]:
        return self.shifts().exclude(status=ShiftRequest.Status.CANCELLED)

    def bookings(self) -> QuerySet[Booking]:
        low, high = self.bounds
        qs = Booking.objects.filter(
            shift__pool_id__in=self.pool_ids, shift__start__gte=low, shift__start__lt=high
        )
        if self.provider_id:
            qs = qs.filter(shift__provider_id=self.provider_id)
        if self.role_id:
            qs = qs.filter(shift__role_id=self.role_id)
        if self.site_type:
            qs = qs.filter(shift__site__site_type=self.site_type)
        return qs


# --- Headline figures ------------------------------------------------------------------------


@dataclass
class Figures:
    """The headline figures for one group of shifts (the whole scope, a week, a provider...)."""

    shifts_requested: int = 0
    places_requested: int = 0
    minutes_requested: int = 0
    shifts_filled: int = 0
    places_filled: int = 0
    minutes_filled: int = 0
    places_unfilled: int = 0
    minutes_unfilled: int = 0
    places_to_agency: int = 0
    minutes_to_agency: int = 0
    spend_avoided: Decimal = Decimal("0.00")
    pool_cost: Decimal = Decimal("0.00")
    median_ttf_minutes: float | None = None
    p90_ttf_minutes: float | None = None

    @property
    def hours_requested(self) -> Decimal:
        return hours(self.minutes_requested)

    @property
    def hours_filled(self) -> Decimal:
        return hours(self.minutes_filled)

    @property
    def hours_unfilled(self) -> Decimal:
        return hours(self.minutes_unfilled)

    @property
    def hours_to_agency(self) -> Decimal:
        return hours(self.minutes_to_agency)

    @property
    def agency_hours_avoided(self) -> Decimal:
        return self.hours_filled

    @property
    def fill_rate(self) -> Decimal | None:
        return rate(self.shifts_filled, self.shifts_requested)

    @property
    def hours_fill_rate(self) -> Decimal | None:
        return rate(self.minutes_filled, self.minutes_requested)

    @property
    def saving(self) -> Decimal:
        return self.spend_avoided - self.pool_cost


_AGGREGATES: dict[str, Any] = {
    "shifts_requested": Count("id"),
    "places_requested": Sum("headcount"),
    "minutes_requested": Sum(F("headcount") * SHIFT_MINUTES),
    "shifts_filled": Count("id", filter=IS_FILLED),
    "places_filled": Sum("booked_count"),
    "minutes_filled": Sum(F("booked_count") * SHIFT_MINUTES),
    "places_unfilled": Sum(UNFILLED),
    "minutes_unfilled": Sum(UNFILLED * SHIFT_MINUTES),
    "places_to_agency": Sum(UNFILLED, filter=Q(outcome=ShiftRequest.Outcome.AGENCY)),
    "minutes_to_agency": Sum(
        UNFILLED * SHIFT_MINUTES, filter=Q(outcome=ShiftRequest.Outcome.AGENCY)
    ),
    # minutes × £/hour; divided by 60 in Python to keep the arithmetic exact.
    "spend_minutes": Sum(F("booked_count") * SHIFT_MINUTES * F("agency_hourly_rate")),
}


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _group_rows(qs: QuerySet[ShiftRequest], key: str | None) -> list[dict[str, Any]]:
    aggregates = dict(_AGGREGATES)
    if _postgres():
        filled = Q(IS_FILLED, filled_at__isnull=False)
        aggregates["median_ttf"] = PercentileCont(TTF_MINUTES, 0.5, filter=filled)
        aggregates["p90_ttf"] = PercentileCont(TTF_MINUTES, 0.9, filter=filled)
    if key is None:
        return [qs.aggregate(**aggregates)]
    return list(qs.values(key).annotate(**aggregates).order_by(key))


def _ttf_by_group(qs: QuerySet[ShiftRequest], key: str | None) -> dict[Any, list[float]]:
    """Times to fill, grouped, for databases without ``percentile_cont`` (SQLite)."""
    filled = qs.filter(IS_FILLED, filled_at__isnull=False).annotate(ttf=TTF_MINUTES)
    groups: dict[Any, list[float]] = defaultdict(list)
    if key is None:
        for ttf in filled.values_list("ttf", flat=True):
            groups[None].append(float(ttf))
    else:
        for group, ttf in filled.values_list(key, "ttf"):
            groups[group].append(float(ttf))
    return groups


def _pool_cost_by_group(qs: QuerySet[ShiftRequest], key: str | None) -> dict[Any, Decimal]:
    rates = {
        (r.pool_id, r.role_id): r.pool_hourly_cost
        for r in RoleRate.objects.filter(pool_id__in=qs.values("pool_id").distinct())
    }
    fields = ["pool_id", "role_id"] + ([key] if key else [])
    costs: dict[Any, Decimal] = defaultdict(lambda: Decimal("0"))
    for row in qs.values(*fields).annotate(m=Sum(F("booked_count") * SHIFT_MINUTES)):
        cost = rates.get((row["pool_id"], row["role_id"]), Decimal("0"))
        costs[row[key] if key else None] += Decimal(row["m"] or 0) * cost / 60
    return {k: money(v) for k, v in costs.items()}


def figures_grouped(scope: Scope, key: str | None) -> dict[Any, Figures]:
    """Headline figures for the scope, grouped by the value of ``key`` (a ``values()`` path
    or annotation), or one group (key None → {None: Figures})."""
    qs = scope.requested()
    if key == "week":
        qs = qs.annotate(week=TruncWeek("start", tzinfo=LONDON))
    elif key == "month":
        qs = qs.annotate(month=TruncMonth("start", tzinfo=LONDON))
    rows = _group_rows(qs, key)
    ttf = None if _postgres() else _ttf_by_group(qs, key)
    costs = _pool_cost_by_group(qs, key)
    result: dict[Any, Figures] = {}
    for row in rows:
        group = row.get(key) if key else None
        if key in ("week", "month") and isinstance(group, datetime):
            group = group.astimezone(LONDON).date() if group.tzinfo else group.date()
        fig = Figures(
            shifts_requested=row["shifts_requested"] or 0,
            places_requested=row["places_requested"] or 0,
            minutes_requested=row["minutes_requested"] or 0,
            shifts_filled=row["shifts_filled"] or 0,
            places_filled=row["places_filled"] or 0,
            minutes_filled=row["minutes_filled"] or 0,
            places_unfilled=row["places_unfilled"] or 0,
            minutes_unfilled=row["minutes_unfilled"] or 0,
            places_to_agency=row["places_to_agency"] or 0,
            minutes_to_agency=row["minutes_to_agency"] or 0,
            spend_avoided=money(Decimal(str(row["spend_minutes"] or 0)) / 60),
            pool_cost=costs.get(row.get(key) if key else None, Decimal("0.00")),
        )
        if ttf is None:
            fig.median_ttf_minutes = row.get("median_ttf")
            fig.p90_ttf_minutes = row.get("p90_ttf")
        else:
            values = ttf.get(row.get(key) if key else None, [])
            fig.median_ttf_minutes = percentile(values, 0.5)
            fig.p90_ttf_minutes = percentile(values, 0.9)
        result[group] = fig
    return result


def figures_summary(scope: Scope) -> Figures:
    return figures_grouped(scope, None).get(None) or Figures()


def weeks_in(scope: Scope) -> list[date]:
    """Mondays of every week the range touches, so empty weeks show as zero."""
    monday = scope.start - timedelta(days=scope.start.weekday())
    weeks = []
    while monday <= scope.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


# --- Cancellations, no-shows and provider conduct ------------------------------------------


@dataclass
class Conduct:
    bookings: int = 0
    cancelled_by_worker: int = 0
    cancelled_by_provider: int = 0
    cancelled_by_pool: int = 0
    late_by_worker: int = 0
    late_by_provider: int = 0
    turned_away: int = 0
    no_shows: int = 0
    requests_withdrawn: int = 0
    timesheets_reviewed: int = 0
    timesheets_auto_approved: int = 0
    mean_approval_lag_hours: Decimal | None = None


CANCELLED = Booking.Status.CANCELLED
BY = Booking.CancelledBy


def conduct_counts() -> dict[str, Count]:
    """The booking counts behind provider conduct, as aggregates over bookings: one
    definition for the live figures and the rollups."""
    return {
        "bookings": Count("id"),
        "cancelled_by_worker": Count("id", filter=Q(status=CANCELLED, cancelled_by=BY.WORKER)),
        "cancelled_by_provider": Count("id", filter=Q(status=CANCELLED, cancelled_by=BY.PROVIDER)),
        "cancelled_by_pool": Count("id", filter=Q(status=CANCELLED, cancelled_by=BY.POOL)),
        "late_by_worker": Count(
            "id", filter=Q(status=CANCELLED, cancelled_by=BY.WORKER, late_cancellation=True)
        ),
        "late_by_provider": Count(
            "id", filter=Q(status=CANCELLED, cancelled_by=BY.PROVIDER, late_cancellation=True)
        ),
        "turned_away": Count(
            "id",
            filter=Q(status=CANCELLED, cancelled_by=BY.PROVIDER, cancelled_at__gte=F("start")),
        ),
        "no_shows": Count("id", filter=Q(status=Booking.Status.NO_SHOW)),
    }


def conduct_grouped(scope: Scope, key: str | None) -> dict[Any, Conduct]:
    """Cancellations, no-shows and timesheet approval lag, grouped by ``key`` (a path from
    the shift, e.g. ``provider__name``) or in one group. "Turned away" = a booking the
    provider cancelled after the shift had started: the worker came and was sent home."""
    booking_key = f"shift__{key}" if key else None
    aggregates = conduct_counts()
    bookings = scope.bookings()
    rows = (
        [bookings.aggregate(**aggregates)]
        if booking_key is None
        else list(bookings.values(booking_key).annotate(**aggregates))
    )
    result: dict[Any, Conduct] = {}
    for row in rows:
        group = row[booking_key] if booking_key else None
        result[group] = Conduct(**{k: int(row[k] or 0) for k in aggregates})  # type: ignore[arg-type]

    withdrawn = scope.shifts().filter(status=ShiftRequest.Status.CANCELLED)
    if key is None:
        result.setdefault(None, Conduct()).requests_withdrawn = withdrawn.count()
    else:
        for row in withdrawn.values(key).annotate(n=Count("id")):
            result.setdefault(row[key], Conduct()).requests_withdrawn = row["n"]

    low, high = scope.bounds
    sheets = Timesheet.objects.filter(
        booking__in=bookings.values("id"), clock_out__isnull=False, reviewed_at__isnull=False
    )
    ts_key = f"booking__shift__{key}" if key else None
    lag = MinutesBetween(F("reviewed_at"), F("clock_out"))
    ts_aggregates = {
        "reviewed": Count("id", filter=~Q(status=Timesheet.Status.AUTO_APPROVED)),
        "auto": Count("id", filter=Q(status=Timesheet.Status.AUTO_APPROVED)),
        "lag": Sum(lag, filter=~Q(status=Timesheet.Status.AUTO_APPROVED)),
    }
    ts_rows = (
        [sheets.aggregate(**ts_aggregates)]
        if ts_key is None
        else list(sheets.values(ts_key).annotate(**ts_aggregates))
    )
    for row in ts_rows:
        group = row[ts_key] if ts_key else None
        conduct = result.setdefault(group, Conduct())
        conduct.timesheets_reviewed = row["reviewed"] or 0
        conduct.timesheets_auto_approved = row["auto"] or 0
        if conduct.timesheets_reviewed:
            conduct.mean_approval_lag_hours = (
                Decimal(row["lag"] or 0) / 60 / conduct.timesheets_reviewed
            ).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return result


# --- Unfilled demand -------------------------------------------------------------------------

TIME_BANDS = [
    (0, 6, "Night (00:00–06:00)"),
    (6, 12, "Morning (06:00–12:00)"),
    (12, 18, "Afternoon (12:00–18:00)"),
    (18, 24, "Evening (18:00–24:00)"),
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass
class Unfilled:
    label: str
    places: int = 0
    minutes: int = 0

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)


def unfilled_by(scope: Scope, dimension: str) -> list[Unfilled]:
    """Unfilled places and hours, by ``skill``, ``district``, ``weekday`` or ``time_of_day``
    (of the shift's start, UK time), largest first for skill and district."""
    qs = scope.requested().filter(booked_count__lt=F("headcount"))
    sums = {"places": Sum(UNFILLED), "minutes": Sum(UNFILLED * SHIFT_MINUTES)}
    if dimension == "skill":
        rows = qs.values("skills__name").annotate(**sums)
        out = [
            Unfilled(r["skills__name"] or "No particular skill", r["places"], r["minutes"] or 0)
            for r in rows
        ]
        return sorted(out, key=lambda u: (-u.minutes, u.label))
    if dimension == "district":
        rows = qs.values("site__district").annotate(**sums)
        out = [Unfilled(r["site__district"] or "—", r["places"], r["minutes"] or 0) for r in rows]
        return sorted(out, key=lambda u: (-u.minutes, u.label))
    if dimension == "weekday":
        rows = qs.annotate(d=ExtractIsoWeekDay("start", tzinfo=LONDON)).values("d").annotate(**sums)
        by_day = {r["d"]: r for r in rows}
        return [
            Unfilled(
                name,
                by_day.get(i + 1, {}).get("places") or 0,
                by_day.get(i + 1, {}).get("minutes") or 0,
            )
            for i, name in enumerate(WEEKDAYS)
        ]
    if dimension == "time_of_day":
        rows = qs.annotate(h=ExtractHour("start", tzinfo=LONDON)).values("h").annotate(**sums)
        bands = [Unfilled(label) for _lo, _hi, label in TIME_BANDS]
        for r in rows:
            for i, (lo, hi, _label) in enumerate(TIME_BANDS):
                if lo <= r["h"] < hi:
                    bands[i].places += r["places"] or 0
                    bands[i].minutes += r["minutes"] or 0
        return bands
    raise ValueError(f"unknown dimension {dimension!r}")


# --- How evenly the work is spread -----------------------------------------------------------


def gini(values: Iterable[float]) -> float | None:
    """0 = everyone worked the same hours; towards 1 = a few did nearly all of it."""
    xs = sorted(v for v in values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return None
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * weighted) / (n * total) - (n + 1) / n


def top_share(values: Iterable[float], fraction: float = 0.1) -> float | None:
    """Share of all hours worked by the busiest ``fraction`` of workers who worked (at least one)."""
    xs = sorted(values, reverse=True)
    total = sum(xs)
    if not xs or total == 0:
        return None
    top = max(1, math.ceil(len(xs) * fraction))
    return sum(xs[:top]) / total


@dataclass
class Spread:
    minutes_by_worker: dict[int, int] = field(default_factory=dict)

    @property
    def workers(self) -> int:
        return len(self.minutes_by_worker)

    # Worked out once per object (a kept report carries them: reports.cache).
    @cached_property
    def gini(self) -> float | None:
        return gini(self.minutes_by_worker.values())

    @cached_property
    def top_tenth_share(self) -> float | None:
        return top_share(self.minutes_by_worker.values(), 0.1)


def hours_spread(scope: Scope) -> Spread:
    """Booked-and-not-cancelled hours per worker on the scope's shifts."""
    live = scope.bookings().filter(status__in=Booking.LIVE_STATUSES)
    rows = live.values("worker_id").annotate(m=Sum(MinutesBetween(F("end"), F("start"))))
    return Spread({r["worker_id"]: r["m"] or 0 for r in rows})
