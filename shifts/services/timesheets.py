"""The provider's side of a shift after it happens: attendance, timesheets and ratings.

A booking becomes *attended* when the provider confirms it (or approves its timesheet).
A timesheet the worker submitted is approved as it stands or corrected with a note; one
nobody reviews is chased with a reminder after ``REMINDER_AFTER`` and approved
automatically after ``AUTO_APPROVE_AFTER`` (``timesheets_auto_approve``, run by beat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.services import notification_send
from providers.models import ProviderMember
from shifts.models import Booking, Rating, ShiftRequest, Timesheet

REMINDER_AFTER = timedelta(days=5)
AUTO_APPROVE_AFTER = timedelta(days=7)
# However late the reminder went, the provider gets at least this long to act on it.
REMINDER_GRACE = timedelta(days=1)

REVIEWABLE = (Timesheet.Status.SUBMITTED,)


def _require_member(*, user: User, shift: ShiftRequest) -> None:
    if not ProviderMember.objects.filter(user=user, provider_id=shift.provider_id).exists():
        raise PermissionDenied("Only the provider's own members may do this.")


def _shift_url(shift: ShiftRequest) -> str:
    return reverse("providers:shift_detail", kwargs={"pk": shift.pk})


@transaction.atomic
def booking_confirm_attended(*, booking: Booking, by: User) -> Booking:
    """The provider confirms the worker came. Without a timesheet from the worker's own
    clock-in, one is opened from the booked times, awaiting the provider's approval."""
    _require_member(user=by, shift=booking.shift)
    now = timezone.now()
    if booking.start > now:
        raise ValidationError(
            {"booking": ["You can confirm attendance once the shift has started."]}
        )
    updated = Booking.objects.filter(pk=booking.pk, status=Booking.Status.BOOKED).update(
        status=Booking.Status.ATTENDED
    )
    if not updated:
        booking.refresh_from_db()
        if booking.status == Booking.Status.ATTENDED:
            return booking
        raise ValidationError(
            {"booking": [f"This booking is {booking.get_status_display().lower()}."]}
        )
    booking.refresh_from_db()
    Timesheet.objects.get_or_create(
        booking=booking,
        defaults={
            "clock_in": booking.start,
            "clock_out": booking.end,
            "status": Timesheet.Status.SUBMITTED,
        },
    )
    return booking


def _mark_attended(booking_id: int) -> None:
    Booking.objects.filter(pk=booking_id, status=Booking.Status.BOOKED).update(
        status=Booking.Status.ATTENDED
    )


@transaction.atomic
def timesheet_approve(*, timesheet: Timesheet, by: User) -> Timesheet:
    """Approve the hours as the worker recorded them."""
    _require_member(user=by, shift=timesheet.booking.shift)
    if timesheet.clock_out is None:
        raise ValidationError({"timesheet": ["The worker has not clocked out yet."]})
    now = timezone.now()
    updated = Timesheet.objects.filter(pk=timesheet.pk, status__in=REVIEWABLE).update(
        status=Timesheet.Status.APPROVED, reviewed_by=by, reviewed_at=now
    )
    timesheet.refresh_from_db()
    if not updated:
        raise ValidationError(
            {"timesheet": [f"This timesheet is already {timesheet.get_status_display().lower()}."]}
        )
    _mark_attended(timesheet.booking_id)
    return timesheet


