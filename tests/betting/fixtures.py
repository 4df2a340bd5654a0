"""Betting fixtures shared by tests/betting, tests/portal and tests/browser (import them by name).

* ``warehouse_games``: two synthetic games (real franchises, made-up players) in the warehouse and
  the two games after them in the replay feed (the future the stream opens for bets);
* ``champion`` / ``no_champion``: a tiny XGBoost champion on a throw-away MLflow store, or none;
* ``bettor`` / ``other_bettor`` / ``operator``: users with their bankrolls;
* ``open_shot``: the stream moved once, so a priced shot is open for bets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.training.factories import shots_frame
from training.ml.registry import CHAMPION, ModelRegistry, dataset_describe
from training.ml.split import shots_split_by_date
from training.ml.train import challengers_train

__all__ = [  # the fixtures: ``from tests.betting.fixtures import *`` registers them in a test module
    "_fresh_serving_and_caches", "betting_model_store", "bettor", "champion", "no_champion", "open_shot",
    "operator", "other_bettor", "warehouse_games",
]
# Helpers (import them by name): ``games_load``, ``feed_outcome``, ``ingest_released``.

MODEL_NAME = "parivision-test-betting"
PASSWORD = "pw-Bettor-2024!"


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    artifact_root: str

    def registry(self) -> ModelRegistry:
        return ModelRegistry(tracking_uri=self.tracking_uri, experiment_name="betting-tests", model_name=MODEL_NAME,
                             artifact_location=f"file://{self.artifact_root}")


@pytest.fixture(scope="session")
def betting_model_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One registered version of a small XGBoost model (trained in about a second)."""
    folder = tmp_path_factory.mktemp("betting-mlflow")
    frame = shots_frame(players=20, days=30, shots_per_day=40)
    split = shots_split_by_date(frame)
    store = Store(f"sqlite:///{folder / 'mlflow.db'}", str(folder / "artifacts"))
    model = challengers_train(train=split.train, validation=split.validation, kinds=("xgboost",),
                              xgboost_params={"n_estimators": 30, "max_depth": 3},
                              pipeline_params={"min_action_count": 20})["xgboost"]
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in split.test.head(3).to_dict("records")]
    dataset = dataset_describe(source="synthetic", slices={"train": split.train, "test": split.test})
    registry = store.registry()
    registry.run_log(model=model, metrics={"test_accuracy": 0.6}, dataset=dataset, input_records=records)
    registry.alias_set(version=1, alias=CHAMPION)
    return store


@pytest.fixture(autouse=True)
def _fresh_serving_and_caches(settings: Any) -> Iterator[None]:
    """No model in memory, no cached market rates or BetsAPI lookups between tests."""
    from django.core.cache import cache

    from predictions import history, serving

    settings.SERVING_ALIAS_POLL_SECONDS = 0.2
    serving.reset()
    history.reset()
    cache.clear()
    yield
    serving.reset()
    cache.clear()


@pytest.fixture
def champion(settings: Any, betting_model_store: Store) -> ModelRegistry:
    settings.MLFLOW_TRACKING_URI = betting_model_store.tracking_uri
    settings.MLFLOW_ARTIFACT_ROOT = betting_model_store.artifact_root
    settings.MLFLOW_EXPERIMENT = "betting-tests"
    settings.MLFLOW_MODEL_NAME = MODEL_NAME
    return betting_model_store.registry()


@pytest.fixture
def no_champion(settings: Any, tmp_path: Path) -> None:
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'empty.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    settings.MLFLOW_MODEL_NAME = "parivision-nothing-yet"


def import_games(folder: Path, *, games: int, seed: int = 5) -> None:
    from ingestion.generator import generate_rows, write_csv
    from ingestion.services import shots_import_file

    path = folder / f"games-{games}-{seed}.csv"
    write_csv(path, generate_rows(games=games, seed=seed))
    shots_import_file(location=str(path))


def games_load(folder: Path, *, past: int, upcoming: int, seed: int = 5) -> int:
    """``past`` synthetic games in the warehouse, the ``upcoming`` ones after them in the replay feed.

    Returns how many records the feed replays.
    """
    from ingestion.feed import feed_load
    from ingestion.generator import generate_rows, write_csv
    from ingestion.services import shots_import_file

    rows = list(generate_rows(games=past + upcoming, seed=seed))
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(row["GAME_ID"], len(order))
    history, feed = folder / f"past-{seed}.csv", folder / f"upcoming-{seed}.csv"
    write_csv(history, (r for r in rows if order[r["GAME_ID"]] < past))
    write_csv(feed, (r for r in rows if order[r["GAME_ID"]] >= past))
    if past:
        shots_import_file(location=str(history))
    return feed_load(dataset=str(feed))


def feed_outcome(shot: Any) -> bool:
    """What the stream does not know: the open shot's outcome, read from the feed's dataset (tests only)."""
    from parivision import mongo

    record = mongo.lake_collection(mongo.FEED_RECORDS).find_one({"_id": shot.feed_position})["record"]
    return record["Shot Made Flag"] == "1"


def ingest_released() -> int:
    """The ordinary ingestion path minus HTTP: pull what the feed serves into the lake, transform it.

    Returns how many records were pulled.
    """
    import uuid

    from ingestion.feed import feed_next
    from ingestion.services import lake_receive, lake_transform_pending

    pulled = 0
    while records := feed_next(n=1000, key=uuid.uuid4().hex):
        lake_receive(records=records, source="feed:test", run_id=None)
        pulled += len(records)
    lake_transform_pending()
    return pulled


@pytest.fixture
def warehouse_games(mongo_db: None, db: None, tmp_path: Path) -> None:
    """Two synthetic games in the warehouse, the two after them in the replay feed."""
    games_load(tmp_path, past=2, upcoming=2)


def bettor_make(username: str, **extra: Any) -> Any:
    from django.contrib.auth import get_user_model

    from betting.services import bankroll_open

    user = get_user_model().objects.create_user(username=username, password=PASSWORD,
                                                email=f"{username}@example.com", **extra)
    bankroll_open(user=user)
    return user


@pytest.fixture
def bettor(db: None) -> Any:
    return bettor_make("ada")


@pytest.fixture
def other_bettor(db: None) -> Any:
    return bettor_make("grace")


@pytest.fixture
def operator(db: None) -> Any:
    return bettor_make("ops", is_staff=True)


@pytest.fixture
def open_shot(warehouse_games: None, champion: ModelRegistry) -> Any:
    """The stream moved once: a priced shot is open for bets."""
    from betting import selectors, services

    report = services.stream_advance(force=True)
    assert report.opened_shot_id is not None
    shot = selectors.open_shot()
    assert shot is not None
    return shot
