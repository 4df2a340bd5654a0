"""The in-season correction: refitted by the ``training.refit_recalibration`` task on settled warehouse
shots, stored per version, and attached by serving to the model it serves."""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from parivision import figures, mongo
from predictions import services, serving
from predictions.game_context import records_with_game_context
from tests.predictions.conftest import Store, shot, warehouse_documents
from training.ml.recalibration import Recalibration, recalibration_apply
from training.services.recalibration import recalibration_key, recalibration_refit
from training.tasks import refit_recalibration

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db", "champion")]

SINGLE = "/api/v1/predictions"


@pytest.fixture(autouse=True)
def _recalibration_settings(settings: Any) -> None:
    settings.RECALIBRATION_ENABLED = True
    settings.RECALIBRATION_PRIOR_SHOTS = 20.0
    settings.RECALIBRATION_HALF_LIFE_DAYS = 0.0  # equal weights: a fit's "shots" is its row count


def cold_twos(store: Store) -> list[dict[str, Any]]:
    """The store's shots with every two missed: the league went cold on twos, the model does not know."""
    frame = store.frame.copy()
    frame.loc[frame["shot_type"] == "2PT", "made"] = False
    return warehouse_documents(frame)


def price(api: APIClient, **fields: Any) -> float:
    response = api.post(SINGLE, shot(**fields), format="json")
    assert response.status_code == 200, response.json()
    return float(response.json()["probability_made"])


def wait_for_recalibration(expected: Recalibration | None, timeout: float = 5.0) -> None:
    """Serving re-reads the stored correction at each alias poll (0.2 s in these tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = serving.served_champion()
        if served is not None and served.model.recalibration == expected:
            return
        time.sleep(0.05)
    raise AssertionError("serving did not pick up the stored recalibration")


def test_the_task_refits_on_settled_shots_and_the_served_probability_follows(
    api: APIClient, mlflow_store: Store, settings: Any
) -> None:
    settings.RECALIBRATION_BY_ACTION = False  # the family stage alone (the action stage: the next test)
    mongo.warehouse_collection(mongo.SHOTS).insert_many(cold_twos(mlflow_store))
    two_before = price(api, x_ft=-6.5, y_ft=12.0)  # a two
    three_before = price(api, x_ft=0.0, y_ft=26.0)  # a three
    assert serving.champion().model.recalibration is None  # nothing fitted yet: the model's own

    result = refit_recalibration()
    assert result["refitted"] == ["1"]  # the champion (no shadow here)
    stored = Recalibration.from_dict(figures.figure_get(key=recalibration_key(1)))
    assert stored.fitted_before == dt.date(2023, 11, 23)  # the day after the newest settled shot
    assert stored.two.intercept < -1.0  # every two missed
    assert stored.two.shots + stored.three.shots == len(mlflow_store.frame)

    wait_for_recalibration(stored)
    two_after, three_after = price(api, x_ft=-6.5, y_ft=12.0), price(api, x_ft=0.0, y_ft=26.0)
    assert two_after < two_before
    assert stored.two.slope != 1.0  # RECALIBRATION_SLOPE (on by default): intercept and slope
    logit = stored.two.slope * math.log(two_before / (1 - two_before)) + stored.two.intercept
    assert two_after == pytest.approx(1 / (1 + math.exp(-logit)), rel=1e-6)
    logit = stored.three.slope * math.log(three_before / (1 - three_before)) + stored.three.intercept
    assert three_after == pytest.approx(1 / (1 + math.exp(-logit)), rel=1e-6)


def test_the_action_stage_is_fitted_stored_and_served_by_default(api: APIClient, mlflow_store: Store) -> None:
    mongo.warehouse_collection(mongo.SHOTS).insert_many(cold_twos(mlflow_store))
    body = shot(x_ft=-6.5, y_ft=12.0)
    before = price(api, **body)
    refit_recalibration()
    stored = Recalibration.from_dict(figures.figure_get(key=recalibration_key(1)))
    assert stored.config.by_action  # RECALIBRATION_BY_ACTION, on by default
    assert stored.actions
    assert all(group.endswith(("|2PT", "|3PT")) for group in stored.actions)
    wait_for_recalibration(stored)
    after = price(api, **body)
    model = serving.champion().model
    canonical = services.shot_canonical({**body, "game_date": dt.date.fromisoformat(body["game_date"])})
    records_with_game_context([canonical])
    x = model.pipeline.transform_records([canonical["record"]])
    group = model.action_groups(x)[0]
    assert group in stored.actions  # the served shot's action group was corrected too
    expected = recalibration_apply(recalibration=stored, proba=[before], is_three=[False], groups=[group])[0]
    family_only = recalibration_apply(recalibration=stored, proba=[before], is_three=[False])[0]
    assert after == pytest.approx(expected, rel=1e-6)
    assert after != pytest.approx(family_only, rel=1e-6)


def test_turned_off_nothing_is_refitted_and_serving_attaches_nothing(
    api: APIClient, mlflow_store: Store, settings: Any
) -> None:
    mongo.warehouse_collection(mongo.SHOTS).insert_many(cold_twos(mlflow_store))
    recalibration_refit(version=1)
    assert figures.figure_get(key=recalibration_key(1)) is not None
    settings.RECALIBRATION_ENABLED = False
    assert refit_recalibration()["refitted"] == []
    price(api, x_ft=-6.5, y_ft=12.0)
    assert serving.champion().model.recalibration is None


def test_shots_on_or_after_the_fit_date_and_shots_without_an_outcome_are_never_read(mlflow_store: Store) -> None:
    shots = mongo.warehouse_collection(mongo.SHOTS)
    docs = cold_twos(mlflow_store)
    shots.insert_many(docs)
    as_of = dt.date(2023, 11, 10)
    fitted = recalibration_refit(version=1, as_of=as_of)
    assert fitted is not None
    settled_before = sum(1 for d in docs if d["game_date"].date() < as_of)
    assert fitted.two.shots + fitted.three.shots == settled_before

    # Later shots' outcomes change and a shot with no outcome yet appears before the fit date: same fit.
    later = [d for d in docs if d["game_date"].date() >= as_of]
    shots.delete_many({"_id": {"$in": [d["_id"] for d in later]}})
    shots.insert_many([{**d, "made": not d["made"]} for d in later])
    unsettled = {**docs[0], "_id": "0022399999:1:100:1001:0:10", "game_id": "0022399999", "made": None}
    shots.insert_one(unsettled)
    again = recalibration_refit(version=1, as_of=as_of)
    assert again == fitted


def test_the_shadow_gets_its_own_versions_correction(mlflow_store: Store, champion: Any) -> None:
    from predictions import shadow

    shadow.reset()
    mongo.warehouse_collection(mongo.SHOTS).insert_many(cold_twos(mlflow_store))
    shadow.shadow_start(version=2, triggered_by="test")
    try:
        assert shadow.scorer().refresh() == "2"
        assert refit_recalibration()["refitted"] == ["1", "2"]
        stored = Recalibration.from_dict(figures.figure_get(key=recalibration_key(2)))
        assert stored != Recalibration.from_dict(figures.figure_get(key=recalibration_key(1)))
        shadow.scorer().refresh()  # the next poll attaches it
        assert shadow.scorer()._model.recalibration == stored
    finally:
        shadow.reset()
        champion.alias_delete(alias=shadow.SHADOW_ALIAS)
