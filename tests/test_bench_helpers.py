"""The benchmarks' shared helpers (bench/common.py) and bench/scale.py's pure parts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench.common import api_body, machine_load, percentile
from bench.scale import season_files, season_of


def test_percentile_picks_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51.0  # round(0.5 * 99) = 50 -> the 51st value
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.95) == 3.0


def test_machine_load_reports_the_cores_and_the_three_averages() -> None:
    load = machine_load()
    assert load["cores"] >= 1
    assert set(load) == {"cores", "loadavg_1m", "loadavg_5m", "loadavg_15m"}
    assert all(load[k] >= 0 for k in ("loadavg_1m", "loadavg_5m", "loadavg_15m"))


def test_a_warehouse_shot_becomes_a_prediction_body_the_api_accepts() -> None:
    from predictions.api import ShotInputSerializer

    doc = {"player_id": 201939, "game_date": dt.datetime(2024, 3, 1), "period": 3, "seconds_left": 312,
           "action_type": "Pullup Jump shot", "shot_type": "3PT", "x_ft": 1.2, "y_ft": 25.9,
           "is_home": False, "season_type": "Regular Season", "position": None, "game_id": "0022300777"}  # fmt: skip
    body = api_body(doc)
    assert body["game_date"] == "2024-03-01"
    assert body["home_away"] == "away"
    assert body["position"] == "NA"
    serializer = ShotInputSerializer(data=body)
    assert serializer.is_valid(), serializer.errors


def test_season_files_are_found_in_the_folder_or_its_nba_shots(tmp_path: Path) -> None:
    (tmp_path / "nba_shots").mkdir()
    for year in (2024, 2004):
        (tmp_path / "nba_shots" / f"NBA_{year}_Shots.csv.zip").write_bytes(b"")
    names = [p.name for p in season_files(tmp_path)]
    assert names == ["NBA_2004_Shots.csv.zip", "NBA_2024_Shots.csv.zip"]
    assert season_files(tmp_path / "nba_shots") == season_files(tmp_path)
    with pytest.raises(SystemExit, match="no NBA_"):
        season_files(tmp_path / "nowhere")
    assert season_of(Path("NBA_2024_Shots.csv.zip")) == "2023-24"
    assert season_of(Path("NBA_2000_Shots.csv.zip")) == "1999-00"


def test_the_scale_bench_picks_distinct_shooters_from_the_newest_season_first(real_data_dir: Path) -> None:
    from bench.scale import shooters
    from predictions.api import ShotInputSerializer

    files = season_files(real_data_dir)
    bodies = shooters(50, files)
    assert len(bodies) == 50
    assert len({b["player_id"] for b in bodies}) == 50
    assert all(b["game_date"] >= "2023-10-01" for b in bodies)  # NBA_2024: the 2023-24 season
    assert all(ShotInputSerializer(data=b).is_valid() for b in bodies)
    with pytest.raises(SystemExit, match="the bench needs"):
        shooters(10**6, files[:1])


def test_the_cpu_of_processes_is_read_from_proc_and_counts_every_thread() -> None:
    import os
    import threading
    import time

    from bench.common import processes_cpu_s

    def spin() -> None:
        deadline = time.thread_time() + 0.3
        while time.thread_time() < deadline:
            pass

    user_before, system_before = processes_cpu_s([os.getpid()])
    thread = threading.Thread(target=spin)
    thread.start()
    thread.join()
    user_after, system_after = processes_cpu_s([os.getpid(), 999_999_999])  # a process that is gone counts 0
    assert user_after + system_after - user_before - system_before >= 0.25
    assert system_after >= system_before


def test_the_serving_ratio_is_the_median_of_each_rounds_own_ratio() -> None:
    from bench.serve import paired_ratio

    rounds = [{"mlflow": {"rps": 200.0}, "parivision": {"rps": 700.0}},   # 3.5 (a quiet moment for both)
              {"mlflow": {"rps": 150.0}, "parivision": {"rps": 450.0}},   # 3.0 (a busy one)
              {"mlflow": {"rps": 250.0}, "parivision": {"rps": 500.0}}]   # 2.0
    assert paired_ratio(rounds) == 3.0
    # Not the ratio of the medians (500 / 200 = 2.5): each ratio compares two runs next in time.
    assert paired_ratio(rounds[:2]) == 3.25
    with pytest.raises(ValueError, match="no rounds"):
        paired_ratio([])


class _Counting:
    """A predictions collection whose count grows by ``step`` each time it is read, up to ``final``."""

    def __init__(self, start: int, step: int, final: int) -> None:
        self.count, self.step, self.final = start, step, final

    def find(self, query: dict, projection: dict) -> list[dict]:
        """The run's log documents: one bundle holding every prediction logged so far."""
        assert list(query) == ["_id"]  # only this run's documents: an _id range
        assert list(query["_id"]) == ["$gte"]
        current = self.count
        self.count = min(self.count + self.step, self.final)
        return [{"n": current}] if current else []


def test_the_logged_rate_counts_the_time_the_log_takes_to_catch_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import scale

    monkeypatch.setattr(scale.time, "sleep", lambda _seconds: None)
    clock = iter(float(t) for t in range(100))
    monkeypatch.setattr(scale.time, "perf_counter", lambda: next(clock))
    batch = {"batch_size": 1_000, "batches": 20, "batch_wall_s": 1.0}
    caught = scale.log_catch_up({scale.WAREHOUSE_DB: {"predictions": _Counting(500, 10_000, 20_500)}}, 0.0, 20_500,
                               batch)
    # The clock reads 0 at the start, 1 and 2 while the log is short (500, then 10,500), 3 once it is
    # complete: 3 s behind, 20,000 shots over the 1 s of batches plus the 3 s.
    assert caught == {"log_behind_s": 3.0, "log_complete": True, "batch_logged_shots_per_s": 5_000}

    clock = iter(float(t) for t in range(100))
    never = scale.log_catch_up({scale.WAREHOUSE_DB: {"predictions": _Counting(0, 1, 5)}}, 0.0, 20_500, batch,
                               timeout=5.0)
    assert never["log_complete"] is False
    assert never["batch_logged_shots_per_s"] < 20_000 / 5.0
