"""The backtest arithmetic on a small case checked by hand (no I/O)."""

from __future__ import annotations

import pandas as pd
import pytest

from backtests.engine import (
    BacktestParams,
    curve_thin,
    kelly_fraction_full,
    market_make,
    odds_with_margin,
    simulate,
)

# Five shots. Edges (q * odds - 1) on made / missed:
#   1: p .60 @ 2.0 / 1.8  -> +0.20 / -0.28  bet made,   made   -> win
#   2: p .30 @ 2.5 / 1.6  -> -0.25 / +0.12  bet missed, made   -> lose
#   3: p .50 @ 1.9 / 1.9  -> -0.05 / -0.05  no bet
#   4: p .55 @ 2.0 / 1.8  -> +0.10 / -0.19  bet made,   missed -> lose
#   5: p .70 @ 1.5 / 3.0  -> +0.05 / -0.10  bet made,   made   -> win
CASE = {
    "made": [True, True, False, False, True],
    "probability": [0.60, 0.30, 0.50, 0.55, 0.70],
    "odds_made": [2.0, 2.5, 1.9, 2.0, 1.5],
    "odds_missed": [1.8, 1.6, 1.9, 1.8, 3.0],
}


def test_flat_stakes_give_the_hand_computed_roi_and_drawdown():
    result = simulate(**CASE, params=BacktestParams(strategy="flat", stake=10, bankroll=100, threshold=0.0))

    # 100 -> 110 (win 10 at 2.0) -> 100 -> 90 -> 95 (win 5 at 1.5)
    assert result.bets == 4
    assert result.wins == 2
    assert result.hit_rate == pytest.approx(0.5)
    assert result.staked == pytest.approx(40)
    assert result.profit == pytest.approx(-5)
    assert result.roi == pytest.approx(-0.125)
    assert result.final_bankroll == pytest.approx(95)
    assert result.max_drawdown_credits == pytest.approx(20)  # peak 110, trough 90
    assert result.max_drawdown == pytest.approx(20 / 110)
    assert [point["bankroll"] for point in result.curve] == [100, 110, 100, 90, 95]


def test_fractional_kelly_stakes_a_share_of_the_current_bankroll():
    result = simulate(**CASE, params=BacktestParams(strategy="kelly", kelly_fraction=0.5, bankroll=100, threshold=0.0))

    # Full Kelly (q*o - 1)/(o - 1): 0.2, 0.2, 0.1, 0.1; half of it times the bankroll at the time:
    # 10.00 (win -> 110), 11.00 (lose -> 99), 4.95 (lose -> 94.05), 4.7025 (win at 1.5 -> 96.40125)
    assert result.bets == 4
    assert result.staked == pytest.approx(10 + 11 + 4.95 + 4.7025)
    assert result.final_bankroll == pytest.approx(96.40125)
    assert result.profit == pytest.approx(-3.59875)
    assert result.roi == pytest.approx(-3.59875 / 30.6525)
    assert result.max_drawdown == pytest.approx((110 - 94.05) / 110)


def test_the_kelly_fraction_is_zero_without_an_edge():
    assert kelly_fraction_full(probability=0.6, odds=2.0) == pytest.approx(0.2)
    assert kelly_fraction_full(probability=0.4, odds=2.0) == 0.0
    assert kelly_fraction_full(probability=0.9, odds=1.0) == 0.0


def test_only_edges_above_the_threshold_are_bet():
    result = simulate(**CASE, params=BacktestParams(strategy="flat", stake=10, bankroll=100, threshold=0.15))

    assert result.bets == 1  # only shot 1's +0.20 clears 0.15
    assert result.final_bankroll == pytest.approx(110)
    assert result.max_drawdown == 0.0


def test_a_stake_never_exceeds_the_bankroll_and_betting_stops_when_it_is_gone():
    losing = {"made": [False, False, False], "probability": [0.9, 0.9, 0.9], "odds_made": [2.0, 2.0, 2.0],
              "odds_missed": [5.0, 5.0, 5.0]}  # fmt: skip
    result = simulate(**losing, params=BacktestParams(strategy="flat", stake=60, bankroll=100, threshold=0.0))

    assert result.staked == pytest.approx(100)  # 60, then the 40 left
    assert result.final_bankroll == 0
    assert result.busted
    assert result.max_drawdown == pytest.approx(1.0)


