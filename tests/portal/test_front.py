"""The front page: the product at a glance, from stored figures, and never an open shot's outcome or key."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.betting.fixtures import *  # noqa: F403  (fixtures)
from tests.betting.fixtures import bettor_make, feed_outcome, ingest_released

pytestmark = [pytest.mark.django_db]


def test_a_new_platform_says_what_it_does_and_what_is_missing(client, mongo_db, no_champion):
    page = client.get(reverse("portal:home")).content.decode()

    assert "PariVision puts a price on it" in page
    assert 'id="cta-play"' in page
    assert reverse("portal:play") in page
    assert page.count('data-state="no-data"') >= 4  # shot, champion, bettors, data, shot-makers
    assert 'data-state="computing"' in page  # the alerts: no check has run yet


def test_the_open_shot_is_shown_without_its_outcome_or_its_key(client, open_shot):
    page = client.get(reverse("portal:home")).content.decode()
    data = client.get(reverse("portal:home-shot")).json()["shot"]

    assert open_shot.player_name in page
    assert f"{open_shot.probability_made * 100:.1f}%" in page
    assert data["id"] == open_shot.pk
    assert data["model_probability"] == open_shot.probability_made
    for hidden in ("made", "shot_key", "hidden_made"):
        assert hidden not in data
    assert open_shot.shot_key not in page
    assert open_shot.shot_key not in json.dumps(data)


def test_todays_bettors_the_last_ingestion_and_the_alerts(client, open_shot):
    from analytics.status import live_status_refresh
    from betting import services
    from ingestion.figures import ingestion_figures_refresh

    winner, loser = bettor_make("winner"), bettor_make("loser")
    side = "made" if feed_outcome(open_shot) else "missed"
    other = "missed" if side == "made" else "made"
    services.bet_place(user=winner, shot_id=open_shot.pk, side=side, stake="40", idempotency_key="w1")
    services.bet_place(user=loser, shot_id=open_shot.pk, side=other, stake="10", idempotency_key="l1")
    services.stream_advance(force=True)
    ingest_released()
    services.bets_settle(shot_id=open_shot.pk)
    ingestion_figures_refresh()
    live_status_refresh()

    page = client.get(reverse("portal:home")).content.decode()

    today = page[page.index('id="front-today"'):page.index('id="front-ingestion"')]
    assert "2 bets settled by 2 bettors" in today
    assert today.index("winner") < today.index("loser")
    ingestion = page[page.index('id="front-ingestion"'):page.index('id="front-alerts"')]
    from ingestion.models import IngestionRun

    last = IngestionRun.objects.order_by("-started_at").first()
    assert last.get_kind_display() in ingestion
    assert f"{last.inserted} new" in ingestion
    alerts = page[page.index('id="front-alerts"'):]
    assert "PariVisionModelNotLoaded" in alerts  # the MLflow alias exists, but no version was promoted here


def test_the_alerts_come_from_alertmanager_when_it_is_configured(client, mongo_db, settings, monkeypatch):
    from analytics import status

    settings.ALERTMANAGER_URL = "http://alertmanager.invalid:9093"

    class Answer:
        def raise_for_status(self) -> None:
            pass

        def json(self):
            return [{"labels": {"alertname": "PariVisionApiDown", "severity": "critical"},
                     "annotations": {"summary": "The API is down."}}]

    monkeypatch.setattr(status.requests, "get", lambda url, **kw: Answer())
    status.live_status_refresh()

    page = client.get(reverse("portal:home")).content.decode()
    assert "PariVisionApiDown" in page
    assert "The API is down." in page
    assert "Alertmanager" in page
