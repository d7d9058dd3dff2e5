from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from shifts.models import Booking, Timesheet
from shifts.services.attendance import booking_clock_in, booking_clock_out, booking_confirm
from tests.workers.conftest import make_booking, shift_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def starting_booking(worker, site):
    return make_booking(shift_at(site, timezone.now() + timedelta(minutes=10), hours=6), worker)


def test_a_worker_cannot_act_on_another_workers_booking(starting_booking, other_worker):
    for action in (booking_confirm, booking_clock_in, booking_clock_out):
        with pytest.raises(ValidationError, match="not your booking"):
            action(booking=starting_booking, worker=other_worker)
    assert not Timesheet.objects.exists()


def test_clocking_in_twice_or_out_before_in_is_refused(starting_booking, worker):
    with pytest.raises(ValidationError, match="Clock in first"):
        booking_clock_out(booking=starting_booking, worker=worker)
    booking_clock_in(booking=starting_booking, worker=worker)
    with pytest.raises(ValidationError, match="already clocked in"):
        booking_clock_in(booking=starting_booking, worker=worker)


def test_clocking_out_twice_is_refused_and_a_break_cannot_exceed_the_time_worked(
    starting_booking, worker
):
    now = timezone.now()
    booking_clock_in(booking=starting_booking, worker=worker, now=now)
    with pytest.raises(ValidationError, match="shorter than the time worked"):
        booking_clock_out(
            booking=starting_booking, worker=worker, break_minutes=90, now=now + timedelta(hours=1)
        )
    sheet = booking_clock_out(booking=starting_booking, worker=worker, now=now + timedelta(hours=6))
    assert sheet.status == Timesheet.Status.SUBMITTED
    with pytest.raises(ValidationError, match="already clocked out"):
        booking_clock_out(booking=starting_booking, worker=worker, now=now + timedelta(hours=7))


def test_a_cancelled_booking_cannot_be_confirmed_or_clocked_into(starting_booking, worker):
    Booking.objects.filter(pk=starting_booking.pk).update(status=Booking.Status.CANCELLED)
    with pytest.raises(ValidationError, match="cancelled"):
        booking_confirm(booking=starting_booking, worker=worker)
    with pytest.raises(ValidationError, match="cancelled"):
        booking_clock_in(booking=starting_booking, worker=worker)
