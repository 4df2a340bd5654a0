"""Reads behind the model, data and match pages, with the expensive figures cached.

Figures that need the champion's predictions (calibration on its holdout, the shot chart,
a match's expected points) are computed once per model version and input, and kept in
Django's cache for ``INSIGHTS_CACHE_SECONDS``: the champion changes at most nightly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from backtests import selectors as shots_selectors
from ingestion.models import IngestionRun
from ingestion.shots import TEAM_ABBREVIATIONS
from parivision import mongo
from predictions import selectors as prediction_selectors
from training.ml.train import ShotModel
from training.models import ModelVersion, PromotionDecision
from training.registry import get_registry

T = TypeVar("T")
COURT_X = (-25.0, 25.0)  # feet from the hoop, shooter's left < 0
COURT_Y = (-5.25, 41.75)  # baseline to half court
BIN_FT = 2.5
CALIBRATION_BINS = 10


def cached(key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per key (and MLflow store) for INSIGHTS_CACHE_SECONDS."""
    full = "insights:" + hashlib.sha1(f"{settings.MLFLOW_TRACKING_URI}|{key}".encode()).hexdigest()
    value = cache.get(full)
    if value is None:
        value = compute()
        cache.set(full, value, settings.INSIGHTS_CACHE_SECONDS)
    return value


# --- the champion, loaded once per process --------------------------------------------------

_models: dict[tuple[str, int], ShotModel] = {}
_models_lock = threading.Lock()


def champion_row() -> ModelVersion | None:
    return prediction_selectors.champion_version_row()


def model_for(version: int) -> ShotModel:
    """A registered version: the one this process serves when it matches, else loaded once and kept."""
    from predictions import serving

    served = serving.served_champion()
    if served is not None and served.version == str(version):
        return served.model
    key = (settings.MLFLOW_TRACKING_URI, version)
    with _models_lock:
        if key not in _models:
            if len(_models) >= 2:
                _models.pop(next(iter(_models)))
            _models[key] = serving.single_threaded(get_registry().model_load(version=version))
        return _models[key]


# --- the model page ----------------------------------------------------------------------------


def promotion_of(row: ModelVersion) -> PromotionDecision | None:
    """The decision that made this version champion (the latest one that promoted it)."""
    return (PromotionDecision.objects.filter(challenger_version=row.version, promoted=True)
            .order_by("-created_at").first())  # fmt: skip


def versions_history(*, limit: int = 30) -> dict[str, Any]:
    """Versions oldest first with their holdout scores and whether a decision promoted them."""
    rows = list(ModelVersion.objects.order_by("-version")[:limit])[::-1]
    promoted = set(PromotionDecision.objects.filter(promoted=True).values_list("challenger_version", flat=True))
    return {
        "labels": [f"v{r.version}" for r in rows],
        "algorithms": [r.algorithm for r in rows],
        "accuracy": [_score(r, "accuracy") for r in rows],
        "roc_auc": [_score(r, "roc_auc") for r in rows],
        "log_loss": [_score(r, "log_loss") for r in rows],
        "promoted": [r.version in promoted for r in rows],
        "champion": [r.is_champion for r in rows],
        "created": [timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M") for r in rows],
    }


def _score(row: ModelVersion, name: str) -> float | None:
    value = (row.holdout_scores or {}).get(name)
    return round(float(value), 4) if isinstance(value, (int, float)) and np.isfinite(value) else None


def recent_decisions(*, limit: int = 12) -> list[PromotionDecision]:
    return list(PromotionDecision.objects.order_by("-created_at")[:limit])


def calibration_bins(*, y_true: Any, proba: Any, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Per equal-width probability bin: mean predicted probability, observed rate and count."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    index = np.clip((p * bins).astype(np.int64), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append({"predicted": round(float(p[mask].mean()), 4), "observed": round(float(y[mask].mean()), 4),
                         "count": int(mask.sum())})
    return rows


def model_figures(row: ModelVersion) -> dict[str, Any]:
    """Calibration on the version's own holdout and its feature importance (cached per version)."""

    def compute() -> dict[str, Any]:
        model = model_for(row.version)
        importance = list(model.feature_importance().items())[:15]
        span = (row.data or {}).get("holdout") or {}
        calibration: list[dict[str, float]] = []
        holdout_rows = 0
        if span.get("first_date") and span.get("last_date"):
            frame = shots_selectors.shots_between(date_from=dt.date.fromisoformat(span["first_date"]),
                                                  date_to=dt.date.fromisoformat(span["last_date"]))
            if not frame.empty:
                proba = shots_selectors.shots_probabilities(model=model, frame=frame)
                calibration = calibration_bins(y_true=frame["made"].to_numpy(), proba=proba)
                holdout_rows = len(frame)
        return {"importance": [{"feature": name, "importance": round(value, 5)} for name, value in importance],
                "calibration": calibration, "holdout_rows": holdout_rows,
                "holdout_span": [span.get("first_date"), span.get("last_date")]}  # fmt: skip

    return cached(f"model-figures:{row.version}", compute)


