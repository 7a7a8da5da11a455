"""Set-based writing of a batch of sync messages.

Two round trips per batch, whatever its size: one statement resolves the batch's connectors
and returns only the records that cannot be used (missing, soft-deleted, or in another
workspace than their connector), so each message can be checked on its own; then one
script — one implicit transaction — records the batch's idempotency keys and applies every
good message with one set-based statement each (INSERT ... SELECT FROM unnest, or one
UPDATE), in the order they arrived. The write finds records again by their public ids, and
only in the connector's workspace.

Exactly once: the script's first statement inserts every distinct key of the batch into
``sync_receipts`` (``ON CONFLICT DO NOTHING``). A message's statement writes only when its
key's receipt was inserted by this very transaction (its ``xmin`` is the transaction's id);
a key that was already there belongs to an earlier delivery, and the message writes nothing.
The keys are inserted in sorted order, so two batches that share keys (a duplicated send
delivered to two concurrent invocations) wait for each other instead of deadlocking: the
second waits on the first's receipt, then finds it and writes nothing. A key carried by two
messages of one batch is applied by the first of them only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from wellapi import db
from wellapi.rows import select_list
from wellapi.sql import Script, ScriptPart, to_literal
from wellapi.sync.messages import (
    ConnectorRevoked,
    ProvenanceLinked,
    ProvenanceUnlinked,
    sync_run_of,
)

AnyMessage = ProvenanceLinked | ProvenanceUnlinked | ConnectorRevoked

# record_type -> (ledger table, record table, public id column)
LEDGERS = {
    "account": ("account_workspace_connectors", "accounts", "account_id"),
    "company": ("company_workspace_connectors", "companies", "company_id"),
    "people": ("people_workspace_connectors", "peoples", "person_id"),
}


class Rejected(Exception):
    """A message that cannot be applied; it fails alone and goes back to the queue."""


class ResolvedConnector(NamedTuple):
    """A connector a message names: internal key, workspace, not soft-deleted."""

    pk: int
    workspace_pk: int
    live: bool


class Problem(NamedTuple):
    """A record that is missing (no workspace), in another workspace, or soft-deleted."""

    workspace_pk: int | None
    live: bool | None


@dataclass
class Resolution:
    """What a batch's public ids resolve to: every connector, and only the records at fault.

    Records are keyed by (connector, record type, record id): whether one is at fault depends
    on the connector's workspace. A record that is not here is live and in that workspace.
    """

    connectors: dict[UUID, ResolvedConnector] = field(default_factory=dict)
    problems: dict[tuple[UUID, str, UUID], Problem] = field(default_factory=dict)


class ResolvedRow(NamedTuple):
    """A row of ``resolve``'s statement: a connector (``kind`` 'connector'), or a record of
    type ``kind`` that cannot be used (``pk`` NULL when it does not exist)."""

    kind: str
    connector_id: UUID
    record_id: UUID | None
    pk: int | None
    workspace_pk: int | None
    live: bool | None


def _uuid_array(ids: Iterable[UUID]) -> str:
    # A UUID renders as hexadecimal digits and dashes only: one literal, nothing to escape.
    return "'{" + ",".join(map(str, ids)) + "}'::uuid[]"


def resolve(messages: Sequence[AnyMessage], *, pool: Any = None) -> Resolution:
    """One statement: every connector the batch names, and the records that cannot be used.

    Good records do not come back (a batch of 10,000 good ids returns one row per
    connector); the statements that write find them again by their public ids. Soft-deleted
    connectors and records are reported as such, because removing links stays legal after a
    connector or a record is gone (that is often why links are removed).
    """
    connectors = sorted({m.workspace_connector_id for m in messages}, key=str)
    groups: dict[tuple[UUID, str], dict[UUID, None]] = {}
    for m in messages:
        if not isinstance(m, ConnectorRevoked):
            ids = groups.setdefault((m.workspace_connector_id, m.record_type), {})
            ids.update(dict.fromkeys(m.record_ids))
    connector_columns = select_list(
        ResolvedRow._fields,
        kind="'connector'",
        connector_id="workspace_connector_id",
        record_id="NULL::uuid",
        pk="pk",
        workspace_pk="workspace_pk",
        live="deleted_at IS NULL",
    )
    parts = [
        f"SELECT {connector_columns} FROM core_api.workspace_connectors "
        f"WHERE workspace_connector_id = ANY({_uuid_array(connectors)})"
    ]
    for (connector_id, kind), ids in groups.items():
        _, table, id_column = LEDGERS[kind]
        workspace = (
            "(SELECT workspace_pk FROM core_api.workspace_connectors "
            f"WHERE workspace_connector_id = {to_literal(connector_id)})"
        )
        record_columns = select_list(
            ResolvedRow._fields,
            kind=to_literal(kind),
            connector_id=f"{to_literal(connector_id)}::uuid",
            record_id="u.id",
            pk="r.pk",
            workspace_pk="r.workspace_pk",
            live="r.deleted_at IS NULL",
        )
        parts.append(
            f"SELECT {record_columns} FROM unnest({_uuid_array(ids)}) AS u(id) "
            f"LEFT JOIN core_api.{table} r ON r.{id_column} = u.id "
            f"WHERE {workspace} IS NOT NULL AND (r.pk IS NULL OR r.deleted_at IS NOT NULL "
            f"OR r.workspace_pk <> {workspace})"
        )
    resolution = Resolution()
    for row in map(ResolvedRow._make, db.execute(" UNION ALL ".join(parts), pool=pool)):
        if row.kind == "connector":
            # A connector's row is read from its table: none of these is NULL.
            assert row.pk is not None
            assert row.workspace_pk is not None
            assert row.live is not None
            connector = ResolvedConnector(row.pk, row.workspace_pk, row.live)
            resolution.connectors[row.connector_id] = connector
        else:
            assert row.record_id is not None
            key = (row.connector_id, row.kind, row.record_id)
            live = row.live if row.pk is not None else None
            resolution.problems[key] = Problem(row.workspace_pk, live)
    return resolution


@dataclass(frozen=True)
class Planned:
    message: AnyMessage
    connector_pk: int
    workspace_pk: int
    record_ids: tuple[UUID, ...] = ()


def check(message: AnyMessage, resolution: Resolution) -> Planned:
    """Everything a message names must exist and sit in the connector's workspace.

    A new link also needs a live connector and live records; removing links does not.
    """
    linking = isinstance(message, ProvenanceLinked)
    connector_id = message.workspace_connector_id
    connector = resolution.connectors.get(connector_id)
    if connector is None:
        raise Rejected("unknown workspace connector")
    if linking and not connector.live:
        raise Rejected("the workspace connector is deleted")
    if isinstance(message, ConnectorRevoked):
        return Planned(message, connector.pk, connector.workspace_pk)
    ids = tuple(dict.fromkeys(message.record_ids))
    for record_id in ids:
        problem = resolution.problems.get((connector_id, message.record_type, record_id))
        if problem is None:
            continue
        if problem.workspace_pk is None:
            raise Rejected(f"unknown {message.record_type} {record_id}")
        if problem.workspace_pk != connector.workspace_pk:
            raise Rejected(
                f"{message.record_type} {record_id} is in another workspace than the connector"
            )
        if linking and not problem.live:
            raise Rejected(f"{message.record_type} {record_id} is deleted")
    return Planned(message, connector.pk, connector.workspace_pk, ids)


def receipts(first: dict[str, Planned]) -> str:
    """Record each key (``first``: key -> its first message), in key order: the lock order."""
    values = ",\n".join(
        "("
        + ", ".join(
            to_literal(v) for v in (key, p.message.type, p.connector_pk, sync_run_of(p.message))
        )
        + f", {to_literal(p.message.occurred_at)}::timestamptz)"
        for key, p in sorted(first.items())
    )
    return (
        "INSERT INTO core_api.sync_receipts "
        "(idempotency_key, message_type, workspace_connector_pk, sync_run_id, occurred_at) "
        f"VALUES {values} ON CONFLICT (idempotency_key) DO NOTHING"
    )


# Longer than any message can still be delivered (revision 0009 says why).
RECEIPTS_KEPT = "35 days"


def prune(count: int) -> str:
    """Delete up to ``count`` expired receipts, oldest first.

    One batch prunes at a time: the first to take the transaction-level advisory lock does,
    a concurrent one skips it (and never waits on, or deadlocks with, the other's deletes).
    """
    return (
        "DELETE FROM core_api.sync_receipts WHERE "
        "(SELECT pg_try_advisory_xact_lock(hashtext('core_api.sync_receipts prune'))) "
        "AND idempotency_key IN (SELECT idempotency_key FROM core_api.sync_receipts "
        f"WHERE received_at < now() - interval {to_literal(RECEIPTS_KEPT)} "
        f"ORDER BY received_at LIMIT {int(count)})"
    )


def _fresh(key: str) -> str:
    """True when this transaction inserted the key's receipt, i.e. the message is new."""
    return (
        "EXISTS (SELECT 1 FROM core_api.sync_receipts "
        f"WHERE idempotency_key = {to_literal(key)} "
        "AND xmin = pg_current_xact_id_if_assigned()::xid)"
    )


def _soft_delete(table: str, condition: str) -> str:
    """Soft-delete the live rows of ``table`` that match, locking them in ``pk`` order.

    Two writes over the same rows (an unlink and a revocation of one connector) then wait for
    each other instead of deadlocking: in whatever order their plans would find the rows, each
    locks them lowest key first.
    """
    return (
        f"UPDATE core_api.{table} SET deleted_at = now() WHERE pk IN (SELECT pk FROM "
        f"core_api.{table} WHERE {condition} AND deleted_at IS NULL ORDER BY pk FOR UPDATE) "
        "RETURNING 1"
    )


class MessageOutcome(NamedTuple):
    """The one row of a message's statement."""

    # Whether this transaction recorded the message's key, so the statement wrote.
    applied: bool
    # The ledger rows it linked or soft-deleted.
    rows: int


def statement(planned: Planned) -> str:
    """One set-based statement for one message; it returns one ``MessageOutcome``.

    Records are found again by their public ids, and only in the connector's workspace: a
    record of another workspace is never linked, whatever happened since it was checked.
    """
    m = planned.message
    wc = to_literal(planned.connector_pk)
    fresh = _fresh(m.idempotency_key)
    if isinstance(m, ConnectorRevoked):
        updates = [
            f"{table} AS ({_soft_delete(table, f'workspace_connector_pk = {wc} AND {fresh}')})"
            for table, _, _ in LEDGERS.values()
        ]
        counted = " + ".join(f"(SELECT count(*) FROM {table})" for table, _, _ in LEDGERS.values())
        outcome = select_list(MessageOutcome._fields, applied=fresh, rows=counted)
        return f"WITH {', '.join(updates)} SELECT {outcome}"
    table, records, id_column = LEDGERS[m.record_type]
    record_pk = f"{m.record_type}_pk"
    direction = to_literal(m.direction.value) + "::core_api.direction_enum"
    found = (
        f"unnest({_uuid_array(planned.record_ids)}) AS u(id) JOIN core_api.{records} r "
        f"ON r.{id_column} = u.id AND r.workspace_pk = {to_literal(planned.workspace_pk)}"
    )
    if isinstance(m, ProvenanceLinked):
        change = (
            f"changed AS (INSERT INTO core_api.{table} "
            f"({record_pk}, workspace_connector_pk, direction) "
            f"SELECT r.pk, {wc}, {direction} FROM {found} AND r.deleted_at IS NULL "
            f"WHERE {fresh} RETURNING 1)"
        )
    else:
        matching = (
            f"{record_pk} IN (SELECT r.pk FROM {found}) AND workspace_connector_pk = {wc} "
            f"AND direction = {direction} AND {fresh}"
        )
        change = f"changed AS ({_soft_delete(table, matching)})"
    outcome = select_list(
        MessageOutcome._fields, applied=fresh, rows="(SELECT count(*) FROM changed)"
    )
    return f"WITH {change} SELECT {outcome}"


@dataclass(frozen=True)
class Applied:
    message: AnyMessage
    applied: bool
    rows: int


def apply(planned: Sequence[Planned], *, pool: Any = None) -> list[Applied]:
    """Write every planned message in one transaction; all of them or none.

    The result has one entry per planned message, in order; ``applied`` is false for a
    message whose key was already recorded (by an earlier delivery, or by an earlier message
    of this batch).
    """
    if not planned:
        return []
    # Each key is applied by its first message only.
    first: dict[str, int] = {}
    for index, p in enumerate(planned):
        first.setdefault(p.message.idempotency_key, index)
    batch = Script(
        (
            ScriptPart("receipts", receipts({k: planned[i] for k, i in first.items()}), "nothing"),
            *(ScriptPart(_message_part(i), statement(planned[i]), "one") for i in first.values()),
            # Twice the receipts this batch adds: the table shrinks back to its retention.
            ScriptPart("prune", prune(2 * len(first)), "nothing"),
        )
    )
    # Not retried on a dropped connection: the batch goes back to the queue instead, and
    # the receipts make the redelivery safe.
    answer = batch.split(db.execute(batch.text, retry=False, pool=pool))
    applied: list[Applied] = []
    for index, p in enumerate(planned):
        # A message whose key an earlier message of the batch carries has no statement.
        rows = answer.get(_message_part(index))
        outcome = MessageOutcome._make(rows[0]) if rows else MessageOutcome(False, 0)
        applied.append(Applied(p.message, bool(outcome.applied), int(outcome.rows)))
    return applied


def _message_part(index: int) -> str:
    return f"message {index}"
