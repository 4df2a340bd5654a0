"""Serving reads shooter histories from the shooter-history store: no scan of the shots, same prices."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rest_framework.test import APIClient

from ingestion import history as store
from parivision import mongo
from predictions import history, selectors
from tests.predictions.conftest import shot, warehouse_documents
from training.ml import features
from training.ml.features import CLOSE_RANGE_FT, PlayerHistory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]

BATCH = "/api/v1/predictions/batch"


def requests_for(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Shots of every player in the warehouse, on dates before, within and after their history."""
    days = sorted(frame["game_date"].dt.date.unique())
    dates = [days[0], days[len(days) // 2], days[-1], days[-1] + pd.Timedelta(days=3)]
    return [shot(player_id=int(p), game_date=d.isoformat(), period=1 + i % 4, seconds_left=30 + 50 * i)
            for p in sorted(frame["player_id"].unique()) for i, d in enumerate(dates)]  # fmt: skip


def prices(api: APIClient, shots: list[dict[str, Any]]) -> list[float]:
    response = api.post(BATCH, {"shots": shots}, format="json")
    assert response.status_code == 200, response.json()
    return [p["probability_made"] for p in response.json()["predictions"]]


def no_warehouse_scan(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("a shooter's history was read from the warehouse shots")


@pytest.mark.usefixtures("champion")
def test_cold_shooters_are_priced_from_the_store_exactly_as_from_the_warehouse(api, mlflow_store, monkeypatch):
    frame = mlflow_store.frame
    shots = requests_for(frame)
    without_history = prices(api, shots)
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame))
    history.reset()
    from_shots = prices(api, shots)  # the store is not built yet: histories come from the shots

    store.history_backfill()
    history.reset()  # every shooter cold again
    monkeypatch.setattr(selectors, "player_shots", no_warehouse_scan)
    from_store = prices(api, shots)

    assert len(from_store) == len(shots) == 4 * frame["player_id"].nunique()
    assert from_store == pytest.approx(from_shots, abs=1e-9)
    changed = sum(a != b for a, b in zip(from_store, without_history, strict=True))
    assert changed > len(shots) // 2  # the histories do move the prices


def test_a_shooters_history_from_the_store_equals_one_built_from_the_shots(mlflow_store, monkeypatch):
    frame = mlflow_store.frame
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame))
    store.history_backfill()
    monkeypatch.setattr(selectors, "player_shots", no_warehouse_scan)
    players = sorted(int(p) for p in frame["player_id"].unique())[:5]

    served = history.cache().histories([*players, 424242], close_range_ft=CLOSE_RANGE_FT)  # one unknown

    expected = PlayerHistory.from_shots(frame[frame["player_id"].isin(players)])
    assert np.array_equal(served.keys, expected.keys)
    assert np.array_equal(served.attempts, expected.attempts)
    assert np.array_equal(served.makes, expected.makes)


def test_new_shots_reach_a_cached_shooter_once_the_cache_entry_expires(mlflow_store, settings):
    frame = mlflow_store.frame
    player = int(frame["player_id"].iloc[0])
    days = sorted(frame["game_date"].unique())
    old, new = frame[frame["game_date"] < days[-1]], frame[frame["game_date"] == days[-1]]
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(old))
    store.history_backfill()
    settings.SERVING_HISTORY_TTL_SECONDS = 0.0  # every read is after expiry
    history.reset()
    before = history.cache().histories([player], close_range_ft=CLOSE_RANGE_FT)

    documents = warehouse_documents(new)
    mongo.warehouse_collection(mongo.SHOTS).insert_many(documents)
    # What the ingestion does after writing shots (tests/ingestion/test_history.py covers that path).
    store.history_refresh(shots=documents)
    after = history.cache().histories([player], close_range_ft=CLOSE_RANGE_FT)

    assert len(after) == len(before) + 1
    added = frame[(frame["player_id"] == player) & (frame["game_date"] == days[-1])]
    assert after.attempts[-1, 0] - after.attempts[-2, 0] == len(added) > 0


