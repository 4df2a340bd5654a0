"""The figure tasks in a real Celery worker: queued, routed to the ml queue, stored for the pages."""

from __future__ import annotations

import time

import pytest

from analytics import selectors
from analytics.services import figures_refresh_enqueue
from parivision import figures
from tests.backtests import conftest as backtest_fixtures

trained = backtest_fixtures.trained
world = backtest_fixtures.world


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_queued_refresh_is_computed_by_a_worker_and_read_by_the_pages(world):
    from training import selectors as training_selectors
    from training.services.figures import model_figures_enqueue

    figures_refresh_enqueue(seasons=None)
    model_figures_enqueue(version=world.versions[1])
    assert selectors.status().computing
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = selectors.status().state == figures.DONE
        if done and training_selectors.model_figures_of(version=world.versions[1]) is not None:
            break
        time.sleep(0.5)

    assert selectors.status().state == figures.DONE, selectors.status().message
    board = selectors.smoe_board(min_attempts=1)
    assert board["version"] == world.versions[1]
    assert sum(r["attempts"] for r in board["results"]) == len(world.frame)
    assert training_selectors.model_figures_of(version=world.versions[1])["holdout_rows"] > 0
