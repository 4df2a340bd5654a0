"""Evidently drift reports: stored as MLflow artifacts (HTML and JSON) and as DriftReport rows."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from training.models import DriftReport, ModelVersion, PipelineRun
from training.registry import get_registry
from training.services import data
from training.services.promotion import champion_version

if TYPE_CHECKING:
    from training.ml.drift import DriftReport as DriftResult

HTML_ARTIFACT = "drift/report.html"
JSON_ARTIFACT = "drift/report.json"


def drift_report_save(
    *, report: DriftResult, reference: pd.DataFrame, current: pd.DataFrame, pipeline_run: PipelineRun | None
) -> DriftReport:
    import mlflow

    registry = get_registry()
    with registry._pointed_at(), mlflow.start_run(experiment_id=registry.experiment_id(), run_name="drift-report") as run:
        mlflow.set_tags({"kind": "drift", **({"pipeline_run": str(pipeline_run.pk)} if pipeline_run else {})})
        mlflow.log_metrics(
            {
                "drift_share": report.share_drifted,
                "dataset_drift": float(report.dataset_drift),
                "reference_rows": float(report.reference_rows),
                "current_rows": float(report.current_rows),
            }
        )
        mlflow.log_dict(report.json or report.summary(), JSON_ARTIFACT)
        if report.html:
            mlflow.log_text(report.html, HTML_ARTIFACT)
        run_id = run.info.run_id
    return DriftReport.objects.create(
        pipeline_run=pipeline_run,
        reference=data.describe_span(reference),
        current=data.describe_span(current),
        share_drifted=report.share_drifted,
        dataset_drift=report.dataset_drift,
        target_drift=report.target_drift,
        columns=report.columns,
        mlflow_run_id=run_id,
        html_artifact=HTML_ARTIFACT if report.html else "",
        json_artifact=JSON_ARTIFACT,
    )


def champion_seen_until(champion: ModelVersion | None) -> pd.Timestamp | None:
    """The last game date the champion's pipeline run saw (training data and holdout)."""
    if champion is None:
        return None
    last = ((champion.data or {}).get("holdout") or {}).get("last_date")
    if last:
        return pd.Timestamp(last)
    return pd.Timestamp(champion.trained_until.replace(tzinfo=None)) if champion.trained_until else None


def drift_report_for_champion() -> DriftReport:
    """Compare the champion's training data with every shot since its run."""
    version = champion_version()
    champion = ModelVersion.objects.filter(version=version).first() if version is not None else None
    span = ((champion.data or {}).get("train") or {}) if champion else {}
    seen_until = champion_seen_until(champion)
    if champion is None or seen_until is None or not span.get("first_date"):
        raise ValueError("there is no champion (with a recorded training span) to compare against")
    frame = data.shots_frame(seasons=span.get("seasons"))
    dates = frame["game_date"]
    reference = frame.loc[(dates >= pd.Timestamp(span["first_date"])) & (dates <= pd.Timestamp(span["last_date"]))]
    current = data.shots_frame(since=seen_until.to_pydatetime())
    if current.empty:
        raise ValueError(f"no shots since the champion's run (games up to {seen_until.date()})")
    from training.ml.drift import drift_report_build

    return drift_report_save(
        report=drift_report_build(reference=reference, current=current), reference=reference, current=current, pipeline_run=None
    )


def drift_artifact_text(report: DriftReport, artifact: str) -> str:
    """The stored HTML or JSON of a report, read back from MLflow's artifact store."""
    registry = get_registry()
    with tempfile.TemporaryDirectory() as folder:
        path = registry.client.download_artifacts(report.mlflow_run_id, artifact, folder)
        return Path(path).read_text()
