"""Reads for the API, serving and the scrape-time gauges: warehouse shots, models, live quality."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ingestion.models import IngestionRun
from ingestion.shots import TEAM_ABBREVIATIONS
from parivision import mongo
from parivision.errors import ApplicationError
from predictions.log import BACKFILL_SETTLED, LIVE_SETTLED, LoggedPrediction, logged_predictions
from training.ml.features import HISTORY_INPUTS, PlayerHistory
from training.models import DriftReport, ModelVersion, PipelineRun, PromotionDecision

# What a shooter's history is built from (training.ml.features.history_daily_counts).
HISTORY_FIELDS = HISTORY_INPUTS


def player_shots(*, player_ids: list[int]) -> list[dict[str, Any]]:
    """Every warehouse shot of these players, with the fields a history needs."""
    query: dict[str, Any] = {"player_id": player_ids[0]} if len(player_ids) == 1 else {"player_id": {"$in": player_ids}}
    projection = dict.fromkeys(HISTORY_FIELDS, 1) | {"_id": 0}
    return list(mongo.warehouse_collection(mongo.SHOTS).find(query, projection))


def shooter_history_documents(*, written_since: dt.datetime | None = None,
                              held: Mapping[int, int | None] | None = None) -> Iterator[dict[str, Any]] | None:
    """The store's player documents, all of them or those written since whose write count is not the one
    ``held`` gives (``parivision.mongo.documents_written``); None while the store has not been built."""
    from ingestion import history

    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
    if store.find_one({"_id": history.STATE_ID}, {"_id": 1}) is None:
        return None
    return mongo.documents_written(store, excluded_id=history.STATE_ID, projection={"d": 1, history.WRITES: 1},
                                   written_since=written_since, held=held)


def shooter_histories(*, player_ids: list[int]) -> dict[int, PlayerHistory] | None:
    """These players' histories from the shooter-history store, by ``_id`` (one query, no scan of
    the shots; a player without a record is left out); None while the store has not been built."""
    from ingestion import history

    wanted: list[Any] = [*player_ids, history.STATE_ID]
    documents = list(mongo.warehouse_collection(mongo.SHOOTER_HISTORY).find({"_id": {"$in": wanted}}, {"d": 1}))
    if not any(doc["_id"] == history.STATE_ID for doc in documents):
        return None
    return history.histories(doc for doc in documents if doc["_id"] != history.STATE_ID)


# --- warehouse shots, a page at a time ----------------------------------------------------


@dataclass(frozen=True)
class ShotFilters:
    season: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team: str | None = None
    player: str | None = None
    zone: str | None = None
    made: bool | None = None


@dataclass(frozen=True)
class ShotPage:
    shots: list[dict[str, Any]]
    next_cursor: str | None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _shots_query(filters: ShotFilters) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if filters.season:
        query["season"] = filters.season
    dates: dict[str, Any] = {}
    if filters.date_from:
        dates["$gte"] = _midnight(filters.date_from)
    if filters.date_to:
        dates["$lte"] = _midnight(filters.date_to)
    if dates:
        query["game_date"] = dates
    if filters.team:
        team = filters.team.strip()
        if team.isdigit():
            query["team_id"] = int(team)
        else:
            # A franchise code (all its names, old ones included) or a full team name.
            names = [name for name, code in TEAM_ABBREVIATIONS.items() if code == team.upper()]
            query["team_name"] = {"$in": names} if names else team
    if filters.player:
        player = filters.player.strip()
        query["player_id" if player.isdigit() else "player_name"] = int(player) if player.isdigit() else player
    if filters.zone:
        query["zone_basic"] = filters.zone
    if filters.made is not None:
        query["made"] = filters.made
    return query


def cursor_encode(*, game_date: dt.datetime, key: str) -> str:
    raw = json.dumps({"d": game_date.isoformat(), "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        return dt.datetime.fromisoformat(data["d"]), str(data["k"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApplicationError("is not a cursor this API returned", field="cursor", value=cursor,
                               code="invalid_cursor") from None


def shots_page(*, filters: ShotFilters, limit: int, cursor: str | None = None) -> ShotPage:
    """Shots in (game_date, _id) order after ``cursor``; the next cursor when there may be more.

    A keyset cursor (not an offset): pages stay stable while shots are added, and a page deep
    into the warehouse costs the same as the first.
    """
    query = _shots_query(filters)
    if cursor:
        after_date, after_key = cursor_decode(cursor)
        keyset = {"$or": [{"game_date": {"$gt": after_date}}, {"game_date": after_date, "_id": {"$gt": after_key}}]}
        query = {"$and": [query, keyset]} if query else keyset
    documents = list(
        mongo.warehouse_collection(mongo.SHOTS).find(query, {"ingested_at": 0})
        .sort([("game_date", 1), ("_id", 1)]).limit(limit + 1)
    )
    more = len(documents) > limit
    documents = documents[:limit]
    next_cursor = cursor_encode(game_date=documents[-1]["game_date"], key=documents[-1]["_id"]) if more else None
    return ShotPage(shots=documents, next_cursor=next_cursor)


# --- models --------------------------------------------------------------------------------


def model_versions(*, limit: int = 50) -> list[ModelVersion]:
    return list(ModelVersion.objects.order_by("-version")[:limit])


def decisions_by_version(versions: Iterable[int]) -> dict[int, list[PromotionDecision]]:
    found: dict[int, list[PromotionDecision]] = {}
    for decision in PromotionDecision.objects.filter(challenger_version__in=list(versions)).order_by("-created_at"):
        found.setdefault(decision.challenger_version, []).append(decision)
    return found


def champion_version_row() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_champion=True).order_by("-promoted_at", "-version").first()


def latest_drift_report() -> DriftReport | None:
    return DriftReport.objects.order_by("-created_at").first()


# --- live quality ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveScores:
    model_version: str
    settled: int
    accuracy: float
    log_loss: float
    brier: float


def live_scores(*, window: int | None = None, live: bool = True) -> list[LiveScores]:
    """Accuracy, log loss and Brier of each model version over its last ``window`` joined predictions.

    ``live=True`` (gauges, alerts, pages): only predictions made before their shot's outcome
    entered the platform. ``live=False``: the backfills, reported apart.
    """
    window = window or settings.LIVE_SCORES_WINDOW
    collection = mongo.warehouse_collection(mongo.PREDICTIONS)
    query = LIVE_SETTLED if live else BACKFILL_SETTLED
    scores = []
    for version in sorted(distinct_values(collection, "version", query), key=str):
        rows = latest_settled(collection, {**query, "version": version}, live=live, limit=window)
        if rows:
            scores.append(_score(str(version), rows))
    return scores


def latest_settled(collection: Any, query: dict[str, Any], *, live: bool, limit: int) -> list[LoggedPrediction]:
    """The newest ``limit`` settled predictions (live, or backfills) of the log documents ``query`` finds."""
    fields = {"p": 1, "key": 1, "made": 1, "live": 1, "settled": 1, "version": 1, "role": 1}
    rows: list[LoggedPrediction] = []
    for document in collection.find(query, fields).sort("_id", -1).batch_size(200):
        rows.extend(row for row in logged_predictions(document) if row.made is not None and row.live is live)
        if len(rows) >= limit:
            break
    return rows[:limit]


def backfill_scores(*, window: int | None = None) -> list[LiveScores]:
    """The same scores over backfills: predictions of shots whose outcome was already known."""
    return live_scores(window=window, live=False)


def distinct_values(collection: Any, field: str, query: dict[str, Any]) -> list[Any]:
    """``distinct`` by a one-field ``$group``: the stand-in's ``distinct`` turns "1" into 1."""
    pipeline = [{"$match": query}, {"$group": {"_id": f"${field}"}}]
    return [row["_id"] for row in collection.aggregate(pipeline) if row["_id"] is not None]


