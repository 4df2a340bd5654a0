"""Prediction services: shots in, calibrated probabilities out; the log, outcomes, tokens, runs."""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from knox.models import AuthToken

from ingestion import court
from ingestion.shots import normalise_game_id, parse_shot_key, season_for, shot_key
from parivision import mongo
from parivision.errors import ApplicationError
from predictions import history, serving, shadow
from predictions.game_context import records_with_game_context
from predictions.log import log_bundle, made_at_of, prediction_log_append
from predictions.metrics import PredictionTimer
from training.ml.context import NO_PREVIOUS, OPPONENT_CONTEXT, SINCE_CAP, TEAM_CONTEXT

THREE_POINT_ZONES = tuple(sorted(court.THREE_POINT_ZONES))


# --- API input -> the canonical shot the model reads ------------------------------------------


class ShotInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def shot_canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    """A validated API shot -> the canonical fields the feature pipeline reads, plus context.

    Zones, shot type and distance are derived from x/y (feet from the hoop) when not given,
    the way NBA.com labels them; without x/y the zone is required. Unknown action types and
    players are fine: the model has a shared column and the league prior for them.
    """
    x, y = data.get("x_ft"), data.get("y_ft")
    if (x is None) != (y is None):
        missing = "y_ft" if y is None else "x_ft"
        raise ShotInputError(missing, "give both x_ft and y_ft, or neither (and a zone_basic)")
    zone_basic, zone_area, zone_range = data.get("zone_basic"), data.get("zone_area"), data.get("zone_range")
    shot_type, distance = data.get("shot_type"), data.get("distance_ft")
    # The importer's cross-field rule (ingestion.court): fields given together must agree.
    found = court.contradictions(x_ft=x, y_ft=y, distance_ft=distance, zone_basic=zone_basic, zone_area=zone_area,
                                 zone_range=zone_range, shot_type=shot_type)  # fmt: skip
    if found:
        raise ShotInputError(found[0].fields[0], found[0].message)
    if x is not None:
        assert y is not None  # both or neither, checked above
        zone = court.zone_of(x, y)
        zone_basic = zone_basic or zone.basic
        zone_area = zone_area or zone.name
        zone_range = zone_range or zone.range
        shot_type = shot_type or zone.shot_type.split()[0]
        if distance is None:
            distance = float(court.distance_of(x, y))
    elif zone_basic is None:
        raise ShotInputError("zone_basic", "give x_ft and y_ft, or a zone_basic")
    if shot_type is None:
        shot_type = "3PT" if zone_basic in THREE_POINT_ZONES else "2PT"
    game_date = data["game_date"]
    game_day = dt.datetime(game_date.year, game_date.month, game_date.day)
    home_away = data.get("home_away")
    record = {
        "player_id": data["player_id"],
        "game_date": game_day,
        "season": data.get("season") or season_for(game_day),
        "season_type": data.get("season_type") or "Regular Season",
        "is_home": None if home_away is None else home_away == "home",
        "position": data.get("position"),
        "period": data["period"],
        "seconds_left": data["seconds_left"],
        "action_type": data.get("action_type") or "Jump Shot",
        "shot_type": shot_type,
        "zone_basic": zone_basic,
        "zone_area": zone_area,
        "zone_range": zone_range,
        "distance_ft": distance,
        "x_ft": x,
        "y_ft": y,
    }
    record.update(_game_context_given(data))
    key, game_id = _shot_key_of(data)
    context = {name: data.get(name) for name in ("player_name", "team", "opponent") if data.get(name) is not None}
    return {"record": record, "shot_key": key, "context": context, "game_id": game_id,
            "event_id": data.get("event_id")}


# team_previous_shot -> team_prev_missed (training/ml/context.py: 1 missed, 0 made, -1 none yet); the same
# for opponent_previous_shot -> opponent_prev_missed.
_PREVIOUS_SHOT = {"missed": 1.0, "made": 0.0, "none": NO_PREVIOUS}
_GIVEN_PAIRS = (("team_previous_shot", TEAM_CONTEXT), ("opponent_previous_shot", OPPONENT_CONTEXT))


