"""Each role reads only the columns its code uses, and runs only the functions it calls.

The catalog's answer (``has_column_privilege`` for every column of ``core_api``) is compared
with what the code uses:

- the API role: every column the API's statements name, collected from the SQLAlchemy
  statements the engine builds for every read and write shape (every include, filter, sort,
  range and cursor, member and service, every write kind), plus the columns the row-level
  security policies read of other tables (a policy's sub-select runs with the caller's
  privileges);
- the sync writer: the columns its SQL names (``_sync_uses``, below; its SQL is written by
  hand, and every sync test runs as that role, so a column it needs and cannot read fails
  there);
- the authorizer: nothing at all (it proves a key, ``core_api.prove_key``, and calls
  ``core_api.authenticate_key``);
- the change drainer: the change records' columns its events carry and ``sent_at``, which is
  all it may update, and the workspaces' public ids;
- the operator: nothing at all (it runs the ``core_api.operator_*()`` functions, each one action
  that writes its own change records).

A column granted and not used fails here, as does one used and not granted.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pg8000.native
import pytest

from tests.support import factories as f
from wellapi.resources import RESOURCES, VIEWS, Resource
from wellapi.resources import tables as schema
from wellapi.roles import (
    API_ROLE,
    APP_ROLES,
    AUTH_ROLE,
    DEPLOYED_ROLES,
    DRAIN_ROLE,
    HEAL_ROLE,
    OPERATOR_ROLE,
    SYNC_ROLE,
)
from wellapi.sqltext.reads import compose_read, compose_total
from wellapi.sqltext.writes import compose_write
from wellapi.store.feed import expired_statement, page_statement
from wellapi.store.shapes import ReadShape, WriteShape
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

# What the sync writer's statements name (wellapi.sync.batches): the connectors and records a
# message names (id, workspace, live), the ledgers it writes and the receipts it keeps, and
# the tables that are the sync role's own: the unlinks' tombstones, the revocations and the
# sweeper's positions.
_LEDGERS = tuple(f.PROVENANCE_RECORD)


def _sync_uses() -> set[tuple[str, str]]:
    used = {
        (t, c.name)
        for t in (
            *_LEDGERS,
            "sync_receipts",
            "sync_tombstones",
            "connector_revocations",
            "revocation_sweeps",
            # The pruned positions retention keeps (wellapi.sync.retention).
            "change_feed_pruned",
        )
        for c in schema.metadata.tables[f"core_api.{t}"].columns
    }
    # Retention reads of the records what it deletes by and what it marks.
    used |= {("change_records", c) for c in ("pk", "xid", "workspace_pk", "sent_at")}
    for table in (*f.RECORD_TABLE.values(), "workspace_connectors"):
        id_column = schema.public_id_column(schema.metadata.tables[f"core_api.{table}"])
        used |= {(table, c) for c in ("pk", id_column, "workspace_pk", "deleted_at")}
    return used


_ALIASED = re.compile(rf"\b{schema.SCHEMA}\.(\w+) AS (\w+)")
_QUALIFIED = re.compile(rf"\b{schema.SCHEMA}\.(\w+)\.(\w+)\b")
_NAMED = re.compile(r"\b(\w+)\.(\w+|\*)")
_INSERTED = re.compile(rf"INSERT INTO {schema.SCHEMA}\.(\w+) \(([^)]*)\)")
_UPDATED = re.compile(rf"UPDATE {schema.SCHEMA}\.(\w+) SET (.*?) FROM checks")


def columns_of(text: str) -> set[tuple[str, str]]:
    """(table, column) of every column of ``core_api`` a composed statement names: through
    an alias of its table (``alias.*`` names them all), qualified, inserted or set."""
    aliases: dict[str, set[str]] = {}
    for table, alias in _ALIASED.findall(text):
        aliases.setdefault(alias, set()).add(table)
    found = set(_QUALIFIED.findall(text))
    for alias, column in _NAMED.findall(text):
        for table in aliases.get(alias, set()):
            columns = schema.table(table).c
            if column == "*":
                found |= {(table, c.name) for c in columns}
            elif column in columns:
                found.add((table, column))
    for table, columns in _INSERTED.findall(text):
        found |= {(table, c.strip()) for c in columns.split(",")}
    for table, assignments in _UPDATED.findall(text):
        found |= {(table, a.split("=")[0].strip()) for a in assignments.split(", ")}
    return found


def _read_shapes(resource: Resource) -> list[ReadShape]:
    rels = tuple(r.name for r in resource.relationships)
    enum = [a.name for a in resource.attributes if a.enum and a.name in resource.filters]
    enum_values = tuple(resource.attribute(enum[0]).enum) if enum else ()
    shapes = []
    for single, service in itertools.product((True, False), (False, True)):
        base = ReadShape(
            resource.key, single, include=rels, service=service, enum_values=enum_values
        )
        shapes.append(base)
        if single:
            continue
        shapes.append(
            ReadShape(
                resource.key,
                single,
                include=rels,
                sort=resource.sorts[-1],
                descending=False,
                attribute_filters=tuple((n, 1) for n in resource.filters),
                ranges=(("created_at", "gte"), ("updated_at", "lt")),
                cursor="after",
                service=service,
                enum_values=enum_values,
            )
        )
        shapes += [
            ReadShape(
                resource.key,
                single,
                include=rels,
                relationship_filters=((name, 2),),
                cursor="before",
                service=service,
                enum_values=enum_values,
            )
            for name in rels
        ]
    return shapes


def _write_shapes(resource: Resource) -> list[WriteShape]:
    creatable = tuple(sorted(a.name for a in resource.attributes if a.writable != "never"))
    updatable = tuple(sorted(a.name for a in resource.attributes if a.writable == "always"))
    related = tuple(sorted(r.name for r in resource.relationships if r.writable != "never"))
    shapes = []
    for service in (False, True):
        shapes += [
            WriteShape(resource.key, "create", creatable, related, (), service),
            WriteShape(resource.key, "update", updatable or creatable, (), (), service),
            WriteShape(resource.key, "delete", (), (), (), service),
            WriteShape(resource.key, "delete", (), (), (), service, target_by=related),
        ]
        if resource.key == "workspace_providers":
            shapes.append(
                WriteShape(resource.key, "create", creatable, related, (), service, upsert=True)
            )
    return shapes


def api_uses_in_statements() -> set[tuple[str, str]]:
    used: set[tuple[str, str]] = set()
    for resource in (*RESOURCES.values(), *VIEWS.values()):
        for shape in _read_shapes(resource):
            used |= columns_of(compose_read(shape)[0].text)
            if not shape.single:
                used |= columns_of(compose_total(shape).text)
    for resource in RESOURCES.values():
        for write in _write_shapes(resource):
            used |= columns_of(compose_write(write).template.text)
    return used


_FROM = re.compile(r"FROM core_api\.(\w+) (\w+)")


def policy_reads(admin: Any) -> set[tuple[str, str]]:
    """Columns the API role's policies read of tables other than their own (sub-selects)."""
    used = set()
    rows = admin.run(
        "SELECT tablename, coalesce(qual, '') || ' ' || coalesce(with_check, '') "
        "FROM pg_policies WHERE schemaname = 'core_api' AND :role = ANY(roles)",
        role=API_ROLE,
    )
    for _, text in rows:
        for table, alias in _FROM.findall(text):
            used |= {(table, c) for c in re.findall(rf"\b{alias}\.(\w+)", text)}
    return used


