"""Measure how well the real seasons agree with the court geometry, and how shots collide on
their identity. The figures behind ``ingestion.court``'s tolerances and the shot key.

    .venv/bin/python bench/geometry.py ../shared/data        # every season + the 1997-2020 sample

Reads the files as published (no mapping, no validation): for every row it compares
SHOT_DISTANCE with the distance of LOC_X/LOC_Y, the zone labels with the labels of the
location (and how far one has to move the location to reach the given label), the shot
type with the zone; then counts identity collisions (same game, period, clock, player and
location) and exact repeated rows, and matches the 1997-2020 sample against the NBA.com
seasons it overlaps. Prints a table per file, then one line of JSON. Nothing is written.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import math
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingestion import court

MOVES_FT = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 10.0)


def rows_of(path: Path) -> Iterator[dict[str, str]]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".csv") and not n.startswith("__MACOSX"))
            with archive.open(name) as raw:
                yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)


def move_needed(x: float, y: float, index: int, label: str) -> float:
    """The smallest probe radius at which some point around (x, y) carries ``label`` (inf: none)."""
    for radius in MOVES_FT:
        if any(zone[index] == label for zone in court._labels_near(x, y, radius)):
            return radius
    return math.inf


def canonical(row: dict[str, str]) -> dict[str, Any]:
    if "LOC_X" in row:
        return {
            "game": row["GAME_ID"].zfill(10), "period": int(row["QUARTER"]),
            "clock": int(row["MINS_LEFT"]) * 60 + int(row["SECS_LEFT"]), "player": int(row["PLAYER_ID"]),
            "x": -float(row["LOC_X"]), "y": float(row["LOC_Y"]) - court.HOOP_FROM_BASELINE_FT,
            "distance": float(row["SHOT_DISTANCE"]), "basic": row["BASIC_ZONE"], "area": row["ZONE_NAME"],
            "range": row["ZONE_RANGE"], "type": row["SHOT_TYPE"].split()[0], "made": row["SHOT_MADE"].upper() == "TRUE",
            "action": row["ACTION_TYPE"],
        }
    return {
        "game": row["Game ID"].zfill(10), "period": int(row["Period"]),
        "clock": int(row["Minutes Remaining"]) * 60 + int(row["Seconds Remaining"]), "player": int(row["Player ID"]),
        "x": float(row["X Location"]) / 10, "y": float(row["Y Location"]) / 10,
        "distance": float(row["Shot Distance"]), "basic": row["Shot Zone Basic"],
        "area": row["Shot Zone Area"].split("(")[0], "range": row["Shot Zone Range"],
        "type": row["Shot Type"].split()[0], "made": row["Shot Made Flag"] == "1", "action": row["Action Type"],
    }  # fmt: skip


def identity(shot: dict[str, Any]) -> tuple[Any, ...]:
    return (shot["game"], shot["period"], shot["clock"], shot["player"], court.tenths(shot["x"]), court.tenths(shot["y"]))


def measure(path: Path, sample_keys: dict[tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
    rows = 0
    residual: collections.Counter[int] = collections.Counter()  # SHOT_DISTANCE - floor(distance of the location), in feet
    moves: dict[str, collections.Counter[float]] = {
        k: collections.Counter() for k in ("basic", "area", "range", "type")
    }
    type_vs_zone = 0
    flagged: collections.Counter[str] = collections.Counter()
    identities: collections.Counter[tuple[Any, ...]] = collections.Counter()
    exact: collections.Counter[tuple[Any, ...]] = collections.Counter()
    in_season = 0
    fields_differing: collections.Counter[str] = collections.Counter()
    for row in rows_of(path):
        rows += 1
        shot = canonical(row)
        x, y = shot["x"], shot["y"]
        residual[int(shot["distance"] - court.distance_of(x, y))] += 1
        here = court.zone_of(x, y)
        for name, index in (("basic", 0), ("area", 1), ("range", 3), ("type", 4)):
            label = f"{shot[name]} Field Goal" if name == "type" else shot[name]
            moves[name][0.0 if here[index] == label else move_needed(x, y, index, label)] += 1
        if court.shot_type_of(shot["basic"]) != shot["type"]:
            type_vs_zone += 1
        for found in court.contradictions(x_ft=x, y_ft=y, distance_ft=shot["distance"], zone_basic=shot["basic"],
                                          zone_area=shot["area"], zone_range=shot["range"], shot_type=shot["type"]):
            flagged[found.field] += 1
        key = identity(shot)
        identities[key] += 1
        exact[tuple(sorted(row.items()))] += 1
        twin = sample_keys.get(key)
        if twin is not None:
            in_season += 1
            for name in ("made", "action", "type", "basic", "area", "range", "distance"):
                if twin[name] != shot[name]:
                    fields_differing[name] += 1
    repeats = sum(n - 1 for n in identities.values() if n > 1)
    exact_repeats = sum(n - 1 for n in exact.values() if n > 1)
    return {
        "file": path.name,
        "rows": rows,
        "distance_residual_ft": dict(sorted(residual.items())),
        "zone_move_needed_ft": {k: {str(m): c for m, c in sorted(v.items())} for k, v in moves.items()},
        "shot_type_vs_zone_basic_mismatches": type_vs_zone,
        "flagged_by_rule": dict(flagged),
        "flagged_rows_share": sum(flagged.values()) / rows if rows else 0.0,
        "identity_repeats": repeats,
        "exact_repeated_rows": exact_repeats,
        "overlap_with_1997_2020_sample": {"sample_shots_in_season": in_season,
                                          "fields_differing": dict(fields_differing)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    sample = args.data_dir / "shot_locations_1997_2020_sample.csv"
    sample_keys = {identity(canonical(r)): canonical(r) for r in rows_of(sample)} if sample.exists() else {}
    results = [measure(sample, {})] if sample.exists() else []
    for path in sorted((args.data_dir / "nba_shots").glob("NBA_*_Shots.csv.zip")):
        result = measure(path, sample_keys)
        results.append(result)
        print(json.dumps(result), flush=True)
    total = sum(r["rows"] for r in results)
    summary = {
        "files": len(results),
        "rows": total,
        "flagged_rows": sum(sum(r["flagged_by_rule"].values()) for r in results),
        "distance_residual_outside_0": sum(
            c for r in results for k, c in r["distance_residual_ft"].items() if k != 0
        ),
        "zone_labels_needing_a_move_ft": {
            name: dict(sum((collections.Counter(r["zone_move_needed_ft"][name]) for r in results),
                           collections.Counter()))
            for name in ("basic", "area", "range", "type")
        },
        "shot_type_vs_zone_basic_mismatches": sum(r["shot_type_vs_zone_basic_mismatches"] for r in results),
        "identity_repeats": sum(r["identity_repeats"] for r in results),
        "exact_repeated_rows": sum(r["exact_repeated_rows"] for r in results),
        "sample_shots_found_in_seasons": sum(r["overlap_with_1997_2020_sample"]["sample_shots_in_season"]
                                             for r in results),
        "tolerances": {"distance_ft": court.DISTANCE_TOLERANCE_FT, "zone_ft": court.ZONE_TOLERANCE_FT},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