def live_quality(row: ModelVersion) -> dict[str, Any] | None:
    """The version's scores on settled live predictions beside its holdout scores, or None without traffic."""
    scores = {s.model_version: s for s in prediction_selectors.live_scores()}.get(str(row.version))
    if scores is None:
        return None
    holdout = row.holdout_scores or {}
    return {
        "settled": scores.settled,
        "metrics": [
            {"name": name, "holdout": _score(row, key), "live": round(live, 4),
             "better_high": key == "accuracy"}
            for name, key, live in (("Accuracy", "accuracy", scores.accuracy), ("Log loss", "log_loss", scores.log_loss),
                                    ("Brier", "brier", scores.brier))
            if key in holdout
        ],
    }  # fmt: skip


# --- the data page -----------------------------------------------------------------------------


def ingestion_daily(*, days: int = 60) -> dict[str, Any]:
    """Ingestion runs per day (count, shots inserted, records rejected) over the last ``days``."""
    since = timezone.now() - dt.timedelta(days=days)
    days_query = (IngestionRun.objects.filter(started_at__gte=since).annotate(day=TruncDate("started_at"))
            .values("day").order_by("day")
            .annotate(runs=Count("id"), inserted=Sum("inserted"), rejected=Sum("rejected")))  # fmt: skip
    rows = list(days_query)
    return {
        "labels": [str(r["day"]) for r in rows],
        "runs": [r["runs"] for r in rows],
        "inserted": [r["inserted"] or 0 for r in rows],
        "rejected": [r["rejected"] or 0 for r in rows],
    }


def recent_runs(*, limit: int = 8) -> list[IngestionRun]:
    return list(IngestionRun.objects.order_by("-started_at")[:limit])


@dataclass(frozen=True)
class ShotFilter:
    season: str = ""
    team: str = ""
    player: str = ""

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.season:
            query["season"] = self.season
        if self.team:
            names = [name for name, code in TEAM_ABBREVIATIONS.items() if code == self.team.upper()]
            query["team_name"] = {"$in": names} if names else self.team
        if self.player:
            player = self.player.strip()
            query["player_id" if player.isdigit() else "player_name"] = int(player) if player.isdigit() else player
        return query

    def key(self) -> str:
        return json.dumps([self.season, self.team.upper(), self.player.strip().lower()])


def shot_filter_options(*, season: str = "") -> dict[str, list[str]]:
    """Seasons and teams in the warehouse (and the season's players) for the shot chart's filters."""

    def compute() -> dict[str, list[str]]:
        shots = mongo.warehouse_collection(mongo.SHOTS)
        seasons = sorted((s for s in shots.distinct("season") if s), reverse=True)
        names = [t for t in shots.distinct("team_name") if t]
        teams = sorted({TEAM_ABBREVIATIONS.get(name, name) for name in names})
        players = sorted(p for p in shots.distinct("player_name", {"season": season} if season else {}) if p)
        return {"seasons": seasons, "teams": teams, "players": players[:3000]}

    return cached(f"shot-options:{season}", compute)


def _bin_edges() -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(COURT_X[0], COURT_X[1] + BIN_FT, BIN_FT), np.arange(COURT_Y[0], COURT_Y[1] + BIN_FT, BIN_FT))


def shot_chart(*, shot_filter: ShotFilter) -> dict[str, Any]:
    """Make rate and the champion's mean probability per 2.5 ft square, for the latest matching shots."""
    row = champion_row()
    version = row.version if row is not None else None

    def compute() -> dict[str, Any]:
        frame = shots_selectors.shots_query(shot_filter.query(), limit=settings.SHOT_CHART_MAX_SHOTS, newest_first=True)
        frame = frame.loc[frame["y_ft"] <= COURT_Y[1]]  # the odd heave from the other half
        if frame.empty:
            return {"shots": 0, "bins": [], "version": version, "bin_ft": BIN_FT}
        proba = (shots_selectors.shots_probabilities(model=model_for(version), frame=frame)
                 if version is not None else np.full(len(frame), np.nan))  # fmt: skip
        x_edges, y_edges = _bin_edges()
        frame = frame.assign(
            bx=np.clip(np.digitize(frame["x_ft"], x_edges) - 1, 0, len(x_edges) - 2),
            by=np.clip(np.digitize(frame["y_ft"], y_edges) - 1, 0, len(y_edges) - 2),
            p=proba, made_f=frame["made"].astype(float),
        )
        grouped = frame.groupby(["bx", "by"]).agg(n=("made_f", "size"), rate=("made_f", "mean"), p=("p", "mean"))
        bins = [
            {"x": round(float(x_edges[bx] + BIN_FT / 2), 2), "y": round(float(y_edges[by] + BIN_FT / 2), 2),
             "n": int(g["n"]), "rate": round(float(g["rate"]), 4),
             "p": None if pd.isna(g["p"]) else round(float(g["p"]), 4)}
            for (bx, by), g in grouped.iterrows()
        ]  # fmt: skip
        return {
            "shots": len(frame), "bins": bins, "version": version, "bin_ft": BIN_FT,
            "make_rate": round(float(frame["made_f"].mean()), 4),
            "mean_probability": None if version is None else round(float(np.nanmean(proba)), 4),
            "first_date": str(frame["game_date"].min().date()), "last_date": str(frame["game_date"].max().date()),
        }  # fmt: skip

    return cached(f"shot-chart:{version}:{shot_filter.key()}", compute)


