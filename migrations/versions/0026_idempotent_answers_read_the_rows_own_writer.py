"""a kept answer's 200 says this transaction wrote the row, read from the row itself

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-25

Revision 0018 decided that a keyed select or enrol updated its row (200) from
``pg_stat_get_xact_tuples_updated``. Since PostgreSQL 15 that counter holds a backend's
pending statistics, which include the updates of its earlier, committed transactions until
they are flushed (about once a second while the backend is idle). Through RDS Proxy or the
local pool a connection serves one request after another, so a keyed request the rules
refused, right after another request's update on the same connection, was kept as a 200 with
no row behind it, and its key stayed taken: a corrected retry replayed the refusal's empty
answer instead of being applied.

Now ``remember_idempotent_answer`` asks the rows the re-read found: the request wrote when one
of them, in the resource's table, carries this transaction's id as its ``xmin``. The API's
script runs no savepoint, so every row its write inserts or updates carries the top-level
transaction's id. The lookup is by the public id (unique index), among the values of the
re-read written as uuids, at most a page of them. The function keeps its signature: the previous release
calls it as before (docs/deploy.md).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "core_api.remember_idempotent_answer"
# The text of a uuid, as PostgreSQL writes one. The re-read sends each value as [type OID, text]
# (wellapi.store.idempotency), the resource's id as text (a JSON:API id is a string).
UUID_TEXT = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public_id_columns() -> str:
    r1 = _revision("0001_junction_resources_and_their_parents.py")
    whens = " ".join(
        f"WHEN 'core_api.{table}'::regclass THEN '{r1.public_id(table)}'" for table in r1.TABLES
    )
    return f"CASE p_table {whens} END"


def _remember() -> str:
    r18 = _revision("0018_idempotency_keys.py")
    written = f"""  v_written boolean := false;
  v_column text := {_public_id_columns()};
  v_ids uuid[];
BEGIN
  -- What the write did: the re-read found the row under the id this request minted, it
  -- inserted it (201); else a row it read back carries this transaction's id (a select's
  -- upsert of the live row, 200); else nothing.
  SELECT array_agg((v ->> 1)::uuid) INTO v_ids
    FROM jsonb_array_elements(p_read -> 'rows') AS r(row_values),
         jsonb_array_elements(r.row_values) AS v
   WHERE v ->> 1 ~ '{UUID_TEXT}';
  IF v_column IS NOT NULL AND v_ids IS NOT NULL
     AND pg_current_xact_id_if_assigned() IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = ANY ($1) AND xmin = $2)',
                   p_table, v_column)
       INTO v_written USING v_ids, pg_current_xact_id_if_assigned()::xid;
  END IF;
  v_status := CASE
    WHEN (p_read ->> 'created')::boolean THEN 201
    WHEN v_written THEN 200 END;"""
    old = """BEGIN
  -- What the write did: the re-read found the row under the id this request minted, it
  -- inserted it (201); else it updated the live row (a select's upsert, 200); else nothing.
  v_status := CASE
    WHEN (p_read ->> 'created')::boolean THEN 201
    WHEN pg_stat_get_xact_tuples_updated(p_table) > 0 THEN 200 END;"""
    assert old in r18.REMEMBER
    return r18.REMEMBER.replace(old, written).replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )


def upgrade() -> None:
    op.execute(_remember())


def downgrade() -> None:
    r18 = _revision("0018_idempotency_keys.py")
    op.execute(r18.REMEMBER.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
