"""The worker's pages (phone first). Each view finds the signed-in person's own worker
record and looks everything up through it, so another worker's data answers 404."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.access import Who, access_holder, allow
from accounts.models import User
from notifications.selectors import notification_preference_get, notifications_recent
from notifications.services import notification_preference_update, notifications_mark_read
from pools.services import document_view_record
from shifts.exceptions import OfferUnavailable
from shifts.models import Booking, Offer
from shifts.selectors import worker_shifts_not_offered
from shifts.services import attendance
from shifts.services import offers as offers_service
from shifts.services.lifecycle import booking_cancel
from workers import forms, selectors, services
from workers.calendar import bookings_icalendar
from workers.models import Worker
from workers.services import DOCUMENT_SIGNATURES

WorkerView = Callable[..., HttpResponse]


def worker_required(view: WorkerView) -> WorkerView:
    """For workers whose account is open (``accounts.access.allow`` decides: anyone else
    gets 404, someone signed in with no area is sent to apply); the view gets ``worker``."""

    @allow(Who.WORKER)
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        worker = access_holder(request.user, Who.WORKER)
        assert isinstance(worker, Worker)
        return view(request, *args, worker=worker, **kwargs)

    return wrapped


def _posted(request: HttpRequest) -> Any:
    """The submitted data on a POST (even an empty one, e.g. every box unticked), else None."""
    return request.POST if request.method == "POST" else None


def _form_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


# --- Applying and the profile ---------------------------------------------------------


@allow(Who.SIGNED_IN)
def apply(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.is_coordinator or user.is_provider_member:
        raise Http404
    if selectors.worker_for_user(user=user) is not None:
        return redirect("workers:profile")
    form = forms.ProfileForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.worker_apply(
                user=user,
                display_name=data["display_name"],
                phone=data["phone"],
                location=form.location,
                travel_radius_km=data["travel_radius_km"],
                drives=data["drives"],
                roles=data["roles"],
                skills=data["skills"],
                weekly_hours_cap=data["weekly_hours_cap"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Thank you for applying. Next, upload your documents.")
            return redirect("workers:documents")
    return render(request, "workers/apply.html", {"form": form})


@worker_required
def profile(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    form = forms.ProfileForm(
        _posted(request), worker=worker, initial=forms.ProfileForm.initial_for(worker)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.worker_profile_update(
                worker=worker,
                display_name=data["display_name"],
                phone=data["phone"],
                location=form.location,
                travel_radius_km=data["travel_radius_km"],
                drives=data["drives"],
                roles=data["roles"],
                skills=data["skills"],
                weekly_hours_cap=data["weekly_hours_cap"],
                extra_pools=data.get("extra_pools", []),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("workers:profile")
    return render(request, "workers/profile.html", {"form": form, "worker": worker})


@worker_required
@require_POST
def opt_out_withdraw(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    try:
        services.worker_opt_out_withdraw(worker=worker)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Your opt-out is withdrawn. After "
            f"{worker.pool.opt_out_notice_days} days' notice you will work at most 48 hours a "
            "week on average.",
        )
    return redirect("workers:profile")


# --- Documents ------------------------------------------------------------------------


@worker_required
def documents(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    """Every document the worker's roles and skills need, on one page: each outstanding
    one has its own row, and one submit sends every file chosen (all or none)."""
    statuses = selectors.worker_document_statuses(worker=worker)
    outstanding = [s for s in statuses if s.status not in ("approved", "pending")]
    posted = request.method == "POST"
    rows = [
        forms.DocumentRowForm(
            request.POST if posted else None,
            request.FILES if posted else None,
            doc_type=s.doc_type,
            prefix=f"d{s.doc_type.pk}",
        )
        for s in outstanding
    ]
    problem = ""
    filled: list[forms.DocumentRowForm] = []
    if posted:
        filled = [row for row in rows if row.filled]
        if not filled:
            problem = "Choose a file for at least one document."
        elif all(row.is_valid() for row in filled):
            uploads = [
                services.DocumentUpload(
                    doc_type=row.doc_type,
                    file=row.cleaned_data["file"],
                    issued_on=row.cleaned_data["issued_on"],
                    expires_on=row.cleaned_data.get("expires_on"),
                    reference=row.cleaned_data["reference"],
                )
                for row in filled
            ]
            try:
                services.documents_upload(worker=worker, uploads=uploads)
            except ValidationError as exc:
                by_type = {row.doc_type.pk: row for row in filled}
                for key, errors in exc.message_dict.items():
                    type_pk, _, name = key.partition("-")
                    row = by_type[int(type_pk)]
                    row.add_error(name if name in row.fields else None, ValidationError(errors))
            else:
                names = ", ".join(u.doc_type.name for u in uploads)
                messages.success(request, f"Uploaded: {names}. We will review them.")
                return redirect("workers:documents")
    done = sum(1 for s in statuses if s.status in ("approved", "pending", "expiring"))
    return render(
        request,
        "workers/documents.html",
        {
            "statuses": statuses,
            "rows": rows,
            "problem": problem,
            "error_rows": [row for row in filled if row.errors],
            "done": done,
            "total": len(statuses),
            "worker": worker,
        },
    )


@allow(Who.WORKER, Who.COORDINATOR)
@require_GET
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    """The stored file, to its worker and the coordinators of the worker's pool only."""
    user = request.user
    assert isinstance(user, User)
    document = selectors.document_for_viewer(user=user, document_id=pk)
    if document is None:
        raise Http404
    if document.worker.user_id != user.pk:
        document_view_record(document=document, by=user)
    handle = document.file.open("rb")
    head = handle.read(16)
    handle.seek(0)
    content_type = next(
        (ct for ct, sigs in DOCUMENT_SIGNATURES.items() if head.startswith(sigs)),
        "application/octet-stream",
    )
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="document-{document.pk}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Availability ---------------------------------------------------------------------


