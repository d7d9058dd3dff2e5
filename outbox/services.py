"""The transactional outbox: work that must follow a commit is a row in that commit.

1. ``outbox_put`` writes an ``OutboxMessage`` inside the caller's transaction and, once
   it commits, publishes it to Celery at once (``outbox_publish``). A broker that is down
   makes that publish fail quietly: the request that posted a shift still succeeds.
2. ``outbox_relay`` (beat, every few seconds) republishes every row not done whose
   ``available_at`` has passed: publishes that failed, tasks lost with a killed worker,
   handlers that failed and wait out their back-off. Two relays at once (two beats by
   mistake) skip each other's rows (``SKIP LOCKED``) and push ``available_at`` on.
3. ``outbox_consume`` (the Celery task ``outbox.tasks.outbox_consume``) runs the row's
   handler and marks the row done. An *atomic* handler (a matching wave) runs in the same
   transaction that marks the row done and holds the row's lock, so the row is done exactly
   when its effect is committed, and a killed worker's lock goes with its connection. A
   non-atomic handler (delivering messages over outside channels) records its own effects
   idempotently (one row per message and channel) and the row is marked done afterwards.

A published row may be consumed twice (a republished row whose first task was only slow);
the lock and the ``done_at`` check make the second a no-op, and handlers are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.module_loading import import_string

from outbox.models import OutboxMessage

log = logging.getLogger("flexpool.outbox")

F_ = TypeVar("F_", bound=Callable[..., Any])

# One quick retry: enough to replace a pooled connection that died with a Redis restart,
# short enough that a request never waits on a broker that is down.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def outbox_handler(*, atomic: bool) -> Callable[[F_], F_]:
    """Mark a keyword-only function as something an outbox row may name. ``atomic``: its
    database effects commit together with the row being marked done."""

    def mark(fn: F_) -> F_:
        fn.outbox_atomic = atomic  # type: ignore[attr-defined]
        return fn

    return mark


class OutboxRetry(Exception):
    """A handler raises this when its effect could not happen yet (say, the shift is
    locked by another process): the row is tried again after a short back-off."""


def _path(handler: Callable[..., Any] | str) -> str:
    if isinstance(handler, str):
        return handler
    return f"{handler.__module__}.{handler.__qualname__}"


def _grace() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_REPUBLISH_AFTER_SECONDS)


def outbox_put(
    *, handler: Callable[..., Any] | str, payload: dict[str, Any], priority: int | None = None
) -> OutboxMessage:
    """Write one intent in the current transaction; publish it once that commits."""
    return outbox_put_many(handler=handler, payloads=[payload], priority=priority)[0]


def outbox_put_many(
    *,
    handler: Callable[..., Any] | str,
    payloads: Iterable[dict[str, Any]],
    priority: int | None = None,
) -> list[OutboxMessage]:
    now = timezone.now()
    path = _path(handler)
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            handler=path, payload=p, priority=priority, created_at=now, available_at=now + _grace()
        )
        for p in payloads
    )
    ids = [r.pk for r in rows if r.pk is not None]
    transaction.on_commit(lambda: outbox_publish(message_ids=ids, priority=priority))
    return rows


def outbox_publish(*, message_ids: list[int], priority: int | None = None) -> int:
    """Hand rows to Celery; never raises. With the broker down the rows stay for the relay."""
    from outbox.tasks import outbox_consume

    sent = 0
    for pk in message_ids:
        try:
            if priority is None:
                outbox_consume.apply_async((pk,), retry=True, retry_policy=RETRY_POLICY)
            else:
                outbox_consume.apply_async(
                    (pk,), priority=priority, retry=True, retry_policy=RETRY_POLICY
                )
        except Exception as exc:  # noqa: BLE001 - any broker failure: the relay retries
            log.warning(
                "outbox: broker unavailable, %d message(s) wait for the relay (%s: %s)",
                len(message_ids) - sent,
                type(exc).__name__,
                exc,
                extra={"outbox_ids": message_ids[sent:]},
            )
            _count("outbox_publish_failures", len(message_ids) - sent)
            return sent
        sent += 1
    _count("outbox_published", sent)
    return sent


def outbox_relay(*, now: datetime | None = None, limit: int = 500) -> int:
    """Republish the rows whose time has come. Safe to run twice at once."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(done_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "pk")
            .values_list("pk", "priority")[:limit]
        )
        ids = [pk for pk, _ in due]
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                available_at=now + _grace(), published_count=F("published_count") + 1
            )
    if ids:
        log.info("outbox relay: republishing %d message(s)", len(ids))
        # Each with its own priority, so a backlog of deliveries stays behind matching.
        by_priority: dict[int | None, list[int]] = {}
        for pk, priority in due:
            by_priority.setdefault(priority, []).append(pk)
        for priority, group in sorted(by_priority.items(), key=lambda kv: kv[0] or 0):
            outbox_publish(message_ids=group, priority=priority)
    return len(ids)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, settings.OUTBOX_MAX_BACKOFF_SECONDS))


