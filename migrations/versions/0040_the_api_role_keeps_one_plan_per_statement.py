"""the API role plans each named statement once, whatever the tenant's size

Revision ID: 0040
Revises: 0039
Create Date: 2026-11-28

A connection keeps each statement with values prepared under a name (revision 0029), and
PostgreSQL plans a named statement for its values five times, then compares the generic plan's
estimated cost with the custom plans' average and keeps the cheaper. A List's and the changes
feed's statements bind their page's size to ``LIMIT``, which a generic plan, made without
values, estimates at a tenth of the rows it limits: for a big tenant's ledger that prices the
generic walk at ten times the custom one, though both walk the same indexes in the same order
and stop at the page. So PostgreSQL kept planning such statements for their values on every
request: 0.2 to 0.35 ms of planning each, more than their execution. Measured with the role's
setting and without, taking turns on one connection each, database CPU a request: on the
bench's 10,000,000-row database, the big tenant's default page of the people ledger 1.36 ms
against 2.13, of the account ledger 1.52 against 2.19, a page of 100 with both includes 2.91
against 3.76 (on its 10,000-row database, the people ledger's default page 1.37 against 1.38:
planned generically either way); the changes feed's first page of 10,000,000 records 0.74
against 1.57, a page 90 % deep 0.79 against 1.51 (of 10,000 records, 0.77 against 1.55).

The API role now keeps the generic plan from the first use (``plan_cache_mode``, set per role and
database as revision 0013 set its page costs, and set again by every transaction's settings,
which this revision writes again from the roles' settings). Every read shape's generic plan is
held to rows bounded by the page (``tests/database/test_read_plans.py``, ``generic``), the
changes feed's to its page (``tests/database/test_feed_plans.py``); the writes find their
rows and parents by key, which a generic plan does alike. The other roles plan as before.
"""

from collections.abc import Sequence

from wellapi.handlers.migration import revision_module

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "well_api"
PLAN_CACHE_MODE = "force_generic_plan"


def _alter(action: str) -> None:
    """Revision 0013's change of a role's own setting in this database, for the API role."""
    revision_module("0013")._alter(ROLE, action)


def _refresh_settings() -> None:
    """Revision 0037's settings procedure, written again from the roles' settings."""
    revision_module("0037").refresh_settings()


def upgrade() -> None:
    _alter(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
    _refresh_settings()


def downgrade() -> None:
    _alter("RESET plan_cache_mode")
    _refresh_settings()
