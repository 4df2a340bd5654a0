"""The backtest, model, data and match pages: with and without data, and who may see what."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from backtests.models import Backtest
from backtests.services import backtest_execute
from ingestion.figures import ingestion_figures_refresh
from tests.backtests import conftest as backtest_fixtures
from tests.backtests.conftest import WINDOW_END, WINDOW_START

trained = backtest_fixtures.trained
world = backtest_fixtures.world
PAGES = ["portal:backtests", "portal:model", "portal:data", "portal:match"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_client(django_user_model):
    from django.test import Client

    staff = Client()
    staff.force_login(django_user_model.objects.create_user(username="ops", password="pw-ops-123", is_staff=True))
    return staff


def json_block(response, block_id):
    match = re.search(rf'<script id="{block_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, f"no {block_id} on the page"
    return json.loads(match.group(1))


@pytest.mark.parametrize("name", [*PAGES, "portal:shot-chart"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert reverse("portal:login") in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_helpfully_before_there_is_any_data(client, member, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert b'class="empty"' in response.content


def test_the_model_page_explains_how_to_get_a_first_champion(client, member):
    page = client.get(reverse("portal:model")).content.decode()

    assert "No champion yet" in page
    assert "manage.py train" in page
    assert "No drift report yet" in page


def test_the_backtest_form_defaults_to_the_champion_on_its_own_holdout(client, member, world):
    page = client.get(reverse("portal:backtests")).content.decode()

    champion = world.versions[1]
    assert re.search(rf'value="{champion}"[^>]*checked', page)
    assert f"v{champion} · xgboost · champion" in page
    assert 'name="date_from" value="' in page
    assert 'name="margin" value="0.06"' in page  # the live market's MARKET_MARGIN, not a number of its own


def test_submitting_the_form_queues_a_backtest_and_opens_its_page(client, member, world):
    response = client.post(reverse("portal:backtests"), {
        "model_versions": list(world.versions), "date_from": WINDOW_START, "date_to": WINDOW_END,
        "strategy": "kelly", "threshold": 0.01, "stake": 10, "kelly_fraction": 0.3, "margin": 0.04, "bankroll": 2000,
    })  # fmt: skip

    backtest = Backtest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:backtest-detail", args=[backtest.pk])
    assert backtest.owner == member
    assert backtest.params["kelly_fraction"] == 0.3
    running = client.get(response["Location"]).content.decode()
    assert 'id="progress-bar"' in running
    assert f'data-api="/api/v1/backtests/{backtest.pk}"' in running


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"date_from": WINDOW_END, "date_to": WINDOW_START}, "Must not be before the start date."),
        ({"model_versions": []}, "This field is required."),
        ({"date_from": dt.date(2030, 1, 1), "date_to": dt.date(2030, 1, 5)}, "The warehouse has no shots between"),
        ({"bankroll": -5}, "greater than or equal to 1"),
    ],
)
def test_bad_form_input_is_explained_and_changes_nothing(client, member, world, changes, message):
    data = {"model_versions": [world.versions[0]], "date_from": WINDOW_START, "date_to": WINDOW_END,
            "strategy": "flat", "threshold": 0.02, "stake": 10, "kelly_fraction": 0.25, "margin": 0.05,
            "bankroll": 1000, **changes}  # fmt: skip
    response = client.post(reverse("portal:backtests"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Backtest.objects.exists()


def test_a_finished_backtest_shows_its_results_and_curves_side_by_side(client, member, world):
    backtest = Backtest.objects.create(owner=member, model_versions=list(world.versions), date_from=WINDOW_START,
                                       date_to=WINDOW_END, strategy="flat",
                                       params={"strategy": "flat", "threshold": 0.0, "stake": 10.0,
                                               "kelly_fraction": 0.25, "margin": 0.05, "bankroll": 1000.0,
                                               "min_stake": 0.01})  # fmt: skip
    backtest_execute(backtest_id=backtest.pk)

    response = client.get(reverse("portal:backtest-detail", args=[backtest.pk]))
    page = response.content.decode()
    assert 'id="results-table"' in page
    assert "Max drawdown" in page
    for label in ("Sharpe ratio (per bet)", "Profit factor", "Risk of ruin"):
        assert label in page
    assert 'id="zone-breakdown"' in page
    backtest.refresh_from_db()
    busiest = backtest.results["versions"][0]["zones"][0]
    assert f"<td>{busiest['zone']}</td>" in page
    curves = json_block(response, "curves-data")
    assert [c["label"].split()[0] for c in curves] == [f"v{v}" for v in world.versions]
    assert all(c["points"][0]["bankroll"] == 1000 for c in curves)
    listing = client.get(reverse("portal:backtests")).content.decode()
    assert reverse("portal:backtest-detail", args=[backtest.pk]) in listing


def test_someone_elses_backtest_is_not_found(client, member, world, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="pw-other-123")
    theirs = Backtest.objects.create(owner=other, model_versions=[world.versions[0]], date_from=WINDOW_START,
                                     date_to=WINDOW_END, strategy="flat", params={})  # fmt: skip

    assert client.get(reverse("portal:backtest-detail", args=[theirs.pk])).status_code == 404
    assert reverse("portal:backtest-detail", args=[theirs.pk]) not in client.get(reverse("portal:backtests")).content.decode()


def refresh_all_figures(version):
    """What the Celery tasks do after a promotion: the model's figures, then the warehouse's."""
    from analytics.services import figures_refresh
    from training.services.figures import model_figures_compute

    model_figures_compute(version=version)
    return figures_refresh()


def test_the_model_page_says_its_figures_are_being_computed_until_a_worker_stored_them(client, member, world):
    from parivision import figures
    from training.services.figures import status_name

    page = client.get(reverse("portal:model")).content.decode()
    assert 'data-state="no-data"' in page
    assert "manage.py refresh_figures" in page

    figures.status_set(name=status_name(world.versions[1]), state=figures.QUEUED)
    page = client.get(reverse("portal:model")).content.decode()
    assert 'data-state="computing"' in page
    assert "Being computed" in page


def test_the_model_page_shows_the_champion_its_calibration_and_importance(client, member, world):
    refresh_all_figures(world.versions[1])
    response = client.get(reverse("portal:model"))
    page = response.content.decode()

    assert f"v{world.versions[1]} · xgboost" in page
    assert "Holdout Accuracy" in page
    figures = json_block(response, "figures-data")
    assert sum(b["count"] for b in figures["calibration"]) == figures["holdout_rows"] > 0
    assert all(0 <= b["observed"] <= 1 for b in figures["calibration"])
    assert len(figures["importance"]) == 15
    history = json_block(response, "history-data")
    assert history["labels"] == [f"v{v}" for v in world.versions]
    assert history["champion"] == [False, True]


@pytest.mark.parametrize(("champion_version", "compared_with", "named"), [
    (None, "baseline", "for the lookup baseline on the same holdout"),
    (3, "champion", "for v3 on the same holdout"),
])
def test_why_it_is_champion_names_what_it_beat(client, member, world, champion_version, compared_with, named):
    from training.models import PromotionDecision

    PromotionDecision.objects.create(
        kind=PromotionDecision.Kind.AUTOMATIC, challenger_version=world.versions[1], champion_version=champion_version,
        metric="log_loss", challenger_score=0.6318, champion_score=0.6512, compared_with=compared_with, promoted=True,
        reason="beat it", triggered_by="pipeline run #1 (manual)",
    )
    page = client.get(reverse("portal:model")).content.decode()
    assert "Why it is champion" in page
    assert named in page
    assert "vNone" not in page


def test_the_drift_report_is_embedded_from_the_same_origin(client, member, monkeypatch):
    from training.models import DriftReport

    report = DriftReport.objects.create(share_drifted=0.25, dataset_drift=False, mlflow_run_id="run",
                                        html_artifact="drift/report.html", json_artifact="drift/report.json")
    monkeypatch.setattr("portal.views_insights.drift_artifact_text", lambda r, name: f"<html>{name}</html>")

    page = client.get(reverse("portal:model")).content.decode()
    assert f'<iframe src="{reverse("portal:drift-report", args=[report.pk])}"' in page
    assert "25.0% of inputs drifted" in page
    embedded = client.get(reverse("portal:drift-report", args=[report.pk]))
    assert embedded.content == b"<html>drift/report.html</html>"
    assert embedded["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get(reverse("portal:drift-report", args=[report.pk + 1])).status_code == 404


def test_the_shot_chart_is_empty_with_a_reason_until_it_is_computed(client, member, world):
    from analytics.services import STATUS
    from parivision import figures

    assert client.get(reverse("portal:shot-chart")).json()["status"] == "no_data"
    figures.status_set(name=STATUS, state=figures.RUNNING)
    chart = client.get(reverse("portal:shot-chart")).json()
    assert (chart["status"], chart["shots"]) == ("computing", 0)


def test_the_shot_chart_bins_real_make_rates_and_the_champions_probabilities(client, member, world):
    refresh_all_figures(world.versions[1])
    chart = client.get(reverse("portal:shot-chart"), {"season": "2023-24"}).json()

    assert chart["shots"] == len(world.frame)
    assert chart["version"] == world.versions[1]
    assert sum(b["n"] for b in chart["bins"]) == chart["shots"]
    assert all(0 <= b["rate"] <= 1 and 0 < b["p"] < 1 for b in chart["bins"])
    near = [b for b in chart["bins"] if abs(b["x"]) < 3 and b["y"] < 3]
    far = [b for b in chart["bins"] if b["y"] > 20]
    assert max(b["p"] for b in near) > min(b["p"] for b in far)  # closer shots are likelier to go in


def test_the_shot_chart_filters_by_player_and_adds_seasons_up(client, member, world):
    refresh_all_figures(world.versions[1])
    chart = client.get(reverse("portal:shot-chart"), {"player": "Player 3"}).json()

    assert chart["shots"] == int((world.frame["player_name"] == "Player 3").sum())
    by_id = client.get(reverse("portal:shot-chart"), {"player": "1003", "season": "2023-24"}).json()
    assert by_id["bins"] == chart["bins"]  # one season: all seasons is the same chart
    everything = client.get(reverse("portal:shot-chart")).json()
    assert everything["shots"] == len(world.frame)
    assert everything["make_rate"] == round(float(world.frame["made"].mean()), 4)


def test_only_staff_see_the_quarantine(client, member, staff_client, world):
    from parivision import mongo

    mongo.lake_collection(mongo.QUARANTINE).insert_one({
        "_id": "q1", "field": "period", "value": "11", "reason": "period: out of range",
        "message": "period 11 is outside 1-10", "source": "file:bad.csv", "quarantined_at": dt.datetime(2024, 1, 2),
    })  # fmt: skip
    ingestion_figures_refresh()  # what beat runs every minute: the reasons are counted by a worker

    assert "period 11 is outside 1-10" not in client.get(reverse("portal:data")).content.decode()
    page = staff_client.get(reverse("portal:data")).content.decode()
    assert "period 11 is outside 1-10" in page
    assert "period: out of range" in page


def test_the_match_view_compares_expected_and_actual_points(client, member, world):
    refresh_all_figures(world.versions[1])
    last_day = world.frame["game_date"].max().date()
    response = client.get(reverse("portal:match"), {"date": str(last_day)})

    match = json_block(response, "match-data")
    game = world.frame.loc[world.frame["game_date"].dt.date == last_day]
    assert match["shots"] == len(game)
    assert match["version"] == world.versions[1]
    for team in match["teams"]:
        shots = game.loc[game["team_name"] == team["team"]]
        actual = float(((shots["shot_type"] == "3PT") * 1 + 2)[shots["made"]].sum())
        assert team["actual"] == actual
        assert team["actual_curve"][-1]["y"] == actual
        assert 0 < team["expected"] < 3 * len(shots)
    assert sum(t["shots"] for t in match["teams"]) == len(game)


def test_an_unknown_game_gets_a_friendly_message(client, member, world):
    refresh_all_figures(world.versions[1])
    page = client.get(reverse("portal:match"), {"game": "0000000000"}).content.decode()

    assert "No game found with id 0000000000" in page
