"""Reads of the stored analytics figures: every function is a few lookups by ``_id``, never a scan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from analytics import charts
from analytics.services import ALL, GLOBAL, STATUS, season_scope
from parivision import figures
from parivision.errors import ApplicationError

SMOE_SORTS = ("diff", "diff_raw", "attempts", "fg_pct", "xfg_pct", "pps", "xpps", "player_name", "team")


def status() -> figures.FigureStatus:
    """Whether the analytics figures are being computed (queued, running), done, failed or never computed."""
    return figures.status_of(name=STATUS)


def computed_version() -> int | None:
    meta = figures.generation_meta(scope=GLOBAL)
    return None if meta is None else meta.get("version")


def filter_options(*, season: str = "") -> dict[str, Any]:
    """Seasons and teams in the warehouse, and the players (of the season when one is chosen)."""
    options = figures.generation_get(scope=GLOBAL, key="options") or {"seasons": [], "teams": [], "players": []}
    players = options["players"]
    if season:
        meta = figures.generation_get(scope=season_scope(season), key="meta")
        players = [[p[0], p[1]] for p in (meta or {}).get("players", [])]
    return {"seasons": options["seasons"], "teams": options["teams"], "players": [p[1] for p in players],
            "player_ids": {p[1].lower(): p[0] for p in players}}  # fmt: skip


def player_id_for(text: str, *, season: str = "") -> int | None:
    """A player id from an id or a name (case-insensitive) among the stored players."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    return filter_options(season=season)["player_ids"].get(text.lower())


@dataclass(frozen=True)
class ChartQuery:
    season: str = ""
    team: str = ""
    player: str = ""


def shot_chart(*, query: ChartQuery) -> dict[str, Any]:
    """The stored chart for a season (or all), a team code (or all) and a player (or all)."""
    scope = season_scope(query.season) if query.season else GLOBAL
    player_id = player_id_for(query.player, season=query.season) if query.player else None
    if query.player and player_id is None:
        chart = None
    elif query.team and player_id is not None:
        # Team and player together: the player's chart, when the player played for that team.
        player = figures.generation_get(scope=GLOBAL, key=f"player:{player_id}") or {}
        chart = (figures.generation_get(scope=scope, key=f"chart:{ALL}:{player_id}")
                 if player.get("team") == query.team.upper() else None)  # fmt: skip
    else:
        player_key = player_id if player_id is not None else ALL
        chart = figures.generation_get(scope=scope, key=f"chart:{query.team or ALL}:{player_key}")
        if chart is None and query.team and query.team != query.team.upper():  # "bos" for BOS
            chart = figures.generation_get(scope=scope, key=f"chart:{query.team.upper()}:{player_key}")
    page = charts.chart_for_page(chart, version=computed_version())
    page["status"] = "ready" if chart is not None else _missing_state()
    return page


def _missing_state() -> str:
    """``computing`` while a refresh is queued or running, ``no_data`` otherwise."""
    return "computing" if status().computing else "no_data"


# --- matches ----------------------------------------------------------------------------------------


def match_dates() -> dict[str, str]:
    """Every game date (ISO) with its season."""
    return figures.generation_get(scope=GLOBAL, key="dates") or {}


def latest_game_date() -> dt.date | None:
    dates = match_dates()
    return dt.date.fromisoformat(max(dates)) if dates else None


def games_on(day: dt.date) -> list[dict[str, Any]]:
    season = match_dates().get(day.isoformat())
    if season is None:
        return []
    return figures.generation_get(scope=season_scope(season), key=f"day:{day.isoformat()}") or []


def match(*, game_id: str, day: dt.date | None = None) -> dict[str, Any] | None:
    """A game's expected and actual points, team by team (the game's date finds its season)."""
    dates = match_dates()
    seasons = [dates[day.isoformat()]] if day is not None and day.isoformat() in dates else sorted(set(dates.values()))
    for season in seasons:
        compact = figures.generation_get(scope=season_scope(season), key=f"match:{game_id}")
        if compact is not None:
            return charts.match_expand(compact)
    return None


# --- shot-making over expected ---------------------------------------------------------------------


def smoe_seasons() -> list[str]:
    options = figures.generation_get(scope=GLOBAL, key="options") or {}
    return list(options.get("seasons", []))


def smoe_board(*, season: str = "", sort: str = "diff", order: str = "desc", min_attempts: int | None = None,
               team: str = "", limit: int | None = None) -> dict[str, Any]:
    """The season's leaderboard (the latest season by default), filtered and sorted."""
    from django.conf import settings

    if sort not in SMOE_SORTS:
        raise ApplicationError(f"must be one of {', '.join(SMOE_SORTS)}", field="sort", value=sort)
    if order not in ("asc", "desc"):
        raise ApplicationError("must be asc or desc", field="order", value=order)
    seasons = smoe_seasons()
    season = season or (seasons[0] if seasons else "")
    if season and seasons and season not in seasons:
        raise ApplicationError(f"is not a season in the warehouse ({', '.join(seasons)})", field="season", value=season)
    board = figures.generation_get(scope=season_scope(season), key="smoe:board") if season else None
    minimum = settings.SMOE_MIN_ATTEMPTS if min_attempts is None else min_attempts
    if board is None:
        return {"season": season or None, "seasons": seasons, "version": None, "status": _missing_state(),
                "min_attempts": minimum, "prior": None, "count": 0, "results": []}  # fmt: skip
    rows = [r for r in board["rows"] if r["attempts"] >= minimum and (not team or r["team"] == team.upper())]
    rows.sort(key=lambda r: (r[sort], r["attempts"]), reverse=order == "desc")
    count = len(rows)
    return {"season": season, "seasons": seasons, "version": board["version"], "status": "ready",
            "min_attempts": minimum, "prior": board["prior"], "count": count,
            "results": rows[:limit] if limit else rows}  # fmt: skip


def smoe_player(*, player_id: int, season: str = "") -> dict[str, Any] | None:
    """A player's shot-making in a season (their latest by default): summary, zones, trend, shot chart."""
    player = figures.generation_get(scope=GLOBAL, key=f"player:{player_id}")
    if player is None:
        return None
    seasons = [s for s, _ in player["seasons"]][::-1]  # newest first
    if season and season not in seasons:
        raise ApplicationError(f"has no shots of player {player_id} (their seasons: {', '.join(seasons)})",
                               field="season", value=season)  # fmt: skip
    season = season or seasons[0]
    scope = season_scope(season)
    found = figures.generation_get_many(scope=scope, keys=[f"smoe:player:{player_id}", f"chart:{ALL}:{player_id}"])
    detail = found.get(f"smoe:player:{player_id}")
    return {
        "player_id": player_id, "player_name": player["name"], "team": player["team"], "season": season,
        "seasons": seasons, "status": "ready" if detail else _missing_state(),
        "summary": detail["summary"] if detail else None, "version": detail["version"] if detail else None,
        "zones": [{**z, "diff": round(z["fg_pct"] - z["xfg_pct"], 4)} for z in detail["zones"]] if detail else [],
        "trend": detail["trend"] if detail else None,
        "chart": charts.chart_for_page(found.get(f"chart:{ALL}:{player_id}"),
                                       version=detail["version"] if detail else None),
    }  # fmt: skip
