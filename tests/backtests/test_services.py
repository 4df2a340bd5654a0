"""Creating, running and re-running backtests on real stores (MongoDB stand-in, MLflow, Celery)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from backtests.models import Backtest
from backtests.services import backtest_create, backtest_execute, backtest_rerun
from ingestion.shots import ZONE_BASIC
from parivision.errors import ApplicationError
from tests.backtests.conftest import WINDOW_END, WINDOW_START


def create(owner, versions, **overrides) -> Backtest:
    values = {"model_versions": list(versions), "date_from": WINDOW_START, "date_to": WINDOW_END,
              "strategy": "flat", "threshold": 0.0, "stake": 10.0, "margin": 0.05, "bankroll": 1000.0}  # fmt: skip
    values.update(overrides)
    return backtest_create(owner=owner, **values)


@pytest.mark.django_db
def test_two_versions_bet_on_the_same_shots_against_the_same_market(world, analyst):
    backtest = backtest_execute(backtest_id=create(analyst, world.versions).pk)

    assert backtest.status == Backtest.Status.SUCCEEDED, backtest.error
    assert backtest.progress == 100
    results = backtest.results
    assert results["shots"] == 10 * 40
    assert (results["first_date"], results["last_date"]) == (str(WINDOW_START), str(WINDOW_END))
    assert results["market"]["shots"] == 30 * 40  # only shots before the window price the market
    first, second = results["versions"]
    assert [first["version"], second["version"]] == list(world.versions)
    for version in (first, second):
        assert version["shots"] == results["shots"]
        assert 0 < version["bets"] <= results["shots"]
        assert version["staked"] == pytest.approx(10 * version["bets"])
        assert version["final_bankroll"] == pytest.approx(1000 + version["profit"], abs=0.01)
        assert version["curve"][0]["bankroll"] == 1000
        assert version["curve"][-1]["bankroll"] == pytest.approx(version["final_bankroll"], abs=0.01)
        # Risk figures and the per-zone breakdown (backtests.metrics) come with each version.
        assert version["ruin_fraction"] == 0.5
        assert 0 <= version["risk_of_ruin"] <= 1
        assert version["sharpe"] is not None
        assert version["profit_factor"] is None or version["profit_factor"] >= 0
        zones = version["zones"]
        assert sum(zone["bets"] for zone in zones) == version["bets"]
        assert sum(zone["profit"] for zone in zones) == pytest.approx(version["profit"], abs=0.05)
        assert {zone["zone"] for zone in zones} <= set(ZONE_BASIC)
    assert results["warnings"] == []  # both were trained on games before the window


@pytest.mark.django_db
def test_running_a_finished_backtest_again_changes_nothing(world, analyst):
    backtest = backtest_execute(backtest_id=create(analyst, world.versions[:1], strategy="kelly").pk)
    finished_at = backtest.finished_at

    again = backtest_execute(backtest_id=backtest.pk, task_id="another-delivery")

    assert again.status == Backtest.Status.SUCCEEDED
    assert again.finished_at == finished_at
    assert again.results == backtest.results


@pytest.mark.django_db
def test_a_rerun_clears_the_results_and_queues_it_again(world, analyst):
    backtest = backtest_execute(backtest_id=create(analyst, world.versions[:1]).pk)

    backtest_rerun(backtest=backtest)
    assert backtest.status == Backtest.Status.QUEUED
    assert backtest.results == {}
    with pytest.raises(ApplicationError, match="still queued"):
        backtest_rerun(backtest=backtest)
    assert backtest_execute(backtest_id=backtest.pk).status == Backtest.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_window_that_overlaps_the_training_data_is_flagged_as_in_sample(world, analyst):
    start = WINDOW_START - dt.timedelta(days=3)
    backtest = backtest_execute(backtest_id=create(analyst, world.versions[:1], date_from=start).pk)

    assert backtest.status == Backtest.Status.SUCCEEDED
    assert "in-sample" in backtest.results["warnings"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"model_versions": [9999]}, "model_versions", "unknown model version 9999"),
        ({"model_versions": []}, "model_versions", "at least one"),
        ({"date_from": WINDOW_END, "date_to": WINDOW_START}, "date_from", "must not be after"),
        ({"date_from": dt.date(2030, 1, 1), "date_to": dt.date(2030, 2, 1)}, "date_from", "no shots between"),
        ({"date_from": dt.date(2023, 10, 24)}, "date_from", "shots before the window"),
        ({"bankroll": 0}, "params", "out-of-range"),
    ],
)
def test_bad_requests_are_refused_naming_the_field_and_store_nothing(world, analyst, overrides, field, message):
    versions = overrides.pop("model_versions", world.versions)
    with pytest.raises(ApplicationError, match=message) as refused:
        create(analyst, versions, **overrides)

    assert refused.value.field == field
    assert not Backtest.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_backtest_runs_in_a_real_celery_worker_and_reports_progress(world, analyst):
    backtest = create(analyst, world.versions)  # autocommit: on_commit sends it at once
    seen_progress = set()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        backtest.refresh_from_db()
        seen_progress.add(backtest.progress)
        if backtest.is_finished:
            break
        time.sleep(0.2)

    assert backtest.status == Backtest.Status.SUCCEEDED, backtest.error
    assert backtest.task_id
    assert backtest.started_at <= backtest.finished_at
    assert len(backtest.results["versions"]) == 2
    assert max(seen_progress) == 100
