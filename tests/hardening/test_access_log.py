"""The web's access log line is gunicorn's own, character for character."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from parivision.gunicorn_logging import COMBINED_FORMAT, AccessLogger


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def logged(logger_class: type[Logger], environ: dict[str, Any], resp: Any, cfg: Config) -> str:
    cfg.set("accesslog", "-")
    logger = logger_class(cfg)
    capture = Capture()
    logger.access_log.handlers = [capture]
    req = SimpleNamespace(headers=[("HOST", "127.0.0.1"), ("USER-AGENT", environ.get("HTTP_USER_AGENT", ""))])
    logger.access(resp, req, environ, dt.timedelta(microseconds=1234))
    assert len(capture.lines) == 1
    return capture.lines[0]


def environ_of(**extra: Any) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/predictions?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "10.0.0.7", "PATH_INFO": "/api/v1/predictions", "QUERY_STRING": "x=1", **extra}


CASES = {
    "plain": (environ_of(), SimpleNamespace(status="200 OK", sent=187, headers=[("Content-Type", "application/json")])),
    "quotes everywhere": (
        environ_of(HTTP_USER_AGENT='curl "8.5"', HTTP_REFERER='https://x/"a"', RAW_URI='/a"b'),
        SimpleNamespace(status="404 Not Found", sent=0, headers=[])),
    "basic auth user": (
        environ_of(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b'ana"x:secret').decode()),
        SimpleNamespace(status="401 Unauthorized", sent=55, headers=[])),
    "token auth, nothing sent": (
        environ_of(HTTP_AUTHORIZATION="Token abc"), SimpleNamespace(status="500 Internal Server Error", sent=None,
                                                                     headers=[])),
    "integer status": (environ_of(REMOTE_ADDR=""), SimpleNamespace(status=204, sent=0, headers=[])),
}


@pytest.mark.parametrize("case", CASES)
def test_the_line_is_the_one_gunicorn_writes(case: str) -> None:
    environ, resp = CASES[case]
    cfg = Config()
    assert cfg.access_log_format == COMBINED_FORMAT  # gunicorn's default is the format written here
    theirs, ours = logged(Logger, environ, resp, cfg), logged(AccessLogger, environ, resp, cfg)
    # The time is the one field that may differ (a second boundary between the two calls).
    assert ours.split("[", 1)[0] == theirs.split("[", 1)[0]
    assert ours.split("]", 1)[1] == theirs.split("]", 1)[1]
    assert ours[len(ours.split("[", 1)[0]):].startswith("[")
    assert len(ours) == len(theirs)


def test_a_custom_format_is_left_to_gunicorn() -> None:
    environ, resp = CASES["plain"]
    cfg = Config()
    cfg.set("access_log_format", '%(h)s %(s)s %(M)s "%({content-type}o)s"')
    assert logged(AccessLogger, environ, resp, cfg) == '10.0.0.7 200 1 "application/json"'


def test_the_web_server_config_uses_it(tmp_path: Path) -> None:
    # In a child process: the config file sets environment variables (PROMETHEUS_MULTIPROC_DIR...)
    # that must not leak into this test process and the servers later tests start.
    script = (
        "from gunicorn.app.base import Application\n"
        "class Probe(Application):\n"
        "    def init(self, *args): return None\n"
        "    def load_config(self): self.load_config_from_file('parivision/gunicorn.conf.py')\n"
        "    def load(self): return None\n"
        "c = Probe().cfg.logger_class\n"
        "print(c.__module__ + '.' + c.__name__)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PARIVISION_VAR_DIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                            check=True, timeout=60)  # fmt: skip
    assert result.stdout.split()[-1] == "parivision.gunicorn_logging.AccessLogger"
