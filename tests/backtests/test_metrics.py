"""Sharpe ratio, profit factor, risk of ruin and the per-zone breakdown on cases checked by hand."""

from __future__ import annotations

import math

import pytest

from backtests.engine import BacktestParams, simulate
from backtests.metrics import backtest_metrics, profit_factor, risk_of_ruin, sharpe_ratio, zone_breakdown
from tests.backtests.test_engine import CASE

ZONES = ["Restricted Area", "Mid-Range", "In The Paint (Non-RA)", "Restricted Area", "Above the Break 3"]


def flat_ledger():
    # The engine's hand-checked case: bets on shots 0, 1, 3, 4; 100 -> 110 -> 100 -> 90 -> 95.
    return simulate(**CASE, params=BacktestParams(strategy="flat", stake=10, bankroll=100, threshold=0.0)).ledger


def test_the_engine_records_one_ledger_row_per_bet_and_keeps_it_out_of_the_stored_results():
    result = simulate(**CASE, params=BacktestParams(strategy="flat", stake=10, bankroll=100, threshold=0.0))
    assert result.ledger == [(0, 10, 10, 100), (1, 10, -10, 110), (3, 10, -10, 100), (4, 10, 5, 90)]
    assert "ledger" not in result.as_dict()


def test_profit_factor_is_gross_wins_over_gross_losses():
    assert profit_factor([10, -10, -10, 5]) == pytest.approx(15 / 20)
    assert profit_factor([3, 4]) is None  # nothing lost: unbounded
    assert profit_factor([]) is None
    assert profit_factor([-1, -2]) == 0


def test_sharpe_is_the_mean_per_bet_return_over_its_sample_deviation():
    # Returns on the bankroll: +10/100, -10/110, -10/100, +5/90; mean -0.008838, sample sd 0.101714.
    assert sharpe_ratio([0.1, -10 / 110, -0.1, 5 / 90]) == pytest.approx(-0.0868928, abs=1e-6)
    assert sharpe_ratio([0.1, -0.1]) == pytest.approx(0.0)
    assert sharpe_ratio([0.05]) is None  # one bet has no spread
    assert sharpe_ratio([0.05, 0.05]) is None


def test_flat_risk_of_ruin_follows_the_drift_and_variance_of_the_credits_won_per_bet():
    # pnl +10, -10, +10, +10: mean 5, sample variance 100; ruin = losing 50 of 100: exp(-2*5*50/100).
    ledger = [(0, 10, 10, 100), (1, 10, -10, 110), (2, 10, 10, 100), (3, 10, 10, 110)]
    assert risk_of_ruin(ledger=ledger, start=100, strategy="flat", ruin_fraction=0.5) == pytest.approx(math.exp(-5))
    # Losing all of it is twice as far: exp(-10).
    assert risk_of_ruin(ledger=ledger, start=100, strategy="flat", ruin_fraction=1.0) == pytest.approx(math.exp(-10))
    # A losing drift is certain ruin in the long run.
    assert risk_of_ruin(ledger=flat_ledger(), start=100, strategy="flat", ruin_fraction=0.5) == 1.0


def test_kelly_risk_of_ruin_uses_the_log_of_the_bankroll():
    # Returns +10 %, -5 %, +10 %, -5 %: log steps mean 0.0220084, variance 0.0071642;
    # halving is ln 2 away: exp(-2 * 0.0220084 * 0.693147 / 0.0071642) = 0.0141406.
    ledger = [(0, 10, 10, 100), (1, 5.5, -5.5, 110), (2, 10.45, 10.45, 104.5), (3, 5.75, -5.7475, 114.95)]
    assert risk_of_ruin(ledger=ledger, start=100, strategy="kelly", ruin_fraction=0.5) == pytest.approx(
        0.0141406, abs=1e-6)
    # Proportional stakes never reach exactly 0 with a positive drift.
    assert risk_of_ruin(ledger=ledger, start=100, strategy="kelly", ruin_fraction=1.0) == 0.0
    # A bet that lost the whole bankroll is ruin.
    assert risk_of_ruin(ledger=[(0, 100, -100, 100), (1, 1, 1, 1)], start=100, strategy="kelly",
                        ruin_fraction=0.5) == 1.0


def test_risk_of_ruin_needs_two_bets_and_a_sensible_ruin_level():
    assert risk_of_ruin(ledger=[(0, 10, 10, 100)], start=100, strategy="flat", ruin_fraction=0.5) is None
    with pytest.raises(ValueError, match="ruin_fraction"):
        risk_of_ruin(ledger=[], start=100, strategy="flat", ruin_fraction=0)


def test_the_zone_breakdown_groups_bets_by_the_shots_zone():
    rows = zone_breakdown(ledger=flat_ledger(), zones=ZONES)
    assert rows == [
        {"zone": "Restricted Area", "bets": 2, "wins": 1, "hit_rate": 0.5, "staked": 20, "profit": 0, "roi": 0},
        {"zone": "Above the Break 3", "bets": 1, "wins": 1, "hit_rate": 1.0, "staked": 10, "profit": 5, "roi": 0.5},
        {"zone": "Mid-Range", "bets": 1, "wins": 0, "hit_rate": 0.0, "staked": 10, "profit": -10, "roi": -1.0},
    ]  # fmt: skip
    assert sum(r["profit"] for r in rows) == pytest.approx(-5)  # the engine's profit


def test_backtest_metrics_put_everything_together_and_survive_no_bets():
    figures = backtest_metrics(ledger=flat_ledger(), zones=ZONES, start=100, strategy="flat", ruin_fraction=0.5)
    assert figures["profit_factor"] == pytest.approx(0.75)
    assert figures["sharpe"] == pytest.approx(-0.086893, abs=1e-6)
    assert figures["risk_of_ruin"] == 1.0
    assert [z["zone"] for z in figures["zones"]] == ["Restricted Area", "Above the Break 3", "Mid-Range"]
    empty = backtest_metrics(ledger=[], zones=ZONES, start=100, strategy="kelly", ruin_fraction=0.5)
    assert empty == {"sharpe": None, "profit_factor": None, "risk_of_ruin": None, "ruin_fraction": 0.5, "zones": []}
