"""Row-level security: the second wall, seen from inside PostgreSQL as the API's role.

Every query here runs as ``well_api`` — through the API's own engine
(``wellapi.store.connections.execute``) or a plain pg8000 connection for that role — on tables that
hold the rows of two tenants and more. With no scope a deliberately unscoped query returns nothing;
with a member scope it returns what the ``<table>_api`` policies say, which for the five
junctions is what the engine's own queries consider in scope; a write of the other tenant's rows is
refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pg8000.dbapi
import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import tenancy as tn
from tests.support.api import JSONAPI, call, event
from tests.support.proven import SCOPE_STATEMENT, SignedScope
from tests.support.read_factories import Sent, record_queries, requests_of
from wellapi.errors import sqlstate_of
from wellapi.resources import RESOURCES
from wellapi.resources.conditions import qualified
from wellapi.roles import API_ROLE
from wellapi.sqltext.reads import scope_condition, with_parents
from wellapi.sqltext.text import select, template
from wellapi.store import connections as db
from wellapi.store.sql import BoundStatement
from welldev import api_keys
from welldev import database as local_db
from welldev.claims import claims

pytestmark = pytest.mark.usefixtures("api_database")

PROVENANCE = tuple(tn.PROVENANCE)
JUNCTIONS = tn.JUNCTIONS
# The tables the junctions are scoped through (and the ones those rules read).
PARENTS = (
    "workspaces",
    "memberships",
    "workspace_connectors",
    "workspace_groups",
    "workspace_group_memberships",
    *f.RECORD_TABLE.values(),  # each ledger's records
)
SCOPED = (*JUNCTIONS, *PARENTS)
CATALOG = ("providers",)  # global: readable by everyone, written by nobody here
# No privilege at all (well_api has no grant on them): nothing of them is the API's business.
UNREADABLE = (
    "api_keys",
    "sync_receipts",
    "alembic_version",
    "connectors",
    "sync_tombstones",
    "revocation_sweeps",
    "ledger_periods",  # the owner's functions keep it (the sweep's, through one of them)
)
# Readable whole, through one column only, without a scope: which connectors are revoked
# (their internal keys, no tenant data), so a read leaves their ledger rows out.
KEYS_ONLY = {"connector_revocations": "workspace_connector_pk"}
# The outbox: a scope reads its workspace's change records; the database writes them
# (tests/database/test_change_records.py).
OUTBOX = ("change_records",)
# Where retention pruned each workspace's records (change_feed_pruned): a scope reads its own
# workspace's, to tell a cursor behind it (tests/database/test_changes_feed.py).
PRUNED = ("change_feed_pruned",)
# What every transaction of a role sets again (core_api.set_transaction_settings()): the server's
# settings and the roles' own, no tenant's data; every application role reads it, none writes.
SETTINGS = ("transaction_settings",)
INSUFFICIENT_PRIVILEGE = "42501"


@dataclass(frozen=True)
class RlsWorld:
    """Two tenants, plus the rows that make the rules interesting.

    - a group of a third party where B's person is a plain member and A's workspace is
      enrolled: B sees that enrolment (and the workspace row it points at), A sees it as its
      own workspace's enrolment;
    - an API key per tenant and a sync receipt per tenant's connector;
    - the sync pipeline's own rows (a tombstone and a sweep position per tenant's connector),
      and a revoked connector of the outsider, whose revocation hides no row of either tenant.
    """

    w: tn.World
    shared_group: tn.Ref
    shared_enrolment: tn.Ref


# The module's admin connection, which signs the scope tokens the statements here use.
_ADMIN: list[pg8000.native.Connection] = []


@pytest.fixture(scope="module")
def admin_conn(database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    conn = local_db.admin_connection(database.admin_url)
    _ADMIN.append(conn)
    try:
        yield conn
    finally:
        _ADMIN.remove(conn)
        conn.close()


@pytest.fixture(scope="module")
def rls(admin_conn: pg8000.native.Connection) -> RlsWorld:
    w = tn.world(admin_conn)
    a, b = w.a, w.b
    outsider = f.tenant(admin_conn, "Outsider")
    shared_group = f.group(admin_conn, "Shared group", created_by_pk=outsider.person_pk)
    f.group_member(admin_conn, shared_group[0], outsider.person_pk, "owner")
    f.group_member(admin_conn, shared_group[0], b.person[0], "member")
    shared_enrolment = tn.enrolment_row(
        admin_conn, shared_group[0], a.workspace[0], outsider.person_pk
    )
    for side in (a, b):
        api_keys.create_key(
            admin_conn,
            person_id=side.person[1],
            workspace_id=side.workspace[1],
            kind="member",
            name="rls",
        )
        admin_conn.run(
            "INSERT INTO core_api.sync_receipts (idempotency_key, message_type, "
            "workspace_connector_pk, occurred_at) VALUES (:k, 'links', :w, now())",
            k=f"rls-{side.workspace[1]}",
            w=side.workspace_connector[0],
        )
        admin_conn.run(
            "INSERT INTO core_api.sync_tombstones (workspace_connector_pk, record_type, "
            "record_pk, direction, unlinked_at) VALUES (:w, 'account', :r, 'input', now())",
            w=side.workspace_connector[0],
            r=side.records["account"][0],
        )
        admin_conn.run(
            "INSERT INTO core_api.revocation_sweeps (workspace_connector_pk, record_type, "
            "direction) VALUES (:w, 'account', 'input')",
            w=side.workspace_connector[0],
        )
    admin_conn.run(
        "INSERT INTO core_api.connector_revocations (workspace_connector_pk, occurred_at) "
        "VALUES (:w, now())",
        w=outsider.workspace_connector_pk,
    )
    return RlsWorld(w, shared_group, shared_enrolment)


def scope_of(person: tn.Ref, workspace: tn.Ref, kind: str = "member") -> SignedScope:
    """``set_scope`` with the token the authorizer would have signed for the person's key."""
    return SignedScope.of(claims(_ADMIN[0], person[1], workspace[1], kind))


