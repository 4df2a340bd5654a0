"""Playwright fixtures for the real-browser tests: Debian's Chromium, headless, against ``live_server``.

``browser_page`` is a fresh page (desktop viewport) in its own browser context; ``live_url`` is
the live server's base URL; ``screenshots(page, name)`` saves the page at desktop and phone
widths to test-artifacts/screenshots/ (and docs/screenshots/ with PARIVISION_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# page actions are still plain synchronous calls, so Django's async guard is lifted here only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install it with scripts/bootstrap.sh --browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def live_url(live_server: Any) -> str:
    return str(live_server.url)


def _save(page: Any, name: str) -> None:
    targets = [ARTIFACTS]
    if os.environ.get("PARIVISION_UPDATE_SCREENSHOTS") == "1":
        targets.append(DOCS)
    for folder in targets:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True, animations="disabled")


@pytest.fixture
def screenshots() -> Callable[[Any, str], None]:
    """Save the current page at desktop (``<name>-desktop.png``) then phone width (``<name>-phone.png``)."""

    def take(page: Any, name: str) -> None:
        original = page.viewport_size
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.wait_for_timeout(150)  # let charts resize
            _save(page, f"{name}-{label}")
        page.set_viewport_size(original)

    return take
