"""Coordinator pages under /pool/. Every view is thin: it finds the coordinator's pool,
checks the input with a form and calls one service or selector. Another pool's workers,
providers and shifts answer 404 because every lookup is filtered by the pool."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Who, access_holder, allow
from accounts.models import User
from flexpool.tables import Table
from pools import selectors, services
from pools.forms import (
    DirectOfferForm,
    OptionalReasonForm,
    OptOutForm,
    PoolSettingsForm,
    ProviderOnboardForm,
    ReasonForm,
    RoleRatesForm,
    SiteForm,
    WidenForm,
)
from pools.models import Coordinator, Pool
from providers.models import Provider
from shifts.models import ShiftRequest
from shifts.selectors import shift_why_not
from workers.models import Document, Worker

View = Callable[..., HttpResponse]


def coordinator_required(view: View) -> View:
    """For coordinators only, with a second factor (``accounts.access.allow`` decides);
    the view finds the coordinator on ``request.coordinator``."""

    @allow(Who.COORDINATOR)
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.coordinator = access_holder(request.user, Who.COORDINATOR)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def _coordinator(request: HttpRequest) -> Coordinator:
    coordinator = getattr(request, "coordinator", None)
    assert isinstance(coordinator, Coordinator)
    return coordinator


def _pool(request: HttpRequest) -> Pool:
    return _coordinator(request).pool


def _me(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _errors(form: Any, exc: ValidationError) -> None:
    for name, msgs in exc.message_dict.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


def _worker(request: HttpRequest, pk: int) -> Worker:
    return get_object_or_404(Worker, pk=pk, pool=_pool(request))


def _shift(request: HttpRequest, pk: int) -> ShiftRequest:
    return get_object_or_404(
        ShiftRequest.objects.select_related("provider", "site", "role", "pool"),
        pk=pk,
        pool=_pool(request),
    )


# --- Live board -------------------------------------------------------------------------------


@coordinator_required
def board(request: HttpRequest) -> HttpResponse:
    rows = selectors.board_rows(pool=_pool(request))
    return render(
        request,
        "pools/board.html",
        {"rows": rows, "escalated": sum(1 for r in rows if r.escalated or r.shift.is_critical)},
    )


def _shift_page(request: HttpRequest, shift: ShiftRequest, **forms: Any) -> HttpResponse:
    candidates: list[selectors.Candidate] = []
    exclusions: list[tuple[Worker, list[str]]] = []
    matching_ready = True
    try:
        if shift.is_open:
            candidates = selectors.shift_candidates(shift=shift)
            nearby = Worker.objects.filter(pool=shift.pool, status=Worker.Status.APPROVED).exclude(
                pk__in=[c.worker.pk for c in candidates]
            )[:15]
            exclusions = selectors.shift_exclusions(shift=shift, workers=nearby)
    except ImportError:
        matching_ready = False
    who = request.GET.get("who", "").strip()[:60]
    context = {
        "shift": shift,
        "who": who,
        "why_not": shift_why_not(shift=shift, name=who) if who else [],
        "offers": selectors.shift_offers(shift=shift),
        "runs": shift.match_runs.all()[:10],
        "candidates": candidates,
        "exclusions": exclusions,
        "matching_ready": matching_ready,
        "widen_form": forms.get("widen_form") or WidenForm(),
        "critical_form": forms.get("critical_form") or ReasonForm(),
        "offer_error": forms.get("offer_error"),
    }
    status = 400 if forms else 200
    return render(request, "pools/shift.html", context, status=status)


@coordinator_required
def shift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _shift_page(request, _shift(request, pk))


@coordinator_required
@require_POST
def shift_offer(request: HttpRequest, pk: int) -> HttpResponse:
    shift = _shift(request, pk)
    form = DirectOfferForm(request.POST)
    if not form.is_valid():
        return _shift_page(request, shift, offer_error="Choose a worker.")
    worker = _worker(request, form.cleaned_data["worker"])
    try:
        services.pool_shift_offer_direct(shift=shift, worker=worker, by=_me(request))
    except ValidationError as exc:
        return _shift_page(request, shift, offer_error=" ".join(exc.messages))
    messages.success(request, f"Offered to {worker}.")
    return redirect("pools:shift", pk=shift.pk)


@coordinator_required
@require_POST
def shift_widen(request: HttpRequest, pk: int) -> HttpResponse:
    shift = _shift(request, pk)
    form = WidenForm(request.POST)
    if form.is_valid():
        try:
            services.pool_shift_widen(
                shift=shift, extra_km=form.cleaned_data["extra_km"], by=_me(request)
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Search widened; matching runs again now.")
            return redirect("pools:shift", pk=shift.pk)
    return _shift_page(request, shift, widen_form=form)


@coordinator_required
@require_POST
def shift_critical(request: HttpRequest, pk: int) -> HttpResponse:
    shift = _shift(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.pool_shift_mark_critical(
                shift=shift, reason=form.cleaned_data["reason"], by=_me(request)
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Marked critical: offered to everyone eligible now.")
            return redirect("pools:shift", pk=shift.pk)
    return _shift_page(request, shift, critical_form=form)


# --- Vetting ----------------------------------------------------------------------------------


@coordinator_required
def workers(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100].replace("\x00", "")
    # A search without a stage looks at every stage.
    default = "all" if query.strip() else Worker.Status.DOCUMENTS_SUBMITTED
    status = request.GET.get("status") or default
    if status != "all" and status not in Worker.Status.values:
        raise Http404
    counts = selectors.pipeline_counts(pool=_pool(request))
    stages = [(s, Worker.Status(s).label, counts[s]) for s in selectors.PIPELINE]
    workers_qs = selectors.pool_workers(
        pool=_pool(request), status=None if status == "all" else status, query=query
    )
    page = Paginator(workers_qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "pools/workers.html",
        {
            "stages": stages,
            "status": status,
            "status_label": "All stages" if status == "all" else Worker.Status(status).label,
            "page": page,
            "query": query,
        },
    )


def _worker_page(
    request: HttpRequest, worker: Worker, status: int = 200, **forms: Any
) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "worker": worker,
        "documents": selectors.worker_documents(worker=worker),
        "missing": selectors.worker_missing_documents(worker=worker, today=today),
        "outstanding": selectors.worker_documents_outstanding(worker=worker, today=today),
        "document_views": selectors.worker_document_views(worker=worker)[:50],
        "today": today,
        "reject_form": forms.get("reject_form") or ReasonForm(),
        "reject_doc": forms.get("reject_doc"),
        "suspend_form": forms.get("suspend_form") or ReasonForm(),
        "left_form": forms.get("left_form") or ReasonForm(),
        "erase_on": (
            (worker.left_at + timedelta(days=worker.pool.leaver_retention_days)).date()
            if worker.left_at and not worker.erased_at
            else None
        ),
        "approve_form": OptionalReasonForm(),
        "stages": [
            (s, Worker.Status(s).label)
            for s in (
                Worker.Status.APPLIED,
                Worker.Status.DOCUMENTS_SUBMITTED,
                Worker.Status.CHECKS,
            )
        ],
        "audit": selectors.audit_entries(pool=worker.pool).filter(
            target_type="workers.worker", target_id=worker.pk
        )[:20],
    }
    return render(request, "pools/worker.html", context, status=status)


@coordinator_required
def worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _worker_page(request, _worker(request, pk))


@coordinator_required
@require_POST
def document_review(request: HttpRequest, pk: int, doc_pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    document = get_object_or_404(Document, pk=doc_pk, worker=worker)
    if request.POST.get("decision") == "approve":
        services.document_approve(document=document, by=_me(request))
        messages.success(request, f"{document.doc_type.name} approved.")
        return redirect("pools:worker", pk=worker.pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        services.document_reject(
            document=document,
            by=_me(request),
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            request, f"{document.doc_type.name} rejected; the worker has been told why."
        )
        return redirect("pools:worker", pk=worker.pk)
    return _worker_page(request, worker, 400, reject_form=form, reject_doc=document.pk)


@coordinator_required
@require_POST
def worker_approve(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    form = OptionalReasonForm(request.POST)
    form.is_valid()
    try:
        services.worker_approve(
            worker=worker,
            by=_me(request),
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{worker} is approved.")
    return redirect("pools:worker", pk=worker.pk)


@coordinator_required
@require_POST
def worker_opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    form = OptOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date the worker signed the opt-out.")
        return redirect("pools:worker", pk=worker.pk)
    try:
        services.worker_opt_out_record(
            worker=worker, signed_on=form.cleaned_data["signed_on"], by=_me(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{worker}'s opt-out from the 48-hour week is recorded.")
    return redirect("pools:worker", pk=worker.pk)


@coordinator_required
@require_POST
def worker_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        services.worker_suspend(worker=worker, by=_me(request), reason=form.cleaned_data["reason"])
        messages.success(request, f"{worker} is suspended; their pending offers were withdrawn.")
        return redirect("pools:worker", pk=worker.pk)
    return _worker_page(request, worker, 400, suspend_form=form)


@coordinator_required
@require_POST
def worker_left(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.worker_mark_left(
                worker=worker, by=_me(request), reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # the service's errors are all on "reason"
        else:
            messages.success(
                request,
                f"{worker} has left the pool; their pending offers were withdrawn.",
            )
            return redirect("pools:worker", pk=worker.pk)
    return _worker_page(request, worker, 400, left_form=form)


@coordinator_required
@require_POST
def worker_stage(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    try:
        services.worker_status_set(
            worker=worker,
            status=request.POST.get("status", ""),
            by=_me(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Stage updated.")
    return redirect("pools:worker", pk=worker.pk)


@coordinator_required
def audit(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.audit_entries(pool=_pool(request)), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "pools/audit.html", {"page": page})


# --- Compliance -------------------------------------------------------------------------------


@coordinator_required
def compliance(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        within = int(request.GET.get("within", "30"))
    except ValueError:
        within = 30
    if within not in (30, 60, 90):
        within = 30
    docs = list(
        selectors.documents_expiring(pool=_pool(request), today=today, within_days=within)[:1000]
    )
    table = Table(
        "expiring",
        f"Documents expiring in the next {within} days",
        ["Worker", "Document", "Expires on", "Days left"],
    )
    for d in docs:
        assert d.expires_on is not None
        days_left = (d.expires_on - today).days
        d.days_left = days_left  # type: ignore[attr-defined]
        table.rows.append(
            [d.worker.display_name, d.doc_type.name, d.expires_on.isoformat(), days_left]
        )
    if request.GET.get("export") == "expiring":
        return table.csv_response("compliance")
    return render(
        request,
        "pools/compliance.html",
        {
            "within": within,
            "documents": docs,
            "lapsed": selectors.documents_lapsed(pool=_pool(request), today=today)[:200],
            "today": today,
        },
    )


# --- Providers --------------------------------------------------------------------------------


@coordinator_required
def providers(request: HttpRequest) -> HttpResponse:
    items = Provider.objects.filter(pool=_pool(request)).prefetch_related("sites")
    return render(request, "pools/providers.html", {"providers": items})


@coordinator_required
def provider_new(request: HttpRequest) -> HttpResponse:
    form = ProviderOnboardForm(request.POST or None, prefix="provider")
    site_form = SiteForm(request.POST or None, prefix="site")
    if request.method == "POST" and form.is_valid() and site_form.is_valid():
        data, site = form.cleaned_data, site_form.cleaned_data
        try:
            with transaction.atomic():
                provider = services.provider_onboard(
                    pool=_pool(request),
                    name=data["name"],
                    size=data["size"],
                    by=_me(request),
                )
                try:
                    services.site_add(provider=provider, by=_me(request), **site)
                except ValidationError as exc:
                    _errors(site_form, exc)
                    raise
                try:
                    services.provider_admin_invite(
                        provider=provider,
                        email=data["admin_email"],
                        first_name=data["admin_first_name"],
                        last_name=data["admin_last_name"],
                        by=_me(request),
                    )
                except ValidationError as exc:
                    form.add_error("admin_email", " ".join(exc.messages))
                    raise
        except ValidationError as exc:
            if not form.errors and not site_form.errors:
                _errors(form, exc)
        else:
            messages.success(
                request,
                f"{provider.name} is onboarded; {data['admin_email']} has been sent a link to set a password.",
            )
            return redirect("pools:provider", pk=provider.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "pools/provider_new.html", {"form": form, "site_form": site_form}, status=status
    )


@coordinator_required
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk, pool=_pool(request))
    site_form = SiteForm(request.POST or None, prefix="site")
    if request.method == "POST" and site_form.is_valid():
        try:
            services.site_add(provider=provider, by=_me(request), **site_form.cleaned_data)
        except ValidationError as exc:
            _errors(site_form, exc)
        else:
            messages.success(request, "Site added.")
            return redirect("pools:provider", pk=provider.pk)
    return render(
        request,
        "pools/provider.html",
        {
            "provider": provider,
            "sites": provider.sites.all(),
            "members": provider.members.select_related("user"),
            "site_form": site_form,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Settings ---------------------------------------------------------------------------------


@coordinator_required
def pool_settings(request: HttpRequest) -> HttpResponse:
    pool: Pool = _pool(request)
    form = PoolSettingsForm(
        request.POST or None, instance=Pool.objects.get(pk=pool.pk), prefix="policy"
    )
    rates = RoleRatesForm(request.POST or None, pool=pool, prefix="rates")
    if request.method == "POST" and form.is_valid() and rates.is_valid():
        with transaction.atomic():
            services.pool_settings_update(
                pool=pool,
                by=_me(request),
                **{k: form.cleaned_data[k] for k in services.POLICY_FIELDS},
            )
            for role, agency, cost in rates.rates():
                services.role_rate_set(
                    pool=pool,
                    role=role,
                    benchmark_agency_rate=agency,
                    pool_hourly_cost=cost,
                    by=_me(request),
                )
        messages.success(request, "Pool settings saved.")
        return redirect("pools:settings")
    return render(
        request,
        "pools/settings.html",
        {"form": form, "rates": rates},
        status=400 if request.method == "POST" else 200,
    )
