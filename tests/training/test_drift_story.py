"""The drift story: computed from the warehouse, the prediction log and the champion, stored, refreshed only
when what it depends on changed, and told by the model page (and its empty states)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backtests import selectors as shots_selectors
from parivision import figures, mongo
from predictions.log import log_document
from tests.backtests import conftest as backtest_fixtures
from tests.backtests.conftest import WINDOW_END, WINDOW_START, warehouse_documents
from training.ml.drift import calibration_figures
from training.services import drift as drift_services
from training.tasks import refresh_drift_story

trained = backtest_fixtures.trained
world = backtest_fixtures.world
TRAIN_FIRST = dt.date(2023, 10, 24)
TRAIN_LAST = WINDOW_START - dt.timedelta(days=7)  # the holdout is the six days before WINDOW_START

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


@pytest.fixture
def champion(world: Any) -> int:
    """The world's champion with the training window its pipeline run would have recorded."""
    from training.models import ModelVersion

    row = ModelVersion.objects.get(version=world.versions[1])
    row.data = {**row.data, "train": {"rows": 960, "first_date": str(TRAIN_FIRST), "last_date": str(TRAIN_LAST)}}
    row.save(update_fields=["data"])
    return row.version


def window_shots(world: Any) -> pd.DataFrame:
    """The settled shots after the champion's run: the last ten game dates (DRIFT_WINDOW_DAYS is 30)."""
    frame = world.frame.loc[world.frame["game_date"] >= pd.Timestamp(WINDOW_START)].copy()
    frame["key"] = [doc["_id"] for doc in warehouse_documents(frame)]
    return frame


def log_forecasts(rows: pd.DataFrame, *, version: int, p: float, live: bool = True, **extra: Any) -> None:
    docs = []
    for key, made in zip(rows["key"], rows["made"], strict=True):
        doc = log_document(version=str(version), probability=p, shot_key=key, made_at=time.time(), **extra)
        docs.append({**doc, "settled": True, "made": bool(made), "live": live})
    if docs:
        mongo.warehouse_collection(mongo.PREDICTIONS).insert_many(docs)


def by_family(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["family"]: entry for entry in document["calibration"]["families"]}


def test_the_story_compares_the_champions_window_with_the_newest_shots(champion: int, world: Any) -> None:
    document = drift_services.drift_story_compute()

    assert document["state"] == "ready"
    assert document["champion"] == {"version": champion, "algorithm": "xgboost"}
    assert document["reference"]["first_date"] == str(TRAIN_FIRST)
    assert document["reference"]["last_date"] == str(TRAIN_LAST)
    current = window_shots(world)
    assert document["current"]["first_date"] == str(WINDOW_START)
    assert document["current"]["last_date"] == str(WINDOW_END)
    assert document["current"]["rows"] == len(current)
    assert document["current"]["three_share"] == pytest.approx((current["shot_type"] == "3PT").mean(), abs=1e-4)
    inputs = document["inputs"]
    assert {row["column"] for row in inputs} >= {"distance_ft", "shot_type", "action_type"}
    assert [row["drifted"] for row in inputs] == sorted((row["drifted"] for row in inputs), reverse=True)
    assert document["drift"]["drifted_columns"] == [] or inputs[0]["drifted"]
    assert drift_services.drift_story_stored() == document  # what the page and the API read


def test_calibration_is_the_champion_as_served_per_family_on_the_settled_shots(champion: int, world: Any) -> None:
    from training.services.figures import model_load_for_figures
    from training.services.recalibration import recalibration_config

    document = drift_services.drift_story_compute()
    families = by_family(document)

    assert list(families) == ["all", "2PT", "3PT", "close 2PT (< 10 ft)", "mid-range 2PT"]
    assert all(entry["preferred"] == "replay" and entry["log"] is None for entry in families.values())
    settled = shots_selectors.shots_query({"game_date": {"$gte": dt.datetime.combine(WINDOW_START, dt.time())}})
    served = shots_selectors.shots_probabilities_inseason(
        model=model_load_for_figures(version=champion), frame=settled, config=recalibration_config())
    three = (settled["shot_type"] == "3PT").to_numpy()
    expected = calibration_figures(y_true=settled["made"][three].astype(float), proba=served[three])
    replay = families["3PT"]["replay"]
    assert {k: replay[k] for k in ("n", "predicted", "observed", "gap", "ece", "log_loss")} == {
        k: expected[k] for k in ("n", "predicted", "observed", "gap", "ece", "log_loss")}
    assert replay["curve"] == expected["curve"]
    assert set(replay["uncorrected"]) == {"predicted", "gap", "ece", "log_loss"}  # the model alone, beside it
    assert families["all"]["replay"]["n"] == document["calibration"]["settled_shots"] == len(settled)
    assert families["2PT"]["replay"]["n"] + families["3PT"]["replay"]["n"] == len(settled)


