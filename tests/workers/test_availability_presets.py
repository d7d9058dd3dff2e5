"""Availability in one step: a preset replaces the weekly pattern, and matching reads it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shifts.matching import shift_eligible_workers
from tests import factories as f
from workers.models import AvailabilityRule

pytestmark = pytest.mark.django_db


def _pattern(worker):
    return sorted(
        AvailabilityRule.objects.filter(worker=worker).values_list(
            "weekday", "start_minute", "end_minute"
        )
    )


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("every_day", [(d, 0, 1440) for d in range(7)]),
        ("weekdays", [(d, 0, 1440) for d in range(5)]),
        ("weekends", [(5, 0, 1440), (6, 0, 1440)]),
        ("nights", sorted(s for d in range(7) for s in ((d, 0, 480), (d, 1200, 1440)))),
    ],
)
def test_a_preset_replaces_the_weekly_pattern_in_one_step(worker_client, worker, preset, expected):
    response = worker_client.post(
        reverse("workers:availability"), {"action": "preset", "preset-preset": preset}
    )
    assert response.status_code == 302
    assert _pattern(worker) == expected


def test_no_preset_chosen_is_a_field_error_and_changes_nothing(worker_client, worker):
    before = _pattern(worker)
    response = worker_client.post(reverse("workers:availability"), {"action": "preset"})
    assert response.status_code == 200
    assert "Choose a pattern." in response.content.decode()
    assert _pattern(worker) == before


def test_a_worker_on_nights_is_offered_a_night_shift_but_not_a_day_shift(
    worker_client, worker, site
):
    worker_client.post(
        reverse("workers:availability"), {"action": "preset", "preset-preset": "nights"}
    )
    day = timezone.localdate() + timedelta(days=2)
    tz = timezone.get_current_timezone()
    night_start = datetime.combine(day, time(20, 0), tzinfo=tz)
    night = f.ShiftFactory(site=site, start=night_start, end=night_start + timedelta(hours=12))
    day_start = datetime.combine(day, time(9, 0), tzinfo=tz)
    daytime = f.ShiftFactory(site=site, start=day_start, end=day_start + timedelta(hours=8))
    assert worker.pk in {c.worker_id for c in shift_eligible_workers(shift=night)}
    assert worker.pk not in {c.worker_id for c in shift_eligible_workers(shift=daytime)}


def test_the_page_offers_the_four_patterns(worker_client):
    page = worker_client.get(reverse("workers:availability")).content.decode()
    for label in ("Every day", "Weekdays", "Nights", "Weekends"):
        assert label in page
