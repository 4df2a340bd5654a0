"""Computing the warehouse figures the pages read: shot charts, match views, shot-making over expected.

One pass per season: the season's shots are read once, priced by the champion (with the
shooters' histories, exactly as serving does), and every figure of that season is written
as one generation of the ``season:<season>`` scope (charts per team and per player, each
game's match view, the games of each day, the shot-making leaderboard and each player's
page). Then the ``global`` scope is rebuilt from the seasons' stored figures alone (all
seasons' charts are sums of the seasons'; no shot is read again).

When: after a promotion every season is recomputed (``figures_refresh_after_promotion``);
after new shots only their seasons, at most once per ``FIGURES_REFRESH_DELAY_SECONDS``
(``figures_refresh_after_ingest``, a few cache calls from the transform). A season whose
figures were priced by another version than the champion's is recomputed by any refresh.
One refresh runs at a time (a lock in the shared cache); a refresh that finds it taken is
queued again for later rather than racing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.cache import cache

from analytics import charts, smoe
from ingestion.shots import TEAM_ABBREVIATIONS
from parivision import figures

if TYPE_CHECKING:
    from training.ml.train import ShotModel

logger = logging.getLogger(__name__)

GLOBAL = "global"
STATUS = "analytics"
LOCK_KEY = "analytics:refresh-lock"
PENDING_KEY = "analytics:pending:{}"
INGESTION_PENDING_KEY = "analytics:ingestion-figures-pending"
ALL = "*"


def season_scope(season: str) -> str:
    return f"season:{season}"


def team_code(name: Any) -> str:
    name = str(name or "")
    return TEAM_ABBREVIATIONS.get(name, name)


# --- reading and pricing a season --------------------------------------------------------------


def champion_model() -> tuple[int | None, ShotModel | None]:
    """The champion's version and model (loaded once per worker process), or (None, None)."""
    from predictions.selectors import champion_version_row
    from training.services.figures import model_load_for_figures

    row = champion_version_row()
    if row is None:
        return None, None
    return row.version, model_load_for_figures(version=row.version)


def season_shots(*, season: str, model: ShotModel | None) -> pd.DataFrame:
    """The season's canonical shots with ``p`` (the champion's probability, NaN without one), team and value."""
    from backtests.selectors import shots_probabilities
    from training.services.data import shots_frame

    frame = shots_frame(seasons=[season])
    if frame.empty:
        return frame
    proba = shots_probabilities(model=model, frame=frame) if model is not None else np.full(len(frame), np.nan)
    return frame.assign(p=proba, team=frame["team_name"].map(team_code),
                        value=np.where(frame["shot_type"] == "3PT", 3.0, 2.0))  # fmt: skip


# --- one season -------------------------------------------------------------------------------------


def _smoe_values(frame: pd.DataFrame, *, season: str, version: int) -> dict[str, Any]:
    table, priors = smoe.shot_making_table(frame, min_attempts=settings.SMOE_MIN_ATTEMPTS)
    prior = priors.get(season)
    rows = [_smoe_row(r) for r in table.itertuples(index=False)]
    values: dict[str, Any] = {"smoe:board": {
        "season": season, "version": version, "rows": rows,
        "prior": {"tau": round(float(np.sqrt(prior.tau2)), 5) if prior else 0.0, "players": prior.players if prior else 0,
                  "min_attempts": settings.SMOE_MIN_ATTEMPTS},
    }}  # fmt: skip
    by_player = {r["player_id"]: r for r in rows}
    for player_id, shots in frame.groupby("player_id", sort=False):
        daily = shots.assign(made_i=shots["made"].astype(np.int64)).groupby("game_date", sort=True).agg(
            n=("made_i", "size"), made=("made_i", "sum"), p_sum=("p", "sum"))  # fmt: skip
        zones = shots.assign(made_i=shots["made"].astype(np.int64)).groupby("zone_basic", sort=True).agg(
            n=("made_i", "size"), made=("made_i", "sum"), p_sum=("p", "sum"))  # fmt: skip
        values[f"smoe:player:{int(player_id)}"] = {
            "season": season, "version": version, "summary": by_player[int(player_id)],
            "trend": {"dates": [str(d.date()) for d in daily.index], "n": daily["n"].astype(int).tolist(),
                      "made": daily["made"].astype(int).tolist(), "p_sum": [round(float(v), 4) for v in daily["p_sum"]]},
            "zones": [{"zone": str(z), "n": int(r.n), "made": int(r.made), "fg_pct": round(r.made / r.n, 4),
                       "xfg_pct": round(float(r.p_sum) / r.n, 4)} for z, r in zip(zones.index, zones.itertuples(), strict=True)],
        }  # fmt: skip
    return values


