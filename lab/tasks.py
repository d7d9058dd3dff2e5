"""Celery interfaces for the lab: a stored run is executed by a worker, with its progress
kept in the cache for the run's page."""

from __future__ import annotations

from celery import shared_task

from lab import services
from outbox.services import outbox_handler


@outbox_handler(atomic=False)
def lab_run_start(*, run_id: int) -> None:
    """The outbox's intent (written with the run): hand the run to a worker."""
    lab_run_execute.apply_async((run_id,))


@shared_task(name="lab.tasks.lab_run_execute", soft_time_limit=3600, time_limit=3660)
def lab_run_execute(run_id: int) -> str:
    """Execute a queued run (a run already claimed or finished is left alone)."""
    run = services.lab_run_execute(run_id=run_id)
    return run.status if run is not None else "skipped"
