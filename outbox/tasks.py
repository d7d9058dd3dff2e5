"""Thin Celery interfaces over ``outbox.services``."""

from __future__ import annotations

from celery import Task, shared_task

from outbox import services


@shared_task(bind=True, acks_late=True, name="outbox.tasks.outbox_consume")
def outbox_consume(self: Task, message_id: int) -> bool:
    """``message_id`` only, as ever; whether the row's handler is atomic comes as a message
    header (``services.ATOMIC_HEADER``), which workers of any version may receive or not."""
    atomic = bool((self.request.headers or {}).get(services.ATOMIC_HEADER))
    return services.outbox_consume(message_id=message_id, atomic=atomic)


@shared_task(acks_late=True, name="outbox.tasks.outbox_relay")
def outbox_relay() -> int:
    """Beat, every few seconds: republish rows not done whose time has come."""
    return services.outbox_relay()


@shared_task(name="outbox.tasks.outbox_purge")
def outbox_purge() -> int:
    return services.outbox_purge()
