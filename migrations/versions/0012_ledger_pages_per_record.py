"""ledger pages walked per record, one partial index per sort

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22

A List filtered by record (``filter[account]=<id>``, and the same for companies and people)
walks the named records' rows (``wellapi.queries``), a page per record. Revision 0001's
``(<record>_pk, created_at)`` index holds deleted rows and has no tie-break, so the walk stepped
over every deleted row, sorted ties after the index and, for ``sort=updated_at``, fetched and
sorted all of the record's rows: a record touched by a thousand sync runs cost a thousand heap
pages at ten million rows, against a few dozen at ten thousand (``make bench``: 1.89x).

- ``(<record>_pk, created_at, <public id>)`` and ``(<record>_pk, updated_at, <public id>)``,
  partial on ``deleted_at IS NULL``: exactly the rows a List may show, in the List's order with
  its tie-break, so a page reads a page and a cursor starts inside the index.
- No index per direction, unlike the connector walks of revision 0008: a record's rows are a
  few per sync run, and a record filtered by direction steps over at most the record's rows of
  the other direction.

Revision 0001's index stays: the foreign key's checks and the parents' triggers of revision
0007 look up every row of a record, deleted or not.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = {
    "account_workspace_connectors": ("account_pk", "account_workspace_connector_id"),
    "company_workspace_connectors": ("company_pk", "company_workspace_connector_id"),
    "people_workspace_connectors": ("people_pk", "people_workspace_connector_id"),
}
SORTS = {"created": "created_at", "updated": "updated_at"}


def _indexes() -> list[tuple[str, str, str]]:
    return [
        (
            f"idx_{ledger}_record_live_{short}",
            ledger,
            f"({record_pk}, {column}, {public_id}) WHERE deleted_at IS NULL",
        )
        for ledger, (record_pk, public_id) in LEDGERS.items()
        for short, column in SORTS.items()
    ]


def upgrade() -> None:
    for name, ledger, definition in _indexes():
        op.execute(f"CREATE INDEX {name} ON core_api.{ledger} {definition}")


def downgrade() -> None:
    for name, _, _ in _indexes():
        op.execute(f"DROP INDEX core_api.{name}")