def scope(side: tn.Side, kind: str = "member") -> SignedScope:
    return scope_of(side.person, side.workspace, kind)


def unscoped(statement: str) -> list[list[Any]]:
    """``statement`` as the API role, in a message of its own without a scope."""
    return db.execute([BoundStatement(statement)])


def in_scope(signed: SignedScope, statement: str) -> list[list[Any]]:
    """``statement`` as the API role after ``set_scope``, pipelined in the same message, opened
    by a proof of the token for its transaction, as the API opens it (``db.execute``)."""
    return db.execute([signed.statement, BoundStatement(statement)], prove=signed.prove)


def scoped(statement: str, side: tn.Side, kind: str = "member") -> list[list[Any]]:
    """``statement`` as the API role after ``set_scope``, pipelined in the same message."""
    rows = in_scope(scope(side, kind), statement)
    assert rows[0][0] == side.workspace[0], "the scope did not resolve"
    return rows[1:]


# How a row of each table is told apart by what the API role may read of it (its column grants):
# the pk, except where the API reads only who belongs to what.
ROW_KEYS = {
    "memberships": "workspace_pk::text || '/' || person_pk::text",
    "workspace_group_memberships": "workspace_group_pk::text || '/' || person_pk::text",
}


def row_key(table: str) -> str:
    return ROW_KEYS.get(table, "pk")


def pks(rows: list[list[Any]]) -> set[Any]:
    return {r[0] if isinstance(r[0], str) else int(r[0]) for r in rows}


def all_pks(conn: pg8000.native.Connection, table: str) -> set[Any]:
    return pks(conn.run(f"SELECT {row_key(table)} FROM core_api.{table}"))


# ---- the classification of every table ---------------------------------------------------------


def test_every_core_api_table_is_scoped_catalog_or_unreadable(admin_conn):
    """A table added later must choose: row-level security, global catalog, its keys only, or
    no access."""
    tables = {*SCOPED, *CATALOG, *KEYS_ONLY, *UNREADABLE, *OUTBOX, *PRUNED, *SETTINGS}
    assert set(tn.core_api_tables(admin_conn)) == tables


@pytest.mark.parametrize("table", [*SCOPED, *OUTBOX, *PRUNED])
def test_rls_is_enabled_and_forced(admin_conn, table):
    enabled, forced = admin_conn.run(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = CAST(:t AS regclass)",
        t=f"core_api.{table}",
    )[0]
    assert (enabled, forced) == (True, True)


