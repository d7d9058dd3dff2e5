"""The coordinator dashboards under /pool/dashboard/: thin views that read the rollups
through reports.rollups and lay the figures out as tables (reports.tables), each of which
downloads as CSV. Another pool's figures are out of reach because the scope only ever holds
the pools the coordinator may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from pools import selectors as pool_selectors
from pools.models import Coordinator, Pool
from pools.views import coordinator_required
from reports import dashboards, selectors, tables
from reports.cache import report_cached
from reports.forms import DashboardFilterForm, default_range, standard_ranges
from reports.metrics import DEFINITIONS, Scope
from reports.rollups import (
    TOTAL,
    figures_grouped,
    rollups_ensure,
    rollups_refreshed_at,
)
from workers.models import Worker


def _coordinator(request: HttpRequest) -> Coordinator:
    coordinator = pool_selectors.coordinator_of(request.user)
    assert coordinator is not None  # coordinator_required has checked
    return coordinator


def _scope(request: HttpRequest) -> tuple[DashboardFilterForm, Scope | None, list[Pool]]:
    pools = list(pool_selectors.pools_visible(coordinator=_coordinator(request)))
    form = DashboardFilterForm(request.GET or None, pools=pools)
    if request.GET and not form.is_valid():
        return form, None, pools
    data = form.cleaned_data if request.GET else {}
    start, end = data.get("start"), data.get("end")
    if not request.GET:
        start, end = default_range()
    pool_ids = tuple(p.pk for p in pools)
    if data.get("pool"):
        pool_ids = (int(data["pool"]),)
    elif not _coordinator(request).is_regional:
        pool_ids = (_coordinator(request).pool_id,)
    assert isinstance(start, date) and isinstance(end, date)
    scope = Scope(
        pool_ids=pool_ids,
        start=start,
        end=end,
        provider_id=int(data["provider"]) if data.get("provider") else None,
        role_id=int(data["role"]) if data.get("role") else None,
        site_type=data.get("site_type") or "",
    )
    return form, scope, pools


def _dashboard(
    request: HttpRequest,
    template: str,
    build: Callable[[Scope], dict[str, Any]],
    tab: str,
    *,
    live: Callable[[Scope], str] | None = None,
) -> HttpResponse:
    """The page's figures (and the page itself, rendered) are kept until the next rollup
    refresh (reports.cache). ``live``: a token of what else the page shows (say, when its
    live counts were taken); a new token is a new page."""
    form, scope, pools = _scope(request)
    context: dict[str, Any] = {"form": form, "tab": tab, "definitions": DEFINITIONS}
    if scope is None:
        return _page(request, template, context, status=400)
    context["counted_now"] = rollups_ensure(
        pool_ids=scope.pool_ids, start=scope.start, end=scope.end
    )
    context["scope"] = scope
    context["refreshed_at"] = rollups_refreshed_at(pool_ids=scope.pool_ids)
    context["range_label"] = tables.range_label(scope.start, scope.end)
    context["query"] = request.GET.urlencode()
    context["ranges"] = _range_links(request)

    token = live(scope) if live is not None else ""

    def figures() -> dict[str, Any]:
        return dashboards.page_figures(tab, scope, build, token)

    export = request.GET.get("export")
    if export:
        for table in figures().get("tables", []):
            if table.slug == export:
                return table.csv_response(f"flexpool-{scope.start}-{scope.end}")
        raise Http404
    if context["counted_now"]:
        return _page(request, template, {**context, **figures()})
    # The page's figures, tables, charts and filter form are the same for every request of
    # this scope and query until the next refresh: rendered once, kept beside the figures.
    # (The filter form lists the pools' providers: a new one appears at the next refresh.)
    vary = (
        context["query"],
        ",".join(str(p.pk) for p in pools),
        str(_coordinator(request).is_regional),
        str(context["refreshed_at"]),
        token,
    )
    kept = report_cached(
        name=f"page:{tab}",
        scope=scope,
        build=lambda: _body(request, template, {**context, **figures()}),
        vary=vary,
    )
    return render(request, template, {**context, **kept, "body": mark_safe(kept["body"])})


def _range_links(request: HttpRequest) -> list[tuple[str, str]]:
    """The standard ranges as links keeping the other filters (the ones without filters
    are the ones beat computes after each refresh)."""
    others = {k: v for k, v in request.GET.items() if k not in ("start", "end", "export")}
    return [
        (label, urlencode({"start": start.isoformat(), "end": end.isoformat(), **others}))
        for label, (start, end) in standard_ranges().items()
    ]


def _body(request: HttpRequest, template: str, context: dict[str, Any]) -> dict[str, Any]:
    """The page's main content, rendered (``reports/<page>_body.html``), and its title."""
    body = render_to_string(template.replace(".html", "_body.html"), context, request)
    return {"body": str(body), "title": context.get("title")}


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    kept = _body(request, template, context)
    return render(
        request, template, {**context, **kept, "body": mark_safe(kept["body"])}, status=status
    )


