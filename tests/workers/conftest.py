"""Helpers for the worker pages' tests: offers and bookings made directly, as matching
and accepting would leave them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shifts.models import Booking, Offer, ShiftRequest
from tests import factories as f
from workers.models import Worker


def make_offer(shift: ShiftRequest, worker: Worker, **extra: object) -> Offer:
    now = timezone.now()
    defaults: dict[str, object] = {
        "wave": 1,
        "rank": 1,
        "distance_km": Decimal("1.1"),
        "reasons": ["Lives 1.1 km away", "Available all day"],
        "sent_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    defaults.update(extra)
    return Offer.objects.create(shift=shift, worker=worker, **defaults)


def make_booking(shift: ShiftRequest, worker: Worker, **extra: object) -> Booking:
    booking = Booking.objects.create(
        shift=shift,
        worker=worker,
        start=shift.start,
        end=shift.end,
        booked_at=timezone.now(),
        **extra,
    )
    ShiftRequest.objects.filter(pk=shift.pk).update(booked_count=shift.booked_count + 1)
    return booking


def shift_at(site, start: datetime, hours: int = 8) -> ShiftRequest:
    return f.ShiftFactory(site=site, start=start, end=start + timedelta(hours=hours))


@pytest.fixture
def shift(site):
    return f.ShiftFactory(site=site)


@pytest.fixture
def worker_client(client, worker):
    client.force_login(worker.user)
    return client


@pytest.fixture
def other_client(client, other_worker):
    client.force_login(other_worker.user)
    return client
