"""Two small registered model versions and a warehouse of synthetic shots to backtest them on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from rest_framework.test import APIClient

from ingestion.shots import shot_key
from tests.training.factories import shots_frame
from training.ml.registry import dataset_describe
from training.ml.split import shots_split_by_date
from training.ml.train import challengers_train

DAYS = 40
WINDOW_START = dt.date(2023, 10, 24) + dt.timedelta(days=30)  # the last 10 game dates
WINDOW_END = dt.date(2023, 10, 24) + dt.timedelta(days=DAYS - 1)


@dataclass(frozen=True)
class Trained:
    frame: pd.DataFrame
    versions: tuple[int, int]


@pytest.fixture(scope="session")
def trained(_point_settings_at_services: None) -> Trained:
    """Two XGBoost versions trained on the first 30 days, registered in the session's MLflow store."""
    from training.registry import get_registry

    frame = shots_frame(players=20, days=DAYS, shots_per_day=40, seed=5)
    # Two real franchises (the factory calls every team "Team"): the match view tells them apart.
    home = frame["team_id"] % 2 == 1
    frame["team_name"] = home.map({True: "Boston Celtics", False: "Los Angeles Lakers"})
    frame["home_team"], frame["away_team"] = "BOS", "LAL"
    early = frame.loc[frame["game_date"] < pd.Timestamp(WINDOW_START)]
    split = shots_split_by_date(early)
    registry = get_registry()
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in split.test.head(3).to_dict("records")]
    dataset = dataset_describe(source="synthetic", slices={"train": split.train, "test": split.test})
    versions = []
    for depth in (2, 3):
        model = challengers_train(train=split.train, validation=split.validation, kinds=("xgboost",),
                                  xgboost_params={"n_estimators": 30, "max_depth": depth},
                                  pipeline_params={"min_action_count": 20})["xgboost"]
        logged = registry.run_log(model=model, metrics={"test_accuracy": 0.6}, dataset=dataset, input_records=records)
        versions.append(int(logged.version))
    return Trained(frame=frame, versions=(versions[0], versions[1]))


def warehouse_documents(frame: pd.DataFrame) -> list[dict[str, Any]]:
    docs = []
    for row in frame.to_dict("records"):
        row["game_date"] = row["game_date"].to_pydatetime()
        key = shot_key(game_id=row["game_id"], period=int(row["period"]), seconds_left=int(row["seconds_left"]),
                       player_id=int(row["player_id"]), x_ft=float(row["x_ft"]), y_ft=float(row["y_ft"]))
        docs.append({"_id": key, **row})
    return docs


@pytest.fixture
def world(trained: Trained, mongo_db: None, db: None) -> Trained:
    """The shots in the warehouse and both versions mirrored as ModelVersion rows (the second is champion)."""
    from django.utils import timezone

    from parivision import mongo
    from training.models import ModelVersion

    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(trained.frame))
    trained_until = timezone.make_aware(dt.datetime.combine(WINDOW_START - dt.timedelta(days=1), dt.time()))
    for version in trained.versions:
        ModelVersion.objects.update_or_create(version=version, defaults={
            "algorithm": "xgboost", "mlflow_run_id": "test", "trained_until": trained_until,
            "holdout_scores": {"accuracy": 0.61, "roc_auc": 0.66, "log_loss": 0.65, "brier": 0.23, "ece": 0.02},
            "data": {"holdout": {"rows": 100, "first_date": str(WINDOW_START - dt.timedelta(days=6)),
                                 "last_date": str(WINDOW_START - dt.timedelta(days=1))}},
            "is_champion": version == trained.versions[1],
            "promoted_at": timezone.now() if version == trained.versions[1] else None,
        })  # fmt: skip
    return trained


@pytest.fixture
def analyst(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="analyst", password="pw-analyst-123")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="someone-else", password="pw-else-123")


@pytest.fixture
def api(analyst: Any) -> APIClient:
    from predictions.services import token_create

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=analyst).key}")
    return client
