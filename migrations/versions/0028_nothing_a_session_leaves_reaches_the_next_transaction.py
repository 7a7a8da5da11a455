"""nothing a session leaves behind reaches the next transaction on its connection

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-25

A warm Lambda environment (and, through RDS Proxy, every client the proxy multiplexes onto a
backend) serves every tenant on one connection. SQL running as an application role could leave
things in that session which ran inside a later tenant's transaction. Now:

- **No object of an application role's own.** ``TEMPORARY`` is revoked on the database from
  ``PUBLIC`` and the application roles (nobody else's grant gives it back to them), and
  ``CREATE`` on schema ``public`` from ``PUBLIC``: an application role can create no object
  anywhere, so no name a statement or a function uses can resolve to one of its making.
- **Every transaction sets every setting.** ``core_api.request_context()`` (the first message
  of every API and authorizer request, in place of ``proof_context()``) and the procedure
  ``core_api.set_transaction_settings()`` (the first statement of every transaction of the
  sync writer, the sweeper and the drainer) set, for their transaction only, every setting a
  role may change (every ``user`` setting of this server, as ``pg_settings`` lists them when
  this revision runs, and the ``well.*`` settings the functions read) to the value a fresh
  session of that role has (the server's configuration, and the role's own timeouts and
  planner costs of the earlier revisions), comparing first and setting only what differs. A
  role may ``SET`` anything in its session, or even ``ALTER ROLE`` its own defaults: inside the
  application's transactions it changes nothing. Session-level advisory locks (the
  application takes none) are let go first. The transaction's isolation and access mode
  are named in its ``BEGIN``. Nothing is set for the session: RDS Proxy sees no ``SET``.
- **Names resolve where they were meant to.** Every security-definer function runs with
  ``search_path = pg_catalog, <its schemas>, pg_temp``; the plain SQL functions (the scope's
  readers, ``uuid_v7``) have bodies resolved when they were created; the trigger functions run
  in the statements that fire them, under the search path of their transaction.
- **No session stalls another's work for long.** ``core_api.end_stalled_sessions()`` (owner,
  security definer), called by the sync writer, the sweeper and the drainer when they could
  not take a lock, ends every backend of an application role that has outlived what its role
  allows it (a statement longer than its ``statement_timeout``, a transaction idle longer than
  its ``idle_in_transaction_session_timeout``, as ``well_private.session_bounds`` records them
  from the roles' own settings; or session-level advisory locks held while idle 10 s; a
  second beyond each, for clocks): a session that can only be in that state because it turned
  its own timeouts off. The owner may tighten the bounds in that table. The sync role now idles in a transaction for at most
  10 s (its transactions are one message each).
- **Every change leaves its record.** The sync role may update only ``deleted_at`` of the
  ledgers (revision 0025's triggers pair old and new rows by ``pk``; it could move a row's
  ``pk`` while removing it, and its record said ``linked``).
- **A security-definer function says nothing of another tenant.**
  ``core_api.check_client_id`` answers only for the five junction tables a create may name an
  id for; of any other table (the parents: people, workspaces, accounts...) it refuses to say.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op
from sqlalchemy import text

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API = "well_api"
SYNC = "well_sync"
AUTH = "well_auth"
DRAIN = "well_drain"
APP_ROLES = (API, SYNC, AUTH, DRAIN)
LEDGERS = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)
JUNCTIONS = (*LEDGERS, "workspace_group_workspaces", "workspace_providers")
# What every transaction names on its search path: the catalog, then nothing of a session's.
SEARCH_PATH = "pg_catalog, pg_temp"
# Settings a transaction does not set: its own isolation and access mode (its BEGIN names
# them), the role (an application role is a member of no other), the client's name.
NOT_SET = frozenset(
    {
        "transaction_isolation",
        "transaction_read_only",
        "transaction_deferrable",
        "role",
        "session_authorization",
        "application_name",
    }
)
# The settings the application's functions read, each empty until a statement sets it.
OWN_SETTINGS = (
    "well.scope",
    "well.proof",
    "well.change",
    "well.person_pk",
    "well.principal_kind",
    "well.workspace_pk",
    "well.workspace_connector_pks",
)
# The sync role's transactions are one message each since this revision.
SYNC_IDLE_IN_TRANSACTION = "10s"
IDLE = "idle_in_transaction_session_timeout"
# Beyond a role's own timeout before its session counts as stalled: the server ends a session
# that kept its timeouts at that bound, so one still there a second later turned them off.
STALL_MARGIN = "1 second"
# Functions whose search path lacked pg_temp at its end: the path they now have, and had.
SEARCH_PATHS = {
    f"core_api.{name}()": ("pg_catalog, core_api, pg_temp", "pg_catalog, core_api")
    for name in (
        "ledger_direction_stays",
        "linked_parent_stays_in_its_workspace",
        "provenance_parents_agree",
    )
}
# Functions with a body of one SQL query and no search path of their own: their bodies are
# now resolved when they are created (SQL-standard bodies, inlined as before).
ATOMIC = (
    "scope_person_pk",
    "scope_workspace_pk",
    "scope_principal_kind",
    "scope_workspace_connector_pks",
    "uuid_v7",
)


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _shown(settings: dict[str, str]) -> dict[str, str]:
    """Each setting's value as ``current_setting`` shows it once set (``4MB``, not ``4096``).

    Set in a savepoint that is rolled back: the migration's own transaction keeps its settings.
    """
    bind = op.get_bind()
    shown: dict[str, str] = {}
    with bind.begin_nested() as probe:
        for name, value in settings.items():
            shown[name] = bind.execute(
                text("SELECT set_config(:n, :v, true) IS NOT NULL, current_setting(:n)"),
                {"n": name, "v": value},
            ).one()[1]
        probe.rollback()
    return shown


def server_settings() -> dict[str, str]:
    """Every setting a role may change, at the value a session starts with on this server."""
    rows = op.get_bind().execute(
        text("SELECT name, reset_val FROM pg_settings WHERE context = 'user' ORDER BY name")
    )
    values = {name: value for name, value in rows if name not in NOT_SET}
    values["search_path"] = SEARCH_PATH
    values["client_encoding"] = "UTF8"
    return _shown(values)


def role_settings() -> dict[str, dict[str, str]]:
    """What each application role's own settings in this database say, by role, as
    ``current_setting`` shows them."""
    return {role: _shown(values) for role, values in role_settings_as_written().items()}


def role_settings_as_written() -> dict[str, dict[str, str]]:
    """What each application role's own settings in this database say, by role, as written."""
    rows = op.get_bind().execute(
        text(
            "SELECT r.rolname, s.setconfig FROM pg_db_role_setting s "
            "JOIN pg_roles r ON r.oid = s.setrole "
            "WHERE r.rolname = ANY (:roles) AND s.setdatabase IN "
            "(0, (SELECT oid FROM pg_database WHERE datname = current_database())) "
            "ORDER BY s.setdatabase"
        ),
        {"roles": list(APP_ROLES)},
    )
    by_role: dict[str, dict[str, str]] = {role: {} for role in APP_ROLES}
    for role, config in rows:
        # The database's own settings come after the role-wide ones, and win.
        by_role[role].update(item.split("=", 1) for item in config)
    return by_role


