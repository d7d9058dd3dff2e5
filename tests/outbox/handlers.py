"""Outbox handlers for the tests: a row names one by its dotted path."""

from __future__ import annotations

from typing import Any

from outbox.models import OutboxMessage
from outbox.services import outbox_handler

calls: list[tuple[str, dict[str, Any]]] = []


@outbox_handler(atomic=True)
def atomic_noted(**payload: Any) -> None:
    calls.append(("atomic", payload))


@outbox_handler(atomic=True)
def atomic_writes_then_fails(**payload: Any) -> None:
    OutboxMessage.objects.create(handler=f"{__name__}.atomic_noted", payload={"left": "behind"})
    raise ValueError("failed after writing")


@outbox_handler(atomic=False)
def plain_noted(**payload: Any) -> None:
    calls.append(("plain", payload))
