"""Bets, settlement and the live stream on the real warehouse (MongoDB stand-in) and database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from betting import selectors, services
from betting.market import MARKET_MAKER
from betting.models import Bankroll, Bet, LiveShot, StreamState
from ingestion import feed
from parivision import mongo
from parivision.errors import ApplicationError
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import feed_outcome, games_load, ingest_released

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def balance(user) -> Decimal:
    return Bankroll.objects.get(user=user).balance


def place(user, shot, *, side="made", stake="100", key="k-1"):
    return services.bet_place(user=user, shot_id=shot.pk, side=side, stake=stake, idempotency_key=key)


# --- the stream ---------------------------------------------------------------------------


def winner(shot) -> str:
    return "made" if feed_outcome(shot) else "missed"


def test_the_first_advance_queues_the_feeds_next_records_in_order_and_opens_the_first_priced(open_shot):
    shots = list(LiveShot.objects.order_by("sequence"))
    assert [shot.feed_position for shot in shots] == list(range(len(shots)))
    assert open_shot.pk == shots[0].pk
    # The future: none of them is in the warehouse, and the feed has served none of them.
    assert mongo.warehouse_collection(mongo.SHOTS).count_documents({"_id": {"$in": [s.shot_key for s in shots]}}) == 0
    assert feed.feed_status()["available"] == 0
    assert 0 < open_shot.probability_made < 1
    assert open_shot.model_version == "1"
    assert open_shot.market_source == MARKET_MAKER
    assert open_shot.market_odds_made > 1
    assert open_shot.market_odds_missed > 1
    assert open_shot.made is None  # the outcome stays hidden until the shot is taken


def test_advancing_takes_the_open_shot_releases_its_record_and_opens_the_next(open_shot):
    report = services.stream_advance(force=True)
    taken = LiveShot.objects.get(pk=open_shot.pk)
    assert report.taken_shot_id == open_shot.pk
    assert taken.status == LiveShot.Status.TAKEN
    assert taken.made is None  # unknown until its record reaches the warehouse
    assert feed.feed_status()["available"] == 1  # the feed may now serve it, and only it
    assert selectors.open_shot().sequence == open_shot.sequence + 1

    assert ingest_released() == 1  # pull -> lake -> transform, as the pipeline does
    services.stream_advance()  # not due: it only settles what has arrived
    taken.refresh_from_db()
    assert taken.made is feed_outcome(taken)
    assert taken.outcome_at is not None
    assert taken.status == LiveShot.Status.SETTLED


def test_the_stream_only_moves_when_its_pace_says_so_and_never_while_paused(open_shot):
    state = StreamState.objects.get()
    assert services.stream_advance(now=state.last_advanced_at + dt.timedelta(seconds=1)).reason == "not due"
    later = state.last_advanced_at + dt.timedelta(seconds=state.pace_seconds + 1)
    services.stream_set(paused=True)
    assert services.stream_advance(now=later).reason == "paused"
    services.stream_set(paused=False)
    assert services.stream_advance(now=later).advanced


def test_at_the_end_of_the_feed_the_stream_stops_and_plays_out_every_record(mongo_db, db, tmp_path, no_champion):
    total = games_load(tmp_path, past=1, upcoming=1)
    for _ in range(total + 1):
        services.stream_advance(force=True)
    report = services.stream_advance(force=True)
    assert report.opened_shot_id is None
    assert "no more shots" in report.reason
    assert feed.feed_status()["available"] == total  # everything played is served to ingestion
    assert LiveShot.objects.values("shot_key").distinct().count() == LiveShot.objects.count()


def test_the_stream_skips_records_the_warehouse_already_has(mongo_db, db, tmp_path, no_champion):
    games_load(tmp_path, past=0, upcoming=1)
    first_two = [record for _position, record in feed.feed_peek(start=0, n=2)]
    from ingestion.services import lake_receive, lake_transform_pending

    lake_receive(records=first_two, source="elsewhere", run_id=None)  # known from another source
    lake_transform_pending()
    services.stream_advance(force=True)
    assert selectors.open_shot().feed_position == 2


def test_a_feed_replaying_the_warehouse_opens_nothing_and_plays_its_known_records_out(mongo_db, db, tmp_path,
                                                                                      no_champion):
    games_load(tmp_path, past=2, upcoming=0)
    total = feed.feed_load(dataset="warehouse")
    report = services.stream_advance(force=True)
    assert report.opened_shot_id is None  # every outcome is known: nothing to bet on
    assert LiveShot.objects.count() == 0
    assert feed.feed_status()["available"] == total  # known records need no pacing


def test_without_a_champion_shots_are_still_priced_by_the_market(warehouse_games, no_champion):
    services.stream_advance(force=True)
    shot = selectors.open_shot()
    assert shot.probability_made is None
    assert shot.market_odds_made is not None
    payload = selectors.shot_payload(shot, reveal=False)
    assert payload["edge_made"] is None
    assert payload["value_side"] is None


def test_without_a_feed_nothing_opens(mongo_db, no_champion):
    report = services.stream_advance(force=True)
    assert report.opened_shot_id is None
    assert "no more shots" in report.reason


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
    with pytest.raises(ApplicationError, match="not open for betting yet") as refused:
        place(bettor, queued)
    assert refused.value.code == "shot_not_open"
    # Who takes a shot still to come is not told: it would hint at the open shot's outcome.
    assert queued.player_name not in str(refused.value)
    assert Bet.objects.count() == 0


def test_a_side_other_than_made_or_missed_is_refused(open_shot, bettor):
    with pytest.raises(ApplicationError, match="made or missed"):
        place(bettor, open_shot, side="maybe")


# --- settlement ---------------------------------------------------------------------------


def test_settlement_pays_winners_stake_times_odds_and_keeps_losers_stakes(open_shot, bettor, other_bettor):
    winner_side = winner(open_shot)
    loser_side = "missed" if winner_side == "made" else "made"
    win = place(bettor, open_shot, side=winner_side, stake="100").bet
    place(other_bettor, open_shot, side=loser_side, stake="50")
    services.stream_advance(force=True)
    assert services.bets_settle(shot_id=open_shot.pk).settled == 0  # its record has not arrived yet
    assert Bet.objects.filter(status=Bet.Status.OPEN).count() == 2
    ingest_released()

    report = services.bets_settle(shot_id=open_shot.pk)

    expected = (Decimal("100") * win.odds).quantize(Decimal("0.01"))
    assert (report.settled, report.won, report.paid) == (2, 1, expected)
    assert balance(bettor) == Decimal("900.00") + expected
    assert balance(other_bettor) == Decimal("950.00")
    assert LiveShot.objects.get(pk=open_shot.pk).status == LiveShot.Status.SETTLED
    assert Bet.objects.get(pk=win.pk).profit == expected - Decimal("100")


def test_settling_twice_pays_once(open_shot, bettor):
    side = winner(open_shot)
    place(bettor, open_shot, side=side, stake="100")
    services.stream_advance(force=True)
    ingest_released()
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
    side = winner(open_shot)
    bet = place(bettor, open_shot, side=side, stake="100").bet
    services.stream_advance(force=True)
    ingest_released()
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
    side = winner(open_shot)
    bet = place(bettor, open_shot, side=side, stake="100").bet
    services.stream_advance(force=True)
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)

    profit = float((Decimal("100") * bet.odds).quantize(Decimal("0.01")) - 100)
    assert [point["pnl"] for point in selectors.pnl_series(user=bettor)] == [0.0, pytest.approx(profit)]
    board = selectors.leaderboard()
    assert [row["username"] for row in board] == ["ada", "grace"]
    assert board[0]["net"] == pytest.approx(Decimal(str(profit)))
    assert board[0]["hit_rate"] == 1.0


def test_the_snapshot_never_shows_the_open_shots_outcome_or_key(open_shot, bettor):
    snapshot = selectors.stream_snapshot(user=bettor)
    assert "made" not in snapshot["shot"]
    for hidden in (open_shot.shot_key, open_shot.game_id, "shot_key", "game_id", "event_id"):
        assert hidden not in str(snapshot)
    services.stream_advance(force=True)
    snapshot = selectors.stream_snapshot(user=bettor)
    assert snapshot["recent"][0]["made"] is None  # taken, not ingested yet
    ingest_released()
    services.stream_advance()
    snapshot = selectors.stream_snapshot(user=bettor)
    assert snapshot["recent"][0]["made"] is feed_outcome(open_shot)


def test_the_open_shots_prediction_is_logged_and_joined_live_once_its_record_is_ingested(open_shot):
    from predictions.selectors import backfill_scores, live_scores
    from predictions.services import predictions_join_outcomes
    from tests.logs import logged_rows

    [logged] = logged_rows({"key": open_shot.shot_key})
    assert logged.version == "1"
    assert logged.p == pytest.approx(open_shot.probability_made, abs=1e-6)
    assert logged.made is None  # not joined yet
    assert predictions_join_outcomes().settled_predictions == 0  # not in the warehouse yet
    services.stream_advance(force=True)
    ingest_released()
    report = predictions_join_outcomes()
    assert (report.live, report.backfill) == (1, 0)
    [joined] = logged_rows({"key": open_shot.shot_key})
    assert (joined.made, joined.live) == (feed_outcome(open_shot), True)
    assert [s.settled for s in live_scores()] == [1]
    assert backfill_scores() == []
