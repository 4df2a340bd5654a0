"""Messy real-world files: other coordinate conventions, one identity per shot, corrections,
files that fail cleanly. Every fixture is written by the test (from the synthetic generator)."""

from __future__ import annotations

import csv
import http.server
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest

from ingestion import lake
from ingestion.conventions import ConventionError
from ingestion.generator import generate_rows
from ingestion.keys import shot_keys_migrate
from ingestion.mappers import NBA_COM_COLUMNS, SHOT_LOCATIONS_COLUMNS, to_feed_record
from ingestion.models import IngestionRun
from ingestion.readers import FileRefused, iter_mapped
from ingestion.services import shots_import_file
from parivision import mongo
from tests.factories import write_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]


def game_rows(games: int = 2, seed: int = 5) -> list[dict[str, str]]:
    return list(generate_rows(games=games, seed=seed))


def warehouse() -> list[dict]:
    return list(mongo.warehouse_collection(mongo.SHOTS).find())


def nothing_written() -> bool:
    return not warehouse() and lake.count(mongo.RAW_SHOTS, warehouse=False) == 0 and not list(
        mongo.lake_collection(mongo.QUARANTINE).find()
    )


def usual_keys(rows: list[dict[str, str]], tmp_path: Path) -> set[str]:
    path = write_csv(tmp_path / "usual.csv", rows, NBA_COM_COLUMNS)
    return {r.shot.key for r in iter_mapped(path) if r.shot is not None}


def _fmt(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


# --- coordinate conventions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "convert"),
    [
        # The old stats API: tenths of a foot from the hoop, x not mirrored.
        ("tenths of a foot, origin at the hoop, x < 0 is the Left Side",
         lambda x, y: (-x * 10, (y - 5.25) * 10)),
        ("feet, origin at the hoop, x > 0 is the Left Side", lambda x, y: (x, y - 5.25)),
        ("hundredths of a foot, origin at the baseline, x < 0 is the Left Side", lambda x, y: (-x * 100, y * 100)),
    ],
)  # fmt: skip
def test_a_file_in_another_convention_is_detected_converted_and_recorded(tmp_path, label, convert):
    rows = game_rows()
    expected = usual_keys(rows, tmp_path)
    other = []
    for row in rows:
        x, y = convert(float(row["LOC_X"]), float(row["LOC_Y"]))
        other.append({**row, "LOC_X": _fmt(x), "LOC_Y": _fmt(y)})
    path = write_csv(tmp_path / "other.csv", other, NBA_COM_COLUMNS)

    run, report = shots_import_file(location=str(path))

    assert report.rejected == 0
    assert report.inserted == len(expected)
    assert {doc["_id"] for doc in warehouse()} == expected  # the same shots, the same identities
    run.refresh_from_db()
    assert run.convention["convention"]["label"] == label
    assert run.convention["convention"]["fit"] == 1.0
    assert report.as_dict()["convention"]["convention"]["label"] == label


def test_a_file_no_convention_explains_is_refused_whole_with_nothing_written(tmp_path):
    rows = game_rows()
    # The file: every location squeezed to within 10 ft of the hoop, the distances intact.
    squeezed = [{**row, "LOC_X": _fmt(float(row["LOC_X"]) / 3.7), "LOC_Y": _fmt(float(row["LOC_Y"]) / 3.7)}
                for row in rows]  # fmt: skip
    path = write_csv(tmp_path / "squeezed.csv", squeezed, NBA_COM_COLUMNS)

    with pytest.raises(ConventionError, match=r"squeezed\.csv: no coordinate convention explains the locations"):
        shots_import_file(location=str(path))

    assert nothing_written()
    run = IngestionRun.objects.get()
    assert run.status == IngestionRun.Status.FAILED
    assert "nothing was written" in run.error


def test_the_1997_2020_format_in_feet_from_the_baseline_is_converted(tmp_path):
    shots = [r.shot for r in iter_mapped(write_csv(tmp_path / "u.csv", game_rows(), NBA_COM_COLUMNS)) if r.shot]
    records = [to_feed_record(s.to_document()) for s in shots]
    for record, shot in zip(records, shots, strict=True):
        record["X Location"] = _fmt(shot.x_ft)
        record["Y Location"] = _fmt(shot.y_ft + 5.25)
    path = write_csv(tmp_path / "feet.csv", records, SHOT_LOCATIONS_COLUMNS)

    run, report = shots_import_file(location=str(path))

    assert (report.inserted, report.rejected) == (len(shots), 0)
    assert {d["_id"] for d in warehouse()} == {s.key for s in shots}
    assert run.convention["convention"]["origin"] == "baseline"


# --- one identity per shot --------------------------------------------------------------------


