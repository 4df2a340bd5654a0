"""In a real browser: bettor limits (set, shown, enforced), the CSV export, the shadow and backtest-risk panels.

Each page is saved at desktop and phone widths (``screenshots``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from backtests.models import Backtest
from backtests.services import backtest_execute
from betting.export import COLUMNS
from betting.models import Bet
from predictions.models import ShadowDeployment
from tests.backtests import conftest as backtest_fixtures
from tests.backtests.conftest import WINDOW_END, WINDOW_START
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.browser.helpers import expect, logged_in
from training.ml.live_compare import live_compare, shadow_verdict

trained = backtest_fixtures.trained
world = backtest_fixtures.world

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_bettor_sets_limits_is_refused_above_them_and_exports_their_bets(browser_page, live_url, open_shot, bettor,
                                                                            screenshots):
    page = browser_page
    logged_in(page, live_url, bettor)

    page.goto(f"{live_url}/accounts/profile/")
    page.fill("#id_stake_limit", "20")
    page.fill("#id_daily_loss_limit", "100")
    page.click("#limits-save")
    expect(page.locator(".messages")).to_contain_text("Limits saved.")
    expect(page.locator("[data-limit=stake]")).to_have_text("20.00 credits a bet")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of a full-page shot
    screenshots(page, "profile-limits")

    page.goto(f"{live_url}/play/")
    expect(page.locator("#limits-bar")).to_contain_text("at most 20.00 a bet")
    page.check("input[name=side][value=made]", force=True)
    page.fill("#stake", "25")
    page.click("#place-bet")
    expect(page.locator(".messages")).to_contain_text("above your stake limit (20.00 credits)")
    assert not Bet.objects.filter(user=bettor).exists()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of a full-page shot
    screenshots(page, "play-limit-refused")
    page.check("input[name=side][value=made]", force=True)
    page.fill("#stake", "15")
    page.click("#place-bet")
    expect(page.locator(".messages")).to_contain_text("Bet placed: 15.00 credits")
    expect(page.locator("#limits-bar")).to_contain_text("today 15.00 of 100.00 lost or in play")

    page.goto(f"{live_url}/play/bets/")
    with page.expect_download() as download_info:
        page.click("#bets-export")
    path = download_info.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["stake"], r["status"], r["shot_made"]) for r in rows] == [("15.00", "open", "")]


def test_the_model_page_compares_champion_and_shadow_and_a_backtest_shows_risk_and_zones(
        browser_page, live_url, world, screenshots, django_user_model):
    analyst = django_user_model.objects.create_user(username="analyst", password="pw-analyst-123", is_staff=True)
    champion_version, shadow_version = world.versions[1], world.versions[0]
    rng = np.random.default_rng(9)
    truth = rng.uniform(0.15, 0.85, 1200)
    made = rng.uniform(size=1200) < truth
    comparison = live_compare(made=made, champion=np.clip(truth + rng.normal(0, 0.12, 1200), 0.02, 0.98),
                              shadow=truth)
    verdict = shadow_verdict(comparison=comparison, metric="log_loss", min_pairs=300)
    ShadowDeployment.objects.create(  # what predictions.shadow_review stores
        version=shadow_version, started_by="pipeline run #7", start_reason="best challenger that did not win",
        champion_version=champion_version, comparison=comparison.as_dict(), verdict=verdict.reason,
        significant_gain=verdict.significant_gain, reviewed_at=timezone.now(),
        started_at=timezone.now() - dt.timedelta(days=2))
    page = browser_page
    logged_in(page, live_url, analyst)

    page.goto(f"{live_url}/model/")
    expect(page.locator("#shadow-table tbody tr")).to_have_count(3)
    expect(page.locator("#shadow-card")).to_contain_text("1,200 settled shots scored by both")
    expect(page.locator("#shadow-verdict")).to_contain_text("Significant live gain.")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of a full-page shot
    screenshots(page, "model-shadow")

    backtest = Backtest.objects.create(owner=analyst, model_versions=list(world.versions), date_from=WINDOW_START,
                                       date_to=WINDOW_END, strategy="kelly",
                                       params={"strategy": "kelly", "threshold": 0.0, "stake": 10.0,
                                               "kelly_fraction": 0.25, "margin": 0.05, "bankroll": 1000.0,
                                               "min_stake": 0.01})  # fmt: skip
    backtest_execute(backtest_id=backtest.pk)
    page.goto(f"{live_url}/backtests/{backtest.pk}/")
    expect(page.locator("#results-table")).to_contain_text("Risk of ruin")
    expect(page.locator("#results-table")).to_contain_text("Profit factor")
    assert page.locator("#zone-breakdown table").count() == 2
    assert page.locator("#zone-breakdown tbody tr").count() >= 2
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of a full-page shot
    screenshots(page, "backtest-risk-zones")
