"""Phase ``round_trips``, at a network's latency: each warm request through a proxy that
delays what crosses it, at a 0 ms and a 1 ms round trip, taking turns in one run, beside the
two Python peers (``welldev.bench.peers``) answering the same events through the same proxies.

Between a function and the database through RDS Proxy a round trip costs far more than
loopback's 0.05 ms. Every side goes through the same kind of proxy (the 0 ms one only relays),
so the difference is the delay alone: what a request pays per round trip it takes. The lead
(``lead.<case>.<n>ms``) is the faster peer's time over the API's: at least 2x (issue #50).
"""

from __future__ import annotations

import contextlib
import functools
import queue
import socket
import threading
import time
from typing import Any
from unittest import mock

import pg8000.dbapi

from wellapi.store import connections
from welldev.bench.api_requests import Case, warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.harness import (
    CONTEXT,
    collected_first,
    invoke,
    note,
    own_garbage,
    taking_turns,
    wall_ms,
)
from welldev.bench.peers import same_answer, serving
from welldev.bench.report import Report
from welldev.bench.wire import recording

ROUND_TRIPS_MS = (0.0, 1.0)
WARMUP = 3
# The requests the peers serve, and how many times slower the faster of them must be.
PEER_CASES = ("retrieve", "list_default", "list", "create")
LEAD_GOAL = 2.0


class DelayingProxy:
    """Relays TCP connections to the database, each chunk held half the round trip."""

    def __init__(self, upstream: dict[str, Any], round_trip_ms: float) -> None:
        self.upstream = upstream
        self.one_way = round_trip_ms / 2000
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if "unix_sock" in self.upstream:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.upstream["unix_sock"])
            return sock
        sock = socket.create_connection((self.upstream["host"], self.upstream["port"]))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream = self._connect_upstream()
            for source, target in ((client, upstream), (upstream, client)):
                held: queue.Queue[tuple[float, bytes]] = queue.Queue()
                threading.Thread(target=self._receive, args=(source, held), daemon=True).start()
                threading.Thread(target=self._relay, args=(target, held), daemon=True).start()

    def _receive(self, source: socket.socket, held: queue.Queue[tuple[float, bytes]]) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                held.put((time.perf_counter() + self.one_way, data))
        held.put((0.0, b""))

    @staticmethod
    def _relay(target: socket.socket, held: queue.Queue[tuple[float, bytes]]) -> None:
        with contextlib.suppress(OSError):
            while True:
                due, data = held.get()
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                target.sendall(data)

    def close(self) -> None:
        self.server.close()


def _at(pool: connections.Pool, case: Case) -> dict[str, Any]:
    # The API's reads and writes share the role's one pool when no reader is set.
    connections._pools["api"] = pool
    return case.call()


def measure_latency(report: Report, bench: BenchDatabase, config: Config) -> None:
    """``latency.<case>.<n>ms``: each warm case at a 0 and a 1 ms round trip, and what each
    round trip it takes added."""
    upstream = connections.url_connect_kwargs(bench.api_url)
    # The API role's connections through each proxy.
    through = {k: v for k, v in upstream.items() if k not in ("unix_sock", "host", "port")}
    proxies = {ms: DelayingProxy(upstream, ms) for ms in ROUND_TRIPS_MS}
    pools = {
        ms: connections.Pool(
            functools.partial(pg8000.dbapi.connect, **through, host="127.0.0.1", port=p.port),
            recycle_seconds=3600,
            read_timeout=60,
        )
        for ms, p in proxies.items()
    }
    ports = {f"{ms:g}ms": p.port for ms, p in proxies.items()}
    try:
        # The role's own pool is put back after.
        with mock.patch.dict(connections._pools), serving(bench.local.admin_url, ports) as peers:
            for case in warm_cases(bench):
                with recording() as wire:
                    ours = _at(pools[0.0], case)
                calls = {f"{ms:g}ms": functools.partial(_at, p, case) for ms, p in pools.items()}
                for peer, handlers in peers.items() if case.name in PEER_CASES else ():
                    same_answer(peer, case.name, ours, handlers["0ms"](case.event, CONTEXT))
                    for name, handler in handlers.items():
                        calls[f"{peer}.{name}"] = functools.partial(
                            invoke, handler, case.event, case.status
                        )
                with own_garbage():
                    fair = collected_first(wall_ms)
                    samples = taking_turns(calls, config.warm_iterations, WARMUP, fair)
                medians = {
                    name: report.figure(f"latency.{case.name}.{name}", ms, "ms").median
                    for name, ms in samples.items()
                }
                _report(report, case.name, medians, wire.round_trips)
    finally:
        for pool in pools.values():
            pool.dispose()
        for proxy in proxies.values():
            proxy.close()
        remove_created_rows(bench)


def _report(report: Report, case: str, medians: dict[str, float], round_trips: int) -> None:
    """What each round trip added to the API's request, and its lead over the faster peer."""
    added = (medians["1ms"] - medians["0ms"]) / max(round_trips, 1)
    report.figure(f"latency.{case}.added_per_round_trip", [added], "ms")
    leads = []
    for ms in ("0ms", "1ms"):
        peers = {
            name.partition(".")[0]: t for name, t in medians.items() if name.endswith(f".{ms}")
        }
        if peers:
            lead = report.ratio(
                f"lead.{case}.{ms}",
                min(peers.values()) / medians[ms],
                LEAD_GOAL,
                higher_is_better=True,
            )
            leads.append(
                f"at {ms}: "
                + ", ".join(f"{p} {t:.2f} ms" for p, t in peers.items())
                + f" ({lead.value:.2f}x)"
            )
    note(
        f"{case}: {medians['0ms']:.2f} ms at 0 ms, {medians['1ms']:.2f} ms at a 1 ms round trip; "
        f"{round_trips} round trips, {added:.2f} ms added each"
        + ("; the peers " + "; ".join(leads) if leads else "")
    )
