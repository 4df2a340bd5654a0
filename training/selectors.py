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
