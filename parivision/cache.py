"""Django's cache on Redis, shared by every web and worker process, that degrades instead of failing.

Pages read figures that Celery stored; the cache only spares them repeated reads. When Redis
does not answer (stopped, restarting, a laptop without it), a cache call must not turn a page
into a 500: this backend then serves from a per-process memory cache for
``CACHE_FALLBACK_SECONDS`` (logged once), and tries Redis again after that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
T = TypeVar("T")
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)


class FallbackRedisCache(RedisCache):
    """``RedisCache`` whose every call falls back to process memory while Redis is away."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._memory = LocMemCache(f"fallback-{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def redis_available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _call(self, redis_call: Callable[[], T], memory_call: Callable[[], T]) -> T:
        if self.redis_available:
            try:
                return redis_call()
            except _UNAVAILABLE as error:
                with self._lock:
                    if self.redis_available:
                        logger.warning("cache: Redis unavailable (%s); using process memory for %.0f s",
                                       error, settings.CACHE_FALLBACK_SECONDS)
                    self._down_until = time.monotonic() + settings.CACHE_FALLBACK_SECONDS
        return memory_call()

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._call(lambda: super(FallbackRedisCache, self).add(key, value, timeout, version),
                          lambda: self._memory.add(key, value, timeout, version))

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._call(lambda: super(FallbackRedisCache, self).get(key, default, version),
                          lambda: self._memory.get(key, default, version))

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> None:
        self._call(lambda: super(FallbackRedisCache, self).set(key, value, timeout, version),
                   lambda: self._memory.set(key, value, timeout, version))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._call(lambda: super(FallbackRedisCache, self).touch(key, timeout, version),
                          lambda: self._memory.touch(key, timeout, version))

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._call(lambda: super(FallbackRedisCache, self).delete(key, version),
                          lambda: self._memory.delete(key, version))

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return self._call(lambda: super(FallbackRedisCache, self).get_many(keys, version),
                          lambda: self._memory.get_many(keys, version))

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._call(lambda: super(FallbackRedisCache, self).has_key(key, version),
                          lambda: self._memory.has_key(key, version))

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        return self._call(lambda: super(FallbackRedisCache, self).incr(key, delta, version),
                          lambda: self._memory.incr(key, delta, version))

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        return self._call(lambda: super(FallbackRedisCache, self).set_many(data, timeout, version),
                          lambda: self._memory.set_many(data, timeout, version))

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._call(lambda: super(FallbackRedisCache, self).delete_many(keys, version),
                   lambda: self._memory.delete_many(keys, version))

    def clear(self) -> None:
        self._memory.clear()
        self._call(lambda: super(FallbackRedisCache, self).clear(), lambda: None)
