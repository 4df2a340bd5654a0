"""In a real browser: run a backtest and watch it finish, then look at the model, data and match pages."""

from __future__ import annotations

from typing import Any

import pytest

from backtests.models import Backtest
from ingestion.figures import ingestion_figures_refresh
from tests.backtests import conftest as backtest_fixtures
from tests.backtests.conftest import WINDOW_END, WINDOW_START
from tests.browser.helpers import logged_in

trained = backtest_fixtures.trained
world = backtest_fixtures.world

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def some_ingestion_history() -> None:
    """A week of runs and a few refused records, so the data page has something to show."""
    import datetime as dt

    from django.utils import timezone

    from ingestion.models import IngestionRun
    from parivision import mongo

    now = timezone.now()
    for day in range(7):
        for hour in (3, 15):
            IngestionRun.objects.create(kind="feed", source="http://127.0.0.1:8000", status="succeeded",
                                        started_at=now - dt.timedelta(days=day, hours=hour),
                                        finished_at=now - dt.timedelta(days=day, hours=hour) + dt.timedelta(seconds=4),
                                        read=230 + 10 * day, inserted=220 + 10 * day, rejected=day % 3)  # fmt: skip
    mongo.lake_collection(mongo.QUARANTINE).insert_many([
        {"_id": f"q{i}", "field": field, "value": value, "reason": f"{field}: {problem}", "message": message,
         "source": "feed:http://127.0.0.1:8000", "quarantined_at": dt.datetime(2024, 1, 2, 10, i)}
        for i, (field, value, problem, message) in enumerate([
            ("period", "11", "out of range", "period 11 is outside 1-10"),
            ("x_ft", "61.2", "off the court", "x_ft 61.2 is more than half a foot outside the court"),
            ("shot_type", "4PT", "unknown", "shot_type '4PT' is not 2PT or 3PT"),
        ])
    ])  # fmt: skip


def compute_figures(world: Any) -> None:
    from analytics.services import figures_refresh
    from training.services.figures import model_figures_compute

    model_figures_compute(version=world.versions[1])
    figures_refresh()


@pytest.fixture
def analyst(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="analyst", password="pw-analyst-123", is_staff=True)


@pytest.mark.usefixtures("celery_worker")
def test_a_backtest_runs_on_a_worker_and_its_curve_appears(browser_page, live_url, world, analyst, screenshots):
    page = browser_page
    logged_in(page, live_url, analyst)

    page.goto(f"{live_url}/backtests/")
    page.fill("#id_date_from", str(WINDOW_START))
    page.fill("#id_date_to", str(WINDOW_END))
    page.check("input[name=strategy][value=kelly]")
    assert page.is_visible("#id_kelly_fraction")
    assert not page.is_visible("#id_stake")
    page.fill("#id_kelly_fraction", "0.3")
    screenshots(page, "backtests-form")
    page.click("#backtest-form button[type=submit]")

    page.wait_for_url("**/backtests/*/")
    page.wait_for_selector("#results-table", timeout=120_000)  # the page polls, then reloads when done
    page.wait_for_function("() => { const c = document.getElementById('curve-chart'); return c && c.width > 0 && window.Chart && Chart.getChart(c); }")
    backtest = Backtest.objects.get()
    assert backtest.status == Backtest.Status.SUCCEEDED, backtest.error
    assert page.locator("#results-table tbody tr").count() >= 10
    lines = page.evaluate("() => Chart.getChart(document.getElementById('curve-chart')).data.datasets.length")
    assert lines == 3  # two versions and the starting bankroll
    assert page.text_content("#backtest-status").strip() == "Succeeded"
    screenshots(page, "backtest-result")

    page.goto(f"{live_url}/backtests/")
    assert page.locator("#backtest-table tbody tr").count() == 1
    screenshots(page, "backtests")


def test_the_model_data_and_match_pages_draw_their_charts(browser_page, live_url, world, analyst, screenshots):
    page = browser_page
    logged_in(page, live_url, analyst)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    compute_figures(world)  # what the workers do after a promotion: the pages only read

    page.goto(f"{live_url}/model/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('calibration-chart'))")
    assert page.text_content("h1").strip().startswith(f"v{world.versions[1]}")
    assert Backtest.objects.count() == 0
    screenshots(page, "model")

    some_ingestion_history()
    ingestion_figures_refresh()
    page.goto(f"{live_url}/data/?season=2023-24")
    page.wait_for_function("() => !document.getElementById('shot-summary').textContent.startsWith('Loading')")
    assert "shots" in page.text_content("#shot-summary")
    screenshots(page, "data")

    last_day = world.frame["game_date"].max().date()
    page.goto(f"{live_url}/matches/?date={last_day}")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('match-chart'))")
    assert page.locator("#match-teams .tile").count() == 2
    screenshots(page, "match")
    assert errors == []
