"""The coordinator's Matching lab under /pool/lab/. Thin: a form is checked, a run is
stored and queued (``lab_run_create``), and its page shows progress, then the figures.
Runs are the pool's own: another pool's run answers 404."""

from __future__ import annotations

import csv
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render

from lab.forms import RunForm, default_range
from lab.models import LabRun
from lab.services import lab_run_create, lab_run_progress
from lab.simulator import ScenarioError
from pools.views import _me, _pool, coordinator_required

KINDS = [LabRun.Kind.COMPARE, LabRun.Kind.SIMULATE, LabRun.Kind.RECRUIT]
FIGURES = [
    ("fill_rate_hours", "Fill rate (hours)", "percent"),
    ("fill_rate_shifts", "Fill rate (requests)", "percent"),
    ("hours_filled", "Hours filled", "number"),
    ("places_filled", "Places filled", "number"),
    ("ratio_to_optimum", "Share of the offline optimum (hours)", "percent"),
    ("median_time_to_fill_minutes", "Median time to fill (minutes)", "number"),
    ("p90_time_to_fill_minutes", "90th percentile time to fill (minutes)", "number"),
    ("offers_per_filled_place", "Offers sent per filled place", "number"),
    ("share_of_active_workers_offered_weekly", "Active workers offered in a week", "percent"),
    ("hours_gini", "Spread of hours (Gini, 0 = even)", "number"),
    ("hours_top10_share", "Hours worked by the busiest 10 %", "percent"),
    ("agency_hours_avoided", "Agency hours avoided", "number"),
    ("agency_spend_avoided", "Agency spend avoided (£)", "money"),
    ("escalations", "Escalations to coordinators", "number"),
]


def _forms(data: Any = None, kind: str | None = None) -> dict[str, RunForm]:
    start, end = default_range()
    initial = {"start": start, "end": end, "seed": 0, "moves": 3}
    return {
        k: RunForm(data if k == kind else None, kind=k, prefix=k, initial=initial) for k in KINDS
    }


@coordinator_required
def lab_index(request: HttpRequest) -> HttpResponse:
    pool = _pool(request)
    forms = _forms()
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in KINDS:
            return HttpResponseBadRequest("Unknown kind of run.")
        forms = _forms(request.POST, kind)
        form = forms[kind]
        if form.is_valid():
            try:
                with transaction.atomic():
                    run = lab_run_create(
                        pool=pool, kind=kind, inputs=form.inputs(),
                        seed=form.cleaned_data["seed"], by=_me(request),
                    )  # fmt: skip
            except ScenarioError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("lab:run", pk=run.pk)
        status = 400
    runs = LabRun.objects.filter(pool=pool).select_related("created_by")[:15]
    return render(
        request,
        "lab/index.html",
        {
            "forms": forms,
            "forms_with_errors": [f for f in forms.values() if f.errors],
            "runs": runs,
        },
        status=status,
    )


def _run(request: HttpRequest, pk: int) -> LabRun:
    return get_object_or_404(LabRun, pk=pk, pool=_pool(request))


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "money":
        return f"£{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")


def _rows(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"label": label, "values": [_shown(c.get(key), kind) for c in columns]}
        for key, label, kind in FIGURES
    ]


@coordinator_required
def lab_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    context: dict[str, Any] = {"run": run, "progress": lab_run_progress(run=run)}
    o = run.outputs or {}
    if run.status == LabRun.Status.DONE:
        if run.kind == LabRun.Kind.COMPARE:
            columns = o.get("columns", [])
            context["columns"] = columns
            context["rows"] = _rows(columns)
        elif run.kind == LabRun.Kind.SIMULATE:
            context["rows"] = _rows([o.get("without", {}), o.get("with", {})])
        else:
            context["moves"] = o.get("moves", [])
            context["base"] = o.get("base", {})
    if request.headers.get("HX-Request"):
        response = render(request, "lab/_progress.html", context)
        if run.is_finished:
            # The progress bar's last poll: the whole page again, with the figures.
            response["HX-Refresh"] = "true"
        return response
    return render(request, "lab/run.html", context)


@coordinator_required
def lab_run_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if run.kind != LabRun.Kind.RECRUIT or run.status != LabRun.Status.DONE:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="recruitment-moves-{run.pk}.csv"'
    writer = csv.writer(response)
    columns = [
        "rank", "role", "skills", "district", "workers", "unfilled_hours_behind",
        "added_hours", "added_agency_spend_avoided", "fill_rate_hours",
    ]  # fmt: skip
    writer.writerow(columns)
    for rank, move in enumerate(run.outputs.get("moves", []), start=1):
        writer.writerow([rank, *(move.get(c, "") for c in columns[1:])])
    return response
