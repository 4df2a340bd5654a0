"""Serving benchmark: the API under gunicorn vs ``mlflow models serve``, same model, same machine.

    .venv/bin/python bench/serve.py [--data-dir ../shared/data] [--tracking-uri URI --model-name NAME]

Trains a champion on a real season (``$PARIVISION_DATA_DIR/nba_shots``, XGBoost, a few
hundred trees) and registers it in a throw-away MLflow store, or serves the ``champion`` of
an existing store. Then, on private services (MongoDB stand-in, Redis, SQLite, all in a
temporary folder), it starts

* PariVision with the production settings: gunicorn, 2 gthread workers, token auth,
  throttling, the prediction log and Prometheus metrics all switched on;
* ``mlflow models serve`` of the same model version (``--env-manager local``, 2 workers);

and drives both from 127.0.0.1: latency at concurrency 1, requests/s at concurrency 16, and
1,000-shot batches at concurrency 2. The load generator shares the machine's cores with the
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

SEASON = "NBA_2024_Shots.csv.zip"
MODEL_NAME = "parivision-bench-serve"
PLAYERS = 40  # shooters in the request mix (their history goes in the warehouse)


# --- the model -------------------------------------------------------------------------------------


def _key_of(doc: dict[str, Any]) -> str:
    from ingestion.shots import shot_key

    return shot_key(game_id=doc["game_id"], period=int(doc["period"]), seconds_left=int(doc["seconds_left"]),
                    player_id=int(doc["player_id"]), x_ft=float(doc["x_ft"]), y_ft=float(doc["y_ft"]),
                    repeat=int(doc.get("repeat") or 1))  # fmt: skip


def season_frame(path: Path) -> pd.DataFrame:
    from ingestion.readers import iter_mapped

    frame = pd.DataFrame([r.shot.to_document() for r in iter_mapped(path) if r.shot])
    frame["game_date"] = pd.to_datetime(frame["game_date"])
    return frame


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
    run = registry.run_log(model=model, metrics={}, input_records=records,
                           dataset=dataset_describe(source=SEASON, slices={"train": split.train}))
    assert run.version is not None
    registry.alias_set(version=run.version, alias=alias or CHAMPION)
    return str(run.version)


# --- requests ----------------------------------------------------------------------------------


def request_mix(frame: pd.DataFrame, n: int = 2_000) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(API bodies, canonical records for MLflow) of real shots by the most active shooters."""
    from bench.common import api_body
    from training.ml.features import INPUT_COLUMNS

    players = frame["player_id"].value_counts().index[:PLAYERS]
    sample = frame[frame["player_id"].isin(players)].sample(n=n, random_state=7)
    bodies, records = [], []
    for row in sample.to_dict("records"):
        bodies.append(api_body(row))
        record = {c: row[c] for c in INPUT_COLUMNS}
        record["game_date"] = row["game_date"].isoformat()
        record["is_home"] = bool(row["is_home"]) if row["is_home"] is not None else None
        records.append(record)
    return bodies, records


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
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk when installed (auto), or the Python one")
    parser.add_argument("--shadow", action="store_true",
                        help="also measure PariVision with a second model serving in shadow, then without it again")
    parser.add_argument("--shadow-scorer", choices=("thread", "worker"), default="worker",
                        help="with --shadow: score in each web process (thread) or in a separate, niced "
                             "`manage.py shadow_score --loop` process (worker, the default)")
    parser.add_argument("--shadow-version", help="with --shadow and --tracking-uri: this registered version is the "
                                                 "shadow (else one is trained)")
    args = parser.parse_args(argv)
    generator = ("wrk" if shutil.which("wrk") else "python") if args.client == "auto" else args.client

    import django

    # A SIGTERM unwinds like Ctrl-C, so every server this run started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    django.setup()
    from tests import services

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

        bodies, records = request_mix(frame)
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "parivision.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false", "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "FEED_TOKEN": os.environ.get("FEED_TOKEN") or secrets.token_urlsafe(32),  # production requires one
            "PARIVISION_VAR_DIR": str(folder / "var"), "MONGODB_URI": mongo_uri, "REDIS_URL": redis_url,
            "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri, "MLFLOW_ARTIFACT_ROOT": artifacts, "MLFLOW_MODEL_NAME": model_name,
            "API_THROTTLE_USER_RATE": "10000000/minute", "PREDICTION_LOG_ENABLED": "true",
            "GUNICORN_WORKERS": "2", "GUNICORN_ACCESS_LOG": str(folder / "access.log"), "LOG_LEVEL": "WARNING",
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
        # The shooters' history, as the warehouse would hold it.
        from pymongo import MongoClient

        client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
        players = {b["player_id"] for b in bodies}
        history = frame[frame["player_id"].isin(players)]
        docs = [{**d, "game_date": d["game_date"].to_pydatetime()} for d in history.to_dict("records")]
        client["parivision_warehouse"]["shots"].insert_many([{"_id": _key_of(d), **d} for d in docs])
        print(f"  warehouse: {len(docs):,} shots of the {len(players)} shooters in the request mix", flush=True)

        # PariVision under gunicorn.
        port = free_port()
        log = folder / "gunicorn.log"
        web = subprocess.Popen(
            [str(Path(python).parent / "gunicorn"), "parivision.wsgi", "-c", "parivision/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        stack.callback(services.stop, web)
        wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120, log=log)
        # MLflow's own server of the same version.
        mlflow_port = free_port()
        mlflow_log = folder / "mlflow-serve.log"
        mlflow_env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri,
                      "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                      "PYTHONPATH": str(ROOT)}  # the pickled model refers to training.ml
        mlflow_server = subprocess.Popen(
            [str(Path(python).parent / "mlflow"), "models", "serve", "-m", f"models:/{model_name}/{version}",
             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(mlflow_port), "-w", "2"],
            cwd=folder, env=mlflow_env, stdout=mlflow_log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        stack.callback(services.stop, mlflow_server)
        mlflow_body = json.dumps({"dataframe_records": [records[0]]}).encode()
        wait_http(f"http://127.0.0.1:{mlflow_port}/invocations", timeout=180, log=mlflow_log, body=mlflow_body)

        auth = {"Authorization": f"Token {token}"}
        theirs = [{"dataframe_records": [r]} for r in records]
        our_batches = [{"shots": bodies[i:i + 1000]} for i in (0, 1000)]
        their_batches = [{"dataframe_records": records[i:i + 1000]} for i in (0, 1000)]

        results: dict[str, dict[str, dict[str, float]]] = {}
        # MLflow first: PariVision's workers go on writing the prediction log of its batch run for
        # a while (the MongoDB stand-in ingests far fewer documents per second than that run makes).
        for name, port_, single_path, batch_path, single, batch, headers in (
            ("mlflow", mlflow_port, "/invocations", "/invocations", theirs, their_batches, {}),
            ("parivision", port, "/api/v1/predictions", "/api/v1/predictions/batch", bodies, our_batches, auth),
        ):
            def run(path: str, shots: list[Any], concurrency: int, seconds: float, port_: int = port_,
                    headers: dict[str, str] = headers) -> dict[str, float]:
                return load(generator, port_, path, shots, headers, concurrency=concurrency, seconds=seconds,
                            folder=folder)

            warm_up(port_, single_path, single, headers)
            run(single_path, single, 4, 2.0)
            if name == "parivision":
                log_settled(client)
            c1 = run(single_path, single, 1, args.seconds)
            c16 = run(single_path, single, 16, args.seconds)
            run(batch_path, batch, 2, 2.0)
            batches = run(batch_path, batch, 2, args.seconds)
            results[name] = {"c1": c1, "c16": c16, "batch": {**batches, "shots_per_s": batches["rps"] * 1000}}
            print(f"  measured {name}", flush=True)

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
    print()
    print(f"{'server':<12}{'p50 c1 ms':>11}{'p99 c1 ms':>11}{'req/s c16':>11}{'p99 c16 ms':>12}"
          f"{'batch shots/s':>15}{'peak RSS/worker MB':>20}")
    for name, r in results.items():
        print(f"{name:<12}{r['c1']['p50_ms']:>11.2f}{r['c1']['p99_ms']:>11.2f}{r['c16']['rps']:>11.0f}"
              f"{r['c16']['p99_ms']:>12.2f}{r['batch']['shots_per_s']:>15.0f}"
              f"{max(rss[name] or [0]):>20.0f}")
    served = sum(r["requests"] for r in (ours_r["c1"], ours_r["c16"]))
    for name, r in shadow_results.items():
        print(f"{name:<12}{r['c1']['p50_ms']:>11.2f}{r['c1']['p99_ms']:>11.2f}{r['c16']['rps']:>11.0f}"
              f"{r['c16']['p99_ms']:>12.2f}   (shadow scored {r.get('shadow_scored', 0):,} shots)")
    print(f"prediction log: {logged_count:,} documents in MongoDB; metrics exposed: "
          f"{'parivision_prediction_latency_seconds_bucket' in metrics_text}; requests served ~{served:,}")
    summary = {
        "p50_ms_c1": round(ours_r["c1"]["p50_ms"], 3), "p99_ms_c1": round(ours_r["c1"]["p99_ms"], 3),
        "rps_c16": round(ours_r["c16"]["rps"], 1), "p99_ms_c16": round(ours_r["c16"]["p99_ms"], 3),
        "mlflow_p50_ms_c1": round(theirs_r["c1"]["p50_ms"], 3), "mlflow_p99_ms_c1": round(theirs_r["c1"]["p99_ms"], 3),
        "mlflow_rps_c16": round(theirs_r["c16"]["rps"], 1),
        "ratio_c16": round(ours_r["c16"]["rps"] / theirs_r["c16"]["rps"], 2),
        "batch_shots_per_s": round(ours_r["batch"]["shots_per_s"]),
        "mlflow_batch_shots_per_s": round(theirs_r["batch"]["shots_per_s"]),
        "peak_rss_mb_per_worker": round(max(rss["parivision"] or [0]), 1),
        "mlflow_peak_rss_mb_per_worker": round(max(rss["mlflow"] or [0]), 1),
        "prediction_log_documents": logged_count, "model_version": version, "load_generator": generator,
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
