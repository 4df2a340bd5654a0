"""In a real browser: the model page's drift story, with a reliability curve drawn per shot family.

The newest shots are moved four feet further out after the champion's run (the outcomes stay), so
distance drifts and the champion, pricing them as longer shots, under-predicts them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from parivision import mongo
from tests.backtests import conftest as backtest_fixtures
from tests.backtests.conftest import WINDOW_START
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import expect, logged_in
from tests.training import test_drift_story as story_tests
from training.services.drift import drift_story_compute

trained = backtest_fixtures.trained
world = backtest_fixtures.world
champion = story_tests.champion
analyst = backtest_fixtures.analyst

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_model_page_shows_the_drifted_input_first_and_a_curve_per_family(
    browser_page, live_url, champion, world, analyst, screenshots, settings
):
    settings.DRIFT_LIVE_MIN_PREDICTIONS = 50
    mongo.warehouse_collection(mongo.SHOTS).update_many(
        {"game_date": {"$gte": dt.datetime.combine(WINDOW_START, dt.time())}}, {"$inc": {"distance_ft": 4}})
    current = story_tests.window_shots(world)
    story_tests.log_forecasts(current.loc[current["shot_type"] == "2PT"], version=champion, p=0.45)
    drift_story_compute()  # what the Celery task does: the page only reads it
    page = browser_page
    logged_in(page, live_url, analyst)

    page.goto(f"{live_url}/model/")
    story = page.locator("#drift-story")
    expect(story.locator("#drift-inputs tbody tr").first).to_have_attribute("data-column", "distance_ft")
    expect(story.locator("#drift-inputs tbody tr").first).to_contain_text("drifted")
    expect(story.locator('tr[data-family="2PT"][data-source="log"]')).to_contain_text("logged")
    expect(story.locator('tr[data-family="3PT"][data-source="replay"]')).to_be_visible()
    canvases = story.locator("canvas[data-family-index]")
    count = canvases.count()
    assert count == 5
    page.wait_for_function(
        "n => [...document.querySelectorAll('canvas[data-family-index]')].every(c => Chart.getChart(c))", arg=count)
    datasets = page.evaluate(
        "() => Chart.getChart(document.getElementById('family-chart-1')).data.datasets.map(d => d.label)")
    assert [label.split(" (")[0] for label in datasets] == ["Logged", "Replay", "Perfect"]  # 2PT: both sources
    story.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    story.screenshot(path=str(ARTIFACTS / "model-drift-story-section.png"))
    page.evaluate("window.scrollTo(0, 0)")
    screenshots(page, "model-drift-story")
