"""the policies allow the API role exactly the writes the API makes, write by write

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24

Until now the policies held the tenancy rule (which rows a scope may read, and in which
workspace a row it writes may sit) and, for enrolments, who may enrol and remove. SQL running
as ``well_api`` with a member's own scope could still insert ledger rows and soft-delete them
in its workspace, which the API allows to service keys only, undo a removal, insert a row
already soft-deleted or dated in the past, enrol with another person as its author, or remove
a provider that stays selected. Each write of each resource now has a restrictive policy for
the API role that states the API's rule for it (``wellapi.rules`` and ``wellapi.checks``):

- a new row is live and created now, its parents are live, and for an enrolment its author is
  the caller;
- a ledger row is inserted and removed by a service scope only, never for a revoked
  connector (whose rows already count as removed), and its direction never changes, whoever
  writes (a trigger: the API sets it on create only, and the column grant stays, since a
  PATCH that sends the same direction names it);
- an enrolment is added by a service, or by an owner or admin of the group with an active
  membership in the workspace (revision 0014), and is never modified, only removed, by a
  service or an owner or admin of the group;
- a provider selection is written in the scope's own workspace (or by a service), and a
  removed selection is not selected;
- an update finds live rows only: nothing removed comes back.

The ledgers' permissive policy no longer calls ``<ledger>_in_scope`` (a member's insert, which
the API never makes); the functions stay until a later release, as the expand-then-contract
rule wants. ``tests/database/test_tenancy_rule.py`` compares the API and these policies for every write,
every principal kind and role.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICE = "(SELECT core_api.verified_principal_kind()) = 'service'"
PERSON = "(SELECT core_api.verified_person_pk())"
WORKSPACE = "(SELECT core_api.verified_workspace_pk())"

# ledger -> (record table, record column)
LEDGERS = {
    "account_workspace_connectors": ("accounts", "account_pk"),
    "company_workspace_connectors": ("companies", "company_pk"),
    "people_workspace_connectors": ("peoples", "people_pk"),
}


def _live(table: str, pk: str) -> str:
    """The parent row ``pk`` points at exists and is not soft-deleted."""
    return f"EXISTS (SELECT 1 FROM core_api.{table} p WHERE p.pk = {pk} AND p.deleted_at IS NULL)"


def _new_row(table: str) -> str:
    """What every row the API inserts is: live, and created by this transaction."""
    return f"{table}.deleted_at IS NULL AND {table}.created_at = now()"


def _not_revoked(ledger: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM core_api.connector_revocations r "
        f"WHERE r.workspace_connector_pk = {ledger}.workspace_connector_pk)"
    )


def _group_admin(table: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM core_api.workspace_group_memberships gm "
        f"WHERE gm.workspace_group_pk = {table}.workspace_group_pk "
        f"AND gm.person_pk = {PERSON} AND gm.role IN ('owner', 'admin') "
        "AND gm.deleted_at IS NULL)"
    )


ENROLMENTS = "workspace_group_workspaces"
# Whether the scope may enrol the workspace in the group, both live: a service, or an owner or
# admin of the group with an active membership in the workspace (revision 0014's rule). The
# parents' liveness cannot be read in the policy itself: the policies of workspaces and groups
# read the enrolments, and PostgreSQL refuses a policy that reaches its own table again. As
# the owner, this function reads them past those policies, and answers only the question the
# API answers the caller anyway (may I enrol this workspace in this group?).
MAY_ENROL = f"""
CREATE FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
  SELECT EXISTS (SELECT 1 FROM core_api.workspace_groups g
                  WHERE g.pk = p_group_pk AND g.deleted_at IS NULL)
     AND EXISTS (SELECT 1 FROM core_api.workspaces w
                  WHERE w.pk = p_workspace_pk AND w.deleted_at IS NULL)
     AND ({SERVICE}
          OR (EXISTS (SELECT 1 FROM core_api.workspace_group_memberships gm
                       WHERE gm.workspace_group_pk = p_group_pk AND gm.person_pk = {PERSON}
                         AND gm.role IN ('owner', 'admin') AND gm.deleted_at IS NULL)
              AND EXISTS (SELECT 1 FROM core_api.memberships m
                           WHERE m.workspace_pk = p_workspace_pk AND m.person_pk = {PERSON}
                             AND m.status = 'active' AND m.deleted_at IS NULL)))
$fn$
"""
# A ledger row's direction is set when it is written and never changes, by any writer.
DIRECTION_STAYS = """
CREATE FUNCTION core_api.ledger_direction_stays() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, core_api
AS $fn$
BEGIN
  RAISE EXCEPTION 'a row of % keeps its direction', TG_TABLE_NAME
    USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_direction_stays';
