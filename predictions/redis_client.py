"""One Redis client per process (throttle counters, queued-run markers), built lazily from settings."""

from __future__ import annotations

import os
import threading

import redis
from django.conf import settings

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_key: tuple[int, str] | None = None


def redis_client() -> redis.Redis:
    """This process's client for ``REDIS_URL`` (a forked worker or a new URL gets a new one)."""
    global _client, _client_key
    key = (os.getpid(), settings.REDIS_URL)
    if _client is not None and _client_key == key:
        return _client
    with _lock:
        if _client is None or _client_key != key:
            _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1.0, socket_timeout=1.0)
            _client_key = key
        return _client