def test_the_api_role_owns_nothing_and_cannot_bypass_rls(admin_conn):
    role = admin_conn.run(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
        "WHERE rolname = :r",
        r=API_ROLE,
    )
    assert role == [[False, False, False, False]]
    owned = admin_conn.run(
        "SELECT 'class ' || relname FROM pg_class WHERE relowner = CAST(:r AS regrole) "
        "UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proowner = CAST(:r AS regrole) "
        "UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typowner = CAST(:r AS regrole) "
        "UNION ALL SELECT 'schema ' || nspname FROM pg_namespace "
        "WHERE nspowner = CAST(:r AS regrole)",
        r=API_ROLE,
    )
    assert owned == []
    memberships = admin_conn.run(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "WHERE m.member = CAST(:r AS regrole) AND r.rolname <> 'rds_iam'",
        r=API_ROLE,
    )
    assert memberships == [], "the API role inherits another role's rights"


def test_the_api_role_may_not_delete_or_truncate_anything(admin_conn):
    allowed = admin_conn.run(
        "SELECT relname, p FROM pg_class, unnest(ARRAY['DELETE', 'TRUNCATE']) p "
        "WHERE relnamespace = CAST('core_api' AS regnamespace) AND relkind IN ('r', 'p') "
        "AND NOT relispartition "
        "AND has_table_privilege(:r, oid, p)",
        r=API_ROLE,
    )
    assert allowed == []
    # Not vacuous: the owner may.
    assert admin_conn.run("SELECT has_table_privilege('core_api.workspaces', 'DELETE')") == [[True]]


def test_the_api_role_inserts_only_junction_rows(admin_conn):
    insertable = admin_conn.run(
        "SELECT relname FROM pg_class WHERE relnamespace = CAST('core_api' AS regnamespace) "
        "AND relkind IN ('r', 'p') AND NOT relispartition "
        "AND has_any_column_privilege(:r, oid, 'INSERT') ORDER BY 1",
        r=API_ROLE,
    )
    assert [r[0] for r in insertable] == sorted(JUNCTIONS)


def test_the_api_role_updates_a_junction_rows_data_never_what_it_points_at(admin_conn):
    updatable = admin_conn.run(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = CAST('core_api' AS regnamespace) AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped "
        "AND has_column_privilege(:r, c.oid, a.attnum, 'UPDATE') ORDER BY 1, 2",
        r=API_ROLE,
    )
    data = {
        **dict.fromkeys(PROVENANCE, ("deleted_at", "direction", "updated_at")),
        "workspace_group_workspaces": ("deleted_at", "updated_at"),
        "workspace_providers": ("deleted_at", "is_matched", "is_selected", "updated_at"),
    }
    assert [tuple(r) for r in updatable] == [
        (table, column) for table in sorted(data) for column in data[table]
    ]


# ---- no scope: nothing -------------------------------------------------------------------------


@pytest.mark.parametrize("table", SCOPED)
def test_an_unscoped_select_returns_no_row_although_both_tenants_have_rows(rls, admin_conn, table):
    # The table really holds rows of both tenants (so "nothing" is the policy's doing).
    assert admin_conn.run(f"SELECT count(*) FROM core_api.{table}")[0][0] >= 2
    assert unscoped(f"SELECT count(*) FROM core_api.{table}") == [[0]]


@pytest.mark.parametrize("table", UNREADABLE)
def test_the_api_role_may_not_read_keys_receipts_or_migration_state(rls, admin_conn, table):
    assert admin_conn.run(f"SELECT count(*) FROM core_api.{table}")[0][0] >= 1
    statement = f"SELECT * FROM core_api.{table}"
    for run in (lambda: unscoped(statement), lambda: in_scope(scope(rls.w.a), statement)):
        with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
            run()
        assert sqlstate_of(raised.value) == INSUFFICIENT_PRIVILEGE


