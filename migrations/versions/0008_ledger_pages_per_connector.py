"""ledger pages walked per workspace connector, one partial index per direction and sort

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

A tenant's ledger List reads, for each of the tenant's workspace connectors, at most a page of
live rows in the requested order, then merges those pages (``wellapi.queries``). Each walk needs
an index that holds exactly the rows the List may show, in the List's order:

- ``(workspace_connector_pk, created_at, <public id>)`` for ``sort=created_at`` (the default)
  and every ``filter[created_at]`` range, and ``(workspace_connector_pk, updated_at, <public
  id>)`` for ``sort=updated_at``. The public id is the tie-break of the sort and of the cursor,
  so a page 1,000 deep starts at its cursor inside the index.
- Partial on ``deleted_at IS NULL``: Lists never show deleted rows, so the walk never steps over
  them.
- One index per direction (``direction = 'input'`` / ``'output'``): a connector that only carries
  records out would otherwise make ``filter[direction]=input`` step over every one of its rows
  to find none. The equality on an enum is not leakproof, so under row-level security it can
  never be an index condition; a partial index's predicate needs no such condition. A List with
  no direction filter walks both and merges them. Each row sits in exactly one index of each
  pair, so a pair costs what one index on all live rows would.

The spec's ``(workspace_connector_pk, created_at)`` index stays: it serves the platform's
sync-status query, which also counts deleted rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = {
    "account_workspace_connectors": "account_workspace_connector_id",
    "company_workspace_connectors": "company_workspace_connector_id",
    "people_workspace_connectors": "people_workspace_connector_id",
}
DIRECTIONS = ("input", "output")
SORTS = {"created": "created_at", "updated": "updated_at"}


def _indexes() -> list[tuple[str, str, str]]:
    return [
        (
            f"idx_{ledger}_wc_{direction}_{short}",
            ledger,
            f"(workspace_connector_pk, {column}, {public_id}) "
            f"WHERE deleted_at IS NULL AND direction = '{direction}'",
        )
        for ledger, public_id in LEDGERS.items()
        for short, column in SORTS.items()
        for direction in DIRECTIONS
    ]


def upgrade() -> None:
    for name, ledger, definition in _indexes():
        op.execute(f"CREATE INDEX {name} ON core_api.{ledger} {definition}")


def downgrade() -> None:
    for name, _, _ in _indexes():
        op.execute(f"DROP INDEX core_api.{name}")
