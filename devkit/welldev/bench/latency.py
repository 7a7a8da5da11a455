"""Phase ``round_trips``, at a network's latency: each warm request at a 0 ms and a 1 ms round
trip, taking turns in one run, beside the two Python peers (``welldev.bench.peers``) answering
the same events the same ways.

Through RDS Proxy a round trip costs far more than loopback's 0.05 ms: at 1 ms every side goes
through the same proxy (``welldev.bench.delaying_proxy``), which holds what crosses it half the
round trip each way, so the difference is what a request pays per round trip it takes;
``latency.round_trip`` says what it adds to a bare one. The lead (``lead.<case>.<n>ms``) is the
faster peer's time over the API's: at least 2x (issue #50).
"""

from __future__ import annotations

import functools
import statistics
from typing import Any
from unittest import mock

import pg8000.dbapi

from wellapi.store import connections
from wellapi.store.sql import BoundStatement
from welldev.bench.api_requests import Case, warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.delaying_proxy import DelayingProxy
from welldev.bench.harness import CONTEXT, fairly, invoke, note
from welldev.bench.peers import PEERS, same_answer, serving
from welldev.bench.report import Report
from welldev.bench.wire import recording

ROUND_TRIP_MS = 1.0
DELAYED = f"{ROUND_TRIP_MS:g}ms"
WARMUP = 3
# Each side's requests come in runs of this many back to back, as a warm environment serves
# them (its process runs its own function alone); the runs take turns. Request by request,
# each one ran after another application's in the same process, its caches cold: some 1 ms
# more a request on every side, which is no environment's.
RUN = 20
# The requests the peers serve, and how many times slower the faster of them must be.
PEER_CASES = ("retrieve", "list_default", "list", "create")
LEAD_GOAL = 2.0
# What the proxy may add to a bare round trip beyond the one it simulates: its own hop, as
# RDS Proxy's.
ROUND_TRIP_GOAL = 1.2
SELECT_ONE = BoundStatement("SELECT 1")


def _at(pool: connections.Pool, case: Case) -> dict[str, Any]:
    # The API's reads and writes share the role's one pool when no reader is set.
    connections._pools["api"] = pool
    return case.call()


def _pool(upstream: dict[str, Any], port: int | None) -> connections.Pool:
    """The API role's pool, straight to the database, or through the proxy on ``port``."""
    kwargs = dict(upstream)
    if port is not None:
        kwargs = {k: v for k, v in upstream.items() if k not in ("unix_sock", "host", "port")}
        kwargs |= {"host": "127.0.0.1", "port": port}
    connect = functools.partial(pg8000.dbapi.connect, **kwargs)
    return connections.Pool(connect, recycle_seconds=3600, read_timeout=60)


def measure_latency(report: Report, bench: BenchDatabase, config: Config) -> None:
    """``latency.<case>.<n>ms``: each warm case at a 0 and a 1 ms round trip, and what each
    round trip it takes added."""
    upstream = connections.url_connect_kwargs(bench.api_url)
    proxy = DelayingProxy(upstream, ROUND_TRIP_MS)
    # At 0 ms each side connects as it does on this machine, not through a relay's hop.
    ports = {"0ms": None, DELAYED: proxy.port}
    pools = {name: _pool(upstream, port) for name, port in ports.items()}
    try:
        _round_trip(report, pools, config)
        # The role's own pool is put back after.
        with mock.patch.dict(connections._pools), serving(bench.local.admin_url, ports) as peers:
            for case in warm_cases(bench):
                with recording() as wire:
                    ours = _at(pools["0ms"], case)
                calls = {name: functools.partial(_at, p, case) for name, p in pools.items()}
                for peer, handlers in peers.items() if case.name in PEER_CASES else ():
                    same_answer(peer, case.name, ours, handlers["0ms"](case.event, CONTEXT))
                    for name, handler in handlers.items():
                        call = functools.partial(invoke, handler, case.event, case.status)
                        calls[f"{peer}.{name}"] = call
                samples = fairly(calls, config.warm_iterations, WARMUP, run=RUN)
                medians = {
                    name: report.figure(f"latency.{case.name}.{name}", ms, "ms").median
                    for name, ms in samples.items()
                }
                _report(report, case.name, medians, wire.round_trips)
    finally:
        for pool in pools.values():
            pool.dispose()
        proxy.close()


def _round_trip(report: Report, pools: dict[str, connections.Pool], config: Config) -> None:
    """``latency.round_trip``: what the proxy adds to a bare round trip (``SELECT 1``), against
    the round trip it simulates: the network every side's figures at 1 ms stand on."""
    calls = {name: functools.partial(pool.run, (SELECT_ONE,)) for name, pool in pools.items()}
    samples = fairly(calls, config.warm_iterations, WARMUP, run=RUN)
    added = statistics.median(samples[DELAYED]) - statistics.median(samples["0ms"])
    report.figure("latency.round_trip", [added], "ms")
    report.ratio("latency.round_trip", added / ROUND_TRIP_MS, ROUND_TRIP_GOAL)


def _report(report: Report, case: str, medians: dict[str, float], round_trips: int) -> None:
    """What each round trip added to the API's request, and its lead over the faster peer."""
    added = (medians[DELAYED] - medians["0ms"]) / max(round_trips, 1)
    report.figure(f"latency.{case}.added_per_round_trip", [added], "ms")
    for ms in ("0ms", DELAYED) if case in PEER_CASES else ():
        fastest = min(medians[f"{peer}.{ms}"] for peer in PEERS)
        report.ratio(f"lead.{case}.{ms}", fastest / medians[ms], LEAD_GOAL, higher_is_better=True)
    told = f"{report.summary(f'latency.{case}')}, {round_trips} round trips"
    note(told + (f"; {report.summary(f'lead.{case}')}" if case in PEER_CASES else ""))