def readable(admin: Any, role: str) -> set[tuple[str, str]]:
    """The columns of ``core_api`` the role may read, but the transactions' settings, which
    every role's ``set_transaction_settings()`` reads (test_rls holds that table apart)."""
    rows = admin.run(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = CAST('core_api' AS regnamespace) AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition "
        "AND c.relname <> 'transaction_settings' "
        "AND a.attnum > 0 AND NOT a.attisdropped "
        "AND has_column_privilege(:role, c.oid, a.attnum, 'SELECT')",
        role=role,
    )
    return {(t, c) for t, c in rows}


# The changes feed's statements (wellapi.store.feed, written as text): the columns they name of
# the records (``r.``), of the pruned positions (``p.``) and of the workspace they read in.
_FEED_ALIASES = {"r": "change_records", "p": "change_feed_pruned"}


def feed_reads() -> set[tuple[str, str]]:
    statements = [
        page_statement(after=(1, 2), limit=2, pairs=pairs, sync_run_id=run)
        for pairs in (None, (("workspace_provider", "selected"),))
        for run in (None, "run")
    ]
    statements.append(expired_statement((1, 2)))
    used = {("workspaces", "workspace_id"), ("workspaces", "pk")}
    for statement in statements:
        for alias, column in re.findall(r"\b([rp])\.(\w+)", statement.text):
            used.add((_FEED_ALIASES[alias], column))
    return used


FEED_READS = feed_reads()


