"""The replay feed's two endpoints, in VirtualBetsAPI's shape (plain JSON, GET)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ingestion.feed import FeedRequestError, FeedUnavailable, feed_next, feed_reset


@require_GET
def getdata(request: HttpRequest, n: str) -> JsonResponse:
    try:
        records = feed_next(n=n)
    except FeedRequestError as error:
        return JsonResponse(
            {"error": str(error), "field": error.field, "value": error.value}, status=400
        )
    except FeedUnavailable as error:
        return JsonResponse({"error": str(error)}, status=503)
    return JsonResponse(records, safe=False)


@require_GET
def reset(request: HttpRequest) -> JsonResponse:
    try:
        status = feed_reset()
    except FeedUnavailable as error:
        return JsonResponse({"error": str(error)}, status=503)
    return JsonResponse({"reset": True, **{k: v for k, v in status.items() if k != "loaded_at"}})
