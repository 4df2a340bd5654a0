"""Challengers (Random Forest, XGBoost) trained on pipeline features, calibrated, bundled for serving.

The probabilities are sold as odds, so each estimator gets a calibrator fitted on the
inner validation slice (the latest training dates), chosen between none, Platt and
isotonic by log loss on half of that slice and then refitted on all of it.

A ``CalibrationPolicy`` can fit one calibrator per shot family (2PT / 3PT, read from the
``is_three`` feature, so serving needs nothing else; the default, ``CALIBRATION``) and/or weigh
the validation shots by recency (a half-life in days before the slice's last date).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from xgboost import XGBClassifier

from training.ml import xgb_direct
from training.ml.context import previous_shots_frame
from training.ml.features import LABEL_COLUMN, PlayerHistory, ShotFeaturePipeline
from training.ml.recalibration import Recalibration, recalibration_apply

if TYPE_CHECKING:
    from collections.abc import Callable

ModelKind = Literal["xgboost", "random_forest"]
CalibrationMethod = Literal["auto", "none", "platt", "isotonic"]

# Defaults for a 2-core box; settings override them key by key.
XGBOOST_PARAMS: dict[str, Any] = {
    "n_estimators": 2000,
    "learning_rate": 0.02,
    "max_depth": 6,
    "min_child_weight": 40,
    "subsample": 0.8,
    "colsample_bytree": 0.7,
    "reg_lambda": 5.0,
    "gamma": 0.0,
    "tree_method": "hist",
    "max_bin": 256,
    "early_stopping_rounds": 80,
    "eval_metric": "logloss",
    "n_jobs": 2,
    "random_state": 7,
}
RANDOM_FOREST_PARAMS: dict[str, Any] = {
    "n_estimators": 120,
    "max_depth": 16,
    "min_samples_leaf": 60,
    "max_features": 0.3,
    "max_samples": 0.4,
    "n_jobs": 2,
    "random_state": 7,
}
PIPELINE_PARAMS: dict[str, Any] = {"min_action_count": 100}
# The share of training rows whose game context (training/ml/context.py) is blanked to "not known", so
# the model has learned what to do for a shot whose game it is not told (a request without game_id,
# a game the warehouse does not hold yet) rather than follow whichever branch unseen NaNs fall into.
CONTEXT_UNKNOWN_FRACTION = 0.1
# ... and, drawn apart, rows with only the opponent's previous shot blanked (about 4.5% of all): a caller may say
# the team's previous shot (team_previous_shot) and not the opponent's.
OPPONENT_UNKNOWN_FRACTION = 0.05

# Keep probabilities off 0 and 1: an isotonic step at 0 would price a shot at infinite odds.
PROBABILITY_FLOOR = 1e-3


@dataclass
class Calibrator:
    """A monotone map from raw to calibrated probability; ``apply`` is plain numpy (fast for one shot)."""

    method: Literal["none", "platt", "isotonic"] = "none"
    slope: float = 1.0
    intercept: float = 0.0
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))

    def apply(self, proba: np.ndarray, *, features: np.ndarray | None = None) -> np.ndarray:
        """``features`` (the encoded rows) is ignored here; a ``FamilyCalibrator`` reads it."""
        proba = np.asarray(proba, dtype=np.float64)
        if self.method == "platt":
            proba = 1.0 / (1.0 + np.exp(-(self.slope * _logit(proba) + self.intercept)))
        elif self.method == "isotonic":
            proba = np.interp(proba, self.x, self.y)
        return np.clip(proba, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)


def _logit(proba: np.ndarray) -> np.ndarray:
    clipped = np.clip(proba, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def calibrator_fit_method(
    *, proba: np.ndarray, y_true: np.ndarray, method: str, weights: np.ndarray | None = None
) -> Calibrator:
    if method == "none":
        return Calibrator()
    if method == "platt":
        # Effectively unregularised: with thousands of shots the two parameters are well determined.
        model = LogisticRegression(C=1e6).fit(_logit(proba).reshape(-1, 1), y_true, sample_weight=weights)
        return Calibrator("platt", slope=float(model.coef_[0, 0]), intercept=float(model.intercept_[0]))
    if method == "isotonic":
        model = IsotonicRegression(out_of_bounds="clip", y_min=PROBABILITY_FLOOR, y_max=1 - PROBABILITY_FLOOR)
        model.fit(proba, y_true, sample_weight=weights)
        return Calibrator("isotonic", x=np.asarray(model.X_thresholds_), y=np.asarray(model.y_thresholds_))
    raise ValueError(f"unknown calibration method {method!r}")


def calibrator_fit(
    *,
    proba: np.ndarray,
    y_true: np.ndarray,
    method: CalibrationMethod = "auto",
    seed: int = 7,
    weights: np.ndarray | None = None,
) -> tuple[Calibrator, dict[str, float]]:
    """Fit a calibrator; ``auto`` picks the method with the lowest held-out log loss.

    ``weights`` (optional, one per shot) weigh both the fit and the held-out log loss.
    Returns the calibrator and the held-out log loss of each candidate (empty unless auto).
    """
    proba, y_true = np.asarray(proba, np.float64), np.asarray(y_true, np.int64)
    w = None if weights is None else np.asarray(weights, np.float64)
    if method != "auto":
        return calibrator_fit_method(proba=proba, y_true=y_true, method=method, weights=w), {}
    if len(np.unique(y_true)) < 2 or len(y_true) < 200:
        return Calibrator(), {}
    order = np.random.default_rng(seed).permutation(len(y_true))
    fit_rows, check_rows = order[: len(order) // 2], order[len(order) // 2 :]
    scores: dict[str, float] = {}
    for candidate in ("none", "platt", "isotonic"):
        calibrator = calibrator_fit_method(
            proba=proba[fit_rows], y_true=y_true[fit_rows], method=candidate,
            weights=None if w is None else w[fit_rows],
        )
        scores[candidate] = float(log_loss(
            y_true[check_rows], calibrator.apply(proba[check_rows]), labels=[0, 1],
            sample_weight=None if w is None else w[check_rows],
        ))
    # Prefer the simpler map unless the richer one is clearly better (isotonic can overfit small slices).
    best = "none"
    for candidate in ("platt", "isotonic"):
        if scores[candidate] < scores[best] - 2e-4:
            best = candidate
    return calibrator_fit_method(proba=proba, y_true=y_true, method=best, weights=w), scores


FAMILY_FEATURE = "is_three"  # the encoded shot type (1.0 for 3PT): what a FamilyCalibrator splits on


@dataclass
class FamilyCalibrator:
    """One calibrator per shot family: 2PT and 3PT drift apart across seasons (the league shoots
    more and better threes), and one global map cannot follow both. The family is read from the
    encoded rows (``column`` = the ``is_three`` feature), so serving passes nothing new."""

    column: int
    two: Calibrator
    three: Calibrator

    @property
    def method(self) -> str:
        return f"family(2PT {self.two.method}, 3PT {self.three.method})"

    def apply(self, proba: np.ndarray, *, features: np.ndarray | None = None) -> np.ndarray:
        if features is None:
            raise ValueError("a per-family calibrator needs the encoded rows (features=...)")
        proba = np.asarray(proba, dtype=np.float64)
        three = np.asarray(features)[:, self.column] > 0.5
        out = self.two.apply(proba)
        if three.any():
            out[three] = self.three.apply(proba[three])
        return out


AnyCalibrator = Calibrator | FamilyCalibrator


@dataclass(frozen=True)
class CalibrationPolicy:
    """How the challengers' calibrator is fitted on the validation slice.

    ``method``: auto (the best of none / Platt / isotonic by held-out log loss) or one of them;
    ``by_family``: one calibrator for 2PT and one for 3PT; ``half_life_days``: weigh each
    validation shot by 0.5 ** (days before the slice's last date / half-life), 0 = equal weights.
    """

    method: CalibrationMethod = "auto"
    by_family: bool = False
    half_life_days: float = 0.0

    @property
    def name(self) -> str:
        parts = [self.method, "family" if self.by_family else "global"]
        if self.half_life_days:
            parts.append(f"half-life {self.half_life_days:g}d")
        return " ".join(parts)


# The challengers' default, chosen on the walk-forward (README, Benchmarks): per family beat one global map
# on worst ECE and log loss (2017-18, 2022-23) and tied elsewhere; recency weights changed nothing.
CALIBRATION = CalibrationPolicy(by_family=True)


def recency_weights(dates: Any, *, half_life_days: float) -> np.ndarray | None:
    """0.5 ** (days before the latest date / half-life); None (equal weights) when the half-life is 0."""
    if not half_life_days:
        return None
    days = pd.to_datetime(pd.Series(np.asarray(dates))).to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.power(0.5, (days.max() - days) / float(half_life_days))


def calibrator_fit_policy(
    *,
    proba: np.ndarray,
    y_true: np.ndarray,
    policy: CalibrationPolicy,
    features: np.ndarray | None = None,
    feature_names: Sequence[str] = (),
    dates: Any = None,
) -> tuple[AnyCalibrator, dict[str, float]]:
    """The calibrator ``policy`` asks for, fitted on one slice (raw ``proba``, labels, encoded rows, dates)."""
    proba, y_true = np.asarray(proba, np.float64), np.asarray(y_true, np.int64)
    weights = None
    if policy.half_life_days:
        if dates is None:
            raise ValueError("a recency-weighted calibrator needs the shots' dates")
        weights = recency_weights(dates, half_life_days=policy.half_life_days)
    if not policy.by_family:
        return calibrator_fit(proba=proba, y_true=y_true, method=policy.method, weights=weights)
    if features is None:
        raise ValueError("a per-family calibrator needs the encoded rows")
    column = list(feature_names).index(FAMILY_FEATURE)
    three = np.asarray(features)[:, column] > 0.5
    fitted: dict[str, Calibrator] = {}
    scores: dict[str, float] = {}
    for family, rows in (("2PT", ~three), ("3PT", three)):
        fitted[family], family_scores = calibrator_fit(
            proba=proba[rows], y_true=y_true[rows], method=policy.method,
            weights=None if weights is None else weights[rows],
        )
        scores.update({f"{family}/{name}": value for name, value in family_scores.items()})
    return FamilyCalibrator(column=column, two=fitted["2PT"], three=fitted["3PT"]), scores


@dataclass
class ShotModel:
    """Pipeline + estimator + calibrator: what gets registered and what serving calls."""

    kind: ModelKind
    pipeline: ShotFeaturePipeline
    estimator: Any
    calibrator: AnyCalibrator
    params: dict[str, Any] = field(default_factory=dict)
    best_iteration: int | None = None
    fit_seconds: float = 0.0
    calibration_scores: dict[str, float] = field(default_factory=dict)
    # The in-season correction on settled shots (training/ml/recalibration.py), attached after loading
    # by serving; never part of a registered model (a version is registered with None).
    recalibration: Recalibration | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.pipeline.feature_names

    def is_three(self, features: np.ndarray) -> np.ndarray:
        """The shot family of encoded rows (the ``is_three`` feature)."""
        return np.asarray(features)[:, self.feature_names.index(FAMILY_FEATURE)] > 0.5

    def action_groups(self, features: np.ndarray) -> np.ndarray:
        """The in-season correction's action group of encoded rows: the pipeline's action type (rare and
        unknown ones pooled as its ``Other``) and the family, ``"Driving Layup Shot|2PT"``."""
        actions = self.pipeline.action_columns()
        features = np.asarray(features)
        names = np.asarray(list(actions), dtype=object)[np.argmax(features[:, list(actions.values())], axis=1)]
        family = np.where(self.is_three(features), "|3PT", "|2PT")
        return np.char.add(names.astype(str), family).astype(object)

    def predict_raw(self, features: np.ndarray) -> np.ndarray:
        """Uncalibrated P(make) for an already-encoded matrix."""
        if self.kind == "xgboost":
            booster = self.estimator.get_booster()
            limit = (0, self.best_iteration + 1) if self.best_iteration is not None else (0, 0)
            # inplace_predict's C call without its per-call Python (training/ml/xgb_direct.py).
            return xgb_direct.predict(booster, features, iteration_range=limit)
        return self.estimator.predict_proba(features)[:, 1]

    def predict_proba_features(self, features: np.ndarray, *, recalibrated: bool = True) -> np.ndarray:
        """Calibrated P(make), then the in-season correction when one is attached (unless ``recalibrated``
        is False: what a refit of that correction is fitted on)."""
        proba = self.calibrator.apply(self.predict_raw(features), features=features)
        recalibration = self.recalibration if recalibrated else None
        if recalibration is None:
            return proba
        groups = self.action_groups(features) if recalibration.actions else None
        return recalibration_apply(recalibration=recalibration, proba=proba, is_three=self.is_three(features),
                                   groups=groups)

    def predict_proba_frame(
        self, frame: pd.DataFrame, *, history: PlayerHistory | None = None, recalibrated: bool = True
    ) -> np.ndarray:
        """Calibrated P(make) for a DataFrame of canonical shots (one without x/y: as ``predict_proba_records``)."""
        if frame.reindex(columns=["x_ft", "y_ft"]).isna().any(axis=None):
            if self.pipeline.game_context and any(c not in frame for c in self.pipeline.context_names):
                # The game context comes from the frame's own rows: read it before any row is spread.
                frame = frame.assign(**{name: values for name, values in previous_shots_frame(frame).items()
                                        if name not in frame})
            rows, owners = self.pipeline.spread_records(frame.to_dict("records"))
            if owners is not None:
                proba = self.predict_proba_features(self.pipeline.transform_records(rows, history=history),
                                                    recalibrated=recalibrated)
                return owned_means(proba, owners, len(frame))
        return self.predict_proba_features(self.pipeline.transform(frame, history=history), recalibrated=recalibrated)

    def predict_proba_records(
        self, records: Sequence[Mapping[str, Any]], *, history: PlayerHistory | None = None
    ) -> np.ndarray:
        """Calibrated P(make) for a few shot dicts (the serving path). A shot known only by its zone is the
        mean over its zone's training spots (``ShotFeaturePipeline.spread_records``): the model never saw
        a shot without a location, and one spot for the zone would price the zone's most typical shot."""
        rows, owners = self.pipeline.spread_records(records)
        proba = self.predict_proba_features(self.pipeline.transform_records(rows, history=history))
        return proba if owners is None else owned_means(proba, owners, len(records))

    def with_history(self, history: PlayerHistory) -> ShotModel:
        """Swap the default shooter history (e.g. for one rebuilt from the warehouse)."""
        self.pipeline.history = history
        return self

    def feature_importance(self) -> dict[str, float]:
        importances = np.asarray(self.estimator.feature_importances_, dtype=np.float64)
        total = importances.sum() or 1.0
        pairs = sorted(zip(self.feature_names, importances / total, strict=True), key=lambda p: -p[1])
        return {name: float(value) for name, value in pairs}


@dataclass
class TrainingData:
    """Encoded train and validation slices, built once and shared by the challengers."""

    pipeline: ShotFeaturePipeline
    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    validation_dates: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="datetime64[ns]"))
    # Per training row (None: all equal): recency weights when the window's older shots count less.
    w_train: np.ndarray | None = None


