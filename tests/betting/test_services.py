"""Bets, settlement and the live stream on the real warehouse (MongoDB stand-in) and database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from betting import selectors, services
from betting.market import MARKET_MAKER
from betting.models import Bankroll, Bet, LiveShot, StreamState
from parivision.errors import ApplicationError
from tests.betting.fixtures import *  # noqa: F403  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def balance(user) -> Decimal:
    return Bankroll.objects.get(user=user).balance


def place(user, shot, *, side="made", stake="100", key="k-1"):
    return services.bet_place(user=user, shot_id=shot.pk, side=side, stake=stake, idempotency_key=key)


# --- the stream ---------------------------------------------------------------------------


def test_the_first_advance_queues_a_game_in_order_and_opens_its_first_shot_priced(open_shot):
    shots = list(LiveShot.objects.order_by("sequence"))
    assert len({shot.game_id for shot in shots}) == 1
    assert [shot.event_id for shot in shots] == sorted(shot.event_id for shot in shots)
    assert open_shot.pk == shots[0].pk
    assert 0 < open_shot.probability_made < 1
    assert open_shot.model_version == "1"
    assert open_shot.market_source == MARKET_MAKER
    assert open_shot.market_odds_made > 1
    assert open_shot.market_odds_missed > 1
    assert open_shot.made is None  # the outcome stays hidden until the shot is taken


def test_advancing_takes_the_open_shot_reveals_its_outcome_and_opens_the_next(open_shot):
    report = services.stream_advance(force=True)
    taken = LiveShot.objects.get(pk=open_shot.pk)
    assert report.taken_shot_id == open_shot.pk
    assert taken.status == LiveShot.Status.TAKEN
    assert taken.made == taken.hidden_made
    assert selectors.open_shot().sequence == open_shot.sequence + 1


def test_the_stream_only_moves_when_its_pace_says_so_and_never_while_paused(open_shot):
    state = StreamState.objects.get()
    assert services.stream_advance(now=state.last_advanced_at + dt.timedelta(seconds=1)).reason == "not due"
    later = state.last_advanced_at + dt.timedelta(seconds=state.pace_seconds + 1)
    services.stream_set(paused=True)
    assert services.stream_advance(now=later).reason == "paused"
    services.stream_set(paused=False)
    assert services.stream_advance(now=later).advanced


def test_after_the_last_game_the_stream_replays_from_the_first(warehouse_games, no_champion):
    services.stream_advance(force=True)
    services.stream_load()  # the second game
    assert services.stream_load() > 0  # nothing after it: round two starts over
    assert StreamState.objects.get().replay_round == 2
    assert LiveShot.objects.filter(replay_round=2).values("game_id").distinct().count() == 1


def test_without_a_champion_shots_are_still_priced_by_the_market(warehouse_games, no_champion):
    services.stream_advance(force=True)
    shot = selectors.open_shot()
    assert shot.probability_made is None
    assert shot.market_odds_made is not None
    payload = selectors.shot_payload(shot, reveal=False)
    assert payload["edge_made"] is None
    assert payload["value_side"] is None


def test_an_empty_warehouse_opens_nothing(mongo_db, no_champion):
    report = services.stream_advance(force=True)
    assert report.opened_shot_id is None
    assert "no shots" in report.reason


# --- placing bets -------------------------------------------------------------------------


def test_a_bet_takes_the_stake_from_the_bankroll_at_the_market_odds(open_shot, bettor):
    placement = place(bettor, open_shot, side="missed", stake="120.50")
    assert placement.created
    assert placement.bet.odds == open_shot.market_odds_missed
    assert placement.bet.model_probability == pytest.approx(open_shot.probability_made)
    assert balance(bettor) == Decimal("879.50")


def test_the_same_form_submitted_twice_places_one_bet(open_shot, bettor):
    first = place(bettor, open_shot, key="same-key")
    second = place(bettor, open_shot, key="same-key")
    assert not second.created
    assert second.bet.pk == first.bet.pk
    assert Bet.objects.count() == 1
    assert balance(bettor) == Decimal("900.00")


@pytest.mark.parametrize(("stake", "message"), [
    ("0", "more than 0"), ("-5", "more than 0"), ("1000.01", "more than your balance"),
    ("abc", "not a number"), ("1.234", "two decimals"),
])  # fmt: skip
def test_a_bad_stake_is_refused_and_changes_nothing(open_shot, bettor, stake, message):
    with pytest.raises(ApplicationError, match=message):
        place(bettor, open_shot, stake=stake)
    assert Bet.objects.count() == 0
    assert balance(bettor) == Decimal("1000.00")


def test_a_bet_on_a_taken_shot_is_refused(open_shot, bettor):
    services.stream_advance(force=True)
    with pytest.raises(ApplicationError, match="closed") as refused:
        place(bettor, open_shot)
    assert refused.value.code == "shot_closed"
    assert balance(bettor) == Decimal("1000.00")


def test_a_bet_on_an_unknown_or_queued_shot_is_refused(open_shot, bettor):
    with pytest.raises(ApplicationError, match="does not exist"):
        services.bet_place(user=bettor, shot_id=999_999, side="made", stake="10", idempotency_key="x")
    queued = LiveShot.objects.filter(status=LiveShot.Status.QUEUED).first()
    with pytest.raises(ApplicationError, match="closed"):
        place(bettor, queued)
    assert Bet.objects.count() == 0


def test_a_side_other_than_made_or_missed_is_refused(open_shot, bettor):
    with pytest.raises(ApplicationError, match="made or missed"):
        place(bettor, open_shot, side="maybe")


# --- settlement ---------------------------------------------------------------------------


def test_settlement_pays_winners_stake_times_odds_and_keeps_losers_stakes(open_shot, bettor, other_bettor):
    winner_side = "made" if open_shot.hidden_made else "missed"
    loser_side = "missed" if open_shot.hidden_made else "made"
    win = place(bettor, open_shot, side=winner_side, stake="100").bet
    place(other_bettor, open_shot, side=loser_side, stake="50")
    services.stream_advance(force=True)

    report = services.bets_settle(shot_id=open_shot.pk)

    expected = (Decimal("100") * win.odds).quantize(Decimal("0.01"))
    assert (report.settled, report.won, report.paid) == (2, 1, expected)
    assert balance(bettor) == Decimal("900.00") + expected
    assert balance(other_bettor) == Decimal("950.00")
    assert LiveShot.objects.get(pk=open_shot.pk).status == LiveShot.Status.SETTLED
    assert Bet.objects.get(pk=win.pk).profit == expected - Decimal("100")


def test_settling_twice_pays_once(open_shot, bettor):
    side = "made" if open_shot.hidden_made else "missed"
    place(bettor, open_shot, side=side, stake="100")
    services.stream_advance(force=True)
    services.bets_settle(shot_id=open_shot.pk)
    after_first = balance(bettor)

    again = services.bets_settle(shot_id=open_shot.pk)
    catch_up = services.bets_settle_pending()

    assert again.settled == 0
    assert again.paid == 0
    assert catch_up == []
    assert balance(bettor) == after_first
    assert Bet.objects.get().status == Bet.Status.WON


def test_a_bet_claimed_by_another_settlement_is_not_paid_again(open_shot, bettor):
    side = "made" if open_shot.hidden_made else "missed"
    bet = place(bettor, open_shot, side=side, stake="100").bet
    services.stream_advance(force=True)
    # Another worker got there first (between our read and our claim).
    Bet.objects.filter(pk=bet.pk).update(status=Bet.Status.WON, payout=Decimal("1"), settled_at=timezone.now())

    report = services.bets_settle(shot_id=open_shot.pk)

    assert report.settled == 0
    assert balance(bettor) == Decimal("900.00")


def test_an_open_shot_cannot_be_settled(open_shot, bettor):
    with pytest.raises(ApplicationError, match="not been taken"):
        services.bets_settle(shot_id=open_shot.pk)


# --- reads ----------------------------------------------------------------------------------


def test_the_pnl_series_and_leaderboard_follow_settled_bets(open_shot, bettor, other_bettor):
    side = "made" if open_shot.hidden_made else "missed"
    bet = place(bettor, open_shot, side=side, stake="100").bet
    services.stream_advance(force=True)
    services.bets_settle(shot_id=open_shot.pk)

    profit = float((Decimal("100") * bet.odds).quantize(Decimal("0.01")) - 100)
    assert [point["pnl"] for point in selectors.pnl_series(user=bettor)] == [0.0, pytest.approx(profit)]
    board = selectors.leaderboard()
    assert [row["username"] for row in board] == ["ada", "grace"]
    assert board[0]["net"] == pytest.approx(Decimal(str(profit)))
    assert board[0]["hit_rate"] == 1.0


def test_the_snapshot_never_shows_the_open_shots_outcome(open_shot, bettor):
    snapshot = selectors.stream_snapshot(user=bettor)
    assert "made" not in snapshot["shot"]
    assert "hidden_made" not in str(snapshot)
    services.stream_advance(force=True)
    snapshot = selectors.stream_snapshot(user=bettor)
    assert snapshot["recent"][0]["made"] == LiveShot.objects.get(pk=open_shot.pk).hidden_made
