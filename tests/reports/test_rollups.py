from __future__ import annotations

import pytest
import time_machine

from reports import rollups
from reports.metrics import Scope
from reports.models import ShiftRollup
from reports.tasks import rollups_refresh_recent
from tests.reports.history import FROM, TO, at, build_history

ORDER = ("period", "day", "provider_id", "role_id", "site_type")


def test_refreshing_twice_gives_the_same_rows(site, pool):
    build_history(site, pool)
    rollups.rollups_refresh()
    first = list(ShiftRollup.objects.order_by(*ORDER).values())
    rollups.rollups_refresh()
    second = list(ShiftRollup.objects.order_by(*ORDER).values())
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    assert strip(first) == strip(second)


def test_the_beat_task_picks_up_a_change_to_a_recent_shift(site, pool):
    history = build_history(site, pool)
    scope = Scope(pool_ids=(pool.pk,), start=FROM, end=TO)
    with time_machine.travel(at(9, 12), tick=False):
        rollups_refresh_recent()
        assert rollups.figures_summary(scope).shifts_filled == 3
        shift = history.shifts["A"]
        shift.booked_count = 3
        shift.filled_at = at(2, 10)
        shift.save()
        rollups_refresh_recent()
    assert rollups.figures_summary(scope).shifts_filled == 4


@pytest.mark.postgres
def test_percentiles_picked_in_postgres_match_the_python_merge(pool, reference):
    import random
    from collections import defaultdict
    from datetime import date, timedelta

    from pools.models import Role
    from reports.models import ShiftRollup

    rng = random.Random(7)
    role = Role.objects.get(slug="care-worker")
    rows, merged = [], defaultdict(lambda: defaultdict(int))
    for i in range(40):
        day = date(2026, 1, 5) + timedelta(days=i)
        hist = {str(rng.choice([5, 5, 12, 30, 31, 90, 600])): rng.randint(1, 4) for _ in range(6)}
        rows.append(
            ShiftRollup(pool=pool, day=day, role=role, site_type="residential", ttf_histogram=hist)
        )
        monday = day - timedelta(days=day.weekday())
        for m, n in hist.items():
            merged[monday][int(m)] += n
            merged["all"][int(m)] += n
    ShiftRollup.objects.bulk_create(rows)
    rollups.rollups_coarsen(pool_ids=[pool.pk], start=date(2026, 1, 5), end=date(2026, 2, 13))
    scope = Scope(
        pool_ids=(pool.pk,), start=date(2026, 1, 5), end=date(2026, 2, 13), role_id=role.pk
    )
    weeks = rollups.figures_grouped(scope, "week", with_total=True)
    for monday, fig in weeks.items():
        hist = merged["all" if monday == rollups.TOTAL else monday]
        assert fig.median_ttf_minutes == pytest.approx(rollups.histogram_percentile(hist, 0.5))
        assert fig.p90_ttf_minutes == pytest.approx(rollups.histogram_percentile(hist, 0.9))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-03-01", "2026-03-31"),  # one whole month
        ("2026-02-14", "2026-04-10"),  # a whole month with ragged edges
        ("2026-03-03", "2026-03-31"),  # a whole week inside, no whole month
        ("2026-01-01", "2026-12-31"),  # a year of whole months
        ("2026-04-01", "2026-05-31"),  # whole months after the last shift: totals cancel out
    ],
)
def test_ranges_read_from_week_and_month_rows_give_the_live_figures(site, pool, start, end):
    from datetime import date

    from reports import metrics

    build_history(site, pool)
    rollups.rollups_refresh()
    scope = Scope(pool_ids=(pool.pk,), start=date.fromisoformat(start), end=date.fromisoformat(end))
    assert rollups.figures_summary(scope) == metrics.figures_summary(scope)
    for key in ("week", "role_id", "provider_id", "site__site_type", "pool_id"):
        assert rollups.figures_grouped(scope, key) == metrics.figures_grouped(scope, key)
    for key, groups in rollups.figures_by(scope, ["role_id", "site__site_type", "pool_id"]).items():
        assert groups == metrics.figures_grouped(scope, key)
    assert rollups.conduct_grouped(scope, None) == metrics.conduct_grouped(scope, None)
    assert rollups.hours_spread(scope) == metrics.hours_spread(scope)
    for dimension in ("weekday", "time_of_day", "skill", "district"):
        assert rollups.unfilled_by(scope, dimension) == metrics.unfilled_by(scope, dimension)
