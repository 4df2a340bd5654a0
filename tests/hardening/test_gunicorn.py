"""Under real gunicorn: early refusals keep the connection usable; each server has its own control socket."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from predictions.services import token_create
from tests import services
from tests.hardening.conftest import shot
from tests.predictions.conftest import Store
from tests.predictions.test_multiprocess import _env
from training.ml.registry import CHAMPION

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("mongo_db")]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], folder: Path, *, ready: str = "/healthz") -> Iterator[tuple[str, int, int]]:
    """A gunicorn with two workers on a free port: (url, port, master pid)."""
    port = services.free_port()
    log = folder / f"gunicorn-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "parivision.wsgi", "-c", "parivision/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        services.wait_until(lambda: requests.get(f"{url}{ready}", timeout=5).status_code == 200, timeout=90,
                            what="gunicorn", log=log)
        yield url, port, process.pid
    finally:
        services.stop(process, grace=30)


def post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> Any:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    payload = response.read()
    return response, payload


def test_early_refusals_to_large_posts_keep_the_connection_and_oversized_bodies_close_it(
    service_urls: dict[str, str], mlflow_store: Store, tmp_path: Path, django_user_model: Any
) -> None:
    mlflow_store.registry().alias_set(version=1, alias=CHAMPION)
    user = django_user_model.objects.create_user(username="keepalive", password="pw-keepalive-123")
    token = {"Authorization": f"Token {token_create(user=user).key}"}
    env = _env(service_urls, mlflow_store, tmp_path, API_THROTTLE_USER_RATE="3/minute",
               API_MAX_BODY_BYTES="1000000", GUNICORN_ACCESS_LOG=str(tmp_path / "access.log"))
    batch = json.dumps({"shots": [shot()] * 1_000}).encode()  # ~170 kB: more than gunicorn drains itself
    assert 100_000 < len(batch) < 1_000_000
    with gunicorn(env, tmp_path, ready="/readyz") as (_, port, _pid):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        local = conn.sock.getsockname()
        refusals = [
            ("401", "/api/v1/predictions/batch", batch, {}),
            ("403", "/api/v1/pipeline/runs", batch, token),
            ("415", "/api/v1/predictions/batch", batch, {**token, "Content-Type": "text/plain"}),
        ]
        for expected, path, body, headers in refusals:
            response, payload = post(conn, path, body, headers)
            assert str(response.status) == expected, payload[:300]
            assert response.getheader("Connection", "").lower() == "keep-alive"
            assert json.loads(payload)["code"]
            conn.request("GET", "/healthz")  # the same connection still answers
            again = conn.getresponse()
            assert again.status == 200
            again.read()
            assert conn.sock is not None
            assert conn.sock.getsockname() == local, expected
        # The user's budget: 3 a minute (the 415 above spent one).
        statuses = [post(conn, "/api/v1/predictions/batch", batch, token)[0] for _ in range(3)]
        assert [r.status for r in statuses] == [200, 200, 429]
        assert int(statuses[-1].getheader("Retry-After")) > 0
        conn.request("GET", "/healthz")
        after_429 = conn.getresponse()
        after_429.read()
        assert after_429.status == 200
        assert conn.sock.getsockname() == local

        # Too large to read: 413, said to close, and closed. The client sends all 8.5 MB before it
        # reads the answer: the server drops them after answering, or its close would be a reset
        # that destroys the 413 (a "broken pipe" here).
        huge = b'{"shots": [' + b'{"player_id": 1},' * 500_000 + b'{"player_id": 1}]}'
        assert len(huge) > 8_000_000
        response, payload = post(conn, "/api/v1/predictions/batch", huge, token)
        assert response.status == 413
        assert response.getheader("Connection", "").lower() == "close"
        assert json.loads(payload)["code"] == "payload_too_large"
        conn.close()

        # The same through requests, five times over fresh connections.
        for _ in range(5):
            answer = requests.post(f"http://127.0.0.1:{port}/api/v1/predictions/batch", data=huge,
                                   headers={"Content-Type": "application/json", **token}, timeout=30)
            assert answer.status_code == 413
            assert answer.json()["code"] == "payload_too_large"


def test_a_client_that_expects_100_continue_gets_the_413_instead_and_never_sends_the_body(
    service_urls: dict[str, str], mlflow_store: Store, tmp_path: Path
) -> None:
    env = _env(service_urls, mlflow_store, tmp_path, SERVING_WARM_UP="false", API_MAX_BODY_BYTES="1000000")
    with gunicorn(env, tmp_path) as (_, port, _pid):
        head = (b"POST /api/v1/predictions/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head % 5_000_000)
            answer = _rest(sock)  # the server answers and closes without waiting for the body
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"100 Continue" not in answer
        assert b'"payload_too_large"' in answer
        assert b"connection: close" in answer.lower()

        # Within the limit, the go-ahead comes first, as before.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head % 2)
            assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n")
            sock.sendall(b"{}")
            assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")


def _rest(sock: socket.socket) -> bytes:
    """What ``sock`` receives until the server closes it."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _control_socket(tmp_path: Path, pid: int) -> Path:
    import tempfile

    for candidate in (tmp_path / "var" / "run" / f"gunicorn-{pid}.ctl",
                      Path(tempfile.gettempdir()) / f"parivision-gunicorn-{pid}.ctl"):
        if candidate.exists():
            return candidate
    raise AssertionError(f"no control socket for gunicorn {pid}")
