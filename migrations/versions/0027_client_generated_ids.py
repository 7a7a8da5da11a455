"""a create may name its id: the id is checked against every row of the table after the write

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-25

JSON:API 1.1 lets a client generate the id of a resource it creates. The API takes one that is a
UUID (``data.id``) when no row of the table has ever had it: live, soft-deleted, or another
tenant's, which the API role cannot see under row-level security. The create's statement
inserts with ``ON CONFLICT DO NOTHING``, so an id in use writes nothing and says nothing of why.

``core_api.check_client_id(table, id)``, run as its owner (who sees every row) in the
request's script right after the write, raises SQLSTATE ``WI409`` when a row of ``table``
carries the public id ``id`` and this transaction did not write it (its ``xmin`` is another
transaction's): the whole script, the write included, is rolled back, and the API answers 409
``ID_ALREADY_USED``. The row this request inserted carries its own transaction's id, so it
passes; a row another request inserted first under the same id (a race the unique index
settles) does not. It answers only that the id is used, never whose or in what state.

Without a verified scope (person and workspace) it raises nothing: a replayed
``Idempotency-Key`` empties the scope (its write wrote nothing, and the row its first answer
made is there), and a request out of scope is refused by the scope check after the script,
403 or 404 as without an id.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "core_api.check_client_id(regclass, uuid)"
# The SQLSTATE of an id in use (wellapi.operations.conditional_write maps it to 409).
USED_SQLSTATE = "WI409"


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check() -> str:
    # The CASE of each table's public id column, as revision 0026 writes it.
    columns = _revision("0026_idempotent_answers_read_the_rows_own_writer.py")._public_id_columns()
    return f"""
CREATE FUNCTION core_api.check_client_id(p_table regclass, p_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_column text := {columns};
  v_used boolean;
BEGIN
  IF v_column IS NULL THEN
    RAISE EXCEPTION 'no public id in %', p_table USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF core_api.verified_person_pk() IS NULL OR core_api.verified_workspace_pk() IS NULL THEN
    -- No scope: a replay (nothing written now) or a request the scope check refuses (its
    -- 403 or 404 comes first, and says nothing of the id).
    RETURN true;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1 AND xmin IS DISTINCT FROM $2)',
                 p_table, v_column)
     INTO v_used USING p_id, pg_current_xact_id_if_assigned()::xid;
  IF v_used THEN
    RAISE EXCEPTION 'the id is already used' USING ERRCODE = '{USED_SQLSTATE}';
  END IF;
  RETURN true;
END
$fn$
"""


def upgrade() -> None:
    op.execute(_check())
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO well_api")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
