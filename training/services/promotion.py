"""Moving the ``champion`` alias: after a pipeline comparison, by hand, or back (rollback).

The alias moves in one registry call (``set_registered_model_alias`` is atomic: serving
sees the old version or the new one, never neither). Every decision, promoted or not, is a
``PromotionDecision`` row and tags on the challenger's version in MLflow.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from parivision.errors import ApplicationError
from training.ml.bootstrap import Interval
from training.models import ModelVersion, PipelineRun, PromotionDecision
from training.registry import get_registry
from training.services.cards import cards_refresh_enqueue
from training.services.figures import figures_after_promotion


def champion_version() -> int | None:
    """The version the registry's ``champion`` alias points at (the source of truth)."""
    version = get_registry().alias_version()
    return int(version) if version is not None else None


def decision_record(
    *,
    kind: str,
    challenger_version: int,
    champion_version: int | None,
    promoted: bool,
    reason: str,
    triggered_by: str,
    metric: str = "",
    min_gain: float = 0.0,
    challenger_score: float | None = None,
    champion_score: float | None = None,
    compared_with: str = "",
    interval: Interval | None = None,
    pipeline_run: PipelineRun | None = None,
    user: Any = None,
) -> PromotionDecision:
    """Record a decision; when it promotes, move the alias first (a failed move records nothing)."""
    registry = get_registry()
    now = timezone.now()
    if promoted:
        registry.alias_set(version=challenger_version)
    decision = PromotionDecision.objects.create(
        kind=kind,
        pipeline_run=pipeline_run,
        challenger_version=challenger_version,
        champion_version=champion_version,
        metric=metric,
        min_gain=min_gain,
        challenger_score=challenger_score,
        champion_score=champion_score,
        compared_with=compared_with,
        gain=interval.estimate if interval is not None else None,
        gain_low=interval.low if interval is not None else None,
        gain_high=interval.high if interval is not None else None,
        confidence=interval.confidence if interval is not None else None,
        games=interval.games if interval is not None else None,
        promoted=promoted,
        reason=reason,
        triggered_by=triggered_by,
        user=user if getattr(user, "pk", None) else None,
        created_at=now,
    )
    if promoted:
        with transaction.atomic():
            ModelVersion.objects.filter(is_champion=True).exclude(version=challenger_version).update(is_champion=False)
            ModelVersion.objects.filter(version=challenger_version).update(is_champion=True, promoted_at=now)
    tags: dict[str, Any] = {
        "decision": "promoted" if promoted else "rejected",
        "decision_id": decision.pk,
        "decision_kind": kind,
        "decision_reason": reason[:4000],
        "decided_by": triggered_by,
        "decided_at": now.isoformat(),
        "compared_with": champion_version if champion_version is not None else (compared_with or "none"),
    }
    if interval is not None:
        tags.update({"gain": interval.estimate, "gain_low": interval.low, "gain_high": interval.high,
                     "gain_confidence": interval.confidence, "gain_games": interval.games})
    if metric:
        tags[f"holdout_{metric}_challenger"] = challenger_score
        tags[f"holdout_{metric}_{compared_with or 'champion'}"] = champion_score if champion_score is not None else "none"
    registry.version_tags_set(version=challenger_version, tags=tags)
    if promoted:
        transaction.on_commit(lambda: figures_after_promotion(version=challenger_version))
    # Both versions' cards list this decision in their promotion history.
    transaction.on_commit(lambda: cards_refresh_enqueue(versions=[challenger_version, champion_version]))
    return decision


def _require_version(version: int) -> None:
    from mlflow.exceptions import MlflowException

    registry = get_registry()
    try:
        registry.client.get_model_version(registry.model_name, str(version))
    except MlflowException:
        raise ApplicationError(
            f"model version {version} is not registered under {registry.model_name!r}", field="version", value=version
        ) from None


def champion_promote(*, version: int, triggered_by: str, user: Any = None, reason: str = "") -> PromotionDecision:
    """Point ``champion`` at ``version`` by hand (audited)."""
    _require_version(version)
    current = champion_version()
    if current == version:
        raise ApplicationError(f"version {version} is already the champion", field="version", value=version)
    ModelVersion.objects.get_or_create(version=version, defaults={"algorithm": "unknown", "mlflow_run_id": ""})
    return decision_record(
        kind=PromotionDecision.Kind.MANUAL,
        challenger_version=version,
        champion_version=current,
        promoted=True,
        reason=reason or (f"promoted by hand over v{current}" if current else "promoted by hand (no champion before)"),
        triggered_by=triggered_by,
        user=user,
    )


def rollback_target() -> int | None:
    """The champion before the current one, from the decision that made the current one."""
    current = champion_version()
    if current is None:
        return None
    made_current = (
        PromotionDecision.objects.filter(promoted=True, challenger_version=current).order_by("-created_at").first()
    )
    return made_current.champion_version if made_current is not None else None


def champion_rollback(*, triggered_by: str, user: Any = None) -> PromotionDecision:
    """Move ``champion`` back to the version it replaced (audited)."""
    current = champion_version()
    target = rollback_target()
    if current is None or target is None:
        raise ApplicationError("there is no earlier champion to roll back to", field="version", value=current)
    return decision_record(
        kind=PromotionDecision.Kind.ROLLBACK,
        challenger_version=target,
        champion_version=current,
        promoted=True,
        reason=f"rolled back from v{current} to v{target}",
        triggered_by=triggered_by,
        user=user,
    )
