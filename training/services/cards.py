"""Model cards: one per version, generated when it is registered, refreshed after each decision about it.

``card_generate`` gathers the facts (slices and seasons, features, the holdout evaluation,
walk-forward figures when a run recorded some, the run's drift report, every promotion
decision naming the version), builds the card with ``training.ml.card`` and stores it twice:
as ``model_card.md`` / ``model_card.html`` artifacts of the version's MLflow run, and in the
stored-figures collection under ``card:<version>`` so the portal and the API read it by key
and never call MLflow in a request.

The holdout evaluation (bootstrap intervals, calibration by family) is the expensive part:
the pipeline hands it over from the probabilities it already computed; a refresh reuses the
stored one; ``manage.py model_cards --recompute`` (or a version without one) re-predicts the
version's holdout games from the warehouse.

A card that cannot be generated never fails what triggered it: the failure is logged and
stored (``error``), and the page says "card not generated: <reason>".
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from parivision import figures
from parivision.errors import ApplicationError
from training.ml.card import card_build, card_html, card_markdown, holdout_evaluation
from training.models import DriftReport, ModelVersion, PipelineRun, PromotionDecision
from training.registry import get_registry

if TYPE_CHECKING:
    from training.ml.pipeline import ChallengerRound
    from training.ml.train import ShotModel

logger = logging.getLogger(__name__)

MARKDOWN_ARTIFACT = "model_card.md"
HTML_ARTIFACT = "model_card.html"
SLICES = ("train", "validation", "test")


def card_key(version: int) -> str:
    return f"card:{version}"


# --- the facts ---------------------------------------------------------------------------------------


def _slices(row: ModelVersion, run: PipelineRun | None) -> list[dict[str, Any]]:
    """Rows and dates per slice: the run's train/validation/test split, else the version's own spans."""
    run_data = (run.data if run is not None else None) or {}
    if any(run_data.get(name) for name in SLICES):
        return [{"name": "holdout (test)" if name == "test" else name, "rows": (run_data.get(name) or {}).get("rows"),
                 "first_date": (run_data.get(name) or {}).get("first"),
                 "last_date": (run_data.get(name) or {}).get("last")}
                for name in SLICES if run_data.get(name)]  # fmt: skip
    spans = row.data or {}
    return [{"name": "train + validation" if name == "train" else name, "rows": spans[name].get("rows"),
             "first_date": spans[name].get("first_date"), "last_date": spans[name].get("last_date")}
            for name in ("train", "holdout") if spans.get(name)]  # fmt: skip


def _seasons(row: ModelVersion) -> list[str]:
    spans = row.data or {}
    return sorted({str(s) for name in ("train", "holdout") for s in (spans.get(name) or {}).get("seasons") or []})


def _walkforward(row: ModelVersion, run: PipelineRun | None) -> dict[str, Any] | None:
    """Walk-forward figures when a run recorded some (``walkforward`` in the run's or the version's data)."""
    found = ((run.data if run is not None else None) or {}).get("walkforward") or (row.data or {}).get("walkforward")
    if isinstance(found, dict):
        per_version = found.get(str(row.version))
        return per_version if isinstance(per_version, dict) else found
    return None


def _drift(run: PipelineRun | None) -> dict[str, Any] | None:
    """The drift report of the run that trained the version: new data against the previous champion's."""
    if run is None:
        return None
    report = DriftReport.objects.filter(pipeline_run=run).order_by("-created_at").first()
    if report is None:
        return None
    decision = PromotionDecision.objects.filter(pipeline_run=run).order_by("created_at").first()
    if decision is not None:
        against = decision.champion_version
    else:  # generated at registration, before the run's decision: the champion it was measured against
        current = get_registry().alias_version()
        against = int(current) if current is not None else None
    return {
        "report_id": report.pk, "share_drifted": report.share_drifted, "dataset_drift": report.dataset_drift,
        "target_drift": report.target_drift,
        "drifted_columns": sorted(name for name, column in (report.columns or {}).items()
                                  if isinstance(column, dict) and column.get("drifted")),
        "reference": report.reference or {}, "current": report.current or {},
        "against_version": against,
    }  # fmt: skip


def _optional_float(decision: PromotionDecision, name: str) -> float | None:
    # gain_low / gain_high / confidence are newer fields: read them only where the model has them.
    value = getattr(decision, name, None)
    return float(value) if isinstance(value, (int, float)) else None


def _promotions(version: int) -> list[dict[str, Any]]:
    """Every decision naming the version, oldest first: as the challenger, or as the champion it was about."""
    decisions = PromotionDecision.objects.filter(Q(challenger_version=version) | Q(champion_version=version))
    return [{
        "id": d.pk, "when": timezone.localtime(d.created_at).isoformat(timespec="minutes"),
        "kind": d.get_kind_display(), "role": "challenger" if d.challenger_version == version else "replaced",
        "other_version": d.champion_version if d.challenger_version == version else d.challenger_version,
        "promoted": d.promoted, "reason": d.reason, "triggered_by": d.triggered_by, "metric": d.metric,
        "challenger_score": d.challenger_score, "champion_score": d.champion_score,
        "gain_low": _optional_float(d, "gain_low"), "gain_high": _optional_float(d, "gain_high"),
        "confidence": _optional_float(d, "confidence"),
    } for d in decisions.order_by("created_at", "pk")]  # fmt: skip


