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
from wellapi.sql import script, to_literal
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
    parts = [
        "SELECT 'connector', workspace_connector_id, NULL::uuid, pk, workspace_pk, "
        "deleted_at IS NULL FROM core_api.workspace_connectors "
        f"WHERE workspace_connector_id = ANY({_uuid_array(connectors)})"
    ]
    for (connector_id, kind), ids in groups.items():
        _, table, id_column = LEDGERS[kind]
        workspace = (
            "(SELECT workspace_pk FROM core_api.workspace_connectors "
            f"WHERE workspace_connector_id = {to_literal(connector_id)})"
        )
        parts.append(
            f"SELECT {to_literal(kind)}, {to_literal(connector_id)}::uuid, u.id, r.pk, "
            f"r.workspace_pk, r.deleted_at IS NULL FROM unnest({_uuid_array(ids)}) AS u(id) "
            f"LEFT JOIN core_api.{table} r ON r.{id_column} = u.id "
            f"WHERE {workspace} IS NOT NULL AND (r.pk IS NULL OR r.deleted_at IS NOT NULL "
            f"OR r.workspace_pk <> {workspace})"
        )
    resolution = Resolution()
    rows = db.execute(" UNION ALL ".join(parts), pool=pool)
    for kind, connector_id, record_id, pk, workspace_pk, live in rows:
        if kind == "connector":
            resolution.connectors[connector_id] = ResolvedConnector(pk, workspace_pk, live)
        else:
            key = (connector_id, kind, record_id)
            resolution.problems[key] = Problem(workspace_pk, live if pk is not None else None)
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


def statement(index: int, planned: Planned) -> str:
    """One set-based statement for one message; it returns (index, applied, rows).

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
        return f"WITH {', '.join(updates)} SELECT {index}, {fresh}, {counted}"
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
    return f"WITH {change} SELECT {index}, {fresh}, (SELECT count(*) FROM changed)"


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
    statements = [
        receipts({key: planned[index] for key, index in first.items()}),
        *(statement(index, planned[index]) for index in first.values()),
        # Twice the receipts this batch adds: the table shrinks back to its retention.
        prune(2 * len(first)),
    ]
    # Not retried on a dropped connection: the batch goes back to the queue instead, and
    # the receipts make the redelivery safe.
    rows = db.execute(script(*statements), retry=False, pool=pool)
    outcome = {int(index): (bool(applied), int(count)) for index, applied, count in rows}
    if len(outcome) != len(first):
        raise RuntimeError(f"expected {len(first)} results, got {len(outcome)}")
    return [Applied(p.message, *outcome.get(index, (False, 0))) for index, p in enumerate(planned)]
