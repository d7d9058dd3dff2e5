"""Reads for the workforce figures and the committee report: submitted returns turned into
``reports.definitions.Data`` and every figure computed by the registry's definitions, for
the pool, by type of provider, size, role, quarter (the trend), and for providers that did
and did not use the pool. ``workforce_report`` gives the whole committee report as plain
JSON-able data: a draft is computed when read, a published report stores exactly this."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, Max, OuterRef

from pools.models import Pool, Role
from providers.models import Provider, Site
from reports.definitions import (
    Data,
    Line,
    Return,
    current_version,
    dashboard_value,
    definitions,
    figures_compute,
    workforce_definitions,
)
from reports.models import Benchmark, LivingWageRate, ReturnLine, WorkforceReturn
from reports.quarters import Quarter

LONDON = ZoneInfo("Europe/London")
TREND_QUARTERS = 6
SIZE_BANDS = [("small", "Small (under 50 staff)", 0), ("medium", "Medium (50 to 249)", 50),
              ("large", "Large (250 or more)", 250)]  # fmt: skip
TYPES = [("residential", "Residential (care homes)"), ("non_residential", "Non-residential")]
HEADLINE = ["vacancy_rate", "leaver_rate", "starters", "agency_hours", "agency_reliance",
            "zero_hours_share", "zero_hours_by_choice_share", "qualification_share",
            "living_wage_share", "return_rate"]  # fmt: skip
ACTIVITY = ["shifts_requested", "shifts_filled", "fill_rate", "median_time_to_fill_minutes",
            "agency_hours_avoided", "agency_spend_avoided", "pool_cost", "net_saving"]  # fmt: skip
ACTIVITY_NAMES = {
    "shifts_requested": "Shifts requested",
    "shifts_filled": "Shifts filled",
    "fill_rate": "Fill rate (shifts)",
    "median_time_to_fill_minutes": "Median minutes to fill",
    "agency_hours_avoided": "Agency hours avoided",
    "agency_spend_avoided": "Agency spend avoided (£)",
    "pool_cost": "Pool's own cost (£)",
    "net_saving": "Spend avoided net of the pool's cost (£)",
}


def plain(value: Any) -> Any:
    """Decimals as text so stored figures come back exactly."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return str(Decimal(str(value)))
    return value


# --- Loading ------------------------------------------------------------------------------


def returns_submitted(
    *, pool_ids: Iterable[int], quarters: Iterable[Quarter]
) -> dict[str, dict[int, Return]]:
    """Submitted returns by quarter and provider, as the definitions read them (two
    queries of plain values: thousands of returns load in tens of milliseconds)."""
    names = [str(q) for q in quarters]
    submitted = WorkforceReturn.objects.filter(
        pool_id__in=list(pool_ids), quarter__in=names, status=WorkforceReturn.Status.SUBMITTED
    )
    line_fields = ["role_id", "headcount_start", "posts", "filled", "starters", "leavers",
                   "leavers_to_care", "zero_hours", "zero_hours_by_choice",
                   "qualified_level2", "qualified_level3"]  # fmt: skip
    lines: dict[int, list[Line]] = defaultdict(list)
    for row in (
        ReturnLine.objects.filter(workforce_return__in=submitted.values("id"))
        .order_by("workforce_return_id", "role_id")
        .values_list("workforce_return_id", *line_fields)
    ):
        lines[row[0]].append(Line(*row[1:]))
    out: dict[str, dict[int, Return]] = {name: {} for name in names}
    for pk, provider_id, quarter, hours, agency, spend, pay in submitted.order_by(
        "quarter", "provider_id"
    ).values_list(
        "pk", "provider_id", "quarter", "hours_worked", "agency_hours", "agency_spend_pence",
        "lowest_hourly_pay_pence",
    ):  # fmt: skip
        out[quarter][provider_id] = Return(
            provider_id=provider_id,
            quarter=quarter,
            hours_worked=hours,
            agency_hours=agency,
            agency_spend_pence=spend,
            lowest_hourly_pay_pence=pay,
            lines=tuple(lines.get(pk, ())),
        )
    return out


