"""The platform's MLflow registry, configured from settings (one object per configuration)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # MLflow is heavy: imported when a registry is first needed, not by every process
    from training.ml.registry import ModelRegistry

CHAMPION_ALIAS = "champion"


def get_registry() -> ModelRegistry:
    return _registry(
        settings.MLFLOW_TRACKING_URI, settings.MLFLOW_EXPERIMENT, settings.MLFLOW_MODEL_NAME, settings.MLFLOW_ARTIFACT_ROOT
    )


@functools.cache
def _registry(tracking_uri: str, experiment: str, model_name: str, artifact_root: str) -> ModelRegistry:
    from training.ml.registry import ModelRegistry

    location = artifact_root if "://" in artifact_root else f"file://{artifact_root}"
    return ModelRegistry(
        tracking_uri=tracking_uri, experiment_name=experiment, model_name=model_name, artifact_location=location
    )
