"""The opponent's defence as a measured feature of the walk-forward (``--opponent-days``): not served.

For a shot of family F (2PT / 3PT) against opponent O on date d, the make rate O allowed on F shots
over the ``days`` days strictly before d, shrunk toward the league's F rate of the same days by
``prior`` shots, minus that league rate: a positive value is a defence that let more in than the
league. Nothing of d itself or after is read (a game's own shots never describe its defence), so
it is legal live. NaN where the opponent is not known or the league has no shot in the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OPPONENT_COLUMNS = ("opp_allowed_rel",)


def _window_sums(rows: pd.DataFrame, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows`` (``day``, ``made``), the attempts and makes of all of them in [day - window, day)."""
    daily = rows.groupby("day")["made"].agg(["size", "sum"])
    days = daily.index.to_numpy()
    cum_a = np.r_[0.0, np.cumsum(daily["size"].to_numpy(np.float64))]
    cum_m = np.r_[0.0, np.cumsum(daily["sum"].to_numpy(np.float64))]
    query = rows["day"].to_numpy()
    hi = np.searchsorted(days, query, side="left")
    lo = np.searchsorted(days, query - window, side="left")
    return cum_a[hi] - cum_a[lo], cum_m[hi] - cum_m[lo]


def opponent_defense_features(frame: pd.DataFrame, *, days: int = 365, prior: float = 300.0) -> pd.DataFrame:
    """``OPPONENT_COLUMNS`` for every row of ``frame`` (same index)."""
    n = len(frame)
    out = np.full(n, np.nan)
    if n == 0:
        return pd.DataFrame({OPPONENT_COLUMNS[0]: out}, index=frame.index)
    is_home = frame["is_home"]
    opponent = np.where(is_home.eq(True), frame["away_team"].astype(object),
                        np.where(is_home.eq(False), frame["home_team"].astype(object), None))
    work = pd.DataFrame({
        "opp": pd.Series(opponent, dtype=object).fillna("").to_numpy(),
        "family": np.where(frame["shot_type"].to_numpy() == "3PT", "3PT", "2PT"),
        "day": (pd.to_datetime(frame["game_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)),
        "made": frame["made"].astype(np.float64).to_numpy(),
        "row": np.arange(n),
    })
    league_rate = np.full(n, np.nan)
    for _family, rows in work.groupby("family", sort=False):
        att, made = _window_sums(rows, days)
        with np.errstate(invalid="ignore", divide="ignore"):
            league_rate[rows["row"].to_numpy()] = np.where(att > 0, made / att, np.nan)
    known = work[work["opp"] != ""]
    for _key, rows in known.groupby(["opp", "family"], sort=False):
        att, made = _window_sums(rows, days)
        index = rows["row"].to_numpy()
        league = league_rate[index]
        out[index] = (made + prior * league) / (att + prior) - league
    return pd.DataFrame({OPPONENT_COLUMNS[0]: out}, index=frame.index)
