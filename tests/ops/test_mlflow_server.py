"""The compose stack's MLflow: basic auth and proxied artifacts, with the app's own registry code.

Starts `mlflow server --app-name basic-auth --serve-artifacts` as docker-compose.yml does
(deploy/mlflow/basic_auth.ini, the admin from the environment, the artifact root the app
containers get), then registers a tiny model, points the champion alias at it and loads it
back through the server, as training and serving do in the stack.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.monitoring import ROOT
from tests.services import free_port, stop, wait_until
from tests.training.factories import shots_frame

pytestmark = pytest.mark.integration

ADMIN, PASSWORD = "admin", "ops-test-Password-1"


def compose_mlflow() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["mlflow"]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("flask_wtf", reason="MLflow's basic-auth app needs mlflow[auth] (requirements/dev.txt)")
    folder = tmp_path_factory.mktemp("mlflow-server")
    ini = (ROOT / "deploy" / "mlflow" / "basic_auth.ini").read_text()
    assert "sqlite:////mlflow/auth/" in ini  # on the mlflow_data volume in the stack
    (folder / "basic_auth.ini").write_text(ini.replace("sqlite:////mlflow/auth/", f"sqlite:///{folder}/"))
    port = free_port()
    command = [arg.replace("${MLFLOW_PUBLIC_HOST:-localhost}", "localhost") for arg in compose_mlflow()["command"]]
    command = [sys.executable, "-m", "mlflow", *command[1:]]
    command = [a for a in command if not a.startswith(("--host=", "--port="))]
    command += ["--host=127.0.0.1", f"--port={port}", "--workers=1",
                f"--allowed-hosts=127.0.0.1:{port},localhost:{port}"]  # fmt: skip
    env = {
        **os.environ,
        "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_DESTINATION": str(folder / "artifacts"),
        "MLFLOW_AUTH_CONFIG_PATH": str(folder / "basic_auth.ini"),
        "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN,
        "MLFLOW_AUTH_ADMIN_PASSWORD": PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "ops-test-flask-secret",
    }
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: urllib.request.urlopen(f"{url}/health", timeout=2).status == 200,
                   timeout=90, what="the MLflow server", log=log)  # fmt: skip
        yield url
    finally:
        stop(process, grace=10)


def test_the_compose_mlflow_service_uses_basic_auth_and_serves_artifacts() -> None:
    service = compose_mlflow()
    assert "--app-name=basic-auth" in service["command"]
    assert "--serve-artifacts" in service["command"]
    for variable in ("MLFLOW_FLASK_SERVER_SECRET_KEY", "MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_BACKEND_STORE_URI"):
        assert ":?" in service["environment"][variable], variable


def test_the_server_refuses_anonymous_api_calls(mlflow_server: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{mlflow_server}/api/2.0/mlflow/experiments/search?max_results=1", timeout=5)
    assert refused.value.code == 401


@pytest.mark.django_db
def test_the_app_registers_promotes_and_loads_a_champion_through_the_server(
    mlflow_server: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from training.ml.registry import CHAMPION, dataset_describe
    from training.ml.split import shots_split_by_date
    from training.ml.train import challengers_train
    from training.registry import get_registry

    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["environment"]
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    settings.MLFLOW_TRACKING_URI = mlflow_server
    settings.MLFLOW_ARTIFACT_ROOT = web["MLFLOW_ARTIFACT_ROOT"]
    settings.MLFLOW_EXPERIMENT = "ops-compose-check"
    settings.MLFLOW_MODEL_NAME = "ops-compose-model"
    registry = get_registry()

    split = shots_split_by_date(shots_frame(players=10, days=20, shots_per_day=30))
    model = challengers_train(train=split.train, validation=split.validation, kinds=("xgboost",),
                              xgboost_params={"n_estimators": 10, "max_depth": 2},
                              pipeline_params={"min_action_count": 20})["xgboost"]  # fmt: skip
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in split.test.head(2).to_dict("records")]
    dataset = dataset_describe(source="synthetic", slices={"train": split.train, "test": split.test})
    logged = registry.run_log(model=model, metrics={"test_accuracy": 0.6}, dataset=dataset, input_records=records)
    registry.alias_set(version=logged.version, alias=CHAMPION)

    loaded = registry.model_load(alias=CHAMPION)
    assert loaded.predict_proba_frame(split.test.head(5)).shape[0] == 5
    # The artifacts went through the server into its own store, not into a local folder.
    run = registry.client.get_run(logged.run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    assert not Path(web["MLFLOW_ARTIFACT_ROOT"]).exists()
