"""Phase ``drain``: the change drainer's throughput (issues #33 and #87), as its role.

Against moto's EventBridge in this process (``mock_aws``: a bus, and a rule that matches every
change event and delivers it nowhere, since moto's delivery to a queue costs more an event than
all the rest together), records drained a second at one record of a workspace a call
(``per_workspace=1``, ``before``) and at ten (``after``), taking turns on the same records:
10,000 of one workspace, and 500 of each of 20 workspaces as sync runs leave them, each
workspace's committed together, one workspace after another. Goal: ``after`` at least 8x
``before`` in both. In AWS a call waits for EventBridge's round trip, tens of ms; moto answers
in about one, so what it and boto3 do for each entry (parse, copy, match: some 0.1 ms) weighs
far more here: the time a record spends in the calls, timed apart, says the most the ratio
could be with no work of the drainer's at all.

Against a stub that accepts every entry at once (``drain.stub.*``), the drainer's own work:
records of many workspaces, interleaved, and of one.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wellapi.store import connections
from wellapi.sync import drainer
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, behind_horizon
from welldev.bench.errors import BenchError
from welldev.bench.harness import note
from welldev.bench.report import Report

DRAIN_RECORDS = 10_000
DRAIN_WORKSPACES = 100
DRAIN_RUNS = 3
BENCH_RECORDS = "message_key LIKE 'bench-drain-%'"
BENCH_WORKSPACES = "name LIKE 'bench-drain-%'"
# Against moto: each case's workspaces and records of each, and the entries of one workspace a
# call of each way.
CASES = {"one_workspace": (1, DRAIN_RECORDS), "20_workspaces": (20, DRAIN_RECORDS // 20)}
WAYS = {"before": 1, "after": drainer.PER_WORKSPACE}
GOAL = 8.0
BUS = "bench-changes"
REGION = "us-east-1"


class AcceptingBus:
    """EventBridge as fast as it could be: every entry accepted, nothing kept."""

    entries = 0

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ids = range(self.entries + 1, self.entries + len(Entries) + 1)
        self.entries += len(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in ids]}


@contextlib.contextmanager
def moto_bus() -> Iterator[drainer.EventsClient]:
    """moto's EventBridge in this process, with the bus and its rule, meanwhile."""
    import boto3  # the other phases need neither
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("events", region_name=REGION)
        client.create_event_bus(Name=BUS)
        pattern = json.dumps({"source": [drainer.SOURCE]})
        client.put_rule(Name="every-change", EventBusName=BUS, EventPattern=pattern)
        yield client


def _insert_records(conn: Any, workspaces: list[int], count: int) -> None:
    """``count`` single-id records, spread over ``workspaces`` in turn, in one transaction."""
    conn.run(
        "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, detail, "
        "occurred_at, actor_kind, sync_run_id, message_key) "
        "SELECT (:w::bigint[])[1 + n % cardinality(:w::bigint[])], 'workspace_provider', "
        "'selected', ARRAY[gen_random_uuid()], jsonb_build_object('is_selected', true, "
        "'is_matched', false, 'provider', gen_random_uuid(), 'workspace', gen_random_uuid()), "
        "now(), 'sync', 'bench-drain', 'bench-drain-' || n FROM generate_series(1, :n) n",
        w=workspaces,
        n=count,
    )


def _insert_as_sync_runs(conn: Any, count: int, each: int) -> None:
    """``count`` workspaces made for the bench (``bench-drain-<n>``), and ``each`` records of
    every one, a workspace's in one transaction, one workspace after the other: the outbox as
    sync runs fill it."""
    rows = conn.run(
        "INSERT INTO core_api.workspaces (name) SELECT 'bench-drain-' || n "
        "FROM generate_series(1, :n) n RETURNING pk",
        n=count,
    )
    for (workspace,) in rows:
        _insert_records(conn, [int(workspace)], each)


def _pending(conn: Any) -> None:
    """The bench's records unsent again, and the table vacuumed, so that every run reads alike."""
    conn.run(f"UPDATE core_api.change_records SET sent_at = NULL WHERE {BENCH_RECORDS}")
    conn.run("VACUUM core_api.change_records")


@dataclass(frozen=True)
class Drained:
    """A run draining the bench's records: its seconds, its calls, and the seconds in them."""

    seconds: float
    calls: int
    in_calls: float


class TimedClient:
    """A client whose calls are timed: what the drainer waits for, apart from its own work."""

    def __init__(self, client: drainer.EventsClient) -> None:
        self.client = client
        self.seconds = 0.0

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return self.client.put_events(Entries=Entries)
        finally:
            self.seconds += time.perf_counter() - started


def _drained(
    conn: Any, pool: connections.Pool, client: drainer.EventsClient, per_workspace: int
) -> Drained:
    """A run draining the bench's records, unsent again first."""
    _pending(conn)
    timed = TimedClient(client)
    started = time.perf_counter()
    report = drainer.drain(pool=pool, client=timed, bus=BUS, per_workspace=per_workspace)
    seconds = time.perf_counter() - started
    if report.sent != DRAIN_RECORDS:
        raise BenchError(f"the drainer sent {report.sent} of {DRAIN_RECORDS} records")
    return Drained(seconds, report.calls, timed.seconds)