def _score(version: str, rows: list[LoggedPrediction]) -> LiveScores:
    eps = 1e-15
    correct = log_loss = brier = 0.0
    for row in rows:
        p = min(max(row.p, eps), 1 - eps)
        y = 1.0 if row.made else 0.0
        correct += 1.0 if (p >= 0.5) == (y == 1.0) else 0.0
        log_loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        brier += (p - y) ** 2
    n = len(rows)
    return LiveScores(model_version=version, settled=n, accuracy=correct / n, log_loss=log_loss / n, brier=brier / n)


# --- pipeline runs ------------------------------------------------------------------------


def pipeline_run_status(*, run_id: str) -> dict[str, Any]:
    """Where a run queued through the API stands: ``ml-<id>`` (ML pipeline) or a task id (ingestion)."""
    if run_id.startswith("ml-") and run_id[3:].isdigit():
        run = PipelineRun.objects.filter(pk=int(run_id[3:])).first()
        if run is None:
            raise _run_not_found(run_id)
        return {
            "run_id": run_id, "kind": "ml_pipeline", "status": run.status, "task_id": run.task_id or None,
            "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
            "step": run.step, "progress": run.progress, "message": run.message, "error": run.error,
            "detail": {"trigger": run.trigger, "forced": run.forced, "data": run.data},
        }  # fmt: skip
    if not _TASK_ID.fullmatch(run_id):
        raise _run_not_found(run_id)
    from parivision.celery import app

    result = app.AsyncResult(run_id)
    state = result.state  # PENDING also means "unknown": the record below tells them apart
    runs = list(IngestionRun.objects.filter(task_id=run_id).order_by("started_at"))
    queued_kind = _task_was_queued(run_id)
    if state == "PENDING" and not runs and not queued_kind:
        raise _run_not_found(run_id)
    last = runs[-1] if runs else None
    status = {"PENDING": "queued", "RECEIVED": "queued", "STARTED": "running", "RETRY": "running",
              "SUCCESS": "succeeded", "FAILURE": "failed", "REVOKED": "failed"}.get(state, state.lower())
    if status == "running" and last is not None and last.status != "running":
        # Its worker died and the run was resumed (or failed) by the sweeper under another task:
        # the run, not the dead task's last state, says where it stands.
        status = last.status
    return {
        "run_id": run_id, "kind": queued_kind or (last.kind if last else None), "status": status, "task_id": run_id,
        "created_at": last.started_at if last else None, "started_at": last.started_at if last else None,
        "finished_at": last.finished_at if last else None, "step": "", "progress": 100 if status == "succeeded" else 0,
        "message": "", "error": (last.error if last else "") or (str(result.result) if state == "FAILURE" else ""),
        "detail": {"celery_state": state, "ingestion_runs": [
            {"id": r.pk, "kind": r.kind, "status": r.status, "read": r.read, "inserted": r.inserted,
             "duplicates": r.duplicates, "rejected": r.rejected} for r in runs
        ]},
    }  # fmt: skip


_TASK_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f-]{36}")
QUEUED_KEY = "parivision:api-run:{}"


def _task_was_queued(task_id: str) -> str | None:
    """The kind of run queued under ``task_id`` (markers live a week), or None."""
    from predictions.redis_client import redis_client

    try:
        kind = redis_client().get(QUEUED_KEY.format(task_id))
        if isinstance(kind, bytes):
            return kind.decode()
        return kind or None
    except Exception:  # Redis away: treat as unknown rather than fail the status call
        return None


def _run_not_found(run_id: str) -> ApplicationError:
    return ApplicationError("is not a run queued through this API", field="run_id", value=run_id,
                            code="not_found", status=404)
