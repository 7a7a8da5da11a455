"""each ledger checks its own parents, with statements planned once a session

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-26

Revision 0007's ``core_api.provenance_parents_agree()`` served the three ledgers with one body,
given the ledger's record table and column in ``TG_ARGV``: its query was written by
``format()`` and run by ``EXECUTE``, so PostgreSQL parsed and planned it again at every
statement that inserted into a ledger. That was about 0.2 ms of a Create's database CPU
(docs/performance.md), and about a quarter of its write. Each ledger now has its own function,
``core_api.<ledger>_parents_agree()``, whose statements name its tables, so PL/pgSQL plans
them once a session. The rule is unchanged. An insert (per statement, over its new rows) or an
update that re-points a row (per row) is refused when its record and its workspace connector
lie in two workspaces: ``check_violation``, constraint ``<ledger>_parents_share_a_workspace``.

Expand only (docs/deploy.md): revision 0007's function stays, used by no trigger, for a later
release's revision to drop.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each ledger: its record table, and its column pointing at it.
LEDGERS = {
    "account_workspace_connectors": ("accounts", "account_pk"),
    "company_workspace_connectors": ("companies", "company_pk"),
    "people_workspace_connectors": ("peoples", "people_pk"),
}
# The search path revision 0028 gave the function these replace: no name resolves to a session's.
SEARCH_PATH = "pg_catalog, core_api, pg_temp"

PARENTS_AGREE = """
CREATE FUNCTION core_api.{ledger}_parents_agree() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {search_path}
AS $fn$
DECLARE
  v_crossed bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    SELECT count(*) INTO v_crossed
      FROM new_rows n
      JOIN core_api.{records} r ON r.pk = n.{column}
      JOIN core_api.workspace_connectors wc ON wc.pk = n.workspace_connector_pk
     WHERE r.workspace_pk <> wc.workspace_pk;
  ELSE
    SELECT count(*) INTO v_crossed
      FROM core_api.{records} r, core_api.workspace_connectors wc
     WHERE r.pk = NEW.{column} AND wc.pk = NEW.workspace_connector_pk
       AND r.workspace_pk <> wc.workspace_pk;
  END IF;
  IF v_crossed > 0 THEN
    RAISE EXCEPTION '% row(s) of % would point at a record and a workspace connector of two workspaces',
      v_crossed, TG_TABLE_NAME
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_parents_share_a_workspace';
  END IF;
  RETURN NULL;
END
$fn$
"""


def _triggers(ledger: str, column: str, function: str) -> None:
    """The ledger's two checks (revision 0007's triggers) on ``function``."""
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {ledger}_parents_agree_on_{event} ON core_api.{ledger}")
    op.execute(
        f"CREATE TRIGGER {ledger}_parents_agree_on_insert AFTER INSERT ON core_api.{ledger} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}"
    )
    op.execute(
        f"CREATE TRIGGER {ledger}_parents_agree_on_update AFTER UPDATE ON core_api.{ledger} "
        f"FOR EACH ROW WHEN (OLD.{column} IS DISTINCT FROM NEW.{column} "
        "OR OLD.workspace_connector_pk IS DISTINCT FROM NEW.workspace_connector_pk) "
        f"EXECUTE FUNCTION {function}"
    )


def parents_agree(ledger: str) -> str:
    """The ``CREATE FUNCTION`` of ``ledger``'s check."""
    records, column = LEDGERS[ledger]
    return PARENTS_AGREE.format(
        ledger=ledger, records=records, column=column, search_path=SEARCH_PATH
    )


def upgrade() -> None:
    for ledger, (_, column) in LEDGERS.items():
        op.execute(parents_agree(ledger))
        op.execute(f"REVOKE ALL ON FUNCTION core_api.{ledger}_parents_agree() FROM PUBLIC")
        _triggers(ledger, column, f"core_api.{ledger}_parents_agree()")


def downgrade() -> None:
    for ledger, (records, column) in LEDGERS.items():
        function = f"core_api.provenance_parents_agree('{records}', '{column}')"
        _triggers(ledger, column, function)
        op.execute(f"DROP FUNCTION core_api.{ledger}_parents_agree()")
