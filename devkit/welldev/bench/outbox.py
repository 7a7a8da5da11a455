"""Phase ``outbox``: what recording a change costs a Create and a sync batch (issue #33).

Each side runs with and without its change record, in the same run, taking turns:

- **Create**: the warm Create's SQL as the API role (its policies and verified scope
  included), against the same SQL without its ``recorded`` CTE. Raw SQL, not the handler: the
  handler's own Python is the same either way and would only dilute the ratio.
- **Sync batch**: the sync handler on a full batch of ``provenance.linked`` messages, against
  the same handler whose statements leave their ``recorded`` CTE out
  (``wellapi.sync.outbox.ledger_changes`` swapped for a CTE nothing reads, which PostgreSQL
  never runs).
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from typing import Any
from unittest import mock

import pg8000.native

from welldev.bench.api_requests import Requests
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.errors import BenchError
from welldev.bench.harness import (
    CONTEXT,
    Handler,
    handler_for,
    interleaved,
    invoke,
    note,
    quiet_powertools,
    sync_events,
)
from welldev.bench.raw_client import RawClient, captured_sql
from welldev.bench.report import Report

# The bound on what the outbox may add to a Create and to a sync batch.
OUTBOX_GOAL = 1.15
SYNC_LEDGER = "core_api.people_workspace_connectors"
# The write's record (wellapi.sqlbuild.write_sql): the CTE, and the outcome's count that
# reads it (without the record, the count reads the written rows themselves).
RECORDED_CTE = re.compile(
    r",\s*recorded AS\s*\(SELECT core_api\.record_change\(.*?FROM written\)", re.DOTALL
)
COUNT_OF_RECORDED = re.compile(r"FROM recorded\) AS written")
UUID_LITERAL = re.compile(r"'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'")


def without_record(sql: str) -> str:
    """The write's SQL less its change record: the same statement as before the outbox."""
    stripped, cut = RECORDED_CTE.subn("", sql, count=1)
    stripped, counted = COUNT_OF_RECORDED.subn("FROM written) AS written", stripped, count=1)
    if cut != 1 or counted != 1:
        raise BenchError("the Create's SQL has no recorded CTE to leave out")
    return stripped


def _created_id(sql: str, event: dict[str, Any]) -> str:
    sent = str(event.get("body") or "")
    for found in map(str, UUID_LITERAL.findall(sql)):
        if found not in sent and found not in str(event["requestContext"]):
            return found
    raise BenchError("could not find the created row's id in the Create's SQL")


def measure_outbox_create(report: Report, bench: BenchDatabase, config: Config) -> None:
    requests = Requests.signed(bench)
    handler = handler_for("company_workspace_connectors", "create")
    event = requests.create()
    invoke(handler, event, 201)  # connect, compile, cache
    sent = captured_sql(handler, event, 201)
    row_id = _created_id(sent.sql, event)
    bare = without_record(sent.sql)
    api = RawClient(bench.api_url)

    def create(sql: str) -> Any:
        # A new row each time, with a fresh proof as the function makes for each request.
        return lambda: api.proven_rows(sent, sql.replace(row_id, str(uuid.uuid4())))

    try:
        with_ms, without_ms = interleaved(
            create(sent.sql), create(bare), config.warm_iterations, config.warmup
        )
    finally:
        api.close()
        remove_created_rows(bench)
        _forget_records(bench)
    w = report.figure("outbox.create.with_record", with_ms, "ms")
    wo = report.figure("outbox.create.without_record", without_ms, "ms")
    ratio = report.ratio("outbox.create", w.median / wo.median, OUTBOX_GOAL)
    note(
        f"outbox: a Create as the API role {w.median:.2f} ms, {wo.median:.2f} ms without its "
        f"record: {ratio.value:.2f}x"
    )


def _without_records() -> Any:
    # Read by nothing, a SELECT CTE is never run: the statement is the one before the outbox.
    return mock.patch("wellapi.sync.batches.ledger_changes", return_value="recorded AS (SELECT 1)")


def _sync_batch(
    handler: Handler, event: dict[str, Any], conn: pg8000.native.Connection, record: bool
) -> float:
    conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts, core_api.change_records")
    with contextlib.nullcontext() if record else _without_records():
        started = time.perf_counter()
        response = handler(event, CONTEXT)
        elapsed = time.perf_counter() - started
    if response["batchItemFailures"]:
        raise BenchError(f"the sync handler failed messages: {response}")
    (records,) = conn.run("SELECT count(*) FROM core_api.change_records")[0]
    if (records > 0) != record:
        raise BenchError(f"a sync batch {'with' if record else 'without'} records wrote {records}")
    return elapsed * 1000


def measure_outbox_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    from wellapi.handlers.sync import sync_handler

    d = bench.dataset
    handler = sync_handler()
    conn = bench.admin()
    count = config.sync_messages * config.sync_ids
    people = conn.run(
        "SELECT person_id FROM core_api.peoples WHERE workspace_pk = :w ORDER BY pk LIMIT :n",
        w=d.sync_workspace_pk,
        n=count,
    )
    ids = [str(p[0]) for p in people]
    if len(ids) < count:
        raise BenchError(f"the sync workspace has {len(ids)} people, a batch needs {count}")
    with_ms: list[float] = []
    without_ms: list[float] = []
    try:
        with quiet_powertools():
            reps = max(config.sync_reps * config.sync_batches, 4)
            for rep in range(reps + 1):
                for record in (True, False) if rep % 2 == 0 else (False, True):
                    event = sync_events(
                        d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1
                    )[0]
                    ms = _sync_batch(handler, event, conn, record)
                    if rep:  # the first of each side warms it
                        (with_ms if record else without_ms).append(ms)
    finally:
        conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts, core_api.change_records")
        conn.close()
    w = report.figure("outbox.sync_batch.with_record", with_ms, "ms")
    wo = report.figure("outbox.sync_batch.without_record", without_ms, "ms")
    ratio = report.ratio("outbox.sync_batch", w.median / wo.median, OUTBOX_GOAL)
    report.details["outbox"] = {
        "create": "the warm Create's SQL as the API role, with and without its recorded CTE",
        "sync_batch": f"{config.sync_messages} messages x {config.sync_ids} record ids",
    }
    note(
        f"outbox: a sync batch {w.median:.1f} ms, {wo.median:.1f} ms without its records: "
        f"{ratio.value:.2f}x"
    )


def _forget_records(bench: BenchDatabase) -> None:
    """The bench's own records go, so a later phase meets the outbox as it was seeded."""
    conn = bench.admin()
    try:
        conn.run("DELETE FROM core_api.change_records WHERE actor_kind IN ('member', 'service')")
    finally:
        conn.close()
