"""The migrated schema, read from pg_catalog / information_schema (never from the models).

What the spec pages and the platform conventions promise, checked where PostgreSQL keeps it:
enums and their labels, keys, defaults, NOT NULL, indexes with their predicates, CHECKs, foreign
key actions, the trigger that keeps ``updated_at``, and the roles the application connects as.
The behaviour behind the most important rules is exercised with plain SQL too, inside
transactions that are rolled back (or, for the timestamp trigger, on rows removed afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import pg8000.native
import pytest

from wellapi.errors import sqlstate_of
from welldev import database as local_db

SCHEMA = "core_api"

# table -> its public UUID column
TABLES = {
    "workspaces": "workspace_id",
    "peoples": "person_id",
    "workspace_groups": "workspace_group_id",
    "workspace_group_memberships": "workspace_group_membership_id",
    "memberships": "membership_id",
    "connectors": "connector_id",
    "workspace_connectors": "workspace_connector_id",
    "accounts": "account_id",
    "companies": "company_id",
    "providers": "provider_id",
    "account_workspace_connectors": "account_workspace_connector_id",
    "company_workspace_connectors": "company_workspace_connector_id",
    "people_workspace_connectors": "people_workspace_connector_id",
    "workspace_group_workspaces": "workspace_group_workspace_id",
    "workspace_providers": "workspace_provider_id",
}

# provenance junction -> (record foreign key, record table)
PROVENANCE = {
    "account_workspace_connectors": ("account_pk", "accounts"),
    "company_workspace_connectors": ("company_pk", "companies"),
    "people_workspace_connectors": ("people_pk", "peoples"),
}

ENUMS = {
    "direction_enum": ["input", "output"],
    "workspace_group_role_enum": ["owner", "admin", "member", "guest"],
    "membership_role_enum": ["owner", "admin", "member", "viewer"],
    "membership_status_enum": ["pending", "active"],
    "connector_provider_enum": ["apideck", "chift", "well", "plaid_eu", "plaid_us"],
    "workspace_connector_status_enum": [
        "enabled",
        "disabled",
        "to_configure",
        "processing",
        "error",
        "need_reconnect",
        "suspended",
    ],
    "account_type_enum": ["deposit", "credit", "loan", "investment", "payroll", "other"],
    "provider_category_enum": [
        "Finance",
        "Accounting",
        "Productivity",
        "CRM & Marketing",
        "Dev & Infra",
        "Telecom",
        "Travel & Logistics",
        "E-commerce & Retail",
        "Media & Subscriptions",
        "General",
    ],
}

APP_ROLES = ("well_api", "well_sync")

# pg_trigger.tgtype bits
ROW, BEFORE, INSERT, DELETE, UPDATE, TRUNCATE = 1, 2, 4, 8, 16, 32
# pg_constraint foreign key actions
NO_ACTION, RESTRICT, CASCADE, SET_NULL = "a", "r", "c", "n"


# --- catalog readers ------------------------------------------------------------------------


def columns(conn: pg8000.native.Connection, table: str) -> dict[str, dict[str, Any]]:
    rows = conn.run(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity
          FROM pg_attribute a
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped
        """,
        t=f"{SCHEMA}.{table}",
    )
    return {
        name: {"type": type_, "not_null": not_null, "default": default, "identity": identity}
        for name, type_, not_null, default, identity in rows
    }


def column(type_: str, *, not_null: bool, default: str | None = None) -> dict[str, Any]:
    """A ``columns()`` entry for a plain (non-identity) column."""
    return {"type": type_, "not_null": not_null, "default": default, "identity": ""}


def indexes(conn: pg8000.native.Connection, table: str) -> list[dict[str, Any]]:
    rows = conn.run(
        """
        SELECT i.relname,
               ARRAY(SELECT a.attname
                       FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, position)
                       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                      ORDER BY k.position),
               x.indisunique, x.indisprimary, pg_get_expr(x.indpred, x.indrelid),
               x.indexprs IS NOT NULL
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indrelid = CAST(:t AS regclass)
        """,
        t=f"{SCHEMA}.{table}",
    )
    return [
        {
            "name": name,
            "columns": tuple(cols),
            "unique": unique,
            "primary": primary,
            "predicate": predicate,
            "expressions": expressions,
        }
        for name, cols, unique, primary, predicate, expressions in rows
    ]


