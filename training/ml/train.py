"""Challengers (Random Forest, XGBoost) trained on pipeline features, calibrated, bundled for serving.

The probabilities are sold as odds, so each estimator gets a calibrator fitted on the
inner validation slice (the latest training dates), chosen between none, Platt and
isotonic by log loss on half of that slice and then refitted on all of it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from xgboost import XGBClassifier

from training.ml.features import LABEL_COLUMN, PlayerHistory, ShotFeaturePipeline

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

    def apply(self, proba: np.ndarray) -> np.ndarray:
        proba = np.asarray(proba, dtype=np.float64)
        if self.method == "platt":
            proba = 1.0 / (1.0 + np.exp(-(self.slope * _logit(proba) + self.intercept)))
        elif self.method == "isotonic":
            proba = np.interp(proba, self.x, self.y)
        return np.clip(proba, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)


def _logit(proba: np.ndarray) -> np.ndarray:
    clipped = np.clip(proba, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def calibrator_fit_method(*, proba: np.ndarray, y_true: np.ndarray, method: str) -> Calibrator:
    if method == "none":
        return Calibrator()
    if method == "platt":
        # Effectively unregularised: with thousands of shots the two parameters are well determined.
        model = LogisticRegression(C=1e6).fit(_logit(proba).reshape(-1, 1), y_true)
        return Calibrator("platt", slope=float(model.coef_[0, 0]), intercept=float(model.intercept_[0]))
    if method == "isotonic":
        model = IsotonicRegression(out_of_bounds="clip", y_min=PROBABILITY_FLOOR, y_max=1 - PROBABILITY_FLOOR)
        model.fit(proba, y_true)
        return Calibrator("isotonic", x=np.asarray(model.X_thresholds_), y=np.asarray(model.y_thresholds_))
    raise ValueError(f"unknown calibration method {method!r}")


def calibrator_fit(
    *, proba: np.ndarray, y_true: np.ndarray, method: CalibrationMethod = "auto", seed: int = 7
) -> tuple[Calibrator, dict[str, float]]:
    """Fit a calibrator; ``auto`` picks the method with the lowest held-out log loss.

    Returns the calibrator and the held-out log loss of each candidate (empty unless auto).
    """
    proba, y_true = np.asarray(proba, np.float64), np.asarray(y_true, np.int64)
    if method != "auto":
        return calibrator_fit_method(proba=proba, y_true=y_true, method=method), {}
    if len(np.unique(y_true)) < 2 or len(y_true) < 200:
        return Calibrator(), {}
    order = np.random.default_rng(seed).permutation(len(y_true))
    fit_rows, check_rows = order[: len(order) // 2], order[len(order) // 2 :]
    scores: dict[str, float] = {}
    for candidate in ("none", "platt", "isotonic"):
        calibrator = calibrator_fit_method(proba=proba[fit_rows], y_true=y_true[fit_rows], method=candidate)
        scores[candidate] = float(log_loss(y_true[check_rows], calibrator.apply(proba[check_rows]), labels=[0, 1]))
    # Prefer the simpler map unless the richer one is clearly better (isotonic can overfit small slices).
    best = "none"
    for candidate in ("platt", "isotonic"):
        if scores[candidate] < scores[best] - 2e-4:
            best = candidate
    return calibrator_fit_method(proba=proba, y_true=y_true, method=best), scores


@dataclass
class ShotModel:
    """Pipeline + estimator + calibrator: what gets registered and what serving calls."""

    kind: ModelKind
    pipeline: ShotFeaturePipeline
    estimator: Any
    calibrator: Calibrator
    params: dict[str, Any] = field(default_factory=dict)
    best_iteration: int | None = None
    fit_seconds: float = 0.0
    calibration_scores: dict[str, float] = field(default_factory=dict)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.pipeline.feature_names

    def predict_raw(self, features: np.ndarray) -> np.ndarray:
        """Uncalibrated P(make) for an already-encoded matrix."""
        if self.kind == "xgboost":
            booster = self.estimator.get_booster()
            limit = (0, self.best_iteration + 1) if self.best_iteration is not None else (0, 0)
            # inplace_predict skips the DMatrix build: most of the cost of predicting one row.
            return np.asarray(booster.inplace_predict(features, iteration_range=limit), dtype=np.float64)
        return self.estimator.predict_proba(features)[:, 1]

    def predict_proba_features(self, features: np.ndarray) -> np.ndarray:
        return self.calibrator.apply(self.predict_raw(features))

    def predict_proba_frame(self, frame: pd.DataFrame, *, history: PlayerHistory | None = None) -> np.ndarray:
        """Calibrated P(make) for a DataFrame of canonical shots."""
        return self.predict_proba_features(self.pipeline.transform(frame, history=history))

    def predict_proba_records(
        self, records: Sequence[Mapping[str, Any]], *, history: PlayerHistory | None = None
    ) -> np.ndarray:
        """Calibrated P(make) for a few shot dicts (the serving path)."""
        return self.predict_proba_features(self.pipeline.transform_records(records, history=history))

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


def training_data_build(
    *,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    history: PlayerHistory | None = None,
    pipeline_params: Mapping[str, Any] | None = None,
) -> TrainingData:
    """Fit the pipeline on ``train`` and encode both slices.

    ``history`` defaults to one built from train + validation; every lookup is strictly
    before the shot's date, so a history that also holds later shots is equally safe.
    """
    if history is None:
        history = PlayerHistory.from_shots(pd.concat([train, validation], ignore_index=True))
    pipeline = ShotFeaturePipeline(**{**PIPELINE_PARAMS, **(pipeline_params or {})}).fit(train, history=history)
    return TrainingData(
        pipeline=pipeline,
        x_train=pipeline.transform(train),
        y_train=train[LABEL_COLUMN].to_numpy().astype(np.int64),
        x_validation=pipeline.transform(validation),
        y_validation=validation[LABEL_COLUMN].to_numpy().astype(np.int64),
    )


def xgboost_fit(
    *, data: TrainingData, params: Mapping[str, Any] | None = None, calibration: CalibrationMethod = "auto"
) -> ShotModel:
    """XGBoost with early stopping on the validation slice, then a calibrator on the same slice."""
    merged = {**XGBOOST_PARAMS, **(params or {})}
    started = time.perf_counter()
    estimator = XGBClassifier(**merged)
    estimator.fit(data.x_train, data.y_train, eval_set=[(data.x_validation, data.y_validation)], verbose=False)
    best = getattr(estimator, "best_iteration", None)
    model = ShotModel("xgboost", data.pipeline, estimator, Calibrator(), params=merged,
                      best_iteration=int(best) if best is not None else None)
    model.calibrator, model.calibration_scores = calibrator_fit(
        proba=model.predict_raw(data.x_validation), y_true=data.y_validation, method=calibration
    )
    model.fit_seconds = time.perf_counter() - started
    return model


def random_forest_fit(
    *, data: TrainingData, params: Mapping[str, Any] | None = None, calibration: CalibrationMethod = "auto"
) -> ShotModel:
    """Random Forest on the training slice, calibrated on the validation slice."""
    merged = {**RANDOM_FOREST_PARAMS, **(params or {})}
    started = time.perf_counter()
    estimator = RandomForestClassifier(**merged).fit(data.x_train, data.y_train)
    # Fitting uses both cores; predicting one shot across a joblib pool costs more than it saves.
    estimator.set_params(n_jobs=1)
    model = ShotModel("random_forest", data.pipeline, estimator, Calibrator(), params=merged)
    model.calibrator, model.calibration_scores = calibrator_fit(
        proba=model.predict_raw(data.x_validation), y_true=data.y_validation, method=calibration
    )
    model.fit_seconds = time.perf_counter() - started
    return model


def challengers_train(
    *,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    history: PlayerHistory | None = None,
    xgboost_params: Mapping[str, Any] | None = None,
    random_forest_params: Mapping[str, Any] | None = None,
    pipeline_params: Mapping[str, Any] | None = None,
    calibration: CalibrationMethod = "auto",
    kinds: Sequence[ModelKind] = ("random_forest", "xgboost"),
) -> dict[str, ShotModel]:
    """Both challengers on one shared encoding of the data."""
    data = training_data_build(train=train, validation=validation, history=history, pipeline_params=pipeline_params)
    models: dict[str, ShotModel] = {}
    for kind in kinds:
        if kind == "xgboost":
            models[kind] = xgboost_fit(data=data, params=xgboost_params, calibration=calibration)
        elif kind == "random_forest":
            models[kind] = random_forest_fit(data=data, params=random_forest_params, calibration=calibration)
        else:
            raise ValueError(f"unknown model kind {kind!r}")
    return models
