from __future__ import annotations

import time_machine

from pools import rollups
from pools.metrics import Scope
from pools.models import ShiftRollup
from pools.tasks import rollups_refresh_recent
from tests.pools.history import FROM, TO, at, build_history


def test_refreshing_twice_gives_the_same_rows(site, pool):
    build_history(site, pool)
    rollups.rollups_refresh()
    first = list(ShiftRollup.objects.order_by("day", "provider_id").values())
    rollups.rollups_refresh()
    second = list(ShiftRollup.objects.order_by("day", "provider_id").values())
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
