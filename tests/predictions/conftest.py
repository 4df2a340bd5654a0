"""A tiny champion on a throw-away MLflow store, users with tokens, and clean serving state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rest_framework.test import APIClient

from ingestion.shots import shot_key
from tests.training.factories import shots_frame
from training.ml.registry import CHAMPION, ModelRegistry, dataset_describe
from training.ml.split import shots_split_by_date
from training.ml.train import challengers_train

MODEL_NAME = "parivision-test-serving"


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    artifact_root: str
    frame: pd.DataFrame

    def registry(self) -> ModelRegistry:
        return ModelRegistry(tracking_uri=self.tracking_uri, experiment_name="serving-tests", model_name=MODEL_NAME,
                             artifact_location=f"file://{self.artifact_root}")


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Two registered versions of a small XGBoost model (trained in about a second)."""
    folder = tmp_path_factory.mktemp("mlflow")
    frame = shots_frame(players=20, days=30, shots_per_day=40)
    split = shots_split_by_date(frame)
    store = Store(f"sqlite:///{folder / 'mlflow.db'}", str(folder / "artifacts"), frame)
    registry = store.registry()
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in split.test.head(3).to_dict("records")]
    dataset = dataset_describe(source="synthetic", slices={"train": split.train, "test": split.test})
    for depth in (2, 3):
        model = challengers_train(train=split.train, validation=split.validation, kinds=("xgboost",),
                                  xgboost_params={"n_estimators": 30, "max_depth": depth},
                                  pipeline_params={"min_action_count": 20})["xgboost"]
        registry.run_log(model=model, metrics={"test_accuracy": 0.6}, dataset=dataset, input_records=records)
    return store


def _point_at(settings: Any, store: Store) -> None:
    settings.MLFLOW_TRACKING_URI = store.tracking_uri
    settings.MLFLOW_ARTIFACT_ROOT = store.artifact_root
    settings.MLFLOW_EXPERIMENT = "serving-tests"
    settings.MLFLOW_MODEL_NAME = MODEL_NAME


@pytest.fixture(autouse=True)
def _clean_serving_state(settings: Any) -> Iterator[None]:
    """Each test starts without a model in memory and an empty history cache."""
    from predictions import game_context, history, serving
    from predictions.authentication import token_cache
    from predictions.log import prediction_log

    settings.SERVING_ALIAS_POLL_SECONDS = 0.2
    settings.METRICS_SCRAPE_CACHE_SECONDS = 0.0
    serving.reset()
    history.reset()
    game_context.reset()
    # (throttle counters: tests/conftest.py's _fresh_request_budgets)
    token_cache.clear()
    yield
    serving.reset()
    prediction_log.discard()


@pytest.fixture
def no_champion(settings: Any, tmp_path: Path) -> None:
    """An empty MLflow store: nothing to serve."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'empty.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    settings.MLFLOW_MODEL_NAME = "parivision-nothing-yet"


@pytest.fixture
def champion(settings: Any, mlflow_store: Store) -> ModelRegistry:
    """Version 1 is the champion (restored after each test)."""
    _point_at(settings, mlflow_store)
    registry = mlflow_store.registry()
    registry.alias_set(version=1, alias=CHAMPION)
    return registry


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bettor", password="pw-bettor-123")


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="operator", password="pw-operator-123", is_staff=True)


def token_client(user: Any) -> APIClient:
    from predictions.services import token_create

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user).key}")
    return client


@pytest.fixture
def api(user: Any) -> APIClient:
    return token_client(user)


@pytest.fixture
def staff_api(staff: Any) -> APIClient:
    return token_client(staff)


def shot(**overrides: Any) -> dict[str, Any]:
    """One shot as a client sends it."""
    body: dict[str, Any] = {
        "player_id": 1003, "team": "AAA", "opponent": "BBB", "home_away": "home", "game_date": "2023-11-20",
        "period": 4, "seconds_left": 95, "action_type": "Jump Shot", "x_ft": -6.5, "y_ft": 12.0,
    }  # fmt: skip
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def warehouse_documents(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Canonical warehouse documents (``_id`` = the shot key) of a factory frame."""
    docs = []
    for row in frame.to_dict("records"):
        row["game_date"] = row["game_date"].to_pydatetime()
        key = shot_key(game_id=row["game_id"], period=int(row["period"]), seconds_left=int(row["seconds_left"]),
                       player_id=int(row["player_id"]), x_ft=float(row["x_ft"]), y_ft=float(row["y_ft"]))
        docs.append({"_id": key, **row})
    return docs
