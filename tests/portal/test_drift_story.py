"""The model page tells the drift story the Celery task stored, and says why when there is none."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from parivision import figures
from tests.backtests import conftest as backtest_fixtures
from tests.training import test_drift_story as story_tests
from training.services import drift as drift_services

trained = backtest_fixtures.trained
world = backtest_fixtures.world
champion = story_tests.champion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


def story_section(response: Any) -> str:
    page = response.content.decode()
    match = re.search(r'<section[^>]*id="drift-story".*?</section>', page, re.S)
    assert match, "no drift story on the page"
    return match.group(0)


def test_the_page_tells_which_inputs_drifted_and_how_the_champion_is_calibrated_per_family(
    client: Any, member: Any, champion: int
) -> None:
    story = drift_services.drift_story_compute()
    response = client.get(reverse("portal:model"))
    section = story_section(response)

    assert 'data-story-state="ready"' in section
    assert f"v{champion}'s training window" in section
    assert "3PT share" in section
    assert "Mean distance" in section
    columns = re.findall(r'<tr data-column="([^"]+)" data-drifted="(true|false)"', section)
    assert [c for c, _ in columns] == [row["column"] for row in story["inputs"]]
    assert [d for _, d in columns] == sorted((d for _, d in columns), reverse=True)  # drifted first
    for family in ("2PT", "3PT", "close 2PT (&lt; 10 ft)", "mid-range 2PT"):
        assert f'<tr data-family="{family}" data-source="replay">' in section
    assert "the champion re-predicted on the settled warehouse shots" in section  # each figure's source
    three = next(e for e in story["calibration"]["families"] if e["family"] == "3PT")["replay"]
    assert f"{three['gap']:+.1%}" in section
    charts = json.loads(re.search(r'<script id="drift-story-data" type="application/json">(.*?)</script>',
                                  response.content.decode(), re.S).group(1))
    assert charts == story["calibration"]["families"]
    assert len(re.findall(r'<canvas id="family-chart-\d+"', section)) == len(charts)


def test_before_the_first_computation_the_page_says_how_it_will_come(client: Any, member: Any) -> None:
    section = story_section(client.get(reverse("portal:model")))
    assert 'data-state="no-data"' in section
    assert "manage.py drift_report --story" in section

    figures.status_set(name=drift_services.STORY_STATUS, state=figures.RUNNING)
    assert "Being computed" in story_section(client.get(reverse("portal:model")))
    figures.status_set(name=drift_services.STORY_STATUS, state=figures.FAILED, message="ValueError: no registry")
    assert "The last computation failed: ValueError: no registry" in story_section(client.get(reverse("portal:model")))


def test_without_a_champion_or_newer_shots_the_page_explains_what_is_missing(
    client: Any, member: Any, world: Any
) -> None:
    from training.models import ModelVersion

    drift_services.drift_story_compute()  # the world's champion recorded no training window
    section = story_section(client.get(reverse("portal:model")))
    assert 'data-state="no_window"' in section
    assert "did not record its training window" in section

    ModelVersion.objects.update(is_champion=False)
    drift_services.drift_story_compute()
    section = story_section(client.get(reverse("portal:model")))
    assert 'data-state="no_champion"' in section
    assert "There is no champion yet" in section
    assert "drift-story-stale" not in section


def test_a_story_told_for_another_champion_is_flagged(client: Any, member: Any, champion: int) -> None:
    from training.models import ModelVersion

    drift_services.drift_story_compute()
    ModelVersion.objects.filter(version=champion).update(is_champion=False)
    ModelVersion.objects.exclude(version=champion).update(is_champion=True)
    section = story_section(client.get(reverse("portal:model")))

    assert 'id="drift-story-stale"' in section
    assert f"told for v{champion}" in section


def recalibration_section(response: Any) -> str:
    match = re.search(r'<section[^>]*id="recalibration-card".*?</section>', response.content.decode(), re.S)
    assert match, "no in-season correction card on the page"
    return match.group(0)


def test_the_page_shows_the_champion_s_in_season_correction_and_the_actions_it_moves_most(
    client: Any, member: Any, champion: int, settings: Any
) -> None:
    from training.services.recalibration import recalibration_refit

    settings.RECALIBRATION_ENABLED = True
    empty = recalibration_section(client.get(reverse("portal:model")))
    assert "No correction for" in empty
    fitted = recalibration_refit(version=champion)
    assert fitted is not None
    assert fitted.actions  # RECALIBRATION_BY_ACTION, on by default
    section = recalibration_section(client.get(reverse("portal:model")))
    assert f"before {fitted.fitted_before:%b} {fitted.fitted_before.day}, {fitted.fitted_before.year}" in section
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(2PT|3PT)</td>", section)
    moved = sorted(fitted.actions.items(), key=lambda item: -abs(item[1].intercept))[:8]
    assert rows == [tuple(group.rsplit("|", 1)) for group, _ in moved]
    assert f"({len(fitted.actions)} corrected)" in section
