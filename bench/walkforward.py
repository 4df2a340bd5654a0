"""Walk-forward benchmark on the real seasons: every season scored by the product's challengers trained
only on the seasons before it (the yardstick for modelling changes).

    python -m bench.walkforward /work/shared/data/nba_shots [--seasons 2023-24,2022-23] [--kinds xgboost]
        [--calibrations global,family,family-inseason] [--rf-trees 60] [--cache /tmp/parivision-seasons]
        [--save-probabilities /tmp/parivision-walkforward] [--context | --context-columns a,b]

For each season S after the first: the ``--training-seasons`` (TRAINING_SEASONS, 2) seasons before S
are the training window, split into train / validation by date as the pipeline splits it; the shooter
history is the one rule (``--history-days``, SHOOTER_HISTORY_DAYS, 730); the best challenger on the
validation slice by log loss (as promotion chooses) is scored on all of S, overall and per shot type,
next to the zone x action lookup baseline fitted on the same window.  Each ``--calibrations`` policy
refits only the calibrator of the same estimators; the first one is the headline.  Prints progress
and a table, and ends with one line of JSON.  ``--cache`` keeps the parsed season files (pickles, never
commit them) so that a second run skips the slow CSV parsing.  The ``*-inseason`` policies add the
in-season recalibration (a per-family logit shift refitted every game date on the season's shots of
earlier dates, ``training/ml/recalibration.py``; ``family-inseason-action`` then a shift per action group).  ``--save-probabilities`` writes each season's test
labels, families, action groups, dates and every policy's probabilities as ``<season>.npz`` (outside git), which
``bench/recalibration_grid.py`` replays to compare recalibration settings without retraining.
``--context`` appends the game-context features (``training/ml/context.py``, measurement only);
``--context-columns`` appends only the named ones, for an ablation (which of them earn their place).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.opponent_defense import opponent_defense_features
from bench.shooter_skill import shooter_skill_features
from bench.train import peak_rss_mb, season_load
from training.ml.context import CONTEXT_COLUMNS, game_context_features
from training.ml.features import HISTORY_DAYS
from training.ml.recalibration import RecalibrationConfig
from training.ml.train import RANDOM_FOREST_PARAMS, XGBOOST_PARAMS, CalibrationPolicy, ModelKind
from training.ml.walkforward import (
    SHOT_TYPES,
    AnyPolicy,
    InSeasonPolicy,
    SeasonResult,
    walkforward_run,
    walkforward_summary,
)

FAMILY = CalibrationPolicy(by_family=True)
# "family" is the product's default (training.ml.train.CALIBRATION); "global" the one map used before.
POLICIES: dict[str, AnyPolicy] = {
    "global": CalibrationPolicy(),
    "family": FAMILY,
    "recent": CalibrationPolicy(half_life_days=14),
    "family-recent": CalibrationPolicy(by_family=True, half_life_days=14),
    # In-season: the default RecalibrationConfig (intercept per family, half-life 21 d, window 90 d,
    # prior 300 shots) refitted every game date; the variants change one thing each.
    "family-inseason": InSeasonPolicy(base=FAMILY),
    "family-inseason-slope": InSeasonPolicy(base=FAMILY, recalibration=RecalibrationConfig(slope=True)),
    "family-inseason-weekly": InSeasonPolicy(base=FAMILY, refit_days=7),
    # ... then a shift per action group (action type within 2PT / 3PT) on what the family stage leaves.
    "family-inseason-action": InSeasonPolicy(base=FAMILY, recalibration=RecalibrationConfig(slope=True,
                                                                                             by_action=True)),
}
KINDS: tuple[ModelKind, ...] = ("random_forest", "xgboost")


def seasons_load(data_dir: Path, *, cache: Path | None) -> pd.DataFrame:
    frames = []
    for path in sorted(data_dir.glob("NBA_*_Shots.csv.zip")):
        cached = cache / f"{path.name}.pkl" if cache else None
        started = time.perf_counter()
        if cached is not None and cached.exists() and cached.stat().st_mtime >= path.stat().st_mtime:
            frame = pd.read_pickle(cached)
        else:
            frame = season_load(path)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                frame.to_pickle(cached)
        print(f"  loaded {path.name}: {len(frame):,} shots in {time.perf_counter() - started:.0f} s", flush=True)
        frames.append(frame)
    if not frames:
        raise SystemExit(f"no NBA_*_Shots.csv.zip in {data_dir}")
    return pd.concat(frames, ignore_index=True)


def probabilities_save(results: list[SeasonResult], folder: Path) -> None:
    """One ``<season>.npz`` per season: labels, is_three, dates (days since 1970), the baseline's AUC
    and ``proba_<policy>`` arrays (the best challenger's test probabilities under each policy)."""
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        if result.test_labels is None or result.test_is_three is None or result.test_dates is None:
            raise ValueError(f"season {result.season} kept no probabilities (keep_probabilities=False)")
        arrays: dict[str, np.ndarray] = {
            "y": result.test_labels, "is_three": result.test_is_three,
            "days": result.test_dates.astype("datetime64[D]").astype(np.int64),
            "baseline_auc": np.array(result.baseline.overall.roc_auc),
            **{f"proba_{name}": proba for name, proba in result.test_proba.items()},
            # The action groups (plain strings: np.load reads them without pickle) for the grid's action stage.
            **({"groups": result.test_groups.astype(str)} if result.test_groups is not None else {}),
        }
        save: Any = np.savez_compressed  # numpy's stub reads **arrays as its allow_pickle flag
        save(folder / f"{result.season}.npz", **arrays)


def context_columns_chosen(*, all_columns: bool, named: list[str] | None,
                           error: Callable[[str], Any]) -> list[str]:
    """The game-context columns a run appends: none, all (``--context``) or the named ones, in the
    module's order; an unknown or missing name is an error that names it."""
    if all_columns and named is not None:
        error("use --context or --context-columns, not both")
    if named is None:
        return list(CONTEXT_COLUMNS) if all_columns else []
    unknown = [name for name in named if name not in CONTEXT_COLUMNS]
    if unknown or not named:
        error(f"unknown context column(s) {unknown or named!r}; use {', '.join(CONTEXT_COLUMNS)}")
    return [name for name in CONTEXT_COLUMNS if name in named]


def measured_features(context_columns: list[str], *, opponent_days: int | None, opponent_prior: float,
                      skill_prior: float | None = None) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    """The measured columns a run appends: the chosen game-context ones, the opponent's defence, then
    the shooter's shot-making over expected."""
    if not context_columns and opponent_days is None and skill_prior is None:
        return None

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        parts = [game_context_features(frame)[context_columns]] if context_columns else []
        if opponent_days is not None:
            parts.append(opponent_defense_features(frame, days=opponent_days, prior=opponent_prior))
        if skill_prior is not None:
            parts.append(shooter_skill_features(frame, prior=skill_prior))
        return pd.concat(parts, axis=1)
    return features


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _params(value: str) -> dict[str, Any]:
    """``max_depth=8,learning_rate=0.03`` -> {"max_depth": 8, "learning_rate": 0.03} (numbers as numbers)."""
    out: dict[str, Any] = {}
    for item in _csv(value):
        key, sep, raw = item.partition("=")
        if not sep or key.strip() not in XGBOOST_PARAMS:
            raise argparse.ArgumentTypeError(f"{item!r}: use name=value with a name of {', '.join(XGBOOST_PARAMS)}")
        number = float(raw)
        out[key.strip()] = int(number) if number.is_integer() and "." not in raw else number
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder holding the NBA_<YEAR>_Shots.csv.zip season files")
    parser.add_argument("--seasons", type=_csv, default=None, help="only these test seasons, e.g. 2023-24,2022-23")
    parser.add_argument("--kinds", type=_csv, default=list(KINDS), help="challengers (default: both)")
    parser.add_argument("--calibrations", type=_csv, default=["family", "global"],
                        help=f"calibration policies, the first is the headline ({', '.join(POLICIES)})")
    parser.add_argument("--rf-trees", type=int, default=None, help="Random Forest trees (default: the product's)")
    parser.add_argument("--xgb-params", type=_params, default=None,
                        help="XGBoost settings over the product's, e.g. max_depth=8,min_child_weight=80")
    parser.add_argument("--train-half-life", type=float, default=0.0,
                        help="weigh training shots by recency: half-life in days (0: all alike, the product's)")
    parser.add_argument("--training-seasons", type=int, default=2)
    parser.add_argument("--history-days", type=int, default=HISTORY_DAYS)
    parser.add_argument("--cache", type=Path, default=None, help="folder for parsed season pickles (outside git)")
    parser.add_argument("--context", action="store_true",
                        help="append the game-context features (training/ml/context.py): measurement only")
    parser.add_argument("--context-columns", type=_csv, default=None,
                        help=f"append only these game-context features ({', '.join(CONTEXT_COLUMNS)})")
    parser.add_argument("--opponent-days", type=int, default=None,
                        help="append the opponent's allowed make rate over these days (bench/opponent_defense.py)")
    parser.add_argument("--opponent-prior", type=float, default=300.0, help="its shrinkage, in shots")
    parser.add_argument("--skill", action="store_true",
                        help="append the shooter's shot-making over expected (bench/shooter_skill.py)")
    parser.add_argument("--skill-prior", type=float, default=150.0, help="its shrinkage, in shots")
    parser.add_argument("--season-form", action="store_true",
                        help="the shooter's shots of this season so far (ShotFeaturePipeline.season_form)")
    parser.add_argument("--save-probabilities", type=Path, default=None,
                        help="folder for each season's test probabilities (<season>.npz, outside git)")
    args = parser.parse_args(argv)
    for kind in args.kinds:
        if kind not in KINDS:
            parser.error(f"unknown kind {kind!r}; use {', '.join(KINDS)}")
    for name in args.calibrations:
        if name not in POLICIES:
            parser.error(f"unknown calibration {name!r}; use {', '.join(POLICIES)}")
    context_columns = context_columns_chosen(all_columns=args.context, named=args.context_columns, error=parser.error)
    started = time.perf_counter()
    load_start = os.getloadavg()

    print("PariVision walk-forward benchmark", flush=True)
    shots = seasons_load(args.data_dir, cache=args.cache)
    rf_params = {**RANDOM_FOREST_PARAMS, "n_estimators": args.rf_trees} if args.rf_trees else None
    extra_features = measured_features(context_columns, opponent_days=args.opponent_days,
                                       opponent_prior=args.opponent_prior,
                                       skill_prior=args.skill_prior if args.skill else None)
    results = walkforward_run(
        shots=shots, seasons=args.seasons, training_seasons=args.training_seasons, history_days=args.history_days,
        kinds=args.kinds, random_forest_params=rf_params,
        xgboost_params=args.xgb_params,
        policies={name: POLICIES[name] for name in args.calibrations},
        keep_probabilities=args.save_probabilities is not None,
        extra_features=extra_features,
        train_half_life_days=args.train_half_life,
        pipeline_params={"season_form": True} if args.season_form else None,
        progress=lambda message: print(f"  … {message}", flush=True),
    )
    summary: dict[str, Any] = walkforward_summary(results, policies=args.calibrations)
    if args.save_probabilities is not None:
        probabilities_save(results, args.save_probabilities)

    print()
    header = f"{'season':<9}{'policy':<15}{'model':<14}{'auc':>7}{'Δauc':>7}{'logloss':>8}{'brier':>7}{'ece':>7}"
    header += "".join(f"{t + ' auc':>9}{t + ' ece':>9}{t + ' gap':>9}" for t in SHOT_TYPES)
    print(header)
    for result in results:
        rows = [("baseline", "-", result.baseline, 0.0)]
        rows += [(name, result.best[name], result.scores[name],
                  result.scores[name].overall.roc_auc - result.baseline.overall.roc_auc) for name in args.calibrations]
        for policy, model, scores, delta in rows:
            label = "baseline" if policy == "baseline" else model
            line = (f"{result.season:<9}{policy if policy != 'baseline' else '':<15}{label:<14}"
                    f"{scores.overall.roc_auc:7.4f}{delta:+7.4f}{scores.overall.log_loss:8.4f}"
                    f"{scores.overall.brier:7.4f}{scores.overall.ece:7.4f}")
            for t in SHOT_TYPES:
                by = scores.by_type.get(t)
                line += f"{by.roc_auc:9.4f}{by.ece:9.4f}{scores.gap(t):9.4f}" if by else f"{'-':>27}"
            print(line)
    print()
    for result in results:
        for name, shift in result.corrections.items():
            print(f"{result.season} [{name}] logit shift at the last date: 2PT {shift['2PT']:+.3f}  3PT {shift['3PT']:+.3f}")
    for name in args.calibrations:
        worst = summary["policies"][name]
        print(f"worst over seasons [{name}]: AUC {worst['worst_auc']:.4f}  AUC - baseline "
              f"{worst['worst_auc_minus_baseline']:+.4f}  ECE {worst['worst_ece']:.4f}  gap 2PT "
              f"{worst['worst_gap_2pt']:.4f}  gap 3PT {worst['worst_gap_3pt']:.4f}  log loss {worst['worst_log_loss']:.4f}"
              f" (mean {worst['mean_log_loss']:.5f})")
    wall = time.perf_counter() - started
    print(f"wall: {wall:.0f} s   load average: {os.getloadavg()[0]:.1f} (start {load_start[0]:.1f})   "
          f"peak RSS: {peak_rss_mb():.0f} MB")
    summary.update({
        "kinds": args.kinds,
        "calibrations": args.calibrations,
        "context_features": context_columns,
        "opponent_days": args.opponent_days,
        "opponent_prior": args.opponent_prior if args.opponent_days else None,
        "skill_prior": args.skill_prior if args.skill else None,
        "xgb_params": args.xgb_params,
        "train_half_life_days": args.train_half_life,
        "season_form": args.season_form,
        "training_seasons": args.training_seasons,
        "rf_trees": args.rf_trees or RANDOM_FOREST_PARAMS["n_estimators"],
        "loadavg_start": [round(v, 2) for v in load_start],
        "loadavg_end": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    })
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