def _failed(pk: int, attempts: int, exc: BaseException) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(pk=pk).update(
        attempts=attempts,
        available_at=now + _backoff(attempts),
        last_error=f"{type(exc).__name__}: {exc}"[:500],
    )
    level = logging.INFO if isinstance(exc, OutboxRetry) else logging.ERROR
    log.log(
        level,
        "outbox message %s failed (attempt %d): %s",
        pk,
        attempts,
        exc,
        exc_info=level > logging.INFO,
    )


def _handler(path: str) -> Callable[..., Any]:
    fn = import_string(path)
    if not hasattr(fn, "outbox_atomic"):
        raise ValueError(f"{path} is not an outbox handler")
    return fn  # type: ignore[no-any-return]


def outbox_consume(*, message_id: int) -> bool:
    """Run one row's handler; True if this call did it. See the module's docstring."""
    row = OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).first()
    if row is None:
        return False
    fn = _handler(row.handler)
    if fn.outbox_atomic:  # type: ignore[attr-defined]
        with transaction.atomic():
            locked = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, done_at__isnull=True)
                .first()
            )
            if locked is None:
                return False  # done meanwhile, or another worker holds it right now
            try:
                with transaction.atomic():
                    fn(**locked.payload)
            except Exception as exc:  # noqa: BLE001 - recorded; the relay tries again
                _failed(locked.pk, locked.attempts + 1, exc)
                return False
            OutboxMessage.objects.filter(pk=locked.pk).update(done_at=timezone.now())
        return True
    try:
        fn(**row.payload)
    except Exception as exc:  # noqa: BLE001
        _failed(row.pk, row.attempts + 1, exc)
        return False
    return bool(
        OutboxMessage.objects.filter(pk=row.pk, done_at__isnull=True).update(done_at=timezone.now())
    )


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_age_seconds: float


def outbox_backlog(*, now: datetime | None = None) -> OutboxBacklog:
    """How many rows are not done, and how old the oldest is (for /metrics)."""
    now = now or timezone.now()
    agg = OutboxMessage.objects.filter(done_at__isnull=True).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    oldest = agg["oldest"]
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    return OutboxBacklog(pending=agg["n"], oldest_age_seconds=max(age, 0.0))


def outbox_purge(*, now: datetime | None = None, keep_days: int = 7) -> int:
    """Forget rows done more than ``keep_days`` ago."""
    now = now or timezone.now()
    deleted, _ = OutboxMessage.objects.filter(done_at__lt=now - timedelta(days=keep_days)).delete()
    return deleted


def _count(name: str, n: int) -> None:
    """Bump a Prometheus counter if metrics are set up (see flexpool.metrics)."""
    try:
        from flexpool import metrics
    except ImportError:  # pragma: no cover
        return
    metrics.count(name, n)
