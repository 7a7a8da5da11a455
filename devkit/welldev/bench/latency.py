"""Phase ``round_trips``, at a network's latency: each warm request at a 0 ms and a 1 ms round
trip, taking turns in one run, beside the two Python peers (``welldev.bench.peers``) answering
the same events the same ways.

Through RDS Proxy a round trip costs far more than loopback's 0.05 ms: at 1 ms every side goes
through the same proxy (``welldev.bench.delaying_proxy``), which holds what crosses it half the
round trip each way, so the difference is what a request pays per round trip it takes;
``latency.round_trip`` says what it adds to a bare one. The lead (``lead.<case>.<n>ms``) is the
faster peer's time over the API's: at least 2x (issue #50).

Each side's backend CPU a request is read beside its time (``latency.<case>.<side>.database``,
outside the time measured), to tell whether a round trip costs a side's database more than the
wait: a backend idle longer between requests may run the next on colder caches
(``latency.<case>.database_growth``: the API's backend CPU at 1 ms over its own at 0 ms,
against the same for the peer faster at 1 ms).
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Mapping
from typing import Any
from unittest import mock

import pg8000.dbapi

from wellapi.store import connections
from wellapi.store.sql import BoundStatement
from welldev.bench.api_requests import Case, warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.delaying_proxy import ROUND_TRIP_MS, DelayingProxy
from welldev.bench.harness import CONTEXT, fairly, invoke, note, returned, wall_and_backend_cpu_ms
from welldev.bench.peers import PEERS, backend_pid, same_answer, serving
from welldev.bench.report import Report
from welldev.bench.wire import recording

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
BACKEND_PID = BoundStatement("SELECT pg_backend_pid()")


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
        with (
            mock.patch.dict(connections._pools),
            serving(bench.local.admin_url, ports) as peers,
            bench.admin() as admin,
        ):
            for case in warm_cases(bench):
                with recording() as wire:
                    ours = _at(pools["0ms"], case)
                calls = {name: functools.partial(_at, p, case) for name, p in pools.items()}
                for peer, handlers in peers.items() if case.name in PEER_CASES else ():
                    same_answer(peer, case.name, ours, handlers["0ms"](case.event, CONTEXT))
                    for name, handler in handlers.items():
                        call = functools.partial(invoke, handler, case.event, case.status)
                        calls[f"{peer}.{name}"] = call
                samples = _measured(admin, pools, calls, config)
                medians = {
                    name: report.figure(f"latency.{case.name}.{name}", ms, "ms").median
                    for name, (ms, _) in samples.items()
                }
                if case.name in PEER_CASES:  # its figures in the note _report writes
                    _database(report, case.name, medians, samples)
                _report(report, case.name, medians, wire.round_trips)
    finally:
        for pool in pools.values():
            pool.dispose()
        proxy.close()


def _measured(
    admin: Any,
    pools: dict[str, connections.Pool],
    calls: Mapping[str, Callable[[], Any]],
    config: Config,
) -> dict[str, tuple[list[float], list[float]]]:
    """Each side's times a request and its backend's CPU milliseconds meanwhile, taking turns."""
    pids = _backends(admin, pools, calls)
    timed = {n: functools.partial(wall_and_backend_cpu_ms, pids[n], c) for n, c in calls.items()}
    samples = fairly(timed, config.warm_iterations, WARMUP, returned, run=RUN)
    return {name: ([p[0] for p in pairs], [p[1] for p in pairs]) for name, pairs in samples.items()}


def _backends(
    admin: Any, pools: dict[str, connections.Pool], calls: Mapping[str, Callable[[], Any]]
) -> dict[str, int]:
    """The backend serving each side's calls: the API's pool's one connection, a peer's own
    (each side called once first, so that each has connected)."""
    for call in calls.values():
        call()
    pids = {name: int(pool.run((BACKEND_PID,))[0][0]) for name, pool in pools.items()}
    for name in calls.keys() - pools.keys():
        peer, _, side = name.partition(".")
        pids[name] = backend_pid(admin, peer, side)
    return pids


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


def _database(
    report: Report,
    case: str,
    medians: dict[str, float],
    samples: dict[str, tuple[list[float], list[float]]],
) -> None:
    """``latency.<case>.<side>.database``: each side's backend CPU a request;
    ``latency.<case>.database_growth``: how much more the API's backend spent a request at 1 ms
    than at 0 ms, over the same for the peer faster at 1 ms (1: a round trip costs both
    databases alike)."""
    database = {}
    for name, (_, cpu) in samples.items():
        report.figure(f"latency.{case}.{name}.database", cpu, "ms")
        database[name] = statistics.fmean(cpu)  # a mean: the run's CPU over its requests

    def growth(prefix: str) -> float:
        return database[f"{prefix}{DELAYED}"] / database[f"{prefix}0ms"]

    fastest = min(PEERS, key=lambda peer: medians[f"{peer}.{DELAYED}"])
    report.figure(f"latency.{case}.database_growth", [growth("") / growth(f"{fastest}.")], "x")
