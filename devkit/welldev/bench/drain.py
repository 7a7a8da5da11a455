"""Phase ``drain``: the change drainer's throughput (issue #33).

``DRAIN_RECORDS`` unsent change records are drained by ``wellapi.sync.drainer.drain`` as the
drainer's role (``well_drain``, the functions connected as in AWS) against an EventBridge stub
in this process that accepts every entry at once, so what is measured is the drainer's own
work (the cycles' reads behind the horizon, the events' detail written by PostgreSQL, the
batching, the marks and commits), not a network's. Two spreads of the same number of records:

- **many workspaces** (every workspace of the bench database, up to ``DRAIN_WORKSPACES``):
  calls of up to ten entries, one per workspace, as a busy service has them;
- **one workspace**: one entry per call, as the drainer sends a single workspace's records
  (its next only once the one before was accepted); in AWS each call then costs EventBridge's
  round trip (tens of milliseconds), which bounds one workspace's rate, not this figure.

The records the bench adds are removed after, and the ones it found unsent are unsent again.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from wellapi.store import connections
from wellapi.sync import drainer
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.errors import BenchError
from welldev.bench.harness import note
from welldev.bench.report import Report

DRAIN_RECORDS = 10_000
DRAIN_WORKSPACES = 100
DRAIN_RUNS = 3


class AcceptingBus:
    """EventBridge as fast as it could be: every entry accepted, nothing kept."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.entries = 0

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries += len(Entries)
        return {
            "FailedEntryCount": 0,
            "Entries": [{"EventId": str(next(self.ids))} for _ in Entries],
        }


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


def _behind_horizon(conn: Any, timeout: float = 120.0) -> None:
    """Wait until the bench's records are behind the horizon the drainer reads up to: a
    transaction open anywhere on the server (another database's, a test worker's migration)
    holds it back, and a drain then would find nothing to send."""
    deadline = time.monotonic() + timeout
    while conn.run(
        "SELECT EXISTS (SELECT 1 FROM core_api.change_records "
        "WHERE message_key LIKE 'bench-drain-%' AND xid >= pg_snapshot_xmin(pg_current_snapshot()))"
    )[0][0]:
        if time.monotonic() > deadline:
            raise BenchError("a transaction held the horizon back: nothing could be drained")
        time.sleep(0.05)


def _drain_runs(conn: Any) -> tuple[list[float], int]:
    """Seconds of each run draining the bench's records, and the calls of the last."""
    # The drainer's role, as the functions are connected (DRAIN_DATABASE_URL).
    pool = connections.build_pool(connections.settings_for("drain"))
    seconds: list[float] = []
    calls = 0
    try:
        for _ in range(DRAIN_RUNS):
            conn.run(
                "UPDATE core_api.change_records SET sent_at = NULL "
                "WHERE message_key LIKE 'bench-drain-%'"
            )
            bus = AcceptingBus()
            started = time.perf_counter()
            report = drainer.drain(pool=pool, client=bus, bus="bench")
            seconds.append(time.perf_counter() - started)
            if report.sent != DRAIN_RECORDS or bus.entries != DRAIN_RECORDS:
                raise BenchError(f"the drainer sent {report.sent} of {DRAIN_RECORDS} records")
            calls = report.calls
    finally:
        pool.dispose()
    return seconds, calls


def measure_drain(report: Report, bench: BenchDatabase, config: Config) -> None:
    conn = bench.admin()
    unsent = [
        int(pk)
        for (pk,) in conn.run(
            "UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL RETURNING pk"
        )
    ]
    try:
        workspaces = [
            int(pk)
            for (pk,) in conn.run(
                "SELECT pk FROM core_api.workspaces ORDER BY pk LIMIT :n", n=DRAIN_WORKSPACES
            )
        ]
        details: dict[str, Any] = {"records": DRAIN_RECORDS, "runs": DRAIN_RUNS}
        for case, spread in (("many_workspaces", workspaces), ("one_workspace", workspaces[:1])):
            conn.run("DELETE FROM core_api.change_records WHERE message_key LIKE 'bench-drain-%'")
            _insert_records(conn, spread, DRAIN_RECORDS)
            _behind_horizon(conn)
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
        conn.run("DELETE FROM core_api.change_records WHERE message_key LIKE 'bench-drain-%'")
        if unsent:
            conn.run(
                "UPDATE core_api.change_records SET sent_at = NULL WHERE pk = ANY(:p)", p=unsent
            )
        conn.close()
