"""The replay feed's two endpoints, in VirtualBetsAPI's shape (plain JSON), behind ``FEED_TOKEN``.

The token comes in the ``X-Feed-Token`` header, ``Authorization: Bearer <token>``, or the
``token`` query parameter (VirtualBetsAPI-style clients only set the URL). ``/getdata/<n>``
takes an optional idempotency key (``key`` parameter or ``Idempotency-Key`` header): the same
key again returns the same records. ``/reset`` rewinds only on POST; GET (kept for old
clients) reports the cursor and says how to reset.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ingestion.feed import FeedRequestError, FeedUnavailable, feed_next, feed_reset, feed_status


def _given_token(request: HttpRequest) -> str:
    header = request.headers.get("X-Feed-Token", "")
    if header:
        return header
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return request.GET.get("token", "")


def _refused(request: HttpRequest) -> JsonResponse | None:
    """None when the request carries the feed token; else the 401/403/503 to answer."""
    expected = settings.FEED_TOKEN
    if not expected:
        return JsonResponse({"error": "the feed is closed: FEED_TOKEN is not configured", "field": "token"},
                            status=503)
    given = _given_token(request)
    if not given:
        return JsonResponse({"error": "token: the feed needs its token (X-Feed-Token header or ?token=)",
                             "field": "token"}, status=401)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return JsonResponse({"error": "token: not the feed's token", "field": "token"}, status=403)
    return None


@require_GET
def getdata(request: HttpRequest, n: str) -> JsonResponse:
    refused = _refused(request)
    if refused is not None:
        return refused
    key = request.GET.get("key") or request.headers.get("Idempotency-Key")
    try:
        records = feed_next(n=n, key=key)
    except FeedRequestError as error:
        return JsonResponse({"error": str(error), "field": error.field, "value": str(error.value)}, status=400)
    except FeedUnavailable as error:
        return JsonResponse({"error": str(error)}, status=503)
    return JsonResponse(records, safe=False)


def _public(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k not in ("loaded_at", "dataset")}


@csrf_exempt  # a machine endpoint authenticated by its token, not by a session cookie
@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest) -> JsonResponse:
    refused = _refused(request)
    if refused is not None:
        return refused
    if request.method != "POST":
        return JsonResponse({"reset": False, "message": "GET changes nothing: POST /reset rewinds the cursor",
                             **_public(feed_status())})
    try:
        status = feed_reset()
    except FeedUnavailable as error:
        return JsonResponse({"error": str(error)}, status=503)
    return JsonResponse({"reset": True, **_public(status)})
