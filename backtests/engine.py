"""Backtests as plain Python: a market maker, two staking strategies and the bankroll they leave.

No Django here: the service loads the shots and the model probabilities, this module turns
them into bets. Everything is a function of arrays, so a hand-checked case is a unit test.

The market
    The live dashboard's market maker (``betting.market``), not a copy of it: every shot is
    priced from the league's make rate for its zone and action type, computed on shots
    *before* the backtest window (a cell shrunk toward its zone's rate by
    ``MARKET_PRIOR_ATTEMPTS`` pseudo-shots, kept in 1%..99%), and the margin is added with the
    same rule: the implied probabilities of "made" and "missed" sum to ``1 + margin``, odds of
    at least 1.01 to three decimals. Using only earlier shots means the market never knows the
    outcomes it is priced on.

What a bet is worth against the market
    Besides the edge at the odds taken (``q * odds - 1``), each bet records the market's
    de-margined probability of its side (``fair``), its edge against that fair price
    (``q / fair - 1``) and its closing-line value ``q - fair`` (the model's probability minus
    the market's fair probability; the market's price is fixed, so the price taken is the
    closing one). Results carry their averages and the first bets in detail.

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

from betting import market as one_market

Strategy = Literal["flat", "kelly"]
STRATEGIES: tuple[str, ...] = ("flat", "kelly")
CURVE_POINTS = 400  # the stored bankroll curve is thinned to about this many points
BET_DETAILS = 500  # bets kept one by one in a result (the averages cover them all)


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
    """The platform's market maker, fitted on the shots before the window."""

    rates: one_market.MakeRates
    margin: float
    prior_attempts: int
    shots: int  # how many earlier shots the rates come from

    def fair_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return one_market.fair_probabilities(self.rates, zones=frame["zone_basic"], actions=frame["action_type"],
                                             prior_attempts=self.prior_attempts)

    def odds(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Decimal odds (made, missed) of each shot, margin included."""
        return odds_with_margin(self.fair_probability(frame), margin=self.margin)


def odds_with_margin(fair: Any, *, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """The live market's margin rule (``betting.market.odds_with_margin_many``)."""
    return one_market.odds_with_margin_many(fair, margin=margin)


def market_make(*, history: pd.DataFrame, margin: float, prior_attempts: int = 50) -> Market:
    """The book, from shots before the window (zone_basic, action_type, made)."""
    if history.empty:
        raise ValueError("the market needs shots before the backtest window to set its prices")
    rates = one_market.make_rates_from_columns(history["zone_basic"], history["action_type"], history["made"])
    return Market(rates=rates, margin=margin, prior_attempts=prior_attempts, shots=len(history))


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
    average_fair_edge: float = 0.0  # q / fair - 1 against the market's de-margined probability
    average_clv: float = 0.0  # closing-line value: q - fair
    busted: bool = False
    curve: list[dict[str, Any]] = field(default_factory=list)  # {"n", "bankroll", "date"}
    # The first BET_DETAILS bets: {"shot", "side", "odds", "q", "fair", "edge", "fair_edge", "clv", "won"}
    bet_details: list[dict[str, Any]] = field(default_factory=list)
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
    fair_made = one_market.fair_from_odds(o_made, o_missed) if len(outcome) else np.zeros(0)

    result = BacktestResult(start_bankroll=params.bankroll, shots=len(outcome))
    bankroll = peak = params.bankroll
    points: list[tuple[int, float, str | None]] = [(0, bankroll, dates[0] if dates is not None and len(dates) else None)]
    edges = odds_taken = fair_edges = clvs = 0.0
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
        q_side = float(q_made[i] if side_made else 1.0 - q_made[i])
        fair_side = float(fair_made[i] if side_made else 1.0 - fair_made[i])
        fair_edges += q_side / fair_side - 1.0
        clvs += q_side - fair_side
        if len(result.bet_details) < BET_DETAILS:
            result.bet_details.append({
                "shot": int(i), "side": "made" if side_made else "missed", "odds": round(odds, 3),
                "q": round(q_side, 6), "fair": round(fair_side, 6), "edge": round(float(edge[i]), 6),
                "fair_edge": round(q_side / fair_side - 1.0, 6), "clv": round(q_side - fair_side, 6), "won": won,
            })  # fmt: skip
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
        points.append((result.bets, bankroll, dates[int(i)] if dates is not None else None))
    result.final_bankroll = bankroll
    if result.bets:
        result.average_edge = edges / result.bets
        result.average_odds = odds_taken / result.bets
        result.average_fair_edge = fair_edges / result.bets
        result.average_clv = clvs / result.bets
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
