"""row-level security evaluated once per statement; a ledger row's parents share a workspace

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Revision 0004's policies called the scope functions per row, and the ledgers' policy called a
security-definer function per row that probed the record and the connector: a default List on
a workspace with 2 million ledger rows ran it 2 million times (25 s). Here:

- Every scope function in a policy is an uncorrelated sub-select, ``(SELECT
  core_api.scope_workspace_pk())``, which PostgreSQL runs once per statement as an InitPlan and
  can use as an index condition.
- A ledger row is readable when its workspace connector is one of the scope's:
  ``workspace_connector_pk = ANY ((SELECT core_api.scope_workspace_connector_pks())::bigint[])``
  (the cast keeps ``ANY`` from reading the sub-select as a set of rows): one array built once
  per statement, index-friendly, and no per-row function call.
- That rule says nothing of the record. The platform's rule is that a ledger row is visible only
  when both parents are in the caller's workspace; it still holds because the database no
  longer lets a row point at a record and a connector of two workspaces: a statement trigger
  checks every inserted row set-based, a row trigger checks an update that re-points a row, and
  a record or connector that ledger rows point at cannot move to another workspace. Every
  writer is held to it, the owner included. New rows the API writes are still checked by the
  per-row function of 0004 (``WITH CHECK``), which is cheap for the few rows a request writes.

The upgrade refuses to run while a ledger holds a row whose parents sit in two workspaces
(0004 allowed them, and showed them to nobody): such a row has to be removed or repaired first.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICE = "(SELECT core_api.scope_principal_kind()) = 'service'"
SCOPE_WS = "(SELECT core_api.scope_workspace_pk())"
SCOPE_PERSON = "(SELECT core_api.scope_person_pk())"
IN_SCOPE_WS = f"(workspace_pk = {SCOPE_WS} OR {SERVICE})"
GROUP_MEMBER = (
    "EXISTS (SELECT 1 FROM core_api.workspace_group_memberships gm "
    "WHERE gm.workspace_group_pk = {group} AND gm.person_pk = "
    + SCOPE_PERSON
    + " AND gm.deleted_at IS NULL)"
)
LEDGER_READ = (
    f"({SERVICE} OR workspace_connector_pk = "
    "ANY ((SELECT core_api.scope_workspace_connector_pks())::bigint[]))"
)
# ledger -> (record table, record column)
LEDGERS = {
    "account_workspace_connectors": ("accounts", "account_pk"),
    "company_workspace_connectors": ("companies", "company_pk"),
    "people_workspace_connectors": ("peoples", "people_pk"),
}


def _ledger_write(table: str, record_pk: str) -> str:
    return f"({SERVICE} OR core_api.{table}_in_scope({table}.{record_pk}, {table}.workspace_connector_pk))"


# table -> (USING, WITH CHECK) for the API role.
API_POLICIES = {
    "workspaces": (
        f"(pk = {SCOPE_WS} OR {SERVICE} "
        f"OR EXISTS (SELECT 1 FROM core_api.memberships m WHERE m.workspace_pk = workspaces.pk "
        f"AND m.person_pk = {SCOPE_PERSON} AND m.deleted_at IS NULL) "
        f"OR EXISTS (SELECT 1 FROM core_api.workspace_group_workspaces e "
        f"WHERE e.workspace_pk = workspaces.pk AND e.deleted_at IS NULL AND "
        + GROUP_MEMBER.format(group="e.workspace_group_pk")
        + "))"
    ),
    "memberships": f"(person_pk = {SCOPE_PERSON} OR {IN_SCOPE_WS})",
    "peoples": f"(pk = {SCOPE_PERSON} OR {IN_SCOPE_WS})",
    "accounts": IN_SCOPE_WS,
    "companies": IN_SCOPE_WS,
    "workspace_connectors": IN_SCOPE_WS,
    "workspace_group_memberships": f"(person_pk = {SCOPE_PERSON} OR {SERVICE})",
    "workspace_groups": (
        f"({SERVICE} OR "
        + GROUP_MEMBER.format(group="workspace_groups.pk")
        + " OR EXISTS (SELECT 1 FROM core_api.workspace_group_workspaces e "
        f"WHERE e.workspace_group_pk = workspace_groups.pk AND e.workspace_pk = {SCOPE_WS} "
        "AND e.deleted_at IS NULL))"
    ),
    "workspace_group_workspaces": (
        f"(workspace_pk = {SCOPE_WS} OR {SERVICE} OR "
        + GROUP_MEMBER.format(group="workspace_group_workspaces.workspace_group_pk")
        + ")"
    ),
    "workspace_providers": IN_SCOPE_WS,
}
API_INSERT_RESTRICTIONS = {
    "workspace_group_workspaces": (
        f"({SERVICE} OR EXISTS (SELECT 1 FROM core_api.memberships m "
        f"WHERE m.workspace_pk = workspace_group_workspaces.workspace_pk "
        f"AND m.person_pk = {SCOPE_PERSON} AND m.status = 'active' AND m.deleted_at IS NULL))"
    ),
}

# set_scope of revision 0003, which also keeps the scoped workspace's connectors in a
# transaction-local setting: a policy then reads the array from the setting, once per statement,
# instead of querying (and planning a query of) workspace_connectors for every statement.
SET_SCOPE = """
CREATE OR REPLACE FUNCTION core_api.set_scope(p_person_id uuid, p_workspace_id uuid, p_kind text)
RETURNS TABLE (workspace_pk bigint, person_pk bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api
AS $fn$
DECLARE
  v_person bigint;
  v_workspace bigint;
  v_connectors text;
BEGIN
  SELECT p.pk INTO v_person
    FROM core_api.peoples p
   WHERE p.person_id = p_person_id AND p.deleted_at IS NULL;
  IF v_person IS NOT NULL AND p_kind = 'service' THEN
    SELECT w.pk INTO v_workspace
      FROM core_api.workspaces w
     WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  ELSIF v_person IS NOT NULL AND p_kind = 'member' THEN
    SELECT w.pk INTO v_workspace
      FROM core_api.workspaces w
      JOIN core_api.memberships ms ON ms.workspace_pk = w.pk
     WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL
       AND ms.person_pk = v_person AND ms.status = 'active' AND ms.deleted_at IS NULL;
  END IF;
  IF v_workspace IS NOT NULL THEN
    SELECT string_agg(wc.pk::text, ',') INTO v_connectors
      FROM core_api.workspace_connectors wc WHERE wc.workspace_pk = v_workspace;
  END IF;
  -- No workspace, no scope at all: the request is refused (401 or 403) after this statement,
  -- and the statements sharing its transaction must find nothing, not even by person.
  PERFORM set_config('well.person_pk', CASE WHEN v_workspace IS NULL THEN '' ELSE v_person::text END, true);
  PERFORM set_config('well.workspace_pk', coalesce(v_workspace::text, ''), true);
  PERFORM set_config('well.workspace_connector_pks', coalesce(v_connectors, ''), true);
  PERFORM set_config('well.principal_kind', CASE WHEN v_workspace IS NULL THEN '' ELSE p_kind END, true);
  RETURN QUERY SELECT v_workspace, v_person;
END
$fn$
"""

# NULL (nothing matches) when no scope is set or the workspace has no connector.
CONNECTOR_PKS = """
CREATE FUNCTION core_api.scope_workspace_connector_pks() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
  SELECT string_to_array(NULLIF(current_setting('well.workspace_connector_pks', true), ''), ',')::bigint[]
$fn$
"""

# TG_ARGV: the record table, the ledger's record column. As a statement trigger it checks the
# inserted rows in one join; as a row trigger, the one row an update re-pointed.
PARENTS_AGREE = """
CREATE FUNCTION core_api.provenance_parents_agree() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, core_api
AS $fn$
DECLARE
  v_crossed bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    EXECUTE format(
      'SELECT count(*) FROM new_rows n JOIN core_api.%I r ON r.pk = n.%I '
      'JOIN core_api.workspace_connectors wc ON wc.pk = n.workspace_connector_pk '
      'WHERE r.workspace_pk <> wc.workspace_pk', TG_ARGV[0], TG_ARGV[1])
      INTO v_crossed;
  ELSE
    EXECUTE format(
      'SELECT count(*) FROM core_api.%I r, core_api.workspace_connectors wc '
      'WHERE r.pk = $1 AND wc.pk = $2 AND r.workspace_pk <> wc.workspace_pk', TG_ARGV[0])
      INTO v_crossed
      USING (to_jsonb(NEW) ->> TG_ARGV[1])::bigint, NEW.workspace_connector_pk;
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

# TG_ARGV: pairs of (ledger, column) that may point at the row being moved.
PARENT_STAYS = """
CREATE FUNCTION core_api.linked_parent_stays_in_its_workspace() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, core_api
AS $fn$
DECLARE
  v_linked boolean;
BEGIN
  FOR i IN 0 .. TG_NARGS - 1 BY 2 LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM core_api.%I WHERE %I = $1)',
                   TG_ARGV[i], TG_ARGV[i + 1])
      INTO v_linked USING OLD.pk;
    IF v_linked THEN
      RAISE EXCEPTION 'a row of % that % points at cannot move to another workspace',
        TG_TABLE_NAME, TG_ARGV[i]
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_linked_stays_in_workspace';
    END IF;
  END LOOP;
  RETURN NEW;
END
$fn$
"""

# parent table -> the ledgers (and their columns) that point at it
LINKED_PARENTS = {
    "accounts": (("account_workspace_connectors", "account_pk"),),
    "companies": (("company_workspace_connectors", "company_pk"),),
    "peoples": (("people_workspace_connectors", "people_pk"),),
    "workspace_connectors": tuple((ledger, "workspace_connector_pk") for ledger in LEDGERS),
}

CROSSED = (
    "SELECT count(*) FROM core_api.{ledger} l JOIN core_api.{record_table} r ON r.pk = l.{column} "
    "JOIN core_api.workspace_connectors wc ON wc.pk = l.workspace_connector_pk "
    "WHERE r.workspace_pk <> wc.workspace_pk"
)


def _refuse_crossed_rows() -> None:
    bind = op.get_bind()
    for ledger, (record_table, column) in LEDGERS.items():
        found = bind.exec_driver_sql(
            CROSSED.format(ledger=ledger, record_table=record_table, column=column)
        ).scalar_one()
        if found:
            raise RuntimeError(
                f"{ledger} holds {found} row(s) whose record and workspace connector sit in two "
                "workspaces; remove or repair them before this revision (0007)"
            )


def _create_api_policies(policies: dict[str, tuple[str, str]]) -> None:
    for table, (using, check) in policies.items():
        op.execute(f"DROP POLICY {table}_api ON core_api.{table}")
        op.execute(
            f"CREATE POLICY {table}_api ON core_api.{table} TO well_api "
            f"USING {using} WITH CHECK {check}"
        )


def _insert_restrictions(restrictions: dict[str, str]) -> None:
    for table, rule in restrictions.items():
        op.execute(f"DROP POLICY {table}_api_insert ON core_api.{table}")
        op.execute(
            f"CREATE POLICY {table}_api_insert ON core_api.{table} AS RESTRICTIVE FOR INSERT "
            f"TO well_api WITH CHECK {rule}"
        )


def _revision_0003() -> Any:
    path = Path(__file__).with_name("0003_tenant_scope_functions.py")
    spec = importlib.util.spec_from_file_location("revision_0003", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    _refuse_crossed_rows()
    op.execute(SET_SCOPE)
    op.execute(CONNECTOR_PKS)
    op.execute("REVOKE ALL ON FUNCTION core_api.scope_workspace_connector_pks() FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.scope_workspace_connector_pks() TO well_api")
    policies = {table: (rule, rule) for table, rule in API_POLICIES.items()}
    for ledger, (_, column) in LEDGERS.items():
        policies[ledger] = (LEDGER_READ, _ledger_write(ledger, column))
    _create_api_policies(policies)
    _insert_restrictions(API_INSERT_RESTRICTIONS)

    op.execute(PARENTS_AGREE)
    op.execute(PARENT_STAYS)
    for ledger, (record_table, column) in LEDGERS.items():
        args = f"'{record_table}', '{column}'"
        op.execute(
            f"CREATE TRIGGER {ledger}_parents_agree_on_insert AFTER INSERT ON core_api.{ledger} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION core_api.provenance_parents_agree({args})"
        )
        op.execute(
            f"CREATE TRIGGER {ledger}_parents_agree_on_update AFTER UPDATE ON core_api.{ledger} "
            f"FOR EACH ROW WHEN (OLD.{column} IS DISTINCT FROM NEW.{column} "
            "OR OLD.workspace_connector_pk IS DISTINCT FROM NEW.workspace_connector_pk) "
            f"EXECUTE FUNCTION core_api.provenance_parents_agree({args})"
        )
    for parent, links in LINKED_PARENTS.items():
        args = ", ".join(f"'{name}'" for link in links for name in link)
        op.execute(
            f"CREATE TRIGGER {parent}_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk "
            f"ON core_api.{parent} FOR EACH ROW WHEN (OLD.workspace_pk IS DISTINCT FROM "
            f"NEW.workspace_pk) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace({args})"
        )


# Revision 0004's rules, restored on downgrade.
OLD_SERVICE = "core_api.scope_principal_kind() = 'service'"


def _old(rule: str) -> str:
    return (
        rule.replace(SERVICE, OLD_SERVICE)
        .replace(SCOPE_WS, "core_api.scope_workspace_pk()")
        .replace(SCOPE_PERSON, "core_api.scope_person_pk()")
    )


def downgrade() -> None:
    for parent in LINKED_PARENTS:
        op.execute(f"DROP TRIGGER {parent}_linked_stays_in_workspace ON core_api.{parent}")
    for ledger in LEDGERS:
        op.execute(f"DROP TRIGGER {ledger}_parents_agree_on_insert ON core_api.{ledger}")
        op.execute(f"DROP TRIGGER {ledger}_parents_agree_on_update ON core_api.{ledger}")
    op.execute("DROP FUNCTION core_api.linked_parent_stays_in_its_workspace()")
    op.execute("DROP FUNCTION core_api.provenance_parents_agree()")
    policies = {table: (_old(rule), _old(rule)) for table, rule in API_POLICIES.items()}
    for ledger, (_, column) in LEDGERS.items():
        rule = _old(_ledger_write(ledger, column))
        policies[ledger] = (rule, rule)
    _create_api_policies(policies)
    _insert_restrictions({t: _old(r) for t, r in API_INSERT_RESTRICTIONS.items()})
    op.execute("DROP FUNCTION core_api.scope_workspace_connector_pks()")
    # Revision 0003's set_scope, as that revision wrote it.
    op.execute(
        _revision_0003().SET_SCOPE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    )
