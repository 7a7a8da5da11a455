"""Alembic: the migrations build the schema from nothing, undo it, redo it; the tables match.

The round trips run on a throwaway database of their own. The drift check compares the tables
of ``wellapi.resources.tables`` (the one definition the runtime builds SQL from, and Alembic's
metadata) with the session's migrated database using Alembic's autogenerate comparison, made strict
(types, server defaults), plus what autogenerate does not look at: partial index predicates,
CHECK constraints and enum labels. Its own strictness is tested by changing a copy of the tables
in each way that must be caught.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Enum,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import DefaultClause

from tests.support.plans import PERIOD
from wellapi.domain import SCHEMA
from wellapi.handlers import migration as migrate
from wellapi.handlers.migration import migration_engine
from wellapi.resources import tables as schema
from wellapi.settings import Settings
from welldev import database as local_db

ROOT = Path(__file__).resolve().parents[2]


# --- helpers --------------------------------------------------------------------------------


def admin_settings(db: local_db.LocalDatabase) -> Settings:
    return Settings(database_url=db.admin_url, db_auth="url")


def downgrade(db: local_db.LocalDatabase, revision: str) -> None:
    engine = migration_engine(admin_settings(db))
    try:
        with engine.begin() as connection:
            migrate.downgrade(connection, revision)
    finally:
        engine.dispose()


def revisions() -> list[tuple[str, str]]:
    """(revision, the one before it or "base"), oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    ordered = list(reversed(list(script.walk_revisions("base", "heads"))))
    return [(r.revision, str(r.down_revision or "base")) for r in ordered]


def head() -> str:
    head_revision = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head_revision is not None
    return head_revision


def run(db: local_db.LocalDatabase, sql: str) -> list[list[Any]]:
    conn = local_db.admin_connection(db.admin_url)
    try:
        return conn.run(sql)
    finally:
        conn.close()


def current_version(db: local_db.LocalDatabase) -> list[str]:
    return [v for (v,) in run(db, f"SELECT version_num FROM {SCHEMA}.alembic_version")]


CORE = f"(SELECT oid FROM pg_namespace WHERE nspname = '{SCHEMA}')"
THIS_DB = "(SELECT oid FROM pg_database WHERE datname = current_database())"
SNAPSHOT = {
    "columns": f"""
        SELECT table_name, column_name, data_type, udt_schema || '.' || udt_name,
               character_maximum_length, is_nullable, column_default, is_identity,
               identity_generation
          FROM information_schema.columns WHERE table_schema = '{SCHEMA}' ORDER BY 1, 2""",
    "constraints": f"""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = {CORE} ORDER BY 1, 2""",
    "indexes": f"""
        SELECT tablename, indexname, indexdef FROM pg_indexes
         WHERE schemaname = '{SCHEMA}' ORDER BY 1, 2""",
    "triggers": f"""
        SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND c.relnamespace = {CORE} ORDER BY 1, 2""",
    "types": f"""
        SELECT t.typname, t.typtype,
               ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
                      ORDER BY e.enumsortorder)::text
          FROM pg_type t
         WHERE t.typnamespace = {CORE} AND t.typtype IN ('e', 'd', 'r', 'm') ORDER BY 1""",
    "functions": f"""
        SELECT p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)), p.proacl::text,
               p.prosecdef
          FROM pg_proc p WHERE p.pronamespace = {CORE} ORDER BY 1""",
    "table_grants": f"""
        SELECT c.relname, a.grantee::regrole::text, a.privilege_type
          FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.relnamespace = {CORE} AND a.grantee <> c.relowner ORDER BY 1, 2, 3""",
    "schema_grants": f"""
        SELECT a.grantee::regrole::text, a.privilege_type
          FROM pg_namespace n, aclexplode(n.nspacl) a
         WHERE n.oid = {CORE} AND a.grantee <> n.nspowner ORDER BY 1, 2""",
    "role_settings": f"""
        SELECT setrole::regrole::text, setconfig::text FROM pg_db_role_setting
         WHERE setdatabase = {THIS_DB} ORDER BY 1""",
    "row_security": f"""
        SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
         WHERE relnamespace = {CORE} AND relkind IN ('r', 'p') ORDER BY 1""",
    "policies": f"""
        SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check
          FROM pg_policies WHERE schemaname = '{SCHEMA}' ORDER BY 1, 2""",
}


