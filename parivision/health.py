"""Liveness (``/healthz``) and readiness (``/readyz``) with the state of each dependency."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from parivision import mongo


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


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
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
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
