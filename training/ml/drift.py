"""Data and target drift between a reference window (what the model learnt on) and a current one.

Evidently does the statistics; this module picks the model's inputs, makes the frames
safe for it (strings for categories so a new category is just another value, bounded
samples so a season-long reference stays fast) and reads back the per-column verdicts
Evidently itself reached.  Evidently is imported lazily: it is heavy, and importing
this module must stay cheap for the web process.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.ml.features import LABEL_COLUMN

NUMERICAL_COLUMNS = ("distance_ft", "x_ft", "y_ft", "seconds_left", "period")
CATEGORICAL_COLUMNS = (
    "action_type",
    "shot_type",
    "zone_basic",
    "zone_area",
    "zone_range",
    "position",
    "is_home",
    "season_type",
)
MISSING = "(missing)"
DRIFT_SHARE = 0.5  # Evidently's default: the dataset drifts when half the columns do
MAX_ROWS = 20_000  # per side; enough for stable distance-based tests, bounded memory and time


@dataclass(frozen=True)
class DriftReport:
    share_drifted: float  # share of the input columns that drifted
    dataset_drift: bool
    drifted_columns: list[str]
    columns: dict[str, dict[str, Any]]  # per column: method, score, threshold, drifted
    target_drift: bool | None  # None when either side has no label
    reference_rows: int
    current_rows: int
    json: dict[str, Any] = field(repr=False, default_factory=dict)
    html: str = field(repr=False, default="")

    def summary(self) -> dict[str, Any]:
        """Everything but the HTML and raw JSON: small enough for a database row or MLflow params."""
        return {
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
            "drifted_columns": self.drifted_columns,
            "target_drift": self.target_drift,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": self.columns,
        }


def _prepare(frame: pd.DataFrame, *, numerical: Sequence[str], categorical: Sequence[str], target: str | None,
             max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    out = pd.DataFrame(index=range(len(frame)))
    for column in numerical:
        values = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
        out[column] = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    for column in categorical:
        values = frame[column] if column in frame else pd.Series(None, index=frame.index, dtype=object)
        # Strings with an explicit "missing" value: unseen categories and NAs become ordinary values
        # instead of dtype surprises inside the chi-square / Jensen-Shannon code.
        out[column] = [MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                       for v in values.to_numpy()]
    if target is not None:
        out[target] = frame[target].astype(np.int64).astype(str).to_numpy()
    return out


def _import_evidently() -> Any:
    # Imported on first use: Evidently is heavy and only the pipeline needs it.
    import evidently

    return evidently


def drift_report_build(
    *,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: Sequence[str] = NUMERICAL_COLUMNS,
    categorical: Sequence[str] = CATEGORICAL_COLUMNS,
    target: str | None = LABEL_COLUMN,
    drift_share: float = DRIFT_SHARE,
    max_rows: int = MAX_ROWS,
    seed: int = 7,
    with_html: bool = True,
) -> DriftReport:
    """Evidently data drift on the model inputs, plus target drift on ``made`` when both sides have it."""
    if reference.empty or current.empty:
        raise ValueError(f"drift needs rows on both sides (reference {len(reference)}, current {len(current)})")
    evidently = _import_evidently()
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    with_target = target is not None and target in reference and target in current
    options: dict[str, Any] = {"numerical": numerical, "categorical": categorical, "max_rows": max_rows, "seed": seed,
               "target": target if with_target else None}
    reference_data = _prepare(reference, **options)
    current_data = _prepare(current, **options)
    feature_columns = [*numerical, *categorical]
    definition = evidently.DataDefinition(
        numerical_columns=list(numerical),
        categorical_columns=[*categorical, *([target] if with_target else [])],
    )
    metrics: list[Any] = [DataDriftPreset(columns=feature_columns, drift_share=drift_share)]
    if with_target:
        metrics.append(ValueDrift(column=target))
    report = evidently.Report(metrics, include_tests=True)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # A category present on one side only makes scipy divide by zero; the verdict is still right.
        warnings.simplefilter("ignore", RuntimeWarning)
        snapshot = report.run(
            current_data=evidently.Dataset.from_pandas(current_data, data_definition=definition),
            reference_data=evidently.Dataset.from_pandas(reference_data, data_definition=definition),
        )
    document = json.loads(snapshot.json())
    columns = _column_verdicts(document)
    drifted = [c for c in feature_columns if columns.get(c, {}).get("drifted")]
    share = len(drifted) / len(feature_columns) if feature_columns else 0.0
    return DriftReport(
        share_drifted=share,
        dataset_drift=share >= drift_share,
        drifted_columns=drifted,
        columns={c: columns[c] for c in feature_columns if c in columns},
        target_drift=columns[target]["drifted"] if with_target and target in columns else None,
        reference_rows=len(reference),
        current_rows=len(current),
        json=document,
        html=snapshot.get_html_str(as_iframe=False) if with_html else "",
    )


def _column_verdicts(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per column: Evidently's method, score and threshold, and its pass/fail test as ``drifted``."""
    verdicts: dict[str, dict[str, Any]] = {}
    by_metric: dict[str, str] = {}
    for metric in document.get("metrics", []):
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        column = config["column"]
        by_metric[metric["id"]] = column
        method = str(config.get("method"))
        score, threshold = float(metric["value"]), float(config.get("threshold"))
        # Fallback rule if no test came back: p-values drift when small, distances when large.
        drifted = score < threshold if "p_value" in method else score >= threshold
        verdicts[column] = {"method": method, "score": score, "threshold": threshold, "drifted": bool(drifted)}
    for test in document.get("tests", []):
        column = by_metric.get(str(test.get("metric_config", {}).get("metric_id", "")))
        if column is None:
            name = str(test.get("name", ""))
            column = name.removeprefix("Value Drift for column ") if name.startswith("Value Drift for column ") else None
        if column in verdicts:
            verdicts[column]["drifted"] = test.get("status") == "FAIL"
    return verdicts