def foreign_keys(conn: pg8000.native.Connection, table: str) -> dict[str, dict[str, Any]]:
    rows = conn.run(
        """
        SELECT ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                      ORDER BY k.o),
               c.confrelid::regclass::text,
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
                       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                      ORDER BY k.o),
               c.confupdtype, c.confdeltype
          FROM pg_constraint c
         WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'f'
        """,
        t=f"{SCHEMA}.{table}",
    )
    keys: dict[str, dict[str, Any]] = {}
    for cols, target, target_cols, on_update, on_delete in rows:
        assert len(cols) == 1, f"unexpected composite foreign key on {table}: {cols}"
        keys[cols[0]] = {
            "references": f"{target}({', '.join(target_cols)})",
            "on_update": on_update,
            "on_delete": on_delete,
        }
    return keys


def check_constraints(conn: pg8000.native.Connection, table: str) -> dict[str, str]:
    rows = conn.run(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype = 'c'",
        t=f"{SCHEMA}.{table}",
    )
    return dict(rows)


def squeeze(sql: str) -> str:
    """SQL text without parentheses, spaces or case: enough to compare deparsed expressions."""
    return "".join(ch for ch in sql.lower() if ch not in "() \n\t")


def sqlstate(conn: pg8000.native.Connection, sql: str, **params: Any) -> str | None:
    """Run ``sql`` inside a savepoint; the SQLSTATE it failed with, or None if it succeeded."""
    conn.run("SAVEPOINT probe")
    try:
        conn.run(sql, **params)
    except pg8000.native.DatabaseError as error:
        conn.run("ROLLBACK TO SAVEPOINT probe")
        return sqlstate_of(error)
    conn.run("RELEASE SAVEPOINT probe")
    return None


@contextmanager
def rolled_back(conn: pg8000.native.Connection) -> Iterator[pg8000.native.Connection]:
    conn.run("BEGIN")
    try:
        yield conn
    finally:
        conn.run("ROLLBACK")


def one(conn: pg8000.native.Connection, sql: str, **params: Any) -> Any:
    return conn.run(sql, **params)[0][0]


# --- rows in every table, committed (the timestamp trigger needs separate transactions) ------


@pytest.fixture(scope="module")
def graph(database: local_db.LocalDatabase) -> Iterator[tuple[pg8000.native.Connection, dict]]:
    """One live row in each of the fifteen tables, linked as the platform links them."""
    conn = local_db.admin_connection(database.admin_url)
    pks: dict[str, int] = {}

    def insert(table: str, columns_values: str, **params: Any) -> int:
        pks[table] = one(
            conn, f"INSERT INTO {SCHEMA}.{table} {columns_values} RETURNING pk", **params
        )
        return pks[table]

    try:
        w = insert("workspaces", "(name) VALUES ('catalog probe')")
        p = insert("peoples", "(workspace_pk, full_name) VALUES (:w, 'Catalog Probe')", w=w)
        g = insert("workspace_groups", "(name, created_by_pk) VALUES ('probe', :p)", p=p)
        insert(
            "workspace_group_memberships",
            "(person_pk, workspace_group_pk) VALUES (:p, :g)",
            p=p,
            g=g,
        )
        insert("memberships", "(workspace_pk, person_pk) VALUES (:w, :p)", w=w, p=p)
        c = insert("connectors", "(name, provider) VALUES ('probe', 'well')")
        wc = insert(
            "workspace_connectors", "(workspace_pk, connector_pk) VALUES (:w, :c)", w=w, c=c
        )
        a = insert("accounts", "(workspace_pk) VALUES (:w)", w=w)
        co = insert("companies", "(workspace_pk, name) VALUES (:w, 'Probe Ltd')", w=w)
        pr = insert("providers", "(name, slug) VALUES ('Probe', :s)", s=f"probe-{uuid4()}")
        for table, (record_pk, _) in PROVENANCE.items():
            record = {"account_pk": a, "company_pk": co, "people_pk": p}[record_pk]
            insert(
                table,
                f"({record_pk}, workspace_connector_pk, direction) VALUES (:r, :wc, 'input')",
                r=record,
                wc=wc,
            )
        insert(
            "workspace_group_workspaces",
            "(workspace_group_pk, workspace_pk, created_by_pk) VALUES (:g, :w, :p)",
            g=g,
            w=w,
            p=p,
        )
        insert("workspace_providers", "(workspace_pk, provider_pk) VALUES (:w, :pr)", w=w, pr=pr)
        assert set(pks) == set(TABLES)
        yield conn, pks
    finally:
        for table, pk in reversed(pks.items()):
            conn.run(f"DELETE FROM {SCHEMA}.{table} WHERE pk = :pk", pk=pk)
        conn.close()