@pytest.mark.parametrize(("table", "column"), KEYS_ONLY.items())
def test_a_keys_only_table_is_readable_whole_through_its_key_alone(rls, admin_conn, table, column):
    expected = pks(admin_conn.run(f"SELECT {column} FROM core_api.{table}"))
    assert expected
    # No tenant in it, so no row-level security: every key, with a scope or without.
    assert pks(unscoped(f"SELECT {column} FROM core_api.{table}")) == expected
    assert pks(scoped(f"SELECT {column} FROM core_api.{table}", rls.w.a)) == expected
    others = [
        name
        for (name,) in admin_conn.run(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attnum > 0 AND NOT attisdropped AND attname <> :c",
            t=f"core_api.{table}",
            c=column,
        )
    ]
    assert others
    for statement in (
        f"SELECT * FROM core_api.{table}",
        *(f"SELECT {other} FROM core_api.{table}" for other in others),
    ):
        with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
            unscoped(statement)
        assert sqlstate_of(raised.value) == INSUFFICIENT_PRIVILEGE, statement


@pytest.mark.parametrize("table", CATALOG)
def test_the_global_catalog_is_readable_without_a_scope(rls, admin_conn, table):
    expected = all_pks(admin_conn, table)
    assert expected
    assert pks(unscoped(f"SELECT pk FROM core_api.{table}")) == expected


def test_a_scope_ends_with_its_request_on_the_same_pooled_connection(rls):
    """The settings are transaction-local: the next request on the connection starts blank."""
    table = "account_workspace_connectors"
    assert scoped(f"SELECT pk FROM core_api.{table}", rls.w.a)
    assert unscoped(f"SELECT pk FROM core_api.{table}") == []
    assert unscoped(
        "SELECT core_api.scope_workspace_pk(), core_api.scope_person_pk(), "
        "core_api.scope_principal_kind()"
    ) == [[None, None, None]]


def test_a_scope_that_does_not_resolve_opens_nothing(rls):
    """A member naming a workspace without an active membership there: 403 for the request,
    and no row of any table for the statements that share its transaction — not even the
    rows the person could see in a workspace where they do belong."""
    a, b = rls.w.a, rls.w.b
    for table in SCOPED:
        rows = in_scope(scope_of(b.person, a.workspace), f"SELECT count(*) FROM core_api.{table}")
        assert rows[0] == [None, b.person[0]]  # the person exists: the request is a 403
        assert rows[1:] == [[0]], table


# ---- a member scope: what the rules say --------------------------------------------------------


def engine_scope(admin_conn: pg8000.native.Connection, resource: str, side: tn.Side) -> set[int]:
    """The rows the engine's own read query considers in scope (soft-deleted ones included,
    as row-level security does not look at deleted_at), run by the admin, whom RLS ignores."""
    r = RESOURCES[resource]
    joined = with_parents(r, qualified(r.table.name), "t")
    statement = template(select(["t.pk"], joined, [scope_condition(r, "t")])).bind()
    signed = scope(side)
    rows = signed.run(admin_conn, [signed.statement, statement])
    return {int(r[0]) for r in rows if len(r) == 1}


@pytest.mark.parametrize("who", ["a", "b"])
@pytest.mark.parametrize("resource", JUNCTIONS)
def test_a_member_scope_shows_the_junction_rows_the_engine_considers_in_scope(
    rls, admin_conn, resource, who
):
    side = getattr(rls.w, who)
    visible = pks(scoped(f"SELECT pk FROM core_api.{resource}", side))
    assert visible == engine_scope(admin_conn, resource, side)


@pytest.mark.parametrize("resource", PROVENANCE)
def test_a_provenance_row_is_visible_only_in_the_workspace_of_its_parents(rls, resource):
    # Both parents sit in one workspace whatever writes the row
    # (tests/database/test_ledger_parents.py).
    a, b = rls.w.a, rls.w.b
    for me, other in ((a, b), (b, a)):
        visible = pks(scoped(f"SELECT pk FROM core_api.{resource}", me))
        assert me.provenance[resource][0] in visible
        assert other.provenance[resource][0] not in visible


def test_a_workspace_provider_is_visible_only_in_its_workspace(rls):
    a, b = rls.w.a, rls.w.b
    for me, other in ((a, b), (b, a)):
        visible = pks(scoped("SELECT pk FROM core_api.workspace_providers", me))
        assert {me.selection[0], me.shared_selection[0]} <= visible
        assert not visible & {other.selection[0], other.shared_selection[0]}


