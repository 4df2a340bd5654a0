"""The in-season correction of a model version, refitted on the newest settled warehouse shots.

A shot is *settled* when it is in the warehouse with its outcome (``made`` true or false). The refit
(Celery ``training.refit_recalibration``, on the ``ml`` queue, hourly by beat) re-predicts the settled
shots of the last ``window_days`` before ``as_of`` with the version's own calibrated probabilities
(never the correction itself), fits ``training.ml.recalibration.recalibration_fit`` on them (only rows
dated strictly before ``as_of``) and stores the result under ``recalibration:<version>`` in the stored
figures; serving attaches it to the models it serves, the champion and the shadow
(``recalibration_attach``, called by ``predictions/serving.py`` and ``predictions/shadow.py``). ``RECALIBRATION_ENABLED``
off: nothing is refitted and serving attaches nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from parivision import figures, mongo
from training.ml.recalibration import Recalibration, RecalibrationConfig, recalibration_fit

if TYPE_CHECKING:
    from training.ml.train import ShotModel

logger = logging.getLogger(__name__)
SETTLED = {"made": {"$in": [True, False]}}  # a shot without its outcome is not settled: never read


def recalibration_key(version: int | str) -> str:
    return f"recalibration:{version}"


def recalibration_config() -> RecalibrationConfig:
    return RecalibrationConfig(
        half_life_days=settings.RECALIBRATION_HALF_LIFE_DAYS, window_days=settings.RECALIBRATION_WINDOW_DAYS,
        prior_shots=settings.RECALIBRATION_PRIOR_SHOTS, slope=settings.RECALIBRATION_SLOPE,
        by_action=settings.RECALIBRATION_BY_ACTION,
    )


def newest_settled_date() -> dt.date | None:
    doc = mongo.warehouse_collection(mongo.SHOTS).find_one(SETTLED, {"game_date": 1}, sort=[("game_date", -1)])
    return None if doc is None else doc["game_date"].date()


def recalibration_refit(*, version: int, as_of: dt.date | None = None) -> Recalibration | None:
    """Refit and store the correction of ``version`` for shots dated ``as_of`` (default: the day after the
    newest settled shot, i.e. every settled shot counts). None (and nothing stored) when there is none."""
    from backtests import selectors as shots_selectors
    from training.services.figures import model_load_for_figures

    if as_of is None:
        newest = newest_settled_date()
        if newest is None:
            return None
        as_of = newest + dt.timedelta(days=1)
    config = recalibration_config()
    first = as_of - dt.timedelta(days=config.window_days)
    query: dict[str, Any] = {**SETTLED, "game_date": {"$gte": dt.datetime(first.year, first.month, first.day),
                                                      "$lt": dt.datetime(as_of.year, as_of.month, as_of.day)}}
    frame = shots_selectors.shots_query(query)
    if frame.empty:
        return None
    model = model_load_for_figures(version=version)
    x = shots_selectors.shots_features(model=model, frame=frame)
    fitted = recalibration_fit(
        proba=model.predict_proba_features(x, recalibrated=False), y_true=frame["made"].to_numpy(),
        is_three=(frame["shot_type"] == "3PT").to_numpy(), dates=frame["game_date"].to_numpy(), as_of=as_of,
        config=config, groups=model.action_groups(x) if config.by_action else None,
    )
    figures.figure_put(key=recalibration_key(version), value=fitted.as_dict())
    logger.info("recalibration of v%s for %s: 2PT %+.3f (%.0f shots), 3PT %+.3f (%.0f shots), %d action shifts",
                version, as_of, fitted.two.intercept, fitted.two.shots, fitted.three.intercept, fitted.three.shots,
                len(fitted.actions))
    return fitted


def recalibration_stored(*, version: int | str) -> Recalibration | None:
    """The stored correction of ``version`` (None when there is none or it is turned off)."""
    if not settings.RECALIBRATION_ENABLED:
        return None
    value = figures.figure_get(key=recalibration_key(version))
    return None if value is None else Recalibration.from_dict(value)


def recalibration_attach(model: ShotModel, *, version: str | int) -> None:
    """Give a served ``model`` (champion or shadow) the stored correction of its ``version`` (none when
    RECALIBRATION_ENABLED is off or none was fitted yet). Serving calls it at every alias poll, so a
    refit reaches every process within SERVING_ALIAS_POLL_SECONDS; a failed read keeps the correction
    the model has. One reference assignment: a request reads it once (``ShotModel.predict_proba_features``)."""
    try:
        stored = recalibration_stored(version=version)
    except Exception as error:  # the figures store away: keep serving with what we have
        logger.warning("reading the recalibration of version %s failed: %s: %s", version, type(error).__name__, error)
        return
    if stored != model.recalibration:
        model.recalibration = stored
        logger.info("version %s recalibration: %s", version, "none" if stored is None else
                    f"2PT {stored.two.intercept:+.3f}, 3PT {stored.three.intercept:+.3f} (before {stored.fitted_before})")
