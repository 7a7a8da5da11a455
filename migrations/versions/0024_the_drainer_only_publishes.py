"""the change drainer may mark a record sent only at the time of its own transaction

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-25

Revision 0021 let ``well_drain`` update ``sent_at`` of an unsent record to any time. Retention
(revision 0022) lets the sync role delete records sent more than 30 days ago, so SQL running
as ``well_drain`` could make a record that was never published prunable: ``SET sent_at = now()
- interval '400 days'``. Now the drainer's policy holds the new ``sent_at`` to the life of the
transaction that sets it, from its start (``now()``) to the moment it is checked
(``clock_timestamp()``): the drainer marks what it sent with ``clock_timestamp()`` after the
sends of its one transaction (``wellapi.sync.drainer``), which this admits, and nothing else is.

It only narrows what the previous release's drainer never did, so the previous release keeps
working through it (docs/deploy.md).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DRAIN_ROLE = "well_drain"
POLICY = "change_records_drain_mark"


def _mark(check: str) -> None:
    op.execute(f"DROP POLICY {POLICY} ON core_api.change_records")
    op.execute(
        f"CREATE POLICY {POLICY} ON core_api.change_records FOR UPDATE TO {DRAIN_ROLE} "
        f"USING (sent_at IS NULL) WITH CHECK ({check})"
    )


def upgrade() -> None:
    _mark("sent_at BETWEEN now() AND clock_timestamp()")


def downgrade() -> None:
    _mark("sent_at IS NOT NULL")