def _game_context_given(data: Mapping[str, Any]) -> dict[str, float]:
    """The team's and the opponent's previous shot of the game as the caller gives them (a pair left out:
    let the warehouse say)."""
    if data.get("opponent_previous_shot") is not None and data.get("team_previous_shot") is None:
        # The model never learned a known opponent's shot beside an unknown team's: give both, or the team's.
        raise ShotInputError("team_previous_shot", "is required with opponent_previous_shot")
    given: dict[str, float] = {}
    for field, (missed_name, since_name) in _GIVEN_PAIRS:
        previous, seconds = data.get(field), data.get(f"{field}_seconds")
        if previous is None:
            if seconds is not None:
                raise ShotInputError(f"{field}_seconds", f"give it with {field} (made or missed)")
            continue
        if previous == "none":
            if seconds is not None:
                raise ShotInputError(f"{field}_seconds", f"must be absent when {field} is none (no earlier shot)")
            given.update({missed_name: NO_PREVIOUS, since_name: SINCE_CAP})
            continue
        if seconds is None:
            raise ShotInputError(f"{field}_seconds",
                                 f"is required when {field} is {previous} (game seconds since that shot)")
        given.update({missed_name: _PREVIOUS_SHOT[previous], since_name: min(float(seconds), SINCE_CAP)})
    return given


