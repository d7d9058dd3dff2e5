"""A Redis cache that never fails a request: when Redis cannot be reached it falls back
to a small in-process cache (so the API token throttle keeps counting, per process) and
does not try Redis again for a few seconds (so each request does not wait on it)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
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


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
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
