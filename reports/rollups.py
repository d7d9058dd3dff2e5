"""Pre-added dashboard figures, so reports over a million shift requests stay fast.

``rollups_refresh`` recomputes, for a pool and a span of days, exactly the sums that
reports.metrics defines (it calls the same expressions), one row per day × provider × role ×
type of care, plus rows that add up every provider. The report functions here read those
rows and return the same objects as reports.metrics (Figures, Conduct, Unfilled, Spread); the
tests check both paths give identical figures on hand-built histories.

Freshness: the Celery beat task ``reports.tasks.rollups_refresh_recent`` rebuilds the days
from 60 days ago to 60 days ahead every five minutes (where shifts still change); older
days change rarely and are rebuilt by ``rollups_refresh`` (e.g. after an import).
Coverage: each pool's ``RollupState`` records the one run of days its rollups have counted;
before reading, ``rollups_ensure`` counts any day of the range outside it from the shift
table, so a page never reads a partial figure as a whole one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate, TruncWeek
from django.utils import timezone

from pools.models import Pool, RoleRate
from providers.models import Provider
from reports.cache import report_cache_retire
from reports.metrics import (
    _AGGREGATES,
    IS_FILLED,
    LONDON,
    SHIFT_MINUTES,
    TIME_BANDS,
    TTF_MINUTES,
    UNFILLED,
    WEEKDAYS,
    Conduct,
    Figures,
    MinutesBetween,
    Scope,
    Spread,
    Unfilled,
    conduct_counts,
    money,
)
from reports.models import (
    DemandRollup,
    Period,
    PoolDayTtf,
    ProviderTtfToDate,
    RollupState,
    ShiftRollup,
    WorkerRollup,
)
from shifts.models import Booking, ShiftRequest, Timesheet

ADDITIVE = [
    "shifts_requested",
    "places_requested",
    "minutes_requested",
    "shifts_filled",
    "places_filled",
    "minutes_filled",
    "places_unfilled",
    "minutes_unfilled",
    "places_to_agency",
    "minutes_to_agency",
    "spend_minutes",
]
CONDUCT = [
    "requests_withdrawn",
    "bookings",
    "cancelled_by_worker",
    "cancelled_by_provider",
    "cancelled_by_pool",
    "late_by_worker",
    "late_by_provider",
    "turned_away",
    "no_shows",
    "timesheets_reviewed",
    "timesheets_auto_approved",
    "approval_lag_minutes",
]
Key = tuple[date, int, int, str]  # day, provider, role, site type


# --- Building --------------------------------------------------------------------------------


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time.min, tzinfo=LONDON)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=LONDON)
    return low, high


def _local_day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else value.date()


def _grouped(
    qs: QuerySet[Any], prefix: str, aggregates: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """``qs`` grouped by the shift's local day, provider, role and type of care."""
    p = prefix
    rows = (
        qs.annotate(
            r_day=TruncDate(f"{p}start", tzinfo=LONDON),
            r_provider=F(f"{p}provider_id"),
            r_role=F(f"{p}role_id"),
            r_type=F(f"{p}site__site_type"),
        )
        .values("r_day", "r_provider", "r_role", "r_type")
        .annotate(**aggregates)
        .order_by()
    )
    yield from rows


def _key(row: dict[str, Any]) -> Key:
    return (_local_day(row["r_day"]), row["r_provider"], row["r_role"], row["r_type"])


