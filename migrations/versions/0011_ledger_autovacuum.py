"""ledgers are vacuumed after 1 % of their rows change, not 20 %

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22

A revocation soft-deletes every row of a connector: each old row version stays in the walk
indexes of revision 0008 until a vacuum removes it, and every List over that connector steps
over it until then (``make bench`` measured 2,904 buffers to walk past 60,000 such rows, against
a handful). With PostgreSQL's default scale factor of 20 %, a ledger of 10 million rows waits
for 2 million dead rows before autovacuum runs. At 1 % it waits for 100,000, and rows appended
by the sync writer are vacuumed (their visibility map set) as often.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)
SETTINGS = ("autovacuum_vacuum_scale_factor", "autovacuum_vacuum_insert_scale_factor")


def upgrade() -> None:
    for table in LEDGERS:
        options = ", ".join(f"{name} = 0.01" for name in SETTINGS)
        op.execute(f"ALTER TABLE core_api.{table} SET ({options})")


def downgrade() -> None:
    for table in LEDGERS:
        op.execute(f"ALTER TABLE core_api.{table} RESET ({', '.join(SETTINGS)})")