def test_a_game_split_across_two_files_is_stored_once_whole(tmp_path):
    rows = game_rows(games=1)
    half = len(rows) // 2
    first = write_csv(tmp_path / "first.csv", rows[:half], NBA_COM_COLUMNS)
    second = write_csv(tmp_path / "second.csv", rows[half:], NBA_COM_COLUMNS)

    _run, one = shots_import_file(location=str(first))
    _run, two = shots_import_file(location=str(second))
    _run, again = shots_import_file(location=str(second))

    assert (one.inserted, two.inserted, two.duplicates) == (half, len(rows) - half, 0)
    assert (again.inserted, again.duplicates) == (0, len(rows) - half)
    assert len(warehouse()) == len(rows)


def test_an_exact_repeated_row_is_one_shot_and_a_same_second_repeat_is_two(tmp_path):
    rows = game_rows(games=1)
    tip = {**rows[10], "ACTION_TYPE": "Tip Layup Shot", "SHOT_MADE": "TRUE", "EVENT_TYPE": "Made Shot"}
    rows = [*rows[:11], dict(rows[10]), tip, *rows[11:]]  # an exact copy of row 10, then a tip-in
    path = write_csv(tmp_path / "repeats.csv", rows, NBA_COM_COLUMNS)

    _run, report = shots_import_file(location=str(path))

    assert (report.read, report.inserted, report.duplicates) == (len(rows), len(rows) - 1, 1)
    stored = {d["_id"]: d for d in warehouse()}
    assert len(stored) == len(rows) - 1
    first = next(iter_mapped(write_csv(tmp_path / "one.csv", [rows[10]], NBA_COM_COLUMNS))).shot
    assert first is not None
    assert stored[f"{first.key}:2"]["action_type"] == "Tip Layup Shot"
    assert stored[f"{first.key}:2"]["repeat"] == 2


def test_an_overlapping_season_from_both_formats_is_stored_once(tmp_path):
    nba_path = write_csv(tmp_path / "nba.csv", game_rows(), NBA_COM_COLUMNS)
    shots = [r.shot for r in iter_mapped(nba_path) if r.shot]
    records = [to_feed_record(s.to_document()) for s in shots]
    for event, record in enumerate(records, start=1):
        record["Game Event ID"] = str(event * 3)  # the real format's own event ids
    old_path = write_csv(tmp_path / "shot_locations.csv", records, SHOT_LOCATIONS_COLUMNS)

    _run, first = shots_import_file(location=str(old_path))
    _run, second = shots_import_file(location=str(nba_path))

    assert first.inserted == len(shots)
    assert (second.inserted, second.duplicates, second.corrected) == (0, len(shots), 0)
    assert len(warehouse()) == len(shots)
    assert all(doc["position"] for doc in warehouse())  # completed from the NBA.com file


def test_a_corrected_row_updates_the_stored_shot_and_is_audited(tmp_path):
    rows = game_rows(games=1)
    shots_import_file(location=str(write_csv(tmp_path / "v1.csv", rows, NBA_COM_COLUMNS)))
    fixed = [dict(r) for r in rows]
    fixed[5]["SHOT_MADE"] = "TRUE" if rows[5]["SHOT_MADE"] == "FALSE" else "FALSE"
    fixed[5]["ACTION_TYPE"] = "Pullup Jump Shot"
    v2 = write_csv(tmp_path / "v2.csv", fixed, NBA_COM_COLUMNS)

    run, report = shots_import_file(location=str(v2))
    _run, again = shots_import_file(location=str(v2))

    assert (report.inserted, report.corrected, report.duplicates) == (0, 1, len(rows) - 1)
    assert (again.corrected, again.duplicates) == (0, len(rows))
    key = next(iter_mapped(write_csv(tmp_path / "one.csv", [fixed[5]], NBA_COM_COLUMNS))).shot.key
    doc = mongo.warehouse_collection(mongo.SHOTS).find_one({"_id": key})
    assert doc["made"] is (fixed[5]["SHOT_MADE"] == "TRUE")
    assert doc["action_type"] == "Pullup Jump Shot"
    audits = list(mongo.lake_collection(lake.CORRECTIONS).find())
    assert len(audits) == 1
    assert audits[0]["shot_key"] == key
    assert set(audits[0]["changes"]) == {"made", "action_type"}
    assert audits[0]["run_id"] == run.pk
    assert len(warehouse()) == len(rows)


def test_old_event_id_keys_are_migrated_idempotently(tmp_path):
    rows = game_rows(games=1)
    path = write_csv(tmp_path / "g.csv", rows, NBA_COM_COLUMNS)
    docs = [r.shot.to_document() for r in iter_mapped(path) if r.shot]
    old = []
    for order, doc in enumerate(docs, start=1):  # what the old importer stored: game:order-in-file
        old.append({**doc, "_id": f"{doc['game_id']}:{order}", "event_id": order})
    old.append({**old[3], "_id": f"{docs[0]['game_id']}:{len(docs) + 1}", "event_id": len(docs) + 1})  # a repeated row
    shots = mongo.warehouse_collection(mongo.SHOTS)
    shots.insert_many(old)
    mongo.warehouse_collection(mongo.PREDICTIONS).insert_one({"key": old[7]["_id"], "settled": False})

    report = shot_keys_migrate()
    again = shot_keys_migrate()

    assert (report.rekeyed, report.merged, report.predictions_repointed) == (len(docs), 1, 1)
    assert (again.rekeyed, again.merged, again.unchanged) == (0, 0, len(docs))
    assert {d["_id"] for d in shots.find()} == {d["_id"] for d in docs}
    logged = mongo.warehouse_collection(mongo.PREDICTIONS).find_one()
    assert logged["key"] == docs[7]["_id"]


