"""The change records of the sync writer and the sweeper (revision 0019, docs/changes.md).

Each is a CTE for the statement that changes the ledger, reading that statement's
``RETURNING`` (``id``, the ledger row's public id, and ``record_pk``): it commits exactly when
the change does, in the same round trip, and a statement that changes nothing records nothing.
A bulk change is recorded set-based, one record per ``CHANGE_IDS`` rows in ledger-id order
(UUIDv7, so roughly the order they were written): a message of 5,000 records writes 5, a sweep
step of 10,000 rows 10, whatever the ledger holds.
"""

from __future__ import annotations

import json
from typing import Any

from wellapi.domain import CHANGE_IDS, ActorKind, ChangeKind
from wellapi.store.templates import to_literal
from wellapi.sync.ledgers import LEDGERS

COLUMNS = (
    "workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, "
    "sync_run_id, message_key"
)


def ledger_id_column(record_type: str) -> str:
    """The public id column of a ledger's rows."""
    return f"{record_type}_workspace_connector_id"


def _jsonb(value: dict[str, Any]) -> str:
    return f"{to_literal(json.dumps(value, sort_keys=True))}::jsonb"


def ledger_changes(
    *,
    source: str,
    record_type: str,
    change: ChangeKind,
    workspace_pk: str,
    detail: dict[str, Any] | str,
    occurred_at: str,
    actor: ActorKind,
    sync_run_id: str | None = None,
    message_key: str | None = None,
    where: str = "true",
) -> str:
    """The CTE ``recorded``: the records of the ledger rows ``source`` returns (``where`` holds).

    ``workspace_pk``, ``occurred_at`` and a ``detail`` given as a string are SQL expressions;
    a ``detail`` given as a dict is a literal.
    """
    table, records, record_id = LEDGERS[record_type]
    detail_sql = _jsonb(detail) if isinstance(detail, dict) else detail
    return (
        f"recorded AS (INSERT INTO core_api.change_records ({COLUMNS}) "
        f"SELECT {workspace_pk}, {to_literal(table[:-1])}, {to_literal(str(change))}, "
        f"array_agg(c.id ORDER BY c.n), array_agg(r.{record_id} ORDER BY c.n), {detail_sql}, "
        f"{occurred_at}, {to_literal(str(actor))}, {_text(sync_run_id)}, {_text(message_key)} "
        "FROM (SELECT s.id, s.record_pk, row_number() OVER (ORDER BY s.id) - 1 AS n "
        f"FROM {source} s WHERE {where}) c "
        f"JOIN core_api.{records} r ON r.pk = c.record_pk "
        f"GROUP BY c.n / {int(CHANGE_IDS)})"
    )


def revocation_change(
    *,
    source: str,
    workspace_pk: str,
    connector_id: Any,
    occurred_at: str,
    sync_run_id: str | None,
    message_key: str,
) -> str:
    """The CTE ``recorded`` of a revocation: one record naming the connector, for each row
    ``source`` returns (one when the revocation is applied, none otherwise). Its ledger rows are
    recorded by the sweep steps that soft-delete them; from this commit no read shows them."""
    return (
        f"recorded AS (INSERT INTO core_api.change_records ({COLUMNS}) "
        f"SELECT {workspace_pk}, 'workspace_connector', {to_literal(str(ChangeKind.REVOKED))}, "
        f"ARRAY[{to_literal(connector_id)}]::uuid[], NULL, '{{}}'::jsonb, {occurred_at}, "
        f"{to_literal(str(ActorKind.SYNC))}, {_text(sync_run_id)}, {_text(message_key)} "
        f"FROM {source})"
    )


def _text(value: str | None) -> str:
    return "NULL" if value is None else to_literal(value)


__all__ = ["ledger_changes", "ledger_id_column", "revocation_change"]