def training_data_build(
    *,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    history: PlayerHistory | None = None,
    pipeline_params: Mapping[str, Any] | None = None,
    train_half_life_days: float = 0.0,
) -> TrainingData:
    """Fit the pipeline on ``train`` and encode both slices (``train_half_life_days``: weigh each
    training shot by 0.5 ** (its age before the window's last date / half-life); 0, all alike).

    ``history`` defaults to one built from train + validation; every lookup is strictly
    before the shot's date, so a history that also holds later shots is equally safe.
    """
    if history is None:
        history = PlayerHistory.from_shots(pd.concat([train, validation], ignore_index=True))
    pipeline = ShotFeaturePipeline(**{**PIPELINE_PARAMS, **(pipeline_params or {})}).fit(train, history=history)
    return TrainingData(
        pipeline=pipeline,
        x_train=context_blanked(
            context_blanked(pipeline.transform(train), columns=pipeline.context_columns),
            columns=pipeline.opponent_columns, fraction=OPPONENT_UNKNOWN_FRACTION, seed=1),
        y_train=train[LABEL_COLUMN].to_numpy().astype(np.int64),
        x_validation=pipeline.transform(validation),
        y_validation=validation[LABEL_COLUMN].to_numpy().astype(np.int64),
        validation_dates=pd.to_datetime(validation["game_date"]).to_numpy(),
        w_train=recency_weights(train["game_date"], half_life_days=train_half_life_days),
    )


