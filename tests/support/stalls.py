"""Sessions of the application roles that hold locks the workers need, and the workers' work.

An offender is a session of its own of an application role, as SQL running as that role could
open: it turns its own timeouts off, takes locks the sync writer, the sweeper or the drainer
need (advisory locks on the drainer's key and on the connectors' keys, rows, whole tables),
and then sits idle. ``work_until_done`` runs the three workers, again and again as their
schedules and the queue's redeliveries would, until each has done its work or the bound passes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pg8000.native

from tests.support import leftovers as lo
from tests.support import majors, sqs
from tests.support import sync as s
from tests.support.api import Lambda
from tests.support.proven import SignedScope
from wellapi.handlers import drain as drain_handler
from wellapi.handlers.sweep import sweep_once
from wellapi.handlers.sync import sync_handler
from wellapi.roles import API_ROLE, AUTH_ROLE, DRAIN_ROLE, SYNC_ROLE
from wellapi.sync.drainer import DRAIN_LOCK
from welldev import database as local_db

# What an offender turns off in its own session before it takes its locks.
OWN_TIMEOUTS = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "transaction_timeout",
)
# The roles' own timeouts in the test database while a stall is tried, set by the owner: the
# smallest that leave the workers' own statements room (restored after the test).
ROLE_TIMEOUTS = {
    "statement_timeout": "2s",
    "lock_timeout": "1s",
    "idle_in_transaction_session_timeout": "2s",
}
# How long the workers have, in all, to get their work done past the offenders: the offending
# role's own timeout, the worker's lock wait, and the schedules' room to run again.
BOUND_SECONDS = 30.0
# The horizon is the server's, not the database's: a transaction another test worker holds in
# its own database keeps this one's records from the drainer, and is no offender of this test
# (the bound waits for it, up to this much more).
ELSEWHERE_SECONDS = 300.0
REFUSED = "42501"  # insufficient_privilege
LEDGER = "core_api.account_workspace_connectors"
CHANGES = "core_api.change_records"


@dataclass
class Offender:
    role: str
    conn: pg8000.native.Connection
    pid: int
    # What it holds, and what the database refused it.
    held: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    in_transaction: bool = False


def offender(database: local_db.LocalDatabase, role: str) -> Offender:
    """A new session of ``role``, its own timeouts off, and its role's too: a bound read from
    the role's defaults would be the offender's to lift (``restore_role_settings`` puts them
    back)."""
    conn = local_db.admin_connection(database.url_for(role))
    for name in OWN_TIMEOUTS:
        if majors.has_setting(conn, name):  # transaction_timeout: PostgreSQL 17 and later
            conn.run(f"SET {name} = 0")
    for name in ROLE_TIMEOUTS:
        conn.run(f"ALTER ROLE CURRENT_USER IN DATABASE {database.name} SET {name} = 0")
    return Offender(role, conn, int(conn.run("SELECT pg_backend_pid()")[0][0]))


def take(o: Offender, statement: str, **params: Any) -> bool:
    """``statement`` on the offender's session: held when it ran, noted when it was refused."""
    try:
        o.conn.run(statement, **params)
    except pg8000.native.DatabaseError as error:
        if error.args[0].get("C") != REFUSED:
            raise
        o.refused.append(statement)
        if o.in_transaction:
            o.conn.run("ROLLBACK TO SAVEPOINT offence")
        return False
    o.held.append(statement)
    if o.in_transaction:
        # What it holds now stays held should a later statement be refused.
        o.conn.run("SAVEPOINT offence")
    return True


def connector_keys(world: lo.World) -> list[int]:
    return [world.tenant.workspace_connector_pk, world.revoked_connector_pk]


def advisory(o: Offender, world: lo.World, *, transaction: bool) -> None:
    """Shared advisory locks on the drainer's key and on the world's connectors' keys: every
    role may hold them at once, and each blocks the exclusive lock a worker takes. For the
    session, or (``transaction``) for a transaction left open."""
    call = "pg_advisory_xact_lock_shared" if transaction else "pg_advisory_lock_shared"
    for key in (DRAIN_LOCK, *connector_keys(world)):
        take(o, f"SELECT {call}(CAST(:k AS bigint))", k=key)


def open_transaction(o: Offender, world: lo.World) -> None:
    """A transaction the offender leaves open; the API role's is opened in a service scope of
    the world's workspace, as a request of a service key would open it."""
    if o.role == API_ROLE:
        SignedScope.of(world.tenant.claims("service")).open(o.conn)
    else:
        o.conn.run("BEGIN")
    o.in_transaction = True
    o.conn.run("SAVEPOINT offence")


def row_locks(o: Offender, world: lo.World) -> None:
    """The world's ledger rows and change records, locked in an open transaction."""
    open_transaction(o, world)
    take(
        o,
        f"SELECT 1 FROM {LEDGER} WHERE workspace_connector_pk = ANY(CAST(:c AS bigint[])) "
        "FOR UPDATE",
        c=connector_keys(world),
    )
    take(
        o,
        f"SELECT 1 FROM {CHANGES} WHERE workspace_pk = :w FOR UPDATE",
        w=world.tenant.workspace_pk,
    )
    if not o.held:
        # A role that may lock no row (the authorizer's) holds the next best in its transaction.
        advisory(o, world, transaction=True)


def table_locks(o: Offender, world: lo.World) -> None:
    """The ledger and the change records, each locked whole in an open transaction."""
    open_transaction(o, world)
    for table in (LEDGER, CHANGES):
        # The strongest mode the role's privileges allow it (SHARE still stops every write).
        _ = take(o, f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE") or take(
            o, f"LOCK TABLE {table} IN SHARE MODE"
        )
    if not o.held:
        advisory(o, world, transaction=True)


