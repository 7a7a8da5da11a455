"""the schema: roles, functions, tables, policies, triggers, grants and settings

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Applies the SQL of ``migrations/baseline/``, one file for each kind of object, in the order
their references need. ``migrations/schema.sql`` is what the database then holds.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BASELINE = Path(__file__).resolve().parents[1] / "baseline"
# In the order their references need. The functions come before the tables whose defaults call
# them, their bodies checked when they run rather than when they are made (the tables they read
# come after); the ledgers, each a function's definition applied, once all they point at is.
FILES = (
    "roles.sql",
    "functions/*.sql",
    "tables.sql",
    "policies.sql",
    "triggers.sql",
    "grants.sql",
    "ledgers.sql",
    "settings.sql",
)


def upgrade() -> None:
    op.execute("SELECT pg_catalog.set_config('check_function_bodies', 'off', true)")
    for pattern in FILES:
        if pattern == "tables.sql":
            op.execute("SELECT pg_catalog.set_config('check_function_bodies', 'on', true)")
        for path in sorted(BASELINE.glob(pattern)):
            op.execute(path.read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((BASELINE / "drop.sql").read_text(encoding="utf-8"))
