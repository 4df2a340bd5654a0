"""Walk-forward evaluation: each season scored by challengers trained, as the product trains them, only
on what precedes it (plain Python; ``bench/walkforward.py`` is the command line).

For every season S after the first (seasons ordered by date):

* the training window is the ``training_seasons`` seasons before S (the product's ``TRAINING_SEASONS``),
  split into train / validation by date with the pipeline's split (``shots_split_by_date``, the last
  ``validation_fraction`` of the window's dates validate), S itself being the test side;
* the shooter history follows the one rule (``history_days`` before each shot's date) and holds the
  shots from ``history_days`` before the window up to the end of S: lookups are strictly before each
  shot's date, so a shot of S sees the earlier games of S as serving would, never its own label;
* the challengers are the product's (``challengers_fit``); the best is chosen on the validation slice
  by log loss, as promotion chooses it, and scored on all of S next to the zone x action lookup
  baseline fitted on the same window;
* each calibration policy is fitted on the same estimators (only the calibrator changes), so several
  policies cost one training;
* an ``InSeasonPolicy`` adds the in-season recalibration (``training/ml/recalibration.py``) on top of
  its base policy: the shots of each date of S get a per-family correction fitted only on the shots of
  S settled on earlier dates (refitted every ``refit_days``, 1 = every game date), as serving would
  refit it on the warehouse's settled shots. The best challenger is still chosen on validation by the
  base policy (no shot of S precedes the validation slice, so the correction is the identity there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.ml.evaluate import ClassificationScores, LookupBaseline, scores_compute
from training.ml.features import HISTORY_DAYS, LABEL_COLUMN, PlayerHistory
from training.ml.recalibration import RecalibrationConfig, inseason_apply
from training.ml.split import shots_split_by_date
from training.ml.train import (
    CalibrationPolicy,
    ModelKind,
    challengers_fit,
    model_calibrate,
    training_data_build,
)

SHOT_TYPES = ("2PT", "3PT")


@dataclass(frozen=True)
class InSeasonPolicy:
    """``base`` (the calibrator fitted on the training window), then the in-season correction."""

    base: CalibrationPolicy
    recalibration: RecalibrationConfig = field(default_factory=RecalibrationConfig)
    refit_days: int = 1

    @property
    def name(self) -> str:
        return f"{self.base.name} + in-season ({self.recalibration.name}, refit every {self.refit_days} d)"


AnyPolicy = CalibrationPolicy | InSeasonPolicy
DEFAULT_POLICIES: dict[str, AnyPolicy] = {"global": CalibrationPolicy()}

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class SliceScores:
    """Scores of one model on a season: overall and per shot type, with |mean predicted - observed|."""

    overall: ClassificationScores
    by_type: dict[str, ClassificationScores]

    def gap(self, shot_type: str) -> float:
        scores = self.by_type.get(shot_type)
        return abs(scores.mean_probability - scores.positive_rate) if scores and scores.rows else float("nan")

    def as_dict(self) -> dict[str, Any]:
        def short(s: ClassificationScores) -> dict[str, float]:
            return {"rows": s.rows, "auc": round(s.roc_auc, 4), "log_loss": round(s.log_loss, 4),
                    "brier": round(s.brier, 4), "ece": round(s.ece, 4),
                    "mean_p": round(s.mean_probability, 4), "observed": round(s.positive_rate, 4)}

        return {"overall": short(self.overall), **{t: short(s) for t, s in self.by_type.items()},
                **{f"gap_{t.lower()}": round(self.gap(t), 4) for t in self.by_type}}


def slice_scores(*, frame: pd.DataFrame, proba: np.ndarray) -> SliceScores:
    y = frame[LABEL_COLUMN].to_numpy().astype(np.int64)
    types = frame["shot_type"].to_numpy()
    return SliceScores(
        overall=scores_compute(y_true=y, proba=proba),
        by_type={t: scores_compute(y_true=y[types == t], proba=proba[types == t]) for t in SHOT_TYPES
                 if (types == t).any()},
    )


@dataclass
class SeasonResult:
    season: str
    train_seasons: list[str]
    train_first: dt.date
    train_last: dt.date  # last date of train + validation: strictly before test_first
    validation_first: dt.date
    test_first: dt.date
    test_last: dt.date
    train_rows: int
    validation_rows: int
    test_rows: int
    baseline: SliceScores
    best: dict[str, str] = field(default_factory=dict)  # policy -> kind chosen on validation log loss
    validation_log_loss: dict[str, dict[str, float]] = field(default_factory=dict)  # policy -> kind -> score
    calibrators: dict[str, dict[str, str]] = field(default_factory=dict)  # policy -> kind -> method
    scores: dict[str, SliceScores] = field(default_factory=dict)  # policy -> the best challenger on S
    # policy -> family -> the in-season correction's logit shift at the last date of S (in-season policies)
    corrections: dict[str, dict[str, float]] = field(default_factory=dict)
    # what the test probabilities were computed on and from, kept with keep_probabilities=True
    test_labels: np.ndarray | None = field(default=None, repr=False)
    test_is_three: np.ndarray | None = field(default=None, repr=False)
    test_groups: np.ndarray | None = field(default=None, repr=False)  # action groups (ShotModel.action_groups)
    test_dates: np.ndarray | None = field(default=None, repr=False)
    test_proba: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # policy -> the best's
    seconds: float = 0.0

    def summary(self, policy: str) -> dict[str, Any]:
        scores = self.scores[policy]
        return {
            "season": self.season,
            "train_seasons": self.train_seasons,
            "train_dates": [str(self.train_first), str(self.train_last)],
            "test_dates": [str(self.test_first), str(self.test_last)],
            "rows": {"train": self.train_rows, "validation": self.validation_rows, "test": self.test_rows},
            "best": self.best[policy],
            "calibrator": self.calibrators[policy][self.best[policy]],
            "validation_log_loss": {k: round(v, 5) for k, v in self.validation_log_loss[policy].items()},
            "model": scores.as_dict(),
            "baseline": self.baseline.as_dict(),
            "auc_minus_baseline": round(scores.overall.roc_auc - self.baseline.overall.roc_auc, 4),
            **({"last_correction": self.corrections[policy]} if policy in self.corrections else {}),
            "seconds": round(self.seconds, 1),
        }


def worst_cases(results: Sequence[SeasonResult], policy: str) -> dict[str, Any]:
    """The figures the issue's targets are stated on, at their worst season."""
    if not results:
        return {}
    scores = [r.scores[policy] for r in results]

    def worst(values: list[float], *, high: bool) -> float:
        return round(float(max(values) if high else min(values)), 4)

    return {
        "worst_auc": worst([s.overall.roc_auc for s in scores], high=False),
        "worst_auc_minus_baseline": worst(
            [s.overall.roc_auc - r.baseline.overall.roc_auc for s, r in zip(scores, results, strict=True)], high=False
        ),
        "worst_log_loss": worst([s.overall.log_loss for s in scores], high=True),
        "worst_brier": worst([s.overall.brier for s in scores], high=True),
        "worst_ece": worst([s.overall.ece for s in scores], high=True),
        "worst_gap_2pt": worst([s.gap("2PT") for s in scores], high=True),
        "worst_gap_3pt": worst([s.gap("3PT") for s in scores], high=True),
        "mean_log_loss": round(float(np.mean([s.overall.log_loss for s in scores])), 5),
    }


