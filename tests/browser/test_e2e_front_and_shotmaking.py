"""In a real browser: the front page shows the product, and shot-making over expected is explorable.

Screenshots at desktop (1280) and phone (390) widths: front, shot-making, shot-making-player.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.backtests import conftest as backtest_fixtures
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import bettor_make, feed_outcome, ingest_released
from tests.browser.helpers import expect
from tests.browser.test_e2e_backtests import compute_figures, logged_in

trained = backtest_fixtures.trained
world = backtest_fixtures.world

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def product(open_shot: Any, settings: Any, monkeypatch: Any) -> Any:
    """An open shot, a champion with stored figures, a few settled bets today and the live status."""
    from analytics.services import figures_refresh
    from analytics.status import live_status_refresh
    from betting import selectors, services
    from ingestion.figures import ingestion_figures_refresh
    from training.models import ModelVersion

    monkeypatch.setattr(services, "_settlement_enqueue", lambda shot_id: None)
    settings.SMOE_MIN_ATTEMPTS = 5
    ModelVersion.objects.create(version=1, algorithm="xgboost", mlflow_run_id="test", is_champion=True,
                                holdout_scores={"accuracy": 0.634, "log_loss": 0.641, "brier": 0.224})  # fmt: skip
    rivals = [bettor_make("curry_fan"), bettor_make("splash"), bettor_make("rim_runner")]
    for index in range(3):
        shot = selectors.open_shot()
        for offset, rival in enumerate(rivals):
            right = "made" if feed_outcome(shot) else "missed"
            side = right if (index + offset) % 3 else ("missed" if right == "made" else "made")
            services.bet_place(user=rival, shot_id=shot.pk, side=side, stake=str(20 + 15 * offset),
                               idempotency_key=f"{rival.pk}-{index}")
        services.stream_advance(force=True)
        ingest_released()
        services.bets_settle(shot_id=shot.pk)
    figures_refresh()
    ingestion_figures_refresh()
    live_status_refresh()
    return selectors.open_shot()


def test_the_front_page_shows_the_next_shot_the_champion_and_the_day(browser_page, live_url, product, screenshots):
    from betting import selectors, services

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_url}/")
    expect(page.locator("h1")).to_contain_text("PariVision puts a price on it")
    expect(page.locator('#front-shot [data-bind="player"]')).to_have_text(product.player_name)
    expect(page.locator('#front-shot [data-bind="probability"]')).to_have_text(f"{product.probability_made * 100:.1f}%")
    expect(page.locator("#front-champion")).to_contain_text("v1")
    expect(page.locator("#front-today")).to_contain_text("9 bets settled by 3 bettors")
    expect(page.locator("#front-ingestion")).to_contain_text("shots in the warehouse")
    expect(page.locator("#front-alerts")).to_be_visible()
    expect(page.locator("#front-shot-makers li")).to_have_count(3)
    assert page.locator("#cta-play").get_attribute("href") == "/play/"
    screenshots(page, "front")

    # The next shot arrives without a reload; what the page fetched never carries an outcome or a key.
    # Wait for the answer that carries the next shot itself: the same player may well shoot twice in a
    # row, so the player's name alone can already match before the page has fetched anything.
    services.stream_advance(force=True)
    following = selectors.open_shot()
    shots: list[dict[str, Any]] = []
    while not shots or shots[-1]["id"] != following.pk:
        assert len(shots) < 5, f"the page kept fetching other shots: {[shot['id'] for shot in shots]}"
        response = page.wait_for_event("response", predicate=lambda r: "next-shot.json" in r.url, timeout=15_000)
        shots.append(json.loads(response.text())["shot"])
    expect(page.locator('#front-shot [data-bind="player"]')).to_have_text(following.player_name)
    assert all("made" not in shot and "shot_key" not in shot and "hidden_made" not in shot for shot in shots)
    assert product.shot_key not in page.content()
    assert errors == []


def test_shot_making_leaderboard_sorts_and_opens_a_players_page(browser_page, live_url, world, screenshots, settings,
                                                               django_user_model):
    settings.SMOE_MIN_ATTEMPTS = 10
    compute_figures(world)
    page = browser_page
    logged_in(page, live_url, django_user_model.objects.create_user(username="fan", password="pw-fan-12345"))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_url}/shot-making/")
    rows = page.locator("#smoe-table tbody tr")
    expect(rows).to_have_count(world.frame["player_id"].nunique())
    assert page.locator(".interval .interval-bar").count() == rows.count()
    screenshots(page, "shot-making")

    page.click("#smoe-table thead a:has-text('FGA')")
    page.wait_for_url(re.compile(r".*sort=attempts.*"))
    attempts = [int(t.replace(",", "")) for t in page.locator("#smoe-table tbody td:nth-child(4)").all_text_contents()]
    assert attempts == sorted(attempts, reverse=True)

    name = page.locator("#smoe-table tbody tr td:nth-child(2) a").first.text_content()
    page.locator("#smoe-table tbody tr td:nth-child(2) a").first.click()
    page.wait_for_url(re.compile(r".*/shot-making/players/\d+/.*"))
    expect(page.locator("h1")).to_contain_text(name)
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('trend-chart'))")
    games = page.evaluate("() => Chart.getChart(document.getElementById('trend-chart')).data.datasets[0].data.length")
    assert games > 5
    assert page.locator("#zone-table tbody tr").count() >= 2
    screenshots(page, "shot-making-player")
    assert errors == []
