"""CPU cost of one prediction request, in process: the same WSGI application gunicorn runs, without the network.

    .venv/bin/python bench/request_cost.py setup FOLDER [--data-dir ../shared/data] [--shots 60000]
    .venv/bin/python bench/request_cost.py measure FOLDER [--requests 3000] [--profile 30]
    .venv/bin/python bench/request_cost.py wrk FOLDER [--seconds 8] [--rounds 2]
    .venv/bin/python bench/request_cost.py stop FOLDER

``bench/serve.py`` measures what a client sees (gunicorn, sockets, threads, a load generator on
the same cores), which moves with everything else the machine does. This script measures what
the serving benchmark's throughput at concurrency 16 is made of: the CPU time one thread spends
on one ``POST /api/v1/predictions``, from the WSGI call to the last byte of the body, with the
production settings (token auth, throttling, Prometheus metrics, the prediction log, resident
shooter histories). ``time.thread_time`` counts only this thread's CPU, so other processes on the
machine change the figure little; each run reports the median of several rounds.

``setup`` starts a MongoDB stand-in and a Redis of its own (kept running, their addresses in
FOLDER/env.json), fills the warehouse with the 2023-24 season (the shooter-history store built
from it), trains an XGBoost champion (400 trees, as ``bench/serve.py``) on ``--shots`` of it and
registers it in an MLflow store in FOLDER. ``measure`` runs in a fresh process, so a change to the
code is measured by running it again; ``--profile N`` prints the N costliest functions (cProfile)
of a separate round.

``wrk`` measures the same request through the servers, CPU against CPU: PariVision's gunicorn
(production settings, 2 workers) and ``mlflow models serve`` of the same version (2 workers,
one XGBoost thread), each alone on CPU 0, with ``wrk -c16`` (bench/serve.py's script and
bodies) on CPU 1. For each it reports requests per second and the CPU time its processes spent
per request (user and system, from /proc), alternating the two servers ``--rounds`` times. CPU
per request moves less with the machine than requests per second, so it says whether a change
helped; the ratio of the two is the concurrency-16 ratio of ``bench/serve.py``, on one season.

``stop`` stops the servers. Each action ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import processes_cpu_s  # noqa: E402


def _env(folder: Path, state: dict[str, Any]) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "parivision.settings.production",
        "SECRET_KEY": state["secret_key"], "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false", "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "FEED_TOKEN": state["feed_token"], "PARIVISION_VAR_DIR": str(folder / "var"),
        "MONGODB_URI": state["mongo_uri"], "REDIS_URL": state["redis_url"],
        "MLFLOW_TRACKING_URI": state["tracking_uri"], "MLFLOW_REGISTRY_URI": state["tracking_uri"],
        "MLFLOW_ARTIFACT_ROOT": str(folder / "artifacts"), "MLFLOW_MODEL_NAME": state["model_name"],
        "API_THROTTLE_USER_RATE": "10000000/minute", "PREDICTION_LOG_ENABLED": "true", "LOG_LEVEL": "WARNING",
        "SERVING_HISTORY_TTL_SECONDS": "3600", "SERVING_HISTORY_RESIDENT": "true",
        "OMP_NUM_THREADS": "1",
    }  # fmt: skip


def setup(folder: Path, data_dir: Path, shots: int) -> None:
    import pandas as pd

    from bench import serve
    from tests import services

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mongo").mkdir(exist_ok=True)
    mongo_port, redis_port = services.free_port(), services.free_port()
    mongo = subprocess.Popen(
        [services.find_executable("nx-27017") or "nx-27017", "--data-dir", str(folder / "mongo" / "data"),
         "--host", "127.0.0.1", "--port", str(mongo_port), "--log-file", str(folder / "mongo" / "nx.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    redis = subprocess.Popen(
        [services.find_executable("redis-server") or "redis-server", "--port", str(redis_port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    state: dict[str, Any] = {
        "mongo_uri": f"mongodb://127.0.0.1:{mongo_port}/", "redis_url": f"redis://127.0.0.1:{redis_port}/0",
        "pids": [mongo.pid, redis.pid], "secret_key": secrets.token_urlsafe(64),
        "feed_token": secrets.token_urlsafe(32), "tracking_uri": f"sqlite:///{folder / 'mlflow.db'}",
        "model_name": serve.MODEL_NAME, "data_dir": str(data_dir.resolve()),
    }  # fmt: skip
    (folder / "env.json").write_text(json.dumps(state))
    services.wait_until(lambda: services._mongo_answers(state["mongo_uri"]), timeout=30, what="nx-27017",
                        log=folder / "mongo" / "nx.log")
    frame = serve.season_frame(data_dir / "nba_shots" / serve.SEASON)
    print(f"  read {len(frame):,} shots of {serve.SEASON}", flush=True)
    sample = frame.sort_values("game_date").tail(shots).reset_index(drop=True)
    state["version"] = serve.train_and_register(sample, state["tracking_uri"], str(folder / "artifacts"))
    env = {**os.environ, **_env(folder, state)}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    state["token"] = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.contrib.auth import get_user_model; "
         "from predictions.services import token_create; "
         "u = get_user_model().objects.create_user('bench', password='x'); print(token_create(user=u).key)"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(state["mongo_uri"])
    serve.warehouse_fill(client, data_dir, [serve.SEASON], frame)
    client.close()
    subprocess.run([sys.executable, "-c", "import django; django.setup(); from parivision import mongo; "
                    "mongo.ensure_indexes()"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "shooter_history_backfill"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    mix = serve.request_mix(frame)
    state["bodies"] = mix["warm"]
    (folder / "env.json").write_text(json.dumps(state, default=str))
    print(f"  ready: version {state['version']}, {len(state['bodies']):,} request bodies; {pd.Timestamp.now()}")


def measure(folder: Path, requests: int, rounds: int, profile: int) -> None:
    state = json.loads((folder / "env.json").read_text())
    os.environ.update(_env(folder, state))
    # As in a gunicorn worker (parivision/gunicorn.conf.py): metrics in multiprocess files.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder / "var" / "prometheus")
    (folder / "var" / "prometheus").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from parivision.wsgi import application
    from predictions import history, serving

    serving.champion()
    cache = history.cache()
    cache.resident_load()
    bodies = [json.dumps(b).encode() for b in state["bodies"]]
    auth = f"Token {state['token']}"
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    def call(body: bytes) -> None:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/predictions", "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": auth, "HTTP_ACCEPT": "application/json", "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }  # fmt: skip
        response = application(environ, start_response)
        for _chunk in response:
            pass
        close = getattr(response, "close", None)
        if close is not None:
            close()

    for body in bodies[:200]:  # warm: every code path and cache touched once
        call(body)
    per_round = []
    for _ in range(rounds):
        statuses.clear()
        started = time.thread_time()
        for i in range(requests):
            call(bodies[i % len(bodies)])
        per_round.append((time.thread_time() - started) / requests * 1000)
        bad = [s for s in statuses if not s.startswith("200")]
        if bad:
            raise SystemExit(f"{len(bad)} requests were not answered 200: {bad[:3]}")
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(requests):
            call(bodies[i % len(bodies)])
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(profile)
        stats.sort_stats("cumulative").print_stats(profile)
        if os.environ.get("REQUEST_COST_PROFILE_FILE"):
            stats.dump_stats(os.environ["REQUEST_COST_PROFILE_FILE"])
    median = statistics.median(per_round)
    print(f"CPU per request (thread time, {rounds} rounds of {requests}): median {median:.3f} ms, "
          f"rounds {[round(r, 3) for r in per_round]}; load average {os.getloadavg()}")
    print(json.dumps({"cpu_ms_per_request": round(median, 4), "rounds_ms": [round(r, 4) for r in per_round],
                      "requests_per_round": requests, "loadavg": os.getloadavg()}))
    os._exit(0)  # the resident-history and log threads need no goodbye


def _wrk(port: int, path: str, lines: Path, auth: str, seconds: int) -> dict[str, Any]:
    from bench.serve import WRK_SCRIPT

    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", "--timeout", "30s", "-s", str(WRK_SCRIPT),
               f"http://127.0.0.1:{port}", "--", path, str(lines), auth]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in finished.stdout.splitlines() if x.startswith("WRK "))
    result: dict[str, Any] = json.loads(line[4:])
    if result["http_errors"] or result["socket_errors"]:
        raise SystemExit(f"wrk: {result['http_errors']} HTTP errors, {result['socket_errors']} socket errors")
    return result


def wrk(folder: Path, seconds: int, rounds: int) -> None:
    import shutil

    from bench import serve

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/bootstrap.sh --bench installs it)")
    if not {0, 1} <= os.sched_getaffinity(0):
        raise SystemExit("needs CPUs 0 and 1: the servers run on CPU 0, wrk on CPU 1")
    state = json.loads((folder / "env.json").read_text())
    frame = serve.season_frame(Path(state["data_dir"]) / "nba_shots" / serve.SEASON)
    mix = serve.request_mix(frame)
    ours, theirs = folder / "wrk-parivision.jsonl", folder / "wrk-mlflow.jsonl"
    ours.write_text("".join(json.dumps(b) + "\n" for b in mix["warm"]))
    theirs.write_text("".join(json.dumps({"dataframe_records": [r]}) + "\n" for r in mix["warm_records"]))
    os.sched_setaffinity(0, {1})

    def on_cpu0() -> None:
        os.sched_setaffinity(0, {0})

    def start(name: str) -> tuple[subprocess.Popen[bytes], int]:
        port, log = serve.free_port(), folder / f"wrk-{name}.log"
        if name == "parivision":
            env = {**os.environ, **_env(folder, state), "GUNICORN_WORKERS": "2", "GUNICORN_CONTROL_SOCKET": "off",
                   "GUNICORN_ACCESS_LOG": str(folder / "wrk-access.log"),
                   "PROMETHEUS_MULTIPROC_DIR": str(folder / "var" / "prometheus-wrk")}  # fmt: skip
            process = serve.start_gunicorn(env, port, log, on_cpu0)
            serve.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120, log=log)
            time.sleep(15)  # the resident histories load in the background
        else:
            process = serve.start_mlflow_serve(state["tracking_uri"], f"models:/{state['model_name']}/{state['version']}",
                                               port, cwd=folder, log=log, preexec_fn=on_cpu0)  # fmt: skip
            first = theirs.read_text().splitlines()[0].encode()
            serve.wait_http(f"http://127.0.0.1:{port}/invocations", timeout=180, log=log, body=first)
        return process, port

    results: dict[str, list[dict[str, float]]] = {"parivision": [], "mlflow": []}
    for _ in range(rounds):
        for name in ("mlflow", "parivision"):
            process, port = start(name)
            try:
                path, lines, auth = (("/api/v1/predictions", ours, f"Token {state['token']}") if name == "parivision"
                                     else ("/invocations", theirs, ""))  # fmt: skip
                _wrk(port, path, lines, auth, 3)  # warm-up
                pids = [process.pid, *serve.worker_pids(process.pid)]
                before, load = processes_cpu_s(pids), os.getloadavg()[0]
                result = _wrk(port, path, lines, auth, seconds)
                after = processes_cpu_s(pids)
            finally:
                process.terminate()
                process.wait(30)
            requests = result["requests"]
            row = {"rps": round(requests / (result["duration_us"] / 1e6), 1),
                   "cpu_ms": round((after[0] + after[1] - before[0] - before[1]) / requests * 1000, 3),
                   "user_ms": round((after[0] - before[0]) / requests * 1000, 3),
                   "system_ms": round((after[1] - before[1]) / requests * 1000, 3),
                   "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000, "load": round(load, 2)}  # fmt: skip
            results[name].append(row)
            print(f"  {name:10s} {row['rps']:7.1f} req/s  CPU {row['cpu_ms']:.3f} ms a request (user {row['user_ms']:.3f}, "
                  f"system {row['system_ms']:.3f})  p50 {row['p50_ms']:.1f} ms  load {row['load']}", flush=True)
    ours_rps = statistics.median(r["rps"] for r in results["parivision"])
    theirs_rps = statistics.median(r["rps"] for r in results["mlflow"])
    ours_cpu = statistics.median(r["cpu_ms"] for r in results["parivision"])
    theirs_cpu = statistics.median(r["cpu_ms"] for r in results["mlflow"])
    print(f"ratio at concurrency 16 (median of {rounds}): {ours_rps / theirs_rps:.2f}x by requests per second, "
          f"{theirs_cpu / ours_cpu:.2f}x by CPU per request")
    print(json.dumps({"ratio_c16_rps": round(ours_rps / theirs_rps, 3), "ratio_c16_cpu": round(theirs_cpu / ours_cpu, 3),
                      "parivision": results["parivision"], "mlflow": results["mlflow"], "seconds": seconds,
                      "loadavg": os.getloadavg()}))  # fmt: skip


def stop(folder: Path) -> None:
    state = json.loads((folder / "env.json").read_text())
    for pid in state["pids"]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("setup", "measure", "wrk", "stop"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PARIVISION_DATA_DIR", ROOT.parent / "shared" / "data")))
    parser.add_argument("--shots", type=int, default=60_000, help="setup: shots the model is trained on")
    parser.add_argument("--requests", type=int, default=2_000, help="measure: requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="measure: print this many functions of a profiled round")
    parser.add_argument("--seconds", type=int, default=8, help="wrk: seconds of each measured run")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parivision.settings.local")
    if args.action == "setup":
        import django

        django.setup()
        setup(args.folder, args.data_dir, args.shots)
    elif args.action == "measure":
        measure(args.folder, args.requests, args.rounds, args.profile)
    elif args.action == "wrk":
        wrk(args.folder, args.seconds, args.rounds)
    else:
        stop(args.folder)


if __name__ == "__main__":
    main()
