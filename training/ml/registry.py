"""The one place that talks to MLflow: runs, model versions, the ``champion`` alias, loading.

Nothing here connects at import time: a ``ModelRegistry`` holds URIs and names, and the
client is built on first use.  The fluent ``mlflow.*`` calls that ``log_model`` needs read
a process-wide tracking URI, so they run inside ``_pointed_at`` which sets it and puts the
previous value back (a Celery worker may serve several registries in turn).  Background
threads (the champion watcher, the shadow scorer, the warm-up) load models the same way, so
``_pointed_at`` holds one process-wide lock: without it a thread leaving its block could put
another URI back under a run another thread is logging.

The registered artifact is an MLflow pyfunc (``ShotPyfuncModel``) wrapping the bundled
``ShotModel``; serving unwraps it and calls the bundle's fast record path directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from training.ml.context import PREVIOUS_SHOTS
from training.ml.features import INPUT_COLUMNS, LABEL_COLUMN
from training.ml.train import ShotModel

CHAMPION = "champion"
MODEL_ARTIFACT = "model"


class ShotPyfuncModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]  # re-exported lazily by MLflow
    """MLflow's view of a ShotModel: a DataFrame of canonical shots in, make probabilities out."""

    def __init__(self, model: ShotModel) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> np.ndarray:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.model.predict_proba_frame(frame)


