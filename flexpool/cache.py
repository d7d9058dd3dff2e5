"""A Redis cache that never fails a request: when Redis cannot be reached it falls back
to a small in-process cache (so the API token throttle keeps counting, per process) and
does not try Redis again for a few seconds (so each request does not wait on it)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("flexpool.cache")

ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
PAUSE_SECONDS = 5.0


def _fallback(name: str) -> Any:
    def method(self: FallbackRedisCache, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(FallbackRedisCache, self), name)(*args, **kwargs)
            except ERRORS as exc:
                self._down_until = time.monotonic() + PAUSE_SECONDS
                log.warning("cache: Redis unavailable, using the local cache (%s)", exc)
        return getattr(self._local, name)(*args, **kwargs)

    method.__name__ = name
    return method


class OneClientPerPool(RedisCacheClient):
    """Django's Redis cache makes a new redis-py client for every operation (building its
    table of response callbacks each time, about 0.1 ms of CPU); redis-py clients are
    thread-safe, so one per connection pool serves every request of the process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            made = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            client = self._clients.setdefault(id(pool), made)
        return client


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = OneClientPerPool
        self._local = LocMemCache("flexpool-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
        self._down_until = 0.0

    add = _fallback("add")
    get = _fallback("get")
    set = _fallback("set")
    touch = _fallback("touch")
    delete = _fallback("delete")
    get_many = _fallback("get_many")
    set_many = _fallback("set_many")
    delete_many = _fallback("delete_many")
    has_key = _fallback("has_key")
    incr = _fallback("incr")
    clear = _fallback("clear")
