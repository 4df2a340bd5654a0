"""The stream and settlement through a real Celery worker process and real Redis."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from betting import selectors, services
from betting.models import Bankroll, Bet, LiveShot
from betting.tasks import advance_stream, settle_pending, settle_shot
from ingestion.tasks import pull_feed
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import bettor_make, feed_outcome, games_load

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("mongo_db", "celery_worker", "no_model")]


@pytest.fixture
def no_model(settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'empty.db'}"
    settings.MLFLOW_MODEL_NAME = "parivision-nothing-yet"


def wait_for(condition, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_the_shot_its_record_is_pulled_and_its_bets_settle_once(tmp_path, live_server):
    games_load(tmp_path, past=1, upcoming=1)
    user = bettor_make("worker-bettor")
    services.stream_advance(force=True)
    shot = selectors.open_shot()
    side = "made" if feed_outcome(shot) else "missed"
    bet = services.bet_place(user=user, shot_id=shot.pk, side=side, stake="100", idempotency_key="w-1").bet

    outcome = advance_stream.apply_async(kwargs={"force": True}, ignore_result=False).get(timeout=30)

    assert outcome["taken_shot_id"] == shot.pk
    assert Bet.objects.get(pk=bet.pk).status == Bet.Status.OPEN  # nothing is known before ingestion
    # The ordinary pipeline on the worker: pull over HTTP into the lake, the transform it enqueues,
    # then settlement from the warehouse's outcome.
    pulled = pull_feed.delay(url=live_server.url, n=100).get(timeout=60)
    assert pulled["read"] == 1
    wait_for(lambda: settle_pending.delay().get(timeout=30) != [])
    wait_for(lambda: Bet.objects.get(pk=bet.pk).status == Bet.Status.WON)
    paid = (Decimal("100") * bet.odds).quantize(Decimal("0.01"))
    assert Bankroll.objects.get(user=user).balance == Decimal("900.00") + paid

    again = settle_shot.delay(shot_id=shot.pk).get(timeout=30)  # a redelivered settlement

    assert again["settled"] == 0
    assert Bankroll.objects.get(user=user).balance == Decimal("900.00") + paid
    assert LiveShot.objects.get(pk=shot.pk).status == LiveShot.Status.SETTLED