def test_an_enrolment_is_visible_in_its_workspace_or_to_a_member_of_its_group(rls):
    a, b = rls.w.a, rls.w.b
    table = "SELECT pk FROM core_api.workspace_group_workspaces"
    # A: its own enrolments (its group's, and the shared group's, which enrols A's workspace).
    assert pks(scoped(table, a)) >= {a.enrolment[0], rls.shared_enrolment[0]}
    assert b.enrolment[0] not in pks(scoped(table, a))
    # B: its own, and the shared group's enrolment of A's workspace (B is a member there).
    assert pks(scoped(table, b)) >= {b.enrolment[0], rls.shared_enrolment[0]}
    assert a.enrolment[0] not in pks(scoped(table, b))


def expected_parents(conn: pg8000.native.Connection, table: str, side: tn.Side) -> set[Any]:
    """What the documented rules let a member scope see of a parent table, computed in Python
    from the admin's view of the rows (an implementation independent of the policies)."""
    person, workspace = side.person[0], side.workspace[0]
    memberships = conn.run(
        "SELECT person_pk, workspace_pk FROM core_api.memberships WHERE deleted_at IS NULL"
    )
    in_groups = {
        g
        for p, g in conn.run(
            "SELECT person_pk, workspace_group_pk FROM core_api.workspace_group_memberships "
            "WHERE deleted_at IS NULL"
        )
        if p == person
    }
    enrolled = conn.run(
        "SELECT workspace_group_pk, workspace_pk FROM core_api.workspace_group_workspaces "
        "WHERE deleted_at IS NULL"
    )
    if table == "peoples":
        rows = conn.run("SELECT pk, workspace_pk FROM core_api.peoples")
        return {pk for pk, ws in rows if ws == workspace or pk == person}
    if table in (*f.RECORD_TABLE.values(), "workspace_connectors"):  # a workspace's own
        rows = conn.run(f"SELECT pk, workspace_pk FROM core_api.{table}")
        return {pk for pk, ws in rows if ws == workspace}
    if table == "memberships":
        rows = conn.run("SELECT workspace_pk, person_pk FROM core_api.memberships")
        return {f"{ws}/{p}" for ws, p in rows if ws == workspace or p == person}
    if table == "workspace_group_memberships":
        rows = conn.run(
            "SELECT workspace_group_pk, person_pk FROM core_api.workspace_group_memberships"
        )
        return {f"{g}/{p}" for g, p in rows if p == person}
    if table == "workspace_groups":
        mine = {g for g, ws in enrolled if ws == workspace}
        return {pk for (pk,) in conn.run("SELECT pk FROM core_api.workspace_groups")} & (
            in_groups | mine
        )
    assert table == "workspaces"
    belongs = {ws for p, ws in memberships if p == person}
    through_groups = {ws for g, ws in enrolled if g in in_groups}
    return {pk for (pk,) in conn.run("SELECT pk FROM core_api.workspaces")} & (
        {workspace} | belongs | through_groups
    )


@pytest.mark.parametrize("who", ["a", "b"])
@pytest.mark.parametrize("table", PARENTS)
def test_a_member_scope_shows_the_parent_rows_the_rules_allow(rls, admin_conn, table, who):
    side = getattr(rls.w, who)
    visible = pks(scoped(f"SELECT {row_key(table)} FROM core_api.{table}", side))
    assert visible == expected_parents(admin_conn, table, side)
    other = rls.w.b if who == "a" else rls.w.a
    assert other.records["account"][0] not in pks(scoped("SELECT pk FROM core_api.accounts", side))
    assert other.workspace_connector[0] not in pks(
        scoped("SELECT pk FROM core_api.workspace_connectors", side)
    )


@pytest.mark.parametrize("table", SCOPED)
def test_a_service_scope_sees_across_workspaces(rls, admin_conn, table):
    visible = scoped(f"SELECT {row_key(table)} FROM core_api.{table}", rls.w.b, "service")
    assert pks(visible) == all_pks(admin_conn, table)


# ---- writes through row-level security ---------------------------------------------------------


def attempt(
    conn: pg8000.native.Connection, prelude: SignedScope | None, statement: str
) -> int | str:
    """Run ``statement`` as the API role in a transaction that ``prelude`` (if any) opened with
    its scope, then roll back whatever happened.

    Returns the number of rows written, or the SQLSTATE of the refusal.
    """
    try:
        if prelude is None:
            conn.run("BEGIN")
        else:
            prelude.open(conn)
        conn.run(statement)
        return int(conn.row_count)
    except pg8000.native.DatabaseError as error:
        return sqlstate_of(error) or "?"
    finally:
        conn.run("ROLLBACK")