def test_a_model_with_another_close_range_boundary_still_gets_its_histories_from_the_shots(mlflow_store):
    frame = mlflow_store.frame
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame))
    store.history_backfill()
    player = int(frame["player_id"].iloc[0])

    served = history.cache().histories([player], close_range_ft=4.0)

    expected = PlayerHistory.from_shots(frame[frame["player_id"] == player], close_range_ft=4.0)
    assert np.array_equal(served.attempts, expected.attempts)


# --- resident histories: loaded when a worker starts, kept current by the store's write times ----


def no_store_read(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("a request read a shooter's history from the store")


def test_resident_histories_answer_every_stored_shooter_without_a_read(mlflow_store, monkeypatch):
    frame = mlflow_store.frame
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame))
    store.history_backfill()
    cache = history.PlayerHistoryCache(ttl_seconds=0.0, max_players=10_000)  # a TTL path would always read
    players = sorted(int(p) for p in frame["player_id"].unique())

    assert cache.resident_load() == len(players)
    monkeypatch.setattr(selectors, "shooter_histories", no_store_read)
    monkeypatch.setattr(selectors, "player_shots", no_warehouse_scan)
    served = cache.histories(players, close_range_ft=CLOSE_RANGE_FT)

    expected = PlayerHistory.from_shots(frame)
    assert np.array_equal(served.keys, expected.keys)
    assert np.array_equal(served.attempts, expected.attempts)
    assert np.array_equal(served.makes, expected.makes)


def test_a_refresh_reads_only_what_was_written_since_and_brings_the_new_shots(mlflow_store, monkeypatch):
    frame = mlflow_store.frame
    days = sorted(frame["game_date"].unique())
    old, new = frame[frame["game_date"] < days[-1]], frame[frame["game_date"] == days[-1]]
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(old))
    store.history_backfill()
    # The backfill wrote its documents long before the worker started.
    long_ago = store.store_now() - pd.Timedelta(hours=1)
    mongo.warehouse_collection(mongo.SHOOTER_HISTORY).update_many(
        {"_id": {"$ne": store.STATE_ID}}, {"$set": {store.UPDATED: long_ago}})
    cache = history.PlayerHistoryCache(ttl_seconds=0.0, max_players=10_000)
    assert cache.resident_load() == old["player_id"].nunique()
    assert cache.resident_refresh() == 0  # nothing written since

    documents = warehouse_documents(new)
    mongo.warehouse_collection(mongo.SHOTS).insert_many(documents)
    touched = {d for doc in documents if (d := store.shot_day(doc))}
    store.history_refresh(shots=documents)
    assert cache.resident_refresh() == len({player for player, _day in touched})

    monkeypatch.setattr(selectors, "shooter_histories", no_store_read)
    players = sorted({player for player, _day in touched})
    served = rows_of(cache.histories(players, close_range_ft=CLOSE_RANGE_FT), players)
    expected = PlayerHistory.from_shots(frame[frame["player_id"].isin(players)])
    assert np.array_equal(served.keys, expected.keys)
    assert np.array_equal(served.attempts, expected.attempts)



def test_a_refresh_does_not_re_read_a_recent_document_it_holds_the_version_of(mlflow_store):
    frame = mlflow_store.frame
    first = frame["player_id"].iloc[0]
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame[frame["player_id"] != first]))
    store.history_backfill()  # every document written a moment ago: inside the refresh's look-back
    cache = history.PlayerHistoryCache(ttl_seconds=0.0, max_players=10_000)
    cache.resident_load()
    assert cache.resident_refresh() == 0  # written since the look began, less the minute: counts only
    assert cache.resident_refresh() == 0

    documents = warehouse_documents(frame[frame["player_id"] == first])
    mongo.warehouse_collection(mongo.SHOTS).insert_many(documents)
    store.history_refresh(shots=documents)
    assert cache.resident_refresh() == 1  # the one shooter written, new to the store
    second = warehouse_documents(frame[frame["player_id"] == frame["player_id"].iloc[-1]].head(1))
    store.history_refresh(shots=[{**second[0], "made": not second[0]["made"]}])  # a recount of a known day
    assert cache.resident_refresh() == 1
    assert cache.resident_refresh() == 0

def rows_of(served: PlayerHistory, players: list[int]) -> PlayerHistory:
    """The rows of ``players`` (a history answering for resident shooters may hold every resident one)."""
    mask = np.isin(served.keys >> features._DAY_BITS, players)
    return PlayerHistory(served.keys[mask], served.attempts[mask], served.makes[mask])


