"""Tiny hand-built boroughs whose best possible answer is known by hand.

Every shift is in the past (the lab replays history) and stored as the pool saw it: expired,
with no bookings, so only the simulation books anyone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from shifts.models import ShiftRequest
from tests import factories as f

LONDON = ZoneInfo("Europe/London")


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def day():
    """A Monday two to three weeks ago (documents in the factories are valid then)."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=14)


def past_shift(site, start, hours, posted_before=timedelta(days=2), **kwargs):
    return f.ShiftFactory(
        site=site,
        start=start,
        end=start + timedelta(hours=hours),
        posted_at=start - posted_before,
        status=ShiftRequest.Status.EXPIRED,
        **kwargs,
    )


@pytest.fixture
def coordinator(coordinator):
    """Coordinators need a second factor before pool pages answer them: Colin has one."""
    from tests.pools.conftest import give_totp

    give_totp(coordinator)
    return coordinator


@pytest.fixture
def other_coordinator(reference):
    """Rita coordinates Rochdale: Bury's runs are 404 to her."""
    from pools.reference import pool_rates_ensure
    from tests.pools.conftest import give_totp

    other = f.PoolFactory(name="Rochdale", slug="rochdale")
    pool_rates_ensure(other)
    user = f.UserFactory(email="rita@rochdale.test")
    f.CoordinatorFactory(user=user, pool=other)
    give_totp(user)
    return user
