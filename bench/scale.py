"""Scale benchmark: PariVision with every real season in the warehouse (issue #10).

    .venv/bin/python bench/scale.py PATH_TO_SEASONS [--work var/bench-scale]

``PATH_TO_SEASONS`` is a folder of season files (``NBA_*_Shots.csv.zip``) or one holding them in
``nba_shots/`` (``$PARIVISION_DATA_DIR``). On a MongoDB stand-in whose data lives in ``--work``
(kept between runs: a second run reuses the loaded seasons), it

1. loads every season but the last (``--extra-season``) into the warehouse, through the import
   service (lake → warehouse), skipping those a previous run loaded;
2. imports the extra season into empty databases on the same server, then into the full warehouse:
   the rate of each and their ratio (a previous run's extra season is removed first);
3. trains (the Celery pipeline's round: ``manage.py train --force``) and refreshes the stored
   figures (``manage.py refresh_figures``), timing both;
4. starts the web (gunicorn, production settings, two workers) and measures, over a keep-alive
   connection, single-prediction latency for shooters never asked before right after a restart
   (cold: once the workers hold the resident histories) and the same shooters again (warm); then
   batches of 1,000 distinct shooters (``POST /api/v1/predictions/batch``), the first alone, then
   from one client thread per worker at once, each batch on a new connection; then, after another restart, every portal page and read
   API (``bench/pages.py``: cold first hits, warm p95);
5. bytes per logged prediction: the warehouse database's file growth over the predictions the
   run logged (``bench/prediction_log.py``'s measure, here in the full warehouse).

The machine's load (``os.getloadavg()``, cores) is printed beside the figures; progress as it goes;
one line of JSON at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import api_body, machine_load, percentile, processes_cpu_s  # noqa: E402
from bench.pages import measure as pages_measure  # noqa: E402
from bench.prediction_log import folder_bytes  # noqa: E402
from bench.serve import (  # noqa: E402
    log_settled,
    peak_rss_mb,
    resident_wait,
    stored_shooters,
    wait_http,
    worker_pids,
)
from predictions.log import log_id_floor  # noqa: E402
from predictions.log import logged_count as predictions_logged  # noqa: E402

LAKE_DB, WAREHOUSE_DB = "parivision_lake", "parivision_warehouse"  # bench.serve.log_settled reads these names
EMPTY_LAKE_DB, EMPTY_WAREHOUSE_DB = "pv_scale_empty_lake", "pv_scale_empty_warehouse"
EXTRA_SOURCE = "bench-scale-extra-season"
WEB_WORKERS = 2


def say(message: str) -> None:
    load = machine_load()
    print(f"[{time.strftime('%H:%M:%S')} load {load['loadavg_1m']}/{load['cores']} cores] {message}", flush=True)


def season_files(path: Path) -> list[Path]:
    folder = path / "nba_shots" if (path / "nba_shots").is_dir() else path
    files = sorted(folder.glob("NBA_*_Shots.csv*"))
    if not files:
        raise SystemExit(f"no NBA_*_Shots.csv(.zip) files in {folder}")
    return files


def season_of(path: Path) -> str:
    """NBA_2024_Shots.csv.zip -> 2023-24 (the file's year is the season's end)."""
    end = int(path.name.split("_")[1])
    return f"{end - 1}-{str(end)[2:]}"


def import_season(path: Path, *, source: str | None = None) -> dict[str, Any]:
    from ingestion.services import shots_import_file

    started = time.perf_counter()
    shown = [started]

    def progress(report: Any) -> None:  # every batch; a line every 30 s
        if time.perf_counter() - shown[0] >= 30:
            shown[0] = time.perf_counter()
            say(f"  {path.name}: {report.read:,} rows read, {report.read / (shown[0] - started):,.0f} rows/s")

    _run, report = shots_import_file(location=str(path), source=source, progress=progress)
    seconds = time.perf_counter() - started
    return {"file": path.name, "rows": report.read, "inserted": report.inserted, "seconds": round(seconds, 1),
            "shots_per_s": round(report.read / seconds, 1)}  # fmt: skip


def use_databases(lake: str, warehouse: str) -> None:
    from django.conf import settings

    from parivision import mongo

    settings.MONGODB_LAKE_DB, settings.MONGODB_WAREHOUSE_DB = lake, warehouse
    mongo.reset_client()


def load_base(files: list[Path], state: dict[str, Any], state_file: Path) -> None:
    for path in files:
        if path.name in state["loaded"]:
            say(f"{path.name}: already in the warehouse (a previous run)")
            continue
        say(f"importing {path.name} ...")
        figures = import_season(path)
        state["loaded"][path.name] = figures
        state_file.write_text(json.dumps(state, indent=1))
        say(f"  {figures['rows']:,} rows in {figures['seconds']} s ({figures['shots_per_s']:,.0f} shots/s)")


def remove_extra(path: Path) -> None:
    """Take a previous run's extra season out of the full warehouse (and its lake records)."""
    from parivision import mongo

    removed = mongo.warehouse_collection(mongo.SHOTS).delete_many({"season": season_of(path)}).deleted_count
    raw = mongo.lake_collection(mongo.RAW_SHOTS).delete_many({"source": EXTRA_SOURCE}).deleted_count
    mongo.lake_collection(mongo.BATCHES).delete_many({"source": EXTRA_SOURCE})
    say(f"removed the previous run's {path.name}: {removed:,} shots, {raw:,} raw records")