@worker_required
def availability(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    rule_form = forms.AvailabilityRuleForm(prefix="rule")
    exception_form = forms.AvailabilityExceptionForm(prefix="exception")
    ready_form = forms.ReadyNowForm(prefix="ready")
    preset_form = forms.AvailabilityPresetForm(prefix="preset")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "preset":
                preset_form = forms.AvailabilityPresetForm(request.POST, prefix="preset")
                if preset_form.is_valid():
                    services.availability_preset_apply(
                        worker=worker, preset=preset_form.cleaned_data["preset"]
                    )
                    messages.success(request, "Your weekly pattern is set.")
                    return redirect("workers:availability")
            elif action == "rule":
                rule_form = forms.AvailabilityRuleForm(request.POST, prefix="rule")
                if rule_form.is_valid():
                    d = rule_form.cleaned_data
                    services.availability_rule_add(
                        worker=worker,
                        weekday=d["weekday"],
                        start_minute=d["start_minute"],
                        end_minute=d["end_minute"],
                    )
                    messages.success(request, "Weekly availability added.")
                    return redirect("workers:availability")
            elif action == "exception":
                exception_form = forms.AvailabilityExceptionForm(request.POST, prefix="exception")
                if exception_form.is_valid():
                    d = exception_form.cleaned_data
                    services.availability_exception_add(
                        worker=worker,
                        day=d["day"],
                        available=d["available"],
                        start_minute=d["start_minute"],
                        end_minute=d["end_minute"],
                    )
                    messages.success(request, "Date added.")
                    return redirect("workers:availability")
            elif action == "ready":
                ready_form = forms.ReadyNowForm(request.POST, prefix="ready")
                if ready_form.is_valid():
                    hours = ready_form.cleaned_data["hours"]
                    services.worker_ready_now_set(worker=worker, hours=hours)
                    messages.success(
                        request,
                        f"You are ready to work for the next {hours} hours."
                        if hours
                        else "Ready now is switched off.",
                    )
                    return redirect("workers:availability")
            elif action == "remove-rule":
                services.availability_rule_remove(
                    worker=worker, rule_id=int(request.POST.get("id", "0") or 0)
                )
                return redirect("workers:availability")
            elif action == "remove-exception":
                services.availability_exception_remove(
                    worker=worker, exception_id=int(request.POST.get("id", "0") or 0)
                )
                return redirect("workers:availability")
        except (ValidationError, ValueError) as exc:
            target = exception_form if action == "exception" else rule_form
            if isinstance(exc, ValidationError):
                _form_errors(target, exc)
    now = timezone.now()
    return render(
        request,
        "workers/availability.html",
        {
            "worker": worker,
            "rules": worker.availability.all(),
            "exceptions": worker.exceptions.filter(day__gte=timezone.localdate()),
            "rule_form": rule_form,
            "exception_form": exception_form,
            "ready_form": ready_form,
            "preset_form": preset_form,
            "ready_now": worker.is_ready_now(now),
            "weekdays": dict(forms.WEEKDAYS),
        },
    )


# --- Offers ---------------------------------------------------------------------------


@cache_control(private=True, no_cache=True, must_revalidate=True, max_age=0)
@worker_required
def offers(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    """Pending offers. The list polls itself (htmx); a poll whose list has not changed
    gets 204 No Content, which htmx leaves alone, so a phone on a weak signal downloads
    a few bytes and a thumb on a button does not lose its place. Any other GET carrying
    the page's ETag (``If-None-Match``) gets 304. Both are answered from the list's
    fingerprint alone (one small query), before any offer is loaded or rendered."""
    polling = bool(request.headers.get("HX-Request"))
    partial = polling or bool(request.GET.get("fragment"))
    version = selectors.worker_offers_version(worker=worker)
    if polling and request.GET.get("v") == version:
        return HttpResponse(status=204)
    if not polling:
        etag = f'"{"list" if partial else "page"}-{version}"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            not_modified["ETag"] = etag
            return not_modified
    offer_list = _offer_list(worker, version)
    token = get_token(request)  # masking one costs as much as a query: one for the page
    html = mark_safe(offer_list.html.replace(CSRF_SLOT, token))  # noqa: S308 - rendered by us
    if partial:
        response = HttpResponse(html)
    else:
        context = {"worker": worker, "offer_list": html, "csrf_token": token}
        response = render(request, "workers/offers.html", context)
    if not polling:
        response["ETag"] = f'"{"list" if partial else "page"}-{offer_list.version}"'
    return response


# The rendered list is kept per worker and list fingerprint (and day: "today" and
# "tomorrow" in it change at midnight). Beyond the fingerprint it shows names that change
# rarely (provider, site, role, skills): at most this stale.
OFFER_LIST_KEEP_SECONDS = 300
# The rendered list holds this where each form's CSRF token goes; each response puts the
# requester's own token there, so a kept list never carries anyone's token.
CSRF_SLOT = "__flexpool_csrf_slot__"


@dataclass(frozen=True)
class OfferList:
    html: str
    version: str


def _offer_list_key(worker: Worker, version: str) -> str:
    return f"offer-list:{worker.pk}:{version}:{timezone.localdate()}:{worker.pool.distance_unit}"


def _offer_list(worker: Worker, version: str) -> OfferList:
    """The worker's rendered offer list as of ``version`` (kept, or rendered now: its
    offers are then marked seen, so coordinators can tell "not seen yet" from "seen, not
    answered"; a kept list's offers were marked when it was rendered)."""
    try:
        kept = cache.get(_offer_list_key(worker, version))
    except Exception:  # noqa: BLE001 - a cache outage costs time, never the page
        kept = None
    if isinstance(kept, OfferList):
        return kept
    rows = selectors.worker_offers_pending(worker=worker)
    version = selectors.offers_version(rows)  # what is rendered, should it have just changed
    offers_service.offers_mark_viewed(
        offer_ids=[row.offer.pk for row in rows if row.offer.viewed_at is None], worker=worker
    )
    context = {
        "worker": worker,
        "cards": [{"row": row, "d": row.display()} for row in rows],
        "version": version,
        "poll_seconds": getattr(settings, "WORKER_OFFERS_POLL_SECONDS", 15),
        "csrf_token": CSRF_SLOT,
    }
    rendered = OfferList(render_to_string("workers/_offer_list.html", context), version)
    with contextlib.suppress(Exception):  # a cache outage: the next request renders it again
        cache.set(_offer_list_key(worker, version), rendered, OFFER_LIST_KEEP_SECONDS)
    return rendered


@never_cache
@worker_required
def offer_detail(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    """Everything about one offer before answering it; still no street address."""
    row = selectors.worker_offer_detail(worker=worker, offer_id=pk)
    if row is None:
        raise Http404
    if row.offer.status == Offer.Status.PENDING and row.offer.viewed_at is None:
        offers_service.offer_mark_viewed(offer=row.offer, worker=worker)
    return render(
        request,
        "workers/offer.html",
        {"worker": worker, "row": row, "d": row.display(), "offer": row.offer},
    )


def _offer_or_404(worker: Worker, pk: int) -> Offer:
    offer = selectors.worker_offer_get(worker=worker, offer_id=pk)
    if offer is None:
        raise Http404
    return offer


@require_POST
@worker_required
def offer_accept(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    offer = _offer_or_404(worker, pk)
    try:
        booking = offers_service.offer_accept(offer=offer, worker=worker)
    except OfferUnavailable as exc:
        messages.error(request, exc.message)
        return redirect("workers:offers")
    messages.success(request, "Shift booked. The address and directions are below.")
    return redirect("workers:shift", pk=booking.pk)


@worker_required
def offer_decline(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    offer = _offer_or_404(worker, pk)
    form = forms.DeclineForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            offers_service.offer_decline(
                offer=offer, worker=worker, reason=form.cleaned_data["reason"]
            )
        except OfferUnavailable as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Offer declined. Thank you for letting us know.")
        return redirect("workers:offers")
    return render(request, "workers/offer_decline.html", {"offer": offer, "form": form})


# --- My shifts ------------------------------------------------------------------------


@worker_required
def shifts(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    now = timezone.now()
    calendar_url = ""
    if worker.calendar_token:
        calendar_url = request.build_absolute_uri(
            reverse("workers:calendar_feed", kwargs={"token": worker.calendar_token})
        )
    return render(
        request,
        "workers/shifts.html",
        {
            "worker": worker,
            "upcoming": selectors.worker_bookings_upcoming(worker=worker, now=now),
            "past": selectors.worker_bookings_past(worker=worker, now=now),
            "earnings": selectors.worker_earnings_summary(worker=worker, now=now),
            "calendar_url": calendar_url,
        },
    )


def _booking_or_404(worker: Worker, pk: int) -> selectors.BookingRow:
    row = selectors.worker_booking_get(worker=worker, booking_id=pk)
    if row is None:
        raise Http404
    return row


@worker_required
def shift(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    row = _booking_or_404(worker, pk)
    now = timezone.now()
    booking = row.booking
    live = booking.status == Booking.Status.BOOKED and booking.end > now
    return render(
        request,
        "workers/shift.html",
        {
            "row": row,
            "booking": booking,
            "live": live,
            "can_clock_in": live
            and row.timesheet is None
            and now >= booking.start - attendance.CLOCK_IN_EARLY,
            "can_clock_out": row.timesheet is not None and row.timesheet.clock_out is None,
            "clock_out_form": forms.ClockOutForm(),
        },
    )


def _booking_action(
    request: HttpRequest, worker: Worker, pk: int, action: Callable[[Booking], str]
) -> HttpResponse:
    row = _booking_or_404(worker, pk)
    try:
        messages.success(request, action(row.booking))
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
    return redirect("workers:shift", pk=pk)


@require_POST
@worker_required
def shift_confirm(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    def act(booking: Booking) -> str:
        attendance.booking_confirm(booking=booking, worker=worker)
        return "Thank you: you have confirmed you are coming."

    return _booking_action(request, worker, pk, act)


@require_POST
@worker_required
def shift_clock_in(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    def act(booking: Booking) -> str:
        timesheet = attendance.booking_clock_in(booking=booking, worker=worker)
        return f"Clocked in at {timezone.localtime(timesheet.clock_in):%H:%M}."

    return _booking_action(request, worker, pk, act)


@require_POST
@worker_required
def shift_clock_out(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    form = forms.ClockOutForm(request.POST)
    break_minutes = form.cleaned_data["break_minutes"] if form.is_valid() else -1

    def act(booking: Booking) -> str:
        timesheet = attendance.booking_clock_out(
            booking=booking, worker=worker, break_minutes=break_minutes
        )
        return (
            f"Clocked out at {timezone.localtime(timesheet.clock_out):%H:%M}: "
            f"{timesheet.hours} hours sent to the provider to approve."
        )

    return _booking_action(request, worker, pk, act)


@worker_required
def shift_cancel(request: HttpRequest, pk: int, *, worker: Worker) -> HttpResponse:
    row = _booking_or_404(worker, pk)
    booking = row.booking
    if booking.status != Booking.Status.BOOKED or booking.end <= timezone.now():
        raise Http404
    form = forms.CancelBookingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        user = request.user
        assert isinstance(user, User)
        try:
            booking = booking_cancel(booking=booking, by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            note = " This was a late cancellation." if booking.late_cancellation else ""
            messages.success(request, f"Shift cancelled.{note}")
            return redirect("workers:shifts")
    late_hours = worker.pool.late_cancellation_hours
    is_late = booking.start - timezone.now() < timedelta(hours=late_hours)
    return render(
        request,
        "workers/shift_cancel.html",
        {
            "row": row,
            "booking": booking,
            "form": form,
            "is_late": is_late,
            "late_hours": late_hours,
        },
    )


# --- Calendar feed --------------------------------------------------------------------


@allow(Who.PUBLIC)
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The worker's bookings as iCalendar, for the phone's own calendar. The secret in
    the URL is the only key: reset or revoked, the old URL answers 404."""
    worker = (
        Worker.objects.filter(calendar_token=token).exclude(status=Worker.Status.LEFT).first()
        if token
        else None
    )
    if worker is None:
        raise Http404
    body = bookings_icalendar(
        bookings=selectors.worker_bookings_for_calendar(worker=worker),
        site_url=settings.SITE_URL,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="flexpool-shifts.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
@worker_required
def calendar_manage(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    if request.POST.get("action") == "revoke":
        services.worker_calendar_revoke(worker=worker)
        messages.success(request, "Your calendar link is switched off.")
    else:
        services.worker_calendar_token_reset(worker=worker)
        messages.success(
            request, "Your new calendar link is ready. Any old link has stopped working."
        )
    return redirect(reverse("workers:shifts") + "#calendar")


# --- Record, notifications, leaving ---------------------------------------------------


@worker_required
def record(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    return render(
        request,
        "workers/record.html",
        {
            "worker": worker,
            "record": selectors.worker_record(worker=worker),
            "missed": worker_shifts_not_offered(worker=worker),
        },
    )


@worker_required
def notification_settings(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    preference = notification_preference_get(user=user)
    form = forms.PreferencesForm(
        _posted(request),
        initial={
            "email": preference.email,
            "sms": preference.sms,
            "quiet_start": preference.quiet_start,
            "quiet_end": preference.quiet_end,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        notification_preference_update(
            user=user,
            email=d["email"],
            sms=d["sms"],
            quiet_start=d["quiet_start"],
            quiet_end=d["quiet_end"],
        )
        messages.success(request, "Your notification settings are saved.")
        return redirect("workers:notifications")
    return render(
        request,
        "workers/notifications.html",
        {
            "form": form,
            "worker": worker,
        },
    )


@never_cache
@worker_required
def messages_list(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    """Every message we sent the worker, newest first; those not seen before are marked
    new on this visit and count as read from then on."""
    user = request.user
    assert isinstance(user, User)
    recent = notifications_recent(user=user, limit=50)
    unseen = [n.pk for n in recent if n.read_at is None]
    response = render(
        request,
        "workers/messages.html",
        {"worker": worker, "recent": recent, "unseen": set(unseen)},
    )
    notifications_mark_read(user=user, ids=unseen)
    return response


@worker_required
def leave(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    form = forms.CloseAccountForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.worker_close_account(worker=worker)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            logout(request)
            return redirect("workers:left")
    return render(request, "workers/leave.html", {"form": form, "worker": worker})


@allow(Who.PUBLIC)
def left(request: HttpRequest) -> HttpResponse:
    return render(request, "workers/left.html")


@worker_required
def account(request: HttpRequest, *, worker: Worker) -> HttpResponse:
    return render(request, "workers/account.html", {"worker": worker})
