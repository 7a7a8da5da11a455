"""What the sync writer and the sweeper tell the database about the changes they make
(revision 0025, docs/changes.md).

The database records every change of a junction row itself: a trigger at the end of each
statement writes the records of the rows it changed, set-based (one record per ``CHANGE_IDS``
rows). Without a verified scope it cannot know which message a change carries out, so each
message's statement (and each sweep step) is preceded by ``declared``: a setting for the rest
of the transaction, which the next message's declaration replaces, naming the actor, the
message's sync run and key, and when the change occurred. A revocation's own record names the
connector, not a junction row, and is still the writer's (``wellapi.sync.batches.REVOKE``).
"""

from __future__ import annotations

from wellapi.domain import ActorKind
from wellapi.resources.conditions import constant


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


__all__ = ["declared", "ledger_id_column"]