def _value(name: str, server: dict[str, str], roles: dict[str, dict[str, str]]) -> str:
    """The SQL expression of a setting's value: the role's own when it has one."""
    cases = [
        f"WHEN {_literal(role)} THEN {_literal(values[name])}"
        for role, values in roles.items()
        if name in values and values[name] != server.get(name)
    ]
    default = _literal(server[name]) if name in server else "''"
    return f"(CASE CURRENT_USER {' '.join(cases)} ELSE {default} END)" if cases else default


# The timers that could cut a transaction's first statement short: compared and set first, so
# a session's own leaves the first statement a few microseconds at most. A server without one
# (transaction_timeout came with PostgreSQL 17) sets the others.
TIMERS = ("transaction_timeout", "statement_timeout", "idle_in_transaction_session_timeout")


def _set_if_distinct(name: str, value: str, indent: str) -> str:
    return (
        f"{indent}IF pg_catalog.current_setting({_literal(name)}) IS DISTINCT FROM {value} THEN\n"
        f"{indent}  PERFORM pg_catalog.set_config({_literal(name)}, {value}, true);\n"
        f"{indent}END IF;"
    )


def settings_body(server: dict[str, str], roles: dict[str, dict[str, str]]) -> str:
    """PL/pgSQL statements setting, for the transaction, every setting that differs.

    The timers first; then the rest compared all at once: the common case (nothing differs)
    reads each setting once, in one expression (about 0.5 us a setting), and leaves nothing
    for the commit to undo; only when something differs is each compared again, and set.
    """
    # A role's own value of a setting no role may change (revision 0030's log settings) is
    # not a session's to leave behind.
    names = sorted(set(server))
    values = {name: _value(name, server, roles) for name in names if name not in TIMERS}
    own = [f"COALESCE(pg_catalog.current_setting({_literal(n)}, true), '')" for n in OWN_SETTINGS]
    now = [f"pg_catalog.current_setting({_literal(name)})" for name in values] + own
    wanted = list(values.values()) + ["''"] * len(OWN_SETTINGS)
    ladder = [_set_if_distinct(name, value, "    ") for name, value in values.items()]
    for name in OWN_SETTINGS:
        ladder.append(
            f"    IF pg_catalog.current_setting({_literal(name)}, true) <> '' THEN\n"
            f"      PERFORM pg_catalog.set_config({_literal(name)}, '', true);\n    END IF;"
        )
    return "\n".join(
        [
            *(
                _set_if_distinct(name, _value(name, server, roles), "  ")
                for name in TIMERS
                if name in server
            ),
            # The application takes only transaction-level advisory locks: a session-level
            # one is a session's leftover, let go before the transaction does anything.
            "  PERFORM pg_catalog.pg_advisory_unlock_all();",
            f"  IF ROW({', '.join(now)})\n     IS DISTINCT FROM ROW({', '.join(wanted)}) THEN",
            *ladder,
            "  END IF;",
        ]
    )


