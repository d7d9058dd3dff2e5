from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from shifts.matching import shift_match_wave
from tests import factories as f


def queries_for_a_wave(site) -> tuple[int, int]:
    shift = f.ShiftFactory(site=site, is_critical=True)  # everyone eligible, at once
    with CaptureQueriesContext(connection) as queries:
        run = shift_match_wave(shift_id=shift.pk)
    assert run is not None
    return len(queries), run.offered_count


def test_a_matching_run_costs_the_same_queries_however_many_workers(site, pool):
    f.WorkerFactory(pool=pool)
    few, offered_few = queries_for_a_wave(site)
    for _ in range(12):
        f.WorkerFactory(pool=pool)
    many, offered_many = queries_for_a_wave(site)
    assert (offered_few, offered_many) == (1, 13)
    assert few == many