def _evaluation_from_warehouse(row: ModelVersion, model: ShotModel) -> dict[str, Any] | None:
    """Re-predict the version's holdout games (by its recorded dates) from the warehouse."""
    from backtests import selectors as shots_selectors

    span = (row.data or {}).get("holdout") or {}
    if not span.get("first_date") or not span.get("last_date"):
        return None
    frame = shots_selectors.shots_between(date_from=dt.date.fromisoformat(span["first_date"]),
                                          date_to=dt.date.fromisoformat(span["last_date"]))  # fmt: skip
    if frame.empty:
        return None
    proba = shots_selectors.shots_probabilities(model=model, frame=frame)
    return holdout_evaluation(frame=frame, proba=proba, resamples=settings.MODEL_CARD_RESAMPLES)


# --- generation ----------------------------------------------------------------------------------------


def card_generate(
    *, version: int, model: ShotModel | None = None, evaluation: dict[str, Any] | None = None, recompute: bool = False
) -> dict[str, Any]:
    """Build, store and log the card of ``version``; returns the stored document (raises on failure)."""
    row = ModelVersion.objects.select_related("pipeline_run").filter(version=version).first()
    if row is None:
        raise ApplicationError(f"model version {version} is not known", field="version", value=version)
    stored = figures.figure_get(key=card_key(version)) or {}
    previous = stored.get("card") or {}
    if evaluation is None and not recompute:
        evaluation = stored.get("evaluation")
    features = list(model.feature_names) if model is not None else list(previous.get("features") or [])
    if (evaluation is None or not features) and model is None:
        from training.services.figures import model_load_for_figures

        model = model_load_for_figures(version=version)
        features = list(model.feature_names)
    if evaluation is None and model is not None:
        evaluation = _evaluation_from_warehouse(row, model)
    run = row.pipeline_run
    dataset = ((run.data if run is not None else None) or {}).get("dataset") or {}
    registry = get_registry()
    run_id = registry.client.get_model_version(registry.model_name, str(version)).run_id or row.mlflow_run_id
    card = card_build(
        version=version, algorithm=row.algorithm, generated_at=timezone.now(), run_id=run_id,
        source=dataset.get("source", ""), fingerprint=dataset.get("fingerprint", ""),
        slices=_slices(row, run), seasons=_seasons(row), features=features, stored_scores=row.holdout_scores,
        evaluation=evaluation, walkforward=_walkforward(row, run), drift=_drift(run),
        promotions=_promotions(version), is_champion=row.is_champion,
    )  # fmt: skip
    markdown, html = card_markdown(card), card_html(card)
    registry.client.log_text(run_id, markdown, MARKDOWN_ARTIFACT)
    registry.client.log_text(run_id, html, HTML_ARTIFACT)
    document = {"card": card, "markdown": markdown, "html": html, "evaluation": evaluation, "error": "",
                "generated_at": card["generated_at"]}  # fmt: skip
    figures.figure_put(key=card_key(version), value=document)
    return document


def card_generate_safely(*, version: int, **kwargs: Any) -> dict[str, Any] | None:
    """``card_generate`` that never raises: a failure is logged and stored for the page to show."""
    try:
        return card_generate(version=version, **kwargs)
    except Exception as error:
        logger.exception("model card of v%s was not generated", version)
        reason = f"{type(error).__name__}: {error}"[:1000]
        try:
            stored = figures.figure_get(key=card_key(version)) or {}
            # A previous card stays readable; the failure is shown beside it.
            figures.figure_put(key=card_key(version), value={**stored, "error": reason,
                                                             "failed_at": timezone.now().isoformat(timespec="seconds")})
        except Exception:
            logger.exception("could not record the failed model card of v%s", version)
        return None


def cards_after_round(*, round_: ChallengerRound) -> None:
    """The pipeline's hook, right after the versions are mirrored: a card per new version (never raises)."""
    from training.ml.features import LABEL_COLUMN

    test = round_.split.test
    for challenger in round_.challengers.values():
        if challenger.version is None:
            continue
        evaluation = None
        if len(challenger.holdout_proba) and LABEL_COLUMN in test:
            try:
                evaluation = holdout_evaluation(frame=test, proba=challenger.holdout_proba,
                                                resamples=settings.MODEL_CARD_RESAMPLES)
            except Exception:
                logger.exception("holdout evaluation for the card of v%s failed", challenger.version)
        card_generate_safely(version=challenger.version, model=challenger.model, evaluation=evaluation)


def cards_refresh_enqueue(*, versions: list[int | None]) -> None:
    """Queue a refresh of each version's card (a decision changed its promotion history); never raises."""
    if not settings.MODEL_CARD_AUTO_REFRESH:
        return
    from training.tasks import refresh_model_card

    for version in dict.fromkeys(v for v in versions if v is not None):
        try:
            refresh_model_card.delay(version=version)
        except Exception:
            logger.exception("could not queue the model card refresh of v%s", version)