Outcome = int | str  # rows written, or the SQLSTATE of the refusal
Attempt = tuple[SignedScope | None, str, Outcome]  # (prelude, statement, outcome)
WriteCase = Callable[[RlsWorld], Attempt]
REFUSED = INSUFFICIENT_PRIVILEGE


def _provenance_cases(table: str, record: str) -> dict[str, WriteCase]:
    insert = (
        f"INSERT INTO core_api.{table} ({record}_pk, workspace_connector_pk, direction) "
        "VALUES ({r}, {wc}, 'output')"
    )
    soft_delete = f"UPDATE core_api.{table} SET deleted_at = now() WHERE pk = {{pk}}"

    def parts(rls: RlsWorld) -> tuple[tn.Side, tn.Side, int, int, int, int]:
        a, b = rls.w.a, rls.w.b
        return (
            a,
            b,
            a.records[record][0],
            b.records[record][0],
            a.workspace_connector[0],
            b.workspace_connector[0],
        )

    def b_row(rls: RlsWorld) -> Attempt:
        a, _, _, r_b, _, wc_b = parts(rls)
        return scope(a), insert.format(r=r_b, wc=wc_b), REFUSED

    def a_record_b_connector(rls: RlsWorld) -> Attempt:
        a, _, r_a, _, _, wc_b = parts(rls)
        return scope(a), insert.format(r=r_a, wc=wc_b), REFUSED

    def b_record_a_connector(rls: RlsWorld) -> Attempt:
        a, _, _, r_b, wc_a, _ = parts(rls)
        return scope(a), insert.format(r=r_b, wc=wc_a), REFUSED

    def unscoped_insert(rls: RlsWorld) -> Attempt:
        _, _, r_a, _, wc_a, _ = parts(rls)
        return None, insert.format(r=r_a, wc=wc_a), REFUSED

    def update_b_row(rls: RlsWorld) -> Attempt:
        a, b, *_ = parts(rls)
        return scope(a), soft_delete.format(pk=b.provenance[table][0]), 0

    def repoint(rls: RlsWorld) -> Attempt:
        a, _, _, r_b, _, _ = parts(rls)
        statement = (
            f"UPDATE core_api.{table} SET {record}_pk = {r_b} WHERE pk = {a.provenance[table][0]}"
        )
        return scope(a), statement, REFUSED

    def unscoped_update(rls: RlsWorld) -> Attempt:
        a, *_ = parts(rls)
        return None, soft_delete.format(pk=a.provenance[table][0]), 0

    return {
        f"{table}: insert B's row": b_row,
        f"{table}: insert A's record with B's connector": a_record_b_connector,
        f"{table}: insert B's record with A's connector": b_record_a_connector,
        f"{table}: insert without a scope": unscoped_insert,
        f"{table}: update B's row": update_b_row,
        f"{table}: re-point A's row at B's record": repoint,
        f"{table}: update without a scope": unscoped_update,
    }


