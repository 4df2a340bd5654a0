"""parivision/lingering.py: after refusing a body, drop what the client still sends, within bounds."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from parivision import lingering


def _pair() -> tuple[socket.socket, socket.socket]:
    server, client = socket.socketpair()
    return server, client


def _send_later(sock: socket.socket, payload: bytes) -> threading.Thread:
    def send() -> None:
        with contextlib.suppress(OSError):  # cut off by the receiver: what the byte cap is for
            sock.sendall(payload)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_the_whole_declared_body_is_dropped_and_the_peer_sees_an_orderly_end() -> None:
    server, client = _pair()
    body = b"x" * 3_000_000  # far more than a socket buffer: the sender blocks until it is read
    sender = _send_later(client, body)
    dropped = lingering.drain_after_answer(server, server.recv, len(body), seconds=10)
    sender.join(timeout=10)
    assert not sender.is_alive()
    assert dropped == len(body)
    assert server.fileno() != -1  # still open: gunicorn closes it
    assert client.recv(1) == b""  # the server said it is done sending: an end, not a reset
    server.close()
    client.close()


def test_it_stops_at_the_declared_length_without_waiting_for_more() -> None:
    server, client = _pair()
    client.sendall(b"y" * 1000)
    started = time.monotonic()
    dropped = lingering.drain_after_answer(server, server.recv, 600, seconds=5)
    assert dropped == 600
    assert time.monotonic() - started < 1
    server.close()
    client.close()


def test_a_client_that_stalls_is_cut_off_at_the_time_limit() -> None:
    server, client = _pair()
    client.sendall(b"z" * 100)
    started = time.monotonic()
    dropped = lingering.drain_after_answer(server, server.recv, 10_000, seconds=0.3)
    elapsed = time.monotonic() - started
    assert dropped == 100
    assert 0.25 < elapsed < 2
    server.close()
    client.close()


def test_the_byte_cap_bounds_a_huge_declared_length() -> None:
    server, client = _pair()
    sender = _send_later(client, b"w" * 200_000)
    dropped = lingering.drain_after_answer(server, server.recv, 10**12, seconds=5, cap=50_000)
    assert dropped == 50_000
    server.close()
    client.close()
    sender.join(timeout=5)


def test_a_peer_that_has_gone_is_not_an_error() -> None:
    server, client = _pair()
    client.close()
    assert lingering.drain_after_answer(server, server.recv, 1000, seconds=1) == 0
    server.close()


def test_an_end_of_stream_before_the_declared_length_ends_the_drain() -> None:
    server, client = _pair()
    client.sendall(b"v" * 10)
    client.shutdown(socket.SHUT_WR)
    started = time.monotonic()
    assert lingering.drain_after_answer(server, server.recv, 1000, seconds=5) == 10
    assert time.monotonic() - started < 1
    server.close()
    client.close()


def test_declared_length_reads_only_a_plain_number() -> None:
    assert lingering.declared_length([("HOST", "x"), ("CONTENT-LENGTH", "123")]) == 123
    assert lingering.declared_length([("HOST", "x")]) is None
    for raw in ("-1", "1e3", " 12", "١٢", ""):
        assert lingering.declared_length([("CONTENT-LENGTH", raw)]) is None, raw


def test_gunicorn_can_still_close_the_connection_after_the_drain() -> None:
    # gunicorn's finish_request closes every connection it will not keep (setblocking, then its
    # graceful close): that must work on a drained socket, or it counts the connection's end twice.
    from gunicorn import util

    server, client = _pair()
    client.sendall(b"u" * 100)
    lingering.drain_after_answer(server, server.recv, 100, seconds=1)
    client.close()
    server.setblocking(True)
    util.close_graceful(server)
    assert server.fileno() == -1
