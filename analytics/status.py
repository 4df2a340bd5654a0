"""The live figures the front page and the model page show, refreshed by beat every minute and stored.

Each version's quality on settled live predictions (reading the prediction log is a job for a
worker) and the alerts firing: Alertmanager's when ``ALERTMANAGER_URL`` is set, else the
platform's own checks, the same conditions as the Prometheus alert rules of the same names.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from parivision import figures

logger = logging.getLogger(__name__)
FIGURE_KEY = "live-status"
INGESTION_STALLED_AFTER = dt.timedelta(hours=1)
DRIFT_SHARE_LIMIT = 0.3
LIVE_ACCURACY_GAP = 0.05
LIVE_ACCURACY_MIN_SETTLED = 500


def _alert(name: str, severity: str, summary: str) -> dict[str, str]:
    return {"name": name, "severity": severity, "summary": summary}


def alerts_from_alertmanager(url: str) -> list[dict[str, str]]:
    response = requests.get(f"{url.rstrip('/')}/api/v2/alerts", timeout=3,
                            params={"active": "true", "silenced": "false", "inhibited": "false"})  # fmt: skip
    response.raise_for_status()
    return [
        _alert(a.get("labels", {}).get("alertname", "?"), a.get("labels", {}).get("severity", ""),
               a.get("annotations", {}).get("summary", "") or a.get("annotations", {}).get("description", ""))
        for a in response.json()
    ]  # fmt: skip


def alerts_own(*, live: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """The platform's own view of PariVision's alert rules (no Prometheus needed)."""
    from ingestion.models import IngestionRun
    from predictions.selectors import champion_version_row, latest_drift_report

    alerts = []
    champion = champion_version_row()
    if champion is None:
        alerts.append(_alert("PariVisionModelNotLoaded", "critical", "No champion model: predictions answer 503."))
    kinds = (IngestionRun.Kind.FEED, IngestionRun.Kind.TRANSFORM)
    runs = IngestionRun.objects.filter(kind__in=kinds)
    if runs.exists():
        last = runs.filter(status=IngestionRun.Status.SUCCEEDED).order_by("-started_at").first()
        if last is None or timezone.now() - last.started_at > INGESTION_STALLED_AFTER:
            alerts.append(_alert("PariVisionIngestionStalled", "warning",
                                 "No successful feed pull or transform for over an hour."))
    drift = latest_drift_report()
    if drift is not None and drift.share_drifted > DRIFT_SHARE_LIMIT:
        alerts.append(_alert("PariVisionDriftHigh", "warning",
                             f"{drift.share_drifted:.0%} of the model's inputs drifted (report #{drift.pk})."))
    if champion is not None:
        scores = live.get(str(champion.version))
        holdout = (champion.holdout_scores or {}).get("accuracy")
        if (scores and holdout is not None and scores["settled"] >= LIVE_ACCURACY_MIN_SETTLED
                and scores["accuracy"] < holdout - LIVE_ACCURACY_GAP):
            alerts.append(_alert("PariVisionLiveAccuracyBelowHoldout", "warning",
                                 f"Live accuracy {scores['accuracy']:.1%} vs {holdout:.1%} on the holdout."))
    return alerts


def _scores_by_version(scores: list[Any]) -> dict[str, dict[str, Any]]:
    return {s.model_version: {"settled": s.settled, "accuracy": round(s.accuracy, 4), "log_loss": round(s.log_loss, 4),
                              "brier": round(s.brier, 4)} for s in scores}  # fmt: skip


def live_status_refresh() -> dict[str, Any]:
    """Compute and store the live figures (the beat task, every minute): the only caller of
    ``live_scores``; the pages, ``GET /api/v1/models`` and ``/metrics`` read what it stored."""
    from predictions.selectors import backfill_scores, live_scores

    live = _scores_by_version(live_scores())
    backfill = _scores_by_version(backfill_scores())
    source = "platform checks"
    if settings.ALERTMANAGER_URL:
        try:
            alerts = alerts_from_alertmanager(settings.ALERTMANAGER_URL)
            source = "Alertmanager"
        except (requests.RequestException, ValueError) as error:
            logger.warning("Alertmanager at %s did not answer (%s): using the platform's checks",
                           settings.ALERTMANAGER_URL, error)
            alerts = alerts_own(live=live)
    else:
        alerts = alerts_own(live=live)
    value = {"live": live, "backfill": backfill, "alerts": alerts, "alerts_source": source,
             "computed_at": timezone.now().isoformat()}  # fmt: skip
    figures.figure_put(key=FIGURE_KEY, value=value)
    return value


def live_status() -> dict[str, Any] | None:
    return figures.figure_get(key=FIGURE_KEY)


NOT_COMPUTED = "not_computed"
FRESH = "fresh"
STALE = "stale"


def live_status_freshness(status: dict[str, Any] | None, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Whether the stored live figures can be trusted as current: ``not_computed`` (no refresh has
    run yet), ``stale`` (older than LIVE_STATUS_STALE_SECONDS: beat or the worker is not running),
    else ``fresh``; with when they were computed and their age in seconds."""
    if status is None or not status.get("computed_at"):
        return {"state": NOT_COMPUTED, "computed_at": None, "age_seconds": None}
    computed_at = dt.datetime.fromisoformat(status["computed_at"])
    age = max(0.0, ((now or timezone.now()) - computed_at).total_seconds())
    state = STALE if age > settings.LIVE_STATUS_STALE_SECONDS else FRESH
    return {"state": state, "computed_at": status["computed_at"], "age_seconds": round(age, 1)}