# --- conventions of every table -------------------------------------------------------------


def test_schema_core_api_holds_the_five_junctions_and_their_parents(admin):
    rows = admin.run(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = :s AND table_type = 'BASE TABLE'",
        s=SCHEMA,
    )
    assert set(TABLES) <= {name for (name,) in rows}


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_an_identity_pk_as_its_primary_key(admin, table):
    pk = columns(admin, table)["pk"]
    assert pk["type"] == "bigint"
    assert pk["not_null"] is True
    assert pk["identity"] in ("a", "d")  # GENERATED ALWAYS / BY DEFAULT AS IDENTITY
    assert pk["default"] is None  # not a serial: no nextval() default
    primary = [ix for ix in indexes(admin, table) if ix["primary"]]
    # A ledger is partitioned on its public id, which every unique key of it must then hold.
    key = ("pk", TABLES[table]) if table in PROVENANCE else ("pk",)
    assert [ix["columns"] for ix in primary] == [key]


@pytest.mark.parametrize(("table", "public_id"), TABLES.items())
def test_every_table_has_a_unique_random_public_uuid(admin, table, public_id):
    # The ledgers' ids are random too, after 48 bits of time (UUIDv7).
    default = "core_api.uuid_v7()" if table in PROVENANCE else "gen_random_uuid()"
    assert columns(admin, table)[public_id] == column("uuid", not_null=True, default=default)
    unique_on_it = [
        ix
        for ix in indexes(admin, table)
        if ix["unique"] and ix["columns"] == (public_id,) and ix["predicate"] is None
    ]
    assert len(unique_on_it) == 1


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_created_updated_and_deleted_timestamps(admin, table):
    cols = columns(admin, table)
    timestamp = "timestamp with time zone"
    # A ledger row's created_at is its id's time, set from it (test_ledger_periods).
    made = None if table in PROVENANCE else "now()"
    assert cols["created_at"] == column(timestamp, not_null=True, default=made)
    assert cols["updated_at"] == column(timestamp, not_null=False)
    assert cols["deleted_at"] == column(timestamp, not_null=False)


def test_every_table_with_updated_at_has_the_touch_trigger(admin):
    tables = admin.run(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = :s AND column_name = 'updated_at'",
        s=SCHEMA,
    )
    with_column = {name for (name,) in tables}
    assert set(TABLES) <= with_column
    for table in sorted(with_column):
        triggers = admin.run(
            """
            SELECT t.tgtype, t.tgenabled, t.tgfoid::regprocedure::text, t.tgargs
              FROM pg_trigger t
             WHERE t.tgrelid = CAST(:t AS regclass) AND NOT t.tgisinternal
               AND t.tgfoid = CAST('core_api.touch_row()' AS regprocedure)
            """,
            t=f"{SCHEMA}.{table}",
        )
        assert len(triggers) == 1, f"{table}: {triggers}"
        (tgtype, enabled, function, args) = triggers[0]
        assert tgtype & (ROW | BEFORE | INSERT | UPDATE) == ROW | BEFORE | INSERT | UPDATE, table
        assert tgtype & (DELETE | TRUNCATE) == 0, table
        assert enabled in ("O", "A"), table
        assert function == "core_api.touch_row()"
        if table in TABLES:  # the argument names the column the trigger keeps immutable
            assert args.split(b"\x00")[0].decode() == TABLES[table], table


@pytest.mark.parametrize("table", TABLES)
def test_plain_sql_update_moves_updated_at_and_keeps_created_at(graph, table):
    conn, pks = graph
    select = f"SELECT created_at, updated_at FROM {SCHEMA}.{table} WHERE pk = :pk"
    ((created, updated),) = conn.run(select, pk=pks[table])
    assert updated == created  # set on insert

    # Not through the ORM: plain SQL, even one that tries to rewrite created_at.
    conn.run(
        f"UPDATE {SCHEMA}.{table} SET created_at = '2000-01-01', deleted_at = NULL WHERE pk = :pk",
        pk=pks[table],
    )

    ((created_after, updated_after),) = conn.run(select, pk=pks[table])
    assert created_after == created
    assert updated_after > updated


