"""Replay the in-season recalibration over saved walk-forward probabilities, for several settings.

    python -m bench.recalibration_grid /tmp/parivision-walkforward [--base family]

Reads the ``<season>.npz`` files ``bench/walkforward.py --save-probabilities`` wrote (the best
challenger's test probabilities under the ``--base`` policy, labels, families, dates), applies
``inseason_apply`` with each setting of a small grid (half-life, prior, intercept or intercept+slope,
daily refits; ``--by-action``: the action stage's grid) and prints, per setting, the worst case over *all* seasons of the issue's figures: the
choice of a setting must hold across seasons, never on one. No training: seconds per setting. Ends
with one line of JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from training.ml.evaluate import scores_compute
from training.ml.recalibration import RecalibrationConfig, inseason_apply

HALF_LIVES = (7.0, 21.0, 60.0)
PRIORS = (300.0, 1000.0, 3000.0)
SLOPES = (False, True)


def season_figures(*, y: np.ndarray, is_three: np.ndarray, proba: np.ndarray, baseline_auc: float) -> dict[str, float]:
    overall = scores_compute(y_true=y, proba=proba)
    figures = {"auc_minus_baseline": overall.roc_auc - baseline_auc, "ece": overall.ece, "log_loss": overall.log_loss}
    for name, rows in (("gap_2pt", ~is_three), ("gap_3pt", is_three)):
        figures[name] = abs(float(proba[rows].mean() - y[rows].mean()))
    return figures


def worst(per_season: dict[str, dict[str, float]]) -> dict[str, float]:
    values = list(per_season.values())
    return {
        "worst_auc_minus_baseline": round(min(v["auc_minus_baseline"] for v in values), 4),
        "worst_ece": round(max(v["ece"] for v in values), 4),
        "worst_gap_2pt": round(max(v["gap_2pt"] for v in values), 4),
        "worst_gap_3pt": round(max(v["gap_3pt"] for v in values), 4),
        "worst_log_loss": round(max(v["log_loss"] for v in values), 4),
        "mean_log_loss": round(float(np.mean([v["log_loss"] for v in values])), 5),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", type=Path, help="the --save-probabilities folder of bench/walkforward.py")
    parser.add_argument("--base", default="family", help="the policy whose probabilities are recalibrated")
    parser.add_argument("--by-action", action="store_true",
                        help="the grid of the action stage instead: intercept+slope per family, then a shift per "
                             "action group, at each half-life and prior (needs the files' action groups)")
    args = parser.parse_args(argv)
    seasons = {path.stem: dict(np.load(path)) for path in sorted(args.folder.glob("*.npz"))}
    if not seasons:
        raise SystemExit(f"no <season>.npz in {args.folder}")
    dates = {name: data["days"].astype("datetime64[D]") for name, data in seasons.items()}

    settings: list[tuple[str, RecalibrationConfig | None]] = [("none (base)", None)]
    if args.by_action:
        missing = [name for name, data in seasons.items() if "groups" not in data]
        if missing:
            raise SystemExit(f"no action groups in {', '.join(missing)}: rerun bench.walkforward --save-probabilities")
        for half_life, prior in itertools.product(HALF_LIVES, PRIORS):
            settings.append((f"hl {half_life:g} prior {prior:g} action", RecalibrationConfig(
                half_life_days=half_life, prior_shots=prior, slope=True, by_action=True)))
    else:
        for half_life, prior, slope in itertools.product(HALF_LIVES, PRIORS, SLOPES):
            settings.append((f"hl {half_life:g} prior {prior:g}{' slope' if slope else ''}",
                             RecalibrationConfig(half_life_days=half_life, prior_shots=prior, slope=slope)))
    rows: list[dict[str, Any]] = []
    print(f"{'setting':<26}{'Δauc':>8}{'ece':>8}{'gap2':>8}{'gap3':>8}{'worst ll':>10}{'mean ll':>10}   per-season ECE")
    for label, config in settings:
        per_season = {}
        for name, data in seasons.items():
            proba = data[f"proba_{args.base}"]
            if config is not None:
                proba, _ = inseason_apply(proba=proba, y_true=data["y"], is_three=data["is_three"],
                                          dates=dates[name], config=config, groups=data.get("groups"))
            per_season[name] = season_figures(y=data["y"], is_three=data["is_three"].astype(bool), proba=proba,
                                              baseline_auc=float(data["baseline_auc"]))
        summary = worst(per_season)
        rows.append({"setting": label, **summary,
                     "seasons": {n: {k: round(v, 4) for k, v in f.items()} for n, f in per_season.items()}})
        eces = " ".join(f"{f['ece']:.4f}" for f in per_season.values())
        print(f"{label:<26}{summary['worst_auc_minus_baseline']:+8.4f}{summary['worst_ece']:8.4f}"
              f"{summary['worst_gap_2pt']:8.4f}{summary['worst_gap_3pt']:8.4f}{summary['worst_log_loss']:10.4f}"
              f"{summary['mean_log_loss']:10.5f}   {eces}", flush=True)
    print(json.dumps({"base": args.base, "seasons": list(seasons), "settings": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