def test_the_margin_makes_the_implied_probabilities_sum_above_one():
    odds_made, odds_missed = odds_with_margin([0.5, 0.25], margin=0.05)

    # The live market's rule: proportional margin, odds to three decimals (issue #9: one market).
    assert odds_made[0] == pytest.approx(round(1 / 0.525, 3))
    assert odds_missed[1] == pytest.approx(round(1 / (0.75 * 1.05), 3))
    assert 1 / odds_made[1] + 1 / odds_missed[1] == pytest.approx(1.05, abs=1e-3)


def test_the_backtest_market_and_the_live_market_maker_price_every_shot_the_same():
    from betting import market as live

    history = pd.DataFrame({
        "zone_basic": ["Restricted Area"] * 30 + ["Mid-Range"] * 12 + ["Above the Break 3"] * 40,
        "action_type": ["Layup Shot"] * 20 + ["Dunk Shot"] * 10 + ["Jump Shot"] * 52,
        "made": ([True, False, True] * 10) + [False] * 12 + ([True, False, False, False] * 10),
    })  # fmt: skip
    window = pd.DataFrame({
        "zone_basic": ["Restricted Area", "Restricted Area", "Mid-Range", "Above the Break 3", "Left Corner 3"],
        "action_type": ["Layup Shot", "Tip Shot", "Jump Shot", "Jump Shot", "Jump Shot"],
    })  # fmt: skip
    book = market_make(history=history, margin=0.06, prior_attempts=50)
    odds_made, odds_missed = book.odds(window)
    rates = live.make_rates_count(history.to_dict("records"))
    for i, row in enumerate(window.to_dict("records")):
        quote = live.quote_market_maker(rates=rates, zone=row["zone_basic"], action=row["action_type"], margin=0.06,
                                        prior_attempts=50)
        assert book.fair_probability(window)[i] == quote.probability_made
        assert (odds_made[i], odds_missed[i]) == (quote.odds_made, quote.odds_missed)


def test_each_bet_records_its_edge_against_the_fair_price_and_its_closing_line_value():
    result = simulate(**CASE, params=BacktestParams(strategy="flat", stake=10.0, threshold=0.0))
    first = result.bet_details[0]
    fair = (1 / 2.0) / (1 / 2.0 + 1 / 1.8)  # shot 1, made side, de-margined
    assert first["side"] == "made"
    assert first["fair"] == pytest.approx(fair, abs=1e-6)
    assert first["clv"] == pytest.approx(0.60 - fair, abs=1e-6)
    assert first["fair_edge"] == pytest.approx(0.60 / fair - 1, abs=1e-6)
    assert result.average_clv == pytest.approx(sum(b["clv"] for b in result.bet_details) / result.bets, abs=1e-5)
    assert len(result.bet_details) == result.bets


def test_the_market_prices_zones_and_actions_from_earlier_shots():
    history = pd.DataFrame({
        "zone_basic": ["Restricted Area"] * 100 + ["Above the Break 3"] * 100,
        "action_type": ["Layup Shot"] * 100 + ["Jump Shot"] * 100,
        "made": [True] * 60 + [False] * 40 + [True] * 35 + [False] * 65,
    })  # fmt: skip
    market = market_make(history=history, margin=0.0, prior_attempts=0)

    shots = pd.DataFrame({"zone_basic": ["Restricted Area", "Above the Break 3"], "action_type": ["Layup Shot", "Jump Shot"]})
    assert market.fair_probability(shots).tolist() == pytest.approx([0.60, 0.35])
    assert market.shots == 200
    with pytest.raises(ValueError, match="before the backtest window"):
        market_make(history=history.iloc[0:0], margin=0.05)


def test_out_of_range_parameters_are_refused():
    with pytest.raises(ValueError, match="strategy"):
        BacktestParams(strategy="martingale")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out-of-range"):
        BacktestParams(bankroll=0)


def test_a_long_curve_is_thinned_but_keeps_its_ends_and_its_low():
    points = [(n, 100.0 - (50 if n == 777 else 0) + n * 0.01, None) for n in range(5000)]
    thinned = curve_thin(points, 100)

    assert len(thinned) <= 102
    assert thinned[0][0] == 0
    assert thinned[-1][0] == 4999
    assert any(n == 777 for n, _, _ in thinned)