def providers_expected(*, pool_ids: Iterable[int], quarter: Quarter) -> dict[int, str]:
    """Providers asked for a return for ``quarter`` (in the pool, active, joined by its
    end), with their type: residential when any of their sites is a care home."""
    end = datetime.combine(quarter.end + timedelta(days=1), time.min, tzinfo=LONDON)
    care_home = Site.objects.filter(provider=OuterRef("pk"), site_type=Site.SiteType.RESIDENTIAL)
    rows = (
        Provider.objects.filter(pool_id__in=list(pool_ids), is_active=True, created_at__lt=end)
        .annotate(residential=Exists(care_home))
        .values_list("pk", "residential")
    )
    return {pk: "residential" if res else "non_residential" for pk, res in rows}


def living_wage_pence(*, pool_ids: Iterable[int], year: int) -> int | None:
    rate = (
        LivingWageRate.objects.filter(pool_id__in=list(pool_ids), year=year)
        .order_by("pool_id")
        .values_list("hourly_pence", flat=True)
        .first()
    )
    return rate


def providers_using_pool(*, pool_ids: Iterable[int], quarter: Quarter) -> set[int]:
    """Providers with a request (not withdrawn) starting in the quarter: read from the
    month rollups (a quarter is three whole months; rollups_ensure covers it first)."""
    from reports.models import Period, ShiftRollup

    return set(
        ShiftRollup.objects.filter(
            pool_id__in=list(pool_ids),
            period=Period.MONTH,
            day__gte=quarter.start,
            day__lte=quarter.end,
            provider__isnull=False,
            shifts_requested__gt=0,
        )
        .order_by()
        .values_list("provider_id", flat=True)
        .distinct()
    )


def size_of(r: Return) -> str:
    staff = sum(line.filled for line in r.lines)
    band = SIZE_BANDS[0][0]
    for key, _label, low in SIZE_BANDS:
        if staff >= low:
            band = key
    return band


# --- Computing ----------------------------------------------------------------------------


class Loaded:
    """The returns and provider facts one report needs, loaded once."""

    def __init__(self, *, pool_ids: tuple[int, ...], quarter: Quarter, back: int) -> None:
        self.pool_ids = pool_ids
        self.quarter = quarter
        self.quarters = quarter.last(back)
        # Leaver rates need the year before the earliest quarter shown.
        self.returns = returns_submitted(
            pool_ids=pool_ids, quarters=self.quarters[0].last(4)[:-1] + self.quarters
        )
        self.expected = {q: providers_expected(pool_ids=pool_ids, quarter=q) for q in self.quarters}
        self.wage = {
            y: living_wage_pence(pool_ids=pool_ids, year=y) for y in {q.year for q in self.quarters}
        }
        self._years: dict[Quarter, dict[int, tuple[Return, ...]]] = {}

    def data(
        self,
        quarter: Quarter,
        keep: Callable[[Return], bool] = lambda r: True,
        role_id: int | None = None,
        expected: Callable[[int, str], bool] | None = lambda pk, kind: True,
    ) -> Data:
        def narrow(r: Return) -> Return:
            if role_id is None:
                return r
            return Return(
                provider_id=r.provider_id,
                quarter=r.quarter,
                lines=tuple(x for x in r.lines if x.role_id == role_id),
                whole_provider=False,
            )

        now = [narrow(r) for r in self.returns.get(str(quarter), {}).values() if keep(r)]
        now = [r for r in now if r.lines or role_id is None]
        # Every provider's returns for the year to ``quarter``, worked out once per quarter
        # (the leaver rate reads the roles of the quarter's own lines from them).
        year = self._years.get(quarter)
        if year is None:
            year = self._years[quarter] = {
                pk: tuple(
                    y
                    for q in quarter.last(4)
                    if (y := self.returns.get(str(q), {}).get(pk)) is not None
                )
                for pk in self.returns.get(str(quarter), {})
            }
        kinds = self.expected.get(quarter) or providers_expected(
            pool_ids=self.pool_ids, quarter=quarter
        )
        return Data(
            returns=tuple(now),
            year_returns=year,
            expected=0
            if expected is None
            else sum(1 for pk, k in kinds.items() if expected(pk, k)),
            living_wage_pence=self.wage.get(quarter.year),
        )


