"""Per-user backtest limits (issue #10): running at once and per day, refused with a 429 naming the
limit, in the service, the API and the portal form; staff exempt unless configured otherwise."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from backtests import services
from backtests.models import Backtest
from parivision.errors import ApplicationError
from tests.backtests.conftest import WINDOW_END, WINDOW_START
from tests.backtests.test_api import body
from tests.backtests.test_services import create

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.BACKTEST_MAX_ACTIVE_PER_USER = 2
    settings.BACKTEST_MAX_PER_DAY = 3
    settings.BACKTEST_LIMITS_APPLY_TO_STAFF = False
    return settings


def finish(backtest: Backtest, *, created_at: dt.datetime | None = None) -> None:
    Backtest.objects.filter(pk=backtest.pk).update(status=Backtest.Status.SUCCEEDED,
                                                  created_at=created_at or backtest.created_at)  # fmt: skip


def test_a_third_backtest_at_once_is_refused_naming_the_limit(world, analyst, limits):
    create(analyst, world.versions[:1])
    create(analyst, world.versions[:1])

    with pytest.raises(ApplicationError) as refused:
        create(analyst, world.versions[:1])

    assert refused.value.status == 429
    assert refused.value.code == "backtest_limit"
    assert "BACKTEST_MAX_ACTIVE_PER_USER=2" in refused.value.message
    assert "2 backtest(s) queued or running" in refused.value.message
    assert Backtest.objects.count() == 2


def test_a_request_past_the_limit_is_refused_before_any_warehouse_read(world, analyst, limits, monkeypatch):
    create(analyst, world.versions[:1])
    create(analyst, world.versions[:1])

    def no_read(*args, **kwargs):
        raise AssertionError("the warehouse was read for a request the limit refuses")

    monkeypatch.setattr(services.mongo, "warehouse_collection", no_read)
    with pytest.raises(ApplicationError) as refused:
        create(analyst, world.versions[:1])
    assert refused.value.code == "backtest_limit"


def test_a_finished_backtest_frees_its_place(world, analyst, limits):
    first = create(analyst, world.versions[:1])
    create(analyst, world.versions[:1])
    finish(first)

    assert create(analyst, world.versions[:1]).status == Backtest.Status.QUEUED


def test_the_limit_is_per_user(world, analyst, other_user, limits):
    create(analyst, world.versions[:1])
    create(analyst, world.versions[:1])

    assert create(other_user, world.versions[:1]).owner == other_user


def test_the_daily_limit_counts_the_last_24_hours_and_says_when_the_next_can_start(world, analyst, limits):
    now = timezone.now()
    old = create(analyst, world.versions[:1])
    finish(old, created_at=now - dt.timedelta(hours=25))  # outside the window: not counted
    for hours_ago in (20, 10, 1):
        finish(create(analyst, world.versions[:1]), created_at=now - dt.timedelta(hours=hours_ago))

    with pytest.raises(ApplicationError) as refused:
        create(analyst, world.versions[:1])

    message = refused.value.message
    assert refused.value.status == 429
    assert "3 backtests in the last 24 hours" in message
    assert "BACKTEST_MAX_PER_DAY=3" in message
    assert (now + dt.timedelta(hours=4)).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") in message
    assert Backtest.objects.count() == 4


def test_staff_are_exempt_unless_the_limits_apply_to_them(world, django_user_model, limits):
    staff = django_user_model.objects.create_user(username="operator", password="pw-operator-123", is_staff=True)
    for _ in range(3):
        create(staff, world.versions[:1])
    assert Backtest.objects.filter(owner=staff).count() == 3

    limits.BACKTEST_LIMITS_APPLY_TO_STAFF = True
    with pytest.raises(ApplicationError, match="BACKTEST_MAX_ACTIVE_PER_USER=2"):
        create(staff, world.versions[:1])


def test_zero_switches_a_limit_off(world, analyst, limits):
    limits.BACKTEST_MAX_ACTIVE_PER_USER = 0
    limits.BACKTEST_MAX_PER_DAY = 0
    for _ in range(4):
        create(analyst, world.versions[:1])
    assert Backtest.objects.filter(owner=analyst, status=Backtest.Status.QUEUED).count() == 4


def test_the_api_refuses_with_a_429_in_the_one_error_shape(world, api, limits):
    for _ in range(2):
        assert api.post("/api/v1/backtests", body(world.versions[:1]), format="json").status_code == 202

    response = api.post("/api/v1/backtests", body(world.versions[:1]), format="json")

    assert response.status_code == 429
    error = response.json()
    assert error["code"] == "backtest_limit"
    assert "BACKTEST_MAX_ACTIVE_PER_USER=2" in error["message"]
    assert error["request_id"]
    assert Backtest.objects.count() == 2


def test_the_portal_form_explains_the_refusal_and_queues_nothing(client, world, analyst, limits):
    client.force_login(analyst)
    data = {"model_versions": [world.versions[0]], "date_from": WINDOW_START, "date_to": WINDOW_END,
            "strategy": "flat", "threshold": 0.02, "stake": 10, "kelly_fraction": 0.25, "margin": 0.05,
            "bankroll": 1000}  # fmt: skip
    for _ in range(2):
        assert client.post(reverse("portal:backtests"), data).status_code == 302

    response = client.post(reverse("portal:backtests"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "You already have 2 backtest(s) queued or running" in page
    assert "BACKTEST_MAX_ACTIVE_PER_USER=2" in page
    assert Backtest.objects.count() == 2
