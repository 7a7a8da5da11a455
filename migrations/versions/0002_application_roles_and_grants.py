"""application roles, grants and server-side timeouts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Roles are cluster-wide and may already exist (another database on the same server, or a
previous deploy): they are created only when missing, and never dropped on downgrade.
The API role owns nothing, cannot bypass row-level security and cannot DELETE (deletes are
soft). Timeouts are set per role and database, on the server: a client never sends ``SET``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API = "well_api"
SYNC = "well_sync"
PROVENANCE = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)
API_WRITES = (*PROVENANCE, "workspace_group_workspaces", "workspace_providers")
TIMEOUTS = {
    API: {
        "statement_timeout": "5s",
        "lock_timeout": "2s",
        "idle_in_transaction_session_timeout": "10s",
    },
    SYNC: {
        "statement_timeout": "60s",
        "lock_timeout": "10s",
        "idle_in_transaction_session_timeout": "60s",
    },
}


def _create_role(role: str) -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
          END IF;
          -- On RDS, roles that log in with IAM tokens need rds_iam.
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') THEN
            GRANT rds_iam TO {role};
          END IF;
        END $$
        """
    )


def _set_timeouts(role: str, settings: dict[str, str]) -> None:
    for name, value in settings.items():
        op.execute(
            f"DO $$ BEGIN EXECUTE format('ALTER ROLE {role} IN DATABASE %I SET {name} = %L', "
            f"current_database(), '{value}'); END $$"
        )


def upgrade() -> None:
    for role in (API, SYNC):
        _create_role(role)
        op.execute(f"GRANT USAGE ON SCHEMA core_api TO {role}")
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA core_api TO {role}")
        op.execute(f"REVOKE ALL ON core_api.alembic_version FROM {role}")
        _set_timeouts(role, TIMEOUTS[role])
    op.execute(f"GRANT INSERT, UPDATE ON {', '.join('core_api.' + t for t in API_WRITES)} TO {API}")
    op.execute(
        f"GRANT INSERT, UPDATE ON {', '.join('core_api.' + t for t in PROVENANCE)} TO {SYNC}"
    )


def downgrade() -> None:
    for role in (API, SYNC):
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA core_api FROM {role}")
        op.execute(f"REVOKE ALL ON SCHEMA core_api FROM {role}")
        op.execute(
            f"DO $$ BEGIN EXECUTE format('ALTER ROLE {role} IN DATABASE %I RESET ALL', "
            f"current_database()); END $$"
        )
