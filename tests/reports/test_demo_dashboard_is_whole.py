"""On the demo borough, the dashboard for any range equals the live definitions: seed_demo
leaves complete rollups, and nothing is counted on the fly for a range inside its history."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from pools.demo import COORDINATOR_EMAIL
from pools.models import Pool
from reports import metrics
from reports.metrics import Scope
from reports.models import RollupState
from reports.tasks import rollups_refresh_recent

pytestmark = pytest.mark.django_db

DAYS = 120


@pytest.fixture
def demo():
    call_command(
        "seed_demo",
        providers=8,
        workers=40,
        days=DAYS,
        history_shifts=900,
        future_days=3,
        verbosity=0,
    )
    return Pool.objects.get(slug="bury")


def test_seed_demo_leaves_rollups_covering_its_whole_history(demo):
    state = RollupState.objects.get(pool=demo)
    today = timezone.localdate()
    assert state.covers_from is not None and state.covers_from <= today - timedelta(days=DAYS)
    assert state.covers_to is not None and state.covers_to >= today + timedelta(days=3)


def test_the_dashboard_matches_the_live_definitions_for_random_ranges(client, demo):
    rollups_refresh_recent()  # beat runs after the seed, as in a fresh installation
    client.force_login(User.objects.get(email=COORDINATOR_EMAIL))
    today = timezone.localdate()
    rng = random.Random(14)
    ranges = [(today - timedelta(weeks=12, days=today.weekday()), today)]  # the default
    for _ in range(12):
        start = today - timedelta(days=rng.randint(0, DAYS))
        ranges.append(
            (start, min(today + timedelta(days=3), start + timedelta(rng.randint(0, 100))))
        )
    for start, end in ranges:
        page = client.get(reverse("reports:dashboard"), {"start": start, "end": end})
        assert page.status_code == 200
        assert page.context["counted_now"] == [], (start, end)
        live = metrics.figures_summary(Scope(pool_ids=(demo.pk,), start=start, end=end))
        assert page.context["fig"] == live, (start, end)
        weekly = metrics.figures_grouped(Scope(pool_ids=(demo.pk,), start=start, end=end), "week")
        rows = {row[0]: row for row in page.context["tables"][1].rows}
        for monday, fig in weekly.items():
            assert rows[monday.strftime("%d %b %Y")][1:3] == [
                fig.shifts_requested,
                fig.shifts_filled,
            ]