def _context_sql() -> str:
    return str(_revision("0023_proofs_bound_to_the_transaction.py").CONTEXT_SQL)


def settings_functions(body: str) -> str:
    """The request's opening function and the workers' procedure, one body for both.

    Neither has a ``SET`` clause: a clause would undo, at the function's exit, the same
    setting set inside it (``search_path``). Their own statements name only ``pg_catalog``.
    """
    context = _context_sql().replace("pg_backend_pid()", "pg_catalog.pg_backend_pid()")
    return f"""
CREATE OR REPLACE FUNCTION core_api.request_context() RETURNS text
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
{body}
  RETURN {context};
END
$fn$;
CREATE OR REPLACE PROCEDURE core_api.set_transaction_settings()
LANGUAGE plpgsql
AS $fn$
BEGIN
{body}
END
$fn$;
"""


def refresh_settings() -> None:
    """(Re)write the two functions from this server's settings and the roles' own.

    A later revision that changes a role's timeouts, or a major version that adds settings,
    calls this again.
    """
    op.execute(settings_functions(settings_body(server_settings(), role_settings())))


def fill_session_bounds() -> None:
    """Per role, what its own timeouts allow (statement, idle in a transaction), as this
    revision found them: a role may lift its own defaults, never this table (the owner's)."""
    op.execute(
        "CREATE TABLE IF NOT EXISTS well_private.session_bounds (role name PRIMARY KEY, "
        "statement_bound interval, idle_bound interval)"
    )
    for role, values in role_settings().items():
        bounds = [values.get(name, "0") for name in ("statement_timeout", IDLE)]
        op.get_bind().execute(
            text(
                "INSERT INTO well_private.session_bounds VALUES (:r, "
                "nullif(:s, '0')::interval, nullif(:i, '0')::interval) ON CONFLICT (role) DO "
                "UPDATE SET statement_bound = excluded.statement_bound, "
                "idle_bound = excluded.idle_bound"
            ),
            {"r": role, "s": bounds[0], "i": bounds[1]},
        )


# What every session idle outside a transaction with a session-level advisory lock is allowed:
# the application takes none.
IDLE_WITH_ADVISORY_LOCKS = "10 s"
END_STALLED_SESSIONS = f"""
CREATE OR REPLACE FUNCTION core_api.end_stalled_sessions() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  WITH stalled AS (
    SELECT a.pid
      FROM pg_stat_activity a
      JOIN well_private.session_bounds b ON b.role = a.usename
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
       AND (
         (a.state = 'active' AND b.statement_bound IS NOT NULL
          AND a.query_start < clock_timestamp() - b.statement_bound - interval '{STALL_MARGIN}')
         OR (a.state LIKE 'idle in transaction%' AND b.idle_bound IS NOT NULL
          AND a.state_change < clock_timestamp() - b.idle_bound - interval '{STALL_MARGIN}')
         OR (a.state = 'idle'
          AND a.state_change < clock_timestamp() - interval '{IDLE_WITH_ADVISORY_LOCKS}'
                               - interval '{STALL_MARGIN}'
          AND EXISTS (SELECT FROM pg_locks l
                       WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted))
       )
  )
  SELECT count(*)::integer FROM stalled WHERE pg_terminate_backend(stalled.pid)
$fn$;
"""


