"""Shadow challengers: a second model scores every live prediction request off the request path.

Serving
    Each web process has one ``ShadowScorer``: a bounded queue and one daemon thread. A
    prediction request only appends its identified shots (those with a shot key: only they are
    ever joined to an outcome) to the queue when a shadow is loaded: a deque append, no I/O, no
    model call, so the response time does not change (``bench/serve.py --shadow`` measures it).
    The thread asks the registry where the ``shadow`` alias points every
    ``SERVING_ALIAS_POLL_SECONDS``, loads that version beside the champion, and scores what is
    queued in small batches, writing each prediction to the one prediction log
    (``predictions.log.log_bundle`` with the shadow's ``version``, ``role: "shadow"`` and the
    champion's timestamp, so the join settles both alike). A full queue drops the oldest work
    and counts it (``parivision_shadow_dropped_total``); it never blocks a request.

Starting, stopping, reviewing
    ``shadow_start`` points the alias at a version and records a ``ShadowDeployment``;
    ``shadow_stop`` removes the alias and closes the record. After a pipeline run the best
    challenger that did not become champion is started (``shadow_after_pipeline``).
    ``shadow_review`` (Celery, every minute) pairs the champion's and the shadow's settled live
    predictions of the same shots, compares them (``training.ml.live_compare``) and stores the
    comparison for the model page and the metrics; with ``SHADOW_REQUIRED_FOR_PROMOTION`` the
    pipeline does not promote over a champion directly: its winner goes to shadow, and the
    review promotes it once its live gain is significant.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from prometheus_client import Counter

from parivision import mongo
from parivision.errors import ApplicationError
from predictions.models import ShadowDeployment
from training.services.recalibration import recalibration_attach

if TYPE_CHECKING:
    from training.ml.live_compare import LiveComparison
    from training.ml.train import ShotModel
    from training.models import PipelineRun

logger = logging.getLogger(__name__)

SHADOW_ALIAS = "shadow"
ROLE = "shadow"

SHADOW_SCORED = Counter("parivision_shadow_predictions_total", "Shots scored by the shadow model, by version.",
                        ["model_version"])
SHADOW_DROPPED = Counter("parivision_shadow_dropped_total",
                         "Requests the shadow could not score because its queue was full.")


# --- serving: the per-process scorer ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Work:
    records: list[dict[str, Any]]
    keys: list[str]
    made_at: float


QUEUE_KEY = "parivision:shadow:queue"


def _encode(work: _Work) -> bytes:
    records = [{**r, "game_date": r["game_date"].isoformat()} for r in work.records]
    return json.dumps({"r": records, "k": work.keys, "t": work.made_at}, separators=(",", ":")).encode()


def _decode(raw: bytes | str | int) -> _Work:
    assert not isinstance(raw, int)  # queue items are JSON documents
    data = json.loads(raw)
    records = [{**r, "game_date": dt.datetime.fromisoformat(r["game_date"])} for r in data["r"]]
    return _Work(records=records, keys=list(data["k"]), made_at=float(data["t"]))


class ShadowScorer:
    """``load_model``: score here (the thread mode, and the worker side of the worker mode); else
    (a web process in ``SHADOW_SCORER=worker`` mode) only hand the queued shots to Redis."""

    def __init__(self, *, load_model: bool = True, background: bool = True) -> None:
        self.load_model = load_model
        self.background = background
        # Bounded: when full, the oldest request's shots fall out (deque appends are atomic).
        self._queue: deque[_Work] = deque(maxlen=settings.SHADOW_QUEUE_MAX)
        self._wake = threading.Event()
        self._lock = threading.Lock()  # loading and draining (the thread, or a test calling them)
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stopping = False
        self.version: str | None = None  # read by requests: None means "no shadow, queue nothing"
        self._model: ShotModel | None = None
        self._last_error = ""
        self.dropped = 0
        self.scored = 0

    # ------------------------------------------------------------- request path
    def submit(self, shots: Sequence[Mapping[str, Any]], *, made_at: float) -> None:
        """Queue a request's identified shots for the shadow (nothing when no shadow is loaded)."""
        self._ensure_thread()
        if self.version is None:
            return
        rate = settings.SHADOW_SAMPLE_RATE
        if rate < 1.0 and random.random() >= rate:  # a share of the requests bounds the shadow's CPU
            return
        keys = [shot["shot_key"] for shot in shots if shot["shot_key"] is not None]
        if not keys:
            return
        records = [shot["record"] for shot in shots if shot["shot_key"] is not None]
        queue = self._queue
        if len(queue) == queue.maxlen:  # the append below pushes the oldest request out
            self.dropped += 1
            SHADOW_DROPPED.inc()
        queue.append(_Work(records=records, keys=keys, made_at=made_at))
        if len(queue) >= settings.SHADOW_BATCH_SIZE:
            self._wake.set()

    def pending(self) -> int:
        """Requests waiting for the shadow."""
        return len(self._queue)

    # -------------------------------------------------------------- background
    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            if self._pid is not None:  # a forked child: the parent's queue and model are not ours
                self._queue = deque(maxlen=settings.SHADOW_QUEUE_MAX)
                self.version, self._model = None, None
            self._pid = pid
            if settings.SHADOW_ENABLED and self.background:
                self._thread = threading.Thread(target=self._run, name="shadow-scorer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        next_poll = 0.0
        while not self._stopping:
            try:
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + settings.SERVING_ALIAS_POLL_SECONDS
                    self.refresh()
                # Wait for a batch (or the flush interval): the thread wakes up rarely, not per request.
                self._wake.wait(settings.SHADOW_FLUSH_SECONDS)
                self._wake.clear()
                self.drain()
            except Exception:  # keep scoring whatever happens; the next round retries
                logger.exception("shadow scorer failed")
                time.sleep(settings.SHADOW_FLUSH_SECONDS)

    def refresh(self) -> str | None:
        """Load the version the ``shadow`` alias points at (None: no shadow; errors keep the old one)."""
        from training.registry import get_registry

        registry = get_registry()
        try:
            version = registry.alias_version(alias=SHADOW_ALIAS)
        except Exception as error:
            self._last_error = f"the model registry is unavailable: {type(error).__name__}: {error}"[:300]
            return self.version
        with self._lock:
            if version is None:
                if self.version is not None:
                    logger.info("shadow v%s stopped: no longer scoring", self.version)
                self.version, self._model = None, None
                self._queue.clear()
                return None
            if version == self.version:
                if self._model is not None:  # the shadow gets its own in-season correction, like the champion
                    recalibration_attach(self._model, version=version)
                return version
            if not self.load_model:  # the worker mode's web side: only the version, no model
                self.version = version
                return version
            try:
                from predictions.serving import single_threaded

                model = single_threaded(registry.model_load(version=version))
            except Exception as error:  # a broken artifact: no shadow rather than a broken one
                self._last_error = f"loading shadow version {version} failed: {type(error).__name__}: {error}"[:300]
                logger.exception("loading shadow version %s failed", version)
                return self.version
            recalibration_attach(model, version=version)
            self._model, self.version = model, version
            self._queue.clear()  # shots queued for the previous shadow
            logger.info("shadow v%s loaded: scoring live requests beside the champion", version)
            return version

    def drain(self) -> int:
        """Score everything queued, a small batch at a time; returns how many shots were logged."""
        from predictions import history
        from predictions.log import log_bundle, prediction_log_append

        if not self.load_model:
            return self._push()
        written = 0
        with self._lock:
            model, version = self._model, self.version
            while self._queue and model is not None and version is not None:
                batch: list[_Work] = []
                size = 0
                while size < settings.SHADOW_BATCH_SIZE:
                    try:
                        work = self._queue.popleft()
                    except IndexError:
                        break
                    batch.append(work)
                    size += len(work.keys)
                records = [record for work in batch for record in work.records]
                histories = history.cache().histories((r["player_id"] for r in records),
                                                      close_range_ft=model.pipeline.close_range_ft)
                probabilities = model.predict_proba_records(records, history=histories).tolist()
                # One bundle per request scored, with the champion's timestamp (the join settles both alike).
                documents, position = [], 0
                for work in batch:
                    scored = probabilities[position:position + len(work.keys)]
                    documents.append(log_bundle(version=version, probabilities=scored, keys=work.keys,
                                                made_at=work.made_at, role=ROLE))
                    position += len(work.keys)
                prediction_log_append(documents)
                written += position
                SHADOW_SCORED.labels(version).inc(position)
                time.sleep(0)  # let request threads take the GIL between batches
        self.scored += written
        return written

    def _push(self) -> int:
        """The worker mode's web side: hand the queued requests to Redis in one round trip."""
        from predictions.redis_client import redis_client

        works = []
        while True:
            try:
                works.append(self._queue.popleft())
            except IndexError:
                break
        if not works:
            return 0
        try:
            pipe = redis_client().pipeline(transaction=False)
            pipe.rpush(QUEUE_KEY, *[_encode(work) for work in works])
            pipe.ltrim(QUEUE_KEY, -settings.SHADOW_QUEUE_MAX, -1)  # the oldest fall out
            pipe.execute()
        except Exception as error:  # Redis away: the shadow misses these, the requests never notice
            self.dropped += len(works)
            SHADOW_DROPPED.inc(len(works))
            logger.warning("shadow: %d request(s) not handed to the worker: %s", len(works), error)
            return 0
        return sum(len(work.keys) for work in works)

    def take(self, works: Sequence[_Work]) -> None:
        """Queue requests read from Redis (the worker side)."""
        self._queue.extend(works)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "pending": len(self._queue), "scored": self.scored,
                "dropped": self.dropped, "error": self._last_error or None}


