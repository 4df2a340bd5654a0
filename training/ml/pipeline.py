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

from training.ml.drift import DriftReport
from training.ml.evaluate import (
    ClassificationScores,
    LookupBaseline,
    calibration_figure,
    confusion_figure,
    importance_figure,
    scores_compute,
)
from training.ml.features import LABEL_COLUMN, PlayerHistory
from training.ml.registry import DatasetDescription, ModelRegistry, dataset_describe
from training.ml.split import TemporalSplit
from training.ml.train import ShotModel, challengers_train

Progress = Callable[[str, int], None]


@dataclass
class Challenger:
    kind: str
    model: ShotModel
    scores: ClassificationScores
    run_id: str = ""
    version: int | None = None
    proba: np.ndarray | None = field(default=None, repr=False)  # on the holdout, for the model card


@dataclass
class ChallengerRound:
    split: TemporalSplit
    history: PlayerHistory
    dataset: DatasetDescription
    baseline: ClassificationScores
    challengers: dict[str, Challenger] = field(default_factory=dict)

    def holdout_examples(self, n: int = 3) -> list[dict[str, Any]]:
        rows = self.split.test.head(n).to_dict(orient="records")
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
    drift: DriftReport | None = None,
    tags: Mapping[str, str] | None = None,
    progress: Progress = _quiet,
) -> ChallengerRound:
    """Fit both challengers, score them and the lookup baseline on the holdout, register both.

    Player history comes from the whole frame: every lookup is strictly before the shot's
    game date, so it is leak-free, and it is what serving sees (the warehouse as of the date).
    """
    history = PlayerHistory.from_shots(frame)
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
    )
    progress("training the challengers", 40)
    models = challengers_train(
        train=split.train,
        validation=split.validation,
        history=history,
        xgboost_params=xgboost_params,
        random_forest_params=random_forest_params,
    )
    progress("scoring and registering the challengers", 70)
    for kind, model in models.items():
        proba = model.predict_proba_frame(split.test, history=history)
        challenger = Challenger(kind=kind, model=model, scores=scores_compute(y_true=y_test, proba=proba), proba=proba)
        logged = registry.run_log(
            model=model,
            metrics={
                **challenger.scores.as_metrics(prefix="holdout_"),
                **result.baseline.as_metrics(prefix="baseline_"),
                **({"drift_share": drift.share_drifted, "dataset_drift": float(drift.dataset_drift)} if drift else {}),
            },
            dataset=result.dataset,
            input_records=result.holdout_examples(),
            params={
                "holdout_start": str(split.test_start.date()),
                "validation_start": str(split.validation_start.date()),
                "train_rows": len(split.train),
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


def model_rescore(*, model: ShotModel, split: TemporalSplit, history: PlayerHistory) -> ClassificationScores:
    """Score any model (the champion) on the round's holdout, with the same history."""
    proba = model.predict_proba_frame(split.test, history=history)
    return scores_compute(y_true=split.test[LABEL_COLUMN].to_numpy(), proba=np.asarray(proba))