def workforce_generation(*, pool_ids: Iterable[int]) -> tuple[str, ...]:
    """What the workforce figures of these pools depend on besides the shift rollups: the
    last change to any return, benchmark, Real Living Wage or provider. A cached report is
    keyed on it, so any change is seen at once."""
    ids = list(pool_ids)
    parts = []
    for qs in (
        WorkforceReturn.objects.filter(pool_id__in=ids),
        Benchmark.objects.filter(pool_id__in=ids),
        LivingWageRate.objects.filter(pool_id__in=ids),
    ):
        agg = qs.aggregate(n=Count("id"), at=Max("updated_at"))
        parts.append(f"{agg['n']}@{agg['at']}")
    lines = ReturnLine.objects.filter(workforce_return__pool_id__in=ids).aggregate(
        n=Count("id"), top=Max("id")
    )
    parts.append(f"{lines['n']}:{lines['top']}")
    providers = Provider.objects.filter(pool_id__in=ids).aggregate(
        n=Count("id"), top=Max("id"), at=Max("created_at")
    )
    parts.append(f"{providers['n']}:{providers['top']}:{providers['at']}")
    return tuple(parts)


def _scope(pool_ids: tuple[int, ...], quarter: Quarter) -> Any:
    from reports.metrics import Scope

    return Scope(pool_ids=pool_ids, start=quarter.start, end=quarter.end)


def workforce_figures(
    *, pool_ids: Iterable[int], quarter: Quarter, version: int | None = None
) -> dict[str, Any]:
    """The pool's headline workforce figures for one quarter (what the API returns)."""
    from reports.cache import report_cached

    ids = tuple(sorted(pool_ids))
    version = version or current_version()

    def build() -> dict[str, Any]:
        loaded = Loaded(pool_ids=ids, quarter=quarter, back=1)
        return figures_compute(loaded.data(quarter), version=version)

    return report_cached(
        name="workforce-figures",
        scope=_scope(ids, quarter),
        build=build,
        vary=(str(version), *workforce_generation(pool_ids=ids)),
    )


def _row(group: str, figures: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"group": group, **extra, **{k: plain(v) for k, v in figures.items()}}


def workforce_report(
    *, pool_ids: Iterable[int], quarter: Quarter, version: int | None = None
) -> dict[str, Any]:
    """The committee report for ``quarter`` as plain data (see the module docstring),
    kept in the cache until a return, benchmark, rate, provider or the rollups change."""
    from reports.cache import report_cached
    from reports.rollups import rollups_ensure

    version = version or current_version()
    ids = tuple(sorted(pool_ids))
    rollups_ensure(pool_ids=ids, start=quarter.start, end=quarter.end)
    return report_cached(
        name="workforce-report",
        scope=_scope(ids, quarter),
        build=lambda: _workforce_report(ids, quarter, version),
        vary=(str(version), *workforce_generation(pool_ids=ids)),
    )