_scorer_lock = threading.Lock()
_scorer: ShadowScorer | None = None


_consumer: ShadowScorer | None = None


def scorer() -> ShadowScorer:
    """This process's request-side scorer (scores itself, or hands over to the worker)."""
    global _scorer
    if _scorer is None:
        with _scorer_lock:
            if _scorer is None:
                _scorer = ShadowScorer(load_model=settings.SHADOW_SCORER == "thread")
    return _scorer


def shadow_consume(*, seconds: float = 4.0, idle_stop: bool = True) -> int:
    """The worker mode's other half: score what web processes handed over (Celery, or a loop).

    Runs for about ``seconds``; with ``idle_stop`` it returns as soon as the queue is empty.
    Requests read while no shadow is loaded are dropped (and counted).
    """
    global _consumer
    from predictions.log import prediction_log
    from predictions.redis_client import redis_client

    with _scorer_lock:
        if _consumer is None or _consumer._pid not in (None, os.getpid()):
            _consumer = ShadowScorer(load_model=True, background=False)
            _consumer._pid = os.getpid()
    consumer = _consumer
    consumer.refresh()
    client = redis_client()
    deadline = time.monotonic() + seconds
    scored = 0
    while time.monotonic() < deadline:
        raw = client.lpop(QUEUE_KEY, settings.SHADOW_BATCH_SIZE * 8)
        if not raw:
            if idle_stop:
                break
            time.sleep(0.2)
            continue
        works = [_decode(item) for item in raw]
        if consumer.version is None:
            consumer.dropped += len(works)
            SHADOW_DROPPED.inc(len(works))
            consumer.refresh()
            continue
        consumer.take(works)
        scored += consumer.drain()
        prediction_log.flush()
    return scored


