"""Backtests as plain Python: a market maker, two staking strategies and the bankroll they leave.

No Django here: the service loads the shots and the model probabilities, this module turns
them into bets. Everything is a function of arrays, so a hand-checked case is a unit test.

The market
    The book prices every shot from the league's make rate for its zone and action type,
    computed on shots *before* the backtest window (the lookup baseline of
    ``training.ml.evaluate``, shrunk to the zone rate and then the league rate), and adds a
    margin: the implied probabilities of "made" and "missed" sum to ``1 + margin``, so the
    decimal odds are ``1 / (p * (1 + margin))`` and ``1 / ((1 - p) * (1 + margin))``.
    Using only earlier shots means the market never knows the outcomes it is priced on.

The bettor
    For each shot, in game order, the side (made or missed) with the larger expected value
    ``q * odds - 1`` under the model's probability ``q`` is taken when that edge exceeds
    ``threshold``. ``flat`` stakes a fixed amount; ``kelly`` stakes ``kelly_fraction`` of
    the Kelly fraction ``(q * odds - 1) / (odds - 1)`` of the current bankroll. A stake never
    exceeds the bankroll, and betting stops when it falls below ``min_stake``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from training.ml.evaluate import LookupBaseline

Strategy = Literal["flat", "kelly"]
STRATEGIES: tuple[str, ...] = ("flat", "kelly")
CURVE_POINTS = 400  # the stored bankroll curve is thinned to about this many points


@dataclass(frozen=True)
class BacktestParams:
    strategy: Strategy = "flat"
    threshold: float = 0.02  # minimum edge (expected profit per credit staked) to bet
    stake: float = 10.0  # flat: credits per bet
    kelly_fraction: float = 0.25  # kelly: share of the full Kelly stake
    margin: float = 0.05  # the book's overround
    bankroll: float = 1000.0  # starting credits
    min_stake: float = 0.01

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.bankroll <= 0 or self.stake <= 0 or not 0 < self.kelly_fraction <= 1 or not 0 <= self.margin < 1:
            raise ValueError(f"out-of-range backtest parameters: {self}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the market ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """Fair make probabilities by zone x action type, and the margin the book adds."""

    baseline: LookupBaseline
    margin: float
    shots: int  # how many earlier shots the rates come from

    def fair_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return np.clip(self.baseline.predict_proba_frame(frame), 0.01, 0.99)

    def odds(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Decimal odds (made, missed) of each shot, margin included."""
        return odds_with_margin(self.fair_probability(frame), margin=self.margin)


def odds_with_margin(fair: Any, *, margin: float) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(fair, dtype=np.float64)
    return 1.0 / (p * (1.0 + margin)), 1.0 / ((1.0 - p) * (1.0 + margin))


def market_make(*, history: pd.DataFrame, margin: float, smoothing: float = 20.0) -> Market:
    """The book, from shots before the window (zone_basic, action_type, made)."""
    if history.empty:
        raise ValueError("the market needs shots before the backtest window to set its prices")
    return Market(baseline=LookupBaseline(smoothing=smoothing).fit(history), margin=margin, shots=len(history))


# --- the bettor --------------------------------------------------------------------------------


def kelly_fraction_full(*, probability: float, odds: float) -> float:
    """Share of the bankroll the Kelly criterion stakes on a bet (0 when it has no edge)."""
    if odds <= 1.0:
        return 0.0
    return max(0.0, (probability * odds - 1.0) / (odds - 1.0))


@dataclass
class BacktestResult:
    bets: int = 0
    wins: int = 0
    staked: float = 0.0
    profit: float = 0.0
    start_bankroll: float = 0.0
    final_bankroll: float = 0.0
    max_drawdown: float = 0.0  # largest fall from a peak, as a share of that peak
    max_drawdown_credits: float = 0.0
    shots: int = 0
    bets_made_side: int = 0
    average_edge: float = 0.0
    average_odds: float = 0.0
    busted: bool = False
    curve: list[dict[str, Any]] = field(default_factory=list)  # {"n", "bankroll", "date"}
    # One (shot index, stake, pnl, bankroll before) per bet, for backtests.metrics; not stored.
    ledger: list[tuple[int, float, float, float]] = field(default_factory=list, repr=False)

    @property
    def hit_rate(self) -> float | None:
        return self.wins / self.bets if self.bets else None

    @property
    def roi(self) -> float | None:
        """Profit per credit staked."""
        return self.profit / self.staked if self.staked else None

    @property
    def growth(self) -> float:
        """Change of the bankroll, as a share of the starting one."""
        return self.final_bankroll / self.start_bankroll - 1.0 if self.start_bankroll else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("ledger")
        data.update(hit_rate=self.hit_rate, roi=self.roi, growth=self.growth)
        for key, value in data.items():
            if isinstance(value, float):
                data[key] = round(value, 6)
        return data


