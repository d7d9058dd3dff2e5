"""Pages of the workforce returns and the committee report. Providers: their own returns
under /provider/returns/ (anyone else's answer 404). Coordinators: who has returned, the
Real Living Wage and benchmarks, and the committee report under /pool/. Thin views: parse,
call one service or selector, render."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from flexpool.input import Form
from pools import selectors as pool_selectors
from pools.models import Coordinator
from pools.views import coordinator_required
from providers.models import Provider, ProviderMember
from providers.views import provider_view
from reports import committee, services
from reports.definitions import workforce_definitions
from reports.models import Benchmark, CommitteeReport, LivingWageRate, WorkforceReturn
from reports.quarters import Quarter, quarter_to_return
from reports.workforce import returns_status

STATE_LABELS = {
    "returned": "Returned",
    "returned_late": "Returned late",
    "late": "Late",
    "draft": "Started",
    "not_started": "Not started",
}


def _quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except ValueError as exc:
        raise Http404 from exc


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Providers: their own returns ------------------------------------------------------------


@provider_view
def returns_home(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    due = quarter_to_return(timezone.localdate())
    mine = {
        r.quarter: r
        for r in WorkforceReturn.objects.filter(provider=member.provider).order_by("-quarter")
    }
    rows = [{"quarter": q, "return": mine.get(str(q))} for q in reversed(due.last(6))]
    return render(request, "reports/returns_home.html", {"rows": rows, "due": due})


def _return_page(
    request: HttpRequest,
    member: ProviderMember,
    workforce_return: WorkforceReturn,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
    csv_errors: list[str] | None = None,
) -> HttpResponse:
    roles = services.return_roles()
    quarter = Quarter.parse(workforce_return.quarter)
    grid = [
        {
            "role": role,
            "cells": [
                {
                    "name": f"line-{role.pk}-{name}",
                    "label": label,
                    "value": values.get(f"line-{role.pk}-{name}", 0),
                    "errors": errors.get(f"line-{role.pk}-{name}", []),
                }
                for name, label in services.LINE_FIELDS
            ],
        }
        for role in roles
    ]
    provider_fields = [
        {
            "name": name,
            "label": label,
            "value": values.get(name, ""),
            "errors": errors.get(name, []),
            "choices": WorkforceReturn.Evidence.choices if name == "zero_hours_evidence" else None,
        }
        for name, label in services.RETURN_FIELDS
    ]
    summary = [(name, message) for name, msgs in errors.items() for message in msgs]
    return render(
        request,
        "reports/return_form.html",
        {
            "workforce_return": workforce_return,
            "quarter": quarter,
            "grid": grid,
            "provider_fields": provider_fields,
            "errors": errors,
            "summary": summary,
            "csv_errors": csv_errors or [],
            "reason": request.POST.get("reason", ""),
            "submitted": workforce_return.status == WorkforceReturn.Status.SUBMITTED,
        },
        status=status,
    )


@provider_view
def return_edit(request: HttpRequest, member: ProviderMember, quarter: str) -> HttpResponse:
    q = _quarter(quarter)
    if q.end >= timezone.localdate():
        raise Http404  # a quarter is returned once it has ended
    workforce_return = services.return_prefill(provider=member.provider, quarter=q)
    if request.method != "POST":
        values = services.return_values(workforce_return=workforce_return)
        return _return_page(request, member, workforce_return, values, {})
    data, errors = services.return_parse(request.POST, services.return_roles())
    if not errors:
        try:
            services.return_save(
                workforce_return=workforce_return,
                data=data,
                by=_user(request),
                submit="submit" in request.POST,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            done = "submitted" if "submit" in request.POST else "saved"
            if workforce_return.status == WorkforceReturn.Status.SUBMITTED:
                done = "corrected"
            messages.success(request, f"Your return for {q.label} is {done}.")
            return redirect("returns:edit", quarter=str(q))
    return _return_page(request, member, workforce_return, dict(request.POST.items()), errors, 400)


@provider_view
def return_template(request: HttpRequest, member: ProviderMember, quarter: str) -> HttpResponse:
    q = _quarter(quarter)
    if q.end >= timezone.localdate():
        raise Http404
    workforce_return = services.return_prefill(provider=member.provider, quarter=q)
    response = HttpResponse(
        services.return_csv_template(workforce_return=workforce_return),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="workforce-return-{q}.csv"'
    return response


@provider_view
@require_POST
def return_upload(request: HttpRequest, member: ProviderMember, quarter: str) -> HttpResponse:
    q = _quarter(quarter)
    if q.end >= timezone.localdate():
        raise Http404
    workforce_return = services.return_prefill(provider=member.provider, quarter=q)
    upload = request.FILES.get("file")
    values = services.return_values(workforce_return=workforce_return)
    if upload is None or (upload.size or 0) > 200_000:
        problems = ["Choose a CSV file (the template, filled in) under 200 KB."]
        return _return_page(request, member, workforce_return, values, {}, 400, problems)
    result = services.return_csv_read(content=upload.read())
    if result.data is None:
        return _return_page(request, member, workforce_return, values, {}, 400, result.row_errors)
    if workforce_return.status == WorkforceReturn.Status.SUBMITTED:
        problems = ["This return is submitted: correct it on this page, giving a reason."]
        return _return_page(request, member, workforce_return, values, {}, 400, problems)
    services.return_save(
        workforce_return=workforce_return, data=result.data, by=_user(request), submit=False
    )
    messages.success(request, "Your file is read into the return below: check it, then submit.")
    return redirect("returns:edit", quarter=str(q))


# --- Coordinators ------------------------------------------------------------------------------


def _coordinator(request: HttpRequest) -> Coordinator:
    coordinator = pool_selectors.coordinator_of(request.user)
    assert coordinator is not None
    return coordinator


class LivingWageForm(Form):
    year = forms.IntegerField(label="Year", min_value=2000, max_value=2100)
    hourly = forms.DecimalField(
        label="Real Living Wage (£ an hour)", min_value=Decimal("1"), max_value=Decimal("100"),
        decimal_places=2,
    )  # fmt: skip


class BenchmarkForm(Form):
    quarter = forms.CharField(label="Quarter", help_text="For example 2026-Q3")
    figure = forms.ChoiceField(label="Figure")
    area = forms.ChoiceField(label="Compared with", choices=Benchmark.Area.choices)
    value = forms.DecimalField(label="Value", help_text="A percentage for rates, e.g. 8.5")
    source = forms.CharField(label="Source", max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["figure"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(d.key, d.name) for d in workforce_definitions()]

    def clean_quarter(self) -> str:
        try:
            return str(Quarter.parse(self.cleaned_data["quarter"]))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


def _quarter_param(request: HttpRequest) -> Quarter:
    text = request.GET.get("quarter")
    if not text:
        return quarter_to_return(timezone.localdate())
    return _quarter(text)


@coordinator_required
def returns_list(request: HttpRequest) -> HttpResponse:
    coordinator = _coordinator(request)
    quarter = _quarter_param(request)
    rows = returns_status(
        pool_ids=[coordinator.pool_id], quarter=quarter, today=timezone.localdate()
    )
    for row in rows:
        row["label"] = STATE_LABELS[row["state"]]
    returned = sum(1 for r in rows if r["state"] in ("returned", "returned_late"))
    wage_form = LivingWageForm(prefix="wage", initial={"year": quarter.year})
    rates = LivingWageRate.objects.filter(pool_id=coordinator.pool_id).order_by("-year")
    return render(
        request,
        "reports/returns_list.html",
        {
            "quarter": quarter,
            "quarters": list(reversed(quarter_to_return(timezone.localdate()).last(8))),
            "rows": rows,
            "returned": returned,
            "rate": committee.show(returned / len(rows) if rows else None, "ratio"),
            "wage_form": wage_form,
            "rates": rates,
        },
    )


@coordinator_required
@require_POST
def return_chase(request: HttpRequest, provider_id: int) -> HttpResponse:
    coordinator = _coordinator(request)
    provider = get_object_or_404(Provider, pk=provider_id, pool_id=coordinator.pool_id)
    try:
        quarter = Quarter.parse(request.POST.get("quarter", ""))
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    try:
        sent = services.return_chase(provider=provider, quarter=quarter, by=_user(request))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, f"{provider.name} is chased ({sent} message{'s' if sent != 1 else ''})."
        )
    return redirect(f"/pool/returns/?quarter={quarter}")


@coordinator_required
@require_POST
def living_wage(request: HttpRequest) -> HttpResponse:
    coordinator = _coordinator(request)
    form = LivingWageForm(request.POST, prefix="wage")
    if form.is_valid():
        services.living_wage_set(
            pool=coordinator.pool,
            year=form.cleaned_data["year"],
            hourly_pence=int(form.cleaned_data["hourly"] * 100),
            by=_user(request),
        )
        messages.success(request, "The Real Living Wage is saved.")
        return redirect("workforce:returns")
    rates = LivingWageRate.objects.filter(pool_id=coordinator.pool_id).order_by("-year")
    quarter = quarter_to_return(timezone.localdate())
    return render(
        request,
        "reports/returns_list.html",
        {"quarter": quarter, "rows": [], "wage_form": form, "rates": rates, "quarters": []},
        status=400,
    )


@coordinator_required
def benchmarks(request: HttpRequest) -> HttpResponse:
    coordinator = _coordinator(request)
    form = BenchmarkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        value = d["value"]
        unit = {x.key: x.unit for x in workforce_definitions()}[d["figure"]]
        try:
            services.benchmark_set(
                pool=coordinator.pool,
                quarter=Quarter.parse(d["quarter"]),
                figure=d["figure"],
                area=d["area"],
                value=value / 100 if unit == "ratio" else value,
                source=d["source"],
                by=_user(request),
            )
        except (ValidationError, InvalidOperation) as exc:
            for name, msgs in getattr(exc, "message_dict", {"value": ["Check the value."]}).items():
                for m in msgs:
                    form.add_error(name if name in form.fields else None, m)
        else:
            messages.success(request, "The benchmark is saved.")
            return redirect("workforce:benchmarks")
    rows = Benchmark.objects.filter(pool_id=coordinator.pool_id).order_by(
        "-quarter", "figure", "area"
    )
    names = {d.key: d.name for d in workforce_definitions()}
    return render(
        request,
        "reports/benchmarks.html",
        {"form": form, "rows": rows, "names": names},
        status=400 if request.method == "POST" else 200,
    )


class NotesForm(Form):
    officer_notes = forms.CharField(
        label="Notes by the officer", required=False, max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )  # fmt: skip


@coordinator_required
def committee_reports(request: HttpRequest) -> HttpResponse:
    coordinator = _coordinator(request)
    latest = quarter_to_return(timezone.localdate())
    stored = {r.quarter: r for r in CommitteeReport.objects.filter(pool_id=coordinator.pool_id)}
    rows = [{"quarter": q, "report": stored.get(str(q))} for q in reversed(latest.last(8))]
    return render(request, "reports/committee_list.html", {"rows": rows})


def _report_context(request: HttpRequest, quarter: str) -> tuple[CommitteeReport, dict[str, Any]]:
    coordinator = _coordinator(request)
    q = _quarter(quarter)
    if q.end >= timezone.localdate():
        raise Http404
    report = services.report_for(pool=coordinator.pool, quarter=q)
    data = services.report_figures(report=report)
    return report, {
        "report": report,
        "data": data,
        "quarter": q,
        "tables": committee.report_tables(data),
        "published": report.status == CommitteeReport.Status.PUBLISHED,
        "empty_text": "No returns to show.",
    }


@coordinator_required
def committee_report(request: HttpRequest, quarter: str) -> HttpResponse:
    report, context = _report_context(request, quarter)
    if request.method == "POST":
        try:
            if "publish" in request.POST:
                services.report_publish(report=report, by=_user(request))
                messages.success(request, "The report is published: its figures are now fixed.")
            else:
                form = NotesForm(request.POST)
                if not form.is_valid():
                    context["notes_form"] = form
                    return render(request, "reports/committee.html", context, status=400)
                services.report_notes_save(
                    report=report, notes=form.cleaned_data["officer_notes"], by=_user(request)
                )
                messages.success(request, "The officer's notes are saved.")
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        return redirect("workforce:report", quarter=quarter)
    export = request.GET.get("export")
    if export:
        for table in context["tables"]:
            if table.slug == export:
                return table.csv_response(f"committee-report-{quarter}")
        raise Http404
    context["notes_form"] = NotesForm(initial={"officer_notes": report.officer_notes})
    return render(request, "reports/committee.html", context)


@coordinator_required
def committee_print(request: HttpRequest, quarter: str) -> HttpResponse:
    _report, context = _report_context(request, quarter)
    return render(request, "reports/committee_print.html", context)


@coordinator_required
def committee_pdf(request: HttpRequest, quarter: str) -> HttpResponse:
    from weasyprint import HTML

    _report, context = _report_context(request, quarter)
    html = render_to_string("reports/committee_print.html", context, request=request)
    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="committee-report-{quarter}.pdf"'
    return response