def shadow_submit(*, shots: Sequence[Mapping[str, Any]], made_at: float) -> None:
    """The prediction request's only call: queue its shots for the shadow, if one is serving."""
    if settings.SHADOW_ENABLED:
        scorer().submit(shots, made_at=made_at)


def reset() -> None:
    """Forget the scorers (tests)."""
    global _scorer, _consumer
    with _scorer_lock:
        if _scorer is not None:
            _scorer.stop()
        _scorer = None
        _consumer = None


# --- starting and stopping ----------------------------------------------------------------------


def shadow_active() -> ShadowDeployment | None:
    return ShadowDeployment.objects.filter(status=ShadowDeployment.Status.ACTIVE).first()


def _version_check(version: int) -> None:
    from mlflow.exceptions import MlflowException

    from training.registry import get_registry

    registry = get_registry()
    try:
        registry.client.get_model_version(registry.model_name, str(version))
    except MlflowException:
        raise ApplicationError(f"model version {version} is not registered under {registry.model_name!r}",
                               field="version", value=version) from None


def shadow_start_check(*, version: Any) -> None:
    """Refuse what cannot serve in shadow: not a registered version, or the champion itself."""
    from training.services.promotion import champion_version

    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ApplicationError("must be a registered model version number", field="version", value=version)
    _version_check(version)
    if champion_version() == version:
        raise ApplicationError(f"version {version} is the champion: a shadow must be another version",
                               field="version", value=version)


