"""Whether a database is at the migrations' head, told without importing Alembic.

Alembic and SQLAlchemy take about half a second to import, which every local command paid to
learn that there was nothing to do. The head is read from the revision files' ``revision`` and
``down_revision`` assignments, and the database's revision from Alembic's version table, in one
query; only a database behind the head is handed to Alembic (``database.migrate_to_head``).
``tests/system/test_local_database.py`` holds this reading equal to Alembic's own.
"""

from __future__ import annotations

import ast
import contextlib
import os
from pathlib import Path
from typing import Any

import pg8000.native

from wellapi.domain import SCHEMA
from wellapi.errors import sqlstate_of

# Alembic's table of the revisions a database is at, in the schema env.py names.
VERSION_TABLE = f"{SCHEMA}.alembic_version"
# SQLSTATEs of a database that was never migrated: no such table, no such schema.
NEVER_MIGRATED = ("42P01", "3F000")


def migrations_dir() -> Path:
    """The revisions Alembic runs locally: ``WELL_MIGRATIONS_DIR``, else the repository's."""
    configured = os.environ.get("WELL_MIGRATIONS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "migrations"


def head(directory: Path | None = None) -> tuple[str, ...]:
    """The head revisions of the revision files (one, unless the history has branches)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((directory or migrations_dir()).glob("versions/*.py")):
        found = _assignments(path)
        if isinstance(found.get("revision"), str):
            revisions.add(found["revision"])
            down = found.get("down_revision")
            parents.update((down,) if isinstance(down, str) else (down or ()))
    return tuple(sorted(revisions - parents))


def known(directory: Path | None = None) -> frozenset[str]:
    """Every revision the revision files name."""
    return frozenset(
        found["revision"]
        for path in (directory or migrations_dir()).glob("versions/*.py")
        if isinstance((found := _assignments(path)).get("revision"), str)
    )


def _assignments(path: Path) -> dict[str, Any]:
    """The literal values a module assigns to a name at its top level (``revision: str =
    "0001"``...)."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    with contextlib.suppress(ValueError):
                        values[target.id] = ast.literal_eval(node.value)
    return values


def current(conn: pg8000.native.Connection) -> tuple[str, ...]:
    """The revisions the database is at (none before the first migration)."""
    try:
        rows = conn.run(f"SELECT version_num FROM {VERSION_TABLE}")
    except pg8000.native.DatabaseError as error:
        if sqlstate_of(error) in NEVER_MIGRATED:
            return ()
        raise
    return tuple(sorted(str(row[0]) for row in rows))
