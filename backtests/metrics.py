"""Risk and breakdown figures of a backtest's bets, as plain Python (no Django, no NumPy).

They read the engine's ledger: one ``(shot_index, stake, pnl, bankroll_before)`` per bet, in
the order the bets were placed (``backtests.engine.BacktestResult.ledger``).

Sharpe ratio
    Mean over the sample standard deviation of the per-bet returns on the bankroll,
    ``pnl / bankroll_before``: per bet, not annualised (bets are not evenly spread in time).
Profit factor
    Gross winnings over gross losses (``None`` while nothing was lost: it is unbounded).
Risk of ruin
    The probability that the bankroll ever falls to ``1 - ruin_fraction`` of where it started
    if the bets went on with the same distribution, from the diffusion approximation of a
    random walk with drift ``mu`` and variance ``s²`` per bet: ``exp(-2 * mu * D / s²)``
    (1 when the drift is not positive). Flat stakes add and lose credits, so the walk is the
    bankroll in credits and ``D = ruin_fraction * start``; Kelly stakes are shares of the
    bankroll, so the walk is its logarithm, ``ln(1 + pnl / bankroll_before)``, and
    ``D = -ln(1 - ruin_fraction)`` (a fractional Kelly bettor never reaches 0 exactly).
Per zone
    Bets, wins, stakes and profit grouped by the shot's zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

LedgerRow = tuple[int, float, float, float]  # shot index, stake, pnl, bankroll before the bet


def mean_and_variance(values: Sequence[float]) -> tuple[float, float] | None:
    """The mean and the sample variance (n - 1); None below two values."""
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    return mean, math.fsum((v - mean) ** 2 for v in values) / (n - 1)


def sharpe_ratio(returns: Sequence[float]) -> float | None:
    """Mean return over its sample standard deviation; None below two returns or without spread."""
    moments = mean_and_variance(returns)
    if moments is None or moments[1] <= 0:
        return None
    return moments[0] / math.sqrt(moments[1])


def profit_factor(pnl: Sequence[float]) -> float | None:
    """Gross winnings / gross losses; None when nothing was lost (no bets, or only winners)."""
    losses = -math.fsum(p for p in pnl if p < 0)
    if losses <= 0:
        return None
    return math.fsum(p for p in pnl if p > 0) / losses


def ruin_probability(*, steps: Sequence[float], distance: float) -> float | None:
    """P(a random walk with these steps' mean and variance ever falls ``distance`` below its start)."""
    moments = mean_and_variance(steps)
    if moments is None:
        return None
    drift, variance = moments
    if drift <= 0:
        return 1.0
    if math.isinf(distance) or variance <= 0:
        return 0.0
    return min(1.0, math.exp(-2.0 * drift * distance / variance))


def risk_of_ruin(*, ledger: Sequence[LedgerRow], start: float, strategy: str, ruin_fraction: float) -> float | None:
    """The risk of losing ``ruin_fraction`` of the starting bankroll (see the module's docstring)."""
    if not 0 < ruin_fraction <= 1:
        raise ValueError(f"ruin_fraction must be in (0, 1], got {ruin_fraction!r}")
    if strategy == "flat":
        return ruin_probability(steps=[pnl for _, _, pnl, _ in ledger], distance=ruin_fraction * start)
    log_steps = [math.log1p(pnl / before) for _, _, pnl, before in ledger if before > 0 and pnl > -before]
    if len(log_steps) < len(ledger):  # a bet lost the whole bankroll: ruin happened
        return 1.0
    distance = math.inf if ruin_fraction == 1 else -math.log1p(-ruin_fraction)
    return ruin_probability(steps=log_steps, distance=distance)


def zone_breakdown(*, ledger: Sequence[LedgerRow], zones: Sequence[str]) -> list[dict[str, Any]]:
    """Bets, wins, hit rate, staked, profit and ROI per zone, the most bet-on zone first."""
    totals: dict[str, dict[str, Any]] = {}
    for index, stake, pnl, _ in ledger:
        row = totals.setdefault(str(zones[index]), {"bets": 0, "wins": 0, "staked": 0.0, "profit": 0.0})
        row["bets"] += 1
        row["wins"] += int(pnl > 0)
        row["staked"] += stake
        row["profit"] += pnl
    rows = []
    for zone, row in totals.items():
        rows.append({
            "zone": zone, "bets": row["bets"], "wins": row["wins"], "hit_rate": round(row["wins"] / row["bets"], 6),
            "staked": round(row["staked"], 2), "profit": round(row["profit"], 2),
            "roi": round(row["profit"] / row["staked"], 6) if row["staked"] else None,
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["bets"], r["zone"]))
    return rows


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def backtest_metrics(*, ledger: Sequence[LedgerRow], zones: Sequence[str], start: float, strategy: str,
                     ruin_fraction: float) -> dict[str, Any]:
    """Everything above for one version's bets, ready to store with its results."""
    returns = [pnl / before for _, _, pnl, before in ledger if before > 0]
    return {
        "sharpe": _rounded(sharpe_ratio(returns)),
        "profit_factor": _rounded(profit_factor([pnl for _, _, pnl, _ in ledger])),
        "risk_of_ruin": _rounded(risk_of_ruin(ledger=ledger, start=start, strategy=strategy,
                                              ruin_fraction=ruin_fraction)),
        "ruin_fraction": ruin_fraction,
        "zones": zone_breakdown(ledger=ledger, zones=zones),
    }