@pytest.mark.parametrize(("table", "public_id"), TABLES.items())
def test_public_uuid_cannot_be_changed(graph, table, public_id):
    conn, pks = graph
    with rolled_back(conn):
        state = sqlstate(
            conn,
            f"UPDATE {SCHEMA}.{table} SET {public_id} = gen_random_uuid() WHERE pk = :pk",
            pk=pks[table],
        )
    assert state == "23000"  # integrity_constraint_violation


# --- enums ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "labels"), ENUMS.items())
def test_enum_exists_in_core_api_with_exactly_these_labels_in_order(admin, name, labels):
    rows = admin.run(
        """
        SELECT e.enumlabel
          FROM pg_enum e
          JOIN pg_type t ON t.oid = e.enumtypid
          JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = :s AND t.typname = :name
         ORDER BY e.enumsortorder
        """,
        s=SCHEMA,
        name=name,
    )
    assert [label for (label,) in rows] == labels


@pytest.mark.parametrize(
    ("table", "column", "enum", "default"),
    [
        ("providers", "category", "provider_category_enum", "'General'"),
        ("workspace_group_memberships", "role", "workspace_group_role_enum", "'member'"),
        ("memberships", "role", "membership_role_enum", None),
        ("memberships", "status", "membership_status_enum", None),
        ("connectors", "provider", "connector_provider_enum", None),
        ("workspace_connectors", "status", "workspace_connector_status_enum", None),
        ("accounts", "type", "account_type_enum", None),
    ],
)
def test_parent_enum_columns_use_the_native_enums(admin, table, column, enum, default):
    col = columns(admin, table)[column]
    assert col["type"] == f"{SCHEMA}.{enum}"
    assert col["not_null"] is True
    if default is not None:  # the defaults the platform documents
        assert col["default"] == f"{default}::{SCHEMA}.{enum}"


# --- the three provenance junctions ---------------------------------------------------------


@pytest.mark.parametrize(("table", "record"), PROVENANCE.items())
def test_provenance_junction_columns_and_shared_direction_enum(admin, table, record):
    record_pk, _ = record
    cols = columns(admin, table)

    assert set(cols) == {
        "pk",
        TABLES[table],
        record_pk,
        "workspace_connector_pk",
        "direction",
        "created_at",
        "updated_at",
        "deleted_at",
        # When the link happened, as its sync message said; NULL over HTTP.
        "occurred_at",
    }
    assert "workspace_pk" not in cols  # scope comes through both parents
    assert cols["occurred_at"]["not_null"] is False
    assert cols["direction"] == column("core_api.direction_enum", not_null=True)
    for fk in (record_pk, "workspace_connector_pk"):
        assert (cols[fk]["type"], cols[fk]["not_null"]) == ("bigint", True)


@pytest.mark.parametrize(("table", "record"), PROVENANCE.items())
def test_provenance_foreign_keys_cascade_on_update(admin, table, record):
    record_pk, record_table = record

    assert foreign_keys(admin, table) == {
        record_pk: {
            "references": f"{SCHEMA}.{record_table}(pk)",
            "on_update": CASCADE,
            "on_delete": NO_ACTION,
        },
        "workspace_connector_pk": {
            "references": f"{SCHEMA}.workspace_connectors(pk)",
            "on_update": CASCADE,
            "on_delete": NO_ACTION,
        },
    }


@pytest.mark.parametrize(("table", "record"), PROVENANCE.items())
def test_provenance_has_the_two_time_range_indexes_and_no_unique_triple(admin, table, record):
    record_pk, _ = record
    found = indexes(admin, table)
    plain = {
        ix["columns"]
        for ix in found
        if not ix["unique"] and ix["predicate"] is None and not ix["expressions"]
    }

    # In time order: a ledger's id is its time (test_ledger_periods).
    assert (record_pk, TABLES[table]) in plain
    assert ("workspace_connector_pk", TABLES[table]) in plain
    # The only unique keys are the internal and the public id: several rows per
    # (record, connector, direction) are the ledger working as designed.
    assert sorted(ix["columns"] for ix in found if ix["unique"]) == sorted(
        [("pk", TABLES[table]), (TABLES[table],)]
    )


