"""The betting pages: the dashboard, placing bets through the form, my bets, permissions, the stream JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from betting import services
from betting.models import Bankroll, Bet, StreamState
from ingestion.mappers import SHOT_LOCATIONS_COLUMNS, to_feed_record
from ingestion.services import shots_import_file
from parivision import mongo
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import feed_outcome, ingest_released
from tests.factories import write_csv

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def bet_form(live_shot, **overrides):
    form = {"shot": live_shot.pk, "side": "made", "stake": "40", "idempotency_key": "form-key-1"}
    form.update(overrides)
    return form


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def balance(user) -> Decimal:
    return Bankroll.objects.get(user=user).balance


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_shows_the_next_shot_with_model_fair_and_market_prices(client, open_shot, bettor):
    client.force_login(bettor)
    page = client.get(reverse("portal:play")).content.decode()
    assert open_shot.player_name in page
    assert open_shot.action_type in page
    assert f"{open_shot.probability_made * 100:.1f}%" in page
    assert f"{float(open_shot.market_odds_made):.2f}" in page
    assert f"{1 / open_shot.probability_made:.2f}" in page  # fair odds
    assert 'id="bet-form"' in page
    assert 'id="shot-marker"' in page
    assert f'cx="{open_shot.x_ft:.2f}"' in page


def test_visitors_see_the_stream_and_an_invitation_to_sign_up(client, open_shot):
    page = client.get(reverse("portal:play")).content.decode()
    assert open_shot.player_name in page
    assert 'id="bet-form"' not in page
    assert "Sign up: 1,000 free credits" in page


def test_without_a_champion_the_dashboard_says_so_and_still_takes_bets(client, warehouse_games, no_champion, bettor):
    services.stream_advance(force=True)
    client.force_login(bettor)
    page = client.get(reverse("portal:play")).content.decode()
    assert "No champion model yet" in page
    assert 'id="bet-form"' in page


def test_before_the_stream_starts_the_dashboard_has_an_empty_state(client, bettor, no_champion, mongo_db):
    client.force_login(bettor)
    page = client.get(reverse("portal:play")).content.decode()
    assert "The stream is warming up" in page


def test_the_stream_json_has_the_open_shot_but_never_its_outcome(client, open_shot, bettor):
    client.force_login(bettor)
    data = client.get(reverse("portal:play-stream")).json()
    assert data["shot"]["id"] == open_shot.pk
    assert "made" not in data["shot"]
    assert data["me"]["balance"] == 1000.0
    assert set(data["shot"]) >= {"model_probability", "fair_odds_made", "market_odds_made", "edge_made", "x_ft"}


def test_the_stream_json_for_a_visitor_has_no_bankroll(client, open_shot):
    assert client.get(reverse("portal:play-stream")).json()["me"] is None


# --- placing bets through the form ----------------------------------------------------------


def test_a_good_bet_is_placed_and_the_balance_drops(client, open_shot, bettor):
    client.force_login(bettor)
    response = client.post(reverse("portal:bet-place"), bet_form(open_shot), follow=True)
    assert any(message.startswith("Bet placed: 40.00 credits on made") for message in messages_of(response))
    assert balance(bettor) == Decimal("960.00")
    assert Bet.objects.get().user == bettor


def test_a_double_submit_places_one_bet_and_says_so(client, open_shot, bettor):
    client.force_login(bettor)
    client.post(reverse("portal:bet-place"), bet_form(open_shot))
    response = client.post(reverse("portal:bet-place"), bet_form(open_shot), follow=True)
    assert "This bet was already placed (the form was sent twice); nothing changed." in messages_of(response)
    assert Bet.objects.count() == 1
    assert balance(bettor) == Decimal("960.00")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"stake": "0"}, "Stake: The stake must be more than 0 credits."),
    ({"stake": "-10"}, "Stake: The stake must be more than 0 credits."),
    ({"stake": ""}, "Stake: This field is required."),
    ({"stake": "5000"}, "The stake (5000.00 credits) is more than your balance (1000.00 credits)."),
    ({"side": "both"}, "Side: Select a valid choice."),
    ({"shot": "999999"}, "That shot does not exist."),
    ({"idempotency_key": ""}, "Form: This field is required."),
])  # fmt: skip
def test_a_bad_bet_gets_a_clear_message_and_changes_nothing(client, open_shot, bettor, overrides, message):
    client.force_login(bettor)
    response = client.post(reverse("portal:bet-place"), bet_form(open_shot, **overrides), follow=True)
    assert any(message in text for text in messages_of(response)), messages_of(response)
    assert Bet.objects.count() == 0
    assert balance(bettor) == Decimal("1000.00")


def test_a_bet_on_a_shot_already_taken_is_refused(client, open_shot, bettor):
    services.stream_advance(force=True)
    client.force_login(bettor)
    response = client.post(reverse("portal:bet-place"), bet_form(open_shot), follow=True)
    assert any("the shot has been taken" in text for text in messages_of(response))
    assert balance(bettor) == Decimal("1000.00")


def test_placing_a_bet_needs_a_login(client, open_shot):
    response = client.post(reverse("portal:bet-place"), bet_form(open_shot))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))
    # After logging in the bettor lands on the dashboard, not on this POST-only URL (a 405).
    assert response.url.endswith("?next=" + reverse("portal:play"))
    assert Bet.objects.count() == 0
    assert Bet.objects.count() == 0


# --- my bets and permissions ----------------------------------------------------------------


def test_my_bets_show_open_bets_history_and_the_pnl_after_settlement(client, open_shot, bettor):
    side = "made" if feed_outcome(open_shot) else "missed"
    client.force_login(bettor)
    client.post(reverse("portal:bet-place"), bet_form(open_shot, side=side, idempotency_key="a"))
    assert "Open bets" in client.get(reverse("portal:bets")).content.decode()
    services.stream_advance(force=True)
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)

    response = client.get(reverse("portal:bets"))
    page = response.content.decode()
    assert "Won" in page
    assert len(response.context["pnl"]) == 2
    assert 'id="pnl-chart"' in page


def test_a_correction_of_a_settled_outcome_leaves_the_bet_as_settled_and_the_page_says_so(client, open_shot, bettor,
                                                                                          tmp_path, caplog):
    made = feed_outcome(open_shot)
    client.force_login(bettor)
    client.post(reverse("portal:bet-place"), bet_form(open_shot, side="made" if made else "missed", idempotency_key="a"))
    services.stream_advance(force=True)
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)
    bet = Bet.objects.get()
    assert bet.status == Bet.Status.WON
    page = client.get(reverse("portal:bet-detail", args=[bet.pk])).content.decode()
    assert 'id="outcome-corrected"' not in page

    # A later file says the other thing about the same shot (a stat correction).
    stored = mongo.warehouse_collection(mongo.SHOTS).find_one({"_id": open_shot.shot_key})
    record = {**to_feed_record(stored), "Shot Made Flag": "0" if made else "1"}
    with caplog.at_level("WARNING", logger="ingestion.lake"):
        _run, report = shots_import_file(location=str(write_csv(tmp_path / "fix.csv", [record],
                                                                  SHOT_LOCATIONS_COLUMNS)))
    assert report.corrected == 1
    assert f"correction: shot {open_shot.shot_key} outcome changed" in caplog.text

    bet.refresh_from_db()
    assert bet.status == Bet.Status.WON  # bets stand as settled
    page = client.get(reverse("portal:bet-detail", args=[bet.pk])).content.decode()
    assert 'id="outcome-corrected"' in page
    assert f"corrected to {'Missed' if made else 'Made'}" in page
    assert "bets stand as settled" in page


def test_a_user_never_sees_another_users_bets(client, open_shot, bettor, other_bettor):
    theirs = services.bet_place(user=other_bettor, shot_id=open_shot.pk, side="made", stake="77",
                                idempotency_key="theirs").bet
    client.force_login(bettor)
    assert client.get(reverse("portal:bet-detail", args=[theirs.pk])).status_code == 404
    assert "77.00" not in client.get(reverse("portal:bets")).content.decode()
    assert client.get(reverse("portal:play-stream")).json()["me"]["open_bets"] == []

    client.force_login(other_bettor)
    assert client.get(reverse("portal:bet-detail", args=[theirs.pk])).status_code == 200


def test_my_bets_need_a_login(client):
    assert client.get(reverse("portal:bets")).status_code == 302


def test_the_leaderboard_ranks_bettors_and_is_public(client, open_shot, bettor, other_bettor):
    side = "made" if feed_outcome(open_shot) else "missed"
    services.bet_place(user=bettor, shot_id=open_shot.pk, side=side, stake="100", idempotency_key="l")
    services.stream_advance(force=True)
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)
    response = client.get(reverse("portal:leaderboard"))
    assert [row["username"] for row in response.context["board"]] == ["ada", "grace"]


# --- the operator's controls ----------------------------------------------------------------


def test_only_staff_control_the_stream(client, open_shot, bettor, operator):
    client.force_login(bettor)
    assert client.post(reverse("portal:stream-control"), {"action": "pause"}).status_code == 403
    assert not StreamState.objects.get().paused
    assert "Operator" not in client.get(reverse("portal:play")).content.decode()

    client.force_login(operator)
    client.post(reverse("portal:stream-control"), {"action": "pause"})
    assert StreamState.objects.get().paused
    assert "Operator" in client.get(reverse("portal:play")).content.decode()


def test_the_admin_lists_bets_bankrolls_shots_and_the_stream(client, open_shot, bettor, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    services.bet_place(user=bettor, shot_id=open_shot.pk, side="made", stake="10", idempotency_key="adm")
    client.force_login(admin)
    for name in ("bet", "bankroll", "liveshot", "streamstate"):
        response = client.get(reverse(f"admin:betting_{name}_changelist"))
        assert response.status_code == 200, name
    assert "ada" in client.get(reverse("admin:betting_bet_changelist") + "?q=ada").content.decode()

    client.post(reverse("admin:betting_streamstate_changelist"),
                {"action": "pause", "_selected_action": [StreamState.SINGLETON]})
    assert StreamState.objects.get().paused