def test_the_api_role_reads_exactly_the_columns_the_api_uses(admin):
    used = api_uses_in_statements() | policy_reads(admin) | FEED_READS

    granted = readable(admin, API_ROLE)

    assert sorted(granted - used) == [], f"granted, never used: {sorted(granted - used)}"
    assert sorted(used - granted) == [], f"used, not granted: {sorted(used - granted)}"


def test_the_sync_role_reads_exactly_the_columns_the_writer_uses(admin):
    assert sorted(readable(admin, SYNC_ROLE) ^ _sync_uses()) == []


def executable(admin: Any, role: str) -> list[str]:
    """The functions and procedures of ``core_api`` and ``well_private`` the role may run
    (trigger functions aside: nobody calls them)."""
    rows = admin.run(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "WHERE has_function_privilege(:role, p.oid, 'EXECUTE') "
        "AND p.prorettype <> CAST('trigger' AS regtype) "
        "AND p.pronamespace IN (CAST('core_api' AS regnamespace), "
        "CAST('well_private' AS regnamespace)) ORDER BY 1",
        role=role,
    )
    return [f for (f,) in rows]


def test_the_authorizer_role_reads_nothing_and_may_only_check_a_key(admin):
    assert readable(admin, AUTH_ROLE) == set()
    # Set its transaction's settings, prove a key for this moment, then read the key that proof
    # was made with; the check of the statements its connection keeps prepared.
    assert executable(admin, AUTH_ROLE) == [
        "core_api.authenticate_key()",
        "core_api.check_prepared(text[],text[],text[])",
        "core_api.prove_key(text)",
        "core_api.set_transaction_settings()",
    ]


# What takes a credential's proof, or answers from one.
CREDENTIAL_FUNCTIONS = re.compile(r"core_api\.(set_scope|prove_\w+|authenticate_key)\(")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            API_ROLE,
            [
                "core_api.prove_scope(text)",
                "core_api.set_scope(uuid)",
            ],
        ),
        (SYNC_ROLE, []),
        (
            AUTH_ROLE,
            [
                "core_api.authenticate_key()",
                "core_api.prove_key(text)",
            ],
        ),
        (DRAIN_ROLE, []),
    ],
)
def test_only_the_api_role_opens_a_scope_and_only_the_authorizer_checks_a_key(
    admin, role, expected
):
    assert [f for f in executable(admin, role) if CREDENTIAL_FUNCTIONS.match(f)] == expected


@pytest.mark.parametrize("role", [API_ROLE, SYNC_ROLE, AUTH_ROLE, DRAIN_ROLE])
def test_no_application_role_reads_connector_credentials_or_api_keys(admin, role):
    granted = readable(admin, role)

    assert ("workspace_connectors", "config") not in granted
    assert not {c for t, c in granted if t == "api_keys"}


IDEMPOTENCY = (
    "core_api.claim_idempotency_key(text,text)",
    "core_api.remember_idempotent_answer(text,regclass,jsonb)",
)


@pytest.mark.parametrize("role", [API_ROLE, SYNC_ROLE, AUTH_ROLE, DRAIN_ROLE])
def test_kept_answers_are_reached_by_the_api_role_only_through_its_two_functions(admin, role):
    """No role touches ``well_private.idempotency_keys`` itself; the API role claims a key and
    keeps an answer for the principal its verified scope names, no other."""
    touched = admin.run(
        "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p "
        "WHERE has_table_privilege(:role, 'well_private.idempotency_keys', p)",
        role=role,
    )
    assert touched == []
    runs = [f.replace(", ", ",") for f in executable(admin, role) if "idempot" in f]
    assert runs == (list(IDEMPOTENCY) if role == API_ROLE else [])


# What the change drainer reads (wellapi.sync.drainer): the records an event carries and its
# walk names (not the actor's person: an event says the actor's kind), and the workspaces'
# public ids.
DRAIN_READS = {
    *(
        ("change_records", c)
        for c in (
            "pk",
            "xid",
            "workspace_pk",
            "resource_type",
            "change",
            "ids",
            "record_ids",
            "detail",
            "occurred_at",
            "recorded_at",
            "actor_kind",
            "sync_run_id",
            "message_key",
            "sent_at",
        )
    ),
    ("workspaces", "pk"),
    ("workspaces", "workspace_id"),
}