@coordinator_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, "reports/dashboard.html", dashboards.overview, "overview")


@coordinator_required
def dashboard_breakdown(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, "reports/dashboard_tables.html", dashboards.breakdown, "breakdown")


@coordinator_required
def dashboard_demand(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, "reports/dashboard_tables.html", dashboards.demand, "demand")


@coordinator_required
def dashboard_conduct(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, "reports/dashboard_tables.html", dashboards.conduct, "conduct")


@coordinator_required
def dashboard_health(request: HttpRequest) -> HttpResponse:
    def build(scope: Scope) -> dict[str, Any]:
        # The hours' spread is rollup-only: kept until the refresh, not just the minute.
        spread = dashboards.spread_kept(scope)
        counts = dashboards.worker_counts_kept(scope.pool_ids)
        health = selectors.pool_health(
            scope=scope, today=timezone.localdate(), spread=spread, counts=counts
        )
        counted = timezone.localtime(counts.counted_at)
        table = tables.Table(
            "health", f"Pool health (workers counted at {counted:%H:%M})", ["Measure", "Value"]
        )
        table.rows += [
            ["Vetted workers (approved now)", health.vetted],
            ["Compliant workers (vetted, every required document valid today)", health.compliant],
            ["Active workers (vetted, worked a shift in the range)", health.active],
            ["Applicants in the pipeline", health.applicants],
            ["Documents expiring in the next 30 days", health.expiring_30],
            ["Utilisation (active ÷ vetted)", tables.pct(health.utilisation)],
            ["Workers with hours in the range", health.spread.workers],
            [
                "Gini coefficient of hours (0 = evenly spread)",
                None if health.spread.gini is None else round(health.spread.gini, 3),
            ],
            [
                "Share of hours worked by the busiest 10% of workers",
                tables.pct(health.spread.top_tenth_share),
            ],
        ]
        stages = tables.Table("pipeline", "Workers by stage", ["Stage", "Workers"], chart_column=1)
        for status, n in health.by_status.items():
            stages.rows.append([Worker.Status(status).label, n])
        return {"tables": [table, stages], "title": "Pool health"}

    return _dashboard(
        request,
        "reports/dashboard_tables.html",
        build,
        "health",
        live=lambda scope: dashboards.worker_counts_kept(scope.pool_ids).counted_at.isoformat(),
    )


@coordinator_required
def region(request: HttpRequest) -> HttpResponse:
    if not _coordinator(request).is_regional:
        raise Http404

    def build(scope: Scope) -> dict[str, Any]:
        names = dict(Pool.objects.values_list("pk", "name"))
        by_pool = figures_grouped(scope, "pool_id", with_total=True)
        table = tables.Table(
            "region", "Every pool in the region", ["Pool", *tables.FIGURE_HEADERS], chart_column=5
        )
        for pk in scope.pool_ids:
            fig = by_pool.get(pk)
            if fig is not None:
                table.rows.append([names[pk], *tables.figure_cells(fig)])
        table.rows.append(["Region total", *tables.figure_cells(by_pool[TOTAL])])
        return {"tables": [table], "title": "Region"}

    return _dashboard(request, "reports/dashboard_tables.html", build, "region")