def _span(pool: Pool, start: date, end: date) -> None:
    low, high = _bounds(start, end)
    shifts = ShiftRequest.objects.filter(pool=pool, start__gte=low, start__lt=high)
    requested = shifts.exclude(status=ShiftRequest.Status.CANCELLED)
    rows: dict[Key, dict[str, Any]] = defaultdict(dict)
    for row in _grouped(requested, "", _AGGREGATES):
        rows[_key(row)].update({k: row[k] or 0 for k in ADDITIVE})
    for row in _grouped(
        shifts.filter(status=ShiftRequest.Status.CANCELLED), "", {"n": Count("id")}
    ):
        rows[_key(row)]["requests_withdrawn"] = row["n"]
    histograms: dict[Key, dict[str, int]] = defaultdict(dict)
    filled = requested.filter(IS_FILLED, filled_at__isnull=False).annotate(ttf=TTF_MINUTES)
    ttf_rows = (
        filled.annotate(
            r_day=TruncDate("start", tzinfo=LONDON),
            r_provider=F("provider_id"),
            r_role=F("role_id"),
            r_type=F("site__site_type"),
        )
        .values("r_day", "r_provider", "r_role", "r_type", "ttf")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in ttf_rows:
        histograms[_key(row)][str(row["ttf"])] = row["n"]

    bookings = Booking.objects.filter(shift__in=shifts.values("id"))
    conduct = conduct_counts()
    for row in _grouped(bookings, "shift__", conduct):
        rows[_key(row)].update({k: row[k] for k in conduct})
    sheets = Timesheet.objects.filter(
        booking__in=bookings.values("id"), clock_out__isnull=False, reviewed_at__isnull=False
    )
    auto = Q(status=Timesheet.Status.AUTO_APPROVED)
    for row in _grouped(
        sheets,
        "booking__shift__",
        {
            "timesheets_reviewed": Count("id", filter=~auto),
            "timesheets_auto_approved": Count("id", filter=auto),
            "approval_lag_minutes": Sum(
                MinutesBetween(F("reviewed_at"), F("clock_out")), filter=~auto
            ),
        },
    ):
        rows[_key(row)].update(
            timesheets_reviewed=row["timesheets_reviewed"],
            timesheets_auto_approved=row["timesheets_auto_approved"],
            approval_lag_minutes=row["approval_lag_minutes"] or 0,
        )

    shift_rows: list[ShiftRollup] = []
    totals: dict[tuple[date, int, str], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    total_hist: dict[tuple[date, int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, values in rows.items():
        day, provider_id, role_id, site_type = key
        hist = histograms.get(key, {})
        shift_rows.append(
            ShiftRollup(
                pool=pool,
                day=day,
                provider_id=provider_id,
                role_id=role_id,
                site_type=site_type,
                ttf_histogram=hist,
                **values,
            )
        )
        total = totals[(day, role_id, site_type)]
        for name, value in values.items():
            total[name] += value
        for minutes, n in hist.items():
            total_hist[(day, role_id, site_type)][minutes] += n
    for (day, role_id, site_type), values in totals.items():
        shift_rows.append(
            ShiftRollup(
                pool=pool,
                day=day,
                provider_id=None,
                role_id=role_id,
                site_type=site_type,
                ttf_histogram=dict(total_hist[(day, role_id, site_type)]),
                **values,
            )
        )

    pool_days: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (day, _role_id, _site_type), hist in total_hist.items():
        for minutes, n in hist.items():
            pool_days[day][minutes] += n
    pool_day_rows = [
        PoolDayTtf(pool=pool, day=day, ttf_histogram=dict(hist)) for day, hist in pool_days.items()
    ]
    demand_rows = list(_demand_rows(pool, requested.filter(booked_count__lt=F("headcount"))))
    worker_rows = [
        WorkerRollup(
            pool=pool, day=_local_day(r["r_day"]), worker_id=r["worker_id"], minutes=r["m"]
        )
        for r in bookings.filter(status__in=Booking.LIVE_STATUSES)
        .annotate(r_day=TruncDate("shift__start", tzinfo=LONDON))
        .values("r_day", "worker_id")
        .annotate(m=Sum(MinutesBetween(F("end"), F("start"))))
        .order_by()
    ]
    with transaction.atomic():
        DemandRollup.objects.filter(pool=pool, day__gte=start, day__lte=end).delete()
        for model in (ShiftRollup, WorkerRollup, PoolDayTtf):
            model.objects.filter(  # type: ignore[attr-defined]
                pool=pool, period=Period.DAY, day__gte=start, day__lte=end
            ).delete()
        ShiftRollup.objects.bulk_create(shift_rows, batch_size=2000)
        DemandRollup.objects.bulk_create(demand_rows, batch_size=2000)
        WorkerRollup.objects.bulk_create(worker_rows, batch_size=2000)
        PoolDayTtf.objects.bulk_create(pool_day_rows, batch_size=2000)


def _demand_rows(pool: Pool, unfilled: QuerySet[ShiftRequest]) -> Iterator[DemandRollup]:
    sums = {"places": Sum(UNFILLED), "minutes": Sum(UNFILLED * SHIFT_MINUTES)}
    band_of = {h: label for lo, hi, label in TIME_BANDS for h in range(lo, hi)}
    sources: list[tuple[str, QuerySet[Any], Any]] = [
        (DemandRollup.Dimension.SKILL, unfilled.annotate(k=F("skills__name")), lambda v: v or ""),
        (
            DemandRollup.Dimension.DISTRICT,
            unfilled.annotate(k=F("site__district")),
            lambda v: v or "",
        ),
        (
            DemandRollup.Dimension.BAND,
            unfilled.annotate(k=ExtractHour("start", tzinfo=LONDON)),
            lambda v: band_of[v],
        ),
    ]
    for dimension, qs, label in sources:
        merged: dict[tuple[date, int | None, int, str, str], list[int]] = defaultdict(
            lambda: [0, 0]
        )
        for row in _grouped_k(qs, sums):
            day, provider, role_id, site_type = _key(row)
            key = label(row["k"])
            levels: tuple[int | None, ...] = (provider, None)
            for level in levels:
                acc = merged[(day, level, role_id, site_type, key)]
                acc[0] += row["places"] or 0
                acc[1] += row["minutes"] or 0
        for (day, provider_id, role_id, site_type, key), (places, minutes) in merged.items():
            yield DemandRollup(
                pool=pool,
                day=day,
                provider_id=provider_id,
                role_id=role_id,
                site_type=site_type,
                dimension=dimension,
                key=key,
                places=places,
                minutes=minutes,
            )


def _grouped_k(qs: QuerySet[Any], aggregates: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return iter(
        qs.annotate(
            r_day=TruncDate("start", tzinfo=LONDON),
            r_provider=F("provider_id"),
            r_role=F("role_id"),
            r_type=F("site__site_type"),
        )
        .values("r_day", "r_provider", "r_role", "r_type", "k")
        .annotate(**aggregates)
        .order_by()
    )


def _period_start(day: date, period: str) -> date:
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return day


def _period_end(day: date, period: str) -> date:
    """The last day of the ``period`` that ``day`` falls in."""
    first = _period_start(day, period)
    if period == Period.WEEK:
        return first + timedelta(days=6)
    if period == Period.MONTH:
        return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return day


# Which coarse rows each rollup keeps (besides its daily rows).
COARSE: list[tuple[Any, tuple[str, ...], tuple[str, ...], bool, tuple[str, ...]]] = [
    # model, key fields, summed fields, has a histogram, periods
    (
        ShiftRollup,
        ("provider_id", "role_id", "site_type"),
        (*ADDITIVE, *CONDUCT),
        True,
        (Period.WEEK, Period.MONTH),
    ),
    (PoolDayTtf, (), (), True, (Period.WEEK, Period.MONTH)),
    (WorkerRollup, ("worker_id",), ("minutes",), False, (Period.MONTH,)),
]


def _coarsen(pool: Pool, start: date, end: date) -> None:
    """Rebuild the week and month rows of every week and month that overlaps
    ``start``–``end``, by adding up their daily rows (so they match them exactly)."""
    for model, keys, sums, has_hist, periods in COARSE:
        for period in periods:
            first, last = _period_start(start, period), _period_end(end, period)
            merged: dict[tuple[Any, ...], dict[str, Any]] = {}
            daily = model.objects.filter(
                pool=pool, period=Period.DAY, day__gte=first, day__lte=last
            ).values("day", *keys, *sums, *(["ttf_histogram"] if has_hist else []))
            for row in daily.iterator(chunk_size=5000):
                key = (_period_start(row["day"], period), *(row[k] for k in keys))
                acc = merged.get(key)
                if acc is None:
                    acc = merged[key] = {n: 0 for n in sums}
                    if has_hist:
                        acc["ttf_histogram"] = defaultdict(int)
                for n in sums:
                    acc[n] += row[n] or 0
                if has_hist:
                    for minutes, count in row["ttf_histogram"].items():
                        acc["ttf_histogram"][minutes] += count
            rows = []
            for key, values in merged.items():
                if has_hist:
                    values["ttf_histogram"] = dict(values["ttf_histogram"])
                rows.append(
                    model(
                        pool=pool,
                        period=period,
                        day=key[0],
                        **dict(zip(keys, key[1:], strict=True)),
                        **values,
                    )
                )
            with transaction.atomic():
                model.objects.filter(
                    pool=pool, period=period, day__gte=first, day__lte=last
                ).delete()
                model.objects.bulk_create(rows, batch_size=2000)
    _running_totals(pool, start)
    report_cache_retire(pool_id=pool.pk)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def _running(
    first: date,
    last: date | None,
    before: Iterable[tuple[Any, ...]],
    months: Iterable[tuple[Any, ...]],
) -> Iterator[tuple[date, tuple[Any, ...], dict[str, int]]]:
    """Running totals of histograms, month by month from ``first`` to ``last``: ``before``
    holds (*key, histogram) totals to the month before ``first``, ``months`` holds
    (day, *key, histogram) month rows. Yields (month, key, total) for every key seen."""
    running: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in before:
        running[tuple(row[:-1])].update(row[-1])
    added: dict[date, list[tuple[tuple[Any, ...], dict[str, int]]]] = defaultdict(list)
    for row in months:
        added[row[0]].append((tuple(row[1:-1]), row[-1]))
    month = first
    while last is not None and month <= last:
        for key, hist in added.get(month, []):
            for minutes, n in hist.items():
                running[key][minutes] += n
        for key, total in running.items():
            yield month, key, dict(total)
        month = _next_month(month)


def _running_totals(pool: Pool, start: date) -> None:
    """Rebuild the running-total histograms (by provider: ProviderTtfToDate; by role and
    type of care: ShiftRollup rows of period TO_DATE) from ``start``'s month to the pool's
    last month with rollups, adding each month's rows to the month before's totals."""
    first = _period_start(start, Period.MONTH)
    last = (
        ShiftRollup.objects.filter(pool=pool, period=Period.MONTH)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    month_rows = ShiftRollup.objects.filter(pool=pool, period=Period.MONTH, day__gte=first)
    by_provider = [
        ProviderTtfToDate(pool=pool, provider_id=key[0], month=month, ttf_histogram=hist)
        for month, key, hist in _running(
            first,
            last,
            ProviderTtfToDate.objects.filter(pool=pool, month=_previous_month(first)).values_list(
                "provider_id", "ttf_histogram"
            ),
            month_rows.filter(provider__isnull=False).values_list(
                "day", "provider_id", "ttf_histogram"
            ),
        )
    ]
    by_role_and_type = [
        ShiftRollup(
            pool=pool,
            period=Period.TO_DATE,
            day=month,
            role_id=key[0],
            site_type=key[1],
            ttf_histogram=hist,
        )
        for month, key, hist in _running(
            first,
            last,
            ShiftRollup.objects.filter(
                pool=pool, period=Period.TO_DATE, day=_previous_month(first)
            ).values_list("role_id", "site_type", "ttf_histogram"),
            month_rows.filter(provider__isnull=True).values_list(
                "day", "role_id", "site_type", "ttf_histogram"
            ),
        )
    ]
    with transaction.atomic():
        ProviderTtfToDate.objects.filter(pool=pool, month__gte=first).delete()
        ProviderTtfToDate.objects.bulk_create(by_provider, batch_size=2000)
        ShiftRollup.objects.filter(pool=pool, period=Period.TO_DATE, day__gte=first).delete()
        ShiftRollup.objects.bulk_create(by_role_and_type, batch_size=2000)


def _to_date_difference(
    scope: Scope, rows: QuerySet[Any], month_field: str, keys: tuple[str, ...]
) -> tuple[dict[tuple[Any, ...], dict[str, int]], Q] | None:
    """Histograms of the whole months inside the scope, per ``keys``, as one running total
    minus another, and the filter for the rows of the days either side; None if the range
    holds no whole month."""
    months = _whole(scope.start, scope.end, Period.MONTH)
    if months is None:
        return None
    first, last = months
    hists: dict[tuple[Any, ...], dict[str, int]] = {}
    # Running totals stop at each pool's last month with rollups: they hold after it.
    latest = dict(rows.values("pool_id").annotate(m=Max(month_field)).values_list("pool_id", "m"))
    for pool_id, final in latest.items():
        of_pool = rows.filter(pool_id=pool_id).values_list(*keys, "ttf_histogram")
        below = {
            tuple(key): hist
            for *key, hist in of_pool.filter(**{month_field: min(_previous_month(first), final)})
        }
        for *key, upto in of_pool.filter(
            **{month_field: min(_period_start(last, Period.MONTH), final)}
        ):
            before = below.get(tuple(key))
            hists[tuple(key)] = (
                {m: n - before.get(m, 0) for m, n in upto.items()} if before else upto
            )
    edges = _days(scope.start, first - timedelta(days=1), Period.WEEK) | _days(
        last + timedelta(days=1), scope.end, Period.WEEK
    )
    return hists, edges


def rollups_coarsen(*, pool_ids: Iterable[int], start: date, end: date) -> None:
    """Rebuild the week and month rows over ``start``–``end`` from the daily rows (done by
    ``rollups_refresh``; public for tests that write daily rows themselves)."""
    for pool in Pool.objects.filter(pk__in=list(pool_ids)):
        _coarsen(pool, start, end)


LOCK_NAMESPACE = 14_001  # pg_advisory_xact_lock(namespace, pool id): one rebuild per pool


def _lock(pool: Pool) -> None:
    """Hold the pool's rebuild lock to the end of the transaction: two rebuilds of the
    same days at once (beat, a page counting a gap, seed_demo) would each delete the old
    rows and both insert, counting every shift twice."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, pool.pk])


def _shift_days(pool: Pool) -> tuple[date, date] | None:
    span = ShiftRequest.objects.filter(pool=pool).order_by("start")
    earliest, latest = span.first(), span.last()
    if earliest is None or latest is None:
        return None
    return (
        timezone.localtime(earliest.start, LONDON).date(),
        timezone.localtime(latest.start, LONDON).date(),
    )


def _refresh_pool(
    pool: Pool, start: date | None, end: date | None, *, only_missing: bool = False
) -> int:
    """Rebuild one pool's rollups for ``start``–``end`` (None: from its first or to its
    last shift) and widen the run of days they cover. The covered days stay one unbroken
    run: a pool's first rebuild starts at its first shift, and a rebuild that would leave
    a hole beside the days already covered rebuilds the hole too. With ``only_missing``
    only the days not yet covered are rebuilt (what a page asks for)."""
    with transaction.atomic():
        _lock(pool)
        state = RollupState.objects.filter(pool=pool).first()
        covers = (
            (state.covers_from, state.covers_to)
            if state is not None and state.covers_from and state.covers_to
            else None
        )
        shift_days = _shift_days(pool)
        first = start or (shift_days[0] if shift_days else None)
        last = end or (shift_days[1] if shift_days else None)
        if first is None or last is None:
            return 0
        if covers is None:
            if shift_days is not None:
                first = min(first, shift_days[0])
        else:
            if only_missing:
                if covers[0] <= first and last <= covers[1]:
                    return 0
                if covers[0] <= first <= covers[1] + timedelta(days=1):
                    first = covers[1] + timedelta(days=1)
                if covers[0] - timedelta(days=1) <= last <= covers[1]:
                    last = covers[0] - timedelta(days=1)
            first = min(first, covers[1] + timedelta(days=1))
            last = max(last, covers[0] - timedelta(days=1))
        day = first
        while day <= last:
            chunk_end = min(day + timedelta(days=30), last)
            _span(pool, day, chunk_end)
            day = chunk_end + timedelta(days=1)
        _coarsen(pool, first, last)
        now = timezone.now()
        rebuilt = (last - first).days + 1
        # "As of" speaks of the days where shifts still change: only a rebuild that
        # counted today moves it on.
        counted_today = first <= timezone.localdate() <= last
        if covers is not None:
            first, last = min(first, covers[0]), max(last, covers[1])
        if state is None:
            RollupState.objects.create(
                pool=pool, refreshed_at=now, covers_from=first, covers_to=last
            )
        else:
            state.covers_from, state.covers_to = first, last
            if counted_today:
                state.refreshed_at = now
            state.save(update_fields=["covers_from", "covers_to", "refreshed_at"])
        return rebuilt


def rollups_refresh(
    *, pool_ids: Iterable[int] | None = None, start: date | None = None, end: date | None = None
) -> int:
    """Rebuild the rollups of ``pool_ids`` (all pools) for the days ``start``–``end``
    (every day that has shifts), a month at a time. Idempotent. Returns days rebuilt."""
    pools = Pool.objects.all() if pool_ids is None else Pool.objects.filter(pk__in=list(pool_ids))
    return sum(_refresh_pool(pool, start, end) for pool in pools)


def rollups_refresh_recent(*, today: date | None = None, days: int = 60) -> int:
    today = today or timezone.localdate()
    return rollups_refresh(start=today - timedelta(days=days), end=today + timedelta(days=days))


def rollups_ensure(*, pool_ids: Iterable[int], start: date, end: date) -> list[tuple[date, date]]:
    """Make the rollups of ``pool_ids`` cover ``start``–``end`` before a report reads
    them: days never counted (before a pool's first rebuild, or beyond the days beat keeps
    fresh) are counted from the shift table now, so a figure is never read from rows that
    miss part of its range. One query when nothing is missing. Returns the runs of days
    that were counted now (the page says so)."""
    ids = set(pool_ids)
    covered = {
        pk: (cf, ct)
        for pk, cf, ct in RollupState.objects.filter(pool_id__in=ids).values_list(
            "pool_id", "covers_from", "covers_to"
        )
    }
    counted: list[tuple[date, date]] = []
    for pk in sorted(ids):
        cf, ct = covered.get(pk, (None, None))
        if cf is not None and ct is not None and cf <= start and end <= ct:
            continue
        pool = Pool.objects.get(pk=pk)
        if _refresh_pool(pool, start, end, only_missing=True):
            if cf is None or ct is None:
                counted.append((start, end))
            else:
                if start < cf:
                    counted.append((start, min(end, cf - timedelta(days=1))))
                if end > ct:
                    counted.append((max(start, ct + timedelta(days=1)), end))
    return sorted(set(counted))


def rollups_refreshed_at(*, pool_ids: Iterable[int]) -> datetime | None:
    """When the days around today were last recounted, for the least fresh of the pools."""
    states = RollupState.objects.filter(pool_id__in=list(pool_ids))
    times = [s.refreshed_at for s in states]
    return min(times) if times else None


# --- Reading ---------------------------------------------------------------------------------

GROUP_FIELDS = {
    None: None,
    "week": "week",
    "pool_id": "pool_id",
    "provider_id": "provider_id",
    "role_id": "role_id",
    "site__site_type": "site_type",
}


def _whole(start: date, end: date, period: str) -> tuple[date, date] | None:
    """The first and last day of the run of whole weeks or months inside the range."""
    first = (
        start
        if _period_start(start, period) == start
        else _period_end(start, period) + timedelta(days=1)
    )
    last = end if _period_end(end, period) == end else _period_start(end, period) - timedelta(1)
    return (first, last) if first <= last else None


def _provider_percentiles(scope: Scope) -> dict[Any, Percentiles]:
    """Percentiles by provider (and ``TOTAL``) for a scope without filters: the whole
    months are one running total minus another per provider, the days either side come
    from week and daily rows."""
    pools = {"pool_id__in": scope.pool_ids}
    # Histograms keyed by the minutes as text (as stored), converted once at the end.
    hists: dict[Any, dict[str, int]] = {}
    whole = _to_date_difference(
        scope, ProviderTtfToDate.objects.filter(**pools), "month", ("provider_id",)
    )
    if whole:
        by_key, edges = whole
        hists = {key[0]: hist for key, hist in by_key.items()}
    else:
        edges = _days(scope.start, scope.end, Period.WEEK)
    for provider_id, hist in (
        ShiftRollup.objects.filter(edges, provider__isnull=False, **pools)
        .exclude(ttf_histogram={})
        .values_list("provider_id", "ttf_histogram")
    ):
        into = hists.setdefault(provider_id, {})
        for m, n in hist.items():
            into[m] = into.get(m, 0) + n
    result: dict[Any, Percentiles] = {}
    total: dict[int, int] = defaultdict(int)
    for provider_id, hist in hists.items():
        kept = {int(m): n for m, n in hist.items() if n}
        if kept:
            for minutes, n in kept.items():
                total[minutes] += n
            result[provider_id] = (
                histogram_percentile(kept, 0.5),
                histogram_percentile(kept, 0.9),
            )
    if total:
        result[TOTAL] = (histogram_percentile(total, 0.5), histogram_percentile(total, 0.9))
    return result


def _days(start: date, end: date, period: str = Period.MONTH) -> Q:
    """The rows covering ``start``–``end`` exactly once: ``period`` rows for the weeks or
    months inside the range, daily rows for the days at either end."""
    daily = Q(period=Period.DAY)
    whole = _whole(start, end, period) if period != Period.DAY else None
    if whole is None:
        return daily & Q(day__gte=start, day__lte=end)
    first, last = whole
    return (
        Q(period=period, day__gte=first, day__lte=_period_start(last, period))
        | (daily & Q(day__gte=start, day__lt=first))
        | (daily & Q(day__gt=last, day__lte=end))
    )


def _base(
    scope: Scope, model: Any, by_provider: bool = False, period: str = Period.MONTH
) -> QuerySet[Any]:
    qs = model.objects.filter(pool_id__in=scope.pool_ids)
    if model is DemandRollup:
        qs = qs.filter(day__gte=scope.start, day__lte=scope.end)
    else:
        qs = qs.filter(_days(scope.start, scope.end, period))
    if scope.provider_id:
        qs = qs.filter(provider_id=scope.provider_id)
    elif by_provider:
        qs = qs.filter(provider__isnull=False)
    else:
        qs = qs.filter(provider__isnull=True)
    if scope.role_id:
        qs = qs.filter(role_id=scope.role_id)
    if scope.site_type:
        qs = qs.filter(site_type=scope.site_type)
    return qs


@contextmanager
def report_reading() -> Iterator[None]:
    """Read a report in one transaction, with PostgreSQL's JIT off: the planner
    overestimates the rollup queries and would spend longer compiling than running them."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Merging histograms hashes tens of thousands of rows: keep that in memory.
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
        yield


def histogram_percentile(hist: dict[int, int], fraction: float) -> float | None:
    """percentile_cont over the multiset a histogram describes (exact)."""
    total = sum(hist.values())
    if not total:
        return None
    position = (total - 1) * fraction
    low_rank, high_rank = int(position), min(int(position) + 1, total - 1)
    low = high = None
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if low is None and seen > low_rank:
            low = value
        if seen > high_rank:
            high = value
            break
    assert low is not None and high is not None
    return low + (high - low) * (position - low_rank)


TOTAL = "__total__"


Percentiles = tuple[float | None, float | None]


def _percentiles(
    qs: QuerySet[Any], field: str | None, with_total: bool = True
) -> dict[Any, Percentiles]:
    """Median and 90th percentile time to fill per group (and of the whole, under
    ``TOTAL``), from the rows' histograms.

    On PostgreSQL the histograms are merged in the database (``jsonb_each_text``, grouping
    sets) and running totals pick out the few minutes each percentile falls on, so a
    handful of rows per group come back; elsewhere the merge happens here."""
    inner = qs.exclude(ttf_histogram={})
    # Weeks read a row or so per week (whole weeks have their own rows): merging those few
    # here is three times faster than in PostgreSQL.
    if connection.vendor != "postgresql" or field == "week":
        hists: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for row in inner.values(*([field] if field else []), "ttf_histogram").order_by():
            g: Any = (_week(row[field]) if field == "week" else row[field]) if field else None
            for minutes, n in row["ttf_histogram"].items():
                hists[g][int(minutes)] += n
                hists[TOTAL][int(minutes)] += n
        return {
            g: (histogram_percentile(h, 0.5), histogram_percentile(h, 0.9))
            for g, h in hists.items()
        }
    cols = [field, "ttf_histogram"] if field else ["ttf_histogram"]
    sql, params = inner.values(*cols).order_by().query.sql_with_params()
    if field:
        merged = (
            # Weeks come back as dates: parsing thousands of timestamps costs more.
            f'SELECT sub."{field}"{"::date" if field == "week" else ""} AS g, kv.key::int AS m, '
            f'SUM(kv.value::bigint) AS n, GROUPING(sub."{field}") AS t '
            f"FROM ({sql}) AS sub CROSS JOIN LATERAL jsonb_each_text(sub.ttf_histogram) AS kv "
            + (
                f'GROUP BY GROUPING SETS ((sub."{field}", kv.key::int), (kv.key::int))'
                if with_total
                else f'GROUP BY sub."{field}", kv.key::int'
            )
        )
    else:
        merged = (
            "SELECT NULL AS g, kv.key::int AS m, SUM(kv.value::bigint) AS n, 1 AS t "
            f"FROM ({sql}) AS sub CROSS JOIN LATERAL jsonb_each_text(sub.ttf_histogram) AS kv "
            "GROUP BY kv.key::int"
        )
    # Each row covers the ranks [cum - n, cum - 1] of its group's sorted times; keep the
    # rows covering the ranks either side of the 50th and 90th percentile positions.
    query = (
        f"WITH h AS ({merged}), "
        "c AS (SELECT g, t, m, n, SUM(n) OVER (PARTITION BY g, t ORDER BY m) AS cum, "
        "SUM(n) OVER (PARTITION BY g, t) AS tot FROM h), "
        "r AS (SELECT *, floor((tot - 1) * 0.5) AS r5, floor((tot - 1) * 0.9) AS r9 FROM c) "
        "SELECT g, t, m, cum - n, cum, tot FROM r "
        "WHERE (cum - n <= r5 + 1 AND cum > r5) OR (cum - n <= r9 + 1 AND cum > r9)"
    )
    covering: dict[Any, list[tuple[int, int, int]]] = defaultdict(list)
    totals: dict[Any, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner guesses 100 keys per histogram and would JIT-compile the query,
        # which costs more than the query itself.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(query, params)
        for group, is_total, minutes, first, cum, total in cursor.fetchall():
            target: Any = TOTAL if is_total else group
            covering[target].append((int(first), int(cum), int(minutes)))
            totals[target] = int(total)

    def at(rows: list[tuple[int, int, int]], rank: int) -> int:
        return next(m for first, cum, m in rows if first <= rank < cum)

    result: dict[Any, Percentiles] = {}
    for group, rows in covering.items():
        total = totals[group]
        pair = []
        for fraction in (0.5, 0.9):
            position = (total - 1) * fraction
            low = int(position)
            high = min(low + 1, total - 1)
            lo, hi = at(rows, low), at(rows, high)
            pair.append(lo + (hi - lo) * (position - low))
        result[group] = (pair[0], pair[1])
    return result


def figures_grouped(scope: Scope, key: str | None, with_total: bool = False) -> dict[Any, Figures]:
    """As reports.metrics.figures_grouped, from the rollups. With ``with_total`` the
    figures for the whole scope come back too, under ``TOTAL``, at no extra cost."""
    field = GROUP_FIELDS[key]
    period = Period.WEEK if field == "week" else Period.MONTH
    qs = _base(scope, ShiftRollup, by_provider=key == "provider_id", period=period)
    if field == "week":
        qs = qs.annotate(week=TruncWeek("day"))
    group = [field] if field else []
    rates = {
        (r.pool_id, r.role_id): r.pool_hourly_cost
        for r in RoleRate.objects.filter(pool_id__in=scope.pool_ids)
    }
    result: dict[Any, Figures] = {}
    cost: dict[Any, Decimal] = defaultdict(Decimal)
    spend: dict[Any, Decimal] = defaultdict(Decimal)
    for row in (
        qs.values(*group, "pool_id", "role_id")
        .annotate(**{name: Sum(name) for name in ADDITIVE})
        .order_by()
    ):
        g = (_week(row[field]) if field == "week" else row[field]) if field else None
        groups = [g, TOTAL] if with_total and field else [g]
        for target in groups:
            fig = result.setdefault(target, Figures())
            for name in ADDITIVE[:-1]:
                setattr(fig, name, getattr(fig, name) + (row[name] or 0))
            spend[target] += Decimal(row["spend_minutes"] or 0)
            cost[target] += Decimal(row["minutes_filled"] or 0) * rates.get(
                (row["pool_id"], row["role_id"]), Decimal("0")
            )
    unfiltered = not (scope.provider_id or scope.role_id or scope.site_type)
    if unfiltered and field in (None, "week", "pool_id"):
        # Percentiles for the whole pool(s): one row a day instead of one per role and type.
        ttf_qs: QuerySet[Any] = PoolDayTtf.objects.filter(
            _days(scope.start, scope.end, period), pool_id__in=scope.pool_ids
        )
        if field == "week":
            ttf_qs = ttf_qs.annotate(week=TruncWeek("day"))
        pcts = _percentiles(ttf_qs, field, with_total=with_total or not field)
    elif unfiltered and field == "provider_id":
        pcts = _provider_percentiles(scope)
    else:
        pcts = _percentiles(qs, field, with_total=with_total or not field)
    if not field:
        pcts[None] = pcts.get(TOTAL, (None, None))
    for g, fig in result.items():
        fig.spend_avoided = money(spend[g] / 60)
        fig.pool_cost = money(cost[g] / 60)
        fig.median_ttf_minutes, fig.p90_ttf_minutes = pcts.get(g, (None, None))
    if with_total and field is None:
        result[TOTAL] = result.get(None, Figures())
    elif with_total:
        result.setdefault(TOTAL, Figures())
    return result


def figures_by(scope: Scope, keys: list[str]) -> dict[str, dict[Any, Figures]]:
    """Figures grouped by several of ``pool_id``, ``role_id`` and ``site__site_type`` at
    once, from one additive query and one histogram query (the provider-free rows)."""
    dims = ["pool_id", "role_id", "site_type"]
    fields: dict[str, str] = {key: str(GROUP_FIELDS[key]) for key in keys}
    assert all(f in dims for f in fields.values())
    qs = _base(scope, ShiftRollup)
    rates = {
        (r.pool_id, r.role_id): r.pool_hourly_cost
        for r in RoleRate.objects.filter(pool_id__in=scope.pool_ids)
    }
    out: dict[str, dict[Any, Figures]] = {key: {} for key in keys}
    money_sums: dict[tuple[str, Any], list[Decimal]] = defaultdict(
        lambda: [Decimal("0"), Decimal("0")]
    )
    for row in qs.values(*dims).annotate(**{n: Sum(n) for n in ADDITIVE}).order_by():
        rate = rates.get((row["pool_id"], row["role_id"]), Decimal("0"))
        for key, f in fields.items():
            fig = out[key].setdefault(row[f], Figures())
            for name in ADDITIVE[:-1]:
                setattr(fig, name, getattr(fig, name) + (row[name] or 0))
            sums = money_sums[(key, row[f])]
            sums[0] += Decimal(row["spend_minutes"] or 0)
            sums[1] += Decimal(row["minutes_filled"] or 0) * rate
    hists: dict[tuple[str, Any], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    inner = qs.exclude(ttf_histogram={})
    unfiltered = ShiftRollup.objects.filter(pool_id__in=scope.pool_ids, provider__isnull=True)
    if scope.role_id:
        unfiltered = unfiltered.filter(role_id=scope.role_id)
    if scope.site_type:
        unfiltered = unfiltered.filter(site_type=scope.site_type)
    whole = (
        None
        if scope.provider_id
        else _to_date_difference(
            scope, unfiltered.filter(period=Period.TO_DATE), "day", tuple(dims)
        )
    )
    merged: list[tuple[dict[str, Any], int, int]]
    if whole:
        # Whole months: two running totals per role and type of care; the edges as below.
        by_key, edges = whole
        for row in (
            unfiltered.filter(edges).exclude(ttf_histogram={}).values_list(*dims, "ttf_histogram")
        ):
            *key, hist = row
            into = by_key.setdefault(tuple(key), {})
            for m, n in hist.items():
                into[m] = into.get(m, 0) + n
        merged = [
            (dict(zip(dims, key, strict=True)), int(m), n)
            for key, hist in by_key.items()
            for m, n in hist.items()
            if n
        ]
    elif connection.vendor == "postgresql":
        sql, params = inner.values(*dims, "ttf_histogram").order_by().query.sql_with_params()
        query = (
            "SELECT sub.pool_id, sub.role_id, sub.site_type, kv.key::int, SUM(kv.value::bigint) "
            f"FROM ({sql}) AS sub CROSS JOIN LATERAL jsonb_each_text(sub.ttf_histogram) AS kv "
            "GROUP BY 1, 2, 3, 4"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(query, params)
            merged = [
                ({"pool_id": p, "role_id": r, "site_type": t}, m, int(n))
                for p, r, t, m, n in cursor.fetchall()
            ]
    else:
        merged = [
            ({d: row[d] for d in dims}, int(m), n)
            for row in inner.values(*dims, "ttf_histogram").order_by()
            for m, n in row["ttf_histogram"].items()
        ]
    for values, minutes, n in merged:
        for key, f in fields.items():
            hists[(key, values[f])][minutes] += n
    for key, groups in out.items():
        for g, fig in groups.items():
            spend, cost = money_sums[(key, g)]
            fig.spend_avoided = money(spend / 60)
            fig.pool_cost = money(cost / 60)
            fig.median_ttf_minutes = histogram_percentile(hists.get((key, g), {}), 0.5)
            fig.p90_ttf_minutes = histogram_percentile(hists.get((key, g), {}), 0.9)
    return out


def _week(value: Any) -> date:
    return _local_day(value)


def figures_summary(scope: Scope) -> Figures:
    return figures_grouped(scope, None).get(None) or Figures()


def conduct_grouped(scope: Scope, key: str | None) -> dict[Any, Conduct]:
    """As reports.metrics.conduct_grouped; ``key`` is None or ``provider__name``."""
    by_provider = key is not None
    qs = _base(scope, ShiftRollup, by_provider=by_provider)
    group = ["provider_id"] if by_provider else []
    names = (
        dict(Provider.objects.filter(pool_id__in=scope.pool_ids).values_list("pk", "name"))
        if by_provider
        else {}
    )
    result: dict[Any, Conduct] = {}
    sums = {n: Sum(n) for n in CONDUCT}
    rows = (
        list(qs.values(*group).annotate(**sums).order_by())
        if by_provider
        else [qs.aggregate(**sums)]
    )
    for row in rows:
        counts = {n: int(row[n] or 0) for n in CONDUCT if n != "approval_lag_minutes"}
        c = Conduct(**counts)  # type: ignore[arg-type]
        if c.timesheets_reviewed:
            c.mean_approval_lag_hours = (
                Decimal(row["approval_lag_minutes"] or 0) / 60 / c.timesheets_reviewed
            ).quantize(Decimal("0.1"))
        result[names.get(row["provider_id"]) if by_provider else None] = c
    return result


def unfilled_by(scope: Scope, dimension: str) -> list[Unfilled]:
    if dimension == "weekday":
        days = [Unfilled(name) for name in WEEKDAYS]
        for row in (
            _base(scope, ShiftRollup, period=Period.DAY)
            .values("day")
            .annotate(p=Sum("places_unfilled"), m=Sum("minutes_unfilled"))
            .order_by()
        ):
            u = days[row["day"].weekday()]
            u.places += row["p"] or 0
            u.minutes += row["m"] or 0
        return days
    dim = {"skill": "skill", "district": "district", "time_of_day": "band"}[dimension]
    rows = {
        r["key"]: r
        for r in _base(scope, DemandRollup, by_provider=False)
        .filter(dimension=dim)
        .values("key")
        .annotate(p=Sum("places"), m=Sum("minutes"))
        .order_by()
    }
    if dim == "band":
        return [
            Unfilled(label, rows.get(label, {}).get("p") or 0, rows.get(label, {}).get("m") or 0)
            for _lo, _hi, label in TIME_BANDS
        ]
    empty = "No particular skill" if dim == "skill" else "—"
    out = [Unfilled(k or empty, r["p"] or 0, r["m"] or 0) for k, r in rows.items() if r["p"]]
    return sorted(out, key=lambda u: (-u.minutes, u.label))


def hours_spread(scope: Scope) -> Spread:
    """Per-worker booked minutes in the range (filters by provider, role and type of care
    do not apply: a worker's hours are theirs across the pool)."""
    rows = (
        WorkerRollup.objects.filter(_days(scope.start, scope.end), pool_id__in=scope.pool_ids)
        .values("worker_id")
        .annotate(m=Sum("minutes"))
        .order_by()
    )
    return Spread({r["worker_id"]: r["m"] or 0 for r in rows})
