"""Sync messages, the ledgers they write, and what the sync function prints.

Message builders return the JSON object the orchestrator sends (version 1), with a fresh
idempotency key unless one is given. Ledger readers go through the admin connection, so they
see every row, soft-deleted ones included. The sync function logs and emits metrics on
stdout as JSON lines; ``follow_stdout`` makes its logger write to the stream ``capsys``
captures (Powertools binds the logger to the ``sys.stdout`` of import time).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pg8000.native
import pytest

from tests.support import factories as f
from wellapi.handlers import sync as sync_handler_module
from wellapi.store import connections as db
from wellapi.sync.retention import PruneReport
from wellapi.sync.retention import prune_change_records as run_pruner
from wellapi.sync.sweeper import SweepReport, pending_parts
from wellapi.sync.sweeper import sweep as run_sweeper

# record_type -> (ledger table, record table, record foreign key, record public id)
LEDGERS = {
    "account": ("account_workspace_connectors", "accounts", "account_pk", "account_id"),
    "company": ("company_workspace_connectors", "companies", "company_pk", "company_id"),
    "people": ("people_workspace_connectors", "peoples", "people_pk", "person_id"),
}
RECORD_TYPES = tuple(LEDGERS)
# An hour ago, in another offset than UTC: well inside the window in which links are accepted
# (a fixed date would be refused as stale once the calendar passes it by that window).
OCCURRED_AT = (datetime.now(timezone(timedelta(hours=1))) - timedelta(hours=1)).isoformat(
    timespec="seconds"
)


def key() -> str:
    return f"key-{uuid4()}"


def linked(
    connector_id: UUID,
    record_ids: Iterable[UUID],
    *,
    record_type: str = "account",
    direction: str = "input",
    sync_run_id: str = "run-1",
    idempotency_key: str | None = None,
    kind: str = "provenance.linked",
    occurred_at: str = OCCURRED_AT,
) -> dict[str, Any]:
    return {
        "type": kind,
        "version": 1,
        "workspace_connector_id": str(connector_id),
        "direction": direction,
        "record_type": record_type,
        "record_ids": [str(r) for r in record_ids],
        "sync_run_id": sync_run_id,
        "occurred_at": occurred_at,
        "idempotency_key": idempotency_key or key(),
    }


def unlinked(connector_id: UUID, record_ids: Iterable[UUID], **options: Any) -> dict[str, Any]:
    """``linked``'s message for taking the same provenance back."""
    return linked(connector_id, record_ids, kind="provenance.unlinked", **options)


def revoked(
    connector_id: UUID, *, idempotency_key: str | None = None, occurred_at: str = OCCURRED_AT
) -> dict[str, Any]:
    return {
        "type": "workspace_connector.revoked",
        "version": 1,
        "workspace_connector_id": str(connector_id),
        "occurred_at": occurred_at,
        "idempotency_key": idempotency_key or key(),
    }


def at(minutes: float) -> str:
    """An ``occurred_at`` ``minutes`` after ``OCCURRED_AT`` (before it when negative)."""
    return (datetime.fromisoformat(OCCURRED_AT) + timedelta(minutes=minutes)).isoformat()


def sweep(rows: int | None = None) -> SweepReport:
    """Run the revocation sweeper to the end, as the sync role (``rows`` per step if given)."""
    pool = db.get_pool("sync")
    return run_sweeper(pool=pool) if rows is None else run_sweeper(pool=pool, rows=rows)


def sweep_what_others_left() -> None:
    """Sweep every revocation pending now: the sweeper takes every workspace's, so a test that
    counts what a sweep does calls this before its own revocation, and counts that alone,
    whichever tests ran before it in the session's database."""
    sweep()
    assert pending_parts(pool=db.get_pool("sync")) == []


def prune(records: int | None = None) -> PruneReport:
    """Run the change records' pruner to the end, as the sync role (``records`` per step)."""
    pool = db.get_pool("sync")
    return run_pruner(pool=pool) if records is None else run_pruner(pool=pool, records=records)