def snapshot(db: local_db.LocalDatabase) -> dict[str, list[list[Any]]]:
    """The schema as the catalog describes it, without object ids."""
    conn = local_db.admin_connection(db.admin_url)
    try:
        return {name: conn.run(sql) for name, sql in SNAPSHOT.items()}
    finally:
        conn.close()


def leftovers(db: local_db.LocalDatabase) -> dict[str, list[list[Any]]]:
    """What is left of the schema once every migration is undone (should be nothing)."""
    found = snapshot(db)
    found["columns"] = [row for row in found["columns"] if row[0] != "alembic_version"]
    found["constraints"] = [r for r in found["constraints"] if "alembic_version" not in r[0]]
    found["indexes"] = [row for row in found["indexes"] if row[0] != "alembic_version"]
    found["row_security"] = [r for r in found["row_security"] if r[0] != "alembic_version"]
    found["sequences"] = run(
        db, f"SELECT relname FROM pg_class WHERE relnamespace = {CORE} AND relkind = 'S'"
    )
    return {name: rows for name, rows in found.items() if rows}


@pytest.fixture
def scratch(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    """An empty database of this test's own, dropped afterwards."""
    name = f"wellapi_migrations_{os.getpid()}"
    db = local_db.create_database(server, name, replace=True)
    try:
        yield db
    finally:
        local_db.drop_database(server, name)


# --- up, down, up ---------------------------------------------------------------------------


def test_upgrade_from_empty_downgrade_to_base_and_upgrade_again(scratch):
    assert run(scratch, f"SELECT 1 FROM pg_namespace WHERE nspname = '{SCHEMA}'") == []

    migrate.upgrade_with(admin_settings(scratch))
    assert current_version(scratch) == [head()]
    first = snapshot(scratch)
    assert len({row[0] for row in first["columns"]}) >= 16  # fifteen tables + alembic_version

    downgrade(scratch, "base")
    assert current_version(scratch) == []
    assert leftovers(scratch) == {}

    migrate.upgrade_with(admin_settings(scratch))
    assert current_version(scratch) == [head()]
    assert snapshot(scratch) == first


def test_each_revision_downgrades_and_upgrades_cleanly_in_turn(scratch):
    steps = revisions()
    assert steps[0][1] == "base"
    assert steps[-1][0] == head()

    for revision, previous in steps:
        migrate.upgrade_with(admin_settings(scratch), revision)
        after_upgrade = snapshot(scratch)

        downgrade(scratch, previous)
        assert current_version(scratch) == ([] if previous == "base" else [previous])

        migrate.upgrade_with(admin_settings(scratch), revision)
        assert current_version(scratch) == [revision]
        assert snapshot(scratch) == after_upgrade, f"revision {revision} does not round-trip"


def test_deploy_handler_migrates_an_empty_database_to_head(scratch, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", scratch.admin_url)
    monkeypatch.setenv("DB_AUTH", "url")

    assert migrate.handler({}, None) == {"status": "migrated", "revision": "head"}
    assert current_version(scratch) == [head()]
    # Running it again (a redeploy) changes nothing.
    before = snapshot(scratch)
    migrate.handler({}, None)
    assert snapshot(scratch) == before


def test_migrations_are_found_in_the_repository_by_default(monkeypatch):
    monkeypatch.delenv("WELL_MIGRATIONS_DIR", raising=False)
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)

    assert migrate.migrations_dir() == ROOT / "migrations"
    assert (migrate.migrations_dir() / "env.py").is_file()


def test_migrations_are_found_beside_the_function_code_in_lambda(monkeypatch, tmp_path):
    monkeypatch.delenv("WELL_MIGRATIONS_DIR", raising=False)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    assert migrate.migrations_dir() == ROOT / "migrations"  # no env.py there: not a migration fn

    (tmp_path / "env.py").write_text("")
    assert migrate.migrations_dir() == tmp_path


def test_migrations_directory_can_be_set_explicitly(monkeypatch, tmp_path):
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(ROOT))
    monkeypatch.setenv("WELL_MIGRATIONS_DIR", str(tmp_path))

    assert migrate.migrations_dir() == tmp_path
    assert migrate.alembic_config().get_main_option("script_location") == str(tmp_path)


