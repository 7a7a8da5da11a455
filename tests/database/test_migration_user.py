"""database.yaml's MigrationUser on PostgreSQL: the grants MigrationUserFunction's statements
leave the migration user, exactly, and that they are all the migrations need, and each needed.

On a server of its own, started empty as RDS starts a cluster: the database the stack names,
and ``rds_iam``, which RDS provides, made as a stand-in (a role that logs in as nobody). The
server's superuser stands in for the master user, and runs each statement the function sends
through the Data API; the migrations then run as the user it made, which makes the
application roles, as on a first deploy. The function itself, its inputs and its refusals:
``tests/unit/test_database_bootstrap.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pg8000.exceptions
import pg8000.native
import pytest

from tests.support.bootstrap import MIGRATION_USER_VALUES, Aws, Function, loaded
from tests.support.bootstrap import request as cloudformation_request
from tests.support.embedded import server_home
from wellapi.roles import API_ROLE, DEPLOYED_ROLES, SYNC_ROLE
from wellapi.settings import Settings
from welldev import database as local_db
from welldev import embedded_server, revisions

USER, DATABASE = MIGRATION_USER_VALUES["MIGRATION_USER"], MIGRATION_USER_VALUES["DATABASE"]
IN_PROGRESS = {"StackResourceDetail": {"ResourceStatus": "UPDATE_IN_PROGRESS"}}
# What the migration user holds, and why: the statement of the migrations that needs each.
GRANTS = {
    "attributes": {
        "login": True,  # with an IAM token
        "createrole": True,  # the application roles (migrations/baseline/roles.sql)
        "superuser": False,
        "createdb": False,
        "replication": False,
        "bypassrls": False,
    },
    # role: (admin option, inherit): rds_iam to log in, and to grant to the roles it makes;
    # the other two for core_api.end_stalled_sessions(), a security definer it owns.
    "member_of": {
        "rds_iam": (True, True),
        "pg_read_all_stats": (False, True),
        "pg_signal_backend": (False, True),
    },
    # The application roles' own log_parameter_max_length (migrations/baseline/settings.sql).
    "parameters": {"log_parameter_max_length": "SET"},
    # CREATE SCHEMA, and REVOKE TEMPORARY ON DATABASE (roles.sql).
    "owns_the_database": True,
}


@dataclass(frozen=True)
class Cluster:
    """The server's database, as its superuser (the master user's stand-in)."""

    db: local_db.LocalDatabase
    master: pg8000.native.Connection


def _bootstrap(cluster: Cluster, kind: str) -> Function:
    """MigrationUserFunction answering CloudFormation's request of ``kind``, its Data API the
    master connection."""

    def execute_statement(**call: Any) -> dict[str, Any]:
        cluster.master.run(call["sql"])
        return {"numberOfRecordsUpdated": 0}

    aws = Aws(
        {
            ("cloudformation", "describe_stack_resource"): IN_PROGRESS,
            ("rds-data", "execute_statement"): execute_statement,
        }
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        function = loaded("MigrationUserFunction", MIGRATION_USER_VALUES, monkeypatch, aws)
        function.invoke(cloudformation_request(kind, "MigrationUser"))
    return function


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A server of its own, bootstrapped by the function, migrated by the user it made."""
    with server_home() as home:
        server = local_db.start_embedded(home / "pg")
        try:
            with local_db.admin_connection(server.admin_url) as conn:
                conn.run("CREATE ROLE rds_iam NOLOGIN")
                conn.run(f"CREATE DATABASE {DATABASE}")
            db = server.with_database(DATABASE)
            with local_db.admin_connection(db.admin_url) as master:
                cluster = Cluster(db, master)
                assert [a[0] for a in _bootstrap(cluster, "Create").answers] == ["SUCCESS"]
                _migrate_as_the_user(db)
                yield cluster
        finally:
            embedded_server.release(home / "pg")


def _migrate_as_the_user(db: local_db.LocalDatabase) -> None:
    from wellapi.handlers import migration  # Alembic: imported by the tests that migrate

    migration.upgrade_with(Settings(database_url=db.url_for(USER), db_auth="url"))


def _held(conn: pg8000.native.Connection) -> dict[str, Any]:
    ((login, createrole, superuser, createdb, replication, bypassrls),) = conn.run(
        "SELECT rolcanlogin, rolcreaterole, rolsuper, rolcreatedb, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = :u",
        u=USER,
    )
    member_of = conn.run(
        "SELECT g.rolname, m.admin_option, m.inherit_option FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = CAST(:u AS regrole)",
        u=USER,
    )
    parameters = conn.run(
        "SELECT p.parname, a.privilege_type FROM pg_parameter_acl p, aclexplode(p.paracl) a "
        "WHERE a.grantee = CAST(:u AS regrole)",
        u=USER,
    )
    ((owner,),) = conn.run(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d", d=DATABASE
    )
    return {
        "attributes": {
            "login": login,
            "createrole": createrole,
            "superuser": superuser,
            "createdb": createdb,
            "replication": replication,
            "bypassrls": bypassrls,
        },
        # The application roles it made, it administers, and inherits nothing of.
        "member_of": {
            role: (admin, inherit)
            for role, admin, inherit in member_of
            if (role, admin, inherit) not in {(r, True, False) for r in DEPLOYED_ROLES}
        },
        "parameters": dict(parameters),
        "owns_the_database": owner == USER,
    }