def prune_what_others_left() -> None:
    """Prune every record retention may prune now: the pruner takes every workspace's, so a
    test that counts what a prune does calls this first, and counts its own records alone."""
    prune()
    assert prune().records == 0


def records(
    conn: pg8000.native.Connection, t: f.Tenant, record_type: str, count: int
) -> list[tuple[int, UUID]]:
    """``count`` live records of one type in ``t``'s workspace, in one statement."""
    table = LEDGERS[record_type][1]
    public_id = LEDGERS[record_type][3]
    columns = {
        "account": ("account_name, type", "'Account ' || n, 'deposit'"),
        "company": ("name, domain", "'Company ' || n, 'example.com'"),
        "people": ("first_name, last_name, full_name", "'Ada', 'Lovelace', 'Person ' || n"),
    }[record_type]
    rows = conn.run(
        f"INSERT INTO core_api.{table} (workspace_pk, {columns[0]}) "
        f"SELECT :w, {columns[1]} FROM generate_series(1, :n) AS n "
        f"RETURNING pk, {public_id}",
        w=t.workspace_pk,
        n=count,
    )
    return [(int(pk), UUID(str(pid))) for pk, pid in rows]


def soft_delete(conn: pg8000.native.Connection, table: str, pk: int) -> None:
    conn.run(f"UPDATE core_api.{table} SET deleted_at = now() WHERE pk = :pk", pk=pk)


@dataclass(frozen=True, order=True)
class Link:
    record_type: str
    record_pk: int
    direction: str
    live: bool


def ledger(conn: pg8000.native.Connection, connector_pk: int) -> list[Link]:
    """Every ledger row of a connector in the three tables, soft-deleted ones included."""
    rows: list[Link] = []
    for record_type, (table, _, fk, _) in LEDGERS.items():
        for record_pk, direction, live in conn.run(
            f"SELECT {fk}, direction::text, deleted_at IS NULL FROM core_api.{table} "
            "WHERE workspace_connector_pk = :w",
            w=connector_pk,
        ):
            rows.append(Link(record_type, int(record_pk), str(direction), bool(live)))
    return sorted(rows)


def live(conn: pg8000.native.Connection, connector_pk: int) -> list[Link]:
    return [link for link in ledger(conn, connector_pk) if link.live]


def receipts(conn: pg8000.native.Connection, keys: Sequence[str]) -> list[str]:
    """Which of ``keys`` have a receipt (their message took effect)."""
    rows = conn.run(
        "SELECT idempotency_key FROM core_api.sync_receipts WHERE idempotency_key = ANY(:k) "
        "ORDER BY idempotency_key",
        k=list(keys),
    )
    return [str(r[0]) for r in rows]


class _CurrentStdout:
    """Whatever ``sys.stdout`` is when a line is written (pytest swaps it between phases)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def follow_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the sync function's logger write to the current ``sys.stdout`` (capsys's)."""
    handler = sync_handler_module.logger.registered_handler
    monkeypatch.setattr(handler, "stream", _CurrentStdout())


def _json_lines(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.startswith("{"):
            value = json.loads(line)
            if isinstance(value, dict):
                out.append(value)
    return out


def log_lines(text: str, message: str | None = None) -> list[dict[str, Any]]:
    """The Powertools log records in ``text``, those with ``message`` only when given."""
    return [
        line
        for line in _json_lines(text)
        if "level" in line and (message is None or line.get("message") == message)
    ]


def metric_values(text: str) -> dict[str, float]:
    """The metrics of every EMF blob in ``text``, summed by name."""
    totals: dict[str, float] = {}
    for blob in _json_lines(text):
        if "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                name = metric["Name"]
                values = blob[name] if isinstance(blob[name], list) else [blob[name]]
                totals[name] = totals.get(name, 0.0) + sum(float(v) for v in values)
    return totals
