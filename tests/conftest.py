"""Fixtures shared by every test: one real, migrated PostgreSQL database per test session.

The server is the one in ``DATABASE_URL`` when set, otherwise an embedded one from the
``pgserver`` wheel. Each session gets a fresh database, migrated with Alembic (never
``create_all``); the API code connects to it as the ``well_api`` role, as in production.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pg8000.native
import pytest

from wellapi.roles import API_ROLE, SYNC_ROLE
from wellapi.store import connections as wellapi_db
from welldev import database as local_db
from welldev import embedded_server
from welldev.function_roles import connect_functions_as

ROOT = Path(__file__).resolve().parents[1]

# Records every API key the run issues and fails the session if one shows up in any output;
# the database access tests' fixtures (pools, forwarders, aws, captured_connects).
# Under pytest-xdist the workers hand their figures to the controller (tests.support.workers).
pytest_plugins = [
    "tests.support.workers",
    "tests.support.key_audit",
    "tests.support.links",
    "tests.support.db_access",
    "tests.support.sam_build",
]

# The tiers, one folder each, each a make target: `tests/unit` (make test-unit, alias
# test-fast: no database server, no build), `tests/database` (make test-database: a real
# PostgreSQL, the handlers in process), `tests/system` (make test-system: the stack as a user
# runs it: the SAM build, the local server and CLI, installs, the bench and load tools).
TIERS = ("unit", "database", "system")
# What a unit test may not use: a database server or the build.
SLOW_FIXTURES = frozenset({"server", "build"})


def _makes_its_own_server(module: object) -> bool:
    """A test module that starts or prepares databases itself holds the local database module."""
    return any(value is local_db for value in vars(module).values()) if module else False


def tier_of(item: pytest.Item) -> str:
    """The tier folder a test lives in (``tests/<tier>/...``)."""
    parts = item.path.relative_to(ROOT / "tests").parts
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, and refuse a unit test that needs a server or the build.

    The unit tier is the edit-test loop's (``make test-fast``): a test there that asked for a
    database server or the SAM build would make it slow, so it is an error, not a quiet move.
    """
    misplaced = []
    for item in items:
        tier = tier_of(item)
        if not tier:
            misplaced.append(f"{item.nodeid}: not in a tier folder ({', '.join(TIERS)})")
            continue
        item.add_marker(getattr(pytest.mark, tier))
        needs = set(getattr(item, "fixturenames", ())) & SLOW_FIXTURES
        if tier == "unit" and (needs or _makes_its_own_server(getattr(item, "module", None))):
            misplaced.append(f"{item.nodeid}: a unit test needs {sorted(needs) or 'a server'}")
    if misplaced:
        raise pytest.UsageError("tests in the wrong tier:\n  " + "\n  ".join(misplaced))


def reset_connection_caches() -> None:
    wellapi_db.reset_pools()


# The read tests' rows are of 2024 (``tests.support.read_factories.T0``): the ledgers keep
# periods from then, as a deployment holding history would.
READ_TESTS_SINCE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def server() -> local_db.LocalDatabase:
    # A data directory per major: `make test` runs the database tiers on two (the Makefile).
    server = local_db.resolve(ROOT / ".local" / f"test-pg{embedded_server.MAJOR}")
    # The roles are the server's: made before any test migrates a scratch database.
    local_db.ensure_roles(server)
    return server


@pytest.fixture(scope="session")
def database(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    name = f"wellapi_test_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    with local_db.admin_connection(db.admin_url) as conn:
        local_db.make_ledger_periods(conn, since=READ_TESTS_SINCE)
    yield db
    reset_connection_caches()
    local_db.drop_database(server, name)


@pytest.fixture(scope="session", autouse=True)
def api_environment(request: pytest.FixtureRequest) -> Iterator[None]:
    """Point the shared package at the test database as the API role, when a test needs it."""
    with mock.patch.dict(os.environ):
        yield
    reset_connection_caches()


@pytest.fixture(scope="session")
def api_database(database: local_db.LocalDatabase) -> local_db.LocalDatabase:
    connect_functions_as(database, API_ROLE)
    return database


def connected(url: str) -> Iterator[pg8000.native.Connection]:
    """A plain pg8000 connection for the length of a fixture."""
    conn = local_db.admin_connection(url)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def api_conn(database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    """As the API role, for SQL the code never sends; writes are rolled back by the test."""
    yield from connected(database.url_for(API_ROLE))


@pytest.fixture
def sync_conn(database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    yield from connected(database.url_for(SYNC_ROLE))


@pytest.fixture
def admin(database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    yield from connected(database.admin_url)


@pytest.fixture
def locker(database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    """A second admin connection, to hold a row lock in an open transaction."""
    conn = local_db.admin_connection(database.admin_url)
    try:
        yield conn
    finally:
        conn.run("ROLLBACK")
        conn.close()
