"""gunicorn settings for the web process (overridable with GUNICORN_* environment variables).

Prometheus: every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` (emptied when
the server starts) and /metrics aggregates them. This file sets the variable before any
worker imports prometheus_client, which decides its storage at import time.
"""

import os
import shutil
import tempfile
from pathlib import Path

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The same access line, written without gunicorn's per-request dictionary of every header.
logger_class = "parivision.gunicorn_logging.AccessLogger"
errorlog = "-"
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 50

_var = Path(os.environ.get("PARIVISION_VAR_DIR") or Path(__file__).resolve().parents[1] / "var")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus" / "web"))
# A web request must not wait 10 s for an unreachable MongoDB: fail over to a 503 within a second.
os.environ.setdefault("MONGODB_SERVER_SELECTION_TIMEOUT_MS", "800")


def _control_socket_path() -> str:
    """gunicorn's control socket, one per server (master pid), never one path shared by every gunicorn.

    GUNICORN_CONTROL_SOCKET names it; ``off`` disables it. A Unix socket path must stay short
    (108 bytes): a deep var/ falls back to the temporary folder.
    """
    folder = _var / "run"
    path = folder / f"gunicorn-{os.getpid()}.ctl"
    if len(str(path)) > 100:
        folder = Path(tempfile.gettempdir())
        path = folder / f"parivision-gunicorn-{os.getpid()}.ctl"
    folder.mkdir(parents=True, exist_ok=True)
    return str(path)


_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control.lower() in ("off", "false", "0", "none"):
    control_socket_disable = True
else:
    control_socket = _control or _control_socket_path()

# One thread per worker for numpy/XGBoost/OpenMP: gunicorn's threads already share the cores.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def on_starting(server):
    """A fresh metrics folder per server start: samples of a previous run's workers are gone."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def post_worker_init(worker):
    """Load the champion and the shooter histories in the background so the worker's first
    requests do not wait for them.

    The application is imported by now: its objects (Django, DRF, numpy, pandas, MLflow...) live
    as long as the worker, so they are moved out of the garbage collector's sight (``gc.freeze``).
    Otherwise each full collection walks them all, a pause of tens of milliseconds in the middle
    of whatever requests are running.
    """
    import gc

    gc.freeze()
    from django.conf import settings

    if settings.SERVING_WARM_UP:
        from predictions import serving

        serving.warm_up_in_background()
    if settings.SERVING_HISTORY_RESIDENT:
        from predictions import history

        history.resident_start()


def pre_request(worker, req):
    """A body too large to accept is never read: say ``Connection: close`` and close after the 413.

    Unread bytes on a keep-alive connection would otherwise make gunicorn drop it after having
    announced keep-alive (parivision/middleware.py drains the smaller bodies a view did not read).
    A client that asked ``Expect: 100-continue`` gets the 413 instead of a go-ahead, so it never
    sends the body; one that sends it anyway has it dropped after the answer (``post_request``).
    """
    from django.conf import settings

    from parivision.middleware import length_of

    raw = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), None)
    if raw is None:
        return
    length = length_of(raw)
    if length is None:
        req.must_close = True
    elif length > settings.API_MAX_BODY_BYTES:
        req.must_close = True
        req.parivision_refused_length = length
        if getattr(req, "_expected_100_continue", False):
            req._expected_100_continue = False  # answer with the 413, not "100 Continue"


def post_request(worker, req, environ, resp):
    """After a 413 for a body never read: drop what the client still sends before gunicorn closes
    the connection, so the answer reaches it instead of being destroyed by a reset
    (parivision/lingering.py)."""
    length = getattr(req, "parivision_refused_length", None)
    sock = environ.get("gunicorn.socket") if environ else None
    if length is None or sock is None:
        return
    from parivision import lingering

    lingering.drain_after_answer(sock, req.body.read, length)


def worker_exit(server, worker):
    """Write the predictions still buffered before the worker goes (nothing lost on a clean stop)."""
    try:
        from predictions.log import prediction_log
    except Exception:  # the app never loaded in this worker: nothing was buffered
        return
    prediction_log.shutdown()


def child_exit(server, worker):
    """Drop the dead worker's live gauges (e.g. parivision_model_loaded) from the aggregate."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
