"""A bettor's bets as CSV: the portal link and the API endpoint, own bets only, outcomes only once revealed."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from betting import services
from betting.export import COLUMNS
from betting.models import Bet, LiveShot
from predictions.services import token_create
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import feed_outcome, ingest_released

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def rows_of(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    reader = csv.DictReader(io.StringIO(body))
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def place(user, shot, *, stake="10", key="k", side="made"):
    return services.bet_place(user=user, shot_id=shot.pk, side=side, stake=stake, idempotency_key=key).bet


def test_the_portal_export_streams_only_my_bets_and_hides_the_open_shots_outcome(client, bettor, other_bettor,
                                                                                  open_shot):
    mine = place(bettor, open_shot, stake="12.5", key="mine")
    place(other_bettor, open_shot, stake="99", key="theirs")
    client.force_login(bettor)
    response = client.get(reverse("portal:bets-export"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="parivision-bets-')
    [row] = rows_of(response)
    assert (row["bet_id"], row["stake"], row["status"], row["side"]) == (str(mine.pk), "12.50", "open", "made")
    assert row["shot_status"] == "open"
    assert row["shot_made"] == ""  # never the outcome of an open shot
    assert row["shot_key"] == ""  # nor the key that would find it in the warehouse
    assert row["payout"] == ""
    assert row["player"] == open_shot.player_name


def test_once_taken_and_settled_the_export_shows_the_outcome_payout_and_profit(client, bettor, open_shot):
    outcome = feed_outcome(open_shot)
    won_side = "made" if outcome else "missed"
    lost_side = "missed" if won_side == "made" else "made"
    place(bettor, open_shot, stake="10", key="w", side=won_side)
    place(bettor, open_shot, stake="5", key="l", side=lost_side)
    services.stream_advance(force=True)
    client.force_login(bettor)
    # Taken but its record has not reached the warehouse: still no outcome to show.
    assert {r["shot_made"] for r in rows_of(client.get(reverse("portal:bets-export")))} == {""}
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)
    rows = rows_of(client.get(reverse("portal:bets-export")))
    assert [r["side"] for r in rows] == [won_side, lost_side]  # oldest first
    won, lost = rows
    bet = Bet.objects.get(user=bettor, side=won_side)
    assert (won["status"], won["payout"], won["profit"]) == ("won", f"{bet.payout:.2f}", f"{bet.payout - 10:.2f}")
    assert (lost["status"], lost["payout"], lost["profit"]) == ("lost", "0.00", "-5.00")
    assert won["shot_made"] == ("made" if outcome else "missed")
    assert won["shot_key"] == open_shot.shot_key


def test_text_a_spreadsheet_would_run_as_a_formula_is_defused(client, bettor, open_shot):
    LiveShot.objects.filter(pk=open_shot.pk).update(player_name="=HYPERLINK(\"http://x\")")
    place(bettor, open_shot, key="f")
    client.force_login(bettor)
    [row] = rows_of(client.get(reverse("portal:bets-export")))
    assert row["player"] == "'=HYPERLINK(\"http://x\")"


def test_the_export_needs_a_login_and_an_empty_book_is_just_the_header(client, bettor):
    response = client.get(reverse("portal:bets-export"))
    assert response.status_code == 302
    client.force_login(bettor)
    assert rows_of(client.get(reverse("portal:bets-export"))) == []
    assert 'id="bets-export"' in client.get(reverse("portal:bets")).content.decode()


def test_the_api_export_uses_the_token_and_returns_only_the_callers_bets(bettor, other_bettor, open_shot):
    place(bettor, open_shot, key="a")
    place(other_bettor, open_shot, key="b")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=other_bettor).key}")
    for accept in ("text/csv", "*/*"):
        response = api.get("/api/v1/bets/export", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        [row] = rows_of(response)
        assert row["bet_id"] == str(Bet.objects.get(user=other_bettor).pk)
        assert response["X-Request-ID"]


def test_the_api_export_refuses_anonymous_callers_in_the_one_error_shape(db):
    response = APIClient().get("/api/v1/bets/export")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    response = APIClient().get("/api/v1/bets/export", HTTP_ACCEPT="text/csv")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
