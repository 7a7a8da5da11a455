"""The order change records (``core_api.change_records``) are read in (docs/changes.md):
``(xid, pk)``, which is not commit order. A reader that walks ahead of the horizon of running
transactions misses a record that commits late; one that walks behind it never misses nor
repeats one (a property, over random interleavings of concurrent writers).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pg8000.native
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.tenancy import settled
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")


_markers = itertools.count(-1, -1)
HORIZON = "xid < pg_snapshot_xmin(pg_current_snapshot())"


class Reader:
    """A drainer's or feed's walk: from a cursor ``(xid, pk)``, in that order."""

    def __init__(self, conn: pg8000.native.Connection, workspace_pk: int, *, horizon: bool):
        self.conn = conn
        self.workspace_pk = workspace_pk
        self.horizon = horizon
        self.cursor = ("0", 0)
        self.seen: list[int] = []

    def read(self) -> None:
        behind = f"AND {HORIZON}" if self.horizon else ""
        rows = self.conn.run(
            "SELECT xid::text, pk FROM core_api.change_records WHERE workspace_pk = :w "
            f"AND (xid, pk) > (CAST(:x AS xid8), :p) {behind} ORDER BY xid, pk",
            w=self.workspace_pk,
            x=self.cursor[0],
            p=self.cursor[1],
        )
        for xid, pk in rows:
            self.seen.append(int(pk))
            self.cursor = (str(xid), int(pk))


def _record(conn: pg8000.native.Connection, workspace_pk: int) -> None:
    conn.run(
        "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
        "occurred_at, actor_kind) VALUES (:w, 'workspace_provider', 'changed', "
        "ARRAY[gen_random_uuid()], now(), 'sync')",
        w=workspace_pk,
    )


def _committed(admin: pg8000.native.Connection, workspace_pk: int) -> list[int]:
    rows = admin.run(
        "SELECT pk FROM core_api.change_records WHERE workspace_pk = :w ORDER BY xid, pk",
        w=workspace_pk,
    )
    return [int(r[0]) for r in rows]


@contextmanager
def writers(database: local_db.LocalDatabase, count: int) -> Iterator[list[Any]]:
    conns = [local_db.admin_connection(database.admin_url) for _ in range(count)]
    try:
        yield conns
    finally:
        for conn in conns:
            conn.close()


def test_a_reader_ahead_of_the_horizon_misses_a_record_that_commits_late(admin, database):
    """Why the horizon: a transaction that took its id first may commit last."""
    workspace_pk = next(_markers)
    naive, careful = (Reader(admin, workspace_pk, horizon=h) for h in (False, True))
    with writers(database, 2) as (first, second):
        first.run("BEGIN")
        _record(first, workspace_pk)
        second.run("BEGIN")
        _record(second, workspace_pk)
        second.run("COMMIT")
        naive.read()
        careful.read()
        first.run("COMMIT")
    settled(admin)  # another test's transaction on this server may hold the horizon back
    naive.read()
    careful.read()

    everything = _committed(admin, workspace_pk)
    assert naive.seen == everything[1:]  # the first record is behind its cursor for good
    assert careful.seen == everything


Step = tuple[str, int, bool]
STEPS = st.lists(
    st.tuples(st.sampled_from(["write", "end", "read"]), st.integers(0, 2), st.booleans()),
    max_size=25,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_a_reader_behind_the_horizon_never_misses_nor_repeats_a_record(admin, database, steps):
    """Three writers take ids, write, commit or roll back in any interleaving, and a reader
    walks between any two steps: what it has read is always the start of the final order, and
    once every writer has ended it reads everything."""
    workspace_pk = next(_markers)
    reader = Reader(admin, workspace_pk, horizon=True)
    with writers(database, 3) as conns:
        open_ = [False] * 3
        for action, i, commit in steps:
            if action == "write":
                if not open_[i]:
                    conns[i].run("BEGIN")
                    open_[i] = True
                _record(conns[i], workspace_pk)
            elif action == "end" and open_[i]:
                conns[i].run("COMMIT" if commit else "ROLLBACK")
                open_[i] = False
            elif action == "read":
                reader.read()
                assert reader.seen == _committed(admin, workspace_pk)[: len(reader.seen)]
        for i, is_open in enumerate(open_):
            if is_open:
                conns[i].run("COMMIT")
    everything = _committed(admin, workspace_pk)
    settled(admin)  # another test's transaction on this server may hold the horizon back
    reader.read()
    assert reader.seen == everything
