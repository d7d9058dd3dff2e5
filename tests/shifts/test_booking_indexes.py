"""The bookings near a shift, which a wave reads for every worker it examines, are found by
time alone in the index of live bookings' times (shifts migration 0008), not through the
exclusion constraint's index, which leads with the worker. Asked with table and bitmap
scans off, so the tiny test tables do not hide a query that no longer matches its index."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from shifts.matching.rules import _context, _ids_literal, facts_sql
from tests import factories as f

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes"),
]


def plan(name: str, shift, worker_ids: list[int]) -> str:  # type: ignore[no-untyped-def]
    query = facts_sql(_context(shift, timezone.now()), _ids_literal(worker_ids))[name]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + query.sql, query.params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_bookings_near_a_shift_are_found_by_time_in_the_index_of_live_bookings(
    site, worker, other_worker
):
    shift = f.ShiftFactory(site=site)
    assert "booking_live_when" in plan("bookings", shift, [worker.pk, other_worker.pk])
