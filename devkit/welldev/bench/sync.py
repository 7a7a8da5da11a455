"""Phase ``sync``: rows/s through the sync handler, against raw ``COPY`` of the same rows."""

from __future__ import annotations

import contextlib
import cProfile
import functools
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi.store import connections
from wellapi.store.sql import BoundStatement
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, Dataset, first_records, one
from welldev.bench.errors import BenchError
from welldev.bench.harness import (
    CONTEXT,
    Handler,
    backend_cpu_ms,
    last_backend,
    note,
    quiet_powertools,
    sync_events,
)
from welldev.bench.profiles import profile_lines
from welldev.bench.report import Report
from welldev.bench.wire import largest_message, recording

SYNC_LEDGER = "core_api.people_workspace_connectors"


def _truncate(conn: pg8000.native.Connection) -> None:
    conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts")


def _copy(conn: pg8000.native.Connection, pks: Sequence[int], connector_pk: int) -> None:
    """One COPY of the batch's rows, the text built here as part of the client's work."""
    data = "".join(f"{pk}\t{connector_pk}\tinput\n" for pk in pks).encode()
    conn.run(
        f"COPY {SYNC_LEDGER} (people_pk, workspace_connector_pk, direction) FROM STDIN",
        stream=io.BytesIO(data),
    )


@contextlib.contextmanager
def _copy_allowed(conn: pg8000.native.Connection) -> Iterator[None]:
    """COPY FROM refuses tables under row-level security; superusers are not under it.

    Another administrator owns the table (it ran the migrations): lifting FORCE for the
    measurement lets the owner COPY, as the policy for the sync role (USING true) would.
    """
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


def _sync_rep(
    handler: Handler, events: list[dict[str, Any]], conn: pg8000.native.Connection
) -> float:
    _truncate(conn)
    started = time.perf_counter()
    for event in events:
        response = handler(event, CONTEXT)
        if response["batchItemFailures"]:
            raise BenchError(f"the sync handler failed messages: {response}")
    return time.perf_counter() - started


def _copy_rep(conn: pg8000.native.Connection, batches: list[list[int]], connector_pk: int) -> float:
    _truncate(conn)
    started = time.perf_counter()
    for pks in batches:
        _copy(conn, pks, connector_pk)
    return time.perf_counter() - started


@dataclass
class SyncSides:
    """Each side's rows/s, rep by rep, and the database CPU its rows cost (us a row)."""

    sync_rates: list[float] = field(default_factory=list)
    copy_rates: list[float] = field(default_factory=list)
    sync_cpu_us: list[float] = field(default_factory=list)
    copy_cpu_us: list[float] = field(default_factory=list)


def _sync_reps(
    handler: Handler,
    conn: pg8000.native.Connection,
    d: Dataset,
    records: tuple[list[str], list[int]],
    config: Config,
) -> SyncSides:
    """Rows/s of the handler and of COPY, rep by rep, each side from an empty ledger, and the
    CPU of the backend that wrote them (``/proc``).

    The sides alternate which goes first, so that neither always meets a just-vacuumed or a
    just-written table.
    """
    ids, pks = records
    rows = len(pks) * config.sync_batches
    # A warm environment: connected, with the statements' shapes seen once.
    _sync_rep(handler, sync_events(d.sync_connector_id, ids, 1, config.sync_ids, 1), conn)
    # The handler's connection: the backend that last committed a worker transaction (a
    # pipelined message shows as its last statement, its COMMIT).
    writer = last_backend(conn, "COMMIT")
    copier = int(one(conn, "SELECT pg_backend_pid()")[0])
    sides = SyncSides()
    for rep in range(config.sync_reps):
        events = sync_events(
            d.sync_connector_id, ids, config.sync_messages, config.sync_ids, config.sync_batches
        )
        for side in ("sync", "copy") if rep % 2 == 0 else ("copy", "sync"):
            if side == "sync":
                before = backend_cpu_ms(writer)
                sides.sync_rates.append(rows / _sync_rep(handler, events, conn))
                sides.sync_cpu_us.append((backend_cpu_ms(writer) - before) * 1000 / rows)
            else:
                batches = [pks] * config.sync_batches
                before = backend_cpu_ms(copier)
                sides.copy_rates.append(rows / _copy_rep(conn, batches, d.sync_connector_pk))
                # The truncate before the copy is the administrator's too: not the rows' cost.
                sides.copy_cpu_us.append((backend_cpu_ms(copier) - before) * 1000 / rows)
            _check_rows(conn, rows)
    return sides