def simulate(
    *,
    made: Sequence[bool] | np.ndarray,
    probability: Sequence[float] | np.ndarray,
    odds_made: Sequence[float] | np.ndarray,
    odds_missed: Sequence[float] | np.ndarray,
    params: BacktestParams,
    dates: Sequence[str] | None = None,
    curve_points: int = CURVE_POINTS,
) -> BacktestResult:
    """Bet shot by shot, in the order given, and settle each bet before the next."""
    outcome = np.asarray(made, dtype=bool)
    q_made = np.asarray(probability, dtype=np.float64)
    o_made = np.asarray(odds_made, dtype=np.float64)
    o_missed = np.asarray(odds_missed, dtype=np.float64)
    if not len(outcome) == len(q_made) == len(o_made) == len(o_missed):
        raise ValueError("made, probability and odds must have the same length")

    edge_made = q_made * o_made - 1.0
    edge_missed = (1.0 - q_made) * o_missed - 1.0
    on_made = edge_made >= edge_missed
    edge = np.where(on_made, edge_made, edge_missed)

    result = BacktestResult(start_bankroll=params.bankroll, shots=len(outcome))
    bankroll = peak = params.bankroll
    points: list[tuple[int, float, str | None]] = [(0, bankroll, dates[0] if dates is not None and len(dates) else None)]
    edges = odds_taken = 0.0
    for i in np.flatnonzero(edge > params.threshold):
        side_made = bool(on_made[i])
        odds = float(o_made[i] if side_made else o_missed[i])
        if params.strategy == "flat":
            stake = params.stake
        else:
            q = float(q_made[i] if side_made else 1.0 - q_made[i])
            stake = params.kelly_fraction * kelly_fraction_full(probability=q, odds=odds) * bankroll
        stake = min(stake, bankroll)
        if stake < params.min_stake:
            if bankroll < params.min_stake:
                result.busted = True
                break
            continue
        won = bool(outcome[i]) == side_made
        pnl = stake * (odds - 1.0) if won else -stake
        result.ledger.append((int(i), stake, pnl, bankroll))
        bankroll += pnl
        result.bets += 1
        result.wins += int(won)
        result.bets_made_side += int(side_made)
        result.staked += stake
        result.profit += pnl
        edges += float(edge[i])
        odds_taken += odds
        peak = max(peak, bankroll)
        drawdown = peak - bankroll
        result.max_drawdown_credits = max(result.max_drawdown_credits, drawdown)
        result.max_drawdown = max(result.max_drawdown, drawdown / peak)
        points.append((result.bets, bankroll, dates[i] if dates is not None else None))
    result.final_bankroll = bankroll
    if result.bets:
        result.average_edge = edges / result.bets
        result.average_odds = odds_taken / result.bets
    result.curve = [{"n": n, "bankroll": round(b, 2), "date": d} for n, b, d in curve_thin(points, curve_points)]
    return result


def curve_thin(points: list[tuple[int, float, str | None]], limit: int) -> list[tuple[int, float, str | None]]:
    """At most about ``limit`` points, always keeping the first, the last and the lowest."""
    if len(points) <= limit:
        return points
    step = len(points) / limit
    keep = {0, len(points) - 1, min(range(len(points)), key=lambda k: points[k][1])}
    keep.update(int(k * step) for k in range(limit))
    return [points[k] for k in sorted(keep)]


def backtest_compare(
    *,
    shots: pd.DataFrame,
    probabilities: dict[str, np.ndarray],
    market: Market,
    params: BacktestParams,
) -> dict[str, BacktestResult]:
    """Each model's bets on the same shots against the same market (shots in game order)."""
    odds_made, odds_missed = market.odds(shots)
    dates = [str(d)[:10] for d in shots["game_date"]] if "game_date" in shots else None
    return {
        name: simulate(made=shots["made"].to_numpy(), probability=p, odds_made=odds_made, odds_missed=odds_missed,
                       params=params, dates=dates)
        for name, p in probabilities.items()
    }  # fmt: skip
