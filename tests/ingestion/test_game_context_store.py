"""The game-context store: always each game's warehouse shots, whatever was written, and serving's context
read from it is training's."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ingestion import game_context, history
from ingestion.generator import generate_rows
from ingestion.mappers import NBA_COM_COLUMNS
from ingestion.services import shots_import_file
from parivision import mongo
from predictions.game_context import records_with_game_context
from tests.factories import nba_com_game, write_csv
from training.ml.context import PREVIOUS_SHOTS, with_previous_shots

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


def warehouse_games() -> dict[str, dict[str, list]]:
    """What the store must hold: each game's warehouse shots, as sorted (key, fields) rows."""
    out: dict[str, dict[str, list]] = {}
    for doc in mongo.warehouse_collection(mongo.SHOTS).find({}, dict.fromkeys(game_context.SHOT_FIELDS, 1)):
        out.setdefault(doc["game_id"], {})[doc["_id"]] = [doc.get(f) for f in game_context.SHOT_FIELDS[1:]]
    return {game: dict(sorted(rows.items())) for game, rows in out.items()}


def stored_games() -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    keys = {game_context.key_hash(doc["_id"]): doc["_id"] for doc in mongo.warehouse_collection(mongo.SHOTS).find({}, {"_id": 1})}
    for doc in game_context.collection().find({"_id": {"$ne": game_context.STATE_ID}}):
        rows = game_context.game_rows(doc)
        out[doc["_id"]] = dict(sorted(
            (keys[int(row["key"])], [_value(name, row[name]) for name in game_context.SHOT_FIELDS[1:]]) for row in rows))
    return out


def _value(name: str, stored: int) -> object:
    """A stored field as the warehouse holds it (-1: nothing; made and is_home are booleans)."""
    if stored == -1:
        return None
    return bool(stored) if name in ("made", "is_home") else int(stored)


def test_imports_reimports_and_corrections_keep_each_game_s_document_equal_to_its_shots(tmp_path):
    rows = nba_com_game("22300001", 6) + nba_com_game("22300002", 4, date="11-05-2023")
    shots_import_file(location=str(write_csv(tmp_path / "v1.csv", rows)), batch_size=4)
    assert stored_games() == warehouse_games()
    assert len(stored_games()) == 2
    shots_import_file(location=str(write_csv(tmp_path / "v1.csv", rows)), batch_size=3)  # a re-import
    assert stored_games() == warehouse_games()
    fixed = [dict(r) for r in rows]
    fixed[0]["SHOT_MADE"] = "TRUE" if rows[0]["SHOT_MADE"] == "FALSE" else "FALSE"
    _run, report = shots_import_file(location=str(write_csv(tmp_path / "v2.csv", fixed)))
    assert report.corrected == 1
    assert stored_games() == warehouse_games()  # the corrected outcome, not a second entry
    # Every write of a game counts ("v"): the resident copies re-read only games whose count moved.
    versions = {doc["_id"]: doc["v"] for doc in game_context.collection().find({"_id": {"$ne": game_context.STATE_ID}})}
    corrected_game = fixed[0]["GAME_ID"].rjust(10, "0")
    assert all(v >= 2 for v in versions.values())  # the import and the re-import at least
    assert versions[corrected_game] > min(versions.values())  # the correction wrote its game once more


def test_the_backfill_builds_the_store_for_a_warehouse_filled_before_it(tmp_path):
    shots_import_file(location=str(write_csv(tmp_path / "season.csv", list(generate_rows(games=3, seed=5)),
                                             NBA_COM_COLUMNS)))  # fmt: skip
    game_context.collection().delete_many({})  # as if the shots were there before the store existed
    assert not history.history_built()  # so `shooter_history_backfill --if-missing` runs again
    done = history.history_backfill()
    assert history.history_built()
    assert done["games"] == 3
    assert stored_games() == warehouse_games()


def test_serving_reads_from_the_store_the_context_training_computes(tmp_path):
    shots_import_file(location=str(write_csv(tmp_path / "season.csv", list(generate_rows(games=4, seed=8)),
                                             NBA_COM_COLUMNS)))  # fmt: skip
    frame = pd.DataFrame(list(mongo.warehouse_collection(mongo.SHOTS).find({})))
    expected = with_previous_shots(frame.drop(columns=list(PREVIOUS_SHOTS), errors="ignore"))
    shots = [{"record": {"player_id": row["player_id"], "period": row["period"], "seconds_left": row["seconds_left"],
                         "is_home": row["is_home"], "game_date": dt.datetime(2023, 11, 1)},
              "shot_key": row["_id"], "game_id": row["game_id"], "event_id": None}
             for row in frame.to_dict("records")]  # fmt: skip
    records_with_game_context(shots)
    served = np.array([[shot["record"][name] for name in PREVIOUS_SHOTS] for shot in shots])
    np.testing.assert_array_equal(served, expected[list(PREVIOUS_SHOTS)].to_numpy())
    assert (served[:, 0] == -1).any()
    assert (served[:, 0] == 1).any()
    assert (served[:, 0] == 0).any()
    assert {-1.0, 0.0, 1.0} <= set(served[:, 2].tolist())  # the opponent's too: none yet, made, missed
