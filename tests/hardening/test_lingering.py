"""parivision/lingering.py: after refusing a body, drop what the client still sends, within bounds."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from parivision import lingering
from parivision.middleware import length_of

Pair = tuple[socket.socket, socket.socket]


@pytest.fixture
def pair() -> Iterator[Pair]:
    """A connected (server, client) pair, both closed after the test (closing twice is fine)."""
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def _send_later(sock: socket.socket, payload: bytes) -> threading.Thread:
    def send() -> None:
        with contextlib.suppress(OSError):  # cut off by the receiver: what the byte cap is for
            sock.sendall(payload)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_the_whole_declared_body_is_dropped_and_the_peer_sees_an_orderly_end(pair: Pair) -> None:
    server, client = pair
    body = b"x" * 3_000_000  # far more than a socket buffer: the sender blocks until it is read
    sender = _send_later(client, body)
    dropped = lingering.drain_after_answer(server, server.recv, len(body), seconds=10)
    sender.join(timeout=10)
    assert not sender.is_alive()
    assert dropped == len(body)
    assert server.fileno() != -1  # still open: gunicorn closes it
    assert client.recv(1) == b""  # the server said it is done sending: an end, not a reset


def test_it_stops_at_the_declared_length_without_waiting_for_more(pair: Pair) -> None:
    server, client = pair
    client.sendall(b"y" * 1000)
    started = time.monotonic()
    dropped = lingering.drain_after_answer(server, server.recv, 600, seconds=5)
    assert dropped == 600
    assert time.monotonic() - started < 1


def test_a_client_that_stalls_is_cut_off_at_the_time_limit(pair: Pair) -> None:
    server, client = pair
    client.sendall(b"z" * 100)
    started = time.monotonic()
    dropped = lingering.drain_after_answer(server, server.recv, 10_000, seconds=0.3)
    elapsed = time.monotonic() - started
    assert dropped == 100
    assert 0.25 < elapsed < 2


def test_the_byte_cap_bounds_a_huge_declared_length(pair: Pair) -> None:
    server, client = pair
    sender = _send_later(client, b"w" * 200_000)
    dropped = lingering.drain_after_answer(server, server.recv, 10**12, seconds=5, cap=50_000)
    assert dropped == 50_000
    server.close()  # cuts the sender off
    sender.join(timeout=5)


def test_a_peer_that_has_gone_is_not_an_error(pair: Pair) -> None:
    server, client = pair
    client.close()
    assert lingering.drain_after_answer(server, server.recv, 1000, seconds=1) == 0
    server.close()


def test_an_end_of_stream_before_the_declared_length_ends_the_drain(pair: Pair) -> None:
    server, client = pair
    client.sendall(b"v" * 10)
    client.shutdown(socket.SHUT_WR)
    started = time.monotonic()
    assert lingering.drain_after_answer(server, server.recv, 1000, seconds=5) == 10
    assert time.monotonic() - started < 1


def test_a_content_length_is_read_only_as_a_plain_number() -> None:
    # The one rule for the header, shared by gunicorn's pre_request and RequestBodyMiddleware.
    assert length_of("123") == 123
    for raw in ("-1", "1e3", " 12", "١٢", ""):
        assert length_of(raw) is None, raw


def test_gunicorn_can_still_close_the_connection_after_the_drain(pair: Pair) -> None:
    # gunicorn's finish_request closes every connection it will not keep (setblocking, then its
    # graceful close): that must work on a drained socket, or it counts the connection's end twice.
    from gunicorn import util

    server, client = pair
    client.sendall(b"u" * 100)
    lingering.drain_after_answer(server, server.recv, 100, seconds=1)
    client.close()
    server.setblocking(True)
    util.close_graceful(server)
    assert server.fileno() == -1
