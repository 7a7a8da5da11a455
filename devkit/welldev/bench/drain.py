"""Phase ``drain``: the change drainer's throughput (issue #33), as its role, against a stub of
EventBridge that accepts every entry at once, so that it measures the drainer's own work, not a
network's: records of many workspaces (calls of up to ten entries) and of one (an entry a call;
in AWS each waits for EventBridge's round trip, which bounds one workspace's rate).
"""

from __future__ import annotations

import time
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


class AcceptingBus:
    """EventBridge as fast as it could be: every entry accepted, nothing kept."""

    entries = 0

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ids = range(self.entries + 1, self.entries + len(Entries) + 1)
        self.entries += len(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in ids]}


def _insert_records(conn: Any, workspaces: list[int], count: int) -> None:
    """``count`` single-id records, spread over ``workspaces`` in turn, as API writes leave."""
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


def _drain_runs(conn: Any) -> tuple[list[float], int]:
    """Seconds of each run draining the bench's records, and the calls of the last."""
    # The drainer's role, as the functions are connected (DRAIN_DATABASE_URL).
    pool = connections.build_pool(connections.settings_for("drain"))
    seconds: list[float] = []
    try:
        for _ in range(DRAIN_RUNS):
            conn.run(f"UPDATE core_api.change_records SET sent_at = NULL WHERE {BENCH_RECORDS}")
            bus = AcceptingBus()
            started = time.perf_counter()
            report = drainer.drain(pool=pool, client=bus, bus="bench")
            seconds.append(time.perf_counter() - started)
            if report.sent != DRAIN_RECORDS or bus.entries != DRAIN_RECORDS:
                raise BenchError(f"the drainer sent {report.sent} of {DRAIN_RECORDS} records")
    finally:
        pool.dispose()
    return seconds, report.calls


def measure_drain(report: Report, bench: BenchDatabase, config: Config) -> None:
    conn = bench.admin()
    unsent = conn.run(
        "UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL RETURNING pk"
    )
    try:
        rows = conn.run(
            "SELECT pk FROM core_api.workspaces ORDER BY pk LIMIT :n", n=DRAIN_WORKSPACES
        )
        workspaces = [int(pk) for (pk,) in rows]
        details: dict[str, Any] = {"records": DRAIN_RECORDS, "runs": DRAIN_RUNS}
        for case, spread in (("many_workspaces", workspaces), ("one_workspace", workspaces[:1])):
            conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
            _insert_records(conn, spread, DRAIN_RECORDS)
            behind_horizon(conn, BENCH_RECORDS, "nothing could be drained")
            seconds, calls = _drain_runs(conn)
            ms = report.figure(f"drain.{case}", [s * 1000 for s in seconds], "ms")
            rate = DRAIN_RECORDS / (ms.median / 1000)
            details[case] = {
                "workspaces": len(spread),
                "calls": calls,
                "records_per_second": round(rate),
                "events_per_second": round(rate),
            }
            note(
                f"drain, {len(spread)} workspace(s): {DRAIN_RECORDS:,} records in "
                f"{ms.median / 1000:.2f} s, {rate:,.0f} records (events)/s, {calls:,} PutEvents "
                "calls"
            )
        report.details["drain"] = details
    finally:
        conn.run(f"DELETE FROM core_api.change_records WHERE {BENCH_RECORDS}")
        if unsent:
            pks = [pk for (pk,) in unsent]
            conn.run("UPDATE core_api.change_records SET sent_at = NULL WHERE pk = ANY(:p)", p=pks)
        conn.close()
