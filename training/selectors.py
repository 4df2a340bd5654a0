"""Reads for the model page and the API: versions, decisions and the stored model figures."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.utils import timezone

from parivision import figures
from training.models import ModelVersion, PromotionDecision
from training.services.figures import figure_key, status_name


def model_figures_of(*, version: int) -> dict[str, Any] | None:
    """The stored calibration and importance of ``version``, or None when not computed yet."""
    return figures.figure_get(key=figure_key(version))


def model_figures_status(*, version: int) -> figures.FigureStatus:
    return figures.status_of(name=status_name(version))


def drift_story() -> dict[str, Any] | None:
    """The stored drift story (training.services.drift.drift_story_compute), or None before the first."""
    from training.services.drift import drift_story_stored

    return drift_story_stored()


def drift_story_status() -> figures.FigureStatus:
    from training.services.drift import drift_story_status as status

    return status()


def promotion_of(row: ModelVersion) -> PromotionDecision | None:
    """The decision that made this version champion (the latest one that promoted it)."""
    return (PromotionDecision.objects.filter(challenger_version=row.version, promoted=True)
            .order_by("-created_at").first())  # fmt: skip


def recent_decisions(*, limit: int = 12) -> list[PromotionDecision]:
    return list(PromotionDecision.objects.order_by("-created_at")[:limit])


def score_of(row: ModelVersion, name: str) -> float | None:
    value = (row.holdout_scores or {}).get(name)
    return round(float(value), 4) if isinstance(value, (int, float)) and np.isfinite(value) else None


def versions_history(*, limit: int = 30) -> dict[str, Any]:
    """Versions oldest first with their holdout scores and whether a decision promoted them."""
    rows = list(ModelVersion.objects.order_by("-version")[:limit])[::-1]
    promoted = set(PromotionDecision.objects.filter(promoted=True).values_list("challenger_version", flat=True))
    return {
        "labels": [f"v{r.version}" for r in rows],
        "algorithms": [r.algorithm for r in rows],
        "accuracy": [score_of(r, "accuracy") for r in rows],
        "roc_auc": [score_of(r, "roc_auc") for r in rows],
        "log_loss": [score_of(r, "log_loss") for r in rows],
        "promoted": [r.version in promoted for r in rows],
        "champion": [r.is_champion for r in rows],
        "created": [timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M") for r in rows],
    }


def model_card_of(*, version: int) -> dict[str, Any] | None:
    """The stored card document of ``version`` (``card``, ``markdown``, ``html``, ``error``), or None."""
    from training.services.cards import card_key

    return figures.figure_get(key=card_key(version))


# The make rate an effect is shown at: "+3.1 pts" is what the shift does to a shot priced at 45%.
EFFECT_AT = 0.45
ACTIONS_SHOWN = 8


def _points(*, intercept: float, slope: float = 1.0, at: float = EFFECT_AT) -> float:
    """What a logit correction does to a probability of ``at``, in percentage points."""
    logit = float(np.log(at / (1 - at)))
    return float(100 * (1 / (1 + np.exp(-(slope * logit + intercept))) - at))


def recalibration_summary(*, version: int | str) -> dict[str, Any] | None:
    """The stored in-season correction of ``version`` for the model page: per family and the action groups it
    moves most (``ACTIONS_SHOWN``), each with its effect on a shot priced at ``EFFECT_AT``; None when off or
    not fitted yet."""
    from training.services.recalibration import recalibration_stored

    stored = recalibration_stored(version=version)
    if stored is None:
        return None
    families = [{"family": name, "intercept": shift.intercept, "slope": shift.slope, "shots": shift.shots,
                 "predicted": shift.predicted, "observed": shift.observed,
                 "points": _points(intercept=shift.intercept, slope=shift.slope)}
                for name, shift in (("2PT", stored.two), ("3PT", stored.three))]  # fmt: skip
    moved = sorted(stored.actions.items(), key=lambda item: -abs(item[1].intercept))
    actions = [{"action": group.rpartition("|")[0], "family": group.rpartition("|")[2], "shift": shift.intercept,
                "shots": shift.shots, "points": _points(intercept=shift.intercept)}
               for group, shift in moved[:ACTIONS_SHOWN]]  # fmt: skip
    return {"fitted_before": stored.fitted_before, "config": stored.config.name, "families": families,
            "actions": actions, "action_groups": len(stored.actions), "effect_at": EFFECT_AT}
