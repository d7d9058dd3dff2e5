"""What each dashboard page shows, as figures (no request, no rendering), and the warm-up
that computes every page's standard ranges after each rollup refresh.

The pages (reports.views) keep these in the cache until the pool's next rollup rebuild
(reports.cache); the first coordinator after a refresh would otherwise pay for the whole
computation (about a second for the provider breakdown or the hours' spread at a million
shifts). ``dashboards_warm`` runs right after beat's refresh and computes the standard
ranges (13 weeks, 12 months, 2 years; no filters) of every page and of the stats summary
for every pool, under exactly the keys the pages and the API read, and counts each pool's
workers and documents for pool health afresh."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from pools.models import Pool
from reports import tables
from reports.cache import live_cached, live_refresh, report_cached
from reports.forms import standard_ranges
from reports.metrics import SPEND_FORMULA, Figures, Scope, Spread
from reports.rollups import (
    TOTAL,
    figures_grouped,
    figures_summary,
    hours_spread,
    report_reading,
    rollups_ensure,
)
from reports.selectors import WorkerCounts, pool_worker_counts


def overview(scope: Scope) -> dict[str, Any]:
    weeks = figures_grouped(scope, "week", with_total=True)
    fig = weeks.pop(TOTAL)
    headline = tables.Table("headline", "Headline figures", ["Measure", "Value"])
    for header, cell in zip(tables.FIGURE_HEADERS, tables.figure_cells(fig), strict=True):
        headline.rows.append([header, cell])
    weekly = tables.weekly_table(scope, weeks)
    return {
        "fig": fig,
        "fill_pct": tables.pct(fig.fill_rate),
        "hours_fill_pct": tables.pct(fig.hours_fill_rate),
        "median": tables.minutes(fig.median_ttf_minutes),
        "p90": tables.minutes(fig.p90_ttf_minutes),
        "spend_formula": SPEND_FORMULA,
        "tables": [headline, weekly],
    }


def breakdown(scope: Scope) -> dict[str, Any]:
    return {"tables": tables.breakdown_tables(scope), "title": "Breakdowns"}


def demand(scope: Scope) -> dict[str, Any]:
    return {"tables": tables.unfilled_tables(scope), "title": "Unfilled demand"}


def conduct(scope: Scope) -> dict[str, Any]:
    return {"tables": tables.conduct_tables(scope), "title": "Cancellations and provider conduct"}


# Page (tab) → its figures; pool health mixes live counts in and keeps only its spread here.
PAGES: dict[str, Callable[[Scope], dict[str, Any]]] = {
    "overview": overview,
    "breakdown": breakdown,
    "demand": demand,
    "conduct": conduct,
}


def page_figures(
    tab: str, scope: Scope, build: Callable[[Scope], dict[str, Any]], token: str = ""
) -> dict[str, Any]:
    """A page's figures as of the last refresh (``token``: anything live it also shows)."""

    def built() -> dict[str, Any]:
        with report_reading():
            return build(scope)

    return report_cached(name=f"dashboard:{tab}", scope=scope, build=built, vary=(token,))


def spread_kept(scope: Scope) -> Spread:
    """The hours' spread of pool health, with its Gini and top share worked out once."""

    def figured() -> Spread:
        with report_reading():
            spread = hours_spread(scope)
        spread.gini, spread.top_tenth_share  # noqa: B018 - worked out before it is kept
        return spread

    return report_cached(name="spread", scope=scope, build=figured)


# Pool health's worker and document counts are live (read from the worker and document
# tables, half a second at 20,000 workers): beat counts them again at each five-minute
# refresh, and a request counts them only when they are older than that (one request,
# while the others answer from the old count). The page says when they were counted.
WORKER_COUNTS_SECONDS = 300


def _worker_counts_parts(pool_ids: tuple[int, ...]) -> tuple[object, ...]:
    return (tuple(pool_ids), timezone.localdate())


def worker_counts_kept(pool_ids: tuple[int, ...]) -> WorkerCounts:
    today = timezone.localdate()
    return live_cached(
        name="worker-counts",
        parts=_worker_counts_parts(pool_ids),
        seconds=WORKER_COUNTS_SECONDS,
        build=lambda: pool_worker_counts(pool_ids=tuple(pool_ids), today=today),
    )


def summary_kept(scope: Scope) -> Figures:
    """The headline figures of the stats API (``GET /api/v1/stats/summary/``)."""

    def summary() -> Figures:
        with report_reading():
            return figures_summary(scope)

    return report_cached(name="summary", scope=scope, build=summary)


def dashboards_warm(*, pool_ids: Iterable[int] | None = None) -> int:
    """Compute every page's figures and the stats summary for each pool over each of the
    standard ranges (13 weeks, 12 months, 2 years: the dashboards' one-click links), so
    the first coordinator after a refresh finds them kept. Returns how many reports were
    computed or found kept."""
    ids = (
        list(pool_ids) if pool_ids is not None else list(Pool.objects.values_list("pk", flat=True))
    )
    done = 0
    for pk in ids:
        ranges = standard_ranges().values()
        for start, end in ranges:
            # As a page does: days never counted yet are counted first (once; counting
            # retires what is kept, so before any report is computed).
            rollups_ensure(pool_ids=[pk], start=start, end=end)
        today = timezone.localdate()
        live_refresh(
            name="worker-counts",
            parts=_worker_counts_parts((pk,)),
            seconds=WORKER_COUNTS_SECONDS,
            build=lambda: pool_worker_counts(pool_ids=(pk,), today=today),  # noqa: B023
        )
        done += 1
        for start, end in ranges:
            scope = Scope(pool_ids=(pk,), start=start, end=end)
            for tab, build in PAGES.items():
                page_figures(tab, scope, build)
            spread_kept(scope)
            summary_kept(scope)
            done += len(PAGES) + 2
    return done
