"""The shooter's shot-making over expected as a measured feature of the walk-forward (``--skill``): not served.

The history features count a shooter's makes per group; a make rate mixes skill with shot selection
(a rim runner's 2PT rate says little about his jumper). This measures skill as what the shooter made
beyond what the league makes on the same shots: for every earlier shot, ``made - p0`` where ``p0`` is
the league's make rate of the shot's cell (basic zone x action class x family) over the ``league_days``
days strictly before the shot's date, shrunk toward the family's rate of those days. A shot's features
sum that residual over the shooter's shots in [date - ``days``, date), overall and for the shot's own
family, divided by attempts plus ``prior`` (so a new shooter reads 0: league average). Nothing of the
shot's own date or later is read: legal live.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.ml.features import action_class, shot_families

SKILL_COLUMNS = ("skill_all", "skill_shot_family")
_DAY_SPAN = 1 << 20  # days since 1970 fit in 20 bits until 4840


def _window(keys: np.ndarray, days: np.ndarray, values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the count and the sum of ``values`` over the rows of the same key in [day - window, day)."""
    frame = pd.DataFrame({"k": keys, "d": days, "v": values})
    daily = frame.groupby(["k", "d"], sort=True)["v"].agg(["size", "sum"])
    combined = (daily.index.get_level_values("k").to_numpy(np.int64) * _DAY_SPAN
                + daily.index.get_level_values("d").to_numpy(np.int64))
    cum_n = np.r_[0.0, np.cumsum(daily["size"].to_numpy(np.float64))]
    cum_v = np.r_[0.0, np.cumsum(daily["sum"].to_numpy(np.float64))]
    base = keys.astype(np.int64) * _DAY_SPAN
    hi = np.searchsorted(combined, base + days, side="left")
    lo = np.searchsorted(combined, base + np.maximum(days - window, 0), side="left")
    return cum_n[hi] - cum_n[lo], cum_v[hi] - cum_v[lo]


def _codes(*columns: np.ndarray) -> np.ndarray:
    return pd.MultiIndex.from_arrays(list(columns)).factorize()[0].astype(np.int64)


def shooter_skill_features(frame: pd.DataFrame, *, days: int = 730, league_days: int = 365,
                           prior: float = 150.0, cell_prior: float = 50.0) -> pd.DataFrame:
    """``SKILL_COLUMNS`` for every row of ``frame`` (same index)."""
    n = len(frame)
    if n == 0:
        return pd.DataFrame({c: np.empty(0) for c in SKILL_COLUMNS}, index=frame.index)
    day = pd.to_datetime(frame["game_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    made = frame["made"].astype(np.float64).to_numpy()
    family = shot_families(shot_type=frame["shot_type"].to_numpy(), distance_ft=frame["distance_ft"].to_numpy())
    actions = np.fromiter((action_class(a) for a in frame["action_type"].to_numpy()), dtype=np.int64, count=n)
    zones = frame["zone_basic"].fillna("").astype(str).to_numpy()

    fam_n, fam_m = _window(family, day, made, league_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        fam_rate = np.where(fam_n > 0, fam_m / fam_n, np.nan)
    fam_rate = np.where(np.isnan(fam_rate), made.mean(), fam_rate)
    cell_n, cell_m = _window(_codes(zones, actions, family), day, made, league_days)
    expected = (cell_m + cell_prior * fam_rate) / (cell_n + cell_prior)
    residual = made - expected

    player = pd.to_numeric(frame["player_id"], errors="coerce").fillna(-1).to_numpy(np.int64)
    all_n, all_r = _window(_codes(player), day, residual, days)
    own_n, own_r = _window(_codes(player, family), day, residual, days)
    out = {
        "skill_all": all_r / (all_n + prior),
        "skill_shot_family": own_r / (own_n + prior),
    }
    unknown = player < 0
    for values in out.values():
        values[unknown] = np.nan
    return pd.DataFrame(out, index=frame.index)
