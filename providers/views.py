"""Provider pages: thin views over providers.services, shifts.services and the selectors.

Everything is scoped to the signed-in member's own provider: another provider's request,
booking or member answers 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Who, access_holder, allow
from accounts.models import User
from providers import selectors, services
from providers.forms import (
    BlockForm,
    CancelForm,
    GovukDateField,
    GovukDateWidget,
    InviteForm,
    OutcomeForm,
    RatingForm,
    ShiftEditForm,
    ShiftPostForm,
    TimesheetCorrectForm,
    shift_initial,
)
from providers.models import Favourite, ProviderBlock, ProviderMember, ShiftTemplate
from shifts.models import Booking, ShiftRequest, Timesheet
from shifts.services import timesheets

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, ProviderMember, P], HttpResponse]

# Where a service's error about one of its arguments is shown on our forms.
FIELD_FOR = {
    "start": "start_time",
    "end": "end_time",
    "direct_worker": "offer_first",
    "clock_in": "start_time",
    "clock_out": "end_time",
    "shift": None,
    "booking": None,
    "timesheet": None,
    "worker": None,
    "member": None,
}


def provider_view(view: View[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """For provider members only (``accounts.access.allow`` decides); the view gets the
    member as its second argument."""

    @allow(Who.PROVIDER)
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        member = access_holder(request.user, Who.PROVIDER)
        assert isinstance(member, ProviderMember)
        return view(request, member, *args, **kwargs)

    return wrapper


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _errors_to_form(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errs in error.error_dict.items():
        target = FIELD_FOR.get(name, name)
        for message in ValidationError(errs).messages:
            form.add_error(target if target in form.fields else None, message)


def _message_errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _own_shift(member: ProviderMember, pk: int) -> ShiftRequest:
    return get_object_or_404(
        ShiftRequest.objects.select_related("site", "role", "pool", "provider"),
        pk=pk,
        provider_id=member.provider_id,
    )


def _own_booking(member: ProviderMember, pk: int) -> Booking:
    return get_object_or_404(
        Booking.objects.select_related("shift__provider", "shift__pool", "worker"),
        pk=pk,
        shift__provider_id=member.provider_id,
    )


def _to_shift(booking: Booking) -> HttpResponse:
    return redirect(
        reverse("providers:shift_detail", kwargs={"pk": booking.shift_id})
        + f"#booking-{booking.pk}"
    )


# --- Requests -----------------------------------------------------------------------------


@provider_view
def dashboard(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    now = timezone.now()
    shifts = list(selectors.provider_shifts(provider=member.provider)[:200])
    upcoming = [s for s in shifts if s.end > now]
    upcoming.reverse()
    past = [s for s in shifts if s.end <= now][:50]
    return render(
        request,
        "providers/dashboard.html",
        {
            "member": member,
            "upcoming": upcoming,
            "past": past,
            "reviews": selectors.provider_reviews_due(provider=member.provider, now=now),
        },
    )


def _rate_unchanged(request: HttpRequest, rate: Decimal | None) -> bool:
    """Without JavaScript the rate stays at the figure pre-filled for the first role; if the
    manager left it alone, the pool's benchmark for the role they picked applies."""
    try:
        prefilled = Decimal(request.POST.get("rate_prefilled", ""))
    except InvalidOperation:
        return False
    return rate is not None and rate == prefilled


