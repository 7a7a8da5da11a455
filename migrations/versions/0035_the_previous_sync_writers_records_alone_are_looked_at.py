"""a change record is looked at by the previous sync writer's discard only when it could be one

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-27

Revision 0025's ``BEFORE INSERT`` row trigger on ``change_records`` discards a junction row's
record that the sync role inserts itself (the previous release's sync writer, whose change the
database's own trigger has recorded already). It ran its PL/pgSQL function for every record,
the database's own included: every API write paid for a function call and two role lookups,
about 0.02 ms of database CPU (an API Create's 0.971 ms against 0.950 without it, the trigger
changed between rounds, 3,600 Creates each).

The trigger now fires only for a record that can be such a one: a junction's (not a
``workspace_connector``'s), whose actor is ``sync`` or ``sweep``. The sync role cannot insert a
record of any other actor (its policy, revision 0019, refuses it): such an insert is refused
instead of discarded, and every record the function would have kept is kept. The function is
unchanged; the previous release inserts the same records and finds the same outcome.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = (
    "CREATE OR REPLACE TRIGGER change_records_of_junctions_are_the_databases BEFORE INSERT ON "
    "core_api.change_records FOR EACH ROW {when}"
    "EXECUTE FUNCTION core_api.change_records_of_junctions_are_the_databases()"
)
# What the function discards: a junction's record, by the sync role, of the sync writer or the
# sweeper (the only actors the sync role's policy lets it insert).
WHEN = "WHEN (NEW.resource_type <> 'workspace_connector' AND NEW.actor_kind IN ('sync', 'sweep')) "


def upgrade() -> None:
    op.execute(TRIGGER.format(when=WHEN))


def downgrade() -> None:
    op.execute(TRIGGER.format(when=""))