def _workforce_report(ids: tuple[int, ...], quarter: Quarter, version: int) -> dict[str, Any]:
    from reports.metrics import Scope
    from reports.rollups import figures_summary, report_reading

    loaded = Loaded(pool_ids=ids, quarter=quarter, back=TREND_QUARTERS)

    def compute(data: Data) -> dict[str, Any]:
        return figures_compute(data, version=version)

    headline = compute(loaded.data(quarter))
    trend = [_row(str(q), compute(loaded.data(q)), label=q.label) for q in loaded.quarters]
    kinds = loaded.expected[quarter]

    def of_type(k: str) -> Data:
        return loaded.data(
            quarter,
            keep=lambda r: kinds.get(r.provider_id) == k,
            expected=lambda pk, kind: kind == k,
        )

    def of_size(k: str) -> Data:
        return loaded.data(quarter, keep=lambda r: size_of(r) == k, expected=None)

    by_type = [_row(label, compute(of_type(key))) for key, label in TYPES]
    by_size = [_row(label, compute(of_size(key))) for key, label, _low in SIZE_BANDS]
    roles = dict(Role.objects.values_list("pk", "name"))
    present = sorted(
        {x.role_id for r in loaded.returns.get(str(quarter), {}).values() for x in r.lines},
        key=lambda pk: roles.get(pk, ""),
    )
    by_role = [
        _row(roles.get(pk, str(pk)), compute(loaded.data(quarter, role_id=pk, expected=None)))
        for pk in present
    ]
    users = providers_using_pool(pool_ids=ids, quarter=quarter)
    returned = loaded.returns.get(str(quarter), {})
    flex = [
        _row(
            "Used the pool in the quarter",
            compute(
                loaded.data(
                    quarter,
                    keep=lambda r: r.provider_id in users,
                    expected=lambda pk, kind: pk in users,
                )
            ),
            providers=sum(1 for pk in returned if pk in users),
        ),
        _row(
            "Did not use the pool",
            compute(
                loaded.data(
                    quarter,
                    keep=lambda r: r.provider_id not in users,
                    expected=lambda pk, kind: pk not in users,
                )
            ),
            providers=sum(1 for pk in returned if pk not in users),
        ),
    ]
    benchmarks: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for b in Benchmark.objects.filter(pool_id__in=ids, quarter=str(quarter)).order_by("pool_id"):
        benchmarks[b.figure].setdefault(b.area, {"value": str(b.value), "source": b.source})
    with report_reading():
        activity_fig = figures_summary(Scope(pool_ids=ids, start=quarter.start, end=quarter.end))
    status = returns_status(pool_ids=ids, quarter=quarter, today=date.max)
    return {
        "quarter": str(quarter),
        "label": quarter.label,
        "pools": list(
            Pool.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)
        ),
        "definitions_version": version,
        "headline": {k: plain(v) for k, v in headline.items()},
        "trend": trend,
        "benchmarks": dict(benchmarks),
        "by_type": by_type,
        "by_size": by_size,
        "by_role": by_role,
        "flex": flex,
        "activity": {k: plain(dashboard_value(activity_fig, k)) for k in ACTIVITY},
        "returns": {
            "expected": len(kinds),
            "returned": len(returned),
            "returned_late": sum(1 for s in status if s["state"] == "returned_late"),
            "missing": len(kinds) - len(returned),
        },
        "definitions": [
            {"key": d.key, "name": d.name, "meaning": d.meaning}
            for d in definitions(version).values()
        ],
    }


def returns_status(
    *, pool_ids: Iterable[int], quarter: Quarter, today: date
) -> list[dict[str, Any]]:
    """Every provider asked for ``quarter``: returned (on time or late), draft, or missing
    (late once the due date has passed)."""
    kinds = providers_expected(pool_ids=pool_ids, quarter=quarter)
    names = dict(Provider.objects.filter(pk__in=list(kinds)).values_list("pk", "name"))
    returns = {
        r.provider_id: r
        for r in WorkforceReturn.objects.filter(provider_id__in=list(kinds), quarter=str(quarter))
    }
    out = []
    due_end = datetime.combine(quarter.due + timedelta(days=1), time.min, tzinfo=LONDON)
    for pk in sorted(kinds, key=lambda p: names.get(p, "")):
        r = returns.get(pk)
        if r is not None and r.status == WorkforceReturn.Status.SUBMITTED:
            assert r.submitted_at is not None
            state = "returned" if r.submitted_at < due_end else "returned_late"
        elif today > quarter.due:
            state = "late"
        else:
            state = "draft" if r is not None else "not_started"
        out.append(
            {
                "provider_id": pk,
                "provider": names.get(pk, ""),
                "type": kinds[pk],
                "state": state,
                "submitted_at": r.submitted_at if r is not None else None,
                "chased_at": r.chased_at if r is not None else None,
            }
        )
    return out


def headline_names(version: int | None = None) -> dict[str, str]:
    return {d.key: d.name for d in workforce_definitions(version)}
