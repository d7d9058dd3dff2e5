"""A provider's own results page (/provider/results/): its figures by month, computed by the
same definitions as the council's dashboards (reports.metrics)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from providers.models import ProviderMember
from providers.views import provider_view
from reports.selectors import MonthFigures, provider_results, provider_results_total


def _chart(rows: list[MonthFigures], top: Decimal) -> list[dict[str, object]]:
    """Bar geometry for the server-rendered SVG: spend avoided against the pool's cost."""
    scale = Decimal("160") / top if top else Decimal("0")
    bars = []
    for i, row in enumerate(rows):
        avoided = int(row.figures.spend_avoided * scale)
        cost = int(row.figures.pool_cost * scale)
        bars.append(
            {
                "row": row,
                "x": 60 + i * 56,
                "avoided_h": avoided,
                "avoided_y": 180 - avoided,
                "cost_h": cost,
                "cost_y": 180 - cost,
            }
        )
    return bars


@provider_view
def results(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    rows = provider_results(provider=member.provider)
    chart_rows = list(reversed(rows))
    top = max((r.figures.spend_avoided for r in rows), default=Decimal("0"))
    return render(
        request,
        "reports/provider_results.html",
        {
            "rows": rows,
            "chart": _chart(chart_rows, top),
            "chart_width": 80 + 56 * len(chart_rows),
            "totals": provider_results_total(rows, provider=member.provider),
        },
    )
