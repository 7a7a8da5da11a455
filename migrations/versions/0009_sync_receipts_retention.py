"""sync receipts are kept 35 days, pruned by the writer as new ones arrive

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

A receipt only has to outlive every delivery of its message. A message lives at most 4 days in
the sync queue and 14 days in its dead-letter queue, both counted from when it was first sent
(a standard queue keeps the original enqueue time when a message moves to its DLQ); a message
redriven from the DLQ can spend up to another 4 + 14 days. 35 days covers that with a margin.

The sync writer deletes, in the transaction of each batch, up to twice as many expired receipts
as the batch brings (``wellapi.sync.writer.prune``), oldest first; while one batch prunes, a
concurrent one skips it (a transaction-level advisory lock): the table stops growing without a
scheduled job, and no batch waits on another's clean-up. ``received_at`` gets the index that finds the oldest receipts, and the sync role the
right to delete them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "idx_sync_receipts_received_at", "sync_receipts", ["received_at"], schema="core_api"
    )
    op.execute("GRANT DELETE ON core_api.sync_receipts TO well_sync")


def downgrade() -> None:
    op.execute("REVOKE DELETE ON core_api.sync_receipts FROM well_sync")
    op.drop_index("idx_sync_receipts_received_at", table_name="sync_receipts", schema="core_api")
