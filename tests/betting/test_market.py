"""The market maker's arithmetic, on hand-checked numbers (no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest

from betting import market
from ingestion.betsapi import BetsApiEvent


def rates_of(*shots: tuple[str, str, bool]) -> market.MakeRates:
    return market.make_rates_count({"zone_basic": z, "action_type": a, "made": m} for z, a, m in shots)


def test_make_rates_count_by_cell_zone_and_league():
    rates = rates_of(("Mid-Range", "Jump Shot", True), ("Mid-Range", "Jump Shot", False),
                     ("Mid-Range", "Pullup Jump shot", False), ("Restricted Area", "Layup Shot", True))
    assert rates.cells[("Mid-Range", "Jump Shot")] == (2, 1)
    assert rates.zones["Mid-Range"] == (3, 1)
    assert rates.league_rate() == pytest.approx(0.5)
    assert rates.zone_rate("Mid-Range") == pytest.approx(1 / 3)


def test_a_sparse_cell_is_shrunk_toward_its_zone_rate():
    rates = rates_of(*[("Mid-Range", "Jump Shot", i < 4) for i in range(10)],  # 4/10
                     *[("Mid-Range", "Fadeaway", True) for _ in range(2)])  # 2/2 -> zone 6/12
    # (2 + 10 * 0.5) / (2 + 10) = 7 / 12
    assert rates.rate(zone="Mid-Range", action="Fadeaway", prior_attempts=10) == pytest.approx(7 / 12)
    assert rates.rate(zone="Mid-Range", action="Fadeaway", prior_attempts=0) == pytest.approx(1.0)


def test_an_unseen_zone_falls_back_to_the_league_rate():
    rates = rates_of(("Mid-Range", "Jump Shot", True), ("Mid-Range", "Jump Shot", False))
    assert rates.rate(zone="Backcourt", action="Heave", prior_attempts=5) == pytest.approx(0.5)


def test_the_margin_is_spread_so_implied_probabilities_sum_to_one_plus_margin():
    made, missed = market.odds_with_margin(probability_made=0.4, margin=0.05)
    assert made == pytest.approx(1 / (0.4 * 1.05), abs=1e-3)  # 2.381
    assert missed == pytest.approx(1 / (0.6 * 1.05), abs=1e-3)  # 1.587
    assert 1 / made + 1 / missed == pytest.approx(1.05, abs=1e-3)


def test_without_margin_the_odds_are_fair():
    assert market.odds_with_margin(probability_made=0.25, margin=0.0) == (4.0, pytest.approx(1.333, abs=1e-3))
    assert market.fair_odds(0.25) == 4.0


def test_odds_never_fall_below_the_minimum_price():
    made, _ = market.odds_with_margin(probability_made=0.99, margin=0.1)
    assert made == market.MIN_ODDS


@pytest.mark.parametrize("probability", [0.0, 1.0, -0.1, 1.5])
def test_a_probability_outside_zero_and_one_is_refused(probability):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        market.odds_with_margin(probability_made=probability, margin=0.05)


def test_edge_is_the_expected_return_per_credit():
    assert market.edge(probability=0.5, odds=2.2) == pytest.approx(0.1)
    assert market.edge(probability=0.4, odds=2.0) == pytest.approx(-0.2)


def test_the_market_maker_quote_names_its_source_and_margin():
    rates = rates_of(*[("Restricted Area", "Layup Shot", i < 6) for i in range(10)])
    quote = market.quote_market_maker(rates=rates, zone="Restricted Area", action="Layup Shot", margin=0.06,
                                      prior_attempts=0)
    assert quote.source == market.MARKET_MAKER
    assert quote.probability_made == pytest.approx(0.6)
    assert quote.odds_made == pytest.approx(1 / (0.6 * 1.06), abs=1e-3)
    assert "60.0%" in quote.detail
    assert "6.0%" in quote.detail


def event(home: str, away: str, *, status: str = "not_started", day: dt.date = dt.date(2024, 1, 10)) -> BetsApiEvent:
    start = dt.datetime(day.year, day.month, day.day, 0, 30, tzinfo=dt.UTC)
    return BetsApiEvent(id="9001", league_id="2274", league="NBA", home_id=None, home=home, away_id=None, away=away,
                        start_time=start, status=status)


def test_a_betsapi_event_matches_on_both_teams_and_the_day():
    events = [event("Boston Celtics", "Miami Heat"), event("Miami Heat", "Boston Celtics")]
    found = market.event_matching(events, home_team="MIA", away_team="BOS", game_date=dt.date(2024, 1, 10))
    assert found is events[1]
    assert market.event_matching(events, home_team="MIA", away_team="BOS", game_date=dt.date(2024, 2, 1)) is None


def test_an_event_in_play_matches_whatever_its_start_day():
    live = event("Phoenix Suns", "Brooklyn Nets", status="inplay", day=dt.date(2024, 3, 1))
    # PHO and BRK are the older codes of the same franchises.
    assert market.event_matching([live], home_team="PHO", away_team="BRK", game_date=dt.date(2020, 1, 1)) is live
