"""Per-user request rates, counted in Redis so the limit holds across every gunicorn worker.

A fixed window per user (``throttle:<scope>:<ident>:<period>:<window>`` in Redis). Asking
Redis on every request costs a round trip (and, on a small machine, a context switch) per
prediction, so each process *leases* part of the budget instead: one Lua call grants it
``max(1, remaining // LEASE_SHARE)`` requests of the window at once and it counts them down in
memory. Leases shrink as the budget runs out, down to one request at a time near the limit,
so the workers together never admit more than the rate; the price is that a user may be
refused slightly early (by at most a sixteenth of what was left when another worker last
leased) when a worker holds part of the budget it will not use. A refusal is remembered until
the window ends (the counter never goes down within a window).

Rates come from ``API_THROTTLE_USER_RATE`` and ``API_THROTTLE_ANON_RATE``; a refused request
gets a 429 with ``Retry-After``. Redis being away fails open (logged), as before.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from predictions.redis_client import redis_client

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


# Grant a share of what is left of the window's budget (0: none left). KEYS[1] the window's
# counter; ARGV limit, share, expiry (seconds).
_LEASE_SCRIPT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local remaining = tonumber(ARGV[1]) - used
if remaining <= 0 then return 0 end
local grant = math.max(1, math.floor(remaining / tonumber(ARGV[2])))
redis.call('INCRBY', KEYS[1], grant)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return grant
"""
LEASE_SHARE = 16
MAX_LEASES = 10_000  # (scope, ident) pairs held in memory; older windows are dropped beyond it


@dataclass(slots=True)
class _Lease:
    window: int
    limit: int
    left: int  # requests this process may still admit in the window (0 with refused: none)
    refused: bool = False


class _Leases:
    """This process's leased budgets, by (scope, ident)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.entries: dict[tuple[str, str], _Lease] = {}
        self.script: tuple[redis.Redis, Any] | None = None

    def table(self) -> dict[tuple[str, str], _Lease]:
        if self.pid != os.getpid():  # a forked worker starts with nothing leased
            self.pid, self.entries, self.script = os.getpid(), {}, None
        return self.entries

    def lease_script(self) -> Any:
        client = redis_client()
        if self.script is None or self.script[0] is not client:
            self.script = (client, client.register_script(_LEASE_SCRIPT))
        return self.script[1]


_leases = _Leases()


def reset() -> None:
    """Forget every lease (tests that clear the Redis counters)."""
    with _leases.lock:
        _leases.table().clear()


class RedisRateThrottle(BaseThrottle):
    scope = ""
    rate_setting = ""

    def __init__(self) -> None:
        self.limit, self.period = parse_rate(getattr(settings, self.rate_setting))
        self._wait: float | None = None

    def ident(self, request: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        now = time.time()
        window = int(now // self.period)
        name = (self.scope, ident)
        with _leases.lock:
            lease = _leases.table().get(name)
            if lease is not None and lease.window == window and lease.limit == self.limit:
                if lease.left > 0:
                    lease.left -= 1
                    return True
                if lease.refused:
                    return self._refuse(window, now)
        key = f"throttle:{self.scope}:{ident}:{self.period}:{window}"
        try:
            granted = int(_leases.lease_script()(keys=[key], args=[self.limit, LEASE_SHARE, self.period + 1]))
        except redis.RedisError as error:
            # Fail open: the broker being away must not also take the prediction API down.
            # /readyz reports Redis; this logs each refusal to count.
            logger.warning("throttle counter unavailable, request allowed: %s", error)
            return True
        with _leases.lock:
            table = _leases.table()
            lease = table.get(name)
            if lease is None or lease.window != window or lease.limit != self.limit:
                if len(table) >= MAX_LEASES:
                    for stale in [n for n, held in table.items() if held.window != window]:
                        del table[stale]
                lease = table[name] = _Lease(window=window, limit=self.limit, left=0)
            if granted <= 0:
                lease.refused = True
            else:
                lease.left += granted - 1  # this request uses one
        return True if granted > 0 else self._refuse(window, now)

    def _refuse(self, window: int, now: float) -> bool:
        self._wait = (window + 1) * self.period - now
        return False

    def wait(self) -> float | None:
        return self._wait


class UserRateThrottle(RedisRateThrottle):
    """Signed-in users (token or session), each on their own budget."""

    scope = "user"
    rate_setting = "API_THROTTLE_USER_RATE"

    def ident(self, request: Any) -> str | None:
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None


class AnonRateThrottle(RedisRateThrottle):
    """Anonymous readers, by client address."""

    scope = "anon"
    rate_setting = "API_THROTTLE_ANON_RATE"

    def ident(self, request: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.get_ident(request)


# --- plain fixed windows for rare, abuse-prone actions (password resets, sign-ups) ----------------


def rate_limit_take(*, scope: str, ident: str, rate: str) -> float | None:
    """Count one action of ``ident`` against ``rate``; None when allowed, else the seconds to wait.

    One Redis round trip (INCR + EXPIRE) per action: for actions far rarer than API requests,
    where the leases above would only add complexity. Redis being away allows the action
    (logged), like the API throttles.
    """
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"ratelimit:{scope}:{ident}:{period}:{window}"
    try:
        pipe = redis_client().pipeline()
        pipe.incr(key)
        pipe.expire(key, period + 1)
        count = int(pipe.execute()[0])
    except redis.RedisError as error:
        logger.warning("rate limit %s unavailable, action allowed: %s", scope, error)
        return None
    if count <= limit:
        return None
    return (window + 1) * period - now
