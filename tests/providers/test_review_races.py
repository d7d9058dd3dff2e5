"""Two colleagues reviewing one timesheet at the same moment: the conditional UPDATE lets
exactly one of them win. The control test drops the guard and shows the race is real."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from shifts.models import Timesheet
from shifts.services.timesheets import timesheet_approve, timesheet_correct
from tests import factories as f
from tests.providers.conftest import submit_timesheet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*actions: Callable[[], str]) -> list[str]:
    barrier = threading.Barrier(len(actions))
    results: list[str] = []

    def run(action: Callable[[], str]) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(action())
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(results)


def test_an_approval_and_a_correction_at_once_cannot_both_win(worked, manager, provider):
    deputy = f.ProviderMemberFactory(provider=provider, is_admin=False).user
    timesheet = submit_timesheet(worked)

    def approve() -> str:
        timesheet_approve(timesheet=Timesheet.objects.get(pk=timesheet.pk), by=manager)
        return "approved"

    def correct() -> str:
        timesheet_correct(
            timesheet=Timesheet.objects.get(pk=timesheet.pk),
            by=deputy,
            clock_in=worked.start,
            clock_out=worked.end - timedelta(hours=2),
            break_minutes=0,
            note="Went home early.",
        )
        return "corrected"

    results = race(approve, correct)

    assert results in (["approved", "refused"], ["corrected", "refused"])
    timesheet.refresh_from_db()
    assert timesheet.status in (Timesheet.Status.APPROVED, Timesheet.Status.CORRECTED)


def test_control_without_the_guard_both_reviews_win(worked, manager):
    """Read, decide, then save: the check-then-write the services avoid."""
    timesheet = submit_timesheet(worked)
    both_read = threading.Barrier(2)

    def naive(status: str) -> Callable[[], str]:
        def review() -> str:
            with transaction.atomic():
                mine = Timesheet.objects.get(pk=timesheet.pk)
                both_read.wait(timeout=10)
                if mine.status != Timesheet.Status.SUBMITTED:
                    raise ValidationError("already reviewed")
                mine.status = status
                mine.save(update_fields=["status"])
            return status

        return review

    results = race(naive(Timesheet.Status.APPROVED), naive(Timesheet.Status.CORRECTED))

    assert results == sorted([Timesheet.Status.APPROVED, Timesheet.Status.CORRECTED])
