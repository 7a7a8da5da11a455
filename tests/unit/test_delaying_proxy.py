"""welldev.bench.delaying_proxy: the bench's simulated network relays every byte both ways, in
order, holds each chunk at least half the round trip each way, and passes a hang-up on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from welldev.bench.delaying_proxy import DelayingProxy

ROUND_TRIP_MS = 40.0


def _echo(conn: socket.socket) -> None:
    """Answers with what was sent, until the other side hangs up; then hangs up too."""
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


def _serve(listener: socket.socket) -> None:
    """Each connection echoed on a thread of its own."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_echo, args=(conn,), daemon=True).start()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[DelayingProxy]:
    path = str(tmp_path / "echo.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    threading.Thread(target=_serve, args=(listener,), daemon=True).start()
    relay = DelayingProxy({"unix_sock": path}, ROUND_TRIP_MS)
    yield relay
    relay.close()
    listener.close()


def _received(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the relay hung up early"
        data += chunk
    return data


def test_a_round_trip_through_it_takes_at_least_the_round_trip_it_simulates(
    proxy: DelayingProxy,
) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port)) as client:
        started = time.perf_counter()
        client.sendall(b"ping")
        assert _received(client, 4) == b"ping"
        assert time.perf_counter() - started >= ROUND_TRIP_MS / 1000


def test_chunks_arrive_whole_and_in_the_order_they_were_sent(proxy: DelayingProxy) -> None:
    sent = [bytes([n]) * (1000 + n) for n in range(20)]
    with socket.create_connection(("127.0.0.1", proxy.port)) as client:
        for chunk in sent:
            client.sendall(chunk)
        assert _received(client, sum(map(len, sent))) == b"".join(sent)


def test_a_hang_up_reaches_the_other_side(proxy: DelayingProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port)) as client:
        client.sendall(b"last words")
        client.shutdown(socket.SHUT_WR)
        assert _received(client, 10) == b"last words"
        assert client.recv(1) == b""  # the server hung up in turn, and the relay said so


def test_each_connection_is_relayed_on_its_own(proxy: DelayingProxy) -> None:
    clients = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(3)]
    try:
        for n, client in enumerate(clients):
            client.sendall(f"client {n}".encode())
        assert [_received(c, 8) for c in clients] == [f"client {n}".encode() for n in range(3)]
    finally:
        for client in clients:
            client.close()
