"""``manage.py live_loop``: one turn of the loop, reported step by step."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from betting import services
from ingestion.feed import feed_pull
from ingestion.services import lake_transform_pending
from predictions.services import predictions_join_outcomes
from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import games_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_command_follows_a_bet_from_the_open_shot_to_the_joined_prediction(
    mongo_db, champion, tmp_path, live_server, monkeypatch
):
    games_load(tmp_path, past=2, upcoming=1)
    services.stream_advance(force=True)

    def worker_and_beat() -> None:  # what the worker and beat do after the operator's "advance now"
        services.stream_advance(force=True)
        feed_pull(url=live_server.url, n=100)
        lake_transform_pending()
        services.stream_advance()
        predictions_join_outcomes()

    monkeypatch.setattr(services, "stream_advance_enqueue", worker_and_beat)
    out = io.StringIO()
    call_command("live_loop", "--timeout", "30", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines[:5]] == [
        "1. bet placed", "2. shot taken", "3. record in the warehouse (through the feed)", "4. bet settled",
        "5. prediction joined"]
    assert f"source feed:{live_server.url}" in lines[2]
    assert "live=True" in lines[4]
    result = json.loads(lines[-1])
    assert result["bet"]["status"] in ("won", "lost")
    assert result["warehouse"]["source"] == f"feed:{live_server.url}"
    assert result["predictions"][0]["live"] is True
