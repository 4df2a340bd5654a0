"""Sign up, log in and out, password change and reset, the profile and its API token."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from knox.crypto import hash_token
from knox.models import AuthToken

from betting.models import Bankroll
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-Secret-77"


def signup_form(**overrides):
    form = {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD}
    form.update(overrides)
    return form


def test_signing_up_opens_a_bankroll_of_starting_credits_and_logs_in(client):
    response = client.post(reverse("portal:signup"), signup_form(), follow=True)

    user = get_user_model().objects.get(username="newbie")
    assert Bankroll.objects.get(user=user).balance == Decimal("1000.00")
    assert response.redirect_chain[-1][0] == reverse("portal:play")
    assert response.context["user"] == user
    assert "You start with 1,000 credits" in response.content.decode()


def test_the_starting_bankroll_follows_the_setting(client, settings):
    settings.STARTING_BANKROLL = 250
    client.post(reverse("portal:signup"), signup_form())
    assert Bankroll.objects.get().balance == Decimal("250.00")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"password2": "not-the-same-1"}, "The two password fields didn\u2019t match."),
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"username": ""}, "This field is required."),
    ({"password1": "123", "password2": "123"}, "This password is too short."),
])  # fmt: skip
def test_a_bad_sign_up_form_says_why_and_creates_nobody(client, overrides, message):
    response = client.post(reverse("portal:signup"), signup_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert Bankroll.objects.count() == 0


def test_an_email_already_in_use_is_refused(client, bettor):
    response = client.post(reverse("portal:signup"), signup_form(email=bettor.email.upper()))
    assert "An account already uses this email address." in response.content.decode()


def test_logging_in_and_out(client, bettor):
    response = client.post(reverse("portal:login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("portal:play")
    assert client.get(reverse("portal:profile")).status_code == 200

    response = client.post(reverse("portal:logout"))
    assert response.status_code == 302
    assert client.get(reverse("portal:profile")).status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, bettor):
    response = client.post(reverse("portal:login"), {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_the_profile_needs_a_login(client):
    response = client.get(reverse("portal:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_changing_the_password(client, bettor):
    client.force_login(bettor)
    response = client.post(reverse("portal:password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("portal:password_change_done")
    bettor.refresh_from_db()
    assert bettor.check_password(NEW_PASSWORD)


def test_resetting_a_forgotten_password_by_email(client, bettor):
    response = client.post(reverse("portal:password_reset"), {"email": bettor.email})
    assert response.url == reverse("portal:password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    response = client.post(form_page.redirect_chain[-1][0],
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.url == reverse("portal:password_reset_complete")
    bettor.refresh_from_db()
    assert bettor.check_password(NEW_PASSWORD)


def test_a_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("portal:password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("portal:password_reset_done")
    assert mail.outbox == []


def test_creating_an_api_token_shows_it_once_then_masked(client, bettor):
    client.force_login(bettor)
    first = client.post(reverse("portal:token-manage"), {"action": "create"}, follow=True)
    key = shown_key(first.content.decode())
    assert AuthToken.objects.get(user=bettor).digest == hash_token(key)  # only the digest is stored

    later = client.get(reverse("portal:profile")).content.decode()
    assert key not in later
    assert key[:8] in later
    assert "expires" in later


def shown_key(page: str) -> str:
    """The key the profile shows in full, once."""
    found = re.search(r'<code id="token-key">([0-9a-f]+)</code>', page)
    assert found, "the new key is not on the page"
    return found.group(1)


def test_a_new_token_replaces_the_old_one_and_revoking_removes_it(client, bettor):
    client.force_login(bettor)
    client.post(reverse("portal:token-manage"), {"action": "create"})
    old = AuthToken.objects.get(user=bettor).digest
    client.post(reverse("portal:token-manage"), {"action": "create"})
    assert AuthToken.objects.get(user=bettor).digest != old

    response = client.post(reverse("portal:token-manage"), {"action": "revoke"}, follow=True)
    assert not AuthToken.objects.filter(user=bettor).exists()
    assert "API token revoked" in response.content.decode()


def test_the_api_accepts_the_token_made_on_the_profile(client, bettor):
    client.force_login(bettor)
    key = shown_key(client.post(reverse("portal:token-manage"), {"action": "create"}, follow=True).content.decode())
    client.logout()
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/v1/predictions", {}, format="json").status_code == 400  # in, and told what is missing
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.post("/api/v1/predictions", {}, format="json").status_code == 401


def test_token_actions_need_a_post_and_a_login(client, bettor):
    assert client.post(reverse("portal:token-manage"), {"action": "create"}).status_code == 302
    client.force_login(bettor)
    assert client.get(reverse("portal:token-manage")).status_code == 405
    assert not AuthToken.objects.exists()
