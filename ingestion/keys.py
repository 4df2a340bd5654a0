"""Moving warehouse shots from the old ``game_id:event_id`` keys to ``shot_key`` identities.

Idempotent and safe to interrupt: a game's shots are re-keyed by inserting the documents
under their new keys (an existing one is a duplicate, not an error), then deleting the old
ones; a re-run finds nothing left to move, or finishes what a killed run began. Exact
copies that the old importer stored twice (a repeated row of a file) become one shot. The
prediction log and the live stream's shots that named an old key are pointed at the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ingestion import lake
from ingestion.shots import clock_order, shot_key
from parivision import mongo


@dataclass
class KeyMigrationReport:
    games: int = 0
    examined: int = 0
    rekeyed: int = 0
    merged: int = 0  # exact copies folded into one shot
    unchanged: int = 0
    predictions_repointed: int = 0
    live_shots_repointed: int = 0
    mapping: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if k != "mapping"}


def _games() -> Iterator[list[dict[str, Any]]]:
    """The warehouse's shots one game at a time, in (game, event id) order."""
    current: list[dict[str, Any]] = []
    for doc in lake.iter_shots(sort=(("game_id", 1), ("event_id", 1), ("_id", 1))):
        if current and doc["game_id"] != current[0]["game_id"]:
            yield current
            current = []
        current.append(doc)
    if current:
        yield current


def new_keys_of_game(docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, bool]]:
    """(document, its new key, is an exact copy of an earlier one) for one game's shots."""
    seen: dict[str, list[dict[str, Any]]] = {}
    out = []
    for doc in docs:
        base = shot_key(game_id=doc["game_id"], period=int(doc["period"]), seconds_left=int(doc["seconds_left"]),
                        player_id=int(doc["player_id"]), x_ft=float(doc["x_ft"]), y_ft=float(doc["y_ft"]))  # fmt: skip
        group = seen.setdefault(base, [])
        for index, earlier in enumerate(group):
            if not lake.content_changes(earlier, doc):
                out.append((doc, base if index == 0 else f"{base}:{index + 1}", True))
                break
        else:
            group.append(doc)
            repeat = len(group)
            out.append((doc, base if repeat == 1 else f"{base}:{repeat}", False))
    return out


def shot_keys_migrate(*, progress: Callable[[KeyMigrationReport], None] | None = None) -> KeyMigrationReport:
    """Re-key every warehouse shot whose ``_id`` is not its ``shot_key`` (see the module docstring)."""
    mongo.ensure_indexes()  # drops the old unique (game_id, event_id) index
    shots = mongo.warehouse_collection(mongo.SHOTS)
    report = KeyMigrationReport()
    for docs in _games():
        report.games += 1
        report.examined += len(docs)
        moved: list[dict[str, Any]] = []
        gone: list[str] = []
        for doc, key, copy in new_keys_of_game(docs):
            if doc["_id"] == key and not copy:
                report.unchanged += 1
                continue
            if copy:
                report.merged += 1
            else:
                report.rekeyed += 1
                repeat = int(key.rsplit(":", 1)[1]) if key.count(":") == 6 else 1
                replacement = {**doc, "_id": key, "repeat": repeat}
                if doc.get("position") is not None:  # NBA.com format: its old event id was the file order
                    replacement["event_id"] = clock_order(int(doc["period"]), int(doc["seconds_left"]), repeat)
                moved.append(replacement)
            if doc["_id"] != key:
                gone.append(doc["_id"])
                report.mapping[doc["_id"]] = key
        lake.insert_shots(moved)
        if gone:
            shots.delete_many({"_id": {"$in": gone}})
        if progress is not None:
            progress(report)
    _repoint_consumers(report)
    return report


def _repoint_consumers(report: KeyMigrationReport) -> None:
    if not report.mapping:
        return
    # The log names a shot by "key": a bundle's array or a single prediction's string (predictions.log).
    predictions = mongo.warehouse_collection(mongo.PREDICTIONS)
    old_keys = list(report.mapping)
    for start in range(0, len(old_keys), 1_000):
        for document in predictions.find({"key": {"$in": old_keys[start:start + 1_000]}}, {"key": 1}):
            keys = document["key"]
            if isinstance(keys, list):
                moved = [report.mapping.get(str(k), k) if k is not None else None for k in keys]
                changed = sum(1 for a, b in zip(keys, moved, strict=True) if a != b)
            else:
                moved, changed = report.mapping.get(str(keys), keys), int(str(keys) in report.mapping)
            if changed and predictions.update_one({"_id": document["_id"]}, {"$set": {"key": moved}}).modified_count:
                report.predictions_repointed += changed
    from betting.models import LiveShot

    for live in LiveShot.objects.filter(shot_key__in=list(report.mapping)).only("pk", "shot_key"):
        LiveShot.objects.filter(pk=live.pk).update(shot_key=report.mapping[live.shot_key])
        report.live_shots_repointed += 1
