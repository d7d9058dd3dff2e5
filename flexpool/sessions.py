"""Sessions: kept in PostgreSQL (the record) and read through the cache (Redis), so a
signed-in request costs a cache read instead of a query (Django's ``cached_db`` engine).

Each cached copy lives at most ``SESSION_CACHE_SECONDS`` (a minute by default) however long
the session itself lasts. That bounds what a cache outage can leave behind: a sign-out
while Redis is unreachable deletes the session from the database (and from the per-process
fallback cache of the process that served it, flexpool/cache.py), but Redis, and another
process's fallback, may still hold a copy; it stops working when that copy expires.
Everything else is as with database sessions: a session is written to the database first,
and one that is not in the cache is read from the database.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache


class _CappedCache:
    """The session cache, with every copy's timeout cut to ``SESSION_CACHE_SECONDS``."""

    def __init__(self, cache: BaseCache) -> None:
        self._cache = cache

    def get(self, key: str) -> Any:
        return self._cache.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        seconds = settings.SESSION_CACHE_SECONDS
        self._cache.set(key, value, seconds if timeout is None else min(timeout, seconds))

    def delete(self, key: str) -> bool:
        return self._cache.delete(key)

    def __contains__(self, key: str) -> bool:
        return key in self._cache


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache: Any = _CappedCache(caches[settings.SESSION_CACHE_ALIAS])