# --- files fail cleanly -----------------------------------------------------------------------


def _zip(path: Path, rows: list[dict[str, str]]) -> Path:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(NBA_COM_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("season.csv", text.getvalue())
    return path


def test_a_zip_with_a_bad_crc_in_the_middle_is_refused_before_any_write(tmp_path):
    path = _zip(tmp_path / "crc.zip", game_rows(games=3))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = ord("7") if data[middle] != ord("7") else ord("8")  # one digit flipped: the CRC fails
    path.write_bytes(bytes(data))

    with pytest.raises(FileRefused, match=r"crc\.zip: the zip is corrupt \(Bad CRC-32"):
        shots_import_file(location=str(path))
    assert nothing_written()
    run = IngestionRun.objects.get()
    assert (run.status, run.read, run.inserted) == (IngestionRun.Status.FAILED, 0, 0)


def test_a_truncated_zip_is_refused_naming_the_file(tmp_path):
    path = _zip(tmp_path / "cut.zip", game_rows(games=1))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(FileRefused, match=r"cut\.zip: is a damaged zip"):
        shots_import_file(location=str(path))
    assert nothing_written()


def test_a_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    with pytest.raises(FileRefused, match=r"photo\.csv: is not UTF-8 text .*not a CSV"):
        shots_import_file(location=str(path))
    assert nothing_written()


def test_a_csv_with_an_unknown_header_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(FileRefused, match=r"other\.csv: not a shot file: columns match neither"):
        shots_import_file(location=str(path))
    assert nothing_written()


def test_a_zip_with_two_csv_files_is_refused_naming_them(tmp_path):
    path = _zip(tmp_path / "two.zip", game_rows(games=1))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("more.csv", "GAME_ID\n1\n")
    with pytest.raises(FileRefused, match=r"two\.zip: the zip holds 2 CSV files \(season\.csv, more\.csv\): "
                                          r"import one file at a time"):
        shots_import_file(location=str(path))
    assert nothing_written()


def test_a_header_naming_a_column_twice_is_refused(tmp_path):
    rows = game_rows(games=1)
    path = tmp_path / "twice.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*NBA_COM_COLUMNS, "SHOT_MADE"])
        writer.writerows([[row[c] for c in NBA_COM_COLUMNS] + ["FALSE"] for row in rows])
    with pytest.raises(FileRefused, match=r"twice\.csv: the header names SHOT_MADE more than once"):
        shots_import_file(location=str(path))
    assert nothing_written()


def test_a_control_character_in_an_optional_field_refuses_the_row_not_the_file(tmp_path):
    rows = game_rows(games=1)
    rows[4]["POSITION"] = "S\x00G"
    rows[6]["PLAYER_NAME"] = "Bad\x1bName"
    _run, report = shots_import_file(location=str(write_csv(tmp_path / "nul.csv", rows, NBA_COM_COLUMNS)))
    assert (report.inserted, report.rejected) == (len(rows) - 2, 2)
    assert report.rejected_by_reason == {"POSITION: contains a control character": 1,
                                         "PLAYER_NAME: contains a control character": 1}  # fmt: skip
    assert not any("\x00" in str(doc.get("position")) for doc in warehouse())


def test_a_contradicting_row_is_quarantined_naming_the_fields(tmp_path):
    rows = game_rows(games=1)
    three = next(i for i, r in enumerate(rows) if r["BASIC_ZONE"] == "Above the Break 3")
    rows[three] = {**rows[three], "LOC_X": "0", "LOC_Y": "9.15"}  # a 25-ft three placed 3.9 ft from the rim
    _run, report = shots_import_file(location=str(write_csv(tmp_path / "x.csv", rows, NBA_COM_COLUMNS)))
    assert report.rejected == 1
    (entry,) = mongo.lake_collection(mongo.QUARANTINE).find()
    assert entry["field"] == "distance_ft/x_ft/y_ft"
    assert "the location is 3.9 ft from the hoop" in entry["message"]


class _Drip(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(100):
            try:
                self.wfile.write(b"S")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.3)

    def log_message(self, *args: object) -> None:
        pass


def test_a_url_that_drips_bytes_is_cut_off_at_the_overall_deadline(settings):
    settings.INGEST_URL_DEADLINE_S = 2
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(FileRefused, match=r"did not finish within 2 s"):
            shots_import_file(location=f"http://127.0.0.1:{server.server_port}/season.csv")
    finally:
        server.shutdown()
    assert time.monotonic() - started < 10
    run = IngestionRun.objects.get()
    assert run.status == IngestionRun.Status.FAILED
    assert nothing_written()
