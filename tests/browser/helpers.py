"""What every browser test does: wait on a locator, and hand the browser a logged-in session."""

from __future__ import annotations

from typing import Any


def expect(locator: Any) -> Any:
    """Playwright's auto-waiting assertions (imported late: the package is only there with --browser)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def logged_in(page: Any, live_url: str, user: Any) -> None:
    """Hand the browser a session for ``user`` (the login form has its own tests)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}])
