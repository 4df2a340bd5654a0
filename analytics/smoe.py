"""Shot-making over expected (plain Python, no Django): how much better a player shoots than the model expects.

For one player and season, with the champion's probability ``p`` for each of their ``n`` shots:

* actual FG% ``a = made / n`` and expected FG% ``e = mean(p)``; the raw difference ``d = a - e``;
* if the player shot exactly as the model expects, ``d`` would still vary: its sampling variance
  is ``s² = Σ p(1 - p) / n²`` (a sum of independent Bernoulli shots), large for few attempts;
* the true difference ``δ`` of players is taken as ``N(0, τ²)``, with ``τ²`` estimated from the
  season itself by the method of moments (``mean(d² - s²)`` over players with enough attempts,
  never below 0);
* the reported difference is the posterior mean ``w·d`` with ``w = τ² / (τ² + s²)``, and its 95 %
  interval ``w·d ± 1.96·sqrt(w·s²)``: a player with few attempts is pulled toward 0, one with
  many keeps most of their raw difference.

Points per shot: actual ``Σ value·made / n`` and expected ``Σ value·p / n`` (value 2 or 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

Z_95 = 1.959964
REQUIRED = ("player_id", "player_name", "team", "season", "game_date", "made", "p", "value")


@dataclass(frozen=True)
class SeasonPrior:
    """The spread of true shot-making differences in a season, and how it was estimated."""

    tau2: float
    players: int  # players with at least ``min_attempts`` used to estimate it


def season_prior(*, diff: np.ndarray, sampling_var: np.ndarray, attempts: np.ndarray, min_attempts: int) -> SeasonPrior:
    """``τ²`` by the method of moments, weighted by attempts, over players with enough attempts."""
    mask = attempts >= min_attempts
    if mask.sum() < 2:
        return SeasonPrior(tau2=0.0, players=int(mask.sum()))
    weights = attempts[mask].astype(np.float64)
    excess = diff[mask] ** 2 - sampling_var[mask]
    return SeasonPrior(tau2=max(float(np.average(excess, weights=weights)), 0.0), players=int(mask.sum()))


def shrink(*, diff: np.ndarray, sampling_var: np.ndarray, tau2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and 95 % interval of each player's true difference (toward 0 by attempts)."""
    sampling_var = np.maximum(sampling_var, 1e-12)
    weight = tau2 / (tau2 + sampling_var)
    mean = weight * diff
    sd = np.sqrt(weight * sampling_var)
    return mean, mean - Z_95 * sd, mean + Z_95 * sd


def shot_making_table(frame: pd.DataFrame, *, min_attempts: int) -> tuple[pd.DataFrame, dict[str, SeasonPrior]]:
    """One row per player and season: attempts, FG% actual and expected, the shrunk difference and points.

    ``frame`` holds one row per shot with the columns in ``REQUIRED`` (``p``: the model's
    probability, ``value``: 2 or 3). ``min_attempts`` only selects the players that estimate
    each season's prior; every player gets a row.
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"shot_making_table needs the columns {missing}")
    if frame.empty:
        return pd.DataFrame(columns=_COLUMNS), {}
    shots = frame.assign(
        made_f=frame["made"].astype(np.float64),
        var=frame["p"] * (1.0 - frame["p"]),
        points=frame["value"] * frame["made"].astype(np.float64),
        xpoints=frame["value"] * frame["p"],
    ).sort_values("game_date", kind="stable")
    grouped = shots.groupby(["season", "player_id"], sort=True)
    table = grouped.agg(
        player_name=("player_name", "last"), team=("team", "last"), attempts=("made_f", "size"),
        made=("made_f", "sum"), p_sum=("p", "sum"), var_sum=("var", "sum"), points=("points", "sum"),
        xpoints=("xpoints", "sum"),
    ).reset_index()  # fmt: skip
    n = table["attempts"].to_numpy(dtype=np.float64)
    table["fg_pct"] = table["made"] / n
    table["xfg_pct"] = table["p_sum"] / n
    table["diff_raw"] = table["fg_pct"] - table["xfg_pct"]
    table["sampling_var"] = table["var_sum"] / n**2
    table["pps"] = table["points"] / n
    table["xpps"] = table["xpoints"] / n
    priors: dict[str, SeasonPrior] = {}
    parts = []
    for season, rows in table.groupby("season", sort=True):
        prior = season_prior(diff=rows["diff_raw"].to_numpy(), sampling_var=rows["sampling_var"].to_numpy(),
                             attempts=rows["attempts"].to_numpy(), min_attempts=min_attempts)  # fmt: skip
        priors[str(season)] = prior
        mean, low, high = shrink(diff=rows["diff_raw"].to_numpy(), sampling_var=rows["sampling_var"].to_numpy(),
                                 tau2=prior.tau2)  # fmt: skip
        parts.append(rows.assign(diff=mean, diff_low=low, diff_high=high))
    result = pd.concat(parts, ignore_index=True)
    result["attempts"] = result["attempts"].astype(int)
    result["made"] = result["made"].round().astype(int)
    return result[_COLUMNS], priors


_COLUMNS = ["season", "player_id", "player_name", "team", "attempts", "made", "fg_pct", "xfg_pct", "diff_raw",
            "diff", "diff_low", "diff_high", "pps", "xpps"]
