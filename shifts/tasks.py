"""Celery tasks: thin wrappers over shifts.matching and shifts.services, taking ids.

Workers acknowledge late with a prefetch of one (settings), so a task killed mid-run is
delivered again; every task here is idempotent, so that is harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from outbox.services import OutboxRetry, outbox_handler
from shifts import matching
from shifts.models import ShiftRequest
from shifts.services import lifecycle, offers

log = logging.getLogger("flexpool.matching")


@outbox_handler(atomic=True)
def shift_match_due(*, shift_id: int) -> None:
    """The outbox's matching intent (written when a shift is posted or re-opened): run
    the shift's wave if it is due. Its effect (offers, the match run) commits with the
    outbox row marked done. A shift another process holds right now is retried shortly;
    one no longer due (matched meanwhile, filled, cancelled) needs nothing."""
    now = timezone.now()
    run = matching.shift_match_wave(shift_id=shift_id, now=now)
    if run is None:
        still_due = ShiftRequest.objects.filter(
            Q(matched_at__isnull=True) | Q(next_wave_at__lte=now),
            pk=shift_id,
            status=ShiftRequest.Status.OPEN,
            end__gt=now,
        )
        if still_due.exists():
            raise OutboxRetry(f"shift {shift_id} is locked by another process")
        return
    log.info(
        "wave %d of shift %s: %d offer(s)",
        run.wave,
        shift_id,
        run.offered_count,
        extra={"shift_id": shift_id, "wave": run.wave, "offered": run.offered_count},
    )


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
    return lifecycle.shifts_escalate()


@shared_task(acks_late=True)
def shifts_close_past() -> int:
    return lifecycle.shifts_close_past()
