"""One shooter history (issue #9): training, serving and backtests see the same window of a shooter's
past, so the API serves a holdout shot exactly the probability the pipeline scored for it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ingestion.generator import generate_rows, write_csv
from ingestion.services import shots_import_file
from predictions import history, serving
from tests.predictions.conftest import token_client
from training.ml.features import PlayerHistory, ShotFeaturePipeline
from training.models import ModelVersion, PipelineRun
from training.registry import get_registry
from training.services import pipeline as pipeline_service
from training.services.pipeline import pipeline_execute
from training.services.promotion import champion_promote, champion_version

pytestmark = [pytest.mark.usefixtures("mongo_db")]

GAMES_PER_SEASON = 60
# Shots the API fills in from the request exactly as the importer did from the file.
REQUEST_FIELDS = ("player_id", "team", "opponent", "game_date", "season", "season_type", "position", "period",
                  "seconds_left", "action_type", "shot_type", "x_ft", "y_ft", "distance_ft", "zone_basic",
                  "zone_area", "zone_range", "game_id")


def import_season(folder, *, end_year: int) -> None:
    path = folder / f"season-{end_year}.csv"
    write_csv(path, generate_rows(games=GAMES_PER_SEASON, seed=5, season_end_year=end_year))
    shots_import_file(location=str(path))


@pytest.fixture(autouse=True)
def _serving_state_cleared():
    from predictions.log import prediction_log

    yield
    serving.reset()
    history.reset()
    prediction_log.discard()  # this test's log entries die with its MongoDB


def request_body(row: dict) -> dict:
    body = {field: row[field] for field in REQUEST_FIELDS if row.get(field) is not None and row[field] == row[field]}
    body["game_date"] = pd.Timestamp(row["game_date"]).date().isoformat()
    body["home_away"] = "home" if row["is_home"] else "away"
    return body


@pytest.mark.django_db
def test_the_api_serves_a_holdout_shot_exactly_what_the_pipeline_scored(tmp_path, settings, monkeypatch,
                                                                        django_user_model):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    settings.TRAINING_SEASONS = 1  # the window is the newest season...
    settings.SHOOTER_HISTORY_DAYS = 400  # ...its history reaches into the one before, not the one before that
    settings.XGBOOST_PARAMS = {"n_estimators": 80}
    settings.RANDOM_FOREST_PARAMS = {"n_estimators": 30}
    for end_year in (2022, 2023, 2024):  # the same synthetic players, a year apart
        import_season(tmp_path, end_year=end_year)

    rounds = []
    original = pipeline_service.challengers_round

    def keep_round(**kwargs):
        rounds.append(original(**kwargs))
        return rounds[-1]

    monkeypatch.setattr(pipeline_service, "challengers_round", keep_round)
    run = pipeline_execute(pipeline_run_id=PipelineRun.objects.create(trigger="test").pk)
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    (round_,) = rounds
    assert set(round_.split.test["season"]) == {"2023-24"}
    assert run.data["history_days"] == 400

    xgboost = round_.challengers["xgboost"]
    if champion_version() != xgboost.version:
        champion_promote(version=xgboost.version, triggered_by="test")
    serving.reset()
    history.reset()

    holdout = round_.split.test.reset_index(drop=True)
    api = token_client(django_user_model.objects.create_user(username="checker", password="pw-checker-123"))
    served = []
    for start in range(0, len(holdout), 1000):
        rows = holdout.iloc[start:start + 1000].to_dict("records")
        response = api.post("/api/v1/predictions/batch", {"shots": [request_body(r) for r in rows]}, format="json")
        assert response.status_code == 200, response.content[:500]
        served += [p["probability_made"] for p in response.json()["predictions"]]
    assert len(served) == len(holdout) > 500
    np.testing.assert_allclose(served, xgboost.holdout_proba, rtol=0, atol=1e-9)

    # The older season is in the warehouse and in the served histories, and changes nothing: the
    # window excludes it. Counting every earlier shot instead would have given other probabilities.
    model = get_registry().model_load(version=xgboost.version)
    assert model.pipeline.history_days == 400
    everything = history.cache().histories(holdout["player_id"].unique(), close_range_ft=10.0)
    unlimited = ShotFeaturePipeline(**{**model.pipeline.__dict__, "history_days": 0})
    assert not np.allclose(unlimited.transform(holdout, history=everything),
                           model.pipeline.transform(holdout, history=everything))
    assert ModelVersion.objects.filter(pipeline_run=run).count() == 2


def test_a_history_holding_older_shots_gives_the_same_features_within_the_window():
    from tests.training.factories import shots_frame

    frame = shots_frame(players=12, days=120, shots_per_day=30)
    pipeline = ShotFeaturePipeline(min_action_count=20, history_days=60).fit(frame)
    late = frame.loc[frame["game_date"] >= frame["game_date"].min() + dt.timedelta(days=90)]
    cut = late["game_date"].min() - dt.timedelta(days=60)
    just_the_window = PlayerHistory.from_shots(frame.loc[frame["game_date"] >= cut])
    everything = PlayerHistory.from_shots(frame)
    np.testing.assert_array_equal(pipeline.transform(late, history=just_the_window),
                                  pipeline.transform(late, history=everything))
    # Without the window the older shots do count.
    unlimited = ShotFeaturePipeline(min_action_count=20, history_days=0).fit(frame)
    assert not np.array_equal(unlimited.transform(late, history=just_the_window),
                              unlimited.transform(late, history=everything))


def test_a_window_inside_the_recent_form_window_is_refused():
    from tests.training.factories import shots_frame

    with pytest.raises(ValueError, match="history_days must be 0"):
        ShotFeaturePipeline(history_days=30).fit(shots_frame(players=3, days=5, shots_per_day=10))
