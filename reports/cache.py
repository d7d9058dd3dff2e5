"""Reports that only the rollup refresh can change, kept until it runs again.

The dashboards and the stats API read the rollups, which beat rebuilds every five minutes;
between two refreshes the same scope always gives the same figures. So each report is kept
in the cache under its name, its scope and the time every pool in the scope was last
refreshed (and the days its rollups cover): the next refresh changes the key, and the old
entry simply ages out. Anything live (workers' statuses and documents on the pool-health
page) is not kept here. If the cache is down the report is built as before: slower, never
wrong, never an error.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from reports.metrics import Scope
from reports.models import RollupState

T = TypeVar("T")
log = logging.getLogger(__name__)
# Longer than two refreshes, so an entry outlives a late refresh but not a day's churn.
KEEP_SECONDS = 15 * 60


def _key(name: str, scope: Scope) -> str | None:
    states = sorted(
        RollupState.objects.filter(pool_id__in=scope.pool_ids).values_list(
            "pool_id", "refreshed_at", "covers_from", "covers_to"
        )
    )
    if len(states) != len(set(scope.pool_ids)):
        return None  # a pool never built: nothing stable to key on
    generation = ",".join(
        f"{pk}@{at.timestamp():.6f}:{since}:{until}" for pk, at, since, until in states
    )
    raw = f"{name}|{scope!r}|{generation}"
    return "report:" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def report_cached(*, name: str, scope: Scope, build: Callable[[], T]) -> T:
    """``build()``'s result for this scope as of the last rollup refresh: built once per
    refresh and scope, then read from the cache."""
    key = _key(name, scope)
    if key is None:
        return build()
    try:
        hit = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs time, not the page
        log.warning("report cache unavailable; building %s", name, exc_info=True)
        return build()
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    value = build()
    try:
        cache.set(key, value, KEEP_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("report cache unavailable; %s not kept", name, exc_info=True)
    return value
