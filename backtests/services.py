"""Backtests: create and queue one, run it (claimed once, progress as it goes), re-run it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from backtests import engine, metrics, selectors
from backtests.models import Backtest
from parivision import mongo
from parivision.errors import ApplicationError
from training.models import ModelVersion
from training.registry import get_registry
from training.services.recalibration import recalibration_config

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _enqueue(backtest: Backtest) -> None:
    from backtests.tasks import run_backtest

    transaction.on_commit(lambda: run_backtest.delay(backtest_id=backtest.pk))


def backtest_limits_check(*, owner: Any) -> None:
    """Refuse a new backtest past its owner's limits, naming the limit (429).

    Backtests hold a worker of the ``backtests`` queue for up to BACKTEST_TIME_LIMIT: each user may
    have BACKTEST_MAX_ACTIVE_PER_USER queued or running at once and start BACKTEST_MAX_PER_DAY per
    rolling 24 hours (0: no limit). Staff are exempt unless BACKTEST_LIMITS_APPLY_TO_STAFF.
    Re-runs are an operator action (the admin) and are not counted.
    """
    if getattr(owner, "is_staff", False) and not settings.BACKTEST_LIMITS_APPLY_TO_STAFF:
        return
    mine = Backtest.objects.filter(owner=owner)
    most_active = settings.BACKTEST_MAX_ACTIVE_PER_USER
    if most_active:
        active = mine.filter(status__in=[Backtest.Status.QUEUED, Backtest.Status.RUNNING]).count()
        if active >= most_active:
            raise ApplicationError(
                f"you already have {active} backtest(s) queued or running, the most allowed at once "
                f"(BACKTEST_MAX_ACTIVE_PER_USER={most_active}): wait for one to finish",
                field=None, value=active, code="backtest_limit", status=429,
            )  # fmt: skip
    most_per_day = settings.BACKTEST_MAX_PER_DAY
    if most_per_day:
        since = timezone.now() - dt.timedelta(days=1)
        started = mine.filter(created_at__gte=since).count()
        if started >= most_per_day:
            oldest = mine.filter(created_at__gte=since).order_by("created_at").values_list("created_at", flat=True)[0]
            free_at = (oldest + dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            raise ApplicationError(
                f"you have started {started} backtests in the last 24 hours, the most allowed per day "
                f"(BACKTEST_MAX_PER_DAY={most_per_day}): the next one can start at {free_at}",
                field=None, value=started, code="backtest_limit", status=429,
            )  # fmt: skip


def backtest_create(
    *,
    owner: Any,
    model_versions: list[int],
    date_from: dt.date,
    date_to: dt.date,
    strategy: str,
    threshold: float = 0.02,
    stake: float = 10.0,
    kelly_fraction: float = 0.25,
    margin: float | None = None,
    bankroll: float = 1000.0,
) -> Backtest:
    """Validate, store a queued backtest and send it to a worker once the transaction commits."""
    backtest_limits_check(owner=owner)  # first: a refused request costs no warehouse read (checked again locked)
    versions = list(dict.fromkeys(int(v) for v in model_versions))
    if not versions:
        raise ApplicationError("choose at least one model version", field="model_versions", value=model_versions)
    if len(versions) > settings.BACKTEST_MAX_VERSIONS:
        raise ApplicationError(f"compare at most {settings.BACKTEST_MAX_VERSIONS} versions at once",
                               field="model_versions", value=model_versions)
    known = set(ModelVersion.objects.filter(version__in=versions).values_list("version", flat=True))
    missing = [v for v in versions if v not in known]
    if missing:
        raise ApplicationError(f"unknown model version {missing[0]}", field="model_versions", value=missing[0])
    if date_from > date_to:
        raise ApplicationError("must not be after date_to", field="date_from", value=str(date_from))
    try:
        params = engine.BacktestParams(strategy=strategy, threshold=threshold, stake=stake,  # type: ignore[arg-type]
                                       kelly_fraction=kelly_fraction, bankroll=bankroll,
                                       margin=settings.MARKET_MARGIN if margin is None else margin)
    except ValueError as error:
        raise ApplicationError(str(error), field="params") from None
    shots = mongo.warehouse_collection(mongo.SHOTS)
    window = {"game_date": {"$gte": _midnight(date_from), "$lte": _midnight(date_to)}}
    if shots.find_one(window, {"_id": 1}) is None:
        raise ApplicationError(f"the warehouse has no shots between {date_from} and {date_to}",
                               field="date_from", value=str(date_from))
    if shots.find_one({"game_date": {"$lt": _midnight(date_from)}}, {"_id": 1}) is None:
        raise ApplicationError("the market needs shots before the window to set its prices: choose a later start",
                               field="date_from", value=str(date_from))
    with transaction.atomic():
        # Two requests of one user at once: the owner's row lock makes the second count the first
        # (PostgreSQL; SQLite serializes writers anyway).
        list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))
        backtest_limits_check(owner=owner)
        backtest = Backtest.objects.create(
            owner=owner, model_versions=versions, date_from=date_from, date_to=date_to,
            strategy=params.strategy, params=params.as_dict(),
        )  # fmt: skip
        _enqueue(backtest)
    return backtest


def backtest_rerun(*, backtest: Backtest) -> Backtest:
    """Clear a finished backtest's results and queue it again (a queued or running one is left alone)."""
    reset = Backtest.objects.filter(
        pk=backtest.pk, status__in=[Backtest.Status.SUCCEEDED, Backtest.Status.FAILED]
    ).update(status=Backtest.Status.QUEUED, progress=0, step="", results={}, error="", task_id="",
             started_at=None, finished_at=None)  # fmt: skip
    if not reset:
        raise ApplicationError(f"backtest #{backtest.pk} is still {backtest.status}", field="status",
                               value=backtest.status, code="conflict", status=409)
    backtest.refresh_from_db()
    _enqueue(backtest)
    return backtest