# --- drift between the tables and the migrations --------------------------------------------


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "schema":
        return name == SCHEMA
    if type_ == "table":
        # Alembic's own, the settings the transactions' procedure reads and the ledgers' periods
        # the sweep's function keeps (no SQL the runtime builds names either), and each period
        # of a ledger: its partition, the ledger's table.
        kept_apart = ("alembic_version", "transaction_settings", "ledger_periods")
        return name not in kept_apart and not PERIOD.search(name or "")
    if type_ == "index":
        return not PERIOD.search(parent_names.get("table_name") or "")
    return True


def _sql(clause: Any) -> str:
    return str(clause.compile(dialect=postgresql.dialect()))


def _deparsed(connection: Connection, table: str, expression: str) -> str:
    """``expression`` as PostgreSQL prints it back in the context of ``table``.

    Text written in a model and text deparsed from the catalog differ in parentheses and
    spelling (``BETWEEN`` comes back as two comparisons); a throwaway NOT VALID CHECK, rolled
    back at once, makes the server print both the same way.
    """
    with connection.begin_nested() as savepoint:
        connection.exec_driver_sql(
            f"ALTER TABLE {table} ADD CONSTRAINT drift_probe CHECK ({expression}) NOT VALID"
        )
        body = connection.exec_driver_sql(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conname = 'drift_probe' AND conrelid = '{table}'::regclass"
        ).scalar_one()
        savepoint.rollback()
    return _check_body(str(body).removesuffix(" NOT VALID"))


def _check_body(definition: str) -> str:
    """``CHECK (expression)`` -> ``expression``, as pg_get_expr would print it."""
    assert definition.startswith("CHECK ("), definition
    assert definition.endswith(")"), definition
    return definition[len("CHECK (") : -1]


def _index_predicate_drift(connection: Connection, metadata: MetaData) -> list[tuple[Any, ...]]:
    in_db = dict(
        connection.exec_driver_sql(
            "SELECT i.relname, pg_get_expr(x.indpred, x.indrelid) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            f"WHERE i.relnamespace = {CORE}"
        ).all()
    )
    drift = []
    for table in metadata.tables.values():
        for index in table.indexes:
            if index.name not in in_db:
                continue  # a missing index is autogenerate's to report
            where = index.dialect_options["postgresql"]["where"]
            model = None if where is None else _deparsed(connection, table.fullname, _sql(where))
            if model != in_db[index.name]:
                drift.append(("index_predicate", table.name, index.name, model, in_db[index.name]))
    return drift


def _check_constraint_drift(connection: Connection, metadata: MetaData) -> list[tuple[Any, ...]]:
    rows = connection.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        f"FROM pg_constraint WHERE connamespace = {CORE} AND contype = 'c'"
    ).all()
    in_db = {
        (table, name): _check_body(str(body))
        for table, name, body in rows
        if _include_name(table.split(".")[1], "table", {})
    }
    in_model = {
        (table.fullname, constraint.name): _deparsed(
            connection, table.fullname, _sql(constraint.sqltext)
        )
        for table in metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    if in_db == in_model:
        return []
    return [("check_constraints", sorted(in_model.items()), sorted(in_db.items()))]


def _enum_drift(connection: Connection, metadata: MetaData) -> list[tuple[Any, ...]]:
    rows = connection.exec_driver_sql(
        "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        f"WHERE t.typnamespace = {CORE} ORDER BY t.typname, e.enumsortorder"
    ).all()
    in_db: dict[str, list[str]] = {}
    for name, label in rows:
        in_db.setdefault(name, []).append(label)
    in_model = {
        (column.type.name, tuple(column.type.enums))
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, Enum)
    }
    drift: list[tuple[Any, ...]] = [
        ("enum_labels", name, list(labels), in_db.get(name))
        for name, labels in sorted(in_model)
        if list(labels) != in_db.get(name)
    ]
    drift += [
        ("enum_not_in_tables", name, labels)
        for name, labels in sorted(in_db.items())
        if name not in {name for name, _ in in_model}
    ]
    return drift


def schema_drift(connection: Connection, metadata: MetaData) -> list[Any]:
    """Every difference between ``metadata`` and the migrated schema that we know to look for."""
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_schemas": True,
            "include_name": _include_name,
        },
    )
    return [
        *compare_metadata(context, metadata),
        *_index_predicate_drift(connection, metadata),
        *_check_constraint_drift(connection, metadata),
        *_enum_drift(connection, metadata),
    ]