def _smoe_row(row: Any) -> dict[str, Any]:
    return {
        "player_id": int(row.player_id), "player_name": str(row.player_name), "team": str(row.team),
        "season": str(row.season), "attempts": int(row.attempts), "made": int(row.made),
        "fg_pct": round(float(row.fg_pct), 4), "xfg_pct": round(float(row.xfg_pct), 4),
        "diff_raw": round(float(row.diff_raw), 4), "diff": round(float(row.diff), 4),
        "diff_low": round(float(row.diff_low), 4), "diff_high": round(float(row.diff_high), 4),
        "pps": round(float(row.pps), 4), "xpps": round(float(row.xpps), 4),
    }  # fmt: skip


def season_values(frame: pd.DataFrame, *, season: str, version: int | None) -> dict[str, Any]:
    """Every stored figure of one priced season, by key."""
    values: dict[str, Any] = {}
    binned = charts.bin_columns(frame)
    values[f"chart:{ALL}:{ALL}"] = charts.chart_sums(binned)
    for code, rows in binned.groupby("team", sort=True):
        values[f"chart:{code}:{ALL}"] = charts.chart_sums(rows)
    for player_id, rows in binned.groupby("player_id", sort=True):
        values[f"chart:{ALL}:{int(player_id)}"] = charts.chart_sums(rows)
    if version is not None:
        values.update(_smoe_values(frame, season=season, version=version))
    codes = {name: team_code(name) for name in frame["team_name"].astype(str).unique()}
    days: dict[str, list[dict[str, Any]]] = {}
    for game_id, game in frame.groupby("game_id", sort=True):
        compact = charts.match_compact(game, team_codes=codes, version=version)
        values[f"match:{game_id}"] = compact
        days.setdefault(compact["date"], []).append({"game_id": str(game_id), "home": compact["home"] or "?",
                                                     "away": compact["away"] or "?", "shots": len(compact["t"])})  # fmt: skip
    for day, games in days.items():
        values[f"day:{day}"] = games
    latest = frame.sort_values("game_date", kind="stable").groupby("player_id").tail(1)
    attempts = frame.groupby("player_id").size()
    values["meta"] = {
        "season": season, "version": version, "shots": len(frame),
        "players": sorted([[int(r.player_id), str(r.player_name), str(r.team), int(attempts[r.player_id])]
                           for r in latest.itertuples()], key=lambda p: p[1]),
        "teams": sorted(set(frame["team"].astype(str))), "dates": sorted(days),
        "first_date": str(frame["game_date"].min().date()), "last_date": str(frame["game_date"].max().date()),
    }  # fmt: skip
    return values


def season_refresh(*, season: str, version: int | None, model: ShotModel | None) -> dict[str, Any]:
    """Recompute and publish every figure of ``season``; returns its meta."""
    frame = season_shots(season=season, model=model)
    values = season_values(frame, season=season, version=version) if not frame.empty else {
        "meta": {"season": season, "version": version, "shots": 0, "players": [], "teams": [], "dates": []}}
    scope = season_scope(season)
    generation = figures.generation_new(scope=scope)
    figures.generation_write(generation=generation, values=values)
    figures.generation_publish(scope=scope, generation=generation,
                               meta={"version": version, "shots": values["meta"]["shots"]})  # fmt: skip
    return values["meta"]


# --- all seasons ------------------------------------------------------------------------------------


def global_refresh(*, seasons: Iterable[str], version: int | None) -> dict[str, Any]:
    """Rebuild the all-seasons figures from the seasons' stored ones (no shot is read)."""
    metas = {}
    for season in seasons:
        meta = figures.generation_get(scope=season_scope(season), key="meta")
        if meta and meta.get("shots"):
            metas[season] = meta
    values: dict[str, Any] = {}
    teams = sorted({t for m in metas.values() for t in m["teams"]})
    players: dict[int, dict[str, Any]] = {}
    for season in sorted(metas):  # oldest first: the latest name and team win
        for player_id, name, team, attempts in metas[season]["players"]:
            entry = players.setdefault(player_id, {"name": name, "team": team, "seasons": []})
            entry.update(name=name, team=team)
            entry["seasons"].append([season, attempts])
    per_season: dict[str, dict[str, Any]] = {}
    for season, meta in metas.items():
        keys = [f"chart:{ALL}:{ALL}", *(f"chart:{t}:{ALL}" for t in meta["teams"]),
                *(f"chart:{ALL}:{p[0]}" for p in meta["players"])]  # fmt: skip
        per_season[season] = figures.generation_get_many(scope=season_scope(season), keys=keys)
    for key in [f"chart:{ALL}:{ALL}", *(f"chart:{t}:{ALL}" for t in teams), *(f"chart:{ALL}:{p}" for p in players)]:
        values[key] = charts.chart_merge(charts_of.get(key) for charts_of in per_season.values())
    values["options"] = {
        "seasons": sorted(metas, reverse=True), "teams": teams,
        "players": sorted(([pid, p["name"]] for pid, p in players.items()), key=lambda p: p[1]),
        "version": version,
    }  # fmt: skip
    for player_id, player in players.items():
        values[f"player:{player_id}"] = player
    values["dates"] = {day: season for season, meta in metas.items() for day in meta["dates"]}
    generation = figures.generation_new(scope=GLOBAL)
    figures.generation_write(generation=generation, values=values)
    figures.generation_publish(scope=GLOBAL, generation=generation,
                               meta={"version": version, "seasons": sorted(metas)})  # fmt: skip
    return values["options"]


