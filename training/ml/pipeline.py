"""Train, score and register the challengers on one split: the steps the Celery pipeline and
the benchmark share (plain Python; the Django service adds data loading, drift reference,
promotion and records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.ml.context import with_previous_shots
from training.ml.drift import DriftReport
from training.ml.evaluate import (
    ClassificationScores,
    LookupBaseline,
    calibration_figure,
    confusion_figure,
    importance_figure,
    scores_compute,
)
from training.ml.features import HISTORY_DAYS, LABEL_COLUMN, PlayerHistory
from training.ml.registry import DatasetDescription, ModelRegistry, dataset_describe
from training.ml.split import TemporalSplit
from training.ml.train import ShotModel, challengers_train

Progress = Callable[[str, int], None]


@dataclass
class Challenger:
    kind: str
    model: ShotModel
    scores: ClassificationScores  # on the holdout
    validation_scores: ClassificationScores  # on the validation slice: what the best is chosen on
    holdout_proba: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    run_id: str = ""
    version: int | None = None


@dataclass
class ChallengerRound:
    split: TemporalSplit
    history: PlayerHistory
    dataset: DatasetDescription
    baseline: ClassificationScores
    baseline_proba: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    challengers: dict[str, Challenger] = field(default_factory=dict)

    @property
    def holdout_labels(self) -> np.ndarray:
        return self.split.test[LABEL_COLUMN].to_numpy().astype(np.int64)

    @property
    def holdout_games(self) -> np.ndarray:
        return self.split.test["game_id"].astype(str).to_numpy()

    def holdout_examples(self, n: int = 3) -> list[dict[str, Any]]:
        # With their game context (as computed from the whole test slice): the signature's columns.
        rows = with_previous_shots(self.split.test).head(n).to_dict(orient="records")
        return [{**row, "game_date": pd.Timestamp(row["game_date"]).to_pydatetime()} for row in rows]


def _quiet(step: str, percent: int) -> None:
    pass


def challengers_round(
    *,
    frame: pd.DataFrame,
    split: TemporalSplit,
    registry: ModelRegistry,
    source: str,
    xgboost_params: Mapping[str, Any] | None = None,
    random_forest_params: Mapping[str, Any] | None = None,
    history_shots: pd.DataFrame | None = None,
    history_days: int = HISTORY_DAYS,
    drift: DriftReport | None = None,
    tags: Mapping[str, str] | None = None,
    progress: Progress = _quiet,
) -> ChallengerRound:
    """Fit both challengers, score them on the validation slice and, with the lookup baseline, on the
    holdout; register both.

    Shooter history follows the one rule (``history_days`` before each shot's game date, see
    ``ShotFeaturePipeline``): ``history_shots`` must hold every shot from ``history_days`` before
    the window's first date (the caller loads them; ``frame`` itself when omitted). Lookups are
    strictly before each shot's date, so it is leak-free, and it is exactly what serving and
    backtests compute from the warehouse for the same shot.
    """
    history = PlayerHistory.from_shots(history_shots if history_shots is not None else frame)
    known = pd.concat([split.train, split.validation], ignore_index=True)
    y_test = split.test[LABEL_COLUMN].to_numpy()
    baseline_proba = LookupBaseline().fit(known).predict_proba_frame(split.test)
    result = ChallengerRound(
        split=split,
        history=history,
        dataset=dataset_describe(
            source=source, slices={"train": split.train, "validation": split.validation, "test": split.test}
        ),
        baseline=scores_compute(y_true=y_test, proba=baseline_proba),
        baseline_proba=baseline_proba,
    )
    progress("training the challengers", 40)
    models = challengers_train(
        train=split.train,
        validation=split.validation,
        history=history,
        xgboost_params=xgboost_params,
        random_forest_params=random_forest_params,
        pipeline_params={"history_days": history_days},
    )
    progress("scoring and registering the challengers", 70)
    for kind, model in models.items():
        proba = model.predict_proba_frame(split.test, history=history)
        challenger = Challenger(
            kind=kind, model=model, scores=scores_compute(y_true=y_test, proba=proba),
            validation_scores=scores_compute(
                y_true=split.validation[LABEL_COLUMN].to_numpy(),
                proba=model.predict_proba_frame(split.validation, history=history),
            ),
            holdout_proba=np.asarray(proba, dtype=np.float64),
        )
        logged = registry.run_log(
            model=model,
            metrics={
                **challenger.scores.as_metrics(prefix="holdout_"),
                **challenger.validation_scores.as_metrics(prefix="validation_"),
                **result.baseline.as_metrics(prefix="baseline_"),
                **({"drift_share": drift.share_drifted, "dataset_drift": float(drift.dataset_drift)} if drift else {}),
            },
            dataset=result.dataset,
            input_records=result.holdout_examples(),
            params={
                "holdout_start": str(split.test_start.date()),
                "validation_start": str(split.validation_start.date()),
                "train_rows": len(split.train),
                "history_days": history_days,
            },
            figures={
                "calibration": calibration_figure(y_true=y_test, probabilities={kind: proba, "baseline": baseline_proba}),
                "confusion": confusion_figure(confusion=challenger.scores.confusion),
                "feature_importance": importance_figure(importance=model.feature_importance()),
            },
            documents={"drift.json": drift.summary()} if drift else None,
            tags=dict(tags or {}),
            run_name=f"challenger-{kind}",
        )
        challenger.run_id = logged.run_id
        challenger.version = int(logged.version) if logged.version is not None else None
        result.challengers[kind] = challenger
    return result


def model_rescore(*, model: ShotModel, split: TemporalSplit, history: PlayerHistory) -> tuple[ClassificationScores, np.ndarray]:
    """Score any model (the champion) on the round's holdout, with the same history; also its probabilities."""
    proba = np.asarray(model.predict_proba_frame(split.test, history=history), dtype=np.float64)
    return scores_compute(y_true=split.test[LABEL_COLUMN].to_numpy(), proba=proba), proba
