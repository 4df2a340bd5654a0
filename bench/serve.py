"""Serving benchmark: the API under gunicorn vs ``mlflow models serve``, same model, same machine.

    .venv/bin/python bench/serve.py [--data-dir ../shared/data] [--tracking-uri URI --model-name NAME]

Trains a champion on a real season (``$PARIVISION_DATA_DIR/nba_shots``, XGBoost, a few
hundred trees) and registers it in a throw-away MLflow store, or serves the ``champion`` of
an existing store. Then, on private services (MongoDB stand-in, Redis, SQLite, all in a
temporary folder), it starts

* PariVision with the production settings: gunicorn, 2 gthread workers, token auth,
  throttling, the prediction log and Prometheus metrics all switched on;
* ``mlflow models serve`` of the same model version (``--env-manager local``, 2 workers), its
  XGBoost pinned to one thread like ours (``n_jobs=1`` in the registered model, ``OMP_NUM_THREADS=1``);

and drives both from 127.0.0.1. The warehouse holds four real seasons (``--seasons``) and the
shooter-history store built from them (``manage.py shooter_history_backfill``); the single
requests are shots of every shooter of one whole season (NBA 2023-24, ~570 shooters), half of
whom are *cold* at the start: measured first, one request each, before anything else touched
them, then the *warm* half at concurrency 1 and 16; concurrency 16 is run ``--c16-rounds`` times
(3) for each server, alternated, and the ratio is the median of the rounds' ratios; batches hold one shot each of 1,000
distinct shooters (from all the seasons), the first one sent while every shooter in it is cold.
The machine's load average (``os.getloadavg``) is recorded next to the figures. The load generator shares the machine's cores with the
servers, so it must cost as little as possible: ``wrk`` (C, one thread, keep-alive, the
request bodies pre-formatted by ``bench/wrk_post.lua``; ``apt-get install wrk``) when it is
installed, else a Python one (asyncio, keep-alive), which costs the servers more CPU
(``--client`` chooses). It prints a table and ends with one line of JSON.

``--shadow`` (issue 14) also registers a second model and, after the usual runs, measures
PariVision again with it serving in shadow (every identified request also scored by it off
the request path), then once more with the shadow stopped, so the figures show what shadow
scoring costs the responses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parivision.settings.local")

SEASON = "NBA_2024_Shots.csv.zip"  # the model is trained on it and the single requests come from it
HISTORY_SEASONS = ("NBA_2008_Shots.csv.zip", "NBA_2016_Shots.csv.zip", "NBA_2023_Shots.csv.zip", SEASON)
MODEL_NAME = "parivision-bench-serve"
SHOTS_PER_SHOOTER = 4  # single requests per shooter of the season
BATCH_SHOOTERS = 1_000  # distinct shooters in a batch


# --- the model -------------------------------------------------------------------------------------


def _key_of(doc: dict[str, Any]) -> str:
    from ingestion.shots import shot_key

    return shot_key(game_id=doc["game_id"], period=int(doc["period"]), seconds_left=int(doc["seconds_left"]),
                    player_id=int(doc["player_id"]), x_ft=float(doc["x_ft"]), y_ft=float(doc["y_ft"]),
                    repeat=int(doc.get("repeat") or 1))  # fmt: skip


def season_frame(path: Path) -> pd.DataFrame:
    from ingestion.readers import iter_mapped
    from training.ml.context import with_previous_shots

    frame = pd.DataFrame([r.shot.to_document() for r in iter_mapped(path) if r.shot])
    frame["game_date"] = pd.to_datetime(frame["game_date"])
    # Each shot's game context as training computes it: what MLflow's records carry (PariVision's
    # requests name the game instead, and the server reads it from the warehouse).
    return with_previous_shots(frame)


def train_and_register(frame: pd.DataFrame, tracking_uri: str, artifacts: str, *, alias: str | None = None,
                       params: dict[str, Any] | None = None) -> str:
    from training.ml.registry import CHAMPION, ModelRegistry, dataset_describe
    from training.ml.split import shots_split_by_date
    from training.ml.train import challengers_train

    split = shots_split_by_date(frame, test_fraction=0.1, validation_fraction=0.1)
    model = challengers_train(train=split.train, validation=split.validation, kinds=("xgboost",),
                              xgboost_params=params or {"n_estimators": 400, "learning_rate": 0.08})["xgboost"]
    registry = ModelRegistry(tracking_uri=tracking_uri, experiment_name="bench-serve", model_name=MODEL_NAME,
                             artifact_location=f"file://{artifacts}")
    records = [{**r, "game_date": r["game_date"].to_pydatetime()} for r in split.test.head(3).to_dict("records")]
    from predictions.serving import single_threaded

    # Pinned to one thread in the artifact, as PariVision's workers pin it when they load it, so
    # ``mlflow models serve`` predicts on one thread too (it would use XGBoost's n_jobs=2 otherwise).
    model = single_threaded(model)
    run = registry.run_log(model=model, metrics={}, input_records=records,
                           dataset=dataset_describe(source=SEASON, slices={"train": split.train}))
    assert run.version is not None
    registry.alias_set(version=run.version, alias=alias or CHAMPION)
    return str(run.version)


# --- requests ----------------------------------------------------------------------------------


def as_requests(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(API bodies, canonical records for MLflow) of these warehouse shots."""
    from bench.common import api_body
    from training.ml.context import PREVIOUS_SHOTS
    from training.ml.features import INPUT_COLUMNS

    bodies, records = [], []
    for row in rows:
        game_date = pd.Timestamp(row["game_date"])
        bodies.append(api_body({**row, "game_date": game_date}))
        # Shots of the other seasons (batches) come without their context: NaN, which costs MLflow the same.
        record = {c: row.get(c, np.nan) if c in PREVIOUS_SHOTS else row[c] for c in INPUT_COLUMNS}
        record["game_date"] = game_date.isoformat()
        record["is_home"] = bool(row["is_home"]) if row["is_home"] is not None else None
        records.append(record)
    return bodies, records


