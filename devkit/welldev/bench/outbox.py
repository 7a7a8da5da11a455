"""Phase ``outbox``: what recording a change costs a Create and a sync batch (issues #33, #42).

The database records every change of a junction row itself (revision 0025: statement-level
triggers that read the statement's transition tables). Each side runs with its table's
recording triggers enabled and disabled (``ALTER TABLE ... DISABLE TRIGGER``, as the owner), in
the same run, in alternating blocks:

- **Create**: the warm Create's SQL as the API role (its policies and verified scope
  included), in blocks of ``BLOCK`` with and without the triggers, each block after one call
  that is not timed (the ``ALTER`` invalidates the table's cached descriptions). Raw SQL, not
  the handler: the handler's own Python is the same either way and would only dilute the ratio.
- **Sync batch**: the sync handler on a full batch of ``provenance.linked`` messages, the
  triggers toggled between batches, outside the timing.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pg8000.native

from welldev.bench.api_requests import Requests
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, first_records, remove_created_rows
from welldev.bench.errors import BenchError
from welldev.bench.harness import (
    CONTEXT,
    Handler,
    handler_for,
    invoke,
    note,
    quiet_powertools,
    sync_events,
)
from welldev.bench.raw_client import Captured, RawClient, captured_sql, replaced, values_of
from welldev.bench.report import Report

# The bound on what the outbox may add to a Create and to a sync batch (#42).
OUTBOX_GOAL = 1.1
SYNC_LEDGER = "core_api.people_workspace_connectors"
CREATE_LEDGER = "core_api.company_workspace_connectors"
# Calls per block of one side (the Create's): long enough that the untimed call after each
# toggle is a small part of the run, short enough that drift hits both sides alike.
BLOCK = 10
UUID_VALUE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recording(bench: BenchDatabase, table: str, on: bool) -> None:
    """Enable or disable ``table``'s recording triggers (revision 0025's three)."""
    name = table.split(".")[1]
    action = "ENABLE" if on else "DISABLE"
    conn = bench.admin()
    try:
        for event in ("insert", "update", "delete"):
            conn.run(f"ALTER TABLE {table} {action} TRIGGER {name}_recorded_{event}")
    finally:
        conn.close()


def in_blocks(
    bench: BenchDatabase, table: str, call: Any, iterations: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of ``call`` with and without ``table``'s recording, in alternating blocks."""
    samples: dict[bool, list[float]] = {True: [], False: []}
    try:
        for block in range(max(iterations // BLOCK, 2) * 2):
            on = block % 4 in (0, 3)  # on, off, off, on: each side first as often
            recording(bench, table, on)
            call()
            for _ in range(BLOCK):
                started = time.perf_counter()
                call()
                samples[on].append((time.perf_counter() - started) * 1000)
    finally:
        recording(bench, table, True)
    return samples[True], samples[False]


def _created_id(captured: Captured, event: dict[str, Any]) -> str:
    sent = str(event.get("body") or "")
    for found in map(str, values_of(captured.statements)):
        if UUID_VALUE.fullmatch(found) is None:
            continue
        if found not in sent and found not in str(event["requestContext"]):
            return found
    raise BenchError("could not find the created row's id in the Create's SQL")


def measure_outbox_create(report: Report, bench: BenchDatabase, config: Config) -> None:
    requests = Requests.signed(bench)
    handler = handler_for("company_workspace_connectors", "create")
    event = requests.create()
    invoke(handler, event, 201)  # connect, compile, cache
    sent = captured_sql(handler, event, 201)
    row_id = _created_id(sent, event)
    api = RawClient(bench.api_url)

    def create() -> Any:
        # A new row each time, with a fresh proof as the function makes for each request.
        return api.proven_rows(sent, replaced(sent.statements, row_id, uuid.uuid4()))

    try:
        for _ in range(config.warmup):
            create()
        with_ms, without_ms = in_blocks(bench, CREATE_LEDGER, create, config.warm_iterations)
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


def _sync_batch(
    handler: Handler,
    event: dict[str, Any],
    bench: BenchDatabase,
    conn: pg8000.native.Connection,
    record: bool,
) -> float:
    conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts, core_api.change_records")
    recording(bench, SYNC_LEDGER, record)
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
    ids, _ = first_records(conn, "peoples", d.sync_workspace_pk, count)
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
                    ms = _sync_batch(handler, event, bench, conn, record)
                    if rep:  # the first of each side warms it
                        (with_ms if record else without_ms).append(ms)
    finally:
        recording(bench, SYNC_LEDGER, True)
        conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts, core_api.change_records")
        conn.close()
    w = report.figure("outbox.sync_batch.with_record", with_ms, "ms")
    wo = report.figure("outbox.sync_batch.without_record", without_ms, "ms")
    ratio = report.ratio("outbox.sync_batch", w.median / wo.median, OUTBOX_GOAL)
    report.details["outbox"] = {
        "create": "the warm Create's SQL as the API role, with and without the recording "
        f"triggers, in alternating blocks of {BLOCK}",
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
