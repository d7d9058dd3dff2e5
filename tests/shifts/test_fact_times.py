"""The facts' round trip (``fetch_many``) reads times with psycopg's own loader rather than
Django's (ten times cheaper for an urgent evaluation's thousands of bookings): a booking's
start and end come back as the ORM gives them, instant and zone alike, and each worker gets
their own bookings, not another worker's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shifts.matching.rules import _context, _ids_literal, facts_sql, fetch_many
from shifts.models import Booking
from tests import factories as f

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the facts as written SQL"),
]


def book(worker, start, end, site) -> Booking:  # type: ignore[no-untyped-def]
    shift = f.ShiftFactory(site=site, start=start, end=end)
    return Booking.objects.create(
        shift=shift, worker=worker, start=start, end=end, booked_at=timezone.now()
    )


def test_a_workers_bookings_come_back_as_the_orm_loads_them_and_not_an_outsiders(
    site, worker, other_worker
):
    shift = f.ShiftFactory(site=site)
    # Times to the second: before the shift for the worker, after it for the outsider.
    mine = book(
        worker,
        shift.start - timedelta(hours=20, seconds=17),
        shift.start - timedelta(hours=11, minutes=59),
        site,
    )
    theirs = book(
        other_worker, shift.end + timedelta(hours=13), shift.end + timedelta(hours=21), site
    )

    ctx = _context(shift, timezone.now())
    rows = fetch_many({"bookings": facts_sql(ctx, _ids_literal([worker.pk]))["bookings"]})

    [(worker_id, start, end)] = rows["bookings"]
    loaded = Booking.objects.get(pk=mine.pk)
    assert (worker_id, start, end) == (worker.pk, loaded.start, loaded.end)
    assert start.tzinfo == loaded.start.tzinfo and end.utcoffset() == loaded.end.utcoffset()
    assert (start, end) != (theirs.start, theirs.end)