def shadow_start(*, version: int, triggered_by: str, reason: str = "", user: Any = None,
                 pipeline_run: PipelineRun | None = None) -> ShadowDeployment:
    """Serve ``version`` in shadow (a running shadow of another version is stopped first)."""
    from training.registry import get_registry

    shadow_start_check(version=version)
    current = shadow_active()
    if current is not None and current.version == version:
        return current
    if current is not None:
        shadow_stop(triggered_by=triggered_by, reason=f"replaced by v{version}", user=user)
    get_registry().alias_set(version=version, alias=SHADOW_ALIAS)
    try:
        with transaction.atomic():
            return ShadowDeployment.objects.create(
                version=version, started_by=triggered_by[:200], start_reason=reason, pipeline_run=pipeline_run,
                user=user if getattr(user, "pk", None) else None)
    except IntegrityError:  # another start won the race: it is the active one
        active = shadow_active()
        if active is None:
            raise
        return active


def shadow_stop(*, triggered_by: str, reason: str = "", user: Any = None,
                status: str = ShadowDeployment.Status.STOPPED) -> ShadowDeployment | None:
    """Stop the running shadow (None when there was none). Serving processes stop within a poll."""
    from training.registry import get_registry

    current = shadow_active()
    registry = get_registry()
    if registry.alias_version(alias=SHADOW_ALIAS) is not None:
        registry.alias_delete(alias=SHADOW_ALIAS)
    if current is None:
        return None
    ShadowDeployment.objects.filter(pk=current.pk, status=ShadowDeployment.Status.ACTIVE).update(
        status=status, stopped_at=timezone.now(), stopped_by=triggered_by[:200], stop_reason=reason)
    current.refresh_from_db()
    return current


def shadow_after_pipeline(*, run: PipelineRun, ranked_versions: Sequence[int]) -> ShadowDeployment | None:
    """The best challenger of ``run`` that is not the champion now serves in shadow.

    With ``SHADOW_AUTO_START`` (or when promotion needs a shadow period, so the held winner gets one).
    """
    from training.services.promotion import champion_version

    if not (settings.SHADOW_AUTO_START or settings.SHADOW_REQUIRED_FOR_PROMOTION):
        return None
    champion = champion_version()
    if champion is None:  # nothing serves, so nothing to shadow (the first champion was not found yet)
        return None
    candidate = next((v for v in ranked_versions if v is not None and v != champion), None)
    if candidate is None:
        return None
    return shadow_start(version=int(candidate), triggered_by=f"pipeline run #{run.pk}",
                        reason="the run's best challenger that did not become champion", pipeline_run=run)


def promotion_held(*, has_champion: bool) -> bool:
    """The pipeline may not promote over a champion directly: its winner must win in shadow first."""
    return settings.SHADOW_REQUIRED_FOR_PROMOTION and has_champion


# --- the comparison and the review --------------------------------------------------------------


def paired_predictions(*, champion_version: str, shadow_version: str,
                       limit: int) -> tuple[list[bool], list[float], list[float]]:
    """Outcome, champion's p and shadow's p of the most recent live-settled shots both scored.

    A shot predicted more than once counts once (each model's latest prediction of it).
    """
    from predictions.log import LIVE_SETTLED, logged_predictions

    collection = mongo.warehouse_collection(mongo.PREDICTIONS)
    query = {**LIVE_SETTLED, "version": {"$in": [champion_version, shadow_version]}}
    champion: dict[str, tuple[float, float, bool]] = {}
    shadow: dict[str, tuple[float, float, bool]] = {}
    fields = {"version": 1, "p": 1, "key": 1, "made": 1, "live": 1, "settled": 1, "role": 1}
    for document in collection.find(query, fields):
        for row in logged_predictions(document):
            if row.live is not True or row.made is None or row.key is None:
                continue
            is_shadow = row.role == ROLE
            if row.version != (shadow_version if is_shadow else champion_version):
                continue
            target = shadow if is_shadow else champion
            previous = target.get(row.key)
            if previous is None or row.made_at >= previous[0]:
                target[row.key] = (row.made_at, row.p, row.made)
    keys = sorted(set(champion) & set(shadow), key=lambda k: champion[k][0])[-limit:]
    return ([champion[k][2] for k in keys], [champion[k][1] for k in keys], [shadow[k][1] for k in keys])