def _claim(backtest_id: int, task_id: str) -> bool:
    """Take a queued backtest once; a redelivered task (same id) may finish the run it started."""
    now = timezone.now()
    queued = Backtest.objects.filter(pk=backtest_id, status=Backtest.Status.QUEUED)
    if queued.update(status=Backtest.Status.RUNNING, task_id=task_id, started_at=now, progress=1, step="starting"):
        return True
    if not task_id:
        return False
    return bool(Backtest.objects.filter(pk=backtest_id, status=Backtest.Status.RUNNING, task_id=task_id)
                .update(started_at=now))


def backtest_execute(*, backtest_id: int, task_id: str = "") -> Backtest:
    """Run a queued backtest. Running it again (or a second delivery) changes nothing."""
    if not _claim(backtest_id, task_id):
        return Backtest.objects.get(pk=backtest_id)
    backtest = Backtest.objects.get(pk=backtest_id)

    def step(name: str, percent: int) -> None:
        Backtest.objects.filter(pk=backtest_id).update(step=name[:100], progress=percent)

    try:
        results = backtest_compute(backtest=backtest, progress=step)
    except (ApplicationError, ValueError) as error:  # a refusal about the data, not a bug
        _finish(backtest_id, Backtest.Status.FAILED, error=getattr(error, "message", str(error)))
    except Exception as error:
        logger.exception("backtest #%s failed", backtest_id)
        _finish(backtest_id, Backtest.Status.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    else:
        _finish(backtest_id, Backtest.Status.SUCCEEDED, results=results)
    backtest.refresh_from_db()
    return backtest


def _finish(backtest_id: int, status: str, *, results: dict[str, Any] | None = None, error: str = "") -> None:
    Backtest.objects.filter(pk=backtest_id).update(
        status=status, results=results or {}, error=error[:5000], progress=100, step="", finished_at=timezone.now()
    )


def backtest_compute(*, backtest: Backtest, progress: Progress | None = None) -> dict[str, Any]:
    """Load the window's shots, price them, predict with each version, bet, and summarise."""
    step = progress or (lambda name, percent: None)
    params = engine.BacktestParams(**backtest.params)
    step("loading the window's shots", 5)
    shots = selectors.shots_between(date_from=backtest.date_from, date_to=backtest.date_to)
    if shots.empty:
        raise ApplicationError(f"the warehouse has no shots between {backtest.date_from} and {backtest.date_to}")
    step("pricing the market from earlier shots", 15)
    lookback = settings.BACKTEST_MARKET_LOOKBACK_DAYS
    market = engine.market_make(
        history=selectors.market_history(before=backtest.date_from, lookback_days=lookback), margin=params.margin,
        prior_attempts=settings.MARKET_PRIOR_ATTEMPTS,
    )
    step("building shooter histories", 25)
    history = selectors.player_history(shots)

    rows = {row.version: row for row in ModelVersion.objects.filter(version__in=backtest.model_versions)}
    registry = get_registry()
    probabilities = {}
    warnings = []
    share = 55 // max(1, len(backtest.model_versions))
    for index, version in enumerate(backtest.model_versions):
        step(f"predicting with v{version}", 30 + index * share)
        model = registry.model_load(version=version)
        if settings.RECALIBRATION_ENABLED:  # priced as serving prices: with the in-season correction, replayed
            probabilities[str(version)] = selectors.shots_probabilities_inseason(
                model=model, frame=shots, history=history, config=recalibration_config())
        else:
            probabilities[str(version)] = selectors.shots_probabilities(model=model, frame=shots, history=history)
        row = rows.get(version)
        if row is not None and row.trained_until and row.trained_until.date() >= backtest.date_from:
            warnings.append(
                f"v{version} was trained on games up to {row.trained_until.date()}: its bets before then are "
                "in-sample and flatter it"
            )
    step("placing and settling bets", 90)
    outcomes = engine.backtest_compare(shots=shots, probabilities=probabilities, market=market, params=params)
    fair = market.fair_probability(shots)
    zones = shots["zone_basic"].astype(str).tolist()
    return {
        "shots": len(shots),
        "first_date": str(shots["game_date"].min().date()),
        "last_date": str(shots["game_date"].max().date()),
        "games": int(shots["game_id"].nunique()),
        "make_rate": round(float(shots["made"].mean()), 4),
        "market": {"shots": market.shots, "lookback_days": lookback, "margin": params.margin,
                   "prior_attempts": market.prior_attempts, "rule": "betting.market (the live market maker)",
                   "mean_fair_probability": round(float(fair.mean()), 4)},
        "params": params.as_dict(),
        "recalibration": recalibration_config().name if settings.RECALIBRATION_ENABLED else None,
        "versions": [
            {"version": int(name), "algorithm": getattr(rows.get(int(name)), "algorithm", ""),
             "mean_probability": round(float(pd.Series(probabilities[name]).mean()), 4), **result.as_dict(),
             **metrics.backtest_metrics(ledger=result.ledger, zones=zones, start=params.bankroll,
                                        strategy=params.strategy, ruin_fraction=settings.BACKTEST_RUIN_FRACTION)}
            for name, result in outcomes.items()
        ],
        "warnings": warnings,
    }  # fmt: skip
