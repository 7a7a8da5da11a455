"""sync receipts: the idempotency keys of applied sync messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

A message's key is inserted in the same transaction as the rows it writes; a redelivered or
duplicated message finds its key and writes nothing, so each message takes effect once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_receipts",
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("message_type", sa.Text(), nullable=False),
        sa.Column("workspace_connector_pk", sa.BigInteger(), nullable=False),
        sa.Column("sync_run_id", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_connector_pk"],
            ["core_api.workspace_connectors.pk"],
            name=op.f("sync_receipts_workspace_connector_pk_fkey"),
        ),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("sync_receipts_pkey")),
        sa.CheckConstraint(
            "length(idempotency_key) BETWEEN 1 AND 200", name="sync_receipts_key_length"
        ),
        schema="core_api",
    )
    # Receipts are written once and never changed: the writer tells a receipt it has just
    # inserted from an earlier one by its xmin (see wellapi.sync.writer).
    op.execute("GRANT SELECT, INSERT ON core_api.sync_receipts TO well_sync")


def downgrade() -> None:
    op.drop_table("sync_receipts", schema="core_api")
