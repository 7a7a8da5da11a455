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

from wellapi.domain import ActorKind, ChangeKind
from wellapi.resources.conditions import constant

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
    sync_run_id: str = "NULL",
    message_key: str = "NULL",
) -> str:
    """SQL: the statement that declares the changes the transaction makes next. It answers one
    row. ``occurred_at``, ``sync_run_id`` and ``message_key`` are SQL expressions: a slot of
    the caller's template, or NULL."""
    return (
        "SELECT set_config('well.change', jsonb_build_object("
        f"'actor', {constant(actor)}, 'occurred_at', {occurred_at}, "
        f"'sync_run_id', {sync_run_id}, 'message_key', {message_key})::text, true)"
    )


def revocation_change(
    *,
    source: str,
    workspace_pk: str,
    connector_id: str,
    occurred_at: str,
    message_key: str,
    sync_run_id: str = "NULL",
) -> str:
    """The CTE ``recorded`` of a revocation: one record naming the connector, for each row
    ``source`` returns (one when the revocation is applied, none otherwise). Its ledger rows are
    recorded by the sweep steps that soft-delete them; from this commit no read shows them.
    Every argument but ``source`` is an SQL expression: a slot of the caller's template."""
    return (
        f"recorded AS (INSERT INTO core_api.change_records ({COLUMNS}) "
        f"SELECT {workspace_pk}, 'workspace_connector', {constant(ChangeKind.REVOKED)}, "
        f"ARRAY[{connector_id}]::uuid[], NULL, '{{}}'::jsonb, {occurred_at}, "
        f"{constant(ActorKind.SYNC)}, {sync_run_id}, {message_key} "
        f"FROM {source})"
    )


__all__ = ["declared", "ledger_id_column", "revocation_change"]
