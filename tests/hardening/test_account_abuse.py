"""Password guessing, reset-mail floods and sign-up farming are limited, on the portal and the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from betting.models import Bankroll
from tests.betting.fixtures import PASSWORD, bettor_make

pytestmark = pytest.mark.django_db


def _login(client: Client, url: str, username: str, password: str) -> Any:
    return client.post(url, {"username": username, "password": password})


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_after_the_failure_limit_even_the_right_password_is_refused(url: str, settings) -> None:
    user = bettor_make("target", is_staff=True)
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        response = _login(client, url, user.username, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    assert _login(client, url, user.username, "wrong-password").status_code == 429  # the last failure allowed
    locked = _login(client, url, user.username, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in locked.content.decode()


def test_the_lockout_follows_the_username_across_addresses(settings) -> None:
    user = bettor_make("spread")
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        _login(Client(REMOTE_ADDR=f"198.51.100.{30 + i}"), "/accounts/login/", user.username, "wrong")
    assert _login(Client(REMOTE_ADDR="198.51.100.99"), "/accounts/login/", user.username, PASSWORD).status_code == 429


def test_the_lockout_follows_the_address_across_usernames(settings) -> None:
    bettor_make("victim")
    client = Client(REMOTE_ADDR="198.51.100.40")
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        _login(client, "/accounts/login/", f"guess{i}", "wrong")
    assert _login(client, "/accounts/login/", "victim", PASSWORD).status_code == 429


def test_a_few_typos_then_the_right_password_logs_in_and_resets_the_count(settings) -> None:
    user = bettor_make("typist")
    client = Client(REMOTE_ADDR="198.51.100.50")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _login(client, "/accounts/login/", user.username, "wrong")
    assert _login(client, "/accounts/login/", user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _login(client, "/accounts/login/", user.username, "wrong")
    assert _login(client, "/accounts/login/", user.username, PASSWORD).status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_address_lockout(settings) -> None:
    bettor_make("victim2")
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        Client(REMOTE_ADDR="198.51.100.60", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").post(
            "/accounts/login/", {"username": f"g{i}", "password": "wrong"})
    forged = Client(REMOTE_ADDR="198.51.100.60", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert _login(forged, "/accounts/login/", "victim2", PASSWORD).status_code == 429


def test_password_reset_mails_are_limited_per_address(settings) -> None:
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "3/hour"
    bettor_make("forgetful")
    statuses = [Client(REMOTE_ADDR=f"198.51.100.{70 + i}").post(
        reverse("portal:password_reset"), {"email": "forgetful+x@example.com" if i % 2 else "forgetful@example.com"}
    ).status_code for i in range(10)]  # fmt: skip
    assert statuses == [302] * 3 + [429] * 7
    # Requests 1 and 3 went to the account's exact address; the +x one counted against the same mailbox
    # (Django mails only the exact address an account has).
    assert len(mail.outbox) == 2


def test_password_reset_requests_are_limited_per_client_address(settings) -> None:
    settings.PASSWORD_RESET_RATE_PER_IP = "4/hour"
    client = Client(REMOTE_ADDR="198.51.100.80")
    statuses = [client.post(reverse("portal:password_reset"), {"email": f"who{i}@example.com"}).status_code
                for i in range(6)]
    assert statuses == [302] * 4 + [429] * 2
    refused = client.post(reverse("portal:password_reset"), {"email": "who9@example.com"})
    assert "Too many password-reset requests" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0


def _signup(client: Client, name: str, email: str | None = None) -> Any:
    return client.post(reverse("portal:signup"), {
        "username": name, "email": email or f"{name}@example.com", "password1": PASSWORD, "password2": PASSWORD})


def test_sign_ups_are_limited_per_client_address_and_the_refused_get_no_credits(settings) -> None:
    settings.SIGNUP_RATE_PER_IP = "3/day"
    statuses = [_signup(Client(REMOTE_ADDR="198.51.100.90"), f"farm{i}").status_code for i in range(5)]
    assert statuses == [302] * 3 + [429] * 2
    assert get_user_model().objects.filter(username__startswith="farm").count() == 3
    assert Bankroll.objects.filter(user__username__startswith="farm").count() == 3
    assert _signup(Client(REMOTE_ADDR="198.51.100.91"), "elsewhere").status_code == 302


def test_sign_ups_are_limited_site_wide(settings) -> None:
    settings.SIGNUP_RATE_GLOBAL = "4/hour"
    statuses = [_signup(Client(REMOTE_ADDR=f"198.51.100.{100 + i}"), f"bot{i}").status_code for i in range(6)]
    assert statuses == [302] * 4 + [429] * 2


def test_one_mailbox_opens_one_account_whatever_its_plus_tag() -> None:
    assert _signup(Client(REMOTE_ADDR="198.51.100.110"), "first", "Owner@Example.com").status_code == 302
    again = _signup(Client(REMOTE_ADDR="198.51.100.111"), "second", "owner+more@example.com")
    assert again.status_code == 200
    assert "already uses this email" in again.content.decode()
    assert not get_user_model().objects.filter(username="second").exists()