def import_ratio(extra: Path, state: dict[str, Any], state_file: Path) -> dict[str, Any]:
    from parivision import mongo

    if state.get("extra"):
        remove_extra(extra)
        state["extra"] = None
        state_file.write_text(json.dumps(state, indent=1))
    use_databases(EMPTY_LAKE_DB, EMPTY_WAREHOUSE_DB)
    mongo.drop_all()
    say(f"importing {extra.name} into empty databases ...")
    empty = import_season(extra, source=EXTRA_SOURCE)
    mongo.drop_all()
    use_databases(LAKE_DB, WAREHOUSE_DB)
    say(f"  {empty['rows']:,} rows in {empty['seconds']} s ({empty['shots_per_s']:,.0f} shots/s)")
    before = mongo.warehouse_collection(mongo.SHOTS).estimated_document_count()
    say(f"importing {extra.name} into the full warehouse ({before:,} shots) ...")
    full = import_season(extra, source=EXTRA_SOURCE)
    state["extra"] = full
    state_file.write_text(json.dumps(state, indent=1))
    say(f"  {full['rows']:,} rows in {full['seconds']} s ({full['shots_per_s']:,.0f} shots/s)")
    return {"empty": empty, "full": full, "full_before_shots": before,
            "import_ratio_full_vs_empty": round(full["shots_per_s"] / empty["shots_per_s"], 3)}  # fmt: skip


def shooters(count: int, files: list[Path]) -> list[dict[str, Any]]:
    """The first shot of ``count`` distinct shooters, read from the season files (newest first), as
    API bodies. Read from the files, not the warehouse: a ``$group`` over a season of the full
    warehouse takes minutes on the MongoDB stand-in."""
    from ingestion.readers import iter_mapped

    bodies: dict[int, dict[str, Any]] = {}
    for path in sorted(files, key=lambda f: f.name, reverse=True):
        for record in iter_mapped(path):
            if record.shot is not None and record.shot.player_id not in bodies:
                bodies[record.shot.player_id] = api_body(record.shot.to_document())
                if len(bodies) == count:
                    return list(bodies.values())
    raise SystemExit(f"the seasons have {len(bodies)} shooters, the bench needs {count}")


