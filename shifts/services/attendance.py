"""The worker's side of a booked shift: confirming they are still coming, clocking in and
clocking out. Clocking out submits the timesheet for the provider to approve
(``shifts.services.timesheets``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shifts.models import Booking, Timesheet
from workers.models import Worker

# A worker may clock in from a little before the start (handover) until the shift ends.
CLOCK_IN_EARLY = timedelta(minutes=60)


def _own_booking(*, booking: Booking, worker: Worker) -> Booking:
    """Lock and return the worker's own booking; another worker's is refused."""
    locked = Booking.objects.select_for_update().filter(pk=booking.pk, worker=worker).first()
    if locked is None:
        raise ValidationError({"booking": ["This is not your booking."]})
    return locked


@transaction.atomic
def booking_confirm(*, booking: Booking, worker: Worker, now: datetime | None = None) -> Booking:
    """The worker says they are still coming. Confirming twice keeps the first time."""
    now = now or timezone.now()
    locked = _own_booking(booking=booking, worker=worker)
    if locked.status != Booking.Status.BOOKED:
        raise ValidationError(
            {"booking": [f"This booking is {locked.get_status_display().lower()}."]}
        )
    if locked.end <= now:
        raise ValidationError({"booking": ["This shift has already ended."]})
    if locked.confirmed_at is None:
        locked.confirmed_at = now
        locked.save(update_fields=["confirmed_at"])
    return locked


@transaction.atomic
def booking_clock_in(*, booking: Booking, worker: Worker, now: datetime | None = None) -> Timesheet:
    """Open the timesheet at the worker's arrival, from an hour before the start until
    the end of the shift."""
    now = now or timezone.now()
    locked = _own_booking(booking=booking, worker=worker)
    if locked.status != Booking.Status.BOOKED:
        raise ValidationError(
            {"booking": [f"This booking is {locked.get_status_display().lower()}."]}
        )
    if now < locked.start - CLOCK_IN_EARLY:
        raise ValidationError(
            {"booking": ["You can clock in from an hour before the shift starts."]}
        )
    if now >= locked.end:
        raise ValidationError({"booking": ["This shift has ended; you can no longer clock in."]})
    if Timesheet.objects.filter(booking=locked).exists():
        raise ValidationError({"booking": ["You have already clocked in for this shift."]})
    return Timesheet.objects.create(booking=locked, clock_in=now, status=Timesheet.Status.OPEN)


@transaction.atomic
def booking_clock_out(
    *, booking: Booking, worker: Worker, break_minutes: int = 0, now: datetime | None = None
) -> Timesheet:
    """Close the open timesheet and submit it to the provider for approval."""
    now = now or timezone.now()
    locked = _own_booking(booking=booking, worker=worker)
    timesheet = Timesheet.objects.select_for_update().filter(booking=locked).first()
    if timesheet is None:
        raise ValidationError({"booking": ["Clock in first."]})
    if timesheet.status != Timesheet.Status.OPEN:
        raise ValidationError({"booking": ["You have already clocked out for this shift."]})
    if now <= timesheet.clock_in:
        raise ValidationError({"booking": ["Clock-out must be after clock-in."]})
    worked_minutes = (now - timesheet.clock_in).total_seconds() / 60
    if break_minutes < 0 or break_minutes >= worked_minutes:
        raise ValidationError({"break_minutes": ["Enter a break shorter than the time worked."]})
    timesheet.clock_out = now
    timesheet.break_minutes = break_minutes
    timesheet.status = Timesheet.Status.SUBMITTED
    timesheet.save(update_fields=["clock_out", "break_minutes", "status"])
    return timesheet
