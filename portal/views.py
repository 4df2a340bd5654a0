"""The front page: what PariVision does, shown by the product itself.

Everything comes from stored figures or small indexed reads: the shot about to be played
(the betting app's own payload, the one the play page shows, without its key: an open
shot's outcome is never sent), the champion and its live quality, today's bettors, the
last ingestion and the alerts firing (``analytics.status``), and the best shot-makers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from analytics import selectors as analytics_selectors
from analytics.status import live_status
from betting import selectors as betting_selectors
from ingestion.figures import ingestion_figures, run_summary
from ingestion.models import IngestionRun
from predictions.selectors import champion_version_row

# What of an open shot the front page may show: never its outcome, never its key.
HIDDEN_SHOT_FIELDS = ("shot_key", "made", "hidden_made")


def next_shot() -> dict[str, Any] | None:
    shot = betting_selectors.open_shot()
    if shot is None:
        return None
    payload = betting_selectors.shot_payload(shot, reveal=False)
    return {key: value for key, value in payload.items() if key not in HIDDEN_SHOT_FIELDS}


def champion_card() -> dict[str, Any] | None:
    row = champion_version_row()
    if row is None:
        return None
    live = ((live_status() or {}).get("live") or {}).get(str(row.version))
    return {"version": row.version, "algorithm": row.algorithm, "promoted_at": row.promoted_at,
            "holdout": row.holdout_scores or {}, "live": live}  # fmt: skip


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    status = live_status()
    stored = ingestion_figures() or {}
    board = analytics_selectors.smoe_board(limit=3)
    context = {
        "shot": next_shot(),
        "champion": champion_card(),
        "today": betting_selectors.bettors_today(),
        "last_run": run_summary(IngestionRun.objects.order_by("-started_at").first()),
        "warehouse_shots": (stored.get("counts") or {}).get("warehouse_shots"),
        "alerts": None if status is None else status["alerts"],
        "alerts_source": None if status is None else status["alerts_source"],
        "shot_makers": board["results"], "shot_making_season": board["season"],
    }
    return render(request, "portal/home.html", context)


@require_GET
@never_cache
def home_shot_json(request: HttpRequest) -> JsonResponse:
    """The shot about to be played, for the front page's refresh (same fields as the page: no outcome, no key)."""
    return JsonResponse({"shot": next_shot()})
