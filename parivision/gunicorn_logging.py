"""gunicorn's access log line, written without building gunicorn's full set of log atoms.

For every request gunicorn's ``Logger.access`` builds a dictionary of some twenty atoms plus one
entry per request header, response header and WSGI environ variable (about a hundred), then
copies it to escape quotes, whatever the format uses. On the prediction endpoint that was about
a twentieth of a web worker's CPU (py-spy, one worker, one thread).

``AccessLogger`` writes the same line for gunicorn's default format (Apache's combined log
format, ``access_log_format`` unset): the same fields, the same escaping of double quotes, the
same ``gunicorn.access`` logger and handlers (so ``--access-logfile``, log reopening on USR1 and
syslog behave as before). A custom ``access_log_format`` (``GUNICORN_CMD_ARGS``) goes through
gunicorn's own code, which knows every atom.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from gunicorn.glogging import Logger

# gunicorn's default access_log_format (Apache's combined format): the one format written here.
COMBINED_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _safe(value: Any) -> str:
    """An atom as gunicorn's SafeAtoms prints it: double quotes escaped in strings."""
    return value.replace('"', '\\"') if isinstance(value, str) else str(value)


class AccessLogger(Logger):
    _now_second = -1
    _now_text = ""

    def now(self) -> str:
        """The request time in Apache's format, formatted once a second."""
        second = int(time.time())
        if second != self._now_second:
            self._now_text = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second))
            self._now_second = second
        return self._now_text

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        if self.cfg.access_log_format != COMBINED_FORMAT:
            super().access(resp, req, environ, request_time)
            return
        try:
            self.access_log.info("%s", self.combined_line(resp, environ))
        except Exception:
            self.error(traceback.format_exc())

    def combined_line(self, resp: Any, environ: dict[str, Any]) -> str:
        """``h l u t "r" s b "f" "a"``, as gunicorn formats its default access line."""
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        user = self._get_user(environ) if "HTTP_AUTHORIZATION" in environ else None
        request_line = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        return (
            f"{_safe(environ.get('REMOTE_ADDR', '-'))} - {_safe(user) if user else '-'} {self.now()} "
            f'"{_safe(request_line)}" {status} {sent if sent is not None else "-"} '
            f'"{_safe(environ.get("HTTP_REFERER", "-"))}" "{_safe(environ.get("HTTP_USER_AGENT", "-"))}"'
        )
