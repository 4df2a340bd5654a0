"""Bettor safeguards: the stake limit, the daily loss limit and the cool-down, enforced by bet_place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from betting import selectors, services
from betting.models import Bankroll, Bet
from parivision.errors import ApplicationError
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import feed_outcome, ingest_released

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def place(user, shot, *, stake="10", key="k-1", side="made"):
    return services.bet_place(user=user, shot_id=shot.pk, side=side, stake=stake, idempotency_key=key)


def balance(user) -> Decimal:
    return Bankroll.objects.get(user=user).balance


def refusal(user, shot, **kwargs) -> ApplicationError:
    before = balance(user), Bet.objects.filter(user=user).count()
    with pytest.raises(ApplicationError) as caught:
        place(user, shot, **kwargs)
    assert (balance(user), Bet.objects.filter(user=user).count()) == before  # nothing changed
    return caught.value


# --- setting them -------------------------------------------------------------------------------


def test_limits_are_stored_and_empty_means_no_limit(bettor):
    bankroll = services.bettor_limits_set(user=bettor, stake_limit="50", daily_loss_limit="120.5")
    assert (bankroll.stake_limit, bankroll.daily_loss_limit) == (Decimal("50.00"), Decimal("120.50"))
    bankroll = services.bettor_limits_set(user=bettor, stake_limit="", daily_loss_limit=None)
    assert (bankroll.stake_limit, bankroll.daily_loss_limit) == (None, None)


@pytest.mark.parametrize(("field", "value"), [
    ("stake_limit", "0"), ("stake_limit", "-5"), ("stake_limit", "abc"), ("stake_limit", "1.005"),
    ("stake_limit", "NaN"), ("daily_loss_limit", "1e12"), ("daily_loss_limit", "Infinity"),
])  # fmt: skip
def test_a_bad_limit_is_refused_naming_the_field_and_value(bettor, field, value):
    kwargs = {"stake_limit": None, "daily_loss_limit": None, field: value}
    with pytest.raises(ApplicationError) as caught:
        services.bettor_limits_set(user=bettor, **kwargs)
    assert caught.value.field == field
    assert caught.value.value == value
    assert Bankroll.objects.get(user=bettor).stake_limit is None


@pytest.mark.parametrize("hours", [0, -1, 721, True, "24"])
def test_a_cooldown_outside_one_hour_to_the_maximum_is_refused(bettor, hours):
    with pytest.raises(ApplicationError) as caught:
        services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit=None, cooldown_hours=hours)
    assert caught.value.field == "cooldown_hours"
    assert Bankroll.objects.get(user=bettor).cooldown_until is None


def test_a_cooldown_cannot_be_shortened_but_can_be_lengthened(bettor):
    now = timezone.now()
    week = services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit=None, cooldown_hours=168,
                                      now=now).cooldown_until
    assert week == now + dt.timedelta(hours=168)
    after_shorter = services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit=None,
                                               cooldown_hours=1, now=now).cooldown_until
    assert after_shorter == week
    longer = services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit=None, cooldown_hours=720,
                                        now=now).cooldown_until
    assert longer == now + dt.timedelta(hours=720)
    # Changing limits without asking for a cool-down leaves the running one alone.
    assert services.bettor_limits_set(user=bettor, stake_limit="5", daily_loss_limit=None).cooldown_until == longer


# --- enforcing them -----------------------------------------------------------------------------


def test_a_stake_above_the_stake_limit_is_refused_naming_the_limit(bettor, open_shot):
    services.bettor_limits_set(user=bettor, stake_limit="25", daily_loss_limit=None)
    error = refusal(bettor, open_shot, stake="25.01")
    assert error.code == "stake_limit"
    assert (error.field, error.value) == ("stake_limit", "25.00")
    assert "25.01" in error.message
    assert "stake limit (25.00 credits)" in error.message
    assert place(bettor, open_shot, stake="25").created  # at the limit is fine


def test_the_daily_loss_limit_counts_open_stakes_and_refuses_what_would_pass_it(bettor, open_shot):
    services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit="100")
    place(bettor, open_shot, stake="60", key="a")
    place(bettor, open_shot, stake="30", key="b", side="missed")
    error = refusal(bettor, open_shot, stake="10.01", key="c")
    assert error.code == "daily_loss_limit"
    assert (error.field, error.value) == ("daily_loss_limit", "100.00")
    assert "90.00 lost or in play today" in error.message
    assert "10.00 left" in error.message
    assert place(bettor, open_shot, stake="10", key="d").created
    assert selectors.bettor_limits(user=bettor).loss_left_today == Decimal("0")


def test_winnings_of_the_day_give_room_back_under_the_daily_loss_limit(bettor, open_shot):
    services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit="100")
    made = place(bettor, open_shot, stake="50", key="made").bet
    missed = place(bettor, open_shot, stake="50", key="missed", side="missed").bet
    services.stream_advance(force=True)
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)
    winner = Bet.objects.get(pk=made.pk if feed_outcome(open_shot) else missed.pk)
    lost_today = Decimal("100") - winner.payout
    limits = selectors.bettor_limits(user=bettor)
    assert limits.lost_today == max(lost_today, Decimal("0"))
    assert limits.loss_left_today == Decimal("100") - limits.lost_today


def test_yesterdays_losses_do_not_count_today(bettor, open_shot):
    services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit="50")
    bet = place(bettor, open_shot, stake="50", key="y").bet
    Bet.objects.filter(pk=bet.pk).update(placed_at=selectors.day_start(timezone.now()) - dt.timedelta(seconds=1))
    assert selectors.loss_today(user_id=bettor.pk, now=timezone.now()) == 0
    assert place(bettor, open_shot, stake="50", key="t").created


def test_no_bet_is_accepted_during_a_cooldown_and_bets_resume_after_it(bettor, open_shot):
    services.bettor_limits_set(user=bettor, stake_limit=None, daily_loss_limit=None, cooldown_hours=24)
    error = refusal(bettor, open_shot, stake="1")
    assert (error.code, error.field, error.status) == ("cooldown", "cooldown_until", 403)
    assert "no bets until" in error.message
    Bankroll.objects.filter(user=bettor).update(cooldown_until=timezone.now() - dt.timedelta(seconds=1))
    assert place(bettor, open_shot, stake="1").created
    assert selectors.bettor_limits(user=bettor).cooldown_until is None


def test_another_bettors_limits_do_not_apply_to_me(bettor, other_bettor, open_shot):
    services.bettor_limits_set(user=other_bettor, stake_limit="1", daily_loss_limit="1", cooldown_hours=1)
    assert place(bettor, open_shot, stake="500").created


def test_the_idempotent_replay_of_a_placed_bet_is_not_refused_by_a_new_limit(bettor, open_shot):
    first = place(bettor, open_shot, stake="80", key="same")
    services.bettor_limits_set(user=bettor, stake_limit="10", daily_loss_limit=None)
    again = place(bettor, open_shot, stake="80", key="same")
    assert (again.created, again.bet.pk) == (False, first.bet.pk)
