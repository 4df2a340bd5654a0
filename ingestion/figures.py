"""The data page's ingestion figures, computed by Celery after transforms (and every minute) and stored.

Aggregating every ingestion run of 60 days (a feed pulled every minute makes ~170k of them)
or counting lake batches by state is a job for a worker, not for a request:
``ingestion_figures_refresh`` computes them and ``ingestion_figures`` reads the stored result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ingestion import selectors
from ingestion.models import IngestionRun
from parivision import figures

FIGURE_KEY = "ingestion"
DAYS = 60


def ingestion_daily(*, days: int = DAYS) -> dict[str, Any]:
    """Ingestion runs per day (count, shots inserted, records rejected) over the last ``days``."""
    since = timezone.now() - dt.timedelta(days=days)
    rows = list(IngestionRun.objects.filter(started_at__gte=since).annotate(day=TruncDate("started_at"))
                .values("day").order_by("day")
                .annotate(runs=Count("id"), inserted=Sum("inserted"), rejected=Sum("rejected")))  # fmt: skip
    return {
        "labels": [str(r["day"]) for r in rows],
        "runs": [r["runs"] for r in rows],
        "inserted": [r["inserted"] or 0 for r in rows],
        "rejected": [r["rejected"] or 0 for r in rows],
    }


def run_summary(run: IngestionRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"id": run.pk, "kind": run.kind, "kind_label": run.get_kind_display(), "status": run.status,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "read": run.read, "inserted": run.inserted, "duplicates": run.duplicates, "rejected": run.rejected,
            "error": run.error[:300]}  # fmt: skip


def ingestion_figures_refresh() -> dict[str, Any]:
    """Daily runs, store counts, quarantine reasons and the last runs; stored under ``ingestion``."""
    last_success = (IngestionRun.objects.filter(status=IngestionRun.Status.SUCCEEDED)
                    .exclude(kind=IngestionRun.Kind.BETSAPI).order_by("-started_at").first())  # fmt: skip
    value = {
        "daily": ingestion_daily(),
        "counts": selectors.store_counts(),
        "reasons": [[reason, count] for reason, count in selectors.quarantine_reasons()[:10]],
        "last_run": run_summary(IngestionRun.objects.order_by("-started_at").first()),
        "last_success": run_summary(last_success),
        "computed_at": timezone.now().isoformat(),
    }
    figures.figure_put(key=FIGURE_KEY, value=value)
    return value


def ingestion_figures() -> dict[str, Any] | None:
    """The stored ingestion figures, or None before the first refresh."""
    return figures.figure_get(key=FIGURE_KEY)


def figures_after_new_shots(*, seasons: set[Any]) -> None:
    """New shots were written: queue the refresh of their seasons' figures and the drift story (debounced, never raises)."""
    if not settings.FIGURES_AUTO_REFRESH:
        return
    from analytics.services import figures_refresh_after_ingest
    from training.services.drift import drift_story_after_new_shots

    figures_refresh_after_ingest(seasons=[s for s in seasons if s])
    drift_story_after_new_shots()
