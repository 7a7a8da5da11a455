"""``migrations/schema.sql`` is what the migrations make: every schema change shows in review.

The file is the normalised dump of a database migrated to head (``welldev.schema_dump``); a
migration that changes the database without ``make generate`` run after it fails here, with
the lines that differ.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator

import pytest

from welldev import database as local_db
from welldev import schema_dump


@pytest.fixture
def migrated_afresh(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    name = f"wellapi_schema_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    try:
        yield db
    finally:
        local_db.drop_database(server, name)


def test_the_schema_file_is_what_the_migrations_make(migrated_afresh):
    made = schema_dump.dump(migrated_afresh)
    kept = schema_dump.SCHEMA_FILE.read_text(encoding="utf-8")

    differences = list(
        difflib.unified_diff(
            kept.splitlines(), made.splitlines(), "migrations/schema.sql", "migrated", lineterm=""
        )
    )
    assert differences == [], "run `make generate`:\n" + "\n".join(differences[:80])


def test_the_dump_names_the_owner_as_no_deployment_does(migrated_afresh):
    made = schema_dump.dump(migrated_afresh)
    with local_db.admin_connection(migrated_afresh.admin_url) as conn:
        owner = str(conn.run("SELECT current_user")[0][0])

    assert f"OWNER TO {schema_dump.OWNER};" in made
    assert f"OWNER TO {owner};" not in made
    assert "\\restrict" not in made
    assert "-- Dumped from" not in made


# An owner as a deployment names it (RDS's master user is never ``postgres``).
OTHER_OWNER = "well_test_owner"


@pytest.fixture
def migrated_by_another_owner(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    name = f"wellapi_owner_{os.getpid()}"
    with local_db.maintenance_connection(server) as conn:
        conn.run(
            f"DO $$ BEGIN CREATE ROLE {OTHER_OWNER} SUPERUSER LOGIN PASSWORD 'local-only'; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    owned = local_db.create_database(server, name, replace=True)
    with local_db.admin_connection(owned.admin_url) as conn:
        conn.run(f"ALTER DATABASE {name} OWNER TO {OTHER_OWNER}")
    db = local_db.LocalDatabase(owned.url_for(OTHER_OWNER, "local-only"))
    try:
        local_db.migrate_to_head(db)
        yield db
    finally:
        local_db.drop_database(server, name)


def test_another_owner_migrates_the_same_schema_its_policies_naming_it(migrated_by_another_owner):
    made = schema_dump.dump(migrated_by_another_owner)

    assert made == schema_dump.SCHEMA_FILE.read_text(encoding="utf-8")
    with local_db.admin_connection(migrated_by_another_owner.admin_url) as conn:
        owners = conn.run(
            "SELECT DISTINCT roles::text FROM pg_policies WHERE policyname LIKE '%\\_owner'"
        )
    assert owners == [[f"{{{OTHER_OWNER}}}"]]
