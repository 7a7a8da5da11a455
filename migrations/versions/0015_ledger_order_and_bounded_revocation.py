"""the ledger ends the same in any delivery order; revocations are recorded, then swept

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24

Standard SQS reorders and redelivers. Until now the writer applied messages in arrival order,
keyed receipts on the idempotency key alone and soft-deleted a revoked connector's rows in one
statement. Here (``wellapi.sync.batches`` and docs/sync.md, "Keys, order and failures", say how
each part is used):

- ``occurred_at`` on each ledger row: when the link happened, as its message said. NULL on a
  row written over HTTP or before this revision: it counts as older than any message, so any
  unlink of its key removes it, as every unlink did until now. An unlink removes only rows
  that occurred at or before it.
- ``sync_tombstones``: for each (connector, record, direction) that was unlinked, the latest
  ``occurred_at`` of its unlinks. A link that occurred at or before it is written already
  soft-deleted, so an unlink that arrives before the link it removes still removes it. Kept
  ``TOMBSTONES_KEPT`` after that time, and links older than that are refused (the writer).
- ``connector_revocations``: a revoked connector, with the earliest ``occurred_at`` of its
  revocations and when the first was applied. From that commit on, no read shows a row of
  the connector; a link of it is written soft-deleted, or refused when it claims to have
  occurred after the revocation. ``revocation_sweeps`` holds, per ledger and direction, how
  far the sweeper has soft-deleted the connector's rows (a keyset on the walk index of
  revision 0008), so the physical soft-deletion goes in bounded steps, each its own
  transaction, and resumes where the last committed step ended.
- Receipts are keyed on (connector, idempotency key) and carry the SHA-256 of the message's
  canonical content: the same key from another connector is another message, and the same
  key with another content from the same connector is refused, never taken for a duplicate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)
RECORD_TYPES = "record_type IN ('account', 'company', 'people')"


def _direction() -> postgresql.ENUM:
    return postgresql.ENUM(name="direction_enum", schema="core_api", create_type=False)


def _connector(name: str = "workspace_connector_pk") -> sa.Column[int]:
    return sa.Column(
        name,
        sa.BigInteger(),
        sa.ForeignKey("core_api.workspace_connectors.pk"),
        nullable=False,
    )


def upgrade() -> None:
    for table in LEDGERS:
        # No default: adding the column rewrites nothing, and existing rows keep NULL.
        op.add_column(
            table, sa.Column("occurred_at", sa.DateTime(timezone=True)), schema="core_api"
        )

    op.create_table(
        "sync_tombstones",
        _connector(),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("record_pk", sa.BigInteger(), nullable=False),
        sa.Column("direction", _direction(), nullable=False),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_connector_pk",
            "record_type",
            "record_pk",
            "direction",
            name="sync_tombstones_pkey",
        ),
        sa.CheckConstraint(RECORD_TYPES, name="sync_tombstones_record_type"),
        schema="core_api",
    )
    op.create_index(
        "idx_sync_tombstones_unlinked_at", "sync_tombstones", ["unlinked_at"], schema="core_api"
    )

    op.create_table(
        "connector_revocations",
        _connector(),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("swept_at", sa.DateTime(timezone=True)),
        sa.Column("rows_swept", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("workspace_connector_pk", name="connector_revocations_pkey"),
        schema="core_api",
    )
    op.create_index(
        "idx_connector_revocations_pending",
        "connector_revocations",
        ["revoked_at"],
        schema="core_api",
        postgresql_where=sa.text("swept_at IS NULL"),
    )
    op.create_table(
        "revocation_sweeps",
        _connector(),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("direction", _direction(), nullable=False),
        sa.Column("after_created_at", sa.DateTime(timezone=True)),
        sa.Column("after_id", sa.Uuid()),
        sa.Column("done", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_connector_pk", "record_type", "direction", name="revocation_sweeps_pkey"
        ),
        sa.CheckConstraint(RECORD_TYPES, name="revocation_sweeps_record_type"),
        schema="core_api",
    )

    op.add_column("sync_receipts", sa.Column("fingerprint", sa.LargeBinary()), schema="core_api")
    op.create_check_constraint(
        "sync_receipts_fingerprint_is_sha256",
        "sync_receipts",
        "octet_length(fingerprint) = 32",
        schema="core_api",
    )
    op.drop_constraint("sync_receipts_pkey", "sync_receipts", schema="core_api")
    op.create_primary_key(
        "sync_receipts_pkey",
        "sync_receipts",
        ["workspace_connector_pk", "idempotency_key"],
        schema="core_api",
    )

    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON core_api.sync_tombstones, "
        "core_api.connector_revocations, core_api.revocation_sweeps TO well_sync"
    )
    # What a read needs to leave a revoked connector's rows out: which connectors, nothing else.
    op.execute(
        "GRANT SELECT (workspace_connector_pk) ON core_api.connector_revocations TO well_api"
    )


def downgrade() -> None:
    # Without the revocations, the rows they hide would show again: finish every sweep first.
    for table in LEDGERS:
        op.execute(
            f"UPDATE core_api.{table} l SET deleted_at = r.revoked_at "
            "FROM core_api.connector_revocations r "
            "WHERE l.workspace_connector_pk = r.workspace_connector_pk AND l.deleted_at IS NULL"
        )
    op.drop_constraint("sync_receipts_pkey", "sync_receipts", schema="core_api")
    # Keys were unique across connectors before this revision: keep the oldest receipt of each.
    op.execute(
        "DELETE FROM core_api.sync_receipts r USING core_api.sync_receipts o "
        "WHERE o.idempotency_key = r.idempotency_key "
        "AND (o.received_at, o.workspace_connector_pk) < (r.received_at, r.workspace_connector_pk)"
    )
    op.create_primary_key(
        "sync_receipts_pkey", "sync_receipts", ["idempotency_key"], schema="core_api"
    )
    op.drop_constraint("sync_receipts_fingerprint_is_sha256", "sync_receipts", schema="core_api")
    op.drop_column("sync_receipts", "fingerprint", schema="core_api")
    op.drop_table("revocation_sweeps", schema="core_api")
    op.drop_table("connector_revocations", schema="core_api")
    op.drop_table("sync_tombstones", schema="core_api")
    for table in LEDGERS:
        op.drop_column(table, "occurred_at", schema="core_api")