@pytest.fixture(scope="module")
def migrated(database: local_db.LocalDatabase) -> Iterator[Connection]:
    engine = migration_engine(admin_settings(database))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def tables_copy() -> MetaData:
    copy = MetaData(naming_convention=schema.metadata.naming_convention)
    for table in schema.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_tables_and_migrations_describe_the_same_schema(migrated):
    assert schema_drift(migrated, schema.metadata) == []


def test_drift_check_sees_no_difference_in_an_unchanged_copy_of_the_tables(migrated):
    assert schema_drift(migrated, tables_copy()) == []


def _table(metadata: MetaData, name: str) -> Table:
    return metadata.tables[f"{SCHEMA}.{name}"]


def _index(metadata: MetaData, table: str, name: str) -> Index:
    return next(ix for ix in _table(metadata, table).indexes if ix.name == name)


def _set_default(metadata: MetaData, table: str, column: str, default: Any) -> None:
    col = _table(metadata, table).c[column]
    col.server_default = DefaultClause(default) if default is not None else None
    if col.server_default is not None:
        col.server_default._set_parent(col)


def _new_column(m: MetaData) -> None:
    _table(m, "workspaces").append_column(Column("nickname", Text))


def _nullable(m: MetaData) -> None:
    _table(m, "workspaces").c.name.nullable = True


def _not_null(m: MetaData) -> None:
    _table(m, "workspace_group_workspaces").c.created_by_pk.nullable = False


def _changed_default(m: MetaData) -> None:
    _set_default(m, "workspace_providers", "is_selected", text("true"))


def _changed_enum_default(m: MetaData) -> None:
    _set_default(m, "providers", "category", "Finance")


def _dropped_default(m: MetaData) -> None:
    _set_default(m, "accounts", "created_at", None)


def _added_default(m: MetaData) -> None:
    _set_default(m, "accounts", "updated_at", text("now()"))


def _changed_type(m: MetaData) -> None:
    _table(m, "workspaces").c.external_workspace_id.type = String(64)


def _dropped_index(m: MetaData) -> None:
    _table(m, "companies").indexes.discard(_index(m, "companies", "idx_companies_workspace"))


def _added_index(m: MetaData) -> None:
    Index("idx_accounts_account_name", _table(m, "accounts").c.account_name)


def _reordered_index(m: MetaData) -> None:
    t = _table(m, "account_workspace_connectors")
    t.indexes.discard(_index(m, t.name, "idx_account_workspace_connectors_wc"))
    Index(
        "idx_account_workspace_connectors_wc",
        t.c.account_workspace_connector_id,
        t.c.workspace_connector_pk,
    )


def _changed_predicate(m: MetaData) -> None:
    ix = _index(m, "workspace_providers", "workspace_providers_workspace_provider_active_unique")
    ix.dialect_options["postgresql"]["where"] = text("deleted_at IS NOT NULL")


def _unique_made_plain(m: MetaData) -> None:
    t = "workspace_group_workspaces"
    _index(m, t, "workspace_group_workspaces_group_workspace_active_unique").unique = False


def _added_unique(m: MetaData) -> None:
    t = _table(m, "company_workspace_connectors")
    UniqueConstraint(t.c.company_pk, t.c.workspace_connector_pk, t.c.direction, name="cwc_triple")


def _dropped_public_id_unique(m: MetaData) -> None:
    t = _table(m, "workspaces")
    unique = next(
        c
        for c in t.constraints
        if isinstance(c, UniqueConstraint) and list(c.columns.keys()) == ["workspace_id"]
    )
    t.constraints.discard(unique)


def _changed_delete_action(m: MetaData) -> None:
    t = _table(m, "workspace_group_workspaces")
    next(
        fk for fk in t.foreign_key_constraints if fk.column_keys == ["workspace_pk"]
    ).ondelete = "CASCADE"


def _dropped_update_action(m: MetaData) -> None:
    t = _table(m, "people_workspace_connectors")
    next(fk for fk in t.foreign_key_constraints if fk.column_keys == ["people_pk"]).onupdate = None


def _changed_check(m: MetaData) -> None:
    t = _table(m, "workspace_providers")
    check = next(c for c in t.constraints if isinstance(c, CheckConstraint))
    check.sqltext = text("is_matched OR NOT is_selected OR is_matched")