def test_a_deploy_leaves_the_user_exactly_its_grants_and_a_later_one_changes_nothing(cluster):
    made = _held(cluster.master)

    function = _bootstrap(cluster, "Update")

    assert made == GRANTS
    assert _held(cluster.master) == made
    assert [a[:3] for a in function.answers] == [("SUCCESS", {}, "well_migrator")]


def test_the_migrations_ran_as_that_user_and_made_the_roles_it_administers(cluster):
    conn = cluster.master
    assert revisions.current(conn) == revisions.head()
    owners = conn.run(
        "SELECT DISTINCT pg_get_userbyid(nspowner) FROM pg_namespace "
        "WHERE nspname IN ('core_api', 'well_private')"
    )
    assert owners == [[USER]]
    administered = conn.run(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "WHERE m.member = CAST(:u AS regrole) AND m.admin_option AND NOT m.inherit_option "
        "ORDER BY 1",
        u=USER,
    )
    assert [r for (r,) in administered] == sorted(DEPLOYED_ROLES)
    ((defaults,),) = conn.run(
        "SELECT setconfig FROM pg_db_role_setting WHERE setrole = CAST(:r AS regrole)", r=API_ROLE
    )
    assert "log_parameter_max_length=0" in defaults


def test_a_stalled_session_is_ended_by_the_function_the_user_owns(cluster):
    """core_api.end_stalled_sessions(), its owner's: it sees another role's session idle in a
    transaction past its bound (shortened here to a millisecond), and ends it."""
    stalled = local_db.admin_connection(cluster.db.url_for(API_ROLE))
    sync = local_db.admin_connection(cluster.db.url_for(SYNC_ROLE))
    try:
        stalled.run("SET idle_in_transaction_session_timeout = 0")
        stalled.run("BEGIN")
        cluster.master.run(
            "UPDATE well_private.session_bounds SET idle_bound = interval '1 millisecond' "
            "WHERE role = :r",
            r=API_ROLE,
        )
        time.sleep(1.2)  # the bound, and the second the function adds to it

        assert sync.run("SELECT core_api.end_stalled_sessions()") == [[1]]
    finally:
        cluster.master.run("SELECT well_private.record_settings()")
        sync.close()
        with suppress(pg8000.exceptions.InterfaceError):  # ended: its socket is closed
            stalled.close()


# Each grant: what takes it back, a statement of the migrations' (or of a function the user
# owns) that then fails, and how: refused, or (a session's state unseen) divided by zero. With
# the grant, the same statement runs.
NEEDED = {
    "createrole": (f"ALTER ROLE {USER} NOCREATEROLE", "CREATE ROLE well_probe", "42501"),
    "rds_iam with its admin option": (
        f"REVOKE ADMIN OPTION FOR rds_iam FROM {USER} CASCADE",
        f"GRANT rds_iam TO {API_ROLE}",
        "42501",
    ),
    "pg_signal_backend": (
        f"REVOKE pg_signal_backend FROM {USER}",
        "SELECT pg_cancel_backend({pid})",
        "42501",
    ),
    "pg_read_all_stats": (
        f"REVOKE pg_read_all_stats FROM {USER}",
        "SELECT 1 / (state IS NOT NULL)::integer FROM pg_stat_activity WHERE pid = {pid}",
        "22012",
    ),
    "set on log_parameter_max_length": (
        f"REVOKE SET ON PARAMETER log_parameter_max_length FROM {USER}",
        f"ALTER ROLE {API_ROLE} IN DATABASE {DATABASE} SET log_parameter_max_length = 0",
        "42501",
    ),
    "the database": (
        f"ALTER DATABASE {DATABASE} OWNER TO CURRENT_USER",
        "CREATE SCHEMA well_probe",
        "42501",
    ),
}


@pytest.mark.parametrize(("taken_back", "statement", "sqlstate"), NEEDED.values(), ids=NEEDED)
def test_each_grant_is_what_a_statement_needs(cluster, taken_back, statement, sqlstate):
    other = local_db.admin_connection(cluster.db.url_for(API_ROLE))
    try:
        ((pid,),) = other.run("SELECT pg_backend_pid()")
        sql = statement.format(pid=pid)
        assert _as_the_user(cluster.master, sql, taken_back=None) is None
        assert _as_the_user(cluster.master, sql, taken_back=taken_back) == sqlstate
    finally:
        other.close()


def _as_the_user(conn: pg8000.native.Connection, sql: str, taken_back: str | None) -> str | None:
    """``sql`` run as the user, with ``taken_back`` taken back first, all rolled back: the
    SQLSTATE it fails with, or None."""
    conn.run("BEGIN")
    try:
        if taken_back:
            conn.run(taken_back)
        conn.run(f"SET LOCAL ROLE {USER}")
        conn.run(sql)
    except pg8000.exceptions.DatabaseError as error:
        return str(error.args[0]["C"])
    finally:
        conn.run("ROLLBACK")
    return None
