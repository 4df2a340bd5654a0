"""Prediction tasks: thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from predictions.services import predictions_join_outcomes


@shared_task(name="predictions.join_outcomes", acks_late=True, soft_time_limit=300, time_limit=360)
def join_outcomes() -> dict[str, Any]:
    """Settle logged predictions whose shots have reached the warehouse (idempotent)."""
    return predictions_join_outcomes().as_dict()


@shared_task(name="predictions.shadow_review", acks_late=True, soft_time_limit=300, time_limit=360)
def shadow_review() -> dict[str, Any]:
    """Compare the shadow with the champion on the same settled shots; promote when the gate allows."""
    from predictions.shadow import shadow_review as review

    return review().as_dict()


@shared_task(name="predictions.roll_up_log", acks_late=True, soft_time_limit=settings.PREDICTION_ROLLUP_SOFT_TIME_LIMIT,
             time_limit=settings.PREDICTION_ROLLUP_TIME_LIMIT)
def roll_up_log() -> dict[str, Any]:
    """Roll the prediction log's old days up into daily aggregates and purge them (idempotent)."""
    from predictions.retention import prediction_log_roll_up

    return prediction_log_roll_up().as_dict()


@shared_task(name="predictions.shadow_score", soft_time_limit=30, time_limit=40)
def shadow_score() -> dict[str, Any]:
    """SHADOW_SCORER=worker: score the shots web processes handed over (runs a few seconds)."""
    from django.conf import settings

    from predictions.shadow import shadow_consume

    if settings.SHADOW_SCORER != "worker":
        return {"scored": 0, "mode": settings.SHADOW_SCORER}
    return {"scored": shadow_consume(seconds=4.0, idle_stop=False), "mode": "worker"}
