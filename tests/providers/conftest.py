"""Shifts and bookings at Mary's site (Oak House) for the provider tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from shifts.models import Booking, ShiftRequest, Timesheet
from tests import factories as f
from workers.models import Worker


def book(shift: ShiftRequest, worker: Worker, status: str = Booking.Status.BOOKED) -> Booking:
    booking = Booking.objects.create(
        shift=shift,
        worker=worker,
        start=shift.start,
        end=shift.end,
        status=status,
        booked_at=shift.posted_at + timedelta(minutes=7),
    )
    ShiftRequest.objects.filter(pk=shift.pk).update(booked_count=shift.booked_count + 1)
    shift.refresh_from_db()
    return booking


def past_shift(site, *, days_ago: int = 1, hours: int = 8, **kwargs) -> ShiftRequest:
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(
        days=days_ago
    )
    return f.ShiftFactory(
        site=site,
        start=start,
        end=start + timedelta(hours=hours),
        posted_at=start - timedelta(days=1),
        **kwargs,
    )


def submit_timesheet(booking: Booking, *, clock_out: datetime | None = None) -> Timesheet:
    return Timesheet.objects.create(
        booking=booking,
        clock_in=booking.start,
        clock_out=clock_out or booking.end,
        status=Timesheet.Status.SUBMITTED,
    )


@pytest.fixture
def worked(site, worker) -> Booking:
    """Wendy was booked on yesterday's 08:00–16:00 shift at Oak House."""
    return book(past_shift(site), worker)


@pytest.fixture
def upcoming(site) -> ShiftRequest:
    return f.ShiftFactory(site=site)
