"""Phase ``sync``: rows/s through the sync handler, against raw ``COPY`` of the same rows."""

from __future__ import annotations

import contextlib
import cProfile
import functools
import io
import time
from collections.abc import Iterator, Sequence

import pg8000.native

from welldev.bench.config import OUTBOX_GOAL, Config
from welldev.bench.databases import BenchDatabase, Dataset, explain, first_records, one, triggers
from welldev.bench.errors import BenchError
from welldev.bench.harness import (
    CONTEXT,
    Handler,
    backend_cpu_ms,
    last_backend,
    note,
    quiet_powertools,
    sync_events,
    synced,
)
from welldev.bench.profiles import profile_lines
from welldev.bench.report import Report
from welldev.bench.wire import largest_message, recording

SYNC_LEDGER = "core_api.people_workspace_connectors"


def _truncate(conn: pg8000.native.Connection) -> None:
    conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts, core_api.change_records")


def _copy(conn: pg8000.native.Connection, pks: Sequence[int], connector_pk: int) -> None:
    """One COPY of the batch's rows, the text built here as part of the client's work."""
    data = "".join(f"{pk}\t{connector_pk}\tinput\n" for pk in pks).encode()
    conn.run(
        f"COPY {SYNC_LEDGER} (people_pk, workspace_connector_pk, direction) FROM STDIN",
        stream=io.BytesIO(data),
    )