def context_blanked(x: np.ndarray, *, columns: Sequence[int], fraction: float = CONTEXT_UNKNOWN_FRACTION,
                    seed: int = 0) -> np.ndarray:
    """``x`` with the game-context ``columns`` set to NaN on a random ``fraction`` of rows (fixed seed:
    the same rows every run); the validation and test slices are left as they come."""
    if not len(columns) or not fraction or not len(x):
        return x
    rows = np.random.default_rng(seed).random(len(x)) < fraction
    x[np.ix_(rows, np.asarray(columns))] = np.nan
    return x


def model_calibrate(*, model: ShotModel, data: TrainingData, policy: CalibrationPolicy) -> ShotModel:
    """(Re)fit ``model``'s calibrator on the validation slice as ``policy`` says (the estimator is kept)."""
    model.calibrator, model.calibration_scores = calibrator_fit_policy(
        proba=model.predict_raw(data.x_validation), y_true=data.y_validation, policy=policy,
        features=data.x_validation, feature_names=model.feature_names, dates=data.validation_dates,
    )
    return model


def _policy(calibration: CalibrationMethod | CalibrationPolicy) -> CalibrationPolicy:
    return calibration if isinstance(calibration, CalibrationPolicy) else CalibrationPolicy(method=calibration)


def xgboost_fit(
    *,
    data: TrainingData,
    params: Mapping[str, Any] | None = None,
    calibration: CalibrationMethod | CalibrationPolicy = CALIBRATION,
) -> ShotModel:
    """XGBoost with early stopping on the validation slice, then a calibrator on the same slice."""
    merged = {**XGBOOST_PARAMS, **(params or {})}
    started = time.perf_counter()
    estimator = XGBClassifier(**merged)
    estimator.fit(data.x_train, data.y_train, sample_weight=data.w_train,
                  eval_set=[(data.x_validation, data.y_validation)], verbose=False)
    best = getattr(estimator, "best_iteration", None)
    model = ShotModel("xgboost", data.pipeline, estimator, Calibrator(), params=merged,
                      best_iteration=int(best) if best is not None else None)
    model_calibrate(model=model, data=data, policy=_policy(calibration))
    model.fit_seconds = time.perf_counter() - started
    return model


