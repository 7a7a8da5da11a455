"""a statement kept under a name is run only once checked to be the one the client prepared

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-26

The application keeps a request's statements prepared on its connection under names derived
from their text (``wellapi.store.sql``), so a warm connection parses and plans each shape
once. A session's earlier SQL (another request's, injected) could ``DEALLOCATE`` such a
statement and ``PREPARE`` its own under the same name: the next request's Bind would run that
SQL inside the victim's proven transaction. So every message that binds a name prepared by
an earlier message first calls the procedure ``core_api.check_prepared(names, digests,
types)`` (a procedure answers no row, so the message's rows stay the statements'), which
raises SQLSTATE ``WP001`` (and the server skips the rest of the message, up to its Sync)
unless every name is in ``pg_prepared_statements``

- prepared over the protocol (``from_sql`` false: ``PREPARE`` cannot make one, only the
  client's own Parse message can),
- with the text whose md5 is given,
- with as many parameters as given, each of the declared type where one was declared (``0``:
  left to the server, as a quoted literal is).

It runs as its caller (it reads only the caller's own session), owned by the owner so that no
application role can replace it, with its own search path against a session's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every role whose connection sends a request's statements (wellapi.store.connections.send).
APP_ROLES = ("well_api", "well_sync", "well_auth", "well_drain")
NAME = "core_api.check_prepared"
SIGNATURE = f"{NAME}(text[], text[], text[])"
# The SQLSTATE of a name that does not hold the client's statement (wellapi.store.sql).
SUBVERTED_SQLSTATE = "WP001"

CHECK_PREPARED = f"""
CREATE PROCEDURE {NAME}(
  names text[], digests text[], types text[]
)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  held integer;
BEGIN
  -- The names first, then the digests of those alone (OFFSET 0 keeps the planner from
  -- pushing md5 down onto every statement the session holds).
  SELECT count(*) INTO held FROM (
    SELECT p.statement, p.parameter_types, w.digest, w.types
    FROM unnest(names, digests, types) AS w(name, digest, types)
    JOIN pg_prepared_statements p ON p.name = w.name AND NOT p.from_sql
    OFFSET 0
  ) AS m
  WHERE md5(m.statement) = m.digest
    AND cardinality(m.parameter_types) = cardinality(m.types::oid[])
    AND NOT EXISTS (
      SELECT FROM unnest(m.parameter_types::oid[], m.types::oid[]) AS t(got, declared)
      WHERE t.declared <> 0 AND t.got IS DISTINCT FROM t.declared);
  IF held IS DISTINCT FROM cardinality(names) THEN
    RAISE EXCEPTION 'a prepared statement is not the one its name was given to'
      USING ERRCODE = '{SUBVERTED_SQLSTATE}';
  END IF;
END
$fn$;
"""


def upgrade() -> None:
    op.execute(CHECK_PREPARED)
    op.execute(f"REVOKE ALL ON PROCEDURE {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON PROCEDURE {SIGNATURE} TO {', '.join(APP_ROLES)}")


def downgrade() -> None:
    op.execute(f"DROP PROCEDURE {SIGNATURE}")