def _check_client_id() -> str:
    r1 = _revision("0001_junction_resources_and_their_parents.py")
    whens = " ".join(
        f"WHEN 'core_api.{table}'::regclass THEN '{r1.public_id(table)}'" for table in JUNCTIONS
    )
    return (
        _revision("0027_client_generated_ids.py")
        ._check()
        .replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        .replace(
            _revision("0026_idempotent_answers_read_the_rows_own_writer.py")._public_id_columns(),
            f"CASE p_table {whens} END",
        )
    )


def _atomic_bodies() -> None:
    """Each of ``ATOMIC`` again, its query now a SQL-standard body, its other traits kept
    (a downgrade leaves them so: they resolve what they resolved before)."""
    rows = op.get_bind().execute(
        text(
            "SELECT p.proname, pg_get_function_result(p.oid), p.prosrc, "
            "CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' "
            "ELSE 'VOLATILE' END, "
            "CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' "
            "ELSE 'UNSAFE' END "
            "FROM pg_proc p WHERE p.pronamespace = 'core_api'::regnamespace "
            "AND p.proname = ANY (:names) AND p.pronargs = 0 AND p.prosqlbody IS NULL"
        ),
        {"names": list(ATOMIC)},
    )
    for name, returns, body, volatility, parallel in rows:
        op.execute(
            f"CREATE OR REPLACE FUNCTION core_api.{name}() RETURNS {returns} LANGUAGE sql "
            f"{volatility} PARALLEL {parallel} BEGIN ATOMIC {body.strip().rstrip(';')}; END"
        )


def _revoke_objects_of_their_own() -> None:
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, "
        f"{', '.join(APP_ROLES)}', current_database()); END $$"
    )
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def upgrade() -> None:
    _revoke_objects_of_their_own()
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {SYNC} IN DATABASE %I SET "
        f"idle_in_transaction_session_timeout = %L', current_database(), "
        f"'{SYNC_IDLE_IN_TRANSACTION}'); END $$"
    )
    # The path every transaction sets, as the roles' own: a transaction then finds it already
    # set, and sets (and at its end undoes) nothing for it.
    for role in APP_ROLES:
        op.execute(
            f"DO $$ BEGIN EXECUTE format('ALTER ROLE {role} IN DATABASE %I SET search_path = "
            f"{SEARCH_PATH}', current_database()); END $$"
        )
    for signature, (path, _) in SEARCH_PATHS.items():
        op.execute(f"ALTER FUNCTION {signature} SET search_path = {path}")
    _atomic_bodies()
    refresh_settings()
    op.execute("REVOKE ALL ON FUNCTION core_api.request_context() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION core_api.request_context() TO {API}, {AUTH}")
    op.execute("REVOKE ALL ON PROCEDURE core_api.set_transaction_settings() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON PROCEDURE core_api.set_transaction_settings() TO {SYNC}, {DRAIN}")
    fill_session_bounds()
    op.execute(END_STALLED_SESSIONS)
    op.execute("REVOKE ALL ON FUNCTION core_api.end_stalled_sessions() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION core_api.end_stalled_sessions() TO {SYNC}, {DRAIN}")
    for table in LEDGERS:
        op.execute(f"REVOKE UPDATE ON core_api.{table} FROM {SYNC}")
        op.execute(f"GRANT UPDATE (deleted_at) ON core_api.{table} TO {SYNC}")
    op.execute(_check_client_id())


def downgrade() -> None:
    op.execute(
        _revision("0027_client_generated_ids.py")
        ._check()
        .replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    )
    for table in LEDGERS:
        op.execute(f"REVOKE UPDATE (deleted_at) ON core_api.{table} FROM {SYNC}")
        op.execute(f"GRANT UPDATE ON core_api.{table} TO {SYNC}")
    op.execute("DROP FUNCTION core_api.end_stalled_sessions()")
    op.execute("DROP TABLE well_private.session_bounds")
    op.execute("DROP PROCEDURE core_api.set_transaction_settings()")
    op.execute("DROP FUNCTION core_api.request_context()")
    for signature, (_, path) in SEARCH_PATHS.items():
        op.execute(f"ALTER FUNCTION {signature} SET search_path = {path}")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {SYNC} IN DATABASE %I SET "
        "idle_in_transaction_session_timeout = %L', current_database(), '60s'); END $$"
    )
    for role in APP_ROLES:
        op.execute(
            f"DO $$ BEGIN EXECUTE format('ALTER ROLE {role} IN DATABASE %I RESET search_path', "
            "current_database()); END $$"
        )
    op.execute(
        "DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', "
        "current_database()); END $$"
    )
