from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shots_frame
from training.ml.context import with_previous_shots
from training.ml.evaluate import calibration_figure, scores_compute
from training.ml.registry import CHAMPION, ModelRegistry, dataset_describe
from training.ml.split import shots_split_by_date
from training.ml.train import ShotModel, challengers_train


@pytest.fixture(scope="module")
def trained() -> tuple[ShotModel, pd.DataFrame, dict[str, pd.DataFrame]]:
    frame = shots_frame(players=20, days=30, shots_per_day=40)
    split = shots_split_by_date(frame)
    models = challengers_train(train=split.train, validation=split.validation, kinds=("xgboost",),
                               xgboost_params={"n_estimators": 60, "max_depth": 3},
                               pipeline_params={"min_action_count": 20})
    slices = {"train": split.train, "validation": split.validation, "test": split.test}
    return models["xgboost"], split.test, slices


def test_log_register_promote_and_load_the_champion(
    tmp_path: Path, trained: tuple[ShotModel, pd.DataFrame, dict[str, pd.DataFrame]]
) -> None:
    model, test, slices = trained
    # Shots carry their game context (a frame of whole games computes it; records and the pyfunc take it).
    test = with_previous_shots(test)
    registry = ModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", experiment_name="shots",
                             model_name="parivision-test")
    y = test["made"].to_numpy()
    proba = model.predict_proba_frame(test)
    dataset = dataset_describe(source="synthetic shots", slices=slices)
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in test.head(3).to_dict(orient="records")]

    first = registry.run_log(
        model=model, metrics=scores_compute(y_true=y, proba=proba).as_metrics(prefix="test_"), dataset=dataset,
        input_records=records, figures={"calibration": calibration_figure(y_true=y, probabilities={"xgb": proba})},
        documents={"drift.json": {"share_drifted": 0.0}},
    )
    second = registry.run_log(model=model, metrics={"test_roc_auc": 0.5}, dataset=dataset, input_records=records)
    assert (first.version, second.version) == ("1", "2")
    assert (tmp_path / "mlartifacts").is_dir()  # artifacts next to the database, not in the cwd

    run = registry.client.get_run(first.run_id)
    assert run.data.tags["dataset_fingerprint"] == dataset.fingerprint
    assert "test_roc_auc" in run.data.metrics
    artifacts = {a.path for a in registry.client.list_artifacts(first.run_id)}
    assert {"dataset.json", "feature_importance.json", "drift.json", "plots"} <= artifacts

    assert registry.alias_version() is None
    registry.alias_set(version=first.version)
    assert registry.alias_version(alias=CHAMPION) == "1"
    registry.alias_set(version=second.version)  # promotion moves the alias
    assert registry.alias_version() == "2"
    registry.version_tags_set(version=second.version, tags={"promoted_by": "test", "test_auc": 0.71})
    assert registry.version_tags(version="2")["promoted_by"] == "test"
    assert [v["aliases"] for v in registry.versions_list()] == [[], [CHAMPION]]

    champion = registry.model_load(alias=CHAMPION)
    np.testing.assert_allclose(champion.predict_proba_frame(test), proba)
    np.testing.assert_allclose(champion.predict_proba_records(records), proba[:3])

    # The pyfunc flavour works on its own too (what `mlflow models serve` would call).
    pyfunc = registry.pyfunc_load(alias=CHAMPION)
    np.testing.assert_allclose(np.asarray(pyfunc.predict(test.head(5))), proba[:5], atol=1e-7)
    assert registry.model_load(version=1).feature_names == model.feature_names


def test_nothing_connects_until_used(tmp_path: Path) -> None:
    registry = ModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'never.db'}", experiment_name="x", model_name="y")
    assert not (tmp_path / "never.db").exists()
    assert registry.model_uri(alias=CHAMPION) == "models:/y@champion"


def test_a_thread_inside_a_registry_block_keeps_its_uri_while_another_thread_wants_another(tmp_path: Path) -> None:
    """MLflow's tracking URI is process-wide; the champion watcher or the shadow scorer loading a
    model must not swap it under a run the pipeline is logging (CI met "No Experiment with id=1")."""
    import threading
    import time

    import mlflow

    logging_registry = ModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'a.db'}", experiment_name="a",
                                     model_name="a")
    loading_registry = ModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'b.db'}", experiment_name="b",
                                     model_name="b")
    inside, entered, left = threading.Event(), threading.Event(), threading.Event()
    seen_by_loader: list[str] = []

    def loader() -> None:
        inside.wait(5)
        with loading_registry._pointed_at():
            entered.set()
            seen_by_loader.append(mlflow.get_tracking_uri())
            time.sleep(0.3)  # a model load takes a while
        left.set()

    thread = threading.Thread(target=loader)
    thread.start()
    with logging_registry._pointed_at():
        inside.set()
        entered.wait(0.5)  # the loader gets its chance to point MLflow elsewhere
        seen_while_inside = mlflow.get_tracking_uri()
    assert left.wait(5)
    thread.join(5)
    assert seen_while_inside == logging_registry.tracking_uri
    assert seen_by_loader == [loading_registry.tracking_uri]
    assert mlflow.get_tracking_uri() not in {logging_registry.tracking_uri, loading_registry.tracking_uri}
