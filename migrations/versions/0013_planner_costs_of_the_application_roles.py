"""the application roles plan for storage where a random page costs about a sequential one

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22

PostgreSQL's default ``random_page_cost`` of 4 prices a random page read at four sequential
ones, the cost of a spinning disk. RDS stores on SSD (gp3, io1/io2) and a hot tenant's pages
sit in the buffer pool; PostgreSQL's documentation suggests a value near 1 for such storage.

It matters where a List walks an index in its order and stops at the page: the planner weighs
that walk against fetching every matching row by bitmap and sorting them, from its estimate of
the rows per parent. For a parent much busier than the average (the one record that a thousand
sync runs touched, while the average record has a dozen rows), the estimate is the average,
and at 4 the bitmap looks cheaper: the List reads all of the record's rows, one heap page
each, to show twenty. At 1.1 the ordered walk wins for any parent with about a page of rows
(``tests/database/test_read_plans.py`` holds every read shape to it).

Set per role and database, on the server, like the timeouts of revision 0002: a client never
sends ``SET``, and a role's settings apply when it logs in (through RDS Proxy too).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("well_api", "well_sync")
RANDOM_PAGE_COST = "1.1"


def _alter(role: str, action: str) -> None:
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {role} IN DATABASE %I {action}', "
        f"current_database()); END $$"
    )


def upgrade() -> None:
    for role in ROLES:
        _alter(role, f"SET random_page_cost = {RANDOM_PAGE_COST}")


def downgrade() -> None:
    for role in ROLES:
        _alter(role, "RESET random_page_cost")