def horizon(o: Offender, world: lo.World) -> None:
    """A transaction with an id of its own, left open: it holds no lock anybody waits for, but
    the horizon the drainer and the changes feed read up to stays behind it."""
    open_transaction(o, world)
    take(o, "SELECT pg_current_xact_id()")


OFFENCES: dict[str, Callable[[Offender, lo.World], None]] = {
    "session advisory locks": lambda o, world: advisory(o, world, transaction=False),
    "row locks in an open transaction": row_locks,
    "whole tables locked in an open transaction": table_locks,
    "an open transaction holding the horizon back": horizon,
}
ROLES = (API_ROLE, SYNC_ROLE, DRAIN_ROLE, AUTH_ROLE)


@dataclass
class Work:
    """The three workers' work on a world, and whether each is done."""

    admin: pg8000.native.Connection
    bus: lo.Bus
    world: lo.World
    batch: dict[str, Any] = field(init=False)
    done: dict[str, bool] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    # Seconds the bound waited for another database's transaction to let the horizon pass.
    waited_elsewhere: float = 0.0

    def __post_init__(self) -> None:
        # One batch, redelivered as the queue would until it is taken: the same messages.
        t = self.world.tenant
        self.batch = sqs.event(
            s.linked(t.workspace_connector_id, self.world.account_ids[2:]),
            s.unlinked(t.workspace_connector_id, self.world.account_ids[3:], occurred_at=s.at(1)),
            s.revoked(self.world.revoked_connector_id, occurred_at=s.at(2)),
        )

    def sync(self) -> bool:
        answer = sync_handler()(self.batch, Lambda(remaining_ms=120_000))
        return sqs.failed_ids(answer) == []

    def sweep(self) -> bool:
        sweep_once(time_left_ms=lo.forever)
        return not self.admin.run(
            f"SELECT 1 FROM {LEDGER} WHERE workspace_connector_pk = :c AND deleted_at IS NULL",
            c=self.world.revoked_connector_pk,
        )

    def drain(self) -> bool:
        drain_handler.drain_once(client=self.bus.events, bus=lo.BUS, time_left_ms=lo.forever)
        return not self.admin.run(
            f"SELECT 1 FROM {CHANGES} WHERE workspace_pk = :w AND sent_at IS NULL",
            w=self.world.tenant.workspace_pk,
        )

    def attempt(self, name: str, step: Callable[[], bool]) -> None:
        try:
            self.done[name] = step()
        except Exception as error:  # a worker that failed is run again, as its schedule would
            self.failures.setdefault(name, []).append(f"{type(error).__name__}: {error}"[:300])

    def until_done(self, bound: float = BOUND_SECONDS) -> None:
        deadline = time.monotonic() + bound
        cap = deadline + ELSEWHERE_SECONDS
        while time.monotonic() < deadline:
            # The sweeper needs the revocation the sync batch carries, the drainer the records.
            for name, step in (("sync", self.sync), ("sweep", self.sweep), ("drain", self.drain)):
                if not self.done.get(name):
                    self.attempt(name, step)
            if all(self.done.get(n) for n in ("sync", "sweep", "drain")):
                return
            if self.done.get("drain") is False and horizon_held_elsewhere(self.admin):
                self.waited_elsewhere += 0.5
                deadline = min(cap, deadline + 0.5)
            time.sleep(0.5)


def horizon_held_elsewhere(admin: pg8000.native.Connection) -> bool:
    """Whether the oldest transaction still running on the server, the one that holds the
    horizon, is one of another database's."""
    return bool(
        admin.run(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
            "WHERE datname IS DISTINCT FROM current_database() "
            "AND backend_xid::text = "
            "(pg_snapshot_xmin(pg_current_snapshot())::text::numeric % 4294967296)::text)"
        )[0][0]
    )


def transactions(admin: pg8000.native.Connection) -> list[list[Any]]:
    """The server's transactions that hold a transaction id, oldest first: who holds the
    horizon when the drainer does not get its work done."""
    return admin.run(
        "SELECT datname, usename, pid, backend_xid::text, state, "
        "round(extract(epoch FROM clock_timestamp() - xact_start)::numeric, 1) "
        "FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY xact_start"
    )


def ended(admin: pg8000.native.Connection, offenders: list[Offender]) -> dict[str, bool]:
    """Whether each offender's backend is gone."""
    alive = {int(r[0]) for r in admin.run("SELECT pid FROM pg_stat_activity")}
    return {f"{o.role} ({o.pid})": o.pid not in alive for o in offenders}


def close(offenders: list[Offender]) -> None:
    for o in offenders:
        # An ended backend's connection is gone already.
        with contextlib.suppress(Exception):
            o.conn.close()


def report(admin: pg8000.native.Connection, work: Work, offenders: list[Offender]) -> str:
    """What a failed stall test says: each worker's state, and each offender's."""
    return "\n".join(
        [
            f"done within {BOUND_SECONDS} s (the roles' timeouts set to {ROLE_TIMEOUTS}): "
            f"{work.done}",
            f"failures: {work.failures}",
            f"waited for other databases' transactions: {work.waited_elsewhere} s",
            f"transactions holding an id (database, role, pid, xid, state, seconds): "
            f"{transactions(admin)}",
            f"offenders ended: {ended(admin, offenders)}",
            *(f"{o.role} held: {o.held}" for o in offenders),
        ]
    )