def _other_cases() -> dict[str, WriteCase]:
    def insert_selection_for_b(rls: RlsWorld) -> Attempt:
        statement = (
            "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk) "
            f"VALUES ({rls.w.b.workspace[0]}, {rls.w.free_provider[0]})"
        )
        return scope(rls.w.a), statement, REFUSED

    def update_b_selection(rls: RlsWorld) -> Attempt:
        statement = (
            "UPDATE core_api.workspace_providers SET is_selected = false "
            f"WHERE pk = {rls.w.b.selection[0]}"
        )
        return scope(rls.w.a), statement, 0

    def repoint_selection(rls: RlsWorld) -> Attempt:
        statement = (
            f"UPDATE core_api.workspace_providers SET workspace_pk = {rls.w.b.workspace[0]} "
            f"WHERE pk = {rls.w.a.selection[0]}"
        )
        return scope(rls.w.a), statement, REFUSED

    def enrol(group: str) -> WriteCase:
        def case(rls: RlsWorld) -> Attempt:
            side = getattr(rls.w, group)
            statement = (
                "INSERT INTO core_api.workspace_group_workspaces "
                "(workspace_group_pk, workspace_pk, created_by_pk) "
                f"VALUES ({side.group[0]}, {rls.w.b.spare_workspace[0]}, "
                f"{rls.w.a.tenant.person_pk})"
            )
            return scope(rls.w.a), statement, REFUSED

        return case

    def remove_b_enrolment(rls: RlsWorld) -> Attempt:
        statement = (
            "UPDATE core_api.workspace_group_workspaces SET deleted_at = now() "
            f"WHERE pk = {rls.w.b.enrolment[0]}"
        )
        return scope(rls.w.a), statement, 0

    def repoint_enrolment(rls: RlsWorld) -> Attempt:
        statement = (
            f"UPDATE core_api.workspace_group_workspaces SET workspace_pk = "
            f"{rls.w.b.workspace[0]} WHERE pk = {rls.w.a.enrolment[0]}"
        )
        return scope(rls.w.a), statement, REFUSED

    def update_parent(rls: RlsWorld) -> Attempt:
        statement = (
            "UPDATE core_api.accounts SET account_name = 'x' "
            f"WHERE pk = {rls.w.a.records['account'][0]}"
        )
        return scope(rls.w.a), statement, REFUSED

    def delete_own(rls: RlsWorld) -> Attempt:
        statement = f"DELETE FROM core_api.workspace_providers WHERE pk = {rls.w.a.selection[0]}"
        return scope(rls.w.a), statement, REFUSED

    def enrol_as_a_plain_group_member(rls: RlsWorld) -> Attempt:
        # B is a plain member of the shared group and an active member of its own workspace:
        # the API wants the owner or admin role on the group, and so does core_api.may_enrol.
        statement = (
            "INSERT INTO core_api.workspace_group_workspaces "
            "(workspace_group_pk, workspace_pk, created_by_pk) "
            f"VALUES ({rls.shared_group[0]}, {rls.w.b.workspace[0]}, {rls.w.b.tenant.person_pk})"
        )
        return scope(rls.w.b), statement, REFUSED

    def remove_as_a_plain_group_member(rls: RlsWorld) -> Attempt:
        statement = (
            "UPDATE core_api.workspace_group_workspaces SET deleted_at = now() "
            f"WHERE pk = {rls.shared_enrolment[0]}"
        )
        return scope(rls.w.b), statement, 0

    def update_catalog(rls: RlsWorld) -> Attempt:
        statement = f"UPDATE core_api.providers SET name = 'x' WHERE pk = {rls.w.free_provider[0]}"
        return scope(rls.w.a, "service"), statement, REFUSED

    return {
        "workspace_providers: insert for B's workspace": insert_selection_for_b,
        "workspace_providers: update B's row": update_b_selection,
        "workspace_providers: re-point A's row at B's workspace": repoint_selection,
        "workspace_group_workspaces: enrol B's workspace in B's group": enrol("b"),
        "workspace_group_workspaces: enrol B's workspace in A's group": enrol("a"),
        "workspace_group_workspaces: remove B's enrolment": remove_b_enrolment,
        "workspace_group_workspaces: re-point A's enrolment at B's workspace": repoint_enrolment,
        "workspace_group_workspaces: enrol as a plain member of the group": (
            enrol_as_a_plain_group_member
        ),
        "workspace_group_workspaces: remove an enrolment as a plain member of the group": (
            remove_as_a_plain_group_member
        ),
        "accounts: update is not granted at all": update_parent,
        "workspace_providers: delete is not granted, even of one's own row": delete_own,
        "providers: the catalog is read-only, even for a service": update_catalog,
    }


WRITE_CASES: dict[str, WriteCase] = {
    **{
        name: case
        for table, record in tn.PROVENANCE.items()
        for name, case in _provenance_cases(table, record).items()
    },
    **_other_cases(),
}


@pytest.mark.parametrize("name", WRITE_CASES)
def test_a_write_of_another_tenants_rows_is_refused_or_touches_nothing(rls, api_conn, name):
    prelude, statement, expected = WRITE_CASES[name](rls)
    assert attempt(api_conn, prelude, statement) == expected


