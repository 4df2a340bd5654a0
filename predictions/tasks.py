"""Prediction tasks: thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from predictions.services import predictions_join_outcomes


@shared_task(name="predictions.join_outcomes", acks_late=True, soft_time_limit=300, time_limit=360)
def join_outcomes() -> dict[str, Any]:
    """Settle logged predictions whose shots have reached the warehouse (idempotent)."""
    return predictions_join_outcomes().as_dict()


@shared_task(name="predictions.roll_up_log", acks_late=True, soft_time_limit=1_800, time_limit=1_900)
def roll_up_log() -> dict[str, Any]:
    """Roll the prediction log's old days up into daily aggregates and purge them (idempotent)."""
    from predictions.retention import prediction_log_roll_up

    return prediction_log_roll_up().as_dict()