def test_the_drain_role_reads_the_records_and_workspace_ids_and_may_only_mark_sent(admin):
    assert sorted(readable(admin, DRAIN_ROLE) ^ DRAIN_READS) == []
    # Its transactions' settings, and ending the sessions that hold its lock or its horizon
    # past their role's timeouts; the check of the statements its connection keeps prepared.
    assert executable(admin, DRAIN_ROLE) == [
        "core_api.check_prepared(text[],text[],text[])",
        "core_api.end_stalled_sessions()",
        "core_api.set_transaction_settings()",
    ]
    written = admin.run(
        "SELECT c.relname, p FROM pg_class c, unnest(ARRAY['INSERT', 'DELETE', 'TRUNCATE']) p "
        "WHERE c.relnamespace = CAST('core_api' AS regnamespace) AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition "
        "AND has_table_privilege(:role, c.oid, p)",
        role=DRAIN_ROLE,
    )
    assert written == []
    updated = admin.run(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = CAST('core_api' AS regnamespace) AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition "
        "AND a.attnum > 0 AND NOT a.attisdropped "
        "AND has_column_privilege(:role, c.oid, a.attnum, 'UPDATE')",
        role=DRAIN_ROLE,
    )
    assert updated == [["change_records", "sent_at"]]


def change_record(admin: pg8000.native.Connection, *, sent: bool) -> int:
    """A change record of a workspace of its own (the test holds alone, whatever ran before
    it), sent or not; its pk."""
    return int(
        admin.run(
            "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
            "occurred_at, actor_kind, sent_at) VALUES (:w, 'workspace_provider', 'selected', "
            "ARRAY[gen_random_uuid()], now(), 'sweep', CASE WHEN :sent THEN now() END) "
            "RETURNING pk",
            w=f.tenant(admin).workspace_pk,
            sent=sent,
        )[0][0]
    )


def test_the_healer_reads_nothing_and_may_only_become_each_application_role(admin):
    """The healer sets the roles' own defaults back as each role: it may SET ROLE to each
    (which may change its own defaults and end its own sessions), inherits none of their
    rights, may grant none, and reads nothing of the schema; no application role is a member
    of it, nor of any other."""
    assert readable(admin, HEAL_ROLE) == set()
    assert executable(admin, HEAL_ROLE) == [
        "core_api.restore_role_defaults()",
        "core_api.role_defaults_to_restore()",
        "core_api.set_transaction_settings()",
    ]
    memberships = admin.run(
        "SELECT m.rolname, r.rolname, a.inherit_option, a.set_option, a.admin_option "
        "FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
        "JOIN pg_roles m ON m.oid = a.member "
        "WHERE (m.rolname = ANY (:roles) OR r.rolname = ANY (:roles)) "
        "AND r.rolname <> 'rds_iam' ORDER BY 1, 2",
        roles=list(DEPLOYED_ROLES),
    )
    assert memberships == [[HEAL_ROLE, role, False, True, False] for role in sorted(APP_ROLES)]
    assert powers(admin, HEAL_ROLE) == [[False] * 5]


def powers(admin: Any, role: str) -> list[list[Any]]:
    """What the role is beyond its grants: superuser, may create roles or databases, bypasses
    row-level security, replicates."""
    return list(
        admin.run(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = :role",
            role=role,
        )
    )


# What the operator may run: its actions, its transaction's settings and the check of the
# statements its connection keeps prepared.
OPERATOR_FUNCTIONS = [
    "core_api.check_prepared(text[],text[],text[])",
    "core_api.operator_add_person(uuid,text,text,uuid)",
    "core_api.operator_add_workspace_connector(uuid,text,text,text,uuid)",
    "core_api.operator_issue_key(uuid,uuid,text,text,text,bytea,integer)",
    "core_api.operator_make_workspace(text,uuid)",
    "core_api.operator_revoke_key(uuid,text)",
    "core_api.operator_rotate_key(uuid,text,text,bytea,integer)",
    "core_api.set_transaction_settings()",
]


def test_the_operator_reads_nothing_and_may_only_run_its_actions(admin):
    assert readable(admin, OPERATOR_ROLE) == set()
    assert executable(admin, OPERATOR_ROLE) == OPERATOR_FUNCTIONS
    written = admin.run(
        "SELECT c.oid::regclass::text, p FROM pg_class c, "
        "unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p "
        "WHERE c.relnamespace IN (CAST('core_api' AS regnamespace), "
        "CAST('well_private' AS regnamespace)) AND c.relkind IN ('r', 'p') "
        "AND has_table_privilege(:role, c.oid, p)",
        role=OPERATOR_ROLE,
    )
    assert written == []
    assert powers(admin, OPERATOR_ROLE) == [[False] * 5]