def request_mix(frame: pd.DataFrame, *, seed: int = 7) -> dict[str, Any]:
    """Shots of every shooter of the season, the shooters split in two halves: cold and warm.

    ``cold``: one shot per cold shooter (each measured request is that shooter's first);
    ``warm``: ``SHOTS_PER_SHOOTER`` shots per warm shooter (sent once before measuring).
    """
    rng = np.random.default_rng(seed)
    players = np.array(sorted(int(p) for p in frame["player_id"].unique()))
    rng.shuffle(players)
    cold_players, warm_players = set(players[: len(players) // 2].tolist()), set(players[len(players) // 2:].tolist())
    # Up to SHOTS_PER_SHOOTER random shots of each shooter, the shooters interleaved.
    sample = frame.sample(frac=1.0, random_state=seed).groupby("player_id").head(SHOTS_PER_SHOOTER)
    warm_rows = sample[sample["player_id"].isin(warm_players)].to_dict("records")
    cold_rows = sample[sample["player_id"].isin(cold_players)].drop_duplicates("player_id").to_dict("records")
    warm_bodies, warm_records = as_requests(warm_rows)
    cold_bodies, cold_records = as_requests(cold_rows)
    return {"warm": warm_bodies, "warm_records": warm_records, "cold": cold_bodies, "cold_records": cold_records,
            "cold_players": sorted(cold_players), "warm_players": sorted(warm_players)}


def batch_mix(per_player: dict[int, list[dict[str, Any]]], *, exclude: set[int], size: int = BATCH_SHOOTERS,
              batches: int = 2, seed: int = 11) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of one shot each of ``size`` distinct shooters (never the cold single-request ones)."""
    rng = np.random.default_rng(seed)
    pool = sorted(p for p in per_player if p not in exclude)
    if len(pool) < size:
        raise SystemExit(f"only {len(pool)} shooters for batches of {size}: add seasons (--seasons)")
    out = []
    for b in range(batches):
        chosen = rng.choice(pool, size=size, replace=False)
        rows = [per_player[int(p)][b % len(per_player[int(p)])] for p in chosen]
        out.append(as_requests(rows))
    return out


def http_request(path: str, body: Any, headers: dict[str, str]) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {len(payload)}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode() + payload


# --- the load generator ----------------------------------------------------------------------------


async def _connection(port: int, requests: list[bytes], deadline: float, count: int | None,
                      latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while (count is None and time.perf_counter() < deadline) or (count is not None and i < count):
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            chunked = False
            for line in head.split(b"\r\n"):
                lower = line.lower()
                if lower.startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif lower.startswith(b"transfer-encoding:") and b"chunked" in lower:
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(str(status))
            i += 1
    finally:
        writer.close()


def load_python(port: int, requests: list[bytes], *, concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[str] = []

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(
            _connection(port, requests[k::concurrency] or requests, started + seconds, None, latencies, errors)
            for k in range(concurrency)
        ))  # fmt: skip
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    if errors:
        raise SystemExit(f"{len(errors)} requests failed (statuses {sorted(set(errors))})")
    ms = np.asarray(latencies) * 1000
    return {"requests": len(ms), "rps": len(ms) / elapsed, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99))}


WRK_SCRIPT = Path(__file__).with_name("wrk_post.lua")


def load_wrk(port: int, path: str, bodies: list[Any], headers: dict[str, str], *, concurrency: int,
             seconds: float, folder: Path) -> dict[str, float]:
    """One wrk run (a single thread: it needs a fraction of a core even at concurrency 16)."""
    lines = folder / f"bodies-{port}-{len(bodies)}-{len(json.dumps(bodies[0]))}.jsonl"
    if not lines.exists():
        lines.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
               "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", path, str(lines),
               headers.get("Authorization", "")]
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    output = finished.stdout
    line = next((x for x in output.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    result = json.loads(line[4:])
    if result["http_errors"] or result["socket_errors"]:
        raise SystemExit(f"wrk: {result['http_errors']} HTTP errors, {result['socket_errors']} socket errors")
    return {"requests": result["requests"], "rps": result["requests"] / (result["duration_us"] / 1e6),
            "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000}


def load(client: str, port: int, path: str, bodies: list[Any], headers: dict[str, str], *, concurrency: int,
         seconds: float, folder: Path) -> dict[str, float]:
    if client == "wrk":
        return load_wrk(port, path, bodies, headers, concurrency=concurrency, seconds=seconds, folder=folder)
    requests = [http_request(path, b, headers) for b in bodies]
    return load_python(port, requests, concurrency=concurrency, seconds=seconds)


# --- servers ----------------------------------------------------------------------------------------


def paired_ratio(rounds: list[dict[str, Any]]) -> float:
    """The median over rounds of PariVision's requests per second over MLflow's in the same round."""
    if not rounds:
        raise ValueError("no rounds")
    return float(statistics.median(r["parivision"]["rps"] / r["mlflow"]["rps"] for r in rounds))


def free_port() -> int:
    from tests.services import free_port as pick

    return pick()


def wait_http(url: str, *, timeout: float, log: Path, body: bytes | None = None, ok: tuple[int, ...] = (200,)) -> None:
    import requests

    from tests.services import wait_until

    def up() -> bool:
        response = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5) \
            if body is not None else requests.get(url, timeout=5)
        return response.status_code in ok

    wait_until(up, timeout=timeout, what=url, log=log)


def start_gunicorn(env: dict[str, str], port: int, log: Path, preexec_fn: Any) -> subprocess.Popen[bytes]:
    """PariVision's web as production runs it (parivision/gunicorn.conf.py), on 127.0.0.1:port."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "parivision.wsgi", "-c", "parivision/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, preexec_fn=preexec_fn,
    )  # fmt: skip


def start_mlflow_serve(tracking_uri: str, model_uri: str, port: int, *, cwd: Path, log: Path,
                       preexec_fn: Any) -> subprocess.Popen[bytes]:
    """``mlflow models serve`` of a registered version, on the same terms as PariVision's web:
    2 workers, one XGBoost thread each."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri,
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT),  # the pickled model refers to training.ml
           "OMP_NUM_THREADS": "1"}  # one thread per worker, like PariVision's
    return subprocess.Popen(
        [str(bin_dir / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local", "-h", "127.0.0.1",
         "-p", str(port), "-w", "2"],
        cwd=cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, preexec_fn=preexec_fn,
    )  # fmt: skip


def stored_shooters(client: Any, database: str) -> int:
    """Players in the shooter-history store of ``database`` (what every web worker loads resident)."""
    from ingestion.history import STATE_ID
    from parivision.mongo import SHOOTER_HISTORY

    return int(client[database][SHOOTER_HISTORY].count_documents({"_id": {"$ne": STATE_ID}}))


def stored_games(client: Any, database: str) -> int:
    """Games in the game-context store of ``database`` (what every web worker loads resident too)."""
    from ingestion.game_context import STATE_ID
    from parivision.mongo import GAME_CONTEXT

    return int(client[database][GAME_CONTEXT].count_documents({"_id": {"$ne": STATE_ID}}))


def resident_wait(port: int, players: int, *, timeout: float, metric: str = "parivision_serving_resident_shooters",
                  what: str = "resident histories") -> None:
    """Until every web worker holds ``players`` resident entries of ``metric`` (the least over the workers:
    shooters' histories, or games' contexts), then two seconds more for the last one to settle."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        values = [float(line.split()[-1]) for line in text.splitlines()
                  if line.startswith(metric)]
        if values and min(values) >= players:
            time.sleep(2)
            return
        time.sleep(0.5)
    raise SystemExit(f"the web workers did not load {players:,} {what} within {timeout:.0f} s")