def test_logged_live_forecasts_are_read_first_where_a_family_has_enough(
    champion: int, world: Any, settings: Any
) -> None:
    settings.DRIFT_LIVE_MIN_PREDICTIONS = 20
    current = window_shots(world)
    twos, threes = current.loc[current["shot_type"] == "2PT"], current.loc[current["shot_type"] == "3PT"]
    log_forecasts(twos, version=champion, p=0.5)
    log_forecasts(threes.head(3), version=champion, p=0.3)
    # Not the champion as served live: its shadow period, a backfill, another version, a shot before the window.
    log_forecasts(threes, version=champion, p=0.9, role="shadow")
    log_forecasts(threes, version=champion, p=0.9, live=False)
    log_forecasts(threes, version=champion + 1, p=0.9)
    earlier = world.frame.loc[world.frame["game_date"] == pd.Timestamp(TRAIN_LAST)].head(5).copy()
    earlier["key"] = [doc["_id"] for doc in warehouse_documents(earlier)]
    log_forecasts(earlier, version=champion, p=0.9)

    document = drift_services.drift_story_compute()
    families = by_family(document)

    assert document["calibration"]["logged_forecasts"] == len(twos) + 3
    assert families["2PT"]["preferred"] == "log"
    assert families["2PT"]["log"]["n"] == len(twos)
    assert families["2PT"]["log"]["predicted"] == 0.5
    assert families["2PT"]["log"]["observed"] == pytest.approx(twos["made"].mean(), abs=1e-4)
    assert families["2PT"]["log"]["gap"] == pytest.approx(0.5 - twos["made"].mean(), abs=1e-4)
    assert families["3PT"]["preferred"] == "replay"  # three logged forecasts are too few to read first
    assert (families["3PT"]["log"]["n"], families["3PT"]["log"]["predicted"]) == (3, 0.3)
    assert families["2PT"]["replay"]["n"] == len(twos)  # the replay is there too, for comparison
    assert set(document["sources"]) == {"log", "replay"}


def test_without_a_champion_or_newer_shots_the_story_says_why(world: Any, champion: int) -> None:
    from training.models import ModelVersion

    mongo.warehouse_collection(mongo.SHOTS).delete_many({"game_date": {"$gte": dt.datetime.combine(WINDOW_START, dt.time())}})
    document = drift_services.drift_story_compute()
    assert document["state"] == "no_new_shots"
    assert "No settled shot after" in document["message"]
    assert "inputs" not in document

    ModelVersion.objects.update(is_champion=False)
    document = drift_services.drift_story_compute()
    assert (document["state"], document["champion"]) == ("no_champion", None)
    assert drift_services.drift_story_stored()["state"] == "no_champion"


def test_the_task_recomputes_only_when_what_the_story_depends_on_changed(champion: int, world: Any) -> None:
    first = refresh_drift_story()
    assert first["computed"] is True
    assert first["state"] == "ready"
    assert figures.status_of(name=drift_services.STORY_STATUS).state == figures.DONE
    computed_at = drift_services.drift_story_stored()["computed_at"]

    assert refresh_drift_story()["computed"] is False
    assert drift_services.drift_story_stored()["computed_at"] == computed_at

    log_forecasts(window_shots(world).head(1), version=champion, p=0.5)  # a live forecast settled
    assert refresh_drift_story()["computed"] is True
    assert refresh_drift_story(force=True)["computed"] is True


def test_a_failed_computation_is_recorded_for_the_page(champion: int, monkeypatch: Any) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("the registry is away")

    monkeypatch.setattr(drift_services, "_replayed_calibration", broken)
    with pytest.raises(RuntimeError):
        refresh_drift_story()
    status = figures.status_of(name=drift_services.STORY_STATUS)
    assert (status.state, status.message) == (figures.FAILED, "RuntimeError: the registry is away")


def test_a_promotion_and_new_shots_queue_a_refresh(monkeypatch: Any, settings: Any) -> None:
    from django.core.cache import cache

    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(refresh_drift_story, "apply_async", lambda **kwargs: queued.append(kwargs))
    settings.FIGURES_AUTO_REFRESH = True
    settings.FIGURES_REFRESH_DELAY_SECONDS = 120
    monkeypatch.setattr("analytics.services.figures_refresh_enqueue", lambda **kwargs: None)
    monkeypatch.setattr("training.services.figures.model_figures_enqueue", lambda **kwargs: None)
    monkeypatch.setattr("ingestion.tasks.refresh_figures.apply_async", lambda **kwargs: None)
    cache.delete(drift_services.STORY_PENDING_KEY)

    from ingestion.figures import figures_after_new_shots
    from training.services.figures import figures_after_promotion

    figures_after_promotion(version=3)
    assert queued == [{"kwargs": {"force": False}, "countdown": 0}]
    assert figures.status_of(name=drift_services.STORY_STATUS).computing
    figures_after_new_shots(seasons={"2023-24"})
    figures_after_new_shots(seasons={"2023-24"})  # one refresh for a burst of transforms
    assert queued[1:] == [{"kwargs": {"force": False}, "countdown": 120}]
    cache.delete(drift_services.STORY_PENDING_KEY)


def test_the_story_is_plain_json(champion: int) -> None:
    import json

    document = drift_services.drift_story_compute()
    assert json.loads(json.dumps(document)) == document
    assert np.isfinite(document["inputs"][0]["severity"])


def test_the_api_serves_the_stored_story_like_the_other_model_reads(champion: int) -> None:
    from rest_framework.test import APIClient

    url = "/api/v1/models/champion/drift"
    client = APIClient()  # reads are open, like /models and /models/champion
    assert client.get(url).json() == {"story_status": "missing", "computing": False, "story": None}
    figures.status_set(name=drift_services.STORY_STATUS, state=figures.QUEUED)
    assert client.get(url).json()["story_status"] == "computing"

    refresh_drift_story()
    body = client.get(url).json()
    assert (body["story_status"], body["computing"]) == ("stored", False)
    assert body["story"] == drift_services.drift_story_stored()  # the same document the page reads
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "examples" in str(schema["paths"][url]["get"])
