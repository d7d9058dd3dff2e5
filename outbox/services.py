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
   The Celery message says whether the row's handler is atomic (a header, which older
   workers ignore), so an atomic row is claimed under its lock at once, in one statement;
   the row stays the source of truth (its handler and payload are read under that lock).

A published row may be consumed twice (a republished row whose first task was only slow);
the lock and the ``done_at`` check make the second a no-op, and handlers are idempotent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.module_loading import import_string

from outbox.models import OutboxMessage

log = logging.getLogger("flexpool.outbox")

F_ = TypeVar("F_", bound=Callable[..., Any])

# One quick retry: enough to replace a pooled connection that died with a Redis restart,
# short enough that a request never waits on a broker that is down.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# The Celery message header saying the row's handler is atomic (see ``outbox_consume``).
ATOMIC_HEADER = "outbox_atomic"


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
    transaction.on_commit(
        lambda: outbox_publish(message_ids=ids, priority=priority, atomic=_atomic(path))
    )
    return rows


def outbox_publish(
    *, message_ids: list[int], priority: int | None = None, atomic: bool = False
) -> int:
    """Hand rows to Celery; never raises. With the broker down the rows stay for the relay.
    ``atomic``: the rows' handler is atomic, which the message carries as a header
    (``ATOMIC_HEADER``) so the consumer claims the row at once; without it (a message
    published by older code, or a caller that does not know) the consumer reads the row
    first, as before."""
    from outbox.tasks import outbox_consume

    options: dict[str, Any] = {"retry": True, "retry_policy": RETRY_POLICY}
    if priority is not None:
        options["priority"] = priority
    if atomic:
        options["headers"] = {ATOMIC_HEADER: True}
    sent = 0
    for pk in message_ids:
        try:
            outbox_consume.apply_async((pk,), **options)
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
            .values_list("pk", "priority", "handler")[:limit]
        )
        ids = [pk for pk, _, _ in due]
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                available_at=now + _grace(), published_count=F("published_count") + 1
            )
    if ids:
        log.info("outbox relay: republishing %d message(s)", len(ids))
        # Each with its own priority, so a backlog of deliveries stays behind matching.
        groups: dict[tuple[int | None, bool], list[int]] = {}
        for pk, priority, handler in due:
            groups.setdefault((priority, _atomic(handler)), []).append(pk)
        for (priority, atomic), group in sorted(groups.items(), key=lambda kv: kv[0][0] or 0):
            outbox_publish(message_ids=group, priority=priority, atomic=atomic)
    return len(ids)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, settings.OUTBOX_MAX_BACKOFF_SECONDS))


def _failed(pk: int, attempts: int, exc: BaseException) -> None:
    """Record a handler's failure and when to try again. Not on a row done meanwhile (a
    duplicated task that succeeded while this one failed)."""
    now = timezone.now()
    OutboxMessage.objects.filter(pk=pk, done_at__isnull=True).update(
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


def _atomic(path: str) -> bool:
    """Whether the handler at ``path`` is atomic; False for one that cannot be imported
    (its consumer reads the row first and fails there, as it always did)."""
    try:
        return bool(_handler(path).outbox_atomic)  # type: ignore[attr-defined]
    except (ImportError, ValueError):
        return False


def outbox_consume(*, message_id: int, atomic: bool = False) -> bool:
    """Run one row's handler; True if this call did it. See the module's docstring.
    ``atomic``: the message said the row's handler is atomic, so the row is claimed at
    once; a row whose handler turns out not to be is run the non-atomic way."""
    if atomic:
        done = _consume_atomic(message_id)
        if done is not None:
            return done
    row = _row(
        "SELECT handler, payload, attempts FROM {table} WHERE id = %s AND done_at IS NULL",
        [message_id],
    )
    if row is None:
        return False
    path, payload, attempts = row
    fn = _handler(path)
    if fn.outbox_atomic:  # type: ignore[attr-defined]
        return bool(_consume_atomic(message_id))
    try:
        fn(**payload)
    except Exception as exc:  # noqa: BLE001
        _failed(message_id, attempts + 1, exc)
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table()} SET done_at = %s WHERE id = %s AND done_at IS NULL",  # noqa: S608
            [timezone.now(), message_id],
        )
        return cursor.rowcount > 0


def _consume_atomic(message_id: int) -> bool | None:
    """Claim the row and run its atomic handler in one transaction; None if its handler
    is not atomic after all (nothing done, nothing held).

    The claim locks the row unless another transaction holds it (``SKIP LOCKED``), marks
    it done and returns its handler, payload and attempts, in one statement: the mark
    commits with the handler's effects or not at all. The handler runs without a
    savepoint of its own: when it raises, the whole transaction rolls back (its effects,
    the mark, the lock), and the failure is recorded afterwards on the row if it is still
    not done."""
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    failure: BaseException | None = None
    with transaction.atomic():
        claimed = _row(
            "UPDATE {table} SET done_at = %s WHERE id = (SELECT id FROM {table} "
            f"WHERE id = %s AND done_at IS NULL{lock}) RETURNING handler, payload, attempts",
            [timezone.now(), message_id],
        )
        if claimed is None:
            return False  # done meanwhile, or another worker holds it right now
        path, payload, attempts = claimed
        fn = _handler(path)
        if not fn.outbox_atomic:  # type: ignore[attr-defined]
            transaction.set_rollback(True)
            return None
        try:
            fn(**payload)
        except Exception as exc:  # noqa: BLE001 - recorded below; the relay tries again
            failure = exc
            transaction.set_rollback(True)
    if failure is not None:
        _failed(message_id, attempts + 1, failure)
        return False
    return True


def _table() -> str:
    return connection.ops.quote_name(OutboxMessage._meta.db_table)


def _row(sql: str, params: list[Any]) -> tuple[str, dict[str, Any], int] | None:
    """One row's handler, payload and attempts by a fixed statement (``{table}`` is the
    outbox's table). Written as SQL because the consumer runs once a task: the ORM's
    building of a statement costs ten times its round trip here (about 1 ms of CPU
    against 0.1 ms), and ``update()`` cannot return the row it claims."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=_table()), params)
        row = cursor.fetchone()
    if row is None:
        return None
    path, payload, attempts = row
    if isinstance(payload, str | bytes):  # the driver leaves JSON to the field, as Django does
        payload = json.loads(payload)
    return path, payload, attempts


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