@dataclass(frozen=True)
class ReviewReport:
    shadow_version: int | None
    pairs: int
    significant_gain: bool
    promoted: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"shadow_version": self.shadow_version, "pairs": self.pairs,
                "significant_gain": self.significant_gain, "promoted": self.promoted, "reason": self.reason}


def shadow_review() -> ReviewReport:
    """Compare the active shadow with the champion on the same settled shots; store it; maybe promote.

    Idempotent: it recomputes from the log each time; a promotion happens at most once (the
    deployment is claimed ``active`` → ``promoted`` with a conditional update first).
    """
    from training.ml.live_compare import live_compare, shadow_verdict
    from training.models import PromotionDecision
    from training.services.promotion import champion_version, decision_record

    current = shadow_active()
    if current is None:
        return ReviewReport(None, 0, False, False, "no shadow is running")
    champion = champion_version()
    if champion is None:
        return ReviewReport(current.version, 0, False, False, "no champion to compare the shadow with yet")
    if champion == current.version:  # promoted by another way (by hand, a pipeline): nothing left to shadow
        shadow_stop(triggered_by="shadow review", reason="its version became the champion",
                    status=ShadowDeployment.Status.PROMOTED)
        return ReviewReport(current.version, 0, False, False, "the shadow's version is the champion now")
    made, p_champion, p_shadow = paired_predictions(champion_version=str(champion), shadow_version=str(current.version),
                                                    limit=settings.LIVE_SCORES_WINDOW)
    comparison: LiveComparison | None = None
    if len(made) >= 2:
        comparison = live_compare(made=made, champion=p_champion, shadow=p_shadow,
                                  confidence=settings.SHADOW_CONFIDENCE)
    verdict = shadow_verdict(comparison=comparison, metric=settings.SHADOW_METRIC,
                             min_pairs=settings.SHADOW_MIN_SETTLED)
    ShadowDeployment.objects.filter(pk=current.pk).update(
        champion_version=champion, comparison=comparison.as_dict() if comparison else {}, verdict=verdict.reason,
        significant_gain=verdict.significant_gain, reviewed_at=timezone.now())
    promoted = False
    if verdict.significant_gain and settings.SHADOW_REQUIRED_FOR_PROMOTION:
        claimed = ShadowDeployment.objects.filter(pk=current.pk, status=ShadowDeployment.Status.ACTIVE).update(
            status=ShadowDeployment.Status.PROMOTED, stopped_at=timezone.now(), stopped_by="shadow review",
            stop_reason=f"promoted: {verdict.reason}")
        if claimed:
            decision_record(
                kind=PromotionDecision.Kind.AUTOMATIC, challenger_version=current.version, champion_version=champion,
                promoted=True, reason=f"shadow v{current.version}: {verdict.reason}", triggered_by="shadow review",
                metric=f"live_{settings.SHADOW_METRIC}",
                challenger_score=comparison.shadow[settings.SHADOW_METRIC].value if comparison else None,
                champion_score=comparison.champion[settings.SHADOW_METRIC].value if comparison else None)
            from training.registry import get_registry

            get_registry().alias_delete(alias=SHADOW_ALIAS)
            promoted = True
    return ReviewReport(current.version, comparison.pairs if comparison else 0, verdict.significant_gain, promoted,
                        verdict.reason)


def shadow_summary() -> dict[str, Any] | None:
    """What the model page shows: the active (or the last) shadow and its last comparison."""
    row = shadow_active() or ShadowDeployment.objects.order_by("-started_at").first()
    if row is None:
        return None
    comparison = row.comparison or {}
    labels = {"log_loss": "Log loss", "brier": "Brier", "ece": "ECE"}
    rows = [{"metric": key, "name": label, "champion": comparison["champion"][key], "shadow": comparison["shadow"][key],
             "difference": comparison["difference"][key], "gate": key == settings.SHADOW_METRIC}
            for key, label in labels.items() if key in comparison.get("champion", {})]
    return {"row": row, "active": row.status == ShadowDeployment.Status.ACTIVE, "pairs": comparison.get("pairs", 0),
            "confidence": comparison.get("confidence", settings.SHADOW_CONFIDENCE), "rows": rows,
            "metric": settings.SHADOW_METRIC, "required": settings.SHADOW_REQUIRED_FOR_PROMOTION,
            "min_pairs": settings.SHADOW_MIN_SETTLED}
