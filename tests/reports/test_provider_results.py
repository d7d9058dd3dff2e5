"""The provider's results: fill rate, time to fill, agency spend avoided, by month — by
the same definitions as the council's dashboards (reports.metrics), not a second copy."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from reports.selectors import provider_results
from shifts.models import Booking, ShiftRequest
from tests import factories as f
from tests.providers.conftest import book

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def shift_on(site, start, *, hours=8, headcount=1, rate="30.00", filled_after=None, **kw):
    shift = f.ShiftFactory(
        site=site,
        start=start,
        end=start + timedelta(hours=hours),
        headcount=headcount,
        agency_hourly_rate=Decimal(rate),
        posted_at=start - timedelta(hours=10),
        **kw,
    )
    if filled_after is not None:
        shift.filled_at = shift.posted_at + filled_after
        shift.save()
    return shift


@time_machine.travel(datetime(2026, 3, 20, 12, tzinfo=LONDON), tick=False)
def test_results_by_month_count_fill_rate_time_to_fill_and_spend_avoided(
    site, provider, worker, other_worker, outsider
):
    march = datetime(2026, 3, 2, 8, tzinfo=LONDON)
    a = shift_on(site, march, headcount=2, filled_after=timedelta(minutes=10))
    book(a, worker, status=Booking.Status.ATTENDED)
    book(a, other_worker, status=Booking.Status.ATTENDED)
    b = shift_on(site, march + timedelta(days=1), rate="20.00", filled_after=timedelta(minutes=30))
    book(b, worker)
    shift_on(site, march + timedelta(days=2))  # not filled
    shift_on(site, march + timedelta(days=3), status=ShiftRequest.Status.CANCELLED)
    feb = shift_on(site, datetime(2026, 2, 10, 20, tzinfo=LONDON), hours=12)
    book(feb, worker, status=Booking.Status.NO_SHOW)
    ShiftRequest.objects.filter(pk=feb.pk).update(booked_count=0)  # a no-show frees the place
    elsewhere = f.SiteFactory(provider=outsider.provider_membership.provider)
    book(shift_on(elsewhere, march + timedelta(days=5)), worker)

    rows = provider_results(provider=provider)

    assert [r.month.month for r in rows] == [3, 2]
    m = rows[0].figures
    assert (m.shifts_requested, m.places_requested, m.places_filled) == (3, 4, 3)
    assert m.fill_rate == Decimal("0.6667")  # two of three requests filled in full
    assert m.hours_fill_rate == Decimal("0.7500")  # 24 of 32 hours
    assert m.hours_filled == Decimal("24.00")
    assert m.spend_avoided == Decimal("640.00")  # 16 h × £30 + 8 h × £20
    assert m.pool_cost == Decimal("340.80")  # 24 h × £14.20 (care worker)
    assert m.median_ttf_minutes == 20
    feb_figures = rows[1].figures
    assert (feb_figures.places_filled, feb_figures.fill_rate) == (0, Decimal("0"))


def test_the_results_page_has_a_chart_and_a_table(client, manager, site, worker):
    shift = shift_on(site, datetime.now(LONDON) - timedelta(days=2), filled_after=timedelta(0))
    book(shift, worker, status=Booking.Status.ATTENDED)
    client.force_login(manager)
    response = client.get(reverse("provider_reports:results"))
    assert b'role="img"' in response.content
    assert b"Your requests by month" in response.content
    assert "£240.00" in response.content.decode()  # 8 h × £30 avoided


def test_results_show_only_her_own_requests(client, outsider, site, worker):
    book(shift_on(site, datetime.now(LONDON) - timedelta(days=2)), worker)
    client.force_login(outsider)
    response = client.get(reverse("provider_reports:results"))
    assert response.context["rows"] == []