def _added_enum_label(m: MetaData) -> None:
    t = _table(m, "account_workspace_connectors")
    t.c.direction.type = Enum("input", "output", "both", name="direction_enum", schema=SCHEMA)


def _new_table(m: MetaData) -> None:
    Table("audit_log", m, Column("pk", String, primary_key=True), schema=SCHEMA)


MUTATIONS: dict[str, Callable[[MetaData], None]] = {
    "new-column": _new_column,
    "column-made-nullable": _nullable,
    "column-made-not-null": _not_null,
    "server-default-changed": _changed_default,
    "enum-server-default-changed": _changed_enum_default,
    "server-default-dropped": _dropped_default,
    "server-default-added": _added_default,
    "type-changed": _changed_type,
    "index-dropped": _dropped_index,
    "index-added": _added_index,
    "index-columns-reordered": _reordered_index,
    "index-predicate-changed": _changed_predicate,
    "unique-index-made-plain": _unique_made_plain,
    "unique-constraint-added": _added_unique,
    "public-id-unique-dropped": _dropped_public_id_unique,
    "fk-delete-action-changed": _changed_delete_action,
    "fk-update-action-dropped": _dropped_update_action,
    "check-constraint-changed": _changed_check,
    "enum-label-added": _added_enum_label,
    "table-added": _new_table,
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_drift_check_catches_tables_that_no_longer_match_the_migrations(migrated, mutation):
    tables = tables_copy()
    MUTATIONS[mutation](tables)

    assert schema_drift(migrated, tables) != []


# --- a migration never holds API traffic past the API's own lock timeout ----------------------


# A revision after the baseline that needs a lock the API's traffic takes too.
ALTERS_A_TABLE = '''"""a column added to a table the API writes"""

from alembic import op

revision = "lock_probe"
down_revision = "{head}"


def upgrade() -> None:
    op.execute("ALTER TABLE core_api.workspace_providers ADD COLUMN probe integer")
'''


@pytest.fixture
def with_a_next_revision(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The repository's migrations and ``ALTERS_A_TABLE`` after them; the head before it."""
    copied = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_dir(), copied)
    before = head()
    (copied / "versions" / "lock_probe.py").write_text(ALTERS_A_TABLE.format(head=before))
    monkeypatch.setenv("WELL_MIGRATIONS_DIR", str(copied))
    return before


def test_a_migration_waiting_for_a_lock_gives_up_after_a_second_and_tries_again(
    scratch, caplog, with_a_next_revision
):
    migrate.upgrade_with(admin_settings(scratch), with_a_next_revision)
    holder = local_db.admin_connection(scratch.admin_url)
    locked, released, rolled_back = threading.Event(), threading.Event(), threading.Event()

    def hold_the_table_the_next_revision_alters() -> None:
        holder.run("BEGIN")
        holder.run("LOCK TABLE core_api.workspace_providers IN ACCESS EXCLUSIVE MODE")
        locked.set()
        released.wait(timeout=60)
        holder.run("ROLLBACK")
        rolled_back.set()

    def revision() -> list[list[str]]:
        conn = local_db.admin_connection(scratch.admin_url)
        try:
            return conn.run("SELECT version_num FROM core_api.alembic_version")
        finally:
            conn.close()

    paused: list[tuple[float, list[list[str]]]] = []

    def pause(seconds: float) -> None:
        # In place of the migration's sleep: the lock is held through its first pause and let
        # go in its second, so exactly two tries give up.
        paused.append((seconds, revision()))
        if len(paused) == 2:
            released.set()
            assert rolled_back.wait(timeout=60)

    thread = threading.Thread(target=hold_the_table_the_next_revision_alters)
    thread.start()
    try:
        assert locked.wait(timeout=60)
        with caplog.at_level(logging.WARNING):
            migrate.upgrade_with(admin_settings(scratch), sleep=pause)
    finally:
        released.set()
        thread.join()
        holder.close()

    retries = [r for r in caplog.records if "gave up waiting for a lock" in r.getMessage()]
    # Without its lock_timeout the migration would have waited for the lock, never retried.
    assert len(retries) == 2
    # It paused as long as it asked, doubling, and did not get in while the lock was held.
    first = migrate.LOCK_PAUSE_SECONDS
    assert paused == [(first, [[with_a_next_revision]]), (2 * first, [[with_a_next_revision]])]
    assert revision() == [["lock_probe"]]
    # Each wait was bounded by the migration's own lock_timeout, below the API role's 2 s.
    assert migrate.MIGRATION_LOCK_TIMEOUT_MS < 2000


# --- expand/contract: old code works on the new schema (docs/deploy.md, "Migrations expand") --

# What old code cannot survive, or what blocks its traffic while it runs: a contract step
# (dropping or renaming what old code uses, a new NOT NULL or type on an existing column, a
# right revoked from a role) belongs to a later release than the one that stops using it; an
# index on an existing table is built CONCURRENTLY (revisions as autocommit blocks), not
# under a lock that stops writes for the whole build.
CONTRACT = re.compile(
    r"\b(DROP\s+(COLUMN|TABLE|TYPE|VIEW|SCHEMA|FUNCTION)|RENAME\s+(COLUMN\s+\w+\s+)?TO"
    r"|ALTER\s+COLUMN\s+\w+\s+(SET\s+NOT\s+NULL|(SET\s+DATA\s+)?TYPE)"
    # Revoking from PUBLIC what a revision has just created is locking a new thing down.
    r"|REVOKE\b(?![^;]*\bFROM\s+PUBLIC\b))",
    re.IGNORECASE,
)
BLOCKING_INDEX = re.compile(
    r"\bCREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(IF\s+NOT\s+EXISTS\s+)?\w+\s+ON\s+"
    r"(ONLY\s+)?(?:\w+\.)?(?P<table>\w+)",
    re.IGNORECASE,
)
# Rights no release's statements ever used, taken away: making objects of a
# role's own (temporary ones, or in schema public), and the sync role's UPDATE of ledger
# columns other than deleted_at, the one column every release's writer and sweeper update
# (test_role_privileges holds today's statements to it).
UNUSED_RIGHTS = re.compile(
    r"\bREVOKE\s+(TEMPORARY\s+ON\s+DATABASE|CREATE\s+ON\s+SCHEMA\s+public"
    r"|UPDATE\s+ON\s+core_api\.\w+_workspace_connectors\s+FROM\s+well_sync)\b",
    re.IGNORECASE,
)
CREATED_TABLE = re.compile(r"\bCREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(?:\w+\.)?(\w+)", re.I)
# The revisions that break the rule, each with why: none. A new revision keeps the rule.
BEFORE_THE_RULE: dict[str, str] = {}


# A function's or procedure's body: code it runs when called, not a statement of the migration
# (a DO block's body runs now, and is read).
ROUTINE_BODY = re.compile(r"\bAS\s+(\$\w*\$).*?\1", re.DOTALL | re.IGNORECASE)


def _violations(recorded: list[str]) -> list[str]:
    bodiless = [ROUTINE_BODY.sub("AS <body>", s) for s in recorded]
    statements = [part for s in bodiless for part in s.split(";") if part.strip()]
    created = {m.group(2) for s in statements for m in CREATED_TABLE.finditer(s)}
    found = [s for s in statements if CONTRACT.search(s) and not UNUSED_RIGHTS.search(s)]
    for statement in statements:
        for match in BLOCKING_INDEX.finditer(statement):
            if match.group("table") not in created:
                found.append(statement)
    return [" ".join(s.split())[:160] for s in found]


def test_the_rule_reads_what_a_migration_runs_not_the_bodies_of_what_it_defines():
    recorded = [
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$ BEGIN DROP TABLE t; END $fn$;"
        " DO $$ BEGIN DROP TABLE u; END $$; ALTER TABLE v DROP COLUMN w"
    ]

    assert _violations(recorded) == ["DO $$ BEGIN DROP TABLE u", "ALTER TABLE v DROP COLUMN w"]


def test_every_revision_only_expands_what_old_code_reads_and_writes(scratch):
    recorded: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        recorded.append(statement)

    broken: dict[str, list[str]] = {}
    event.listen(Engine, "before_cursor_execute", record)
    try:
        for revision, _previous in revisions():
            recorded.clear()
            migrate.upgrade_with(admin_settings(scratch), revision)
            violations = _violations(recorded)
            if violations:
                broken[revision] = violations
    finally:
        event.remove(Engine, "before_cursor_execute", record)

    assert sorted(broken) == sorted(BEFORE_THE_RULE), broken
