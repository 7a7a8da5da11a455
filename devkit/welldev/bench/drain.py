"""Phase ``drain``: the change drainer's throughput (issues #33 and #87), as its role.

Records drained a second as the drainer sent them before, one ``PutEvents`` a record
(``before``: a record of a workspace a cycle's send, each entry then a call of its own), and at
up to ten entries a call (``after``), taking turns on the same records, against moto's
EventBridge served as ``make run`` serves it (its server, over HTTP) and reached across the
bench's network (``delaying_proxy.ROUND_TRIP_MS``, as every request's database): a bus, and a
rule that matches every change event and delivers it nowhere (EventBridge delivers after its
answer; moto's delivery to a queue would cost more than all the rest). 10,000 records of one
workspace, and 500 of each of 20 workspaces as sync runs leave them, a workspace's committed
together, one after another. Goal: ``after`` at least 8x ``before``. The time inside the calls
(moto's, boto3's and the network's) is timed apart: their ratio is the most the goal could show;
the rest is the drainer's own work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import statistics
import time
from collections.abc import Iterator
from typing import Any

from wellapi.store import connections
from wellapi.sync import drainer
from welldev import local_aws
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, behind_horizon
from welldev.bench.delaying_proxy import ROUND_TRIP_MS, DelayingProxy
from welldev.bench.errors import BenchError
from welldev.bench.harness import note
from welldev.bench.report import Report

RECORDS = 10_000
RUNS = 3
BENCH_RECORDS = "message_key LIKE 'bench-drain-%'"
BENCH_WORKSPACES = "name LIKE 'bench-drain-%'"
# Each case's workspaces, and each way's records of a workspace a call.
CASES = {"one_workspace": 1, "20_workspaces": 20}
WAYS = {"before": 1, "after": drainer.PER_WORKSPACE}
GOAL = 8.0
BUS = "bench-changes"


class TimedClient:
    """moto's EventBridge, its calls timed: what the drainer waits for. ``one_by_one``: each
    entry in a call of its own, as the drainer sent them before (one ``PutEvents`` a record),
    their answers given back as one."""

    def __init__(self, client: drainer.EventsClient, one_by_one: bool) -> None:
        self.client = client
        self.one_by_one = one_by_one
        self.seconds = 0.0

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            if not self.one_by_one:
                return self.client.put_events(Entries=Entries)
            answers = [self.client.put_events(Entries=[entry]) for entry in Entries]
            return {
                "FailedEntryCount": sum(a.get("FailedEntryCount", 0) for a in answers),
                "Entries": [e for a in answers for e in a["Entries"]],
            }
        finally:
            self.seconds += time.perf_counter() - started


def _insert_as_sync_runs(conn: Any, workspaces: int) -> None:
    """``workspaces`` workspaces made for the bench, and RECORDS single-id records among them,
    a workspace's in one transaction, one workspace after the other: as sync runs fill the
    outbox."""
    rows = conn.run(
        "INSERT INTO core_api.workspaces (name) SELECT 'bench-drain-' || n "
        "FROM generate_series(1, :n) n RETURNING pk",
        n=workspaces,
    )
    for (workspace,) in rows:
        conn.run(
            "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
            "detail, occurred_at, actor_kind, sync_run_id, message_key) SELECT :w, "
            "'workspace_provider', 'selected', ARRAY[gen_random_uuid()], jsonb_build_object("
            "'is_selected', true, 'is_matched', false, 'provider', gen_random_uuid(), "
            "'workspace', gen_random_uuid()), now(), 'sync', 'bench-drain', 'bench-drain-' || n "
            "FROM generate_series(1, :n) n",
            w=workspace,
            n=RECORDS // workspaces,
        )


def _drained(conn: Any, pool: connections.Pool, bus: TimedClient, way: str) -> tuple[float, float]:
    """Seconds of a run draining the bench's records (unsent again first), and of its calls."""
    conn.run(f"UPDATE core_api.change_records SET sent_at = NULL WHERE {BENCH_RECORDS}")
    conn.run("VACUUM core_api.change_records")  # every run reads alike
    started = time.perf_counter()
    report = drainer.drain(pool=pool, client=bus, bus=BUS, per_workspace=WAYS[way])
    seconds = time.perf_counter() - started
    if report.sent != RECORDS:
        raise BenchError(f"the drainer sent {report.sent} of {RECORDS} records")
    calls = RECORDS if bus.one_by_one else report.calls
    note(f"  {way}: {RECORDS / seconds:,.0f} records/s, {calls:,} PutEvents calls")
    return seconds, bus.seconds


