"""Liveness (``/healthz``) and readiness (``/readyz``) with the state of each dependency.

``/healthz`` and the bare status of ``/readyz`` (``ready`` 200 / ``unavailable`` 503) are public:
load balancers and orchestrators need no secret. Which dependency failed, and how, is only for
operators (``operator_allowed``): a bearer ``METRICS_TOKEN`` or an address in
``METRICS_ALLOWED_NETWORKS``, the same rule as ``/metrics``.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from parivision import mongo
from parivision.middleware import address_in, client_ip


def operator_allowed(request: HttpRequest) -> bool:
    """A bearer METRICS_TOKEN, or a client address inside METRICS_ALLOWED_NETWORKS."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    return address_in(client_ip(request), settings.METRICS_ALLOWED_NETWORKS)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def check_mongodb() -> str:
    mongo.ping(timeout_ms=1_500)
    return "ok"


def check_redis() -> str:
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1.5, socket_timeout=1.5)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


# Further checks (the served model) register themselves here from their apps.
READINESS_CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "mongodb": check_mongodb,
    "redis": check_redis,
}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


# The public answer is computed at most once a second per process: /readyz cannot be used to
# make the web open connections to every store as fast as a client can ask.
PUBLIC_READY_CACHE_SECONDS = 1.0
_public_ready: tuple[float, bool] = (0.0, False)
_public_lock = threading.Lock()


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    global _public_ready
    if not operator_allowed(request):
        with _public_lock:
            checked_at, ready = _public_ready
            if time.monotonic() - checked_at >= PUBLIC_READY_CACHE_SECONDS:
                ready = readiness()[0]
                _public_ready = (time.monotonic(), ready)
        return JsonResponse({"status": "ready" if ready else "unavailable"}, status=200 if ready else 503)
    ready, checks = readiness()
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    checks: dict[str, dict[str, object]] = {}
    ready = True
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
            checks[name] = {"ok": True, "detail": detail}
        except Exception as error:  # each failure is reported, never raised: this is the report
            ready = False
            checks[name] = {"ok": False, "detail": f"{type(error).__name__}: {error}"[:300]}
        checks[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return ready, checks
