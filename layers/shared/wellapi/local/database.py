"""The database of local runs and tests: the one in ``DATABASE_URL``, or an embedded server.

``DATABASE_URL`` names an administrative connection (it creates databases and roles and runs
the migrations). The API and the sync writer then connect as their own roles, as in
production, with a password that exists only for local use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pg8000.native
from sqlalchemy.engine import make_url

from wellapi import migrate
from wellapi.db import url_connect_kwargs
from wellapi.roles import APP_ROLES
from wellapi.settings import Settings

# Only ever set on local and test databases; production roles log in with IAM tokens.
LOCAL_ROLE_PASSWORD = os.environ.get("WELL_LOCAL_ROLE_PASSWORD", "well-local-only")


@dataclass(frozen=True)
class LocalDatabase:
    admin_url: str

    def url_for(self, role: str) -> str:
        """The same server and database, logged in as ``role``."""
        u = make_url(self.admin_url)
        u = u.set(username=role, password=LOCAL_ROLE_PASSWORD)
        return u.render_as_string(hide_password=False)

    def with_database(self, name: str) -> LocalDatabase:
        return LocalDatabase(make_url(self.admin_url).set(database=name).render_as_string(False))

    @property
    def name(self) -> str:
        return str(make_url(self.admin_url).database)


def admin_connection(url: str, database: str | None = None) -> pg8000.native.Connection:
    kwargs: dict[str, Any] = url_connect_kwargs(url)
    if database is not None:
        kwargs["database"] = database
    return pg8000.native.Connection(**kwargs)


def start_embedded(data_dir: Path) -> LocalDatabase:
    """Start (or reuse) a throwaway PostgreSQL from the ``pgserver`` wheel in ``data_dir``."""
    import pgserver  # a development dependency only

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
    return LocalDatabase(server.get_uri("postgres"))


def ensure_roles(db: LocalDatabase) -> None:
    """Give the application roles a local password; migrations create them if missing."""
    conn = admin_connection(db.admin_url)
    try:
        for role in APP_ROLES:
            conn.run(
                "DO $$ BEGIN CREATE ROLE " + role + " LOGIN; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
            conn.run(
                f"ALTER ROLE {role} LOGIN PASSWORD {pg8000.native.literal(LOCAL_ROLE_PASSWORD)}"
            )
    finally:
        conn.close()


def create_database(db: LocalDatabase, name: str, *, replace: bool = False) -> LocalDatabase:
    conn = admin_connection(db.admin_url)
    try:
        exists = conn.run("SELECT 1 FROM pg_database WHERE datname = :n", n=name)
        if exists and replace:
            conn.run(f"DROP DATABASE {pg8000.native.identifier(name)} WITH (FORCE)")
            exists = []
        if not exists:
            conn.run(f"CREATE DATABASE {pg8000.native.identifier(name)}")
    finally:
        conn.close()
    return db.with_database(name)


def migrate_to_head(db: LocalDatabase) -> None:
    migrate.upgrade_with(Settings(database_url=db.admin_url, db_auth="url"))


def prepare(server: LocalDatabase, name: str, *, replace: bool = False) -> LocalDatabase:
    """Database ``name`` on ``server``, migrated to head, the roles given their local password."""
    db = create_database(server, name, replace=replace)
    migrate_to_head(db)
    ensure_roles(db)
    return db


def resolve(data_dir: Path) -> LocalDatabase:
    """``DATABASE_URL`` when it is set, otherwise the embedded server."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return LocalDatabase(normalise_url(url))
    return start_embedded(data_dir)


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and driver-qualified spellings; keep the libpq form."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def quote_password(password: str) -> str:
    return quote(password, safe="")
