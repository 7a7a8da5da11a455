"""a role's own defaults are set back to the deployment's, and said

Revision ID: 0041
Revises: 0040
Create Date: 2026-11-28

An application role may change its own defaults (``ALTER ROLE CURRENT_USER [IN DATABASE ...]
SET ...``): PostgreSQL lets every role do so, and no grant takes it away. Every transaction
sets every setting again (revision 0028), but a default acts before that: a timer below the
cost of a new session's first statements (``transaction_timeout``, ``statement_timeout``)
ends or cancels every transaction of the role's new sessions, ``idle_session_timeout`` ends its
idle ones, ``local_preload_libraries`` naming no library refuses them at login.

``well_private.role_defaults`` keeps what the deployment gave each application role (as
``pg_db_role_setting`` holds it, for this database and for every database), recorded by
``well_private.record_role_defaults()`` now and by every later revision that changes a role's
settings. ``core_api.restore_role_defaults()`` (owner, security definer; the sync and drain
roles may call it) sets back every default that differs and answers ``role.setting`` for each:
the scheduled functions call it at every run and raise the alarm on what it set back
(``wellapi.sync.role_defaults``). A role whose own sessions cannot start is set back by the
other's schedule.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE well_private.role_defaults (
    role name NOT NULL,
    in_database boolean NOT NULL,
    settings text[] NOT NULL,
    PRIMARY KEY (role, in_database)
);
COMMENT ON TABLE well_private.role_defaults IS
    'What the deployment gave each application role as its own defaults, as pg_db_role_setting '
    'holds them (name=value), in this database (in_database) and in every database.';

CREATE FUNCTION well_private.record_role_defaults() RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
    INSERT INTO well_private.role_defaults (role, in_database, settings)
    SELECT r.rolname, scope.in_database, coalesce(
        (SELECT s.setconfig FROM pg_db_role_setting s
          WHERE s.setrole = r.oid
            AND s.setdatabase = CASE WHEN scope.in_database
                THEN (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                ELSE 0 END),
        '{}')
      FROM pg_roles r CROSS JOIN (VALUES (true), (false)) AS scope (in_database)
     WHERE r.rolname IN ('well_api', 'well_sync', 'well_auth', 'well_drain')
    ON CONFLICT (role, in_database) DO UPDATE SET settings = excluded.settings;
$fn$;

CREATE FUNCTION core_api.restore_role_defaults() RETURNS text[]
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kept record;
    item text;
    setting text;
    value text;
    altered text;
    restored text[] := '{}';
BEGIN
    FOR kept IN
        SELECT w.role, w.in_database, w.settings AS wanted, coalesce(
            (SELECT s.setconfig FROM pg_db_role_setting s
              WHERE s.setrole = r.oid
                AND s.setdatabase = CASE WHEN w.in_database
                    THEN (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                    ELSE 0 END),
            '{}') AS found
          FROM well_private.role_defaults w JOIN pg_roles r ON r.rolname = w.role
         ORDER BY w.role, w.in_database
    LOOP
        CONTINUE WHEN kept.found @> kept.wanted AND kept.wanted @> kept.found;
        altered := format('ALTER ROLE %I', kept.role)
            || CASE WHEN kept.in_database THEN format(' IN DATABASE %I', current_database())
                    ELSE '' END;
        -- A default the deployment never gave: gone.
        FOREACH item IN ARRAY kept.found LOOP
            setting := split_part(item, '=', 1);
            CONTINUE WHEN EXISTS (SELECT FROM unnest(kept.wanted) w
                                   WHERE split_part(w, '=', 1) = setting);
            EXECUTE altered || format(' RESET %I', setting);
            restored := restored || (kept.role || '.' || setting);
        END LOOP;
        -- A default the deployment gave, changed or gone: set as it was written, so that the
        -- catalog holds the same text again. A list of names is written as the list it is
        -- (quoted, it would be one name); the value is the owner's own, from the table.
        FOREACH item IN ARRAY kept.wanted LOOP
            CONTINUE WHEN item = ANY (kept.found);
            setting := split_part(item, '=', 1);
            value := substr(item, length(setting) + 2);
            EXECUTE altered || format(' SET %I = %s', setting,
                CASE WHEN lower(setting) IN ('search_path', 'temp_tablespaces',
                                             'local_preload_libraries')
                     THEN value ELSE quote_literal(value) END);
            restored := restored || (kept.role || '.' || setting);
        END LOOP;
    END LOOP;
    RETURN restored;
END
$fn$;
REVOKE ALL ON FUNCTION core_api.restore_role_defaults() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.restore_role_defaults() TO well_sync, well_drain;
REVOKE ALL ON FUNCTION well_private.record_role_defaults() FROM PUBLIC;

SELECT well_private.record_role_defaults();
"""

DOWNGRADE = """
DROP FUNCTION core_api.restore_role_defaults();
DROP FUNCTION well_private.record_role_defaults();
DROP TABLE well_private.role_defaults;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