class Web:
    """gunicorn with the production settings on the bench's stores; restartable. With
    ``resident_players`` it is started once every worker holds that many resident histories."""

    def __init__(self, env: dict[str, str], port: int, folder: Path, *, resident_players: int = 0) -> None:
        self.env, self.port, self.folder = env, port, folder
        self.resident_players = resident_players
        self.process: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        log = self.folder / "gunicorn.log"
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "parivision.wsgi", "-c", "parivision/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=self.env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_http(f"{self.base}/readyz", timeout=300, log=log)
        if self.resident_players:
            started = time.perf_counter()
            resident_wait(self.port, self.resident_players, timeout=600)
            say(f"  the web workers hold {self.resident_players:,} shooters' histories resident "
                f"({time.perf_counter() - started:.1f} s after they were ready)")

    def stop(self) -> None:
        from tests.services import stop

        if self.process is not None:
            stop(self.process, grace=30)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Bystanders:
    """What else used the CPU while the web was measured: the MongoDB stand-in and this process
    (which imported, trained and refreshed the figures in run A), with the stand-in's write-ahead
    logs and memory and this process's threads; and each web worker's own CPU seconds, which show
    whether the load reached both workers. The web's figures are only comparable between runs
    when these are."""

    def __init__(self, mongo_folder: Path, web: Web) -> None:
        self.mongo_folder = mongo_folder
        self.web = web
        self.standin_pid = int((mongo_folder / "nx.pid").read_text().strip())
        self.marks: dict[str, tuple[float, float, float, dict[int, float]]] = {}

    def _workers(self) -> dict[int, float]:
        if self.web.process is None:
            return {}
        return {pid: sum(processes_cpu_s([pid])) for pid in worker_pids(self.web.process.pid)}

    def mark(self, name: str) -> None:
        self.marks[name] = (time.perf_counter(), sum(processes_cpu_s([self.standin_pid])),
                            sum(processes_cpu_s([os.getpid()])), self._workers())  # fmt: skip

    def between(self, first: str, second: str) -> dict[str, Any]:
        """Seconds and CPU seconds between two marks; ``web_workers_cpu_s`` lists the workers
        alive at both (a restart in between leaves it empty)."""
        (t0, s0, b0, w0), (t1, s1, b1, w1) = self.marks[first], self.marks[second]
        workers = [round(w1[pid] - w0[pid], 1) for pid in sorted(w0) if pid in w1]
        return {"seconds": round(t1 - t0, 1), "standin_cpu_s": round(s1 - s0, 1), "bench_cpu_s": round(b1 - b0, 1),
                "web_workers_cpu_s": workers}  # fmt: skip

    def state(self) -> dict[str, Any]:
        import threading

        status = Path(f"/proc/{self.standin_pid}/status").read_text()
        rss_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        wal = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted((self.mongo_folder / "data").glob("*-wal"))}
        return {"standin_rss_mb": round(rss_kb / 1024, 1), "standin_wal_mb": wal,
                "bench_threads": sorted(t.name for t in threading.enumerate())}  # fmt: skip


SINGLE_WARMUPS = 8


def logged_count(predictions: Any, since: float) -> int:
    """Predictions (a bundle counts its ``n``) logged from ``since`` (epoch s) on: an ``_id`` range."""
    return predictions_logged(predictions, {"_id": {"$gte": log_id_floor(since)}})


def log_catch_up(client: Any, since: float, expected: int, batch: dict[str, Any], *,
                 timeout: float = 900.0) -> dict[str, Any]:
    """How long after the last batch answered the prediction log holds every prediction made
    since ``since`` (``expected`` of them): the log is written off the request path, so the answers
    can run ahead of it. ``batch_logged_shots_per_s`` counts that time too: the rate the log keeps up with."""
    predictions = client[WAREHOUSE_DB]["predictions"]
    started = time.perf_counter()
    count = logged_count(predictions, since)
    while count < expected and time.perf_counter() - started < timeout:
        time.sleep(0.2)
        count = logged_count(predictions, since)
    behind = time.perf_counter() - started
    shots = batch["batch_size"] * batch["batches"]
    say(f"  the prediction log held every prediction {behind:.1f} s after the last answer "
        f"({count:,} of {expected:,}): {shots / (batch['batch_wall_s'] + behind):,.0f} shots/s logged")
    return {"log_behind_s": round(behind, 1), "log_complete": count >= expected,
            "batch_logged_shots_per_s": round(shots / (batch["batch_wall_s"] + behind))}


