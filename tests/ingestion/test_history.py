"""The shooter-history store: always equal to a recount of the warehouse shots, whatever was written."""

from __future__ import annotations

import pandas as pd
import pytest

from ingestion import history
from ingestion.generator import generate_rows
from ingestion.mappers import NBA_COM_COLUMNS, to_feed_record
from ingestion.readers import iter_mapped
from ingestion.services import lake_receive, lake_transform_pending, shots_import_file
from parivision import mongo
from tests.factories import nba_com_game, write_csv
from training.ml.features import PlayerHistory, history_daily_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


def recount() -> pd.DataFrame:
    """Per (player, day) counts computed afresh from every warehouse shot (what the store must hold)."""
    shots = list(mongo.warehouse_collection(mongo.SHOTS).find({}, dict.fromkeys(history.SHOT_FIELDS, 1)))
    return _ordered(history_daily_counts(pd.DataFrame(shots, columns=list(history.SHOT_FIELDS))))


def stored() -> pd.DataFrame:
    documents = mongo.warehouse_collection(mongo.SHOOTER_HISTORY).find({"_id": {"$ne": history.STATE_ID}})
    return _ordered(history.decode(documents))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["player_id", "day", *history.count_columns()]
    frame = frame[columns].astype({"player_id": "int64", "day": "int64"})
    return frame.sort_values(["player_id", "day"]).reset_index(drop=True).astype(dict.fromkeys(columns[2:], "float64"))


def spy_on_shot_reads(monkeypatch) -> list[dict]:
    """The queries of every find on the warehouse shots from now on."""
    queries: list[dict] = []
    real = mongo.warehouse_collection

    class Spy:
        def __init__(self, collection):
            self.collection = collection

        def find(self, query, *args, **kwargs):
            queries.append(query)
            return self.collection.find(query, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.collection, name)

    monkeypatch.setattr(mongo, "warehouse_collection",
                        lambda name: Spy(real(name)) if name == mongo.SHOTS else real(name))  # fmt: skip
    return queries


def assert_store_matches_warehouse() -> None:
    expected = recount()
    assert len(expected) > 0
    pd.testing.assert_frame_equal(stored(), expected)


def test_a_day_round_trips_through_its_stored_bytes():
    counts = [float(i % 7) for i in range(len(history.count_columns()))]
    frame = history.decode([{"_id": 42, "d": {"19700": history.encode(counts)}}])
    assert frame[["player_id", "day"]].values.tolist() == [[42, 19700]]
    assert frame[history.count_columns()].iloc[0].tolist() == counts
    with pytest.raises(ValueError, match="within"):
        history.encode([70_000.0] * len(history.count_columns()))


def test_serving_s_histories_are_the_ones_built_from_the_decoded_counts(tmp_path):
    """``history.histories`` (serving's cold path, no DataFrame) builds what ``from_daily_counts`` builds."""
    rows = list(generate_rows(games=4, seed=5))
    shots_import_file(location=str(write_csv(tmp_path / "season.csv", rows, NBA_COM_COLUMNS)), batch_size=80)
    documents = list(mongo.warehouse_collection(mongo.SHOOTER_HISTORY).find({"_id": {"$ne": history.STATE_ID}}))
    built = history.histories(documents)
    assert len(built) == len(documents) > 5
    for document in documents:
        expected = PlayerHistory.from_daily_counts(history.decode([document]))
        got = built[int(document["_id"])]
        assert got.keys.tolist() == expected.keys.tolist()
        assert got.attempts.tolist() == expected.attempts.tolist()
        assert got.makes.tolist() == expected.makes.tolist()
        assert got.last_day == expected.last_day
    assert history.histories([{"_id": 1, "d": {}}]) == {}


def test_imported_shots_reach_the_store_and_a_reimport_counts_nothing_twice(tmp_path):
    rows = list(generate_rows(games=3, seed=11))
    season = write_csv(tmp_path / "season.csv", rows, NBA_COM_COLUMNS)

    shots_import_file(location=str(season), batch_size=50)
    assert_store_matches_warehouse()
    first = stored()

    _run, again = shots_import_file(location=str(season), batch_size=37)  # other batch boundaries
    assert again.inserted == 0
    pd.testing.assert_frame_equal(stored(), first)


def feed_records(folder, *, games: int, seed: int) -> list[dict[str, str]]:
    """Generated shots as the replay feed sends them."""
    season = write_csv(folder / f"feed-{seed}.csv", list(generate_rows(games=games, seed=seed)), NBA_COM_COLUMNS)
    return [to_feed_record(r.shot.to_document()) for r in iter_mapped(season) if r.shot]


def test_transformed_feed_batches_reach_the_store_once_even_when_received_twice(tmp_path):
    records = feed_records(tmp_path, games=2, seed=3)
    lake_receive(records=records[:150], source="feed:test", run_id=None)
    lake_transform_pending()
    assert_store_matches_warehouse()

    lake_receive(records=records[100:], source="feed:test", run_id=None)  # overlaps the first batch
    lake_transform_pending()
    assert_store_matches_warehouse()
    assert int(stored()["attempts_all"].sum()) == mongo.warehouse_collection(mongo.SHOTS).count_documents({})


