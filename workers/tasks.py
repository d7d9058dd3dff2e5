from __future__ import annotations

from celery import shared_task

from workers.services import booking_reminders_send


@shared_task(acks_late=True)
def bookings_send_reminders() -> int:
    """Beat runs this every few minutes; each reminder still goes only once."""
    return booking_reminders_send()
