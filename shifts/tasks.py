"""Celery tasks: thin wrappers over shifts.matching and shifts.services, taking ids.

Workers acknowledge late with a prefetch of one (settings), so a task killed mid-run is
delivered again; every task here is idempotent, so that is harmless.
"""

from __future__ import annotations

from celery import shared_task

from shifts import matching
from shifts.services import offers


@shared_task(acks_late=True)
def shift_match(shift_id: int) -> int | None:
    """Run the shift's next wave if it is due (a posted shift is due at once)."""
    run = matching.shift_match_wave(shift_id=shift_id)
    return run.offered_count if run is not None else None


@shared_task(acks_late=True)
def matching_sweep() -> int:
    """Every 30 seconds: run the waves that are due and recover shifts never matched."""
    return matching.matching_sweep()


@shared_task(acks_late=True)
def offers_expire() -> int:
    return offers.offers_expire()


@shared_task(acks_late=True)
def shifts_escalate() -> int:
    return matching.shifts_escalate()


@shared_task(acks_late=True)
def shifts_close_past() -> int:
    return matching.shifts_close_past()