@dataclass(frozen=True)
class DatasetDescription:
    """What a run was trained and scored on, logged with it so two runs can be compared honestly."""

    source: str  # e.g. the warehouse query or the file names
    rows: dict[str, int]
    date_range: dict[str, list[str]]  # slice -> [first, last]
    fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_fingerprint(frame: pd.DataFrame) -> str:
    """Order-independent digest of which shots (and labels) a frame holds."""
    keys = frame["game_id"].astype(str) + ":" + frame["event_id"].astype(str) + ":" + frame[LABEL_COLUMN].astype(
        int
    ).astype(str)
    digest = hashlib.sha256()
    for key in np.sort(keys.to_numpy(dtype=str)):
        digest.update(key.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def dataset_describe(*, source: str, slices: Mapping[str, pd.DataFrame]) -> DatasetDescription:
    """Rows, date range and one fingerprint over all the slices (train, validation, test...)."""
    rows = {name: len(frame) for name, frame in slices.items()}
    date_range = {
        name: [str(frame["game_date"].min().date()), str(frame["game_date"].max().date())]
        for name, frame in slices.items()
        if not frame.empty
    }
    non_empty = [frame for frame in slices.values() if not frame.empty]
    fingerprint = dataset_fingerprint(pd.concat(non_empty, ignore_index=True)) if non_empty else "empty"
    return DatasetDescription(source=source, rows=rows, date_range=date_range, fingerprint=fingerprint)


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str  # the run's model (models:/m-... in MLflow 3)
    version: str | None  # registered version, when registered


def input_example_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Canonical input columns of a few records, in pipeline order (the pyfunc signature)."""
    frame = pd.DataFrame([{c: r.get(c) for c in INPUT_COLUMNS} for r in records], columns=list(INPUT_COLUMNS))
    frame["game_date"] = pd.to_datetime(frame["game_date"])
    # Measurements are doubles even when an example happens to hold whole feet. Ids and clock stay
    # integers: MLflow's schema check will not accept an int64 column where it expects double.
    for column in ("distance_ft", "x_ft", "y_ft", *PREVIOUS_SHOTS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


# Guards MLflow's process-wide tracking and registry URIs (see ``ModelRegistry._pointed_at``).
# Reentrant: a block that loads a model may call another block of the same thread.
_GLOBAL_URIS = threading.RLock()


class ModelRegistry:
    """Tracking URI, experiment and registered-model name in one object; clients built lazily."""

    def __init__(
        self,
        *,
        tracking_uri: str,
        experiment_name: str,
        model_name: str,
        registry_uri: str | None = None,
        artifact_location: str | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self.experiment_name = experiment_name
        self.model_name = model_name
        self.artifact_location = artifact_location or _default_artifact_location(tracking_uri)

    @cached_property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    @contextlib.contextmanager
    def _pointed_at(self) -> Iterator[None]:
        # mlflow.set_*_uri also writes MLFLOW_*_URI into os.environ, which child processes
        # inherit: put the environment back exactly as it was, not as MLflow's defaults.
        with _GLOBAL_URIS:
            saved_env = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
            previous_tracking, previous_registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
            mlflow.set_tracking_uri(self.tracking_uri)
            mlflow.set_registry_uri(self.registry_uri)
            try:
                yield
            finally:
                mlflow.set_tracking_uri(previous_tracking)
                mlflow.set_registry_uri(previous_registry)
                for name, value in saved_env.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value

    def experiment_id(self) -> str:
        experiment = self.client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.client.create_experiment(self.experiment_name, artifact_location=self.artifact_location)
        except MlflowException:
            # Another worker created it between our lookup and create.
            experiment = self.client.get_experiment_by_name(self.experiment_name)
            if experiment is None:
                raise
            return experiment.experiment_id

    # ------------------------------------------------------------------- runs
    def run_log(
        self,
        *,
        model: ShotModel,
        metrics: Mapping[str, float],
        dataset: DatasetDescription,
        input_records: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        figures: Mapping[str, Figure] | None = None,
        documents: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
        register: bool = True,
    ) -> LoggedRun:
        """One MLflow run: params, metrics, dataset, importance, plots and the pyfunc model.

        ``documents`` are extra JSON artifacts (e.g. the drift summary), keyed by file name.
        """
        example = input_example_frame(input_records)
        signature = infer_signature(example, model.predict_proba_frame(example))
        all_params = {**_flatten_params(model.params, prefix=f"{model.kind}."), **(params or {})}
        all_params.update({"calibration": model.calibrator.method, "best_iteration": model.best_iteration,
                           "features": len(model.feature_names)})
        with self._pointed_at(), mlflow.start_run(experiment_id=self.experiment_id(), run_name=run_name) as run:
            mlflow.set_tags({"model_kind": model.kind, "dataset_fingerprint": dataset.fingerprint,
                             "dataset_source": dataset.source[:5000], **(tags or {})})
            mlflow.log_params({k: _param_value(v) for k, v in all_params.items()})
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(v)})
            mlflow.log_metric("fit_seconds", model.fit_seconds)
            mlflow.log_dict(dataset.as_dict(), "dataset.json")
            mlflow.log_dict(model.feature_importance(), "feature_importance.json")
            if model.calibration_scores:
                mlflow.log_dict(model.calibration_scores, "calibration_scores.json")
            for name, document in (documents or {}).items():
                mlflow.log_dict(document, name)
            for name, figure in (figures or {}).items():
                mlflow.log_figure(figure, f"plots/{name}.png")
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=ShotPyfuncModel(model),
                signature=signature,
                input_example=example,
                # Explicit requirements: inferring them would re-load the model in a subprocess.
                pip_requirements=_pip_requirements(),
                registered_model_name=self.model_name if register else None,
            )
            version = info.registered_model_version
            return LoggedRun(run_id=run.info.run_id, model_uri=info.model_uri,
                             version=str(version) if version is not None else None)

    # ------------------------------------------------------------- versions
    def version_tags_set(self, *, version: str | int, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.client.set_model_version_tag(self.model_name, str(version), key, str(value))

    def version_tags(self, *, version: str | int) -> dict[str, str]:
        return dict(self.client.get_model_version(self.model_name, str(version)).tags)

    def versions_list(self) -> list[dict[str, Any]]:
        """Every version, oldest first, with its aliases and tags."""
        versions = self.client.search_model_versions(f"name = '{self.model_name}'")
        # search results do not carry aliases on every store; the registered model always does.
        aliases: dict[str, list[str]] = {}
        if versions:
            for alias, version in self.client.get_registered_model(self.model_name).aliases.items():
                aliases.setdefault(str(version), []).append(alias)
        return sorted(
            (
                {"version": v.version, "run_id": v.run_id, "aliases": sorted(aliases.get(str(v.version), [])),
                 "tags": dict(v.tags), "created_ms": v.creation_timestamp}
                for v in versions
            ),
            key=lambda v: int(v["version"]),
        )

    # ---------------------------------------------------------------- aliases
    def alias_set(self, *, version: str | int, alias: str = CHAMPION) -> None:
        """Point ``alias`` at ``version``; an alias names one version, so this also moves it."""
        self.client.set_registered_model_alias(self.model_name, alias, str(version))

    def alias_version(self, *, alias: str = CHAMPION) -> str | None:
        """The version ``alias`` points at, or None when it is not set (or the model is not registered)."""
        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException:
            return None

    def alias_delete(self, *, alias: str = CHAMPION) -> None:
        self.client.delete_registered_model_alias(self.model_name, alias)

    # ---------------------------------------------------------------- loading
    def model_uri(self, *, version: str | int | None = None, alias: str | None = None) -> str:
        if (version is None) == (alias is None):
            raise ValueError("give exactly one of version or alias")
        return f"models:/{self.model_name}/{version}" if version is not None else f"models:/{self.model_name}@{alias}"

    def pyfunc_load(self, *, version: str | int | None = None, alias: str | None = None) -> Any:
        """The MLflow pyfunc of a version or alias (DataFrame in, probabilities out)."""
        with self._pointed_at():
            return mlflow.pyfunc.load_model(self.model_uri(version=version, alias=alias))

    def model_load(self, *, version: str | int | None = None, alias: str | None = None) -> ShotModel:
        """Load a registered version (or the one an alias points at) and unwrap it to the ShotModel."""
        uri = self.model_uri(version=version, alias=alias)
        wrapper = self.pyfunc_load(version=version, alias=alias).unwrap_python_model()
        if not isinstance(wrapper, ShotPyfuncModel):
            raise TypeError(f"{uri} is not a PariVision shot model (got {type(wrapper).__name__})")
        return wrapper.model


def _default_artifact_location(tracking_uri: str) -> str | None:
    """For a SQLite store, artifacts go in an ``mlartifacts`` folder next to the database file."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///"))
        return (database.resolve().parent / "mlartifacts").as_uri()
    return None


def _flatten_params(params: Mapping[str, Any], *, prefix: str) -> dict[str, Any]:
    return {f"{prefix}{key}": value for key, value in params.items()}


def _param_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]  # MLflow's limit on a param value


def _pip_requirements() -> list[str]:
    from importlib.metadata import version

    packages = ("mlflow", "xgboost", "scikit-learn", "pandas", "numpy", "cloudpickle")
    return [f"{name}=={version(name)}" for name in packages]


def temporary_tracking_uri() -> str:
    """A throw-away SQLite store (benchmarks and demos); the caller owns the folder."""
    folder = tempfile.mkdtemp(prefix="parivision-mlflow-")
    return f"sqlite:///{os.path.join(folder, 'mlflow.db')}"