@pytest.mark.parametrize("table", list(PROVENANCE))
def test_a_ledger_has_no_index_of_updated_at_and_walks_created_at_only(admin, table):
    # A ledger sorts by created_at only (what changed since a time is GET /v1/changes): no
    # write keeps an index of updated_at, in its columns, expressions or predicate.
    of_updated_at = admin.run(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = CAST(:t AS regclass) "
        "AND pg_get_indexdef(x.indexrelid) LIKE '%updated_at%'",
        t=f"{SCHEMA}.{table}",
    )
    walks = {ix["name"] for ix in indexes(admin, table) if ix["predicate"] is not None}

    assert of_updated_at == []
    # The walk indexes: per connector and direction, and per record, each in id order (its
    # time's).
    assert walks == {f"idx_{table}_wc_input", f"idx_{table}_wc_output", f"idx_{table}_record_live"}


def test_provenance_rows_repeat_and_follow_their_parents_keys(graph):
    conn, pks = graph
    with rolled_back(conn):
        again = (
            "INSERT INTO core_api.account_workspace_connectors "
            "(account_pk, workspace_connector_pk, direction) VALUES (:a, :wc, 'input')"
        )
        assert sqlstate(conn, again, a=pks["accounts"], wc=pks["workspace_connectors"]) is None
        assert sqlstate(conn, again.replace("'input'", "'sideways'"), a=0, wc=0) == "22P02"

        conn.run(
            "UPDATE core_api.accounts SET pk = pk + 1000000000 WHERE pk = :pk",
            pk=pks["accounts"],
        )
        conn.run(
            "UPDATE core_api.workspace_connectors SET pk = pk + 1000000000 WHERE pk = :pk",
            pk=pks["workspace_connectors"],
        )

        followed = conn.run(
            "SELECT count(*) FROM core_api.account_workspace_connectors "
            "WHERE account_pk = :a AND workspace_connector_pk = :wc",
            a=pks["accounts"] + 1000000000,
            wc=pks["workspace_connectors"] + 1000000000,
        )
        assert followed == [[2]]
        for table in ("company_workspace_connectors", "people_workspace_connectors"):
            moved = one(
                conn,
                f"SELECT workspace_connector_pk FROM core_api.{table} WHERE pk = :pk",
                pk=pks[table],
            )
            assert moved == pks["workspace_connectors"] + 1000000000


# --- workspace_group_workspaces -------------------------------------------------------------


def test_group_enrolment_foreign_keys_restrict_deletes_and_forget_the_creator(admin):
    cols = columns(admin, "workspace_group_workspaces")

    assert foreign_keys(admin, "workspace_group_workspaces") == {
        "workspace_group_pk": {
            "references": "core_api.workspace_groups(pk)",
            "on_update": NO_ACTION,
            "on_delete": RESTRICT,
        },
        "workspace_pk": {
            "references": "core_api.workspaces(pk)",
            "on_update": NO_ACTION,
            "on_delete": RESTRICT,
        },
        "created_by_pk": {
            "references": "core_api.peoples(pk)",
            "on_update": NO_ACTION,
            "on_delete": SET_NULL,
        },
    }
    assert cols["created_by_pk"]["not_null"] is False
    assert cols["workspace_group_pk"]["not_null"] is True
    assert cols["workspace_pk"]["not_null"] is True


def test_group_enrolment_is_unique_among_live_rows_only(admin):
    found = indexes(admin, "workspace_group_workspaces")
    pair = ("workspace_group_pk", "workspace_pk")

    live_unique = [ix for ix in found if ix["unique"] and ix["columns"] == pair]
    assert [(ix["name"], squeeze(ix["predicate"] or "")) for ix in live_unique] == [
        ("workspace_group_workspaces_group_workspace_active_unique", "deleted_atisnull")
    ]
    # No unconditional unique key over the pair (or any part of it) survives.
    assert not [
        ix
        for ix in found
        if ix["unique"] and ix["predicate"] is None and set(ix["columns"]) & set(pair)
    ]


def server_version(conn: pg8000.native.Connection) -> int:
    return int(conn.run("SHOW server_version_num")[0][0])


