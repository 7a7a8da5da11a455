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
