"""Plain Python (no Django) behind the shot charts and the match views.

A chart is a list of 2.5 ft squares of the half court, each ``[x, y, n, made, p_sum]`` (its
centre in feet from the hoop, the shots in it, how many went in, the sum of the champion's
probabilities): sums, so the charts of several seasons add up exactly. A match is stored as
compact per-shot arrays and expanded into each team's cumulative curves when read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

COURT_X = (-25.0, 25.0)  # feet from the hoop, shooter's left < 0
COURT_Y = (-5.25, 41.75)  # baseline to half court
BIN_FT = 2.5


def bin_edges() -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(COURT_X[0], COURT_X[1] + BIN_FT, BIN_FT), np.arange(COURT_Y[0], COURT_Y[1] + BIN_FT, BIN_FT))


def bin_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``bx``/``by`` (its square) for shots on the half court; heaves from beyond are dropped."""
    x_edges, y_edges = bin_edges()
    kept = frame.loc[frame["y_ft"] <= COURT_Y[1]]
    return kept.assign(
        bx=np.clip(np.digitize(kept["x_ft"], x_edges) - 1, 0, len(x_edges) - 2),
        by=np.clip(np.digitize(kept["y_ft"], y_edges) - 1, 0, len(y_edges) - 2),
    )


def chart_sums(binned: pd.DataFrame) -> dict[str, Any]:
    """One chart from binned shots (columns bx, by, made, p, game_date): squares and totals, as sums."""
    if binned.empty:
        return {"shots": 0, "made": 0, "p_sum": None, "bins": [], "first_date": None, "last_date": None}
    x_edges, y_edges = bin_edges()
    p = binned["p"]
    grouped = binned.assign(made_i=binned["made"].astype(np.int64)).groupby(["bx", "by"], sort=True).agg(
        n=("made_i", "size"), made=("made_i", "sum"), p_sum=("p", "sum"))  # fmt: skip
    bins = [
        [round(float(x_edges[bx] + BIN_FT / 2), 2), round(float(y_edges[by] + BIN_FT / 2), 2), int(row.n),
         int(row.made), None if p.isna().all() else round(float(row.p_sum), 4)]
        for (bx, by), row in zip(grouped.index, grouped.itertuples(), strict=True)
    ]  # fmt: skip
    return {
        "shots": len(binned), "made": int(binned["made"].sum()),
        "p_sum": None if p.isna().all() else round(float(p.sum()), 4), "bins": bins,
        "first_date": str(binned["game_date"].min().date()), "last_date": str(binned["game_date"].max().date()),
    }  # fmt: skip


def chart_merge(charts: Iterable[dict[str, Any] | None]) -> dict[str, Any]:
    """Several charts' sums added square by square (e.g. one per season → all seasons)."""
    squares: dict[tuple[float, float], list[Any]] = {}
    shots = made = 0
    p_sum: float | None = 0.0
    first: list[str] = []
    last: list[str] = []
    for chart in charts:
        if not chart or not chart.get("shots"):
            continue
        shots += chart["shots"]
        made += chart["made"]
        p_sum = None if p_sum is None or chart.get("p_sum") is None else p_sum + chart["p_sum"]
        first.append(chart["first_date"])
        last.append(chart["last_date"])
        for x, y, n, m, p in chart["bins"]:
            square = squares.setdefault((x, y), [x, y, 0, 0, 0.0])
            square[2] += n
            square[3] += m
            square[4] = None if square[4] is None or p is None else square[4] + p
    if not shots:
        return {"shots": 0, "made": 0, "p_sum": None, "bins": [], "first_date": None, "last_date": None}
    bins = [[x, y, n, m, None if p is None else round(p, 4)] for (x, y), (_, _, n, m, p) in sorted(squares.items())]
    return {"shots": shots, "made": made, "p_sum": None if p_sum is None else round(p_sum, 4), "bins": bins,
            "first_date": min(first), "last_date": max(last)}  # fmt: skip


