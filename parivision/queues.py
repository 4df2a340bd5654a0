"""Celery queues, which task goes where, and which worker pool consumes which queues (issue #10).

Plain Python (no Django): the settings read the routes from here, and the tests, ``scripts/up.sh``
checks and the docs read the pools. The rule: the ``default`` queue carries only the short work the
live product needs every minute (the live stream, settlement, the feed pull and its transform,
joining outcomes, the live status); anything that can run for many minutes has a queue of its own,
consumed by a worker that the live product does not depend on. Two backtests, an import of a big
file and the nightly pipeline at once then wait for each other, never for the live stream.
"""

from __future__ import annotations

from typing import Final

LIVE: Final = "default"  # the live product: short tasks only (the longest hard limit is a few minutes)
IMPORTS: Final = "ingestion"  # imports of whole files or URLs (up to half an hour)
BACKTESTS: Final = "backtests"  # user backtests (BACKTEST_TIME_LIMIT, 21 minutes by default)
ML: Final = "ml"  # the ML pipeline, model and warehouse figures, the nightly roll-up of the prediction log

QUEUES: Final = (LIVE, IMPORTS, BACKTESTS, ML)
LONG_QUEUES: Final = (IMPORTS, BACKTESTS, ML)

# Task name (or glob) -> queue. Everything not named here goes to LIVE (CELERY_TASK_DEFAULT_QUEUE).
# The first match wins, so the exact names come before the globs.
ROUTES: Final[dict[str, dict[str, str]]] = {
    "ingestion.import_file": {"queue": IMPORTS},
    "analytics.refresh_figures": {"queue": ML},  # a season's figures: minutes of CPU
    "predictions.roll_up_log": {"queue": ML},  # a day of the prediction log at a time, nightly
    "backtests.*": {"queue": BACKTESTS},
    "training.*": {"queue": ML},
}

# The worker pools every launcher starts (scripts/up.sh, docker-compose.yml): the live pool never
# consumes a long queue; the long queues are split so that a night's pipeline does not hold the
# backtests back for an hour. On one laptop up.sh runs "batch" and "ml" as one worker.
WORKER_POOLS: Final[dict[str, tuple[str, ...]]] = {
    "live": (LIVE,),
    "batch": (BACKTESTS, IMPORTS),
    "ml": (ML,),
}
