"""A dashboard never shows a partial figure as a whole one: the rollups cover the range
asked for, or the days they miss are counted from the shifts before the page reads them,
and the page says how fresh its figures are."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from reports import rollups
from reports.metrics import Scope
from reports.models import RollupState, ShiftRollup
from reports.tasks import rollups_refresh_recent
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 6, 10)


def _shift(site, day: date, **kw):
    start = datetime(day.year, day.month, day.day, 8, tzinfo=LONDON)
    return f.ShiftFactory(
        site=site, start=start, end=start + timedelta(hours=8), posted_at=start, **kw
    )


@pytest.fixture
def old_and_new(site):
    """Shifts 85 and 70 days back (out of beat's reach) and 10 days back."""
    return [_shift(site, TODAY - timedelta(days=d)) for d in (85, 70, 10)]


def _overview(client, start: date, end: date):
    return client.get(reverse("reports:dashboard"), {"start": start, "end": end})


@time_machine.travel(datetime(2026, 6, 10, 12, tzinfo=LONDON), tick=False)
def test_beat_running_first_still_counts_the_days_before_its_window(pool, old_and_new):
    rollups_refresh_recent()
    scope = Scope(pool_ids=(pool.pk,), start=TODAY - timedelta(weeks=13), end=TODAY)
    assert rollups.figures_summary(scope).shifts_requested == 3
    state = RollupState.objects.get(pool=pool)
    # Beat's warm-up computes the standard ranges, the longest two years back: counted once.
    assert state.covers_from == TODAY - timedelta(days=730)
    assert state.covers_to == TODAY + timedelta(days=60)


@time_machine.travel(datetime(2026, 6, 10, 12, tzinfo=LONDON), tick=False)
def test_days_the_rollups_never_counted_are_counted_before_the_page_reads_them(
    client, coordinator, pool, old_and_new
):
    # As before this fix: beat's window counted, nothing older, and no record of coverage.
    rollups.rollups_refresh(start=TODAY - timedelta(days=60), end=TODAY + timedelta(days=60))
    RollupState.objects.filter(pool=pool).update(
        covers_from=TODAY - timedelta(days=60), covers_to=TODAY + timedelta(days=60)
    )
    ShiftRollup.objects.filter(day__lt=TODAY - timedelta(days=60)).delete()
    client.force_login(coordinator)
    page = _overview(client, TODAY - timedelta(weeks=13), TODAY)
    assert page.context["fig"].shifts_requested == 3
    assert page.context["counted_now"] == [
        (TODAY - timedelta(weeks=13), TODAY - timedelta(days=61))
    ]
    assert "were counted from the shift records just now" in page.content.decode()
    # Counted once: the next page reads rollups only, and says nothing was missing.
    again = _overview(client, TODAY - timedelta(weeks=13), TODAY)
    assert again.context["fig"].shifts_requested == 3
    assert again.context["counted_now"] == []


@time_machine.travel(datetime(2026, 6, 10, 12, tzinfo=LONDON), tick=False)
def test_a_range_reaching_past_the_days_beat_keeps_counts_the_far_future_too(
    client, coordinator, site, pool
):
    _shift(site, TODAY)
    rollups_refresh_recent()
    far = _shift(site, TODAY + timedelta(days=90))
    client.force_login(coordinator)
    page = _overview(client, TODAY, TODAY + timedelta(days=100))
    assert page.context["fig"].shifts_requested == 2
    assert far.pk and page.context["counted_now"] == [
        (TODAY + timedelta(days=61), TODAY + timedelta(days=100))
    ]


def test_the_page_says_when_its_figures_were_counted(client, coordinator, site, pool):
    _shift(site, TODAY)
    with time_machine.travel(datetime(2026, 6, 10, 9, 5, tzinfo=LONDON), tick=False):
        rollups_refresh_recent()
    with time_machine.travel(datetime(2026, 6, 10, 11, 0, tzinfo=LONDON), tick=False):
        # Counting a gap of old days is not a recount of today's: "as of" stays.
        rollups.rollups_ensure(pool_ids=[pool.pk], start=date(2025, 1, 1), end=date(2025, 1, 31))
        client.force_login(coordinator)
        text = _overview(client, TODAY - timedelta(days=7), TODAY).content.decode()
    assert "Figures as of 10 Jun 2026, 09:05" in text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rebuilds_of_the_same_days_at_once_count_each_shift_once(site, pool):
    """Beat and a page (or two pages) rebuilding the same days together: the pool's
    advisory lock makes the second wait. The control (lock switched off) shows that
    without it one of the two fails on a unique constraint or every shift counts twice."""
    import contextlib
    import threading

    from django.db import IntegrityError, connection

    for d in range(5):
        _shift(site, TODAY - timedelta(days=d))
    first, last = TODAY - timedelta(days=4), TODAY

    def race(lock_on: bool) -> tuple[int, list[BaseException]]:
        ShiftRollup.objects.all().delete()
        RollupState.objects.all().delete()
        together, inserted = threading.Barrier(2), threading.Barrier(2)
        original_span, original_lock = rollups._span, rollups._lock
        errors: list[BaseException] = []

        def lock(pool_):
            together.wait(timeout=10)  # both start at once
            if lock_on:
                original_lock(pool_)

        def span(*args, **kwargs):
            original_span(*args, **kwargs)
            # Hold the new rows uncommitted until the other has written too.
            with contextlib.suppress(threading.BrokenBarrierError):
                inserted.wait(timeout=2)

        def run() -> None:
            try:
                rollups.rollups_refresh(pool_ids=[pool.pk], start=first, end=last)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connection.close()

        rollups._span, rollups._lock = span, lock
        try:
            threads = [threading.Thread(target=run) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
        finally:
            rollups._span, rollups._lock = original_span, original_lock
        scope = Scope(pool_ids=(pool.pk,), start=first, end=last)
        return rollups.figures_summary(scope).shifts_requested, errors

    counted, errors = race(lock_on=False)
    # Control: without the lock the second rebuild collides with the first's uncommitted
    # running totals (a unique constraint: the page would answer 500) or counts twice.
    assert counted == 10 or any(isinstance(e, IntegrityError) for e in errors)
    assert race(lock_on=True) == (5, [])
