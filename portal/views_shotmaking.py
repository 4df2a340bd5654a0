"""Shot-making over expected: the sortable leaderboard and a player's page (public, read-only).

Both read what ``analytics.refresh_figures`` stored; a bad query parameter is explained on the
page, never a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from analytics import selectors
from parivision.errors import ApplicationError

PAGE_ROWS = 100  # the rest behind "show all": a page of 400 rows renders slowly on a phone too
COLUMNS = [
    ("player_name", "Player", ""), ("team", "Team", "hide-phone"), ("attempts", "FGA", "num"),
    ("fg_pct", "FG%", "num"), ("xfg_pct", "xFG%", "num hide-phone"), ("diff", "Over expected", "num"),
    ("pps", "Pts/shot", "num hide-phone"), ("xpps", "xPts/shot", "num hide-phone"),
]  # fmt: skip


def _int_param(request: HttpRequest, name: str, *, default: int | None, low: int, high: int) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApplicationError(f"must be a whole number from {low} to {high}", field=name, value=raw[:20])
    return int(raw)


@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    params: dict[str, Any] = {"season": request.GET.get("season", "")[:7], "team": request.GET.get("team", "")[:3],
              "sort": request.GET.get("sort", "diff")[:20], "order": request.GET.get("order", "desc")[:4]}  # fmt: skip
    error = None
    try:
        params["min_attempts"] = _int_param(request, "min_attempts", default=None, low=1, high=5000)
        board = selectors.smoe_board(**params)
    except ApplicationError as refused:
        error = f"{refused.field} = {str(refused.value)!r}: {refused.message}."
        params.update(sort="diff", order="desc", min_attempts=None)
        board = selectors.smoe_board(season="", team="", sort="diff", order="desc", min_attempts=None)
    options = selectors.filter_options()
    columns = [{"key": key, "label": label, "css": css,
                "order": "asc" if key == board_sort(params) and params["order"] == "desc" else "desc",
                "active": key == board_sort(params)} for key, label, css in COLUMNS]  # fmt: skip
    shown = board["results"] if request.GET.get("all") == "1" else board["results"][:PAGE_ROWS]
    base = reverse("portal:shot-making-player", args=[0]).rsplit("0/", 1)[0]
    season = urlencode({"season": board["season"] or ""})
    rows = [{**row, "url": f"{base}{row['player_id']}/?{season}"} for row in shown]
    return render(request, "portal/shotmaking/leaderboard.html", {
        "board": board, "params": params, "error": error, "columns": columns, "teams": options["teams"],
        "rows": rows, "more": len(board["results"]) - len(rows),
    })  # fmt: skip


def board_sort(params: dict[str, Any]) -> str:
    return str(params.get("sort") or "diff")


@require_GET
def player(request: HttpRequest, player_id: int) -> HttpResponse:
    season = request.GET.get("season", "")[:7]
    error = None
    try:
        detail = selectors.smoe_player(player_id=player_id, season=season)
    except ApplicationError as refused:
        error = f"{refused.field} = {str(refused.value)!r}: {refused.message}."
        detail = selectors.smoe_player(player_id=player_id)
    if detail is None:
        raise Http404("No stored shot-making figures for this player.")
    return render(request, "portal/shotmaking/player.html", {"detail": detail, "error": error})