def test_the_refusals_are_not_for_want_of_privilege_or_scope(rls, api_conn):
    """The same kinds of writes on A's own rows, with A's scope, do go through (then roll back):
    what stops the cases above is the policy."""
    a = rls.w.a
    free = rls.w.free_provider[0]
    prelude = scope(a, "service")
    for table, record in tn.PROVENANCE.items():
        statement = (
            f"INSERT INTO core_api.{table} ({record}_pk, workspace_connector_pk, direction) "
            f"VALUES ({a.records[record][0]}, {a.workspace_connector[0]}, 'output')"
        )
        assert attempt(api_conn, prelude, statement) == 1
    own = [
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk) "
        f"VALUES ({a.workspace[0]}, {free})",
        f"UPDATE core_api.workspace_providers SET is_selected = false WHERE pk = {a.selection[0]}",
        f"UPDATE core_api.workspace_group_workspaces SET deleted_at = now() "
        f"WHERE pk = {a.enrolment[0]}",
        # The enrolment's author is the caller, as workspace_group_workspaces_api_insert wants.
        "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk, "
        f"created_by_pk) VALUES ({a.group[0]}, {a.spare_workspace[0]}, {a.tenant.person_pk})",
    ]
    for statement in own:
        assert attempt(api_conn, scope(a), statement) == 1, statement


# ---- the scope rides in the request's own transaction ------------------------------------------


@pytest.fixture
def calls(rls, monkeypatch) -> list[Sent]:
    """Every message the API's pg8000 connection sends while a test runs (after a warm-up)."""
    a = rls.w.a
    warm = call(
        "workspace_providers",
        "list",
        event("GET", "/v1/workspace-providers", claims=a.tenant.claims()),
    )
    assert warm.status == 200
    return record_queries(monkeypatch)


def test_a_retrieve_is_one_read_only_transaction_that_sets_its_own_scope(rls, calls):
    a = rls.w.a
    row_id = str(a.provenance["account_workspace_connectors"][1])
    path = f"/v1/account-workspace-connectors/{row_id}"
    reply = call(
        "account_workspace_connectors",
        "retrieve",
        event(
            "GET",
            path,
            claims=a.tenant.claims(),
            path_parameters={"id": row_id},
            route="/v1/account-workspace-connectors/{id}",
        ),
    )
    assert reply.status == 200, reply.body
    (request,) = requests_of(calls)
    assert request.read_only
    assert request.statements.startswith(SCOPE_STATEMENT), request.message[:120]


def test_a_create_is_one_transaction_that_sets_its_own_scope(rls, admin_conn, calls):
    a = rls.w.a
    provider = f.provider(admin_conn)
    doc = {
        "data": {
            "type": "workspace_provider",
            "attributes": {"is_selected": False, "is_matched": True},
            "relationships": {
                "workspace": {"data": {"type": "workspace", "id": str(a.workspace[1])}},
                "provider": {"data": {"type": "provider", "id": str(provider[1])}},
            },
        }
    }
    reply = call(
        "workspace_providers",
        "create",
        event(
            "POST",
            "/v1/workspace-providers",
            claims=a.tenant.claims(),
            body=json.dumps(doc),
            headers={"content-type": JSONAPI},
        ),
    )
    assert reply.status == 201, reply.body
    (request,) = requests_of(calls)
    assert not request.read_only
    assert request.statements.startswith(SCOPE_STATEMENT), request.message[:120]
    assert "INSERT INTO core_api.workspace_providers" in request.statements


def test_every_read_rule_calls_the_scope_functions_once_per_statement(admin_conn):
    """Each scope function in a policy is an uncorrelated sub-select (an InitPlan, run once per
    statement), never a call per row."""
    rules = admin_conn.run(
        "SELECT policyname, qual, with_check FROM pg_policies "
        "WHERE schemaname = 'core_api' AND 'well_api' = ANY (roles)"
    )
    assert rules
    for policy, using, check in rules:
        for rule in (using, check):
            if rule is None:
                continue
            # The plain settings (core_api.scope_*()) are the queries'; any role may set them.
            assert "core_api.scope_" not in rule, (policy, rule)
            calls = re.findall(r"(\(\s*SELECT\s+)?core_api\.(verified_\w+)\(", rule)
            assert calls, (policy, rule)
            for wrapped, function in calls:
                assert wrapped, (policy, function, rule)
