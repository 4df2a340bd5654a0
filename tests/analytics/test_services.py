"""Computing and storing the warehouse figures: what a refresh writes, when it runs, and how pages read it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.core.cache import cache

from analytics import selectors, services
from parivision import figures, mongo
from tests.backtests import conftest as backtest_fixtures

trained = backtest_fixtures.trained
world = backtest_fixtures.world

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]
SEASON = "2023-24"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def champion_probabilities(world):
    from backtests.selectors import shots_probabilities
    from training.services.figures import model_load_for_figures

    frame = world.frame.sort_values(["game_date", "game_id", "event_id"]).reset_index(drop=True)
    return frame.assign(p=shots_probabilities(model=model_load_for_figures(version=world.versions[1]), frame=frame))


def test_a_refresh_prices_every_shot_with_the_champion_and_stores_shot_making(world):
    result = services.figures_refresh()

    assert result == {"deferred": False, "version": world.versions[1], "seasons": [SEASON], "remaining": [],
                      "all_seasons": [SEASON]}
    board = selectors.smoe_board(min_attempts=1)
    assert board["status"] == "ready"
    assert board["version"] == world.versions[1]
    assert sum(r["attempts"] for r in board["results"]) == len(world.frame)
    expected = champion_probabilities(world).groupby("player_id")["p"].mean()
    for row in board["results"]:
        assert row["xfg_pct"] == pytest.approx(expected[row["player_id"]], abs=1e-4)
        assert row["diff_low"] <= row["diff"] <= row["diff_high"]
    diffs = [r["diff"] for r in board["results"]]
    assert diffs == sorted(diffs, reverse=True)


def test_a_player_page_has_the_season_the_zones_and_the_game_by_game_trend(world):
    services.figures_refresh()

    detail = selectors.smoe_player(player_id=1003)

    shots = world.frame.loc[world.frame["player_id"] == 1003]
    assert (detail["player_name"], detail["season"], detail["seasons"]) == ("Player 3", SEASON, [SEASON])
    assert detail["summary"]["attempts"] == len(shots)
    assert sum(detail["trend"]["n"]) == len(shots) == sum(z["n"] for z in detail["zones"])
    assert detail["trend"]["dates"] == sorted({str(d.date()) for d in shots["game_date"]})
    assert detail["chart"]["shots"] == len(shots.loc[shots["y_ft"] <= 41.75])
    assert selectors.smoe_player(player_id=424242) is None


def test_a_second_refresh_replaces_the_figures_and_leaves_nothing_behind(world):
    services.figures_refresh()
    collection = mongo.warehouse_collection(mongo.FIGURES)
    first = collection.count_documents({"scope": f"season:{SEASON}"})

    services.figures_refresh()

    assert collection.count_documents({"scope": f"season:{SEASON}"}) == first
    current = figures.generation_current(scope=f"season:{SEASON}")
    assert collection.count_documents({"scope": f"season:{SEASON}", "gen": {"$ne": current}}) == 0


def test_a_generation_left_half_written_by_a_killed_task_is_never_read_and_is_cleaned_up(world):
    services.figures_refresh()
    before = selectors.smoe_board(min_attempts=1)
    abandoned = figures.generation_new(scope=f"season:{SEASON}")
    figures.generation_write(generation=abandoned, values={"smoe:board": {"rows": [], "version": 99, "prior": None}})

    assert selectors.smoe_board(min_attempts=1) == before
    services.figures_refresh(seasons=[SEASON])
    assert mongo.warehouse_collection(mongo.FIGURES).count_documents({"gen": abandoned}) == 0


def test_a_refresh_waits_for_the_one_already_running(world):
    cache.set(services.LOCK_KEY, "someone-else", 60)

    assert services.figures_refresh() == {"deferred": True}
    assert selectors.smoe_board()["status"] == "no_data"


def test_figures_priced_by_a_former_champion_are_recomputed_by_any_refresh(world):
    from training.models import ModelVersion

    services.figures_refresh()
    ModelVersion.objects.filter(version=world.versions[1]).update(is_champion=False)
    ModelVersion.objects.filter(version=world.versions[0]).update(is_champion=True)

    result = services.figures_refresh(seasons=[])

    assert result["seasons"] == [SEASON]
    assert selectors.smoe_board()["version"] == world.versions[0]


def test_without_a_champion_charts_and_matches_show_actual_points_only(world):
    from training.models import ModelVersion

    ModelVersion.objects.update(is_champion=False)
    services.figures_refresh()

    chart = selectors.shot_chart(query=selectors.ChartQuery())
    assert (chart["shots"], chart["mean_probability"]) == (len(world.frame), None)
    assert selectors.smoe_board()["status"] == "no_data"
    day = world.frame["game_date"].max().date()
    match = selectors.match(game_id=selectors.games_on(day)[0]["game_id"], day=day)
    assert all(t["expected"] is None for t in match["teams"])


def test_matches_are_found_by_date_and_without_one(world):
    services.figures_refresh()
    day = world.frame["game_date"].max().date()

    games = selectors.games_on(day)
    assert selectors.latest_game_date() == day
    assert [g["game_id"] for g in games] == sorted(world.frame.loc[world.frame["game_date"].dt.date == day, "game_id"].unique())
    assert selectors.match(game_id=games[0]["game_id"]) == selectors.match(game_id=games[0]["game_id"], day=day)
    assert selectors.games_on(dt.date(1999, 1, 1)) == []


def test_new_shots_schedule_one_refresh_of_their_seasons_per_delay(world, settings, monkeypatch):
    queued = []
    monkeypatch.setattr(services, "figures_refresh_enqueue", lambda **kw: queued.append(kw))
    settings.FIGURES_REFRESH_DELAY_SECONDS = 120

    services.figures_refresh_after_ingest(seasons=[SEASON, SEASON, "2022-23", None])
    services.figures_refresh_after_ingest(seasons=[SEASON])

    assert queued == [{"seasons": ["2022-23", SEASON], "countdown": 120}]
    services.figures_refresh(seasons=[SEASON])  # the refresh takes its seasons off the pending list
    services.figures_refresh_after_ingest(seasons=[SEASON])
    assert queued[-1] == {"seasons": [SEASON], "countdown": 120}


def test_importing_shots_asks_for_their_seasons_figures(db, mongo_db, tmp_path, settings, monkeypatch):
    from ingestion.services import shots_import_file
    from tests.factories import nba_com_game, write_csv

    asked = []
    monkeypatch.setattr(services, "figures_refresh_after_ingest", lambda *, seasons: asked.append(sorted(seasons)))
    settings.FIGURES_AUTO_REFRESH = True
    path = write_csv(tmp_path / "g.csv", nba_com_game("22300001", 5))

    shots_import_file(location=str(path))
    shots_import_file(location=str(path))  # nothing new: nothing to recompute

    assert len(asked) == 1
    assert len(asked[0]) == 1


def test_a_promotion_queues_the_model_figures_and_every_season(world, settings, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from training.services import figures as training_figures
    from training.services.promotion import champion_promote

    calls = []
    monkeypatch.setattr(training_figures, "model_figures_enqueue", lambda *, version: calls.append(("model", version)))
    monkeypatch.setattr(services, "figures_refresh_enqueue", lambda **kw: calls.append(("warehouse", kw)))
    settings.FIGURES_AUTO_REFRESH = True
    from training.registry import get_registry

    get_registry().alias_set(version=world.versions[1])

    with django_capture_on_commit_callbacks(execute=True):
        champion_promote(version=world.versions[0], triggered_by="test")

    assert calls == [("model", world.versions[0]), ("warehouse", {"seasons": None})]


def test_the_refresh_task_runs_the_service(world):
    from analytics.tasks import refresh_figures

    result = refresh_figures.apply(kwargs={"seasons": [SEASON]}).get()

    assert result["seasons"] == [SEASON]
    assert selectors.status().state == figures.DONE


def test_a_stale_running_status_is_not_reported_as_computing(settings):
    figures.status_set(name=services.STATUS, state=figures.RUNNING)
    assert selectors.status().computing

    settings.FIGURES_TIME_LIMIT = -10_000
    assert selectors.status().state == figures.STALE
    assert not selectors.status().computing


def test_model_figures_are_stored_per_version(world):
    from training import selectors as training_selectors
    from training.services.figures import model_figures_compute

    assert training_selectors.model_figures_of(version=world.versions[1]) is None
    value = model_figures_compute(version=world.versions[1])

    assert training_selectors.model_figures_of(version=world.versions[1]) == value
    assert sum(b["count"] for b in value["calibration"]) == value["holdout_rows"] > 0
    assert np.isclose(sum(f["importance"] for f in value["importance"]), 1.0, atol=0.2)


def test_one_task_refreshes_one_season_and_queues_the_rest(world, monkeypatch):
    from analytics import tasks
    from tests.backtests.conftest import warehouse_documents

    earlier = world.frame.assign(season="2022-23", game_id=world.frame["game_id"].str.replace("00223", "00222"),
                                 game_date=world.frame["game_date"] - dt.timedelta(days=365))  # fmt: skip
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(earlier))
    queued = []
    monkeypatch.setattr(tasks.refresh_figures, "apply_async", lambda **kw: queued.append(kw))

    first = tasks.refresh_figures.apply().get()

    assert (first["seasons"], first["remaining"]) == ([SEASON], ["2022-23"])
    assert queued == [{"kwargs": {"seasons": ["2022-23"]}}]
    assert selectors.status().computing  # the rest is still to come
    assert selectors.filter_options()["seasons"] == [SEASON]
    second = tasks.refresh_figures.apply(kwargs=queued[0]["kwargs"]).get()
    assert (second["seasons"], second["remaining"]) == (["2022-23"], [])
    assert selectors.filter_options()["seasons"] == [SEASON, "2022-23"]
    assert selectors.shot_chart(query=selectors.ChartQuery())["shots"] == 2 * len(world.frame)
    assert selectors.status().state == figures.DONE