@contextlib.contextmanager
def _events() -> Iterator[Any]:
    """A client of moto's EventBridge server, across the bench's network, with the bus."""
    from moto.server import ThreadedMotoServer  # the other phases need none

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    upstream = {"host": "127.0.0.1", "port": server.get_host_and_port()[1]}
    proxy = DelayingProxy(upstream, ROUND_TRIP_MS)
    try:
        client = local_aws.client("events", f"http://127.0.0.1:{proxy.port}", "us-east-1")
        client.create_event_bus(Name=BUS)
        pattern = json.dumps({"source": [drainer.SOURCE]})
        client.put_rule(Name="every-change", EventBusName=BUS, EventPattern=pattern)
        yield client
    finally:
        proxy.close()
        server.stop()


def _taking_turns(conn: Any, client: Any) -> dict[str, list[tuple[float, float]]]:
    """Each way's runs, taking turns (the first alternating)."""
    # The drainer's role, as the functions are connected (DRAIN_DATABASE_URL).
    pool = connections.build_pool(connections.settings_for("drain"))
    runs: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    try:
        for turn in range(RUNS):
            for way in list(WAYS)[:: 1 if turn % 2 == 0 else -1]:
                timed = TimedClient(client, one_by_one=way == "before")
                runs[way].append(_drained(conn, pool, timed, way))
    finally:
        pool.dispose()
    return runs


def _reported(report: Report, case: str, runs: dict[str, list[tuple[float, float]]]) -> None:
    """Each way's records a second, the goal; each way's milliseconds a record in the calls
    and outside them (the drainer's own), and the most the goal could show."""
    name = f"drain.{case}"
    rate, calls, own = {}, {}, {}
    for way, timed in runs.items():
        samples = [RECORDS / seconds for seconds, _ in timed]
        rate[way] = round(report.figure(f"{name}.{way}", samples, "records/s").median)
        calls[way] = round(statistics.median(c for _, c in timed) * 1000 / RECORDS, 4)
        own[way] = round(statistics.median(s - c for s, c in timed) * 1000 / RECORDS, 4)
    report.ratio(name, rate["after"] / rate["before"], GOAL, higher_is_better=True)
    found = {"records_per_second": rate, "ms_in_calls": calls, "ms_own": own}
    report.details.setdefault("drain", {})[case] = found
    note(
        f"{report.summary(name)}; ms a record in the calls {calls['before']} / {calls['after']} "
        f"(at most {calls['before'] / calls['after']:.2f}x), the drainer's own {own['before']} / "
        f"{own['after']}"
    )


def measure_drain(report: Report, bench: BenchDatabase, config: Config) -> None:
    conn = bench.admin()
    unsent = conn.run(
        "UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL RETURNING pk"
    )
    try:
        with _events() as client:
            for case, workspaces in CASES.items():
                note(f"{case}: {RECORDS:,} records of {workspaces} workspace(s)")
                conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
                _insert_as_sync_runs(conn, workspaces)
                behind_horizon(conn, BENCH_RECORDS, "nothing could be drained")
                _reported(report, case, _taking_turns(conn, client))
    finally:
        conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
        conn.run(f"DELETE FROM core_api.workspaces WHERE {BENCH_WORKSPACES}")
        if unsent:
            pks = [pk for (pk,) in unsent]
            conn.run("UPDATE core_api.change_records SET sent_at = NULL WHERE pk = ANY(:p)", p=pks)
        conn.close()
