"""The profile's Limits section and the play page: setting safeguards and seeing them refuse a bet."""

from __future__ import annotations

import pytest
from django.urls import reverse

from betting.models import Bankroll, Bet
from tests.betting.fixtures import *  # noqa: F403  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_profile_shows_the_limits_form_with_no_limits_set(client, bettor):
    client.force_login(bettor)
    page = client.get(reverse("portal:profile")).content.decode()
    assert 'id="limits-form"' in page
    assert 'data-limit="stake">none' in page
    assert 'data-limit="cooldown">none' in page


def test_saving_limits_from_the_profile_stores_them_and_shows_them(client, bettor):
    client.force_login(bettor)
    response = client.post(reverse("portal:limits-update"),
                           {"stake_limit": "40", "daily_loss_limit": "150", "cooldown_hours": ""}, follow=True)
    assert "Limits saved." in messages_of(response)
    bankroll = Bankroll.objects.get(user=bettor)
    assert (str(bankroll.stake_limit), str(bankroll.daily_loss_limit)) == ("40.00", "150.00")
    page = response.content.decode()
    assert "40.00 credits a bet" in page
    assert "150.00 credits" in page


def test_a_bad_limit_is_refused_on_the_profile_naming_it(client, bettor):
    client.force_login(bettor)
    response = client.post(reverse("portal:limits-update"), {"stake_limit": "-3", "daily_loss_limit": ""},
                           follow=True)
    [message] = messages_of(response)
    assert message.startswith("Limits not saved. The stake limit must be more than 0")
    assert Bankroll.objects.get(user=bettor).stake_limit is None
    response = client.post(reverse("portal:limits-update"), {"cooldown_hours": "5"}, follow=True)
    assert "Take a break" in messages_of(response)[0]


def test_limits_need_a_login_and_a_post(client, bettor):
    assert client.post(reverse("portal:limits-update"), {"stake_limit": "1"}).status_code == 302
    assert Bankroll.objects.get(user=bettor).stake_limit is None
    client.force_login(bettor)
    assert client.get(reverse("portal:limits-update")).status_code == 405


def test_the_play_page_shows_the_limits_and_refuses_a_bet_above_them_with_the_reason(client, bettor, open_shot):
    client.force_login(bettor)
    client.post(reverse("portal:limits-update"), {"stake_limit": "20", "daily_loss_limit": "", "cooldown_hours": ""})
    page = client.get(reverse("portal:play")).content.decode()
    assert 'id="limits-bar"' in page
    assert "at most 20.00 a bet" in page
    form = {"shot": open_shot.pk, "side": "made", "stake": "25", "idempotency_key": "limit-key"}
    response = client.post(reverse("portal:bet-place"), form, follow=True)
    assert messages_of(response) == ["Bet not placed. The stake (25.00 credits) is above your stake limit "
                                     "(20.00 credits)."]
    assert not Bet.objects.filter(user=bettor).exists()


def test_a_cooldown_set_on_the_profile_blocks_bets_on_the_play_page(client, bettor, open_shot):
    client.force_login(bettor)
    response = client.post(reverse("portal:limits-update"), {"cooldown_hours": "24"}, follow=True)
    assert "Cool-down: no bets until" in messages_of(response)[0]
    assert "limits-cooldown" in client.get(reverse("portal:play")).content.decode()
    form = {"shot": open_shot.pk, "side": "made", "stake": "5", "idempotency_key": "cool-key"}
    response = client.post(reverse("portal:bet-place"), form, follow=True)
    assert messages_of(response)[0].startswith("Bet not placed. You are in the cool-down you set: no bets until")
    assert not Bet.objects.filter(user=bettor).exists()