@provider_view
def shift_new(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    provider = member.provider
    if request.method == "POST":
        form = ShiftPostForm(request.POST, provider=provider)
        if form.is_valid():
            from shifts.services.posting import shift_post

            data = form.cleaned_data
            rate = data["agency_hourly_rate"]
            if _rate_unchanged(request, rate):
                rate = None
            fields = {
                "provider": provider,
                "site": data["site"],
                "role": data["role"],
                "skills": list(data["skills"]),
                "start": data["start"],
                "end": data["end"],
                "headcount": data["headcount"],
                "agency_hourly_rate": rate,
                "notes": data["notes"],
                "created_by": _user(request),
                "direct_worker": data["direct_worker"],
                "is_critical": data["is_critical"],
                "critical_reason": data["critical_reason"].strip(),
            }
            try:
                if data["also_on"]:
                    from shifts.services.batch import shifts_post_on_dates

                    posted = shifts_post_on_dates(dates=data["also_on"], **fields)
                else:
                    shift = shift_post(**fields)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                if data["also_on"]:
                    messages.success(
                        request, f"{len(posted)} requests posted. We are finding workers now."
                    )
                    return redirect("providers:dashboard")
                messages.success(request, "Your request is posted. We are finding workers now.")
                return redirect("providers:shift_detail", pk=shift.pk)
    else:
        initial: dict[str, Any] = {"headcount": 1, "date": timezone.localdate()}
        source_id = request.GET.get("from", "")
        if source_id.isdigit():
            source = _own_shift(member, int(source_id))
            day = timezone.localtime(source.start).date()
            if request.GET.get("week") == "1":
                day += timedelta(days=7)
            else:
                # "Repeat": the same shift on the next day it can still happen.
                day = max(day, timezone.localdate())
            initial = shift_initial(source, day=day)
        form = ShiftPostForm(initial=initial, provider=provider)
    rates = selectors.provider_benchmark_rates(provider=provider)
    if not form.is_bound and "agency_hourly_rate" not in form.initial:
        first_role = form.fields["role"].queryset.first()  # type: ignore[attr-defined]
        if first_role is not None:
            form.initial["agency_hourly_rate"] = rates.get(first_role.pk)
            form.initial["role"] = first_role.pk
    prefilled = form["agency_hourly_rate"].value() if not form.is_bound else None
    return render(
        request,
        "providers/shift_form.html",
        {
            "form": form,
            "rates": {str(k): str(v) for k, v in rates.items()},
            "rate_prefilled": request.POST.get("rate_prefilled", prefilled or ""),
            "recent": selectors.provider_shift_recent(provider=provider),
            "templates": list(
                ShiftTemplate.objects.filter(provider=provider).select_related("site", "role")
            ),
            "today": timezone.localdate(),
            "has_favourites": form.fields["offer_first"].queryset.exists(),  # type: ignore[attr-defined]
        },
    )


@provider_view
def shift_detail(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    shift = _own_shift(member, pk)
    status = selectors.shift_status(shift=shift)
    return render(
        request,
        "providers/shift_detail.html",
        {
            "shift": shift,
            "status": status,
            "signature": _signature(status),
            "outcome_form": OutcomeForm(),
            "polling": _polling(shift),
        },
    )


def _polling(shift: ShiftRequest) -> bool:
    """Live updates while the request can still change by itself (before it starts)."""
    return shift.status in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED) and (
        shift.start > timezone.now()
    )


def _signature(status: selectors.ShiftStatus) -> str:
    parts = [
        status.shift.status,
        str(status.shift.booked_count),
        *(
            f"{w.wave}:{w.sent}:{w.viewed}:{w.accepted}:{w.declined}:{w.pending}"
            for w in status.waves
        ),
        *(f"{b.booking.pk}:{b.booking.status}" for b in status.booked),
        str(int(status.time_to_escalation.total_seconds() // 300))
        if status.time_to_escalation is not None
        else "-",
    ]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


@provider_view
def shift_live(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    """The live part of the status page; htmx polls it. 204 when nothing changed."""
    shift = _own_shift(member, pk)
    status = selectors.shift_status(shift=shift)
    signature = _signature(status)
    if request.GET.get("v") == signature and _polling(shift):
        return HttpResponse(status=204)
    return render(
        request,
        "providers/_shift_live.html",
        {"shift": shift, "status": status, "signature": signature, "polling": _polling(shift)},
    )


@provider_view
def shift_edit(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    shift = _own_shift(member, pk)
    if shift.status not in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED):
        raise Http404
    if request.method == "POST":
        form = ShiftEditForm(request.POST, shift=shift)
        if form.is_valid():
            from shifts.services.posting import shift_update

            data = form.cleaned_data
            try:
                shift_update(
                    shift=shift,
                    by=_user(request),
                    start=data["start"],
                    end=data["end"],
                    role=data["role"],
                    skills=list(data["skills"]),
                    headcount=data["headcount"],
                    notes=data["notes"],
                    agency_hourly_rate=data["agency_hourly_rate"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, "Your changes are saved. Booked workers have been told.")
                return redirect("providers:shift_detail", pk=shift.pk)
    else:
        form = ShiftEditForm(shift=shift)
    return render(request, "providers/shift_edit.html", {"form": form, "shift": shift})


@provider_view
def shift_cancel(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    shift = _own_shift(member, pk)
    if shift.status not in (ShiftRequest.Status.OPEN, ShiftRequest.Status.FILLED):
        raise Http404
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from shifts.services.lifecycle import shift_cancel as cancel

        try:
            cancel(shift=shift, by=_user(request), reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "The request is cancelled. Anyone booked has been told.")
            return redirect("providers:shift_detail", pk=shift.pk)
    return render(request, "providers/shift_cancel.html", {"form": form, "shift": shift})


@require_POST
@provider_view
def shift_outcome(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    shift = _own_shift(member, pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what happened to the places we did not fill.")
        return redirect("providers:shift_detail", pk=shift.pk)
    from shifts.services.posting import shift_mark_outcome

    try:
        shift_mark_outcome(
            shift=shift,
            outcome=ShiftRequest.Outcome(form.cleaned_data["outcome"]),
            by=_user(request),
        )
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, "Thank you: the pool now knows what happened.")
    return redirect("providers:shift_detail", pk=shift.pk)


# --- Bookings, timesheets, ratings ---------------------------------------------------------


@require_POST
@provider_view
def booking_no_show(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    booking = _own_booking(member, pk)
    from shifts.services.lifecycle import booking_record_no_show

    try:
        booking_record_no_show(booking=booking, by=_user(request))
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(
            request,
            f"{booking.worker.display_name} is recorded as a no-show. "
            "The place is re-posted as urgent.",
        )
    return _to_shift(booking)


@require_POST
@provider_view
def booking_attended(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    booking = _own_booking(member, pk)
    try:
        timesheets.booking_confirm_attended(booking=booking, by=_user(request))
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, f"{booking.worker.display_name} attended. Thank you.")
    return _to_shift(booking)


def _own_timesheet(member: ProviderMember, booking_pk: int) -> Timesheet:
    booking = _own_booking(member, booking_pk)
    try:
        return booking.timesheet
    except Timesheet.DoesNotExist as exc:
        raise Http404 from exc


@require_POST
@provider_view
def timesheet_approve(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    timesheet = _own_timesheet(member, pk)
    try:
        timesheets.timesheet_approve(timesheet=timesheet, by=_user(request))
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, f"Timesheet approved: {timesheet.hours} hours.")
    return _to_shift(timesheet.booking)


@provider_view
def timesheet_correct(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    timesheet = _own_timesheet(member, pk)
    booking = timesheet.booking
    day = timezone.localtime(timesheet.clock_in).date()
    if request.method == "POST":
        form = TimesheetCorrectForm(request.POST, day=day)
        if form.is_valid():
            data = form.cleaned_data
            try:
                timesheets.timesheet_correct(
                    timesheet=timesheet,
                    by=_user(request),
                    clock_in=data["clock_in"],
                    clock_out=data["clock_out"],
                    break_minutes=data["break_minutes"],
                    note=data["note"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, "The corrected hours are approved. The worker is told.")
                return _to_shift(booking)
    else:
        clock_out = timesheet.clock_out or booking.end
        form = TimesheetCorrectForm(
            day=day,
            initial={
                "start_time": timezone.localtime(timesheet.clock_in).time().replace(second=0),
                "end_time": timezone.localtime(clock_out).time().replace(second=0),
                "break_minutes": timesheet.break_minutes,
            },
        )
    return render(
        request,
        "providers/timesheet_correct.html",
        {"form": form, "timesheet": timesheet, "booking": booking, "day": day},
    )


@provider_view
def booking_rate(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    booking = _own_booking(member, pk)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            timesheets.rating_create(
                booking=booking,
                by=_user(request),
                punctuality=data["punctuality"],
                care=data["care"],
                skills_as_listed=data["skills_as_listed"],
                comment=data["comment"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, f"Thank you for rating {booking.worker.display_name}.")
            return _to_shift(booking)
    return render(request, "providers/booking_rate.html", {"form": form, "booking": booking})


@require_POST
@provider_view
def favourite_add(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    booking = _own_booking(member, pk)
    try:
        services.favourite_add(provider=member.provider, worker=booking.worker, by=_user(request))
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, f"{booking.worker.display_name} is one of your favourites.")
    return _to_shift(booking)


@require_POST
@provider_view
def favourite_remove(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    booking = _own_booking(member, pk)
    services.favourite_remove(provider=member.provider, worker=booking.worker, by=_user(request))
    messages.success(request, f"{booking.worker.display_name} is no longer a favourite.")
    return _to_shift(booking)


@provider_view
def worker_block(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    booking = _own_booking(member, pk)
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.worker_block(
                provider=member.provider,
                worker=booking.worker,
                by=_user(request),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(
                request, f"The pool will not send {booking.worker.display_name} to you again."
            )
            return _to_shift(booking)
    return render(request, "providers/worker_block.html", {"form": form, "booking": booking})


# --- Members -------------------------------------------------------------------


@provider_view
def members(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not member.is_admin:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                invited = services.member_invite(
                    provider=member.provider,
                    by=_user(request),
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    job_title=data["job_title"],
                    is_admin=data["is_admin"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    f"We have e-mailed {invited.user.email} a link to choose a password.",
                )
                return redirect("providers:members")
    colleagues = (
        ProviderMember.objects.filter(provider_id=member.provider_id)
        .select_related("user")
        .order_by("user__first_name", "user__last_name")
    )
    return render(
        request,
        "providers/members.html",
        {"form": form, "member": member, "colleagues": colleagues},
    )


@require_POST
@provider_view
def member_remove(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    target = get_object_or_404(
        ProviderMember.objects.select_related("user", "provider__pool"),
        pk=pk,
        provider_id=member.provider_id,
    )
    if not member.is_admin:
        raise PermissionDenied
    try:
        services.member_remove(member=target, by=_user(request))
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, f"{target.user} can no longer use FlexPool for you.")
    return redirect("providers:members")


@provider_view
def favourites(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    provider = member.provider
    return render(
        request,
        "providers/favourites.html",
        {
            "member": member,
            "favourites": Favourite.objects.filter(provider=provider)
            .select_related("worker")
            .order_by("worker__display_name"),
            "blocks": ProviderBlock.objects.filter(provider=provider)
            .select_related("worker", "created_by")
            .order_by("-created_at"),
        },
    )


@require_POST
@provider_view
def favourite_delete(request: HttpRequest, member: ProviderMember, worker_pk: int) -> HttpResponse:
    favourite = get_object_or_404(
        Favourite.objects.select_related("worker"), provider=member.provider, worker_id=worker_pk
    )
    services.favourite_remove(provider=member.provider, worker=favourite.worker, by=_user(request))
    messages.success(request, f"{favourite.worker.display_name} is no longer a favourite.")
    return redirect("providers:favourites")


@provider_view
def week_copy(request: HttpRequest, member: ProviderMember) -> HttpResponse:
    """Copy last week's requests to this week, all of them or the ones ticked."""
    from shifts.services.batch import provider_week_requests, shifts_copy_week

    today = timezone.localdate()
    last_monday = today - timedelta(days=today.weekday() + 7)
    sources = provider_week_requests(provider=member.provider, monday=last_monday)
    error = ""
    if request.method == "POST":
        chosen = set(request.POST.getlist("shifts"))
        picked = [s for s in sources if str(s.pk) in chosen]
        if not picked:
            error = "Tick at least one request to copy."
        else:
            try:
                posted = shifts_copy_week(
                    provider=member.provider, sources=picked, created_by=_user(request)
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    f"{len(posted)} request{'s' if len(posted) != 1 else ''} copied to this "
                    "week. We are finding workers now.",
                )
                return redirect("providers:dashboard")
    now = timezone.now()
    return render(
        request,
        "providers/week_copy.html",
        {
            "sources": sources,
            "monday": last_monday,
            "sunday": last_monday + timedelta(days=6),
            "error": error,
            "too_late": {s.pk for s in sources if s.start + timedelta(days=7) <= now},
        },
    )


@require_POST
@provider_view
def shift_template_save(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    shift = _own_shift(member, pk)
    try:
        services.shift_template_save(
            provider=member.provider,
            name=request.POST.get("name", ""),
            shift=shift,
            by=_user(request),
        )
    except ValidationError as exc:
        _message_errors(request, exc)
    else:
        messages.success(request, "Template saved. Post from it on the 'Post a shift' page.")
    return redirect("providers:shift_detail", pk=shift.pk)


@require_POST
@provider_view
def shift_template_post(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    """Post a template's shift for one date, in one step."""
    from shifts.services.batch import shift_post_from_template

    template = get_object_or_404(ShiftTemplate, pk=pk, provider_id=member.provider_id)
    field = GovukDateField(error_messages={"required": "Enter the date the shift starts."})
    try:
        day = field.clean(GovukDateWidget().value_from_datadict(request.POST, {}, "date"))
        assert day is not None
        shift = shift_post_from_template(template=template, day=day, created_by=_user(request))
    except ValidationError as exc:
        messages.error(request, f"{template.name}: {' '.join(exc.messages)}")
        return redirect("providers:shift_new")
    messages.success(request, "Your request is posted. We are finding workers now.")
    return redirect("providers:shift_detail", pk=shift.pk)


@require_POST
@provider_view
def shift_template_delete(request: HttpRequest, member: ProviderMember, pk: int) -> HttpResponse:
    if not services.shift_template_delete(provider=member.provider, template_id=pk):
        raise Http404
    messages.success(request, "Template removed.")
    return redirect("providers:shift_new")