# --- the refresh ------------------------------------------------------------------------------------


def _stale_seasons(seasons: list[str], version: int | None) -> list[str]:
    """Seasons never computed, or priced by a version that is no longer the champion."""
    stale = []
    for season in seasons:
        meta = figures.generation_meta(scope=season_scope(season))
        if meta is None or meta.get("version") != version:
            stale.append(season)
    return stale


def figures_refresh(*, seasons: list[str] | None = None, max_seasons: int | None = None) -> dict[str, Any]:
    """Recompute ``seasons`` (all when None, plus any stale one), then the all-seasons figures.

    With ``max_seasons``, at most that many seasons are recomputed (the all-seasons figures
    still are); the others are returned as ``remaining`` for a next run, so one task never
    holds a worker for the whole warehouse. Returns ``{"deferred": True}`` without doing
    anything when another refresh holds the lock.
    """
    from training.services.data import seasons_available

    remaining: list[str] = []
    token = uuid.uuid4().hex
    if not cache.add(LOCK_KEY, token, timeout=settings.FIGURES_TIME_LIMIT):
        return {"deferred": True}
    try:
        for season in seasons or []:
            cache.delete(PENDING_KEY.format(season))  # shots arriving from now on schedule another refresh
        figures.status_set(name=STATUS, state=figures.RUNNING)
        version, model = champion_model()
        available = seasons_available()
        todo = available if seasons is None else [s for s in available if s in seasons]
        todo = sorted(set(todo) | set(_stale_seasons(available, version)), reverse=True)  # the latest first
        remaining = todo[max_seasons:] if max_seasons else []
        todo = todo[:max_seasons] if max_seasons else todo
        for season in todo:
            figures.status_set(name=STATUS, state=figures.RUNNING, message=f"season {season}")
            season_refresh(season=season, version=version, model=model)
        options = global_refresh(seasons=available, version=version)
    except Exception as error:
        figures.status_set(name=STATUS, state=figures.FAILED, message=f"{type(error).__name__}: {error}")
        raise
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)
    figures.status_set(name=STATUS, state=figures.QUEUED if remaining else figures.DONE,
                       message=f"{len(remaining)} season(s) to go" if remaining else "")
    return {"deferred": False, "version": version, "seasons": todo, "remaining": remaining,
            "all_seasons": options["seasons"]}


def figures_refresh_enqueue(*, seasons: list[str] | None = None, countdown: int = 0) -> None:
    from analytics.tasks import refresh_figures

    figures.status_set(name=STATUS, state=figures.QUEUED)
    refresh_figures.apply_async(kwargs={"seasons": seasons}, countdown=countdown)


def figures_refresh_after_promotion() -> None:
    """A new champion: every figure it prices is recomputed (and the model page's figures)."""
    try:
        figures_refresh_enqueue(seasons=None)
    except Exception:  # the broker is away: the next refresh finds every season stale
        logger.exception("could not queue the figure refresh after a promotion")


def figures_refresh_after_ingest(*, seasons: Iterable[str]) -> None:
    """New shots in ``seasons``: one refresh per season within ``FIGURES_REFRESH_DELAY_SECONDS``.

    Called by the ingestion services after each written batch: a cache call per season, and a
    queued task only when none is pending for that season. It never fails the ingestion.
    """
    try:
        due = [s for s in sorted({str(s) for s in seasons if s})
               if cache.add(PENDING_KEY.format(s), 1, timeout=settings.FIGURES_REFRESH_DELAY_SECONDS + 3_600)]
        if due:
            figures_refresh_enqueue(seasons=due, countdown=settings.FIGURES_REFRESH_DELAY_SECONDS)
        if cache.add(INGESTION_PENDING_KEY, 1, timeout=30):  # beat refreshes them every minute anyway
            from ingestion.tasks import refresh_figures as refresh_ingestion_figures

            refresh_ingestion_figures.apply_async(countdown=5)
    except Exception:
        logger.exception("could not queue the figure refresh after new shots")