def test_group_enrolment_rules_hold_for_plain_sql(graph):
    conn, pks = graph
    g, w = pks["workspace_groups"], pks["workspaces"]
    enrol = (
        "INSERT INTO core_api.workspace_group_workspaces "
        "(workspace_group_pk, workspace_pk, created_by_pk) VALUES (:g, :w, :p)"
    )
    with rolled_back(conn):
        assert sqlstate(conn, enrol, g=g, w=w, p=None) == "23505"  # one live row per pair
        conn.run(
            "UPDATE core_api.workspace_group_workspaces SET deleted_at = now() WHERE pk = :pk",
            pk=pks["workspace_group_workspaces"],
        )
        assert sqlstate(conn, enrol, g=g, w=w, p=None) is None  # re-add after a soft delete

        # Neither parent of an enrolment can be deleted. PostgreSQL 18 reports RESTRICT as
        # restrict_violation, older majors with the foreign key SQLSTATE; the catalog test above
        # tells RESTRICT from NO ACTION either way.
        restrict = "23001" if server_version(conn) >= 180000 else "23503"
        w2 = one(conn, "INSERT INTO core_api.workspaces (name) VALUES ('w2') RETURNING pk")
        g2 = one(conn, "INSERT INTO core_api.workspace_groups (name) VALUES ('g2') RETURNING pk")
        p2 = one(
            conn,
            "INSERT INTO core_api.peoples (workspace_pk, full_name) VALUES (:w, 'P2') RETURNING pk",
            w=w,
        )
        conn.run(enrol, g=g2, w=w2, p=p2)
        assert sqlstate(conn, "DELETE FROM core_api.workspaces WHERE pk = :pk", pk=w2) == restrict
        assert sqlstate(conn, "DELETE FROM core_api.workspace_groups WHERE pk = :pk", pk=g2) == (
            restrict
        )
        # SET NULL: deleting the person who enrolled it keeps the enrolment.
        conn.run("DELETE FROM core_api.peoples WHERE pk = :pk", pk=p2)
        assert conn.run(
            "SELECT created_by_pk FROM core_api.workspace_group_workspaces "
            "WHERE workspace_group_pk = :g AND workspace_pk = :w",
            g=g2,
            w=w2,
        ) == [[None]]


# --- workspace_providers --------------------------------------------------------------------


def test_workspace_provider_flags_check_and_live_uniqueness(admin):
    cols = columns(admin, "workspace_providers")
    for flag in ("is_selected", "is_matched"):
        assert cols[flag] == column("boolean", not_null=True, default="false")

    checks = check_constraints(admin, "workspace_providers")
    checks = {name: squeeze(body) for name, body in checks.items()}
    assert checks == {
        "workspace_providers_selected_implies_matched": "checknotis_selectedoris_matched"
    }

    found = indexes(admin, "workspace_providers")
    pair = ("workspace_pk", "provider_pk")
    assert [
        (ix["name"], squeeze(ix["predicate"] or ""))
        for ix in found
        if ix["unique"] and ix["columns"] == pair
    ] == [("workspace_providers_workspace_provider_active_unique", "deleted_atisnull")]
    assert not [
        ix
        for ix in found
        if ix["unique"] and ix["predicate"] is None and set(ix["columns"]) & set(pair)
    ]
    assert foreign_keys(admin, "workspace_providers") == {
        "workspace_pk": {
            "references": "core_api.workspaces(pk)",
            "on_update": NO_ACTION,
            "on_delete": NO_ACTION,
        },
        "provider_pk": {
            "references": "core_api.providers(pk)",
            "on_update": NO_ACTION,
            "on_delete": NO_ACTION,
        },
    }


def test_workspace_provider_rules_hold_for_plain_sql(graph):
    conn, pks = graph
    w = pks["workspaces"]
    add = (
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched) VALUES (:w, :p, :selected, :matched)"
    )
    soft_delete = (
        "UPDATE core_api.workspace_providers SET deleted_at = now() WHERE provider_pk = :p"
    )
    with rolled_back(conn):
        p2 = one(
            conn,
            "INSERT INTO core_api.providers (name, slug) VALUES ('P2', :s) RETURNING pk",
            s=f"probe-{uuid4()}",
        )
        flags = conn.run(
            "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk) "
            "VALUES (:w, :p) RETURNING is_selected, is_matched",
            w=w,
            p=p2,
        )
        assert flags == [[False, False]]
        conn.run(soft_delete, p=p2)

        # Selected implies matched.
        assert sqlstate(conn, add, w=w, p=p2, selected=True, matched=False) == "23514"
        assert sqlstate(conn, add, w=w, p=p2, selected=True, matched=True) is None
        # One live row per (workspace, provider); soft-deleted ones do not count.
        assert sqlstate(conn, add, w=w, p=p2, selected=False, matched=True) == "23505"
        conn.run(soft_delete, p=p2)
        assert sqlstate(conn, add, w=w, p=p2, selected=False, matched=True) is None
        count = "SELECT count(*) FROM core_api.workspace_providers WHERE provider_pk = :p"
        assert one(conn, count, p=p2) == 3