# --- the match page ------------------------------------------------------------------------------


def latest_game_date() -> dt.date | None:
    doc = mongo.warehouse_collection(mongo.SHOTS).find_one({}, {"game_date": 1}, sort=[("game_date", -1)])
    return doc["game_date"].date() if doc else None


def games_on(day: dt.date) -> list[dict[str, Any]]:
    """The games of one date: id, home and away team."""
    midnight = dt.datetime(day.year, day.month, day.day)
    cursor = mongo.warehouse_collection(mongo.SHOTS).find(
        {"game_date": midnight}, {"game_id": 1, "home_team": 1, "away_team": 1, "_id": 0}
    )
    games: dict[str, dict[str, Any]] = {}
    for doc in cursor:
        games.setdefault(doc["game_id"], {"game_id": doc["game_id"], "home": doc.get("home_team") or "?",
                                          "away": doc.get("away_team") or "?", "shots": 0})["shots"] += 1  # fmt: skip
    return sorted(games.values(), key=lambda g: g["game_id"])


def elapsed_minutes(*, period: Any, seconds_left: Any) -> np.ndarray:
    """Game clock as minutes since tip-off (12-minute quarters, 5-minute overtimes)."""
    period = np.asarray(period, dtype=np.float64)
    left = np.asarray(seconds_left, dtype=np.float64) / 60.0
    regulation = (period - 1) * 12 + (12 - left)
    overtime = 48 + (period - 5) * 5 + (5 - np.minimum(left, 5))
    return np.where(period <= 4, regulation, overtime)


def match_curve(*, game_id: str) -> dict[str, Any] | None:
    """Each team's cumulative expected field-goal points (2 or 3 x p) against actual ones, shot by shot."""
    row = champion_row()
    version = row.version if row is not None else None

    def compute() -> dict[str, Any] | None:
        frame = shots_selectors.shots_query({"game_id": game_id})
        if frame.empty:
            return None
        frame = frame.assign(minute=elapsed_minutes(period=frame["period"], seconds_left=frame["seconds_left"]))
        frame = frame.sort_values(["minute", "event_id"], kind="stable").reset_index(drop=True)
        proba = (shots_selectors.shots_probabilities(model=model_for(version), frame=frame)
                 if version is not None else None)  # fmt: skip
        value = np.where(frame["shot_type"] == "3PT", 3.0, 2.0)
        first = frame.iloc[0]
        teams = []
        for _, shots in frame.groupby("team_id", sort=False):
            team = str(shots["team_name"].iloc[0])
            index = shots.index.to_numpy()
            actual = np.cumsum(value[index] * shots["made"].to_numpy())
            expected = np.cumsum(value[index] * proba[index]) if proba is not None else None
            teams.append({
                "team": team, "code": TEAM_ABBREVIATIONS.get(team, team), "shots": len(index),
                "made": int(shots["made"].sum()), "actual": float(actual[-1]),
                "expected": None if expected is None else round(float(expected[-1]), 2),
                "actual_curve": [{"x": round(float(m), 2), "y": float(a)} for m, a in zip(shots["minute"], actual, strict=True)],
                "expected_curve": [] if expected is None else [
                    {"x": round(float(m), 2), "y": round(float(e), 2)} for m, e in zip(shots["minute"], expected, strict=True)],
                "points": [{"x": float(r.x_ft), "y": float(r.y_ft), "made": bool(r.made)} for r in shots.itertuples()],
            })  # fmt: skip
        return {
            "game_id": game_id, "date": str(first["game_date"].date()), "home": first["home_team"],
            "away": first["away_team"], "season": first["season"], "shots": len(frame), "version": version,
            "teams": teams,
        }  # fmt: skip

    return cached(f"match:{version}:{game_id}", compute)