# What SQL running as the operator might try instead of its actions: each refused (42501).
OPERATOR_REFUSED = [
    "SELECT * FROM core_api.api_keys",
    "SELECT * FROM core_api.workspaces",
    "SELECT * FROM core_api.change_records",
    "SELECT * FROM well_private.scope_keys",
    "INSERT INTO core_api.workspaces (name) VALUES ('x')",
    "UPDATE core_api.api_keys SET revoked_at = NULL",
    "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, occurred_at, "
    "actor_kind) VALUES (1, 'api_key', 'issued', ARRAY[gen_random_uuid()], now(), 'operator')",
    "SELECT well_private.record_operator_change(1, 'api_key', 'issued', gen_random_uuid(), '{}')",
    "SELECT well_private.insert_api_key(1, 1, 'service', 'x', 'aaaaaaaaaaaa', "
    "sha256('x'), NULL, NULL)",
    "SELECT * FROM core_api.authenticate_key()",
    "SELECT * FROM core_api.set_scope(gen_random_uuid())",
    "SET ROLE well_api",
    "CREATE TABLE core_api.x (id int)",
    "CREATE TEMPORARY TABLE x (id int)",
]


@pytest.mark.parametrize("statement", OPERATOR_REFUSED)
def test_the_operator_with_sql_of_its_own_can_do_nothing_else(database, statement):
    conn = local_db.admin_connection(database.url_for(OPERATOR_ROLE))
    try:
        with pytest.raises(pg8000.native.DatabaseError) as refused:
            conn.run(statement)
        assert refused.value.args[0]["C"] == "42501", refused.value.args[0]["M"]
    finally:
        conn.close()


def test_the_drain_role_cannot_make_a_sent_record_unsent(admin, database):
    pk = change_record(admin, sent=True)
    drain = local_db.admin_connection(database.url_for(DRAIN_ROLE))
    try:
        # A sent record is not the drainer's to update at all (the policy's USING)...
        assert (
            drain.run(
                "UPDATE core_api.change_records SET sent_at = NULL WHERE pk = :pk RETURNING pk",
                pk=pk,
            )
            == []
        )
        admin.run("UPDATE core_api.change_records SET sent_at = NULL WHERE pk = :pk", pk=pk)
        # ... and an unsent one may only be given a time (WITH CHECK).
        with pytest.raises(pg8000.native.DatabaseError) as refused:
            drain.run("UPDATE core_api.change_records SET sent_at = NULL WHERE pk = :pk", pk=pk)
        assert refused.value.args[0]["C"] == "42501"
    finally:
        drain.close()
        admin.run("UPDATE core_api.change_records SET sent_at = now() WHERE pk = :pk", pk=pk)


# Every change well_drain might try on an unsent record, but the one it makes (#42): each is
# refused, whatever SQL it runs.
DRAIN_REFUSED = {
    "sent long ago (prunable at once)": "SET sent_at = now() - interval '400 days'",
    "sent before its transaction began": "SET sent_at = now() - interval '1 second'",
    "sent in the future": "SET sent_at = clock_timestamp() + interval '1 hour'",
    "another column": "SET xid = xid",
    "the record's workspace": "SET workspace_pk = workspace_pk",
}


def test_the_drain_role_may_only_mark_an_unsent_record_sent_in_its_own_transaction(admin, database):
    pk = change_record(admin, sent=False)
    drain = local_db.admin_connection(database.url_for(DRAIN_ROLE))
    refused: dict[str, str] = {}
    try:
        for name, change in DRAIN_REFUSED.items():
            try:
                drain.run(f"UPDATE core_api.change_records {change} WHERE pk = :pk", pk=pk)
                refused[name] = "allowed"
            except pg8000.native.DatabaseError as error:
                refused[name] = error.args[0]["C"]
        for name, statement in (
            ("a deletion", "DELETE FROM core_api.change_records WHERE pk = :pk"),
            (
                "a record of its own",
                "INSERT INTO core_api.change_records (workspace_pk) VALUES (:pk)",
            ),
        ):
            try:
                drain.run(statement, pk=pk)
                refused[name] = "allowed"
            except pg8000.native.DatabaseError as error:
                refused[name] = error.args[0]["C"]
        # The one change it makes: marked sent now, in a transaction of its own.
        drain.run("BEGIN")
        marked = drain.run(
            "UPDATE core_api.change_records SET sent_at = clock_timestamp() "
            "WHERE pk = :pk AND sent_at IS NULL RETURNING sent_at >= now()",
            pk=pk,
        )
        drain.run("ROLLBACK")
    finally:
        drain.close()
        admin.run("DELETE FROM core_api.change_records WHERE pk = :pk", pk=pk)
    assert refused == dict.fromkeys([*DRAIN_REFUSED, "a deletion", "a record of its own"], "42501")
    assert marked == [[True]]
