"""What the sync writer and the sweeper tell the database about the changes they make
(revision 0025, docs/changes.md).

The database records every change of a junction row itself: a trigger at the end of each
statement writes the records of the rows it changed, set-based (one record per ``CHANGE_IDS``
rows). Without a verified scope it cannot know which message a change carries out, so each
message's statement (and each sweep step) is preceded by ``declared``: a setting for the rest
of the transaction, which the next message's declaration replaces, naming the actor, the
message's sync run and key, and when the change occurred. A revocation's own record names the
connector, not a junction row, and is still the writer's (``revocation_change``).
"""

from __future__ import annotations

from typing import Any

from wellapi.domain import ActorKind, ChangeKind
from wellapi.store.templates import to_literal

# The columns of a revocation's record the sync role sets (revision 0019's grant).
COLUMNS = (
    "workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, "
    "sync_run_id, message_key"
)


def ledger_id_column(record_type: str) -> str:
    """The public id column of a ledger's rows."""
    return f"{record_type}_workspace_connector_id"


def declared(
    actor: ActorKind,
    *,
    occurred_at: str,
    sync_run_id: str | None = None,
    message_key: str | None = None,
) -> str:
    """SQL: the statement that declares the changes the transaction makes next (``occurred_at``
    is an SQL expression). It answers one row."""
    return (
        "SELECT set_config('well.change', jsonb_build_object("
        f"'actor', {to_literal(str(actor))}, 'occurred_at', {occurred_at}, "
        f"'sync_run_id', {_text(sync_run_id)}, 'message_key', {_text(message_key)})::text, true)"
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
    return "NULL" if value is None else f"{to_literal(value)}::text"


__all__ = ["declared", "ledger_id_column", "revocation_change"]