def worker_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    found = [int(p) for p in children.read_text().split()] if children.exists() else []
    return found + [g for c in found for g in worker_pids(c)]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def warm_up(port: int, path: str, bodies: list[Any], headers: dict[str, str]) -> None:
    """Every body once, each on a new connection: the kernel spreads them over the workers, so
    each worker builds every shooter's history (hundreds of ms a shooter on the MongoDB stand-in)
    before anything is measured. A keep-alive connection would stay on one worker."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    def post(body: Any) -> int:
        return requests.post(f"http://127.0.0.1:{port}{path}", json=body, timeout=60,
                             headers={**headers, "Connection": "close"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = set(pool.map(post, bodies))
    if statuses != {200}:
        raise SystemExit(f"warm-up requests answered {sorted(statuses)}")


def first_requests(port: int, path: str, bodies: list[Any], headers: dict[str, str]) -> dict[str, Any]:
    """Each body once, in turn, on one keep-alive connection: latency of requests whose shooters
    no worker has seen yet (for a batch, of 1,000 such shooters)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies = []
    try:
        for body in bodies:
            payload = json.dumps(body)
            started = time.perf_counter()
            connection.request("POST", path, body=payload, headers={**headers, "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"a first request answered {response.status}")
    finally:
        connection.close()
    ms = np.asarray(latencies) * 1000
    slowest = np.argsort(ms)[::-1][:5]
    return {"requests": len(ms), "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max()), "total_s": float(ms.sum() / 1000),
            # Which requests were slow (their order in the run) tells a cold worker from a cold shooter.
            "slowest": [[int(i), round(float(ms[i]), 1)] for i in slowest]}


def warehouse_fill(client: Any, data_dir: Path, seasons: list[str], frame: pd.DataFrame) -> dict[int, list[dict[str, Any]]]:
    """Every shot of ``seasons`` in the warehouse (``frame`` is SEASON's, already read); returns a few
    shots of each shooter (for the batches)."""
    from pymongo.errors import BulkWriteError

    from ingestion.readers import iter_mapped
    from training.ml.context import PREVIOUS_SHOTS

    shots = client["parivision_warehouse"]["shots"]
    per_player: dict[int, list[dict[str, Any]]] = {}

    def write(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            kept = per_player.setdefault(int(doc["player_id"]), [])
            if len(kept) < 2:
                kept.append(doc)
        try:
            # The warehouse holds canonical shots: the context columns of SEASON's frame stay out.
            shots.insert_many([{"_id": _key_of(d), **{k: v for k, v in d.items() if k not in PREVIOUS_SHOTS}}
                               for d in docs], ordered=False)
        except BulkWriteError as error:  # a repeated key within a file: the warehouse keeps one
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise

    for name in seasons:
        started = time.perf_counter()
        if name == SEASON:
            rows = [{**d, "game_date": d["game_date"].to_pydatetime()} for d in frame.to_dict("records")]
            for i in range(0, len(rows), 20_000):
                write(rows[i:i + 20_000])
            count = len(rows)
        else:
            chunk, count = [], 0
            for mapped in iter_mapped(data_dir / "nba_shots" / name):
                if mapped.shot:
                    chunk.append(mapped.shot.to_document())
                if len(chunk) == 20_000:
                    write(chunk)
                    count, chunk = count + len(chunk), []
            if chunk:
                write(chunk)
                count += len(chunk)
        print(f"  warehouse: {count:,} shots of {name} in {time.perf_counter() - started:.1f} s", flush=True)
    return per_player


def cpu_list(text: str) -> set[int]:
    """``0``, ``0,1`` or ``0-1`` as a set of CPU numbers."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def log_settled(client: Any, *, timeout: float = 30.0) -> None:
    """Wait until the prediction log has written what the previous run buffered (so a run is not
    measured while the workers still write the last one's backlog)."""
    predictions = client["parivision_warehouse"]["predictions"]
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        count = predictions.estimated_document_count()
        if count == last:
            return
        last = count
        time.sleep(1.5)  # longer than PREDICTION_LOG_FLUSH_SECONDS


def shadow_runs(client: Any, tracking_uri: str, model_name: str, shadow_version: str, port: int,
                bodies: list[Any], auth: dict[str, str], *, generator: str, seconds: float,
                folder: Path) -> dict[str, dict[str, Any]]:
    """c1 and c16 with ``shadow_version`` serving in shadow, then again with the shadow stopped."""
    from training.ml.registry import ModelRegistry

    registry = ModelRegistry(tracking_uri=tracking_uri, experiment_name="x", model_name=model_name)
    predictions = client["parivision_warehouse"]["predictions"]
    path = "/api/v1/predictions"
    out: dict[str, dict[str, Any]] = {}
    for name, on in (("parivision+shadow", True), ("parivision-after", False)):
        if on:
            registry.alias_set(version=shadow_version, alias="shadow")
        else:
            registry.alias_delete(alias="shadow")
        time.sleep(3)  # three alias polls: every worker has loaded (or dropped) the shadow
        before = predictions.count_documents({"role": "shadow"})
        load(generator, port, path, bodies, auth, concurrency=4, seconds=2.0, folder=folder)
        deadline = time.monotonic() + 120
        while on and time.monotonic() < deadline and predictions.count_documents({"role": "shadow"}) == before:
            # Measure only once the shadow scores (a niced worker on a busy machine loads it slowly).
            load(generator, port, path, bodies, auth, concurrency=1, seconds=2.0, folder=folder)
        log_settled(client)
        before = predictions.count_documents({"role": "shadow"})
        c1 = load(generator, port, path, bodies, auth, concurrency=1, seconds=seconds, folder=folder)
        c16 = load(generator, port, path, bodies, auth, concurrency=16, seconds=seconds, folder=folder)
        log_settled(client)
        out[name] = {"c1": c1, "c16": c16, "shadow_scored": predictions.count_documents({"role": "shadow"}) - before}
        print(f"  measured {name}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("PARIVISION_DATA_DIR") or ROOT.parent / "shared" / "data"))
    parser.add_argument("--tracking-uri", help="serve the champion of this MLflow store instead of training one")
    parser.add_argument("--model-name", default=MODEL_NAME)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measured run")
    parser.add_argument("--c16-rounds", type=int, default=3,
                        help="concurrency-16 runs of each server, alternated (MLflow, PariVision, MLflow...): "
                             "the ratio is the median of the rounds' ratios, each of two runs next in time")
    parser.add_argument("--batch-shooters", type=int, default=BATCH_SHOOTERS, help="distinct shooters in a batch")
    parser.add_argument("--seasons", default=",".join(HISTORY_SEASONS),
                        help=f"season files of the warehouse (comma-separated; must include {SEASON})")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk when installed (auto), or the Python one")
    parser.add_argument("--shadow", action="store_true",
                        help="also measure PariVision with a second model serving in shadow, then without it again")
    parser.add_argument("--shadow-scorer", choices=("thread", "worker"), default="worker",
                        help="with --shadow: score in each web process (thread) or in a separate, niced "
                             "`manage.py shadow_score --loop` process (worker, the default)")
    parser.add_argument("--shadow-version", help="with --shadow and --tracking-uri: this registered version is the "
                                                 "shadow (else one is trained)")
    parser.add_argument("--resident", action=argparse.BooleanOptionalAction, default=True,
                        help="web workers hold every stored shooter's history (SERVING_HISTORY_RESIDENT, the "
                             "default); --no-resident measures a cold shooter's store read instead")
    parser.add_argument("--pin-web", metavar="CPUS",
                        help="CPU numbers (e.g. 0 or 0-1) for the two web servers (PariVision's gunicorn and "
                             "mlflow models serve); everything else (MongoDB, Redis, the load generator, the shadow "
                             "scorer) runs on the other CPUs. The same pinning for every run, so a shadow "
                             "scorer on its own cores is measured like for like")
    args = parser.parse_args(argv)
    generator = ("wrk" if shutil.which("wrk") else "python") if args.client == "auto" else args.client
    web_cpus = cpu_list(args.pin_web) if args.pin_web else None
    if web_cpus is not None:
        aside = set(os.sched_getaffinity(0)) - web_cpus
        if not web_cpus <= set(os.sched_getaffinity(0)) or not aside:
            raise SystemExit(f"--pin-web {args.pin_web}: needs CPUs of this machine and leaves none for the rest "
                             f"(available: {sorted(os.sched_getaffinity(0))})")
        os.sched_setaffinity(0, aside)  # this process and everything it starts, but the web servers

    def on_web_cpus() -> None:
        if web_cpus is not None:
            os.sched_setaffinity(0, web_cpus)

    import django

    # A SIGTERM unwinds like Ctrl-C, so every server this run started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    django.setup()
    from tests import services

    seasons = [name.strip() for name in args.seasons.split(",") if name.strip()]
    if SEASON not in seasons:
        raise SystemExit(f"--seasons must include {SEASON} (the single requests come from it)")
    loads = {"start": load_average()}
    folder = Path(tempfile.mkdtemp(prefix="parivision-bench-serve-"))
    print(f"PariVision serving benchmark (work folder {folder}, load generator: {generator})", flush=True)
    season = args.data_dir / "nba_shots" / SEASON
    started = time.perf_counter()
    frame = season_frame(season)
    print(f"  loaded {len(frame):,} shots of {SEASON} in {time.perf_counter() - started:.1f} s", flush=True)

    with ExitStack() as stack:
        (folder / "mongo").mkdir()
        mongo_uri = stack.enter_context(services.mongodb_standin(folder / "mongo"))
        redis_url = stack.enter_context(services.redis_server(folder))
        if args.tracking_uri:
            tracking_uri, artifacts, model_name = args.tracking_uri, str(folder / "artifacts"), args.model_name
            from training.ml.registry import CHAMPION, ModelRegistry

            version = ModelRegistry(tracking_uri=tracking_uri, experiment_name="x",
                                    model_name=model_name).alias_version(alias=CHAMPION)
            if version is None:
                raise SystemExit(f"{model_name!r} has no champion in {tracking_uri}")
        else:
            tracking_uri, artifacts, model_name = f"sqlite:///{folder / 'mlflow.db'}", str(folder / "artifacts"), MODEL_NAME
            started = time.perf_counter()
            version = train_and_register(frame, tracking_uri, artifacts)
            print(f"  trained and registered version {version} in {time.perf_counter() - started:.1f} s", flush=True)
        shadow_version = None
        if args.shadow and args.shadow_version:
            shadow_version = args.shadow_version
        elif args.shadow:
            started = time.perf_counter()
            # Registered now, put in shadow (the "shadow" alias) only after the usual runs.
            shadow_version = train_and_register(frame, tracking_uri, artifacts, alias="bench-shadow-candidate",
                                                params={"n_estimators": 300, "learning_rate": 0.1, "max_depth": 5})
            print(f"  trained the shadow candidate v{shadow_version} in {time.perf_counter() - started:.1f} s",
                  flush=True)

        mix = request_mix(frame)
        bodies, records = mix["warm"], mix["warm_records"]
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "parivision.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false", "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "FEED_TOKEN": os.environ.get("FEED_TOKEN") or secrets.token_urlsafe(32),  # production requires one
            "PARIVISION_VAR_DIR": str(folder / "var"), "MONGODB_URI": mongo_uri, "REDIS_URL": redis_url,
            "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri, "MLFLOW_ARTIFACT_ROOT": artifacts, "MLFLOW_MODEL_NAME": model_name,
            "API_THROTTLE_USER_RATE": "10000000/minute", "PREDICTION_LOG_ENABLED": "true",
            "GUNICORN_WORKERS": "2", "GUNICORN_ACCESS_LOG": str(folder / "access.log"), "LOG_LEVEL": "WARNING",
            # A warm shooter stays warm for the whole run (the default, 30 s, re-reads each shooter
            # from the store that often: one cold-shooter cost per shooter, worker and 30 s).
            "SERVING_HISTORY_TTL_SECONDS": "3600",
            "SERVING_HISTORY_RESIDENT": "true" if args.resident else "false",
            "MONGODB_TIMEOUT_MS": "600000",  # the backfill's reads of whole seasons on a busy machine
            # --shadow: the workers notice the shadow alias within a second.
            **({"SERVING_ALIAS_POLL_SECONDS": "1", "SHADOW_SCORER": args.shadow_scorer} if args.shadow else {}),
        }  # fmt: skip
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        token = subprocess.run(
            [python, "-c", "import django; django.setup(); from django.contrib.auth import get_user_model; "
             "from predictions.services import token_create; "
             "u = get_user_model().objects.create_user('bench', password='x'); print(token_create(user=u).key)"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        # The warehouse: every shot of the seasons, then the shooter-history store built from it.
        from pymongo import MongoClient

        client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
        per_player = warehouse_fill(client, args.data_dir, seasons, frame)
        warehouse_shots = client["parivision_warehouse"]["shots"].estimated_document_count()
        # The warehouse's indexes, as the importer creates them (else the web workers' first write
        # builds them over every shot while the cold requests are measured: seconds on the stand-in).
        started = time.perf_counter()
        subprocess.run([python, "-c", "import django; django.setup(); from parivision import mongo; "
                        "mongo.ensure_indexes()"], cwd=ROOT, env=env, check=True)
        print(f"  warehouse indexes built in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        subprocess.run([python, "manage.py", "shooter_history_backfill"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        backfill_s = time.perf_counter() - started
        print(f"  warehouse: {warehouse_shots:,} shots of {len(per_player):,} shooters; shooter-history store "
              f"built in {backfill_s:.1f} s", flush=True)
        batch_sets = batch_mix(per_player, exclude=set(mix["cold_players"]), size=args.batch_shooters)
        print(f"  requests: {len(mix['cold'])} cold and {len(mix['warm_players'])} warm shooters of {SEASON} "
              f"({len(bodies):,} warm shots); batches of {args.batch_shooters:,} distinct shooters", flush=True)

        # PariVision under gunicorn.
        port = free_port()
        log = folder / "gunicorn.log"
        web = start_gunicorn(env, port, log, on_web_cpus)
        stack.callback(services.stop, web)
        wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120, log=log)
        if args.resident:
            started = time.perf_counter()
            players = stored_shooters(client, "parivision_warehouse")
            resident_wait(port, players, timeout=600)
            print(f"  web workers hold {players:,} shooters' histories resident "
                  f"({time.perf_counter() - started:.1f} s after they were ready)", flush=True)
            games = stored_games(client, "parivision_warehouse")
            resident_wait(port, games, timeout=600, metric="parivision_serving_resident_games",
                          what="resident game contexts")
            print(f"  web workers hold {games:,} games' contexts resident "
                  f"({time.perf_counter() - started:.1f} s after they were ready)", flush=True)
        # MLflow's own server of the same version.
        mlflow_port = free_port()
        mlflow_log = folder / "mlflow-serve.log"
        mlflow_server = start_mlflow_serve(tracking_uri, f"models:/{model_name}/{version}", mlflow_port, cwd=folder,
                                           log=mlflow_log, preexec_fn=on_web_cpus)
        stack.callback(services.stop, mlflow_server)
        mlflow_body = json.dumps({"dataframe_records": [records[0]]}).encode()
        wait_http(f"http://127.0.0.1:{mlflow_port}/invocations", timeout=180, log=mlflow_log, body=mlflow_body)

        auth = {"Authorization": f"Token {token}"}
        theirs = [{"dataframe_records": [r]} for r in records]
        our_batches = [{"shots": b} for b, _r in batch_sets]
        their_batches = [{"dataframe_records": r} for _b, r in batch_sets]

        results: dict[str, dict[str, dict[str, float]]] = {}
        # Cold first, before anything touched those shooters: one request per cold shooter, then
        # one batch of 1,000 shooters no worker has seen (PariVision builds each history from the
        # store; MLflow's model carries its training-time table, so nothing is cold for it).
        # Every worker serves a few requests first (of a shooter no season has): a cold *worker*
        # (its first token lookup, model warm-up) is not what a cold shooter costs.
        primer = {**mix["cold"][0], "player_id": 1}
        warm_up(port, "/api/v1/predictions", [primer] * 16, auth)
        warm_up(mlflow_port, "/invocations", [{"dataframe_records": [{**mix["cold_records"][0], "player_id": 1}]}] * 16, {})
        loads["cold"] = load_average()
        cold = {
            "parivision": first_requests(port, "/api/v1/predictions", mix["cold"], auth),
            "mlflow": first_requests(mlflow_port, "/invocations",
                                     [{"dataframe_records": [r]} for r in mix["cold_records"]], {}),
        }
        cold_batch = {"parivision": first_requests(port, "/api/v1/predictions/batch", our_batches[:1], auth),
                      "mlflow": first_requests(mlflow_port, "/invocations", their_batches[:1], {})}
        print(f"  measured cold: PariVision p50 {cold['parivision']['p50_ms']:.2f} ms, p99 "
              f"{cold['parivision']['p99_ms']:.2f} ms (slowest [request, ms]: {cold['parivision']['slowest']}); "
              f"first batch {cold_batch['parivision']['total_s'] * 1000:.0f} ms", flush=True)
        # MLflow first: PariVision's workers go on writing the prediction log of its batch run for
        # a while (the MongoDB stand-in ingests far fewer documents per second than that run makes).
        servers: tuple[tuple[str, int, str, str, list[Any], list[Any], dict[str, str]], ...] = (
            ("mlflow", mlflow_port, "/invocations", "/invocations", theirs, their_batches, {}),
            ("parivision", port, "/api/v1/predictions", "/api/v1/predictions/batch", bodies, our_batches, auth),
        )
        for name, port_, single_path, batch_path, single, batch, headers in servers:
            def run(path: str, shots: list[Any], concurrency: int, seconds: float, port_: int = port_,
                    headers: dict[str, str] = headers) -> dict[str, float]:
                return load(generator, port_, path, shots, headers, concurrency=concurrency, seconds=seconds,
                            folder=folder)

            warm_up(port_, single_path, single, headers)
            run(single_path, single, 4, 2.0)
            if name == "parivision":
                log_settled(client)
            loads[name] = load_average()
            c1 = run(single_path, single, 1, args.seconds)
            c16 = run(single_path, single, 16, args.seconds)
            run(batch_path, batch, 2, 2.0)
            batches = run(batch_path, batch, 2, args.seconds)
            results[name] = {"c1": c1, "c16": c16, "batch": {**batches, "shots_per_s": batches["rps"] * args.batch_shooters}}
            print(f"  measured {name}", flush=True)

        # More concurrency-16 rounds, the two servers alternated: the machine's speed drifts by 10% and
        # more within minutes, so one run of each compares two moments as much as two servers.
        first = {"mlflow": results["mlflow"]["c16"], "parivision": results["parivision"]["c16"], "load": loads["parivision"][0]}
        c16_rounds: list[dict[str, Any]] = [first]
        for _ in range(max(0, args.c16_rounds - 1)):
            log_settled(client)
            pair: dict[str, Any] = {"load": load_average()[0]}
            for name, port_, single_path, _batch_path, single, _batch, headers in servers:
                pair[name] = load(generator, port_, single_path, single, headers, concurrency=16,
                                  seconds=args.seconds, folder=folder)
            c16_rounds.append(pair)
        print("  concurrency 16, rounds (MLflow, PariVision req/s): "
              + "; ".join(f"{r['mlflow']['rps']:.0f}, {r['parivision']['rps']:.0f}" for r in c16_rounds), flush=True)

        if shadow_version is not None:
            if args.shadow_scorer == "worker":  # the shadow's model work, at the lowest CPU priority
                scorer_log = folder / "shadow-score.log"
                scorer = subprocess.Popen(["nice", "-n", "10", python, "manage.py", "shadow_score", "--loop"],
                                          cwd=ROOT, env=env, stdout=scorer_log.open("wb"), stderr=subprocess.STDOUT)
                stack.callback(services.stop, scorer)
            results.update(shadow_runs(client, tracking_uri, model_name, shadow_version, port, bodies, auth,
                                       generator=generator, seconds=args.seconds, folder=folder))

        rss = {"parivision": [peak_rss_mb(p) for p in worker_pids(web.pid)],
               "mlflow": [peak_rss_mb(p) for p in worker_pids(mlflow_server.pid)]}
        logged = client["parivision_warehouse"]["predictions"]
        log_settled(client)
        logged_count = logged.count_documents({})
        metrics_text = __import__("requests").get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        client.close()

    shadow_results = {k: results[k] for k in ("parivision+shadow", "parivision-after") if k in results}
    results = {"parivision": results["parivision"], "mlflow": results["mlflow"]}
    ours_r, theirs_r = results["parivision"], results["mlflow"]
    loads["end"] = load_average()
    print()
    print(f"{'server':<12}{'cold p50':>10}{'cold p99':>10}{'warm p50':>10}{'warm p99':>10}{'req/s c16':>11}"
          f"{'p99 c16':>9}{'cold batch ms':>15}{'batch shots/s':>15}{'RSS/worker MB':>15}")
    for name, r in results.items():
        print(f"{name:<12}{cold[name]['p50_ms']:>10.2f}{cold[name]['p99_ms']:>10.2f}{r['c1']['p50_ms']:>10.2f}"
              f"{r['c1']['p99_ms']:>10.2f}{r['c16']['rps']:>11.0f}{r['c16']['p99_ms']:>9.2f}"
              f"{cold_batch[name]['total_s'] * 1000:>15.0f}{r['batch']['shots_per_s']:>15.0f}"
              f"{max(rss[name] or [0]):>15.0f}")
    print(f"(milliseconds; cold: {cold['parivision']['requests']} shooters' first requests at concurrency 1; warm: "
          f"{len(mix['warm_players'])} shooters at concurrency 1; batches of {args.batch_shooters:,} distinct shooters)")
    print("load average (1, 5, 15 min): " + "; ".join(f"{k} {v}" for k, v in loads.items()))
    served = sum(r["requests"] for r in (ours_r["c1"], ours_r["c16"]))
    for name, r in shadow_results.items():
        print(f"{name:<12}{r['c1']['p50_ms']:>11.2f}{r['c1']['p99_ms']:>11.2f}{r['c16']['rps']:>11.0f}"
              f"{r['c16']['p99_ms']:>12.2f}   (shadow scored {r.get('shadow_scored', 0):,} shots)")
    print(f"prediction log: {logged_count:,} documents in MongoDB; metrics exposed: "
          f"{'parivision_prediction_latency_seconds_bucket' in metrics_text}; requests served ~{served:,}")
    summary = {
        "cold_p50_ms_c1": round(cold["parivision"]["p50_ms"], 3), "cold_p99_ms_c1": round(cold["parivision"]["p99_ms"], 3),
        "cold_requests": cold["parivision"]["requests"], "warm_shooters": len(mix["warm_players"]),
        "mlflow_cold_p50_ms_c1": round(cold["mlflow"]["p50_ms"], 3),
        "mlflow_cold_p99_ms_c1": round(cold["mlflow"]["p99_ms"], 3),
        "cold_batch_ms": round(cold_batch["parivision"]["total_s"] * 1000, 1),
        "mlflow_cold_batch_ms": round(cold_batch["mlflow"]["total_s"] * 1000, 1),
        "p50_ms_c1": round(ours_r["c1"]["p50_ms"], 3), "p99_ms_c1": round(ours_r["c1"]["p99_ms"], 3),
        "rps_c16": round(ours_r["c16"]["rps"], 1), "p99_ms_c16": round(ours_r["c16"]["p99_ms"], 3),
        "mlflow_p50_ms_c1": round(theirs_r["c1"]["p50_ms"], 3), "mlflow_p99_ms_c1": round(theirs_r["c1"]["p99_ms"], 3),
        "mlflow_rps_c16": round(theirs_r["c16"]["rps"], 1),
        "ratio_c16": round(paired_ratio(c16_rounds), 2),
        "c16_rounds": [{"mlflow_rps": round(r["mlflow"]["rps"], 1), "parivision_rps": round(r["parivision"]["rps"], 1),
                        "ratio": round(r["parivision"]["rps"] / r["mlflow"]["rps"], 3), "load": r["load"]}
                       for r in c16_rounds],
        "rps_c16_median": round(statistics.median(r["parivision"]["rps"] for r in c16_rounds), 1),
        "mlflow_rps_c16_median": round(statistics.median(r["mlflow"]["rps"] for r in c16_rounds), 1),
        "batch_shots_per_s": round(ours_r["batch"]["shots_per_s"]),
        "mlflow_batch_shots_per_s": round(theirs_r["batch"]["shots_per_s"]),
        "peak_rss_mb_per_worker": round(max(rss["parivision"] or [0]), 1),
        "mlflow_peak_rss_mb_per_worker": round(max(rss["mlflow"] or [0]), 1),
        "prediction_log_documents": logged_count, "model_version": version, "load_generator": generator,
        "warehouse_shots": warehouse_shots, "warehouse_shooters": len(per_player), "backfill_s": round(backfill_s, 1),
        "batch_shooters": args.batch_shooters, "loadavg": loads, "pin_web": args.pin_web, "resident": args.resident,
        "cold_slowest": cold["parivision"]["slowest"],
    }  # fmt: skip
    for name, key in (("parivision+shadow", "shadow"), ("parivision-after", "after_shadow")):
        if name in shadow_results:
            r = shadow_results[name]
            summary.update({f"{key}_p50_ms_c1": round(r["c1"]["p50_ms"], 3),
                            f"{key}_p99_ms_c1": round(r["c1"]["p99_ms"], 3),
                            f"{key}_rps_c16": round(r["c16"]["rps"], 1), f"{key}_p99_ms_c16": round(r["c16"]["p99_ms"], 3),
                            f"{key}_scored": r.get("shadow_scored", 0)})
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
