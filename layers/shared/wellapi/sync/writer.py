"""Set-based writing of a batch of sync messages.

Two round trips per batch, whatever its size: one statement resolves every public id the
batch names (connectors and records) so each message can be checked on its own; then one
script — one implicit transaction — applies every good message with one set-based statement
each (INSERT ... SELECT FROM unnest, or one UPDATE), in the order they arrived. Each
statement first records the message's idempotency key; if the key is already there, the
statement writes nothing, so a redelivery has no effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
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


@dataclass
class Resolution:
    """Internal keys and workspaces of the public ids a batch names (live rows only)."""

    connectors: dict[UUID, tuple[int, int]] = field(default_factory=dict)
    records: dict[tuple[str, UUID], tuple[int, int]] = field(default_factory=dict)


def _uuid_array(ids: Sequence[UUID]) -> str:
    return to_literal(sorted(set(ids), key=str)) + "::uuid[]"


def resolve(messages: Sequence[AnyMessage], *, engine: Any = None) -> Resolution:
    connectors = [m.workspace_connector_id for m in messages]
    records: dict[str, list[UUID]] = {kind: [] for kind in LEDGERS}
    for m in messages:
        if not isinstance(m, ConnectorRevoked):
            records[m.record_type].extend(m.record_ids)
    parts = [
        "SELECT 'connector', workspace_connector_id, pk, workspace_pk "
        "FROM core_api.workspace_connectors "
        f"WHERE workspace_connector_id = ANY({_uuid_array(connectors)}) AND deleted_at IS NULL"
    ]
    for kind, ids in records.items():
        if ids:
            _, table, id_column = LEDGERS[kind]
            parts.append(
                f"SELECT {to_literal(kind)}, {id_column}, pk, workspace_pk FROM core_api.{table} "
                f"WHERE {id_column} = ANY({_uuid_array(ids)}) AND deleted_at IS NULL"
            )
    resolution = Resolution()
    for kind, public_id, pk, workspace_pk in db.execute(" UNION ALL ".join(parts), engine=engine):
        if kind == "connector":
            resolution.connectors[public_id] = (pk, workspace_pk)
        else:
            resolution.records[(kind, public_id)] = (pk, workspace_pk)
    return resolution


@dataclass(frozen=True)
class Planned:
    message: AnyMessage
    connector_pk: int
    record_pks: tuple[int, ...] = ()


def check(message: AnyMessage, resolution: Resolution) -> Planned:
    """Everything a message names must exist and sit in the connector's workspace."""
    connector = resolution.connectors.get(message.workspace_connector_id)
    if connector is None:
        raise Rejected("unknown workspace connector")
    connector_pk, workspace_pk = connector
    if isinstance(message, ConnectorRevoked):
        return Planned(message, connector_pk)
    pks: list[int] = []
    for record_id in dict.fromkeys(message.record_ids):
        found = resolution.records.get((message.record_type, record_id))
        if found is None:
            raise Rejected(f"unknown {message.record_type} {record_id}")
        if found[1] != workspace_pk:
            raise Rejected(
                f"{message.record_type} {record_id} is in another workspace than the connector"
            )
        pks.append(found[0])
    return Planned(message, connector_pk, tuple(pks))


def _receipt(planned: Planned) -> str:
    m = planned.message
    values = ", ".join(
        to_literal(v)
        for v in (m.idempotency_key, m.type, planned.connector_pk, sync_run_of(m), m.occurred_at)
    )
    return (
        "receipt AS (INSERT INTO core_api.sync_receipts "
        "(idempotency_key, message_type, workspace_connector_pk, sync_run_id, occurred_at) "
        f"VALUES ({values}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1)"
    )


def statement(index: int, planned: Planned) -> str:
    """One set-based statement for one message; it returns (index, applied, rows)."""
    m = planned.message
    wc = to_literal(planned.connector_pk)
    fresh = "EXISTS (SELECT 1 FROM receipt)"
    if isinstance(m, ConnectorRevoked):
        updates = [
            f"{table} AS (UPDATE core_api.{table} SET deleted_at = now() "
            f"WHERE workspace_connector_pk = {wc} AND deleted_at IS NULL AND {fresh} RETURNING 1)"
            for table, _, _ in LEDGERS.values()
        ]
        counted = " + ".join(f"(SELECT count(*) FROM {table})" for table, _, _ in LEDGERS.values())
        return f"WITH {_receipt(planned)}, {', '.join(updates)} SELECT {index}, {fresh}, {counted}"
    table, _, _ = LEDGERS[m.record_type]
    record_pk = f"{m.record_type}_pk"
    pks = to_literal(list(planned.record_pks)) + "::bigint[]"
    direction = to_literal(m.direction.value) + "::core_api.direction_enum"
    if isinstance(m, ProvenanceLinked):
        change = (
            f"changed AS (INSERT INTO core_api.{table} "
            f"({record_pk}, workspace_connector_pk, direction) "
            f"SELECT r, {wc}, {direction} FROM unnest({pks}) AS r WHERE {fresh} RETURNING 1)"
        )
    else:
        change = (
            f"changed AS (UPDATE core_api.{table} SET deleted_at = now() "
            f"WHERE {record_pk} = ANY({pks}) AND workspace_connector_pk = {wc} "
            f"AND direction = {direction} AND deleted_at IS NULL AND {fresh} RETURNING 1)"
        )
    counted = "(SELECT count(*) FROM changed)"
    return f"WITH {_receipt(planned)}, {change} SELECT {index}, {fresh}, {counted}"


@dataclass(frozen=True)
class Applied:
    message: AnyMessage
    applied: bool
    rows: int


def apply(planned: Sequence[Planned], *, engine: Any = None) -> list[Applied]:
    """Write every planned message in one transaction; all of them or none."""
    if not planned:
        return []
    # Not retried on a dropped connection: the batch goes back to the queue instead, and
    # the receipts make the redelivery safe.
    rows = db.execute(
        script(*(statement(i, p) for i, p in enumerate(planned))), retry=False, engine=engine
    )
    return [Applied(planned[i].message, bool(applied), int(count)) for i, applied, count in rows]
