"""The dashboard's tables, built from reports.metrics: each table is shown on the page,
drawn as a chart where it has a trend, and downloadable as CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flexpool.tables import Cell, Table
from pools.models import Pool, Role
from providers.models import Provider, Site
from reports.metrics import Conduct, Figures, Scope, weeks_in
from reports.rollups import conduct_grouped, figures_by, figures_grouped, unfilled_by


def pct(value: Decimal | float | None) -> str | None:
    if value is None:
        return None
    return f"{Decimal(str(value)) * 100:.1f}%"


def minutes(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("1"))


FIGURE_HEADERS = [
    "Shifts requested",
    "Shifts filled",
    "Fill rate (shifts)",
    "Hours requested",
    "Hours filled",
    "Fill rate (hours)",
    "Places unfilled",
    "Unfilled places that went to agency",
    "Median minutes to fill",
    "90th percentile minutes to fill",
    "Agency hours avoided",
    "Agency spend avoided (£)",
    "Pool's own cost (£)",
]


def figure_cells(f: Figures) -> list[Cell]:
    return [
        f.shifts_requested,
        f.shifts_filled,
        pct(f.fill_rate),
        f.hours_requested,
        f.hours_filled,
        pct(f.hours_fill_rate),
        f.places_unfilled,
        f.places_to_agency,
        minutes(f.median_ttf_minutes),
        minutes(f.p90_ttf_minutes),
        f.agency_hours_avoided,
        f.spend_avoided,
        f.pool_cost,
    ]


def weekly_table(scope: Scope, weeks: dict[Any, Figures] | None = None) -> Table:
    weeks = weeks if weeks is not None else figures_grouped(scope, "week")
    table = Table(
        "weekly",
        "Week by week (weeks start on Monday)",
        ["Week beginning", *FIGURE_HEADERS],
        chart_column=5,
        chart_kind="line",
    )
    for monday in weeks_in(scope):
        table.rows.append(
            [monday.strftime("%d %b %Y"), *figure_cells(weeks.get(monday, Figures()))]
        )
    return table


def _named_table(
    groups: dict[Any, Figures], slug: str, caption: str, label: str, names: dict[Any, str]
) -> Table:
    table = Table(slug, caption, [label, *FIGURE_HEADERS], chart_column=5)
    for group, fig in sorted(groups.items(), key=lambda kv: names.get(kv[0], str(kv[0]))):
        table.rows.append([names.get(group, str(group)), *figure_cells(fig)])
    return table


def breakdown_tables(scope: Scope) -> list[Table]:
    pools = dict(Pool.objects.filter(pk__in=scope.pool_ids).values_list("pk", "name"))
    providers = dict(Provider.objects.filter(pool_id__in=scope.pool_ids).values_list("pk", "name"))
    roles = dict(Role.objects.values_list("pk", "name"))
    site_types = dict(Site.SiteType.choices)
    keys = ["role_id", "site__site_type"] + (["pool_id"] if len(scope.pool_ids) > 1 else [])
    by = figures_by(scope, keys)
    tables = []
    if "pool_id" in by:
        tables.append(_named_table(by["pool_id"], "by-pool", "By pool", "Pool", pools))
    tables += [
        _named_table(
            figures_grouped(scope, "provider_id"),
            "by-provider",
            "By provider",
            "Provider",
            providers,
        ),
        _named_table(by["role_id"], "by-role", "By role", "Role", roles),
        _named_table(
            by["site__site_type"], "by-site-type", "By type of care", "Type of care", site_types
        ),
    ]
    return tables


def unfilled_tables(scope: Scope) -> list[Table]:
    out = []
    for dimension, slug, caption, label in [
        ("skill", "unfilled-by-skill", "Unfilled demand by skill needed", "Skill"),
        ("district", "unfilled-by-district", "Unfilled demand by postcode district", "District"),
        ("weekday", "unfilled-by-weekday", "Unfilled demand by day of the week", "Day"),
        ("time_of_day", "unfilled-by-time", "Unfilled demand by time of day (start)", "Time"),
    ]:
        table = Table(slug, caption, [label, "Places unfilled", "Hours unfilled"], chart_column=2)
        for u in unfilled_by(scope, dimension):
            table.rows.append([u.label, u.places, u.hours])
        out.append(table)
    return out


CONDUCT_HEADERS = [
    "Bookings",
    "Cancelled by provider",
    "Late cancellations by provider",
    "Workers turned away",
    "Cancelled by worker",
    "Late cancellations by worker",
    "Cancelled by pool",
    "No-shows",
    "Requests withdrawn",
    "Timesheets approved by provider",
    "Timesheets approved automatically",
    "Mean approval lag (hours)",
]


def conduct_cells(c: Conduct) -> list[Cell]:
    return [
        c.bookings,
        c.cancelled_by_provider,
        c.late_by_provider,
        c.turned_away,
        c.cancelled_by_worker,
        c.late_by_worker,
        c.cancelled_by_pool,
        c.no_shows,
        c.requests_withdrawn,
        c.timesheets_reviewed,
        c.timesheets_auto_approved,
        c.mean_approval_lag_hours,
    ]


def conduct_tables(scope: Scope) -> list[Table]:
    total = conduct_grouped(scope, None).get(None, Conduct())
    summary = Table(
        "cancellations", "Cancellations and no-shows, all providers", ["Measure", "Count"]
    )
    for header, cell in zip(CONDUCT_HEADERS, conduct_cells(total), strict=True):
        summary.rows.append([header, cell])
    by_provider = conduct_grouped(scope, "provider__name")
    table = Table(
        "provider-conduct",
        "Provider conduct for contract monitoring",
        ["Provider", *CONDUCT_HEADERS],
        chart_column=2,
    )
    for name in sorted(k for k in by_provider if k is not None):
        table.rows.append([name, *conduct_cells(by_provider[name])])
    return [summary, table]


def range_label(start: date, end: date) -> str:
    return f"{start:%d %B %Y} to {end:%d %B %Y}"
