"""database.yaml's MigrationUser: the function CloudFormation runs on each deploy of the database
stack, its own code as the template holds it, making the migration user on PostgreSQL.

In AWS it sends each statement through the Data API as the cluster's master user; here a
stand-in for the Data API's client runs the same statement on the test server, on one
connection, in a transaction rolled back at the end: the roles RDS provides (``rds_iam``,
``rds_superuser``) are made there too, and nothing is left for another test to see.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator
from typing import Any

import pg8000.native
import pytest

from tests.support.template import DATABASE
from welldev import database as local_db

CODE = DATABASE["Resources"]["MigrationUserFunction"]["Properties"]["Code"]["ZipFile"]
USER = "well_migrator_test"


class DataApi:
    """``rds-data``'s ``execute_statement``, run on ``conn`` (the master user's stand-in)."""

    def __init__(self, conn: pg8000.native.Connection) -> None:
        self.conn = conn
        self.sent: list[dict[str, str]] = []

    def execute_statement(self, **call: str) -> dict[str, Any]:
        self.sent.append(call)
        self.conn.run(call["sql"])
        return {"numberOfRecordsUpdated": 0}


def _function(data: DataApi) -> tuple[types.ModuleType, list[tuple[Any, ...]]]:
    """The template's code as a module, its ``cfnresponse`` recording what it would send."""
    answers: list[tuple[Any, ...]] = []
    cfnresponse = types.ModuleType("cfnresponse")
    cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]
    cfnresponse.send = lambda *a, **k: answers.append((*a[2:], k))  # type: ignore[attr-defined]
    module = types.ModuleType("migration_user")
    saved = sys.modules.get("cfnresponse")
    sys.modules["cfnresponse"] = cfnresponse
    try:
        code = compile(CODE, "database.yaml:MigrationUserFunction", "exec")
        exec(code, module.__dict__)  # noqa: S102 - the template's own code, as Lambda loads it
    finally:
        if saved is None:
            del sys.modules["cfnresponse"]
        else:
            sys.modules["cfnresponse"] = saved
    module.boto3 = types.SimpleNamespace(client=lambda service: data)  # type: ignore[attr-defined]
    return module, answers


@pytest.fixture
def cluster(server: local_db.LocalDatabase) -> Iterator[tuple[pg8000.native.Connection, str]]:
    """A database of its own, and a connection in a transaction where RDS's roles exist."""
    name = f"wellapi_bootstrap_{os.getpid()}"
    db = local_db.create_database(server, name, replace=True)
    conn = local_db.admin_connection(db.admin_url)
    try:
        conn.run("BEGIN")
        for role in ("rds_iam", "rds_superuser"):
            conn.run(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
                f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
            )
        yield conn, name
    finally:
        conn.run("ROLLBACK")
        conn.close()
        local_db.drop_database(server, name)


def _event(kind: str, database: str, user: str = USER) -> dict[str, Any]:
    properties = {
        "ClusterArn": "arn:aws:rds:eu-west-1:123456789012:cluster:well",
        "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-x",
        "Database": database,
        "User": user,
    }
    return {"RequestType": kind, "ResourceProperties": properties}


def _made(conn: pg8000.native.Connection, database: str) -> dict[str, Any]:
    ((login, create_role, superuser),) = conn.run(
        "SELECT rolcanlogin, rolcreaterole, rolsuper FROM pg_roles WHERE rolname = :u", u=USER
    )
    member_of = {
        row[0]
        for row in conn.run(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :u",
            u=USER,
        )
    }
    ((owner,),) = conn.run(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d", d=database
    )
    return {
        "login": login,
        "createrole": create_role,
        "superuser": superuser,
        "member_of": member_of,
        "owns_the_database": owner == USER,
    }


def test_a_deploy_makes_the_migration_user_and_a_later_one_changes_nothing(cluster):
    conn, database = cluster
    data = DataApi(conn)
    function, answers = _function(data)

    function.handler(_event("Create", database), None)
    made = _made(conn, database)
    function.handler(_event("Update", database), None)

    assert made == {
        "login": True,
        "createrole": True,
        "superuser": False,
        "member_of": {"rds_iam", "rds_superuser"},
        "owns_the_database": True,
    }
    assert _made(conn, database) == made
    assert [a[:3] for a in answers] == [("SUCCESS", {}, USER)] * 2
    assert {(c["database"], c["resourceArn"], c["secretArn"]) for c in data.sent} == {
        (
            database,
            _event("Create", database)["ResourceProperties"]["ClusterArn"],
            _event("Create", database)["ResourceProperties"]["SecretArn"],
        )
    }


def test_deleting_the_stack_leaves_the_user(cluster):
    conn, database = cluster
    data = DataApi(conn)
    function, answers = _function(data)

    function.handler(_event("Delete", database), None)

    assert data.sent == []
    assert [a[0] for a in answers] == ["SUCCESS"]


def test_a_name_outside_the_pattern_fails_the_deploy_and_runs_nothing(cluster):
    conn, database = cluster
    data = DataApi(conn)
    function, answers = _function(data)

    function.handler(_event("Create", database, user='x"; DROP ROLE y; --'), None)

    assert data.sent == []
    ((status, _data, _user, keywords),) = answers
    assert status == "FAILED"
    assert keywords["reason"].startswith("ValueError: a user or database name outside")


def test_a_statement_the_database_refuses_fails_the_deploy_with_its_reason(cluster):
    conn, database = cluster
    conn.run("DROP ROLE rds_superuser")  # a server without it: the grant is refused
    function, answers = _function(DataApi(conn))

    conn.run("SAVEPOINT before")
    function.handler(_event("Create", database), None)
    conn.run("ROLLBACK TO SAVEPOINT before")

    ((status, _data, _user, keywords),) = answers
    assert status == "FAILED"
    assert "rds_superuser" in keywords["reason"]