def _drain_pool() -> connections.Pool:
    """The drainer's role, as the functions are connected (DRAIN_DATABASE_URL)."""
    return connections.build_pool(connections.settings_for("drain"))


def _stub_runs(conn: Any) -> list[Drained]:
    """The runs draining the bench's records into the stub."""
    pool = _drain_pool()
    try:
        bus = AcceptingBus()
        return [_drained(conn, pool, bus, drainer.PER_WORKSPACE) for _ in range(DRAIN_RUNS)]
    finally:
        pool.dispose()


def _moto_turns(conn: Any) -> dict[str, list[Drained]]:
    """The runs of each way against moto's EventBridge, taking turns (the first alternating)."""
    runs: dict[str, list[Drained]] = {way: [] for way in WAYS}
    pool = _drain_pool()
    try:
        with moto_bus() as client:
            for turn in range(DRAIN_RUNS):
                for way in list(WAYS)[:: 1 if turn % 2 == 0 else -1]:
                    runs[way].append(_drained(conn, pool, client, WAYS[way]))
    finally:
        pool.dispose()
    return runs


def _measure_stub(report: Report, conn: Any, details: dict[str, Any]) -> None:
    """``drain.stub.<case>``: the bench's existing workspaces' records, interleaved, and one's."""
    rows = conn.run(
        f"SELECT pk FROM core_api.workspaces WHERE NOT {BENCH_WORKSPACES} ORDER BY pk LIMIT :n",
        n=DRAIN_WORKSPACES,
    )
    workspaces = [int(pk) for (pk,) in rows]
    for case, spread in (("many_workspaces", workspaces), ("one_workspace", workspaces[:1])):
        conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
        _insert_records(conn, spread, DRAIN_RECORDS)
        behind_horizon(conn, BENCH_RECORDS, "nothing could be drained")
        runs = _stub_runs(conn)
        ms = report.figure(f"drain.stub.{case}", [run.seconds * 1000 for run in runs], "ms")
        calls = runs[-1].calls
        rate = DRAIN_RECORDS / (ms.median / 1000)
        details[f"stub.{case}"] = {
            "workspaces": len(spread),
            "calls": calls,
            "records_per_second": round(rate),
        }
        note(
            f"drain, stub, {len(spread)} workspace(s): {DRAIN_RECORDS:,} records in "
            f"{ms.median / 1000:.2f} s, {rate:,.0f} records (events)/s, {calls:,} PutEvents calls"
        )


def _measure_moto(report: Report, conn: Any, details: dict[str, Any]) -> None:
    """``drain.<case>``: before against after, against moto's EventBridge."""
    for case, (count, each) in CASES.items():
        conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
        _insert_as_sync_runs(conn, count, each)
        behind_horizon(conn, BENCH_RECORDS, "nothing could be drained")
        found = _reported(report, case, _moto_turns(conn))
        details[case] = {"workspaces": count, **found}
        note(
            f"{report.summary(f'drain.{case}')}; PutEvents calls {found['before_calls']:,} / "
            f"{found['after_calls']:,}, {found['before_ms_in_calls']:.3f} / "
            f"{found['after_ms_in_calls']:.3f} ms a record in them: at most "
            f"{found['in_calls_ratio']:.2f}x with no work of the drainer's"
        )


def _reported(report: Report, case: str, runs: dict[str, list[Drained]]) -> dict[str, Any]:
    """Each way's records a second as figures, and the goal; as details, with the calls, the
    milliseconds a record spent in them (moto's and boto3's), and their ratio: the most the
    goal could show."""
    name = f"drain.{case}"
    rate: dict[str, float] = {}
    in_calls: dict[str, float] = {}
    found: dict[str, Any] = {}
    for way, drained in runs.items():
        rates = [DRAIN_RECORDS / run.seconds for run in drained]
        rate[way] = report.figure(f"{name}.{way}", rates, "records/s").median
        in_calls[way] = statistics.median(run.in_calls for run in drained) * 1000 / DRAIN_RECORDS
        found[f"{way}_records_per_second"] = round(rate[way])
        found[f"{way}_calls"] = drained[-1].calls
        found[f"{way}_ms_in_calls"] = round(in_calls[way], 4)
    report.ratio(name, rate["after"] / rate["before"], GOAL, higher_is_better=True)
    found["in_calls_ratio"] = round(in_calls["before"] / in_calls["after"], 2)
    return found


def measure_drain(report: Report, bench: BenchDatabase, config: Config) -> None:
    conn = bench.admin()
    unsent = conn.run(
        "UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL RETURNING pk"
    )
    try:
        details: dict[str, Any] = {"records": DRAIN_RECORDS, "runs": DRAIN_RUNS}
        _measure_moto(report, conn, details)
        _measure_stub(report, conn, details)
        report.details["drain"] = details
    finally:
        conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
        conn.run(f"DELETE FROM core_api.workspaces WHERE {BENCH_WORKSPACES}")
        if unsent:
            pks = [pk for (pk,) in unsent]
            conn.run("UPDATE core_api.change_records SET sent_at = NULL WHERE pk = ANY(:p)", p=pks)
        conn.close()