def measure_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    from wellapi.handlers.sync import sync_handler

    d = bench.dataset
    handler = sync_handler()
    conn = bench.admin()
    try:
        records = first_records(
            conn, "peoples", d.sync_workspace_pk, config.sync_messages * config.sync_ids
        )
        with quiet_powertools(), _copy_allowed(conn):
            sides = _sync_reps(handler, conn, d, records, config)
            _sync_round_trips(report, handler, d, records[0], config, conn)
    finally:
        _truncate(conn)
        conn.close()
    s = report.figure("sync.rows_per_second", sides.sync_rates, "rows/s")
    c = report.figure("sync.copy_rows_per_second", sides.copy_rates, "rows/s")
    cpu = report.figure("sync.database_cpu_per_row", sides.sync_cpu_us, "us")
    copy_cpu = report.figure("sync.copy_database_cpu_per_row", sides.copy_cpu_us, "us")
    ratio = report.ratio(
        "sync.throughput_vs_copy", s.median / c.median, 1 / 3, higher_is_better=True
    )
    report.details["sync"] = {
        "batch": f"{config.sync_messages} messages x {config.sync_ids} record ids",
        "batches_per_rep": config.sync_batches,
        "reps": config.sync_reps,
        "copy_role": "administrator (COPY FROM is refused under row-level security)",
    }
    note(
        f"sync {s.median:,.0f} rows/s, COPY {c.median:,.0f} rows/s: {ratio.value:.2f}; the "
        f"database's CPU {cpu.median:.1f} us a row, COPY's {copy_cpu.median:.1f}"
    )


def _check_rows(conn: pg8000.native.Connection, rows: int) -> None:
    (count,) = one(conn, f"SELECT count(*) FROM {SYNC_LEDGER}")
    if count != rows:
        raise BenchError(f"expected {rows} ledger rows after a rep, found {count}")


def _sync_round_trips(
    report: Report,
    handler: Handler,
    d: Dataset,
    ids: Sequence[str],
    config: Config,
    conn: pg8000.native.Connection,
) -> None:
    """Round trips of a one-record batch and of a full batch: two each, whatever the size."""
    one = sync_events(d.sync_connector_id, ids, 1, 1, 1)[0]
    full = sync_events(d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1)[0]
    wires = {}
    for name, event in (("sync_batch_of_1", one), ("sync_batch_full", full)):
        _truncate(conn)
        with recording() as wire:
            handler(event, CONTEXT)
        wires[name] = wire
        report.figure(f"round_trips.{name}", [wire.round_trips], "round trips")
        report.figure(f"transactions.{name}", [wire.transactions], "transactions")
        report.ratio(f"round_trips.{name}", wire.round_trips, 2)
        largest_message(report, name, wire)
    full_wire = wires["sync_batch_full"]
    report.details["sync_wire"] = {
        "full_batch_database_ms": [round(c.seconds * 1000, 1) for c in full_wire.calls],
        "full_batch_statements": len(full_wire.statements),
    }


def diagnose_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    """Where a full batch's time goes: each round trip, the client's work, and its profile.

    One batch is timed with the wire recorded, another is profiled (cProfile slows the
    client's side several times over, so its times are only shares).
    """
    from wellapi.handlers.sync import sync_handler

    d = bench.dataset
    handler = sync_handler()
    conn = bench.admin()
    try:
        ids, _ = first_records(
            conn, "peoples", d.sync_workspace_pk, config.sync_messages * config.sync_ids
        )
        batch = functools.partial(
            sync_events, d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1
        )
        profiler = cProfile.Profile()
        with quiet_powertools():
            _truncate(conn)
            event = batch()[0]
            with recording() as wire:
                started = time.perf_counter()
                handler(event, CONTEXT)
                total = time.perf_counter() - started
            _truncate(conn)
            profiler.runcall(handler, batch()[0], CONTEXT)
        explain = _explain_sync_insert(conn, d, ids[: config.sync_ids])
    finally:
        _truncate(conn)
        conn.close()
    report.details.setdefault("diagnostics", {})["sync"] = {
        "batch_ms": round(total * 1000, 1),
        "round_trips_ms": [round(c.seconds * 1000, 1) for c in wire.calls],
        "client_ms": round((total - wire.seconds) * 1000, 1),
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
    (workspace_pk,) = one(
        conn,
        "SELECT workspace_pk FROM core_api.workspace_connectors WHERE pk = :p",
        p=d.sync_connector_pk,
    )
    if not isinstance(message, ProvenanceLinked):
        raise BenchError("the bench's sync messages are provenance.linked")
    planned = Planned(message, d.sync_connector_pk, workspace_pk, tuple(message.record_ids))
    insert = statement(planned)
    # _fresh() looks for this transaction's receipt: make one, so that the INSERT runs.
    conn.run("BEGIN")
    try:
        conn.run(
            "INSERT INTO core_api.sync_receipts (idempotency_key, message_type, "
            "workspace_connector_pk, occurred_at) VALUES (:k, 'provenance.linked', :w, now())",
            k=message.idempotency_key,
            w=d.sync_connector_pk,
        )
        explained = BoundStatement(f"EXPLAIN (ANALYZE, BUFFERS) {insert.text}", insert.values)
        rows = connections.send(conn, [explained])
    finally:
        conn.run("ROLLBACK")
    return [str(r[0]) for r in rows]