def _shot_key_of(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The warehouse key of the shot and its game, when the caller identifies it (its prediction is joined
    to the outcome; its game's earlier shots give its context).

    ``shot_key`` (the ``key`` of ``GET /api/v1/shots``) must describe this very shot; ``game_id``
    alone is enough with the shot's location (the key is game, period, clock, player, location).
    ``event_id`` is accepted for older clients but is not part of the identity.
    """
    given = data.get("shot_key")
    if given is not None:
        try:
            parts = parse_shot_key(given)
        except ValueError as error:
            raise ShotInputError("shot_key", str(error)) from None
        if data.get("game_id") is not None and normalise_game_id(data["game_id"]) != parts["game_id"]:
            raise ShotInputError("shot_key", f"is a shot of game {parts['game_id']}, not of game_id {data['game_id']}")
        expected = {"period": data["period"], "seconds_left": data["seconds_left"], "player_id": data["player_id"]}
        if data.get("x_ft") is not None:
            expected |= {"x_tenths": court.tenths(data["x_ft"]), "y_tenths": court.tenths(data["y_ft"])}
        wrong = [name for name, value in expected.items() if parts[name] != value]
        if wrong:
            raise ShotInputError("shot_key", f"does not describe this shot ({', '.join(wrong)} differ)")
        return given, parts["game_id"]
    if data.get("game_id") is None:
        if data.get("event_id") is not None:
            raise ShotInputError("game_id", "give game_id (with x_ft/y_ft) or shot_key to identify the shot")
        return None, None
    if data.get("x_ft") is None:
        raise ShotInputError("x_ft", "give x_ft and y_ft with game_id (the shot's key includes its location), "
                                     "or its shot_key")
    try:
        game_id = normalise_game_id(data["game_id"])
    except ValueError:
        raise ShotInputError("game_id", "is not an NBA game id (up to 10 digits)") from None
    key = shot_key(game_id=game_id, period=data["period"], seconds_left=data["seconds_left"],
                   player_id=data["player_id"], x_ft=data["x_ft"], y_ft=data["y_ft"])  # fmt: skip
    return key, game_id


# --- predicting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prediction:
    probability_made: float
    predicted_outcome: str
    odds_made: float
    odds_missed: float
    shot_key: str | None


@dataclass(frozen=True)
class PredictionBatch:
    predictions: list[Prediction]
    model_name: str
    model_version: str
    algorithm: str
    request_id: str


def predictions_make(
    *, shots: Sequence[Mapping[str, Any]], timer: PredictionTimer, request_id: str, caller: Any = None
) -> PredictionBatch:
    """Predict canonical shots (from ``shot_canonical``) with the champion, log them, return them."""
    served = serving.champion()
    model = served.model
    # Also for a champion without the columns: a shadow scoring the same records may read them.
    records_with_game_context(shots)  # type: ignore[arg-type]  # shot_canonical dicts
    records = [shot["record"] for shot in shots]
    histories = history.cache().histories((r["player_id"] for r in records),
                                          close_range_ft=model.pipeline.close_range_ft)
    probabilities = model.predict_proba_records(records, history=histories)
    timer.model_version = served.version
    timer.shots = len(records)

    predictions = []
    for shot, p in zip(shots, probabilities.tolist(), strict=True):
        predictions.append(Prediction(
            probability_made=p, predicted_outcome="made" if p >= 0.5 else "missed",
            odds_made=1.0 / p, odds_missed=1.0 / (1.0 - p), shot_key=shot["shot_key"],
        ))  # fmt: skip
    _log(shots, predictions, served=served, timer=timer, request_id=request_id, caller=caller)
    return PredictionBatch(predictions=predictions, model_name=served.name, model_version=served.version,
                           algorithm=served.algorithm, request_id=request_id)


def _log(shots: Sequence[Mapping[str, Any]], predictions: list[Prediction], *, served: serving.ServedModel,
         timer: PredictionTimer, request_id: str, caller: Any) -> None:
    made_at = time.time()
    shadow.shadow_submit(shots=shots, made_at=made_at)  # a queue append: scored off the request path
    # One document for the whole request (predictions.log: a bundle is one write and one join update).
    prediction_log_append([log_bundle(version=served.version, made_at=made_at,
                                      probabilities=[prediction.probability_made for prediction in predictions],
                                      keys=[shot["shot_key"] for shot in shots])])


def request_id_new() -> str:
    # 32 hex digits like a uuid4, from the process's PRNG (reseeded in each forked worker): an id
    # to find a request by, not a secret, and os.urandom is a system call on every request.
    return f"{random.getrandbits(128):032x}"


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinReport:
    waiting_shots: int
    settled_shots: int
    settled_predictions: int
    live: int = 0
    backfill: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"waiting_shots": self.waiting_shots, "settled_shots": self.settled_shots,
                "settled_predictions": self.settled_predictions, "live": self.live, "backfill": self.backfill}


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    return None


def predictions_join_outcomes(*, chunk: int = 1_000) -> JoinReport:
    """Join logged predictions to the outcomes of shots that reached the warehouse (idempotent).

    A prediction is **live** when it was made before its shot's outcome entered the platform
    (the warehouse's ``ingested_at``: the first moment any reader, page or model could see it);
    otherwise it is a **backfill**: joined and flagged ``live: false``, scored apart, never in
    the live scores, gauges or alerts.

    The log's documents still waiting (``settled: false``) are read a few at a time (about
    ``chunk`` predictions), their shots' outcomes looked up by key, and each document is updated
    once (``predictions.log``: a bundle's ``made``/``live`` arrays, counts and ``open``). The update
    is conditional on the ``open`` count it read, so a concurrent run settles nothing twice (its
    stale update changes nothing, and the next run picks up what is left) and a re-run changes
    nothing. Single predictions are settled in groups: one ``update_many`` per outcome and
    liveness, by ``_id`` and ``settled: false``.
    """
    predictions = mongo.warehouse_collection(mongo.PREDICTIONS)
    waiting_keys: set[str] = set()
    found_keys: set[str] = set()
    totals = {"settled": 0, "live": 0, "backfill": 0}
    group: list[dict[str, Any]] = []
    size = 0
    for document in predictions.find({"settled": False}, {"key": 1, "made": 1, "live": 1, "open": 1}):
        group.append(document)
        size += len(document["key"]) if isinstance(document.get("key"), list) else 1
        if size >= chunk:
            _join_group(predictions, group, waiting_keys, found_keys, totals)
            group, size = [], 0
    if group:
        _join_group(predictions, group, waiting_keys, found_keys, totals)
    return JoinReport(waiting_shots=len(waiting_keys - found_keys), settled_shots=len(found_keys),
                      settled_predictions=totals["settled"], live=totals["live"], backfill=totals["backfill"])


def _open_keys(document: dict[str, Any]) -> list[str]:
    """The keys of a waiting log document's predictions not joined yet."""
    keys, made = document.get("key"), document.get("made")
    if not isinstance(keys, list):
        return [str(keys)] if keys is not None else []
    made = made if isinstance(made, list) else [None] * len(keys)
    return [str(k) for k, m in zip(keys, made, strict=True) if k is not None and m is None]


def _join_group(predictions: Any, group: list[dict[str, Any]], waiting_keys: set[str], found_keys: set[str],
                totals: dict[str, int]) -> None:
    """Settle what it can of ``group`` (documents still waiting) with one lookup of their shots."""
    wanted = {key for document in group for key in _open_keys(document)}
    waiting_keys.update(wanted)
    outcomes = {doc["_id"]: (bool(doc["made"]), _epoch(doc.get("ingested_at")))
                for doc in mongo.warehouse_collection(mongo.SHOTS).find({"_id": {"$in": list(wanted)}},
                                                                         {"made": 1, "ingested_at": 1})}
    found_keys.update(outcomes)
    if not outcomes:
        return
    legacy: dict[tuple[bool, bool], list[Any]] = {}
    for document in group:
        made_at = made_at_of(document)
        if not isinstance(document.get("key"), list):  # a single prediction
            outcome = outcomes.get(str(document.get("key")))
            if outcome is not None:
                was_made, known_at = outcome
                legacy.setdefault((was_made, known_at is not None and made_at < known_at), []).append(document["_id"])
            continue
        keys = document["key"]
        made = list(document["made"]) if isinstance(document.get("made"), list) else [None] * len(keys)
        live = list(document["live"]) if isinstance(document.get("live"), list) else [None] * len(keys)
        newly = {True: 0, False: 0}
        for i, key in enumerate(keys):
            if key is None or made[i] is not None or key not in outcomes:
                continue
            made[i], known_at = outcomes[key]
            live[i] = known_at is not None and made_at < known_at
            newly[live[i]] += 1
        if not (newly[True] or newly[False]):
            continue
        still_open = int(document["open"]) - newly[True] - newly[False]
        result = predictions.update_one(
            {"_id": document["_id"], "open": document["open"]},
            {"$set": {"made": made, "live": live, "open": still_open, "settled": still_open <= 0,
                      "n_live": sum(1 for value in live if value is not None and bool(value)),
                      "n_backfill": sum(1 for value in live if value is not None and not bool(value))}})  # fmt: skip
        if result.modified_count:
            totals["settled"] += newly[True] + newly[False]
            totals["live"] += newly[True]
            totals["backfill"] += newly[False]
    for (made_value, is_live), ids in legacy.items():
        result = predictions.update_many({"_id": {"$in": ids}, "settled": False},
                                         {"$set": {"settled": True, "made": made_value, "live": is_live}})
        totals["settled"] += result.modified_count
        totals["live" if is_live else "backfill"] += result.modified_count


# --- API tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: ``key`` is the only copy of the secret (the database keeps its digest)."""

    key: str
    token: AuthToken

    @property
    def expiry(self) -> dt.datetime | None:
        return self.token.expiry


def token_create(*, user: Any) -> IssuedToken:
    """A new API token for ``user`` (expires after API_TOKEN_TTL_DAYS); any previous one stops working."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user).delete()
        token, key = AuthToken.objects.create(user=user)
    return IssuedToken(key=key, token=token)


def token_of(*, user: Any) -> AuthToken | None:
    """``user``'s current, unexpired API token (its digest and first characters only), or None."""
    from django.utils import timezone

    return (AuthToken.objects.filter(user=user).exclude(expiry__lt=timezone.now())
            .order_by("-created").first())


def token_revoke(*, user: Any) -> bool:
    """Revoke ``user``'s API token; True when there was one."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted > 0


# --- pipeline runs ----------------------------------------------------------------------------

ML_PIPELINE = "ml_pipeline"
INGESTION_TASKS = {"pull_feed": "ingestion.pull_feed", "transform_lake": "ingestion.transform_lake",
                   "import_file": "ingestion.import_file"}
RUN_KINDS = (ML_PIPELINE, *INGESTION_TASKS)


@dataclass(frozen=True)
class EnqueuedRun:
    run_id: str
    kind: str
    task_id: str | None


def pipeline_run_enqueue(*, kind: str, user: Any, force: bool = False, location: str | None = None,
                         url: str | None = None, n: int | None = None) -> EnqueuedRun:
    """Queue the ML pipeline or an ingestion task (sent once the transaction commits)."""
    if kind == ML_PIPELINE:
        from training.services.pipeline import pipeline_enqueue

        run = pipeline_enqueue(trigger="api", force=force, user=user)
        return EnqueuedRun(run_id=f"ml-{run.pk}", kind=kind, task_id=run.task_id or None)
    if kind not in INGESTION_TASKS:
        raise ApplicationError(f"is not one of {', '.join(RUN_KINDS)}", field="kind", value=kind)
    kwargs: dict[str, Any] = {}
    if kind == "import_file":
        if not location:
            raise ApplicationError("is required to import a file", field="location", value=location)
        from ingestion.readers import location_problem

        if problem := location_problem(location):
            raise ApplicationError(problem, field="location", value=location)
        kwargs["location"] = location
    elif kind == "pull_feed":
        kwargs = {k: v for k, v in (("url", url), ("n", n)) if v is not None}
    from parivision.celery import app

    task_id = uuid.uuid4().hex
    name = INGESTION_TASKS[kind]
    from predictions.redis_client import redis_client
    from predictions.selectors import QUEUED_KEY

    # Remembered so that its status reads "queued" (not "unknown") until a worker picks it up.
    redis_client().set(QUEUED_KEY.format(task_id), kind, ex=7 * 86_400)
    transaction.on_commit(lambda: app.send_task(name, kwargs=kwargs, task_id=task_id))
    return EnqueuedRun(run_id=task_id, kind=kind, task_id=task_id)


def finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
