"""In a real browser: from the model page to the champion's card, and both downloads.

Each page is saved at desktop and phone widths (``screenshots``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backtests import conftest as backtest_fixtures
from tests.browser.helpers import expect, logged_in
from training.models import PromotionDecision
from training.services.cards import card_generate

trained = backtest_fixtures.trained
world = backtest_fixtures.world
analyst = backtest_fixtures.analyst

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_champions_card_opens_from_the_model_page_and_downloads(browser_page, live_url, world, analyst,
                                                                    screenshots, settings):
    settings.MODEL_CARD_RESAMPLES = 200
    champion, other = world.versions[1], world.versions[0]
    PromotionDecision.objects.create(kind=PromotionDecision.Kind.MANUAL, challenger_version=champion,
                                     champion_version=other, promoted=True, triggered_by="analyst",
                                     reason=f"promoted by hand over v{other}")  # fmt: skip
    # What the pipeline (or manage.py model_cards) does: the page only reads the stored card.
    card_generate(version=champion, recompute=True)
    page = browser_page
    logged_in(page, live_url, analyst)

    page.goto(f"{live_url}/model/")
    page.click("#champion-card")
    page.wait_for_url(f"**/model/versions/{champion}/card/")
    assert page.text_content("h1").strip().startswith(f"v{champion}")
    expect(page.locator("#card-scores tbody tr")).to_have_count(4)
    expect(page.locator("#card-calibration tbody tr")).to_have_count(5)  # 2PT, 3PT; close, mid-range, three
    expect(page.locator("#card-promotions")).to_contain_text(f"promoted over v{other}")
    expect(page.locator("#card-walkforward")).to_have_text("Not run for this version.")
    expect(page.locator("#card-limits li").first).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of a full-page shot
    screenshots(page, "model-card")

    with page.expect_download() as download_info:
        page.click("#card-download-md")
    download = download_info.value
    assert download.suggested_filename == f"parivision-v{champion}-model-card.md"
    markdown = Path(download.path()).read_text(encoding="utf-8")
    assert markdown.startswith(f"# Model card: v{champion} (xgboost)")
    assert "## Calibration by shot family" in markdown
    with page.expect_download() as download_info:
        page.click("#card-download-html")
    assert download_info.value.suggested_filename == f"parivision-v{champion}-model-card.html"
    assert "<h2>Known limits</h2>" in Path(download_info.value.path()).read_text(encoding="utf-8")

    page.goto(f"{live_url}/model/versions/{other}/card/")
    expect(page.locator("#card-empty")).to_contain_text(f"manage.py model_cards --version {other}")
