"""The database of local runs and tests: the one ``DATABASE_URL`` names, or an embedded server.

``DATABASE_URL`` is an administrative connection (it creates databases and roles and runs the
migrations) to the database it names (as with libpq, none named: the user's), created if
missing. Without it, an embedded PostgreSQL serves a database called ``well``. The functions
connect as their own roles, as in production, with a password that exists only locally.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pg8000.exceptions
import pg8000.native

from wellapi.domain import refuse_unsupported_server
from wellapi.errors import sqlstate_of
from wellapi.roles import DEPLOYED_ROLES
from wellapi.settings import Settings
from wellapi.store.connections import url_connect_kwargs
from welldev import embedded_server, revisions

# Only ever set on local and test databases; production roles log in with IAM tokens.
LOCAL_ROLE_PASSWORD = os.environ.get("WELL_LOCAL_ROLE_PASSWORD", "well-local-only")
# The database of the embedded server; DATABASE_URL names its own.
EMBEDDED_DATABASE = "well"
# SQLSTATE invalid_catalog_name: the database does not exist.
NO_SUCH_DATABASE = "3D000"
# The advisory lock under which a process migrates a database or sets the roles' passwords.
SERVER_SETUP_LOCK = 7_365_113_021


@dataclass(frozen=True)
class LocalDatabase:
    admin_url: str

    def url_for(self, role: str, password: str = LOCAL_ROLE_PASSWORD) -> str:
        """The same server and database, logged in as ``role`` (the local password by default)."""
        parts = urlsplit(self.admin_url)
        login = f"{quote(role, safe='')}:{quote(password, safe='')}"
        host = parts.netloc.rpartition("@")[2]  # host:port, without the login
        return urlunsplit(parts._replace(netloc=f"{login}@{host}"))

    def with_database(self, name: str) -> LocalDatabase:
        parts = urlsplit(self.admin_url)
        return LocalDatabase(urlunsplit(parts._replace(path="/" + quote(name, safe=""))))

    @property
    def name(self) -> str:
        """The database, defaulting as libpq does: to the user's name, then the OS user's."""
        parts = urlsplit(self.admin_url)
        return unquote(parts.path.lstrip("/")) or unquote(parts.username or "") or getpass.getuser()


def admin_connection(url: str) -> pg8000.native.Connection:
    return pg8000.native.Connection(**url_connect_kwargs(url))


def start_embedded(data_dir: Path, tcp: tuple[str, int] | None = None) -> LocalDatabase:
    """The embedded PostgreSQL of ``data_dir``, started or reused (``embedded_server.start``)."""
    return LocalDatabase(embedded_server.start(data_dir, tcp))


def configure_embedded(data_dir: Path, settings: dict[str, str]) -> None:
    """Give the embedded server in ``data_dir`` these settings (``ALTER SYSTEM``: kept, so it
    restarts once): the bench's 10-million-row database needs a server of that size's."""
    server = embedded_server.get_server(data_dir, cleanup_mode="stop")
    changed = False
    with admin_connection(server.get_uri("postgres")) as conn:
        for name, value in settings.items():
            if conn.run("SELECT current_setting(:n)", n=name)[0][0] != value:
                quoted = pg8000.native.literal(value)
                conn.run(f"ALTER SYSTEM SET {pg8000.native.identifier(name)} = {quoted}")
                changed = True
    if changed:
        embedded_server.restart(server)


def connect_unless_missing(db: LocalDatabase) -> pg8000.native.Connection | None:
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
    # Every PostgreSQL server has them (template1 even when postgres was dropped).
    conn = connect_unless_missing(server.with_database("postgres"))
    return conn or admin_connection(server.with_database("template1").admin_url)


@contextmanager
def one_setup_at_a_time(server: LocalDatabase) -> Iterator[None]:
    """Hold the server-wide lock under which databases are migrated and roles set up: roles
    belong to the server, and two processes setting one up at once fail ("tuple concurrently
    updated"). Taken in the maintenance database, as an advisory lock is a database's."""
    with maintenance_connection(server) as conn:  # closing the session releases its lock
        conn.run("SELECT pg_advisory_lock(:key)", key=SERVER_SETUP_LOCK)
        yield


def ensure_roles(db: LocalDatabase) -> None:
    """The application roles, made if missing, with a local password: on the maintenance
    database (roles are the server's; it exists before ``db`` may), under the setup lock, so a
    migration without the lock (a test's scratch database) finds them made instead of racing
    another process to make them (a duplicate role, or "tuple concurrently updated")."""
    with maintenance_connection(db) as conn, one_setup_at_a_time(db):
        give_roles_passwords(conn)


def give_roles_passwords(conn: pg8000.native.Connection) -> None:
    """``ensure_roles`` on a connection already open."""
    for role in DEPLOYED_ROLES:
        conn.run(
            "DO $$ BEGIN CREATE ROLE " + role + " LOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        conn.run(f"ALTER ROLE {role} LOGIN PASSWORD {pg8000.native.literal(LOCAL_ROLE_PASSWORD)}")


def create_database(server: LocalDatabase, name: str, *, replace: bool = False) -> LocalDatabase:
    """Database ``name`` on ``server``, created if missing (dropped first with ``replace``)."""
    if replace:
        drop_database(server, name)
    with maintenance_connection(server) as conn:
        # A server the migration would refuse gets no database either.
        refuse_unsupported_server(int(conn.run("SHOW server_version_num")[0][0]))
        if not conn.run("SELECT 1 FROM pg_database WHERE datname = :n", n=name):
            conn.run(f"CREATE DATABASE {pg8000.native.identifier(name)}")
    return server.with_database(name)


def drop_database(server: LocalDatabase, name: str) -> None:
    """Drop database ``name`` of ``server`` if it exists, whoever is connected to it."""
    with maintenance_connection(server) as conn:
        conn.run(f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)} WITH (FORCE)")


def migrate_to_head(db: LocalDatabase) -> None:
    # Alembic and SQLAlchemy cost half a second to import: only a database behind pays for them.
    from wellapi.handlers import migration as migrate

    migrate.upgrade_with(Settings(database_url=db.admin_url, db_auth="url"))


class UnknownRevision(Exception):
    """The database is at a revision these migrations do not have: another checkout made it."""

    def __init__(self, db: LocalDatabase, found: tuple[str, ...]) -> None:
        super().__init__(
            f"database {db.name} is at revision {', '.join(found)}, which these migrations do "
            "not have (another checkout made it): nothing was migrated; drop it (for the "
            "embedded server, delete its data directory) and run again"
        )


@dataclass(frozen=True)
class Migration:
    """What ``connect_at_head`` found: the database's revisions before, and the head."""

    before: tuple[str, ...]
    head: tuple[str, ...]


def connect_at_head(
    db: LocalDatabase,
    *,
    roles: bool = False,
    migrating: Callable[[Migration], None] | None = None,
) -> pg8000.native.Connection:
    """An administrative connection to ``db``, created if missing and migrated if behind (one
    query tells; Alembic runs only then, after ``migrating`` is told). ``roles``: give the
    application roles their local password, which the commands that connect as them need."""
    conn = connect_unless_missing(db) or admin_connection(create_database(db, db.name).admin_url)
    try:
        found = Migration(revisions.current(conn), revisions.head())
        if not set(found.before) <= revisions.known():
            raise UnknownRevision(db, found.before)
        behind = found.before != found.head
        if behind and migrating is not None:
            migrating(found)
        if behind or roles:
            with one_setup_at_a_time(db):
                if behind:
                    migrate_to_head(db)
                give_roles_passwords(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def make_ledger_periods(
    conn: pg8000.native.Connection, *, since: datetime, period: str = "year"
) -> None:
    """Give the ledgers periods from ``since`` through a period after now, as the owner
    (``well_private.make_ledger_periods``): rows of the past need a period to be kept in (a
    deployment's history, the tests' and the bench's fixed times)."""
    conn.run(
        "SELECT count(*) FROM well_private.make_ledger_periods(:p, :since, now() + "
        "well_private.ledger_period_length(:p))",
        p=period,
        since=since,
    )


def prepare(server: LocalDatabase, name: str, *, replace: bool = False) -> LocalDatabase:
    """Database ``name`` on ``server``, migrated to head, the roles given their local password."""
    db = create_database(server, name, replace=replace)
    connect_at_head(db, roles=True).close()
    return db


def resolve(data_dir: Path, tcp: tuple[str, int] | None = None) -> LocalDatabase:
    """The database ``DATABASE_URL`` names, or ``well`` on the embedded server in ``data_dir``
    (listening on ``tcp`` as well when given); it may not exist yet: ``prepare`` creates it."""
    if url := os.environ.get("DATABASE_URL"):
        # postgres:// and driver-qualified spellings too: kept in libpq's form.
        named = LocalDatabase(urlunsplit(urlsplit(url)._replace(scheme="postgresql")))
        return named.with_database(named.name)
    return start_embedded(data_dir, tcp).with_database(EMBEDDED_DATABASE)
