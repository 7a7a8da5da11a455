"""tenant scope: transaction-local settings and the functions that read them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Every API request starts its one round trip with ``core_api.set_scope(person, workspace,
kind)``. It resolves the principal's workspace (an active membership for a member, any live
workspace for a service), stores the internal keys in transaction-local settings and returns
them. Queries and row-level security then read ``core_api.scope_workspace_pk()`` and
``core_api.scope_person_pk()``; with no scope set they are NULL and match nothing. When the
workspace does not resolve, nothing is set (the person's key is still returned, so the caller
can tell 401 from 403): the rest of the request's transaction runs with no scope at all.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SET_SCOPE = """
CREATE FUNCTION core_api.set_scope(p_person_id uuid, p_workspace_id uuid, p_kind text)
RETURNS TABLE (workspace_pk bigint, person_pk bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api
AS $fn$
DECLARE
  v_person bigint;
  v_workspace bigint;
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
  -- No workspace, no scope at all: the request is refused (401 or 403) after this statement,
  -- and the statements sharing its transaction must find nothing, not even by person.
  PERFORM set_config('well.person_pk', CASE WHEN v_workspace IS NULL THEN '' ELSE v_person::text END, true);
  PERFORM set_config('well.workspace_pk', coalesce(v_workspace::text, ''), true);
  PERFORM set_config('well.principal_kind', CASE WHEN v_workspace IS NULL THEN '' ELSE p_kind END, true);
  RETURN QUERY SELECT v_workspace, v_person;
END
$fn$
"""

READERS = {
    "scope_workspace_pk": "SELECT NULLIF(current_setting('well.workspace_pk', true), '')::bigint",
    "scope_person_pk": "SELECT NULLIF(current_setting('well.person_pk', true), '')::bigint",
    "scope_principal_kind": "SELECT NULLIF(current_setting('well.principal_kind', true), '')",
}
READER_TYPES = {
    "scope_workspace_pk": "bigint",
    "scope_person_pk": "bigint",
    "scope_principal_kind": "text",
}


def upgrade() -> None:
    op.execute(SET_SCOPE)
    op.execute("REVOKE ALL ON FUNCTION core_api.set_scope(uuid, uuid, text) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION core_api.set_scope(uuid, uuid, text) TO well_api, well_sync"
    )
    for name, body in READERS.items():
        op.execute(
            f"CREATE FUNCTION core_api.{name}() RETURNS {READER_TYPES[name]} "
            f"LANGUAGE sql STABLE PARALLEL SAFE AS $fn$ {body} $fn$"
        )


def downgrade() -> None:
    for name in READERS:
        op.execute(f"DROP FUNCTION core_api.{name}()")
    op.execute("DROP FUNCTION core_api.set_scope(uuid, uuid, text)")