def seasons_ordered(shots: pd.DataFrame) -> list[str]:
    """Seasons by their first game date (a season label is not always sortable, e.g. '1999-00')."""
    return [str(s) for s in shots.groupby("season")["game_date"].min().sort_values().index]


def walkforward_run(
    *,
    shots: pd.DataFrame,
    seasons: Sequence[str] | None = None,
    training_seasons: int = 2,
    history_days: int = HISTORY_DAYS,
    validation_fraction: float = 0.1,
    kinds: Sequence[ModelKind] = ("random_forest", "xgboost"),
    xgboost_params: Mapping[str, Any] | None = None,
    random_forest_params: Mapping[str, Any] | None = None,
    pipeline_params: Mapping[str, Any] | None = None,
    policies: Mapping[str, AnyPolicy] | None = None,
    keep_probabilities: bool = False,
    extra_features: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    train_half_life_days: float = 0.0,
    progress: Progress = _quiet,
) -> list[SeasonResult]:
    """Score each of ``seasons`` (default: every season after the first) with challengers trained on
    the ``training_seasons`` seasons before it; see the module docstring for the rule.

    ``train_half_life_days``: weigh the training rows by recency (``training_data_build``; 0, the product's rule:
    all alike). ``extra_features`` (measurement only, e.g. ``training.ml.context.game_context_features``): columns
    computed once on all of ``shots`` (same index) and appended to the pipeline's encoded rows; each
    must only read what precedes its shot."""
    import time

    policies = dict(policies or DEFAULT_POLICIES)
    extra_columns: list[str] = []
    if extra_features is not None:
        extra = extra_features(shots)
        extra_columns = [str(c) for c in extra.columns]
        shots = shots.assign(**{c: extra[c].to_numpy(np.float64) for c in extra_columns})

    def encoded(x: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
        return np.hstack([x, frame[extra_columns].to_numpy(np.float64)]) if extra_columns else x
    order = seasons_ordered(shots)
    wanted = [s for s in order[1:] if seasons is None or s in seasons]
    unknown = set(seasons or ()) - set(order[1:])
    if unknown:
        raise ValueError(f"cannot walk forward to {sorted(unknown)}: seasons with an earlier one are {order[1:]}")
    results: list[SeasonResult] = []
    for season in wanted:
        started = time.perf_counter()
        position = order.index(season)
        window_seasons = order[max(0, position - training_seasons) : position]
        window = shots.loc[shots["season"].isin(window_seasons)]
        test = shots.loc[shots["season"] == season]
        test_first = test["game_date"].min()
        if window["game_date"].max() >= test_first:
            raise ValueError(f"season {season} starts on {test_first.date()}, before its training window ends")
        split = shots_split_by_date(
            pd.concat([window, test], ignore_index=True), test_start=test_first.to_pydatetime(),
            validation_fraction=validation_fraction,
        )
        first = window["game_date"].min()
        dates = shots["game_date"]
        history_rows = dates <= test["game_date"].max()
        if history_days:
            history_rows &= dates >= first - pd.Timedelta(days=history_days)
        history = PlayerHistory.from_shots(shots.loc[history_rows])
        progress(f"{season}: training on {', '.join(window_seasons)} ({len(split.train):,} train, "
                 f"{len(split.validation):,} validation shots), scoring {len(split.test):,} shots")
        data = training_data_build(
            train=split.train, validation=split.validation, history=history,
            pipeline_params={**(pipeline_params or {}), "history_days": history_days},
            train_half_life_days=train_half_life_days,
        )
        data.x_train = encoded(data.x_train, split.train)
        data.x_validation = encoded(data.x_validation, split.validation)
        models = challengers_fit(data=data, xgboost_params=xgboost_params,
                                 random_forest_params=random_forest_params, kinds=kinds)
        known = pd.concat([split.train, split.validation], ignore_index=True)
        baseline = LookupBaseline().fit(known).predict_proba_frame(split.test)
        x_test = encoded(data.pipeline.transform(split.test, history=history), split.test)
        raw_test = {kind: model.predict_raw(x_test) for kind, model in models.items()}
        result = SeasonResult(
            season=season, train_seasons=list(window_seasons),
            train_first=split.train["game_date"].min().date(), train_last=known["game_date"].max().date(),
            validation_first=split.validation["game_date"].min().date(),
            test_first=split.test["game_date"].min().date(), test_last=split.test["game_date"].max().date(),
            train_rows=len(split.train), validation_rows=len(split.validation), test_rows=len(split.test),
            baseline=slice_scores(frame=split.test, proba=baseline),
        )
        y_test = split.test[LABEL_COLUMN].to_numpy().astype(np.int64)
        is_three = split.test["shot_type"].to_numpy() == "3PT"
        test_dates = pd.to_datetime(split.test["game_date"]).to_numpy()
        if keep_probabilities:
            result.test_labels, result.test_is_three, result.test_dates = y_test, is_three, test_dates
            result.test_groups = next(iter(models.values())).action_groups(x_test)
        for name, policy in policies.items():
            validation_scores: dict[str, float] = {}
            test_proba: dict[str, np.ndarray] = {}
            methods: dict[str, str] = {}
            base = policy.base if isinstance(policy, InSeasonPolicy) else policy
            for kind, model in models.items():
                model_calibrate(model=model, data=data, policy=base)
                validation_scores[kind] = scores_compute(
                    y_true=data.y_validation, proba=model.predict_proba_features(data.x_validation)
                ).log_loss
                test_proba[kind] = model.calibrator.apply(raw_test[kind], features=x_test)
                methods[kind] = model.calibrator.method
            best = min(validation_scores, key=lambda kind: validation_scores[kind])
            proba = test_proba[best]
            if isinstance(policy, InSeasonPolicy):
                proba, trace = inseason_apply(
                    proba=proba, y_true=y_test, is_three=is_three, dates=test_dates,
                    config=policy.recalibration, refit_days=policy.refit_days,
                    groups=models[best].action_groups(x_test) if policy.recalibration.by_action else None,
                )
                last = trace.fits[-1]
                result.corrections[name] = {"2PT": round(last.two.intercept, 4), "3PT": round(last.three.intercept, 4)}
                methods = {kind: f"{method} + in-season" for kind, method in methods.items()}
            result.best[name] = best
            result.validation_log_loss[name] = validation_scores
            result.calibrators[name] = methods
            result.scores[name] = slice_scores(frame=split.test, proba=proba)
            if keep_probabilities:
                result.test_proba[name] = proba
        result.seconds = time.perf_counter() - started
        progress(f"{season}: done in {result.seconds:.0f} s")
        results.append(result)
    return results


def walkforward_summary(results: Sequence[SeasonResult], *, policies: Sequence[str]) -> dict[str, Any]:
    """One JSON-ready dict: the first policy's per-season figures and worst cases at the top level,
    every policy's under ``policies``."""
    main = policies[0]
    return {
        "policy": main,
        "seasons": [r.summary(main) for r in results],
        **worst_cases(results, main),
        "policies": {
            name: {**worst_cases(results, name),
                   "seasons": {r.season: r.summary(name)["model"]["overall"] | {
                       "gap_2pt": r.summary(name)["model"].get("gap_2pt"),
                       "gap_3pt": r.summary(name)["model"].get("gap_3pt"),
                       "best": r.best[name]} for r in results}}
            for name in policies
        },
    }
