"""The shared cache: Redis for every process, process memory while Redis does not answer."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.cache import caches

from parivision.cache import FallbackRedisCache


def test_the_default_cache_is_the_shared_redis_one():
    backend = caches["default"]
    assert isinstance(backend, FallbackRedisCache)
    backend.set("pv-test-shared", {"n": 1}, 30)
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    assert any(b"pv-test-shared" in key for key in raw.keys("*pv-test-shared*"))
    assert backend.get("pv-test-shared") == {"n": 1}


def test_without_redis_the_cache_keeps_working_from_memory_then_tries_again(settings, caplog):
    settings.CACHE_FALLBACK_SECONDS = 0.3
    down = FallbackRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})

    assert down.get("missing") is None
    assert "Redis unavailable" in caplog.text
    assert down.add("key", "value", 30) is True
    assert down.get("key") == "value"
    assert down.add("key", "other", 30) is False
    assert not down.redis_available
    time.sleep(0.35)
    assert down.redis_available  # the next call tries Redis again
    assert down.get("key") == "value"