@transaction.atomic
def timesheet_correct(
    *,
    timesheet: Timesheet,
    by: User,
    clock_in: datetime,
    clock_out: datetime,
    break_minutes: int,
    note: str,
) -> Timesheet:
    """Approve different hours from those recorded. The note says why; the worker is told."""
    _require_member(user=by, shift=timesheet.booking.shift)
    errors: dict[str, list[str]] = {}
    note = note.strip()
    if not note:
        errors["note"] = ["Say why you are changing the hours."]
    if clock_out <= clock_in:
        errors["clock_out"] = ["The finish must be after the start."]
    elif clock_out - clock_in > timedelta(hours=24):
        errors["clock_out"] = ["A timesheet cannot cover more than 24 hours."]
    if break_minutes < 0 or break_minutes > 240:
        errors["break_minutes"] = ["Enter a break between 0 and 240 minutes."]
    elif not errors and timedelta(minutes=break_minutes) >= clock_out - clock_in:
        errors["break_minutes"] = ["The break must be shorter than the time worked."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    updated = Timesheet.objects.filter(
        pk=timesheet.pk, status__in=(*REVIEWABLE, Timesheet.Status.OPEN)
    ).update(
        status=Timesheet.Status.CORRECTED,
        clock_in=clock_in,
        clock_out=clock_out,
        break_minutes=break_minutes,
        correction_note=note,
        reviewed_by=by,
        reviewed_at=now,
    )
    timesheet.refresh_from_db()
    if not updated:
        raise ValidationError(
            {"timesheet": [f"This timesheet is already {timesheet.get_status_display().lower()}."]}
        )
    _mark_attended(timesheet.booking_id)
    worker_user = timesheet.booking.worker.user
    if worker_user is not None:
        local_in = timezone.localtime(clock_in)
        notification_send(
            user=worker_user,
            kind="timesheet_corrected",
            subject=f"Your hours for {local_in:%a %d %b} were corrected",
            body=(
                f"{timesheet.booking.shift.provider.name} approved {timesheet.hours} hours "
                f"instead of the hours you recorded. Their note: {note}"
            ),
        )
    return timesheet


@dataclass(frozen=True)
class AutoApproveResult:
    reminded: int
    approved: int


def timesheets_auto_approve(*, now: datetime | None = None) -> AutoApproveResult:
    """Chase and then approve timesheets nobody reviewed (idempotent; beat runs it hourly).

    1. A submitted timesheet whose clock-out is ``REMINDER_AFTER`` old and that has had no
       reminder: remind every member of the provider, and stamp ``reminder_sent_at``.
    2. A submitted timesheet whose clock-out is ``AUTO_APPROVE_AFTER`` old, reminded at least
       ``REMINDER_GRACE`` ago: approve it as recorded (status "approved automatically").
    """
    now = now or timezone.now()
    reminded = 0
    due_reminder = Timesheet.objects.filter(
        status=Timesheet.Status.SUBMITTED,
        clock_out__lte=now - REMINDER_AFTER,
        reminder_sent_at__isnull=True,
    ).select_related("booking__shift__provider", "booking__worker")
    for timesheet in due_reminder:
        with transaction.atomic():
            claimed = Timesheet.objects.filter(
                pk=timesheet.pk, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            reminded += 1
            shift = timesheet.booking.shift
            members = ProviderMember.objects.filter(provider_id=shift.provider_id).select_related(
                "user"
            )
            for member in members:
                notification_send(
                    user=member.user,
                    kind="timesheet_reminder",
                    subject="A timesheet is waiting for you",
                    body=(
                        f"{timesheet.booking.worker.display_name}'s hours for {shift} will be "
                        "approved automatically in two days unless you approve or correct them."
                    ),
                    url=_shift_url(shift),
                )
    approved = Timesheet.objects.filter(
        status=Timesheet.Status.SUBMITTED,
        clock_out__lte=now - AUTO_APPROVE_AFTER,
        reminder_sent_at__lte=now - REMINDER_GRACE,
    )
    booking_ids = list(approved.values_list("booking_id", flat=True))
    with transaction.atomic():
        count = approved.update(status=Timesheet.Status.AUTO_APPROVED, reviewed_at=now)
        Booking.objects.filter(pk__in=booking_ids, status=Booking.Status.BOOKED).update(
            status=Booking.Status.ATTENDED
        )
    return AutoApproveResult(reminded=reminded, approved=count)


def rating_create(
    *,
    booking: Booking,
    by: User,
    punctuality: int,
    care: int,
    skills_as_listed: int,
    comment: str = "",
) -> Rating:
    """Rate a worker who attended, once per booking, 1 to 5 on each plain criterion."""
    _require_member(user=by, shift=booking.shift)
    errors: dict[str, list[str]] = {}
    for field, value in (
        ("punctuality", punctuality),
        ("care", care),
        ("skills_as_listed", skills_as_listed),
    ):
        if not 1 <= value <= 5:
            errors[field] = ["Choose a score from 1 to 5."]
    if booking.status != Booking.Status.ATTENDED:
        errors.setdefault("booking", []).append("You can rate a worker once they have attended.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Rating.objects.create(
                booking=booking,
                punctuality=punctuality,
                care=care,
                skills_as_listed=skills_as_listed,
                comment=comment.strip(),
                created_by=by,
            )
    except IntegrityError as exc:
        raise ValidationError({"booking": ["You have already rated this shift."]}) from exc
