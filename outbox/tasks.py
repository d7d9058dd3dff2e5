"""Thin Celery interfaces over ``outbox.services``."""

from __future__ import annotations

from celery import shared_task

from outbox import services


@shared_task(acks_late=True, name="outbox.tasks.outbox_consume")
def outbox_consume(message_id: int) -> bool:
    return services.outbox_consume(message_id=message_id)


@shared_task(acks_late=True, name="outbox.tasks.outbox_relay")
def outbox_relay() -> int:
    """Beat, every few seconds: republish rows not done whose time has come."""
    return services.outbox_relay()


@shared_task(name="outbox.tasks.outbox_purge")
def outbox_purge() -> int:
    return services.outbox_purge()