def chart_for_page(chart: dict[str, Any] | None, *, version: int | None) -> dict[str, Any]:
    """What the court drawing reads: per square its count, make rate and mean probability."""
    if not chart or not chart.get("shots"):
        return {"shots": 0, "bins": [], "version": version, "bin_ft": BIN_FT}
    shots = chart["shots"]
    return {
        "shots": shots, "version": version, "bin_ft": BIN_FT,
        "bins": [{"x": x, "y": y, "n": n, "rate": round(m / n, 4), "p": None if p is None else round(p / n, 4)}
                 for x, y, n, m, p in chart["bins"]],
        "make_rate": round(chart["made"] / shots, 4),
        "mean_probability": None if chart.get("p_sum") is None else round(chart["p_sum"] / shots, 4),
        "first_date": chart["first_date"], "last_date": chart["last_date"],
    }  # fmt: skip


# --- matches ---------------------------------------------------------------------------------------


def elapsed_minutes(*, period: Any, seconds_left: Any) -> np.ndarray:
    """Game clock as minutes since tip-off (12-minute quarters, 5-minute overtimes)."""
    period = np.asarray(period, dtype=np.float64)
    left = np.asarray(seconds_left, dtype=np.float64) / 60.0
    regulation = (period - 1) * 12 + (12 - left)
    overtime = 48 + (period - 5) * 5 + (5 - np.minimum(left, 5))
    return np.where(period <= 4, regulation, overtime)


def match_compact(game: pd.DataFrame, *, team_codes: dict[str, str], version: int | None) -> dict[str, Any]:
    """One game's shots as short arrays (columns of canonical shots plus ``p``), in game order."""
    game = game.assign(minute=elapsed_minutes(period=game["period"], seconds_left=game["seconds_left"]))
    game = game.sort_values(["minute", "event_id"], kind="stable")
    teams = list(dict.fromkeys(game["team_name"].astype(str)))
    index = {team: i for i, team in enumerate(teams)}
    first = game.iloc[0]
    has_p = not game["p"].isna().all()
    return {
        "game_id": str(first["game_id"]), "date": str(pd.Timestamp(first["game_date"]).date()),
        "home": first["home_team"], "away": first["away_team"], "season": first["season"], "version": version,
        "teams": [{"team": t, "code": team_codes.get(t, t)} for t in teams],
        "t": [index[t] for t in game["team_name"].astype(str)],
        "m": [round(float(v), 2) for v in game["minute"]],
        "v": [3 if s == "3PT" else 2 for s in game["shot_type"]],
        "k": [int(bool(v)) for v in game["made"]],
        "p": [round(float(v), 4) for v in game["p"]] if has_p else None,
        "x": [round(float(v), 1) for v in game["x_ft"]], "y": [round(float(v), 1) for v in game["y_ft"]],
    }  # fmt: skip


def match_expand(compact: dict[str, Any]) -> dict[str, Any]:
    """A stored match as the page draws it: each team's expected and actual points, shot by shot."""
    teams = []
    p = compact.get("p")
    for i, team in enumerate(compact["teams"]):
        rows = [j for j, t in enumerate(compact["t"]) if t == i]
        actual = expected = 0.0
        actual_curve, expected_curve, points = [], [], []
        for j in rows:
            actual += compact["v"][j] * compact["k"][j]
            actual_curve.append({"x": compact["m"][j], "y": actual})
            if p is not None:
                expected += compact["v"][j] * p[j]
                expected_curve.append({"x": compact["m"][j], "y": round(expected, 2)})
            points.append({"x": compact["x"][j], "y": compact["y"][j], "made": bool(compact["k"][j])})
        teams.append({
            "team": team["team"], "code": team["code"], "shots": len(rows),
            "made": sum(compact["k"][j] for j in rows), "actual": actual,
            "expected": None if p is None else round(expected, 2),
            "actual_curve": actual_curve, "expected_curve": expected_curve, "points": points,
        })  # fmt: skip
    return {"game_id": compact["game_id"], "date": compact["date"], "home": compact["home"], "away": compact["away"],
            "season": compact["season"], "shots": len(compact["t"]), "version": compact.get("version"),
            "teams": teams}  # fmt: skip