def single_latency(web: Web, token: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Each body once over one keep-alive connection (one worker) right after a restart, then again."""
    import requests

    web.restart()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"{web.base}/api/v1/predictions"
    # Each worker's own first requests (its first token lookup, throttle lease, connections) are a
    # cold *worker*, not a cold shooter: a shooter no season has, on new connections, first.
    for _ in range(SINGLE_WARMUPS):
        requests.post(url, json={**bodies[0], "player_id": 1}, timeout=60,
                      headers={"Authorization": f"Token {token}", "Connection": "close"})
    passes: dict[str, list[float]] = {"cold": [], "warm": []}
    for name in ("cold", "warm"):
        for body in bodies:
            started = time.perf_counter()
            response = session.post(url, json=body, timeout=300)
            passes[name].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"POST {url} answered {response.status_code}: {response.text[:300]}")
        say(f"  {name}: p50 {percentile(passes[name], 0.5):.1f} ms, p99 {percentile(passes[name], 0.99):.1f} ms "
            f"over {len(bodies)} shooters")
    return {f"{name}_{q}_ms": round(percentile(values, share), 2) for name, values in passes.items()
            for q, share in (("p50", 0.5), ("p99", 0.99))}  # fmt: skip


def batch_throughput(web: Web, token: str, bodies: list[dict[str, Any]], repeats: int, *,
                     concurrency: int) -> dict[str, Any]:
    """The batch of distinct shooters once alone (the first time any of them is asked), then
    ``repeats`` times from each of ``concurrency`` client threads at once (one per worker): shots
    per second of wall time.

    Each batch goes on a new connection: two keep-alive connections can both be accepted by the
    same gunicorn worker, and the figure was then one worker's (run-to-run 9.1k to 22k shots/s on
    the same code); a new connection is accepted by whichever worker is free, as behind a proxy
    with many clients. ``web_workers_cpu_s`` in the bystanders shows the split."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    url = f"{web.base}/api/v1/predictions/batch"
    payload = json.dumps({"shots": bodies})

    def post_all(times: int) -> list[float]:
        session = requests.Session()
        session.headers.update({"Authorization": f"Token {token}", "Content-Type": "application/json",
                                "Connection": "close"})
        seconds = []
        for _ in range(times):
            started = time.perf_counter()
            response = session.post(url, data=payload, timeout=600)
            seconds.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"POST {url} answered {response.status_code}: {response.text[:300]}")
        return seconds

    first = post_all(1)[0]
    say(f"  first batch of {len(bodies)}: {first:.2f} s")
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        runs = list(pool.map(post_all, [repeats] * concurrency))
    wall = time.perf_counter() - started
    count = sum(len(r) for r in runs)
    say(f"  {count} batches of {len(bodies)} from {concurrency} client threads: {wall:.2f} s "
        f"({len(bodies) * count / wall:,.0f} shots/s)")
    return {"batch_size": len(bodies), "batch_cold_s": round(first, 2),
            "batch_cold_shots_per_s": round(len(bodies) / first), "batch_concurrency": concurrency,
            "batches": count, "batch_wall_s": round(wall, 3),
            "batch_shots_per_s": round(len(bodies) * count / wall)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seasons", type=Path, help="folder of NBA_*_Shots.csv.zip (or holding nba_shots/)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-scale",
                        help="the warehouse's data folder, kept between runs (default var/bench-scale)")
    parser.add_argument("--extra-season", help="the season imported last, full vs empty (default: the newest)")
    parser.add_argument("--cold-shooters", type=int, default=200, help="shooters in the single-prediction runs")
    parser.add_argument("--batch-size", type=int, default=1_000, help="distinct shooters per batch")
    parser.add_argument("--batches", type=int, default=25, help="warm batches per connection after the first")
    parser.add_argument("--page-requests", type=int, default=20, help="warm requests per page")
    parser.add_argument("--skip-train", action="store_true", help="keep the champion of a previous run")
    parser.add_argument("--skip-figures", action="store_true", help="keep the stored figures of a previous run")
    parser.add_argument("--skip-import", action="store_true",
                        help="keep a previous run's import rates (its extra season stays in the warehouse)")
    parser.add_argument("--prediction-log", choices=("on", "off"), default="on",
                        help="off: the web logs no prediction (splits the web's own cost from the log's; "
                             "bytes_per_prediction is then null)")
    args = parser.parse_args(argv)
    files = season_files(args.seasons)
    extra = next((f for f in files if f.name == args.extra_season), files[-1]) if args.extra_season else files[-1]
    base_files = [f for f in files if f != extra]
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    state_file = work / "state.json"
    state: dict[str, Any] = json.loads(state_file.read_text()) if state_file.exists() else {"loaded": {}, "extra": None}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: every server started here is stopped
    start_load = machine_load()
    say(f"scale benchmark: {len(files)} seasons from {files[0].parent}, work folder {work}")
    results: dict[str, Any] = {"load_at_start": start_load}

    from tests import services

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pv-bench-scale-")))
        (work / "mongo").mkdir(exist_ok=True)
        mongo_uri = stack.enter_context(services.mongodb_standin(work / "mongo"))
        redis_url = stack.enter_context(services.redis_server(scratch))
        common_env = {
            "MONGODB_URI": mongo_uri, "MONGODB_LAKE_DB": LAKE_DB, "MONGODB_WAREHOUSE_DB": WAREHOUSE_DB,
            "REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "PARIVISION_VAR_DIR": str(work / "var"), "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
            "MLFLOW_ARTIFACT_ROOT": str(work / "mlartifacts"), "LOG_LEVEL": "WARNING",
            "FIGURES_AUTO_REFRESH": "false", "CELERY_TASK_ALWAYS_EAGER": "false",
        }  # fmt: skip
        os.environ.update({"DJANGO_SETTINGS_MODULE": "parivision.settings.local", **common_env})
        import django

        django.setup()
        from django.core.management import call_command

        from parivision import mongo

        call_command("migrate", verbosity=0)
        mongo.ensure_indexes()

        started = time.perf_counter()
        load_base(base_files, state, state_file)
        results["base_load_s"] = round(time.perf_counter() - started, 1)
        # Seasons loaded by a run from before the shooter-history store: build it once (then every
        # import keeps it current, the extra season's included, so its cost is in the ratio).
        say("shooter-history store (manage.py shooter_history_backfill --if-missing) ...")
        started = time.perf_counter()
        call_command("shooter_history_backfill", if_missing=True)
        results["history_backfill_s"] = round(time.perf_counter() - started, 1)
        if args.skip_import and state.get("import"):
            results["import"] = state["import"]
            say(f"import rates of a previous run kept (--skip-import): ratio "
                f"{state['import']['import_ratio_full_vs_empty']}")
        else:
            results["import"] = import_ratio(extra, state, state_file)
            state["import"] = results["import"]
            state_file.write_text(json.dumps(state, indent=1))
        warehouse_shots = mongo.warehouse_collection(mongo.SHOTS).count_documents({})
        say(f"warehouse: {warehouse_shots:,} shots")

        from training.models import ModelVersion

        if not (args.skip_train and ModelVersion.objects.filter(is_champion=True).exists()):
            say("training (manage.py train --force: drift, both challengers, evaluation, promotion) ...")
            started = time.perf_counter()
            call_command("train", force=True)
            results["training_s"] = round(time.perf_counter() - started, 1)
            say(f"  trained in {results['training_s']} s")
        if not args.skip_figures:
            say("refreshing the stored figures (manage.py refresh_figures) ...")
            started = time.perf_counter()
            call_command("refresh_figures")
            results["refresh_figures_s"] = round(time.perf_counter() - started, 1)
            say(f"  refreshed in {results['refresh_figures_s']} s")

        from django.contrib.auth import get_user_model

        from predictions.services import token_create

        password = secrets.token_urlsafe(16)
        user, _ = get_user_model().objects.get_or_create(username="bench-scale")
        user.set_password(password)
        user.save()
        token = token_create(user=user).key
        needed = args.cold_shooters + args.batch_size
        bodies = shooters(needed, files)
        say(f"{len(bodies)} distinct shooters picked: {args.cold_shooters} for single predictions, "
            f"{args.batch_size} per batch")

        from pymongo import MongoClient

        client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
        stack.callback(client.close)
        logged_since = time.time()
        bytes_before = folder_bytes(work / "mongo" / "data", WAREHOUSE_DB)
        web_env = {
            **os.environ, **common_env, "DJANGO_SETTINGS_MODULE": "parivision.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false", "FEED_TOKEN": secrets.token_urlsafe(32),
            "API_THROTTLE_USER_RATE": "10000000/minute", "PREDICTION_LOG_ENABLED": str(args.prediction_log == "on").lower(),
            "GUNICORN_WORKERS": str(WEB_WORKERS), "GUNICORN_ACCESS_LOG": str(scratch / "access.log"),
            "SERVING_BATCH_MAX": str(max(1_000, args.batch_size)),
        }  # fmt: skip
        resident = stored_shooters(client, WAREHOUSE_DB)
        web = Web(web_env, services.free_port(), scratch, resident_players=resident)
        stack.callback(web.stop)
        bystanders = Bystanders(work / "mongo", web)
        results["bystanders"] = {"before_web": bystanders.state()}
        say(f"  before the web: {results['bystanders']['before_web']}")
        say("single predictions: cold (after a restart), then warm ...")
        bystanders.mark("single")
        results["single"] = single_latency(web, token, bodies[: args.cold_shooters])
        say("batches ...")
        bystanders.mark("batch")
        results["batch"] = batch_throughput(web, token, bodies[args.cold_shooters:], args.batches,
                                            concurrency=WEB_WORKERS)
        bystanders.mark("after")
        if args.prediction_log == "on":
            # Every request of the single and batch phases, each shot once per request.
            made = SINGLE_WARMUPS + 2 * args.cold_shooters + args.batch_size * (1 + WEB_WORKERS * args.batches)
            results["batch"].update(log_catch_up(client, logged_since, made, results["batch"]))
        results["bystanders"].update(single=bystanders.between("single", "batch"),
                                     batch=bystanders.between("batch", "after"), after_web=bystanders.state())
        say(f"  while measured: single {results['bystanders']['single']}, batch {results['bystanders']['batch']}")
        log_settled(client)
        logged = logged_count(client[WAREHOUSE_DB]["predictions"], logged_since)
        documents = client[WAREHOUSE_DB]["predictions"].count_documents({"_id": {"$gte": log_id_floor(logged_since)}})
        grown = folder_bytes(work / "mongo" / "data", WAREHOUSE_DB) - bytes_before
        results["prediction_log"] = {"logged": logged, "documents": documents, "bytes_grown": grown,
                                     "bytes_per_prediction": round(grown / logged, 1) if logged else None}  # fmt: skip
        say(f"prediction log: {logged:,} predictions in {documents:,} documents, {grown:,} bytes grown")
        say("pages and read APIs: cold right after a restart, then warm ...")
        web.restart()
        results["pages"] = pages_measure(web.base, "bench-scale", password, warm_requests=args.page_requests,
                                         cold_hits=WEB_WORKERS)
        assert web.process is not None
        results["web_peak_rss_mb"] = round(max([peak_rss_mb(p) for p in worker_pids(web.process.pid)] or [0]), 1)

    end_load = machine_load()
    single, batch, pages, imports = results["single"], results["batch"], results["pages"], results["import"]
    summary = {
        "warehouse_shots": warehouse_shots,
        "seasons": len(files),
        "cold_p50_ms": single["cold_p50_ms"], "cold_p99_ms": single["cold_p99_ms"],
        "warm_p50_ms": single["warm_p50_ms"], "warm_p99_ms": single["warm_p99_ms"],
        "batch_shots_per_s": batch["batch_shots_per_s"], "batch_cold_shots_per_s": batch["batch_cold_shots_per_s"],
        "batch_logged_shots_per_s": batch.get("batch_logged_shots_per_s"), "log_behind_s": batch.get("log_behind_s"),
        "page_p95_warm_ms": pages["page_p95_warm_ms"], "page_p95_warm_url": pages["page_p95_warm_url"],
        "page_p95_cold_ms": pages["page_p95_cold_ms"], "page_p95_cold_url": pages["page_p95_cold_url"],
        "page_errors": pages["errors"],
        "import_empty_shots_per_s": imports["empty"]["shots_per_s"],
        "import_full_shots_per_s": imports["full"]["shots_per_s"],
        "import_ratio_full_vs_empty": imports["import_ratio_full_vs_empty"],
        "training_s": results.get("training_s"), "refresh_figures_s": results.get("refresh_figures_s"),
        "bytes_per_prediction": results["prediction_log"]["bytes_per_prediction"],
        "web_peak_rss_mb": results["web_peak_rss_mb"], "prediction_log": args.prediction_log,
        "bystanders": results["bystanders"],
        "cores": end_load["cores"], "load_at_start": start_load, "load_at_end": end_load,
    }  # fmt: skip
    print()
    for name, value in summary.items():
        print(f"{name:28} {value}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