END
$fn$
"""
SELECTIONS = "workspace_providers"
OWN_WORKSPACE = f"({SERVICE} OR {SELECTIONS}.workspace_pk = {WORKSPACE})"


def _rules() -> dict[str, tuple[str, str, str]]:
    """table -> (INSERT's WITH CHECK, UPDATE's USING, UPDATE's WITH CHECK) for the API role."""
    rules = {}
    for ledger, (records, column) in LEDGERS.items():
        rules[ledger] = (
            f"{SERVICE} AND {_new_row(ledger)} AND {_live(records, f'{ledger}.{column}')} "
            f"AND {_live('workspace_connectors', f'{ledger}.workspace_connector_pk')} "
            f"AND {_not_revoked(ledger)}",
            f"{SERVICE} AND {ledger}.deleted_at IS NULL AND {_not_revoked(ledger)}",
            SERVICE,
        )
    admin = _group_admin(ENROLMENTS)
    rules[ENROLMENTS] = (
        f"{_new_row(ENROLMENTS)} AND {ENROLMENTS}.created_by_pk = {PERSON} "
        f"AND core_api.may_enrol({ENROLMENTS}.workspace_group_pk, {ENROLMENTS}.workspace_pk)",
        # Never modified (PATCH is refused): an update is a removal.
        f"({SERVICE} OR {admin}) AND {ENROLMENTS}.deleted_at IS NULL",
        f"({SERVICE} OR {admin}) AND {ENROLMENTS}.deleted_at IS NOT NULL",
    )
    rules[SELECTIONS] = (
        f"{OWN_WORKSPACE} AND {_new_row(SELECTIONS)} "
        f"AND {_live('workspaces', f'{SELECTIONS}.workspace_pk')} "
        f"AND {_live('providers', f'{SELECTIONS}.provider_pk')}",
        f"{OWN_WORKSPACE} AND {SELECTIONS}.deleted_at IS NULL",
        # A removal clears the selection (platform: removing sets is_selected = false).
        f"{OWN_WORKSPACE} AND ({SELECTIONS}.deleted_at IS NULL OR NOT {SELECTIONS}.is_selected)",
    )
    return rules


def _drop(table: str) -> None:
    for command in ("insert", "update"):
        op.execute(f"DROP POLICY IF EXISTS {table}_api_{command} ON core_api.{table}")


def upgrade() -> None:
    op.execute(MAY_ENROL)
    op.execute("REVOKE ALL ON FUNCTION core_api.may_enrol(bigint, bigint) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.may_enrol(bigint, bigint) TO well_api")
    op.execute(DIRECTION_STAYS)
    op.execute("REVOKE ALL ON FUNCTION core_api.ledger_direction_stays() FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.ledger_direction_stays() TO well_api, well_sync")
    for ledger in LEDGERS:
        # Fires only for an UPDATE that names the column and changes it: never for a removal.
        op.execute(
            f"CREATE TRIGGER {ledger}_direction_stays BEFORE UPDATE OF direction "
            f"ON core_api.{ledger} FOR EACH ROW "
            "WHEN (OLD.direction IS DISTINCT FROM NEW.direction) "
            "EXECUTE FUNCTION core_api.ledger_direction_stays()"
        )
    for table, (insert, using, check) in _rules().items():
        _drop(table)
        op.execute(
            f"CREATE POLICY {table}_api_insert ON core_api.{table} AS RESTRICTIVE FOR INSERT "
            f"TO well_api WITH CHECK ({insert})"
        )
        op.execute(
            f"CREATE POLICY {table}_api_update ON core_api.{table} AS RESTRICTIVE FOR UPDATE "
            f"TO well_api USING ({using}) WITH CHECK ({check})"
        )
    for ledger in LEDGERS:
        op.execute(f"ALTER POLICY {ledger}_api ON core_api.{ledger} WITH CHECK ({SERVICE})")


def downgrade() -> None:
    r14 = _revision_0014()
    for ledger, (_, column) in LEDGERS.items():
        op.execute(
            f"ALTER POLICY {ledger}_api ON core_api.{ledger} WITH CHECK "
            f"({SERVICE} OR core_api.{ledger}_in_scope({ledger}.{column}, "
            f"{ledger}.workspace_connector_pk))"
        )
    for table in _rules():
        _drop(table)
    op.execute(
        f"CREATE POLICY {ENROLMENTS}_api_insert ON core_api.{ENROLMENTS} AS RESTRICTIVE "
        f"FOR INSERT TO well_api WITH CHECK {r14.ENROLMENT_INSERT}"
    )
    op.execute(
        f"CREATE POLICY {ENROLMENTS}_api_update ON core_api.{ENROLMENTS} AS RESTRICTIVE "
        f"FOR UPDATE TO well_api USING {r14.ENROLMENT_UPDATE} WITH CHECK {r14.ENROLMENT_UPDATE}"
    )
    for ledger in LEDGERS:
        op.execute(f"DROP TRIGGER {ledger}_direction_stays ON core_api.{ledger}")
    op.execute("DROP FUNCTION core_api.ledger_direction_stays()")
    op.execute("DROP FUNCTION core_api.may_enrol(bigint, bigint)")


def _revision_0014() -> Any:
    path = Path(__file__).with_name("0014_signed_scope.py")
    spec = importlib.util.spec_from_file_location("revision_0014", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
