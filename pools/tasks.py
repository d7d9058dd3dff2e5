from __future__ import annotations

from celery import shared_task

from pools.services import documents_send_expiry_reminders as _send
from pools.services import workers_erase_after_retention as _erase


@shared_task(name="pools.tasks.documents_send_expiry_reminders")
def documents_send_expiry_reminders() -> int:
    """Daily (beat, 07:00): remind workers of documents expiring in 90/60/30 days.
    Idempotent: each reminder is remembered, so re-runs send nothing new."""
    return _send()


@shared_task(name="pools.tasks.workers_erase_after_retention", acks_late=True)
def workers_erase_after_retention() -> int:
    """Daily (beat, 02:40): erase leavers' documents and personal details once their pool's
    retention period has passed; each erasure is in the pool's audit log. Idempotent."""
    return _erase()