def test_a_corrected_shot_moves_its_counts_to_its_new_day_and_group(tmp_path):
    rows = nba_com_game("22300001", 6) + nba_com_game("22300002", 4, date="11-05-2023")
    shots_import_file(location=str(write_csv(tmp_path / "v1.csv", rows)))
    before = stored()
    fixed = [dict(r) for r in rows]
    # The whole of one shot's facts change: made, action and date (its day is left with none).
    fixed[0].update(SHOT_MADE="TRUE" if rows[0]["SHOT_MADE"] == "FALSE" else "FALSE", ACTION_TYPE="Driving Layup Shot")
    for row in fixed[:6]:
        row["GAME_DATE"] = "11-04-2023"

    _run, report = shots_import_file(location=str(write_csv(tmp_path / "v2.csv", fixed)))

    assert report.corrected == 6
    assert_store_matches_warehouse()
    after = stored()
    assert sorted(after["day"]) != sorted(before["day"])  # 2023-11-03 gone, 2023-11-04 there
    assert after["attempts_all"].sum() == before["attempts_all"].sum() == 10
    assert after["attempts_action_layup"].sum() == before["attempts_action_layup"].sum() + 1


def test_the_backfill_builds_the_store_of_a_warehouse_filled_before_it(tmp_path):
    shots_import_file(location=str(write_csv(tmp_path / "season.csv", list(generate_rows(games=2, seed=4)),
                                             NBA_COM_COLUMNS)))  # fmt: skip
    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
    store.delete_many({})  # as if the shots were there before the store existed
    store.insert_one({"_id": 999_999, "d": {"19000": history.encode([1.0] * len(history.count_columns()))}})
    assert not history.history_built()

    done = history.history_backfill()
    again = history.history_backfill()

    assert history.history_built()
    assert done == again
    assert done["shots"] == mongo.warehouse_collection(mongo.SHOTS).count_documents({})
    assert store.find_one({"_id": 999_999}) is None  # a player no longer in the warehouse
    assert_store_matches_warehouse()


def test_refreshing_reads_only_the_games_of_the_touched_players_and_days(monkeypatch, tmp_path):
    records = feed_records(tmp_path, games=2, seed=9)
    lake_receive(records=records, source="feed:test", run_id=None)
    lake_transform_pending()
    expected = stored()
    player, day = (int(x) for x in expected[["player_id", "day"]].iloc[0].tolist())
    games = mongo.warehouse_collection(mongo.SHOTS).distinct(
        "game_id", {"player_id": player, "game_date": history.day_midnight(day)})
    assert len(games) == 1
    queries = spy_on_shot_reads(monkeypatch)
    assert history.history_refresh(player_days=[(player, day)]) == 1
    # By game (an index lookup on MongoDB and on the stand-in), never by date (a scan on the stand-in).
    assert queries == [{"game_id": games[0]}]
    monkeypatch.undo()
    pd.testing.assert_frame_equal(stored(), expected)


def test_many_shooters_of_one_day_are_recounted_from_one_read_of_each_game(monkeypatch, tmp_path):
    records = feed_records(tmp_path, games=2, seed=9)
    lake_receive(records=records, source="feed:test", run_id=None)
    lake_transform_pending()
    expected = stored()
    days = expected.groupby("day")["player_id"].apply(list)
    day = int(days.index[0])
    players = [int(p) for p in days.iloc[0]]
    assert len(players) >= 4
    store = mongo.warehouse_collection(mongo.SHOOTER_HISTORY)
    for player in players:  # forget that day's counts: the recount must bring them back exactly
        store.update_one({"_id": player}, {"$unset": {f"d.{day}": ""}})
    games = mongo.warehouse_collection(mongo.SHOTS).distinct("game_id", {"game_date": history.day_midnight(day)})
    queries = spy_on_shot_reads(monkeypatch)
    assert history.history_refresh(player_days=[(p, day) for p in players]) == len(players)
    assert sorted(q["game_id"] for q in queries) == sorted(games)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(stored(), expected)


def test_a_player_in_two_games_of_one_day_is_counted_whole(tmp_path):
    """No NBA schedule has it, a messy file might: each game's import recounts the day from both games."""
    first, second = nba_com_game("22300001", 6), nba_com_game("22300002", 4)  # one shooter, one date
    shots_import_file(location=str(write_csv(tmp_path / "a.csv", first)))
    shots_import_file(location=str(write_csv(tmp_path / "b.csv", second)))
    assert_store_matches_warehouse()
    assert int(stored()["attempts_all"].sum()) == 10

    fixed = [dict(r) for r in first]
    fixed[0]["SHOT_MADE"] = "TRUE" if first[0]["SHOT_MADE"] == "FALSE" else "FALSE"
    _run, report = shots_import_file(location=str(write_csv(tmp_path / "a2.csv", fixed)))
    assert report.corrected == 1
    assert_store_matches_warehouse()
    assert int(stored()["attempts_all"].sum()) == 10


def test_a_day_the_store_knows_no_game_of_is_read_by_player_and_date(monkeypatch, tmp_path):
    records = feed_records(tmp_path, games=1, seed=9)
    lake_receive(records=records, source="feed:test", run_id=None)
    lake_transform_pending()
    expected = stored()
    player, day = (int(x) for x in expected[["player_id", "day"]].iloc[0].tolist())
    # A store written before games were recorded: the day's entry has counts but no games.
    mongo.warehouse_collection(mongo.SHOOTER_HISTORY).update_one({"_id": player}, {"$unset": {f"g.{day}": ""}})
    queries = spy_on_shot_reads(monkeypatch)
    assert history.history_refresh(player_days=[(player, day)]) == 1
    assert queries == [{"player_id": player, "game_date": history.day_midnight(day)}]
    monkeypatch.undo()
    pd.testing.assert_frame_equal(stored(), expected)
