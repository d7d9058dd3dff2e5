"""Reports that only the rollup refresh can change, kept until it runs again.

The dashboards and the stats API read the rollups, which beat rebuilds every five minutes;
between two refreshes the same scope always gives the same figures. So each report is kept
in the cache under its name, its scope and each of its pools' rollup generation, a token
that every rebuild of the pool's rollup rows replaces after it commits
(``report_cache_retire``): the next refresh changes the key, and the old entry simply ages
out. Anything live (workers' statuses and documents on the pool-health
page) is not kept here. If the cache is down the report is built as before: slower, never
wrong, never an error.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

from reports.metrics import Scope
from reports.models import RollupState

T = TypeVar("T")
log = logging.getLogger(__name__)
# Longer than two refreshes, so an entry outlives a late refresh but not a day's churn.
KEEP_SECONDS = 15 * 60
GENERATION_SECONDS = 7 * 24 * 3600


def _generation_key(pool_id: int) -> str:
    return f"report:generation:{pool_id}"


def report_cache_retire(*, pool_id: int) -> None:
    """Called whenever a pool's rollup rows change (reports.rollups): once the change is
    committed, every report kept for that pool is retired. A reader that built a report
    from the old rows keyed it on the old generation, so it is never served again."""

    def retire() -> None:
        try:
            cache.set(_generation_key(pool_id), uuid.uuid4().hex, GENERATION_SECONDS)
        except Exception:  # noqa: BLE001 - then the next read regenerates it anyway
            log.warning("report cache unavailable; pool %s not retired", pool_id, exc_info=True)

    transaction.on_commit(retire)


def _key(name: str, scope: Scope, vary: tuple[str, ...] = ()) -> str | None:
    states = sorted(
        RollupState.objects.filter(pool_id__in=scope.pool_ids).values_list(
            "pool_id", "refreshed_at", "covers_from", "covers_to"
        )
    )
    if len(states) != len(set(scope.pool_ids)):
        return None  # a pool never built: nothing stable to key on
    keys = [_generation_key(pk) for pk, *_ in states]
    generations = cache.get_many(keys)
    for key in keys:
        if key not in generations:  # first use, or the cache lost it: start afresh
            cache.add(key, uuid.uuid4().hex, GENERATION_SECONDS)
            generations[key] = cache.get(key)
    # The states guard against a database rebuilt under a cache that outlived it.
    generation = ",".join(
        f"{pk}@{at.timestamp():.6f}:{since}:{until}:{generations[key]}"
        for (pk, at, since, until), key in zip(states, keys, strict=True)
    )
    raw = f"{name}|{scope!r}|{generation}|{vary!r}"
    return "report:" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def report_cached(
    *, name: str, scope: Scope, build: Callable[[], T], vary: tuple[str, ...] = ()
) -> T:
    """``build()``'s result for this scope (and ``vary``: anything else it depends on) as
    of the last rollup refresh: built once per refresh, then read from the cache."""
    try:
        key = _key(name, scope, vary)
        hit = cache.get(key) if key is not None else None
    except Exception:  # noqa: BLE001 - a cache outage costs time, not the page
        log.warning("report cache unavailable; building %s", name, exc_info=True)
        return build()
    if key is None:
        return build()
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    value = build()
    try:
        cache.set(key, value, KEEP_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("report cache unavailable; %s not kept", name, exc_info=True)
    return value


def live_key(name: str, parts: tuple[object, ...]) -> str:
    return "live:" + hashlib.sha1(f"{name}|{parts!r}".encode(), usedforsecurity=False).hexdigest()


def live_cached(*, name: str, parts: tuple[object, ...], seconds: int, build: Callable[[], T]) -> T:
    """``build()``'s result kept for ``seconds`` (for live counts a page may show a few minutes
    old, saying when they were counted). When it is older, one request rebuilds it while the
    others keep answering from the old one (never more than three times ``seconds`` old), so
    a slow count is never run by many requests at once. A cache outage builds it every time."""
    key = live_key(name, parts)
    try:
        hit = cache.get(key)
        if isinstance(hit, tuple) and len(hit) == 2:  # (when counted, what)
            made, value = hit
            if time.time() - made < seconds or not cache.add(f"{key}:rebuilding", 1, 30):
                return value  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001
        log.warning("report cache unavailable; building %s", name, exc_info=True)
        return build()
    return live_refresh(name=name, parts=parts, seconds=seconds, build=build)


def live_refresh(
    *, name: str, parts: tuple[object, ...], seconds: int, build: Callable[[], T]
) -> T:
    """Build it now and keep it as ``live_cached`` would (beat's warm-up, after a refresh)."""
    key = live_key(name, parts)
    value = build()
    try:
        cache.set(key, (time.time(), value), 3 * seconds)
        cache.delete(f"{key}:rebuilding")
    except Exception:  # noqa: BLE001
        log.warning("report cache unavailable; %s not kept", name, exc_info=True)
    return value
