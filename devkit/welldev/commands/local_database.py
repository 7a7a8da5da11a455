"""The database of the commands: resolved, created when missing, migrated only when behind;
and ``wellapi migrate``, which does only that."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pg8000.native

from wellapi.domain import UnsupportedServer
from welldev import database, embedded_server, revisions
from welldev.console import redact, step

EMBEDDED_DATA_DIR = Path(".local") / "pg"
# What every command that reaches the database says in one line, not as a traceback.
USAGE_ERRORS = (UnsupportedServer, database.UnknownRevision, embedded_server.OtherMajorRunning)


@contextmanager
def admin_connection(
    *, roles: bool = False, keep_server: bool = False, tcp: tuple[str, int] | None = None
) -> Iterator[tuple[database.LocalDatabase, pg8000.native.Connection]]:
    """The resolved database at head and an administrative connection (``roles``: as
    ``connect_at_head``'s); the embedded server released at the end, unless ``keep_server``."""
    url = os.environ.get("DATABASE_URL")
    embedded = f"embedded PostgreSQL in {EMBEDDED_DATA_DIR}"
    step(f"using DATABASE_URL {redact(url)}" if url else embedded)
    db = database.resolve(EMBEDDED_DATA_DIR, tcp)

    def migrating(migration: database.Migration) -> None:
        before = ", ".join(migration.before) or "no revision"
        step(f"migrating {redact(db.admin_url)} from {before} to {', '.join(migration.head)}")

    try:
        with database.connect_at_head(db, roles=roles, migrating=migrating) as conn:
            yield db, conn
    finally:
        if not url and not keep_server:
            embedded_server.release(EMBEDDED_DATA_DIR)


def migrate(args: argparse.Namespace) -> int:
    with admin_connection(roles=True):
        step(f"at head ({', '.join(revisions.head())})")
    return 0
