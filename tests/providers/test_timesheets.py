from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications.models import Notification
from shifts.models import Booking, Timesheet
from shifts.services.timesheets import (
    booking_confirm_attended,
    rating_create,
    timesheet_approve,
    timesheet_correct,
    timesheets_auto_approve,
)
from tests.providers.conftest import book, submit_timesheet

pytestmark = pytest.mark.django_db


def test_confirming_attendance_opens_a_timesheet_from_the_booked_hours(worked, manager):
    booking_confirm_attended(booking=worked, by=manager)

    worked.refresh_from_db()
    assert worked.status == Booking.Status.ATTENDED
    assert worked.timesheet.status == Timesheet.Status.SUBMITTED
    assert worked.timesheet.hours == Decimal("8.00")


def test_it_refuses_to_confirm_attendance_before_the_shift_starts(upcoming, worker, manager):
    booking = book(upcoming, worker)
    with pytest.raises(ValidationError):
        booking_confirm_attended(booking=booking, by=manager)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_another_provider_cannot_confirm_attendance(worked, outsider):
    with pytest.raises(PermissionDenied):
        booking_confirm_attended(booking=worked, by=outsider)


def test_approving_a_timesheet_marks_the_booking_attended(worked, manager):
    timesheet = submit_timesheet(worked)

    timesheet_approve(timesheet=timesheet, by=manager)

    timesheet.refresh_from_db()
    worked.refresh_from_db()
    assert timesheet.status == Timesheet.Status.APPROVED
    assert timesheet.reviewed_by == manager
    assert worked.status == Booking.Status.ATTENDED


def test_a_timesheet_is_approved_only_once(worked, manager):
    timesheet = submit_timesheet(worked)
    timesheet_approve(timesheet=timesheet, by=manager)
    with pytest.raises(ValidationError):
        timesheet_approve(timesheet=timesheet, by=manager)


def test_a_correction_needs_a_note(worked, manager):
    timesheet = submit_timesheet(worked)
    with pytest.raises(ValidationError) as caught:
        timesheet_correct(
            timesheet=timesheet,
            by=manager,
            clock_in=worked.start,
            clock_out=worked.end - timedelta(hours=1),
            break_minutes=0,
            note="  ",
        )
    assert "note" in caught.value.error_dict
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.SUBMITTED


def test_a_correction_approves_the_new_hours_and_tells_the_worker(worked, manager, worker):
    timesheet = submit_timesheet(worked)

    timesheet_correct(
        timesheet=timesheet,
        by=manager,
        clock_in=worked.start,
        clock_out=worked.end - timedelta(hours=1),
        break_minutes=30,
        note="Left at three, agreed with the nurse in charge.",
    )

    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.CORRECTED
    assert timesheet.hours == Decimal("6.50")
    note = Notification.objects.get(user=worker.user, kind="timesheet_corrected")
    assert "Left at three" in note.body


def test_unreviewed_timesheets_are_reminded_at_five_days_and_approved_at_seven(
    worked, manager, django_capture_on_commit_callbacks
):
    timesheet = submit_timesheet(worked)
    finished = worked.end

    with time_machine.travel(finished + timedelta(days=4, hours=23), tick=False):
        assert timesheets_auto_approve().reminded == 0

    with time_machine.travel(finished + timedelta(days=5, hours=1), tick=False):
        with django_capture_on_commit_callbacks() as queued:
            result = timesheets_auto_approve()
        assert (result.reminded, result.approved) == (1, 0)
        assert len(queued) == 1  # the reminder's delivery
        assert timesheets_auto_approve().reminded == 0  # once only
    assert Notification.objects.filter(user=manager, kind="timesheet_reminder").count() == 1

    with time_machine.travel(finished + timedelta(days=7, hours=1), tick=False):
        assert timesheets_auto_approve().approved == 1

    timesheet.refresh_from_db()
    worked.refresh_from_db()
    assert timesheet.status == Timesheet.Status.AUTO_APPROVED
    assert worked.status == Booking.Status.ATTENDED


def test_a_timesheet_is_never_auto_approved_without_a_reminder_first(worked):
    timesheet = submit_timesheet(worked)
    with time_machine.travel(worked.end + timedelta(days=9), tick=False):
        result = timesheets_auto_approve()
    assert (result.reminded, result.approved) == (1, 0)
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.SUBMITTED


def test_reviewed_timesheets_are_left_alone(worked, manager):
    timesheet = submit_timesheet(worked)
    timesheet_approve(timesheet=timesheet, by=manager)
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert timesheets_auto_approve() == type(timesheets_auto_approve())(0, 0)


def test_a_worker_who_attended_is_rated_once(worked, manager):
    booking_confirm_attended(booking=worked, by=manager)

    rating = rating_create(booking=worked, by=manager, punctuality=5, care=4, skills_as_listed=5)
    assert rating.created_by == manager
    with pytest.raises(ValidationError):
        rating_create(booking=worked, by=manager, punctuality=1, care=1, skills_as_listed=1)


def test_it_refuses_a_rating_out_of_range_or_before_attendance(worked, manager):
    with pytest.raises(ValidationError) as caught:
        rating_create(booking=worked, by=manager, punctuality=6, care=0, skills_as_listed=3)
    assert {"punctuality", "care", "booking"} <= set(caught.value.error_dict)


def test_beat_runs_the_auto_approval_task_hourly(settings, worked):
    from providers.tasks import timesheets_auto_approve as task

    entry = settings.CELERY_BEAT_SCHEDULE["timesheets-auto-approve"]
    assert entry["task"] == task.name
    submit_timesheet(worked)
    with time_machine.travel(worked.end + timedelta(days=6), tick=False):
        assert task() == {"reminded": 1, "approved": 0}
