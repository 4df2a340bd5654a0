"""Closing a connection whose request body was refused without being read (a 413).

The client is usually still sending that body when the answer goes out. Closing the socket with
unread bytes in its receive buffer makes the kernel send a reset instead of a clean end, and a
reset can destroy the 413 before the client reads it: the client sees "broken pipe" or
"connection reset" instead of the reason. gunicorn's own graceful close drains only 64 KiB, less
than the bodies this limit is there for.

So after the answer has been written, the server says it is done sending (``shutdown(SHUT_WR)``)
and reads and drops what the client still sends, up to the length it declared, within a byte
cap and a time limit (a thread is held meanwhile; a client that keeps sending beyond either is
cut off, as before). gunicorn then closes the connection as usual.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

CHUNK = 64 * 1024
DEFAULT_SECONDS = 3.0
DEFAULT_CAP = 64 * 1024 * 1024


def drain_after_answer(sock: socket.socket, read: Callable[[int], bytes], wanted: int, *,
                       seconds: float = DEFAULT_SECONDS, cap: int = DEFAULT_CAP) -> int:
    """Half-close ``sock`` (the answer is out) and drop up to ``min(wanted, cap)`` bytes read with
    ``read`` (gunicorn's body reader, which knows what it has buffered already) within ``seconds``.

    Returns the bytes dropped. Never raises for a peer that has gone away. The socket stays open:
    gunicorn closes it as it closes any connection it will not keep (a socket closed here would
    make that close fail and gunicorn count the connection's end twice).
    """
    dropped = 0
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return 0
    wanted = min(wanted, cap)
    deadline = time.monotonic() + seconds
    while dropped < wanted:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            sock.settimeout(remaining)
            data = read(min(CHUNK, wanted - dropped))
        except OSError:  # a timeout or a reset: nothing more to wait for
            break
        if not data:
            break
        dropped += len(data)
    return dropped
