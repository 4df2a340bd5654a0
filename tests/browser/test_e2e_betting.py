"""A bettor's whole journey in headless Chromium against the live server, with screenshots.

Sign up → log out → log in → see the champion's prediction for the next shot (a shot of the
replay feed the platform has not ingested) → look for its outcome in the shots API, the stream
JSON and the feed, and fail → place a bet → the shot is taken (the dashboard says it is being
ingested) → its record is pulled from the feed over HTTP and transformed into the warehouse →
the bet settles → the dashboard's polling shows the result, the new balance and P&L.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from betting import selectors, services
from betting.models import Bankroll, Bet
from ingestion.feed import feed_pull
from ingestion.services import lake_transform_pending
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import PASSWORD, bettor_make, feed_outcome, games_load, ingest_released
from tests.browser.helpers import expect

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def winning_side(shot) -> str:
    return "made" if feed_outcome(shot) else "missed"


def play_a_few_shots(count: int) -> None:
    """Other bettors on the first shots, so the court, results and leaderboard have something to show."""
    rivals = [bettor_make("curry_fan"), bettor_make("splash"), bettor_make("rim_runner")]
    for index in range(count):
        shot = selectors.open_shot()
        for offset, rival in enumerate(rivals):
            lucky = (index + offset) % 3 != 0
            side = winning_side(shot) if lucky else ("missed" if winning_side(shot) == "made" else "made")
            services.bet_place(user=rival, shot_id=shot.pk, side=side, stake=str(20 + 15 * offset),
                               idempotency_key=f"{rival.pk}-{index}")
        services.stream_advance(force=True)
        ingest_released()
        services.bets_settle(shot_id=shot.pk)


@pytest.fixture
def live_stream(mongo_db, champion, tmp_path, transactional_db, monkeypatch):
    # This test settles in-process (as the worker would); a session worker left running by other
    # browser tests must not settle the same shots behind its back.
    monkeypatch.setattr(services, "_settlement_enqueue", lambda shot_id: None)
    games_load(tmp_path, past=2, upcoming=1)
    services.stream_advance(force=True)
    play_a_few_shots(6)
    return selectors.open_shot()


def test_sign_up_log_in_bet_and_see_the_shot_settle(browser_page, live_url, live_stream, screenshots, settings):
    settings.DASHBOARD_POLL_SECONDS = 0.5
    page = browser_page

    # Sign up (a bad form first: the error is shown, nobody is created).
    page.goto(f"{live_url}/accounts/signup/")
    screenshots(page, "signup")
    page.fill("#id_username", "rookie")
    page.fill("#id_email", "rookie@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", "something-else-9")
    page.click("button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("match")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("You start with 1,000 credits")

    # Log out, then log in again.
    page.click("button.nav-logout")
    page.goto(f"{live_url}/accounts/login/")
    screenshots(page, "login")
    page.fill("#id_username", "rookie")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/play/$"))

    # The next shot, priced by the champion and the market.
    shot = live_stream
    expect(page.locator('[data-bind="player"]')).to_have_text(shot.player_name)
    expect(page.locator('[data-bind="probability"]')).to_have_text(f"{shot.probability_made * 100:.1f}%")
    expect(page.locator('[data-bind="odds-made"]')).to_have_text(f"{float(shot.market_odds_made):.2f}")
    expect(page.locator('[data-bind="balance"]')).to_have_text("1,000.00")

    # Look for its outcome: the stream's JSON, the shots API filtered on its player and day, the feed.
    stream = json.loads(page.evaluate("() => fetch('/play/stream.json').then(r => r.text())"))
    assert stream["shot"]["id"] == shot.pk
    assert not {"made", "shot_key", "game_id", "event_id"} & set(stream["shot"])
    day = shot.game_date.isoformat()
    found = json.loads(page.evaluate(
        f"() => fetch('/api/v1/shots?player={shot.player_id}&date_from={day}&date_to={day}&limit=1000')"
        ".then(r => r.text())"))
    same = [s for s in found["shots"] if (s["period"], s["seconds_left"], s["x_ft"], s["y_ft"])
            == (shot.period, shot.seconds_left, shot.x_ft, shot.y_ft)]
    assert same == []  # not in the warehouse: nobody can know it yet
    assert page.evaluate("() => fetch('/getdata/5').then(r => r.status)") == 401
    page.goto(f"{live_url}/play/")

    # A bad stake is refused with a message; the balance does not move.
    page.check(f"input[name=side][value={winning_side(shot)}]")
    page.fill("#stake", "5000")
    page.click("#place-bet")
    expect(page.locator(".message-error")).to_contain_text("more than your balance")
    expect(page.locator('[data-bind="balance"]')).to_have_text("1,000.00")

    # A good bet.
    page.check(f"input[name=side][value={winning_side(shot)}]")
    page.click(".chip[data-stake='100']")
    page.click("#place-bet")
    expect(page.locator(".message-success")).to_contain_text("Bet placed: 100.00 credits")
    expect(page.locator('[data-bind="balance"]')).to_have_text("900.00")
    expect(page.locator("#open-bets")).to_contain_text("100.00 on")
    screenshots(page, "dashboard")

    # The shot is taken: bets close, its record is released to the feed; nobody knows the outcome yet.
    services.stream_advance(force=True)
    expect(page.locator("#recent-results li").first).to_contain_text("ingesting", timeout=10_000)
    assert Bet.objects.get(user__username="rookie").status == Bet.Status.OPEN
    # Ingestion as the worker does it: pull the feed over HTTP (with its token) into the lake, transform.
    _run, report, _batch = feed_pull(url=live_url, n=100)
    assert report.read == 1
    lake_transform_pending()
    services.stream_advance()  # beat's next tick: settles what reached the warehouse
    bet = Bet.objects.get(user__username="rookie")
    assert bet.status == Bet.Status.WON
    expected = Decimal("900.00") + bet.payout
    assert Bankroll.objects.get(user__username="rookie").balance == expected

    # No reload: the dashboard's polling brings the result, the new shot and the P&L.
    expect(page.locator('[data-bind="balance"]')).to_have_text(f"{expected:,.2f}", timeout=10_000)
    expect(page.locator('[data-bind="net"]')).to_have_text(f"+{bet.payout - bet.stake:,.2f}")
    expect(page.locator("#open-bets")).to_contain_text("No open bet.")
    expect(page.locator("#recent-results li").first).to_contain_text(shot.player_name)
    expect(page.locator('[data-bind="player"]')).to_have_text(selectors.open_shot().player_name)
    assert page.evaluate("() => Chart.getChart('pnl-chart').data.datasets[0].data.length") == 2
    screenshots(page, "dashboard-after-settlement")

    page.goto(f"{live_url}/play/bets/")
    expect(page.locator("#bet-history")).to_contain_text("Won")
    expect(page.locator("#balance")).to_have_text(f"{expected:,.2f}")
    assert page.evaluate("() => Chart.getChart('pnl-chart').data.datasets[0].data.length") == 2
    screenshots(page, "my-bets")

    page.goto(f"{live_url}/play/leaderboard/")
    expect(page.locator("table.leaderboard")).to_contain_text("rookie")
    screenshots(page, "leaderboard")

    page.goto(f"{live_url}/accounts/profile/")
    page.click("button[value=create]")
    expect(page.locator("#token-key")).to_be_visible()
    screenshots(page, "profile")