def random_forest_fit(
    *,
    data: TrainingData,
    params: Mapping[str, Any] | None = None,
    calibration: CalibrationMethod | CalibrationPolicy = CALIBRATION,
) -> ShotModel:
    """Random Forest on the training slice, calibrated on the validation slice."""
    merged = {**RANDOM_FOREST_PARAMS, **(params or {})}
    started = time.perf_counter()
    estimator = RandomForestClassifier(**merged).fit(data.x_train, data.y_train, sample_weight=data.w_train)
    # Fitting uses both cores; predicting one shot across a joblib pool costs more than it saves.
    estimator.set_params(n_jobs=1)
    model = ShotModel("random_forest", data.pipeline, estimator, Calibrator(), params=merged)
    model_calibrate(model=model, data=data, policy=_policy(calibration))
    model.fit_seconds = time.perf_counter() - started
    return model


def challengers_fit(
    *,
    data: TrainingData,
    xgboost_params: Mapping[str, Any] | None = None,
    random_forest_params: Mapping[str, Any] | None = None,
    calibration: CalibrationMethod | CalibrationPolicy = CALIBRATION,
    kinds: Sequence[ModelKind] = ("random_forest", "xgboost"),
) -> dict[str, ShotModel]:
    """The challengers on one already-encoded ``data``."""
    fits: dict[str, Callable[..., ShotModel]] = {"xgboost": xgboost_fit, "random_forest": random_forest_fit}
    params = {"xgboost": xgboost_params, "random_forest": random_forest_params}
    models: dict[str, ShotModel] = {}
    for kind in kinds:
        if kind not in fits:
            raise ValueError(f"unknown model kind {kind!r}")
        models[kind] = fits[kind](data=data, params=params[kind], calibration=calibration)
    return models


def challengers_train(
    *,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    history: PlayerHistory | None = None,
    xgboost_params: Mapping[str, Any] | None = None,
    random_forest_params: Mapping[str, Any] | None = None,
    pipeline_params: Mapping[str, Any] | None = None,
    calibration: CalibrationMethod | CalibrationPolicy = CALIBRATION,
    kinds: Sequence[ModelKind] = ("random_forest", "xgboost"),
) -> dict[str, ShotModel]:
    """Both challengers on one shared encoding of the data."""
    data = training_data_build(train=train, validation=validation, history=history, pipeline_params=pipeline_params)
    return challengers_fit(data=data, xgboost_params=xgboost_params, random_forest_params=random_forest_params,
                           calibration=calibration, kinds=kinds)


def owned_means(values: np.ndarray, owners: np.ndarray, count: int) -> np.ndarray:
    """The mean of ``values`` per owner index 0..count-1 (each owner has at least one value)."""
    return np.bincount(owners, weights=values, minlength=count) / np.bincount(owners, minlength=count)