@contextlib.contextmanager
def _copy_allowed(conn: pg8000.native.Connection) -> Iterator[None]:
    """COPY FROM refuses tables under row-level security, which superusers are not under: the
    table's owner (the administrator who ran the migrations) COPYs with FORCE lifted meanwhile,
    as the sync role's policy (USING true) would let it."""
    (bypass,) = one(
        conn, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if not bypass:
        conn.run(f"ALTER TABLE {SYNC_LEDGER} NO FORCE ROW LEVEL SECURITY")
    try:
        yield
    finally:
        if not bypass:
            conn.run(f"ALTER TABLE {SYNC_LEDGER} FORCE ROW LEVEL SECURITY")


# A sample of each side is one full batch from an empty ledger: the handler with the change
# records its rows make (``sync.rows_per_second``, ``outbox.sync_batch.with_record``), the
# handler with the recording triggers disabled (``outbox.sync_batch.without_record``), COPY of
# the same rows as the administrator, and the handler with the three indexes a ledger's
# updated_at sorts would need (``sync.updated_at_indexes``: what the ledgers' writes save by
# sorting by created_at only).
SIDES = ("recorded", "unrecorded", "copy", "indexed")
UPDATED_AT_INDEXES = {
    "bench_record_live_updated": "(people_pk, updated_at, people_workspace_connector_id) "
    "WHERE deleted_at IS NULL",
    **{
        f"bench_wc_{d}_updated": "(workspace_connector_pk, updated_at, "
        f"people_workspace_connector_id) WHERE deleted_at IS NULL AND direction = '{d}'"
        for d in ("input", "output")
    },
}


def _updated_at_indexes(conn: pg8000.native.Connection, made: bool) -> None:
    for name, definition in UPDATED_AT_INDEXES.items():
        if made:
            conn.run(f"CREATE INDEX {name} ON {SYNC_LEDGER} {definition}")
        else:
            conn.run(f"DROP INDEX IF EXISTS core_api.{name}")


def _samples(
    handler: Handler,
    conn: pg8000.native.Connection,
    bench: BenchDatabase,
    records: tuple[list[str], list[int]],
    config: Config,
) -> dict[str, list[tuple[float, float]]]:
    """Each side's seconds and its backend's CPU milliseconds (``/proc``), batch by batch, the
    sides taking turns, the first of each round moving on so that none always meets a
    just-truncated or just-altered table; the first round warms each side up."""
    d, (ids, pks) = bench.dataset, records
    batch = functools.partial(
        sync_events, d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1
    )
    _truncate(conn)
    synced(handler, sync_events(d.sync_connector_id, ids, 1, config.sync_ids, 1)[0])
    # The handler's connection: the backend that last committed a worker transaction (a
    # pipelined message shows as its last statement, its COMMIT).
    backends = {
        "handler": last_backend(conn, "COMMIT"),
        "copy": int(one(conn, "SELECT pg_backend_pid()")[0]),
    }
    samples: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    recorded, indexed = True, False
    try:
        for rep in range(max(config.sync_reps * config.sync_batches, 4) + 1):
            for side in SIDES[rep % len(SIDES) :] + SIDES[: rep % len(SIDES)]:
                event = batch()[0]
                if recorded != (side != "unrecorded"):
                    recorded = not recorded
                    triggers(bench, SYNC_LEDGER, recorded)
                if indexed != (side == "indexed"):
                    indexed = not indexed
                    _updated_at_indexes(conn, indexed)
                # The truncate is the administrator's too: not the rows' cost.
                _truncate(conn)
                pid = backends["copy" if side == "copy" else "handler"]
                cpu, started = backend_cpu_ms(pid), time.perf_counter()
                if side == "copy":
                    _copy(conn, pks, d.sync_connector_pk)
                else:
                    synced(handler, event)
                seconds = time.perf_counter() - started
                if rep:
                    samples[side].append((seconds, backend_cpu_ms(pid) - cpu))
                _check(conn, len(pks), side)
    finally:
        triggers(bench, SYNC_LEDGER, True)
        _updated_at_indexes(conn, False)
    return samples


def _check(conn: pg8000.native.Connection, rows: int, side: str) -> None:
    (count,) = one(conn, f"SELECT count(*) FROM {SYNC_LEDGER}")
    if count != rows:
        raise BenchError(f"expected {rows} ledger rows after a {side} batch, found {count}")
    (records,) = one(conn, "SELECT count(*) FROM core_api.change_records")
    if side != "copy" and (records > 0) != (side != "unrecorded"):
        raise BenchError(f"a {side} sync batch wrote {records} change records")


def measure_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    """The sync phase's figures and the outbox phase's of a sync batch, from one set of batches."""
    from wellapi.handlers.sync import sync_handler

    handler = sync_handler()
    conn = bench.admin()
    rows = config.sync_messages * config.sync_ids
    try:
        records = first_records(conn, "peoples", bench.dataset.sync_workspace_pk, rows)
        with quiet_powertools(), _copy_allowed(conn):
            samples = _samples(handler, conn, bench, records, config)
            _sync_round_trips(report, handler, bench.dataset, records[0], config, conn)
    finally:
        _truncate(conn)
        conn.close()
    seconds = {side: [t for t, _ in samples[side]] for side in SIDES}
    cpu_us = {side: [ms * 1000 / rows for _, ms in samples[side]] for side in SIDES}
    s = report.figure("sync.rows_per_second", [rows / t for t in seconds["recorded"]], "rows/s")
    c = report.figure("sync.copy_rows_per_second", [rows / t for t in seconds["copy"]], "rows/s")
    cpu = report.figure("sync.database_cpu_per_row", cpu_us["recorded"], "us")
    copy_cpu = report.figure("sync.copy_database_cpu_per_row", cpu_us["copy"], "us")
    ratio = report.ratio(
        "sync.throughput_vs_copy", s.median / c.median, 1 / 3, higher_is_better=True
    )
    ms = {side: [t * 1000 for t in seconds[side]] for side in ("recorded", "unrecorded")}
    w = report.figure("outbox.sync_batch.with_record", ms["recorded"], "ms")
    wo = report.figure("outbox.sync_batch.without_record", ms["unrecorded"], "ms")
    outbox = report.ratio("outbox.sync_batch", w.median / wo.median, OUTBOX_GOAL)
    i = report.figure(
        "sync.updated_at_indexes.rows_per_second", [rows / t for t in seconds["indexed"]], "rows/s"
    )
    i_cpu = report.figure("sync.updated_at_indexes.database_cpu_per_row", cpu_us["indexed"], "us")
    report.details["sync"] = {
        "batch": f"{config.sync_messages} messages x {config.sync_ids} record ids",
        "batches_per_side": len(samples["copy"]),
        "copy_role": "administrator (COPY FROM is refused under row-level security)",
    }
    note(
        f"sync {s.median:,.0f} rows/s, COPY {c.median:,.0f} rows/s: {ratio.value:.2f}; the "
        f"database's CPU {cpu.median:.1f} us a row, COPY's {copy_cpu.median:.1f}; a batch "
        f"{w.median:.1f} ms, {wo.median:.1f} ms without its records: {outbox.value:.2f}x; "
        f"with the updated_at indexes {i.median:,.0f} rows/s, {i_cpu.median:.1f} us a row "
        f"(without: {s.median / i.median:.2f}x the rows a second, "
        f"{cpu.median / i_cpu.median:.2f}x the CPU)"
    )


def _sync_round_trips(
    report: Report,
    handler: Handler,
    d: Dataset,
    ids: Sequence[str],
    config: Config,
    conn: pg8000.native.Connection,
) -> None:
    """Round trips of a one-record batch and of a full batch: two each, whatever the size."""
    single = sync_events(d.sync_connector_id, ids, 1, 1, 1)[0]
    full = sync_events(d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1)[0]
    for name, event in (("sync_batch_of_1", single), ("sync_batch_full", full)):
        _truncate(conn)
        with recording() as wire:
            started = time.perf_counter()
            handler(event, CONTEXT)
            seconds = time.perf_counter() - started
        report.figure(f"round_trips.{name}", [wire.round_trips], "round trips")
        report.figure(f"transactions.{name}", [wire.transactions], "transactions")
        report.ratio(f"round_trips.{name}", wire.round_trips, 2)
        largest_message(report, name, wire)
    # The full batch's time (the loop's last), each round trip's and the client's work.
    report.details["sync_wire"] = {
        "full_batch_ms": round(seconds * 1000, 1),
        "full_batch_database_ms": [round(c.seconds * 1000, 1) for c in wire.calls],
        "full_batch_client_ms": round((seconds - wire.seconds) * 1000, 1),
        "full_batch_statements": len(wire.statements),
    }


def diagnose_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    """Where a full batch's time goes: each round trip and the client's work (the round trips'
    full batch, ``details.sync_wire``), the profile of another (cProfile slows the client's
    side several times over, so its times are only shares), and one message's plan."""
    from wellapi.handlers.sync import sync_handler

    d = bench.dataset
    handler = sync_handler()
    conn = bench.admin()
    try:
        count = config.sync_messages * config.sync_ids
        ids, _ = first_records(conn, "peoples", d.sync_workspace_pk, count)
        event = sync_events(d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1)
        profiler = cProfile.Profile()
        with quiet_powertools():
            _truncate(conn)
            profiler.runcall(handler, event[0], CONTEXT)
        explain = _explain_sync_insert(conn, d, ids[: config.sync_ids])
    finally:
        _truncate(conn)
        conn.close()
    report.details.setdefault("diagnostics", {})["sync"] = {
        "full_batch": "details.sync_wire",
        "profile_top_by_own_time": profile_lines(profiler, "tottime", 1),
        "one_message_insert_plan": explain,
    }


def _explain_sync_insert(
    conn: pg8000.native.Connection, d: Dataset, ids: Sequence[str]
) -> list[str]:
    """The plan of one message's INSERT ... SELECT, as the writer builds it (rolled back)."""
    from wellapi.sync.batches import Planned, statement
    from wellapi.sync.messages import ProvenanceLinked, parse_message

    event = sync_events(d.sync_connector_id, ids, 1, len(ids), 1)[0]
    message = parse_message(event["Records"][0]["body"])
    if not isinstance(message, ProvenanceLinked):
        raise BenchError("the bench's sync messages are provenance.linked")
    connector, workspace = d.sync_connector_pk, d.sync_workspace_pk
    insert = statement(Planned(message, connector, workspace, tuple(message.record_ids)))
    # _fresh() looks for this transaction's receipt: make one, so that the INSERT runs.
    conn.run("BEGIN")
    try:
        conn.run(
            "INSERT INTO core_api.sync_receipts (idempotency_key, message_type, "
            "workspace_connector_pk, occurred_at) VALUES (:k, 'provenance.linked', :w, now())",
            k=message.idempotency_key,
            w=d.sync_connector_pk,
        )
        return explain(conn, insert)
    finally:
        conn.run("ROLLBACK")
