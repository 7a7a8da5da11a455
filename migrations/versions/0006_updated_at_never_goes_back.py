"""updated_at never goes back: each write of a row moves it forward

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

``now()`` is the start of the writing transaction. A transaction that began before another
wrote and committed the row (a sync batch, or a statement that waited for the row's lock) then
set a time earlier than the one the row already had. The trigger runs with the row locked, so
it can see the time the row has: it keeps ``now()`` (still equal to a ``deleted_at = now()``
set in the same write) unless that would not be later, and then takes the next microsecond.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOUCH_ROW = """
CREATE OR REPLACE FUNCTION core_api.touch_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.updated_at := NEW.created_at;
  ELSE
    IF to_jsonb(NEW) -> TG_ARGV[0] IS DISTINCT FROM to_jsonb(OLD) -> TG_ARGV[0] THEN
      RAISE EXCEPTION 'column % is immutable', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.updated_at := {updated_at};
  END IF;
  RETURN NEW;
END
$fn$
"""


def upgrade() -> None:
    op.execute(
        TOUCH_ROW.format(updated_at="greatest(now(), OLD.updated_at + interval '1 microsecond')")
    )


def downgrade() -> None:
    op.execute(TOUCH_ROW.format(updated_at="now()"))
