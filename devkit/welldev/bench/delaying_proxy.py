"""A network's round trip, simulated: a TCP relay that holds every chunk crossing it half the
round trip each way (``ROUND_TRIP_MS``, before PostgreSQL in phase ``latency``, before
EventBridge in phase ``drain``).

It runs in a process of its own, one ``select`` loop for every connection: relay threads in
the bench's process waited for its interpreter behind the request they relayed, and a round
trip through them added 1.4-2.2 ms where 1 ms was asked (``latency.round_trip`` says what one
adds now). Python's ``epoll`` and ``poll`` wait in whole milliseconds; ``select`` waits in
microseconds, and the last ``SPIN`` seconds before a chunk is due are polled, since a sleeping
process wakes some 35-80 us late on a virtual machine.

Standard library only: the process is spawned, and imports this module alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import heapq
import itertools
import multiprocessing
import select
import socket
import time
from typing import Any

# The bench's network: a round trip within a region (the functions' to the database, and to
# EventBridge's endpoint).
ROUND_TRIP_MS = 1.0
SPIN = 0.0001
CHUNK = 1 << 16
# prctl(PR_SET_TIMERSLACK, 1): the kernel may defer a sleeper's wake-up by 50 us by default.
PR_SET_TIMERSLACK = 29


class DelayingProxy:
    """Listens on 127.0.0.1:``port``; relays each connection to ``upstream`` (pg8000's keywords:
    ``unix_sock``, or ``host`` and ``port``), every chunk held ``round_trip_ms / 2``."""

    def __init__(self, upstream: dict[str, Any], round_trip_ms: float) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(listener.getsockname()[1])
        address = upstream.get("unix_sock") or (upstream["host"], upstream["port"])
        args = (listener, address, round_trip_ms / 2000)
        self._process = multiprocessing.get_context("spawn").Process(
            target=relay, args=args, daemon=True, name="delaying-proxy"
        )
        self._process.start()
        listener.close()  # the relay holds its own copy

    def close(self) -> None:
        self._process.kill()
        self._process.join()


def _connect(address: str | tuple[str, int]) -> socket.socket:
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address)
        return sock
    sock = socket.create_connection(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def relay(listener: socket.socket, upstream: str | tuple[str, int], one_way: float) -> None:
    """The relay's loop: accept, read whatever is readable, send whatever is due."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)
    other: dict[socket.socket, socket.socket] = {}
    due: list[tuple[float, int, socket.socket, socket.socket, bytes]] = []
    order = itertools.count()  # chunks due at the same instant leave in the order they came
    while True:
        wait = None if not due else max(0.0, due[0][0] - time.perf_counter() - SPIN)
        readable, _, _ = select.select([listener, *other], [], [], wait)
        for sock in readable:
            if sock is listener:
                client, _ = listener.accept()
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                server = _connect(upstream)
                other[client], other[server] = server, client
                continue
            try:
                data = sock.recv(CHUNK)
            except OSError:
                data = b""
            at = time.perf_counter() + one_way
            heapq.heappush(due, (at, next(order), sock, other[sock], data))
            if not data:
                del other[sock]  # read to its end: the end is passed on when due
        now = time.perf_counter()
        while due and due[0][0] <= now:
            _, _, source, target, data = heapq.heappop(due)
            with contextlib.suppress(OSError):  # its side hung up meanwhile
                if data:
                    target.sendall(data)
                else:
                    target.shutdown(socket.SHUT_WR)
            if not data and target not in other:  # both ways ended
                source.close()
                target.close()
