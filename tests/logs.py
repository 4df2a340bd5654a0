"""Reading the prediction log back in tests: one row per prediction, whatever the document's shape."""

from __future__ import annotations

from typing import Any

from parivision import mongo
from predictions.log import LoggedPrediction, logged_predictions


def logged_rows(query: dict[str, Any] | None = None) -> list[LoggedPrediction]:
    """Every logged prediction of the documents ``query`` finds, oldest document first."""
    documents = mongo.warehouse_collection(mongo.PREDICTIONS).find(query or {}).sort("_id", 1)
    return [row for document in documents for row in logged_predictions(document)]