def test_resident_shooters_are_answered_without_copying_their_histories_per_request(mlflow_store, monkeypatch):
    frame = mlflow_store.frame
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame))
    store.history_backfill()
    cache = history.PlayerHistoryCache(ttl_seconds=0.0, max_players=10_000)
    cache.resident_load()
    players = sorted(int(p) for p in frame["player_id"].unique())
    some = players[::2]

    def no_merge(_histories: Any) -> Any:
        raise AssertionError("a request concatenated its shooters' histories")

    monkeypatch.setattr(history, "merge", no_merge)
    monkeypatch.setattr(selectors, "shooter_histories", no_store_read)
    served = cache.histories(some, close_range_ft=CLOSE_RANGE_FT)
    assert cache.histories(players[1::2], close_range_ft=CLOSE_RANGE_FT) is served  # one object, built once

    expected = PlayerHistory.from_shots(frame[frame["player_id"].isin(some)])
    assert np.array_equal(rows_of(served, some).keys, expected.keys)
    assert np.array_equal(rows_of(served, some).attempts, expected.attempts)
    # The answers, not only the rows: every requested shooter on every date of the season, and after.
    dates = np.array([*sorted(frame["game_date"].unique()), frame["game_date"].max() + pd.Timedelta(days=2)])
    ids = np.repeat(np.array(some), len(dates))
    on = np.tile(dates, len(some))
    for got, want in zip(served.lookup(player_ids=ids, game_dates=on), expected.lookup(player_ids=ids, game_dates=on),
                         strict=True):
        assert np.array_equal(got, want)
    assert served.lookup(player_ids=ids, game_dates=on)[0].sum() > 0

    # A shooter the store has never seen is not resident: it is read (once), and the answer is built
    # from the shooters' own histories as before.
    monkeypatch.undo()
    mixed = cache.histories([*some, 1], close_range_ft=CLOSE_RANGE_FT)
    assert mixed is not served
    assert np.array_equal(mixed.keys, expected.keys)


def test_resident_histories_expire_when_the_refreshes_stop(mlflow_store, monkeypatch):
    frame = mlflow_store.frame
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(frame))
    store.history_backfill()
    cache = history.PlayerHistoryCache(ttl_seconds=0.0, max_players=10_000, refresh_seconds=0.5)
    cache.resident_load()
    player = int(frame["player_id"].iloc[0])
    reads: list[list[int]] = []
    real = selectors.shooter_histories

    def counted(*, player_ids: list[int]) -> Any:
        reads.append(player_ids)
        return real(player_ids=player_ids)

    monkeypatch.setattr(selectors, "shooter_histories", counted)
    cache.histories([player], close_range_ft=CLOSE_RANGE_FT)
    assert reads == []
    monkeypatch.setattr(history.time, "monotonic", lambda: 10**9)  # long past three missed refreshes
    cache.histories([player], close_range_ft=CLOSE_RANGE_FT)
    assert reads == [[player]]


def test_the_resident_thread_loads_the_store_once_it_is_built(mlflow_store, settings):
    settings.SERVING_HISTORY_REFRESH_SECONDS = 0.5
    history.reset()
    thread = history.resident_start()
    assert thread is not None
    assert thread.is_alive()
    assert not history.cache().resident_loaded.wait(1.0)  # no store yet: nothing to load, no error
    mongo.warehouse_collection(mongo.SHOTS).insert_many(warehouse_documents(mlflow_store.frame))
    store.history_backfill()
    assert history.cache().resident_loaded.wait(10.0)
    assert history.cache().resident_players == mlflow_store.frame["player_id"].nunique()
    # The same thread holds the game-context store the backfill built (SERVING_GAME_CONTEXT_RESIDENT).
    from predictions import game_context

    assert game_context.resident().loaded.wait(10.0)
    assert game_context.resident().games == mlflow_store.frame["game_id"].nunique()
    # What survived the load was collected and frozen, so no later full collection scans it mid-request.
    import gc

    deadline = time.monotonic() + 10
    while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    history.resident_stop()
    assert not thread.is_alive()

    settings.SERVING_HISTORY_RESIDENT = False
    assert history.resident_start() is None
