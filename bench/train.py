"""Training benchmark on the real seasons: 2022-23 plus the first 80% of 2023-24, tested on the last 20%.

    python -m bench.train /work/shared/data/nba_shots

Runs the whole pipeline the Celery task will run (load, split, drift, both challengers,
evaluation against the lookup baseline, MLflow logging, registration and promotion of
the better model) and ends with one line of JSON for CI.  MLflow goes to a throw-away
SQLite store unless MLFLOW_TRACKING_URI is set.  The ``served`` row is the champion's holdout as
serving prices it: with the in-season correction, each test date fitted on earlier dates only.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingestion.readers import iter_mapped
from training.ml.drift import drift_report_build
from training.ml.evaluate import scores_compute
from training.ml.features import PlayerHistory
from training.ml.pipeline import challengers_round
from training.ml.recalibration import RecalibrationConfig, inseason_apply
from training.ml.registry import CHAMPION, ModelRegistry, temporary_tracking_uri
from training.ml.split import date_cutoff, shots_split_by_date
from training.ml.train import ShotModel

SEASON_FILES = ("NBA_2023_Shots.csv.zip", "NBA_2024_Shots.csv.zip")
TEST_SEASON = "2023-24"
TEST_FRACTION = 0.2


def season_load(path: Path) -> pd.DataFrame:
    frame = pd.DataFrame([record.shot.to_document() for record in iter_mapped(path) if record.shot])
    return frame.drop(columns=["_id", "ingested_at"])


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def single_shot_latency_us(model: Any, record: dict[str, Any], *, repeats: int = 500) -> float:
    model.predict_proba_records([record])
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict_proba_records([record])
        timings.append(time.perf_counter() - started)
    return float(np.median(timings) * 1e6)


# The served defaults (settings RECALIBRATION_*: intercept and slope per family, then action shifts).
SERVED_RECALIBRATION = RecalibrationConfig(slope=True, by_action=True)


def served_holdout_scores(model: ShotModel, *, frame: pd.DataFrame, split: Any, history: PlayerHistory) -> Any:
    """The holdout as serving prices it: each test date's probabilities corrected in season by a fit on
    the settled shots of earlier dates only (the window's last ``window_days`` before the test, then the
    test's own earlier dates), as ``backtests.selectors.shots_probabilities_inseason`` replays it."""
    first = split.test["game_date"].min()
    earlier = frame.loc[(frame["game_date"] < first)
                        & (frame["game_date"] >= first - pd.Timedelta(days=SERVED_RECALIBRATION.window_days))]
    both = pd.concat([earlier, split.test], ignore_index=True)
    x = np.vstack([model.pipeline.transform(earlier, history=history),
                   model.pipeline.transform(split.test, history=history)])
    corrected, _ = inseason_apply(
        proba=model.predict_proba_features(x, recalibrated=False), y_true=both["made"].to_numpy(),
        is_three=(both["shot_type"] == "3PT").to_numpy(), dates=both["game_date"].to_numpy(),
        config=SERVED_RECALIBRATION, groups=model.action_groups(x),
    )
    return scores_compute(y_true=split.test["made"].to_numpy().astype(np.int64), proba=corrected[len(earlier):])


def zone_only_pricing(model: ShotModel, *, test: pd.DataFrame, history: PlayerHistory,
                      sample: int = 8_000) -> dict[str, Any]:
    """A seeded sample of the holdout priced as an API caller who sends only ``zone_basic`` (no x/y,
    distance, area or range) sees it, against the same shots priced with their location and against what
    happened: mean P(make) per zone. ``blank`` is the same without the zone spots (every pipeline before
    them), the location left unknown; ``one_spot`` prices each at its zone's median spot instead of
    averaging over the zone's training spots."""
    test = test.sample(n=min(sample, len(test)), random_state=7)
    stripped = test.assign(x_ft=np.nan, y_ft=np.nan, distance_ft=np.nan, zone_area=None, zone_range=None)
    blank = copy.copy(model)
    blank.pipeline = copy.copy(model.pipeline)
    blank.pipeline.zone_spots = {}
    one_spot = copy.copy(model)
    one_spot.pipeline = copy.copy(model.pipeline)
    one_spot.pipeline.zone_spots = {key: (spots[len(spots) // 2],) for key, spots in model.pipeline.zone_spots.items()}
    priced = pd.DataFrame({
        "zone": test["zone_basic"].to_numpy(), "observed": test["made"].to_numpy(np.float64),
        "located": model.predict_proba_frame(test, history=history),
        "zone_only": model.predict_proba_frame(stripped, history=history),
        "one_spot": one_spot.predict_proba_frame(stripped, history=history),
        "blank": blank.predict_proba_frame(stripped, history=history),
    })
    by_zone = priced.groupby("zone").agg(shots=("observed", "size"), observed=("observed", "mean"),
                                         located=("located", "mean"), zone_only=("zone_only", "mean"),
                                         one_spot=("one_spot", "mean"), blank=("blank", "mean"))
    by_zone = by_zone[by_zone["shots"] >= 100]

    def worst(column: str) -> float:
        return float((by_zone[column] - by_zone["observed"]).abs().max())

    return {"by_zone": by_zone, "worst": {name: worst(name) for name in ("located", "zone_only", "one_spot", "blank")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder holding NBA_2023_Shots.csv.zip and NBA_2024_Shots.csv.zip")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 2)
        print(f"  {name:<12} {now - since:6.1f} s", flush=True)
        return now

    print("PariVision training benchmark", flush=True)
    mark = time.perf_counter()
    frame = pd.concat([season_load(args.data_dir / name) for name in SEASON_FILES], ignore_index=True)
    mark = lap("load", mark)

    test_start = date_cutoff(frame.loc[frame["season"] == TEST_SEASON, "game_date"], fraction=TEST_FRACTION)
    split = shots_split_by_date(frame, test_start=test_start, validation_fraction=0.1)
    mark = lap("split", mark)

    known = pd.concat([split.train, split.validation], ignore_index=True)
    drift = drift_report_build(reference=known, current=split.test)
    mark = lap("drift", mark)

    # The same round the Celery pipeline runs: fit both, score them and the baseline on the
    # holdout, log and register both in MLflow.
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or temporary_tracking_uri()
    registry = ModelRegistry(tracking_uri=tracking_uri, experiment_name="parivision-bench", model_name="parivision")
    round_ = challengers_round(
        frame=frame,
        split=split,
        registry=registry,
        source=" + ".join(f"file:{name}" for name in SEASON_FILES),
        drift=drift,
        progress=lambda step, _percent: print(f"  … {step}", flush=True),
    )
    mark = lap("train+mlflow", mark)
    scores = {"baseline": round_.baseline, **{kind: c.scores for kind, c in round_.challengers.items()}}
    models = {kind: c.model for kind, c in round_.challengers.items()}
    versions = {kind: str(c.version) for kind, c in round_.challengers.items()}
    history = round_.history
    examples = round_.holdout_examples()
    # Chosen on the validation slice, as the pipeline does (the holdout only judges).
    best = min(models, key=lambda kind: round_.challengers[kind].validation_scores.log_loss)
    registry.alias_set(version=versions[best], alias=CHAMPION)
    champion = registry.model_load(alias=CHAMPION)
    expected = models[best].predict_proba_frame(split.test.head(500), history=history)
    if not np.allclose(champion.predict_proba_frame(split.test.head(500), history=history), expected):
        raise SystemExit("the champion loaded from MLflow does not reproduce its predictions")
    mark = lap("mlflow", mark)
    latency = single_shot_latency_us(champion, examples[0])
    zone_only_latency = single_shot_latency_us(champion, {**examples[0], "x_ft": None, "y_ft": None, "distance_ft": None,
                                                          "zone_area": None, "zone_range": None})
    pipeline_seconds = time.perf_counter() - started
    served = served_holdout_scores(champion, frame=frame, split=split, history=history)
    zone_only = zone_only_pricing(champion, test=split.test, history=history)

    print()
    print(f"rows: train {len(split.train):,}  validation {len(split.validation):,}  test {len(split.test):,}"
          f"  (test from {test_start.date()}, validation from {split.validation_start.date()})")
    print(f"drift: share {drift.share_drifted:.3f}  dataset drift {drift.dataset_drift}  "
          f"target drift {drift.target_drift}  columns {drift.drifted_columns}")
    print(f"{'model':<14}{'accuracy':>10}{'roc_auc':>10}{'log_loss':>10}{'brier':>10}{'ece':>10}{'fit_s':>8}  calibration")
    for name, score in scores.items():
        model = models.get(name)
        fit = f"{model.fit_seconds:8.1f}" if model else f"{'':>8}"
        calibration = model.calibrator.method if model else "-"
        print(f"{name:<14}{score.accuracy:10.4f}{score.roc_auc:10.4f}{score.log_loss:10.4f}{score.brier:10.4f}"
              f"{score.ece:10.4f}{fit}  {calibration}")
    print(f"{'served':<14}{served.accuracy:10.4f}{served.roc_auc:10.4f}{served.log_loss:10.4f}{served.brier:10.4f}"
          f"{served.ece:10.4f}{'':>8}  the champion + the in-season correction ({SERVED_RECALIBRATION.name})")
    print(f"champion: {best} (version {versions[best]}); xgboost best iteration {models['xgboost'].best_iteration}")
    print(f"single-shot predict (features + model + calibration) p50: {latency:.0f} us; "
          f"a shot given only by its zone: {zone_only_latency:.0f} us")
    print("zone-only pricing (8,000 test shots, only zone_basic given; mean P(make) per zone with >= 100 of them):")
    print(zone_only["by_zone"].round(4).to_string())
    print(f"pipeline: {pipeline_seconds:.1f} s   peak RSS: {peak_rss_mb():.0f} MB   tracking: {tracking_uri}")
    summary = {
        "xgb_auc": round(scores["xgboost"].roc_auc, 4),
        "xgb_log_loss": round(scores["xgboost"].log_loss, 4),
        "xgb_ece": round(scores["xgboost"].ece, 4),
        "xgb_brier": round(scores["xgboost"].brier, 4),
        "xgb_accuracy": round(scores["xgboost"].accuracy, 4),
        "rf_auc": round(scores["random_forest"].roc_auc, 4),
        "rf_log_loss": round(scores["random_forest"].log_loss, 4),
        "rf_ece": round(scores["random_forest"].ece, 4),
        "baseline_auc": round(scores["baseline"].roc_auc, 4),
        "baseline_log_loss": round(scores["baseline"].log_loss, 4),
        "served_auc": round(served.roc_auc, 4),
        "served_log_loss": round(served.log_loss, 4),
        "served_ece": round(served.ece, 4),
        "drift_share": round(drift.share_drifted, 4),
        "champion": best,
        "single_shot_us": round(latency, 1),
        "zone_only_shot_us": round(zone_only_latency, 1),
        "zone_gap_worst": {name: round(value, 4) for name, value in zone_only["worst"].items()},
        "test_rows": len(split.test),
        "train_rows": len(split.train) + len(split.validation),
        "timings_s": timings,
        "pipeline_s": round(pipeline_seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