# --- roles ----------------------------------------------------------------------------------


def test_application_roles_exist_without_superuser_or_bypassrls(admin):
    rows = admin.run(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin "
        "FROM pg_roles WHERE rolname IN ('well_api', 'well_sync') ORDER BY rolname"
    )
    assert rows == [
        ["well_api", False, False, False, False, True],
        ["well_sync", False, False, False, False, True],
    ]


@pytest.mark.parametrize("role", APP_ROLES)
def test_application_roles_own_no_objects(admin, role):
    owned = admin.run(
        """
        SELECT s.classid::regclass::text, s.objid
          FROM pg_shdepend s
         WHERE s.refobjid = CAST(:r AS regrole) AND s.deptype = 'o'
           AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
        """,
        r=role,
    )
    assert owned == []
    for catalog, owner in (
        ("pg_class", "relowner"),
        ("pg_namespace", "nspowner"),
        ("pg_proc", "proowner"),
        ("pg_type", "typowner"),
    ):
        count = one(
            admin, f"SELECT count(*) FROM {catalog} WHERE {owner} = CAST(:r AS regrole)", r=role
        )
        assert count == 0, f"{role} owns {count} rows of {catalog}"
    # The objects belong to the migration owner.
    schema_owner = "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = :s"
    assert one(admin, schema_owner, s=SCHEMA) == one(admin, "SELECT current_user")


def test_api_role_cannot_delete_or_truncate_any_table(admin):
    relations = """
        SELECT c.oid::regclass::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%%'
    """
    deletable = admin.run(
        f"{relations} AND (has_table_privilege('well_api', c.oid, 'DELETE') "
        "OR has_table_privilege('well_api', c.oid, 'TRUNCATE'))"
    )
    assert deletable == []
    grants = admin.run(
        "SELECT table_schema, table_name FROM information_schema.role_table_grants "
        "WHERE grantee = 'well_api' AND privilege_type IN ('DELETE', 'TRUNCATE')"
    )
    assert grants == []
    # The query is not vacuous: the role does read the schema, and the owner may delete.
    readable = admin.run(f"{relations} AND has_any_column_privilege('well_api', c.oid, 'SELECT')")
    # Every table but the connector catalog, which the API never reads (no grant on it).
    served = {f"{SCHEMA}.{t}" for t in TABLES} - {f"{SCHEMA}.connectors"}
    assert served <= {name for (name,) in readable}
    assert one(admin, "SELECT has_table_privilege('core_api.workspaces', 'DELETE')") is True


def test_api_role_has_server_side_timeouts_in_this_database(admin):
    rows = admin.run(
        """
        SELECT s.setconfig
          FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
         WHERE s.setrole = CAST('well_api' AS regrole) AND d.datname = current_database()
        """
    )
    assert len(rows) == 1
    settings = dict(item.split("=", 1) for item in rows[0][0])
    assert settings["statement_timeout"] == "5s"
    assert "lock_timeout" in settings
    assert "idle_in_transaction_session_timeout" in settings


def test_every_table_a_resource_names_exists_with_that_public_id_column():
    # The resources name tables as plain strings (no SQLAlchemy at cold start); the schema,
    # which the migrations are compared with, must hold each under that name and id column.
    from wellapi import resources
    from wellapi.resources import tables as schema

    refs = {p.table for p in resources.PARENTS.values()}
    refs |= {r.table for r in (*resources.RESOURCES.values(), *resources.VIEWS.values())}
    # Every resource's table, and every parent's: the catalog's workspace_provider is a parent
    # whose table is a resource's, and the catalog view reads it too.
    assert len(refs) == len(resources.RESOURCES) + len(resources.PARENTS) - 1
    for ref in refs:
        assert schema.public_id_column(schema.table(ref.name)) == ref.id_column, ref
