"""the drainer's role: it reads the unsent change records and marks them sent, nothing else

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26

The EventBridge drainer (``wellapi.handlers.drain``, docs/changes.md) publishes every change
record once and sets its ``sent_at``. It logs in as a role of its own, ``well_drain``, rather
than as the sync writer or the API, so that what it may do is exactly that:

- **Read every record.** ``SELECT`` on the columns an event carries and the drainer's walk
  names (``sent_at`` among them, and not ``actor_person_pk``: an event says the actor's kind,
  never the person); a policy for ``well_drain`` alone lets it read every workspace's records,
  as it must. Row-level security stays forced: the API role still reads its verified scope's
  workspace, the sync role still reads none.
- **Mark a record sent, once.** ``UPDATE`` of ``sent_at`` alone, and its policy lets it set a
  time on a record that has none and nothing else: a sent record cannot be made unsent (which
  would publish it again) nor any content changed.
- **Name the workspace.** An event carries the workspace's public id, so the role reads
  ``workspaces.pk`` and ``workspaces.workspace_id`` (a policy for it alone), no other column of
  it and no other table.
- No INSERT, no DELETE, no function. Server-side timeouts like the API role's: a run holds
  one transaction across its sends (its advisory lock, docs/changes.md), which
  ``idle_in_transaction_session_timeout`` ends if the function dies between them.
"""

import runpy
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revision 0002's role helpers: a login role (with rds_iam on RDS), its timeouts per database.
ROLES = runpy.run_path(str(Path(__file__).with_name("0002_application_roles_and_grants.py")))

DRAIN_ROLE = "well_drain"
TIMEOUTS = {
    "statement_timeout": "5s",
    "lock_timeout": "2s",
    "idle_in_transaction_session_timeout": "60s",
}
READS = (
    "pk, xid, workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, "
    "recorded_at, actor_kind, sync_run_id, message_key, sent_at"
)


def upgrade() -> None:
    ROLES["_create_role"](DRAIN_ROLE)
    ROLES["_set_timeouts"](DRAIN_ROLE, TIMEOUTS)
    op.execute(f"GRANT USAGE ON SCHEMA core_api TO {DRAIN_ROLE}")
    op.execute(f"GRANT SELECT ({READS}) ON core_api.change_records TO {DRAIN_ROLE}")
    op.execute(f"GRANT UPDATE (sent_at) ON core_api.change_records TO {DRAIN_ROLE}")
    op.execute(f"GRANT SELECT (pk, workspace_id) ON core_api.workspaces TO {DRAIN_ROLE}")
    op.execute(
        "CREATE POLICY change_records_drain_read ON core_api.change_records FOR SELECT "
        f"TO {DRAIN_ROLE} USING (true)"
    )
    op.execute(
        "CREATE POLICY change_records_drain_mark ON core_api.change_records FOR UPDATE "
        f"TO {DRAIN_ROLE} USING (sent_at IS NULL) WITH CHECK (sent_at IS NOT NULL)"
    )
    op.execute(
        f"CREATE POLICY workspaces_drain ON core_api.workspaces FOR SELECT TO {DRAIN_ROLE} "
        "USING (true)"
    )


def downgrade() -> None:
    op.execute("DROP POLICY workspaces_drain ON core_api.workspaces")
    op.execute("DROP POLICY change_records_drain_mark ON core_api.change_records")
    op.execute("DROP POLICY change_records_drain_read ON core_api.change_records")
    op.execute(f"REVOKE ALL ON core_api.workspaces FROM {DRAIN_ROLE}")
    op.execute(f"REVOKE ALL ON core_api.change_records FROM {DRAIN_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA core_api FROM {DRAIN_ROLE}")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {DRAIN_ROLE} IN DATABASE %I RESET ALL', "
        "current_database()); END $$"
    )
