"""Database access when the database fails: dropped connections, retries, timeouts, SQLSTATEs.

Everything runs against the real test PostgreSQL: backends are terminated from an admin
connection, and a forwarder (tests/support/db_access.py) plays a server that hangs up or
never answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import pg8000.dbapi
import pytest

from tests.support import factories as f
from tests.support import majors
from tests.support import read_factories as rf
from tests.support.cross_tenant import authorize
from tests.support.db_access import (
    api_pool,
    backend_pid,
    built_for,
    causes,
    dbapi_connection_of,
)
from tests.support.proven import moment_from_now
from wellapi import errors
from wellapi.handlers import authorizer
from wellapi.http import proofs
from wellapi.http.proofs import PROOF_AHEAD_SECONDS, PROOF_SECONDS
from wellapi.roles import API_ROLE, SYNC_ROLE
from wellapi.settings import Settings
from wellapi.store import connections as db
from wellapi.store import driver
from wellapi.store.sql import BoundStatement, fixed
from welldev import api_keys
from welldev import database as local_db

# --- dropped connections --------------------------------------------------------------------


def terminate(admin, pid: int) -> None:
    # The timeout makes pg_terminate_backend wait until the backend has exited.
    assert admin.run("SELECT pg_terminate_backend(:pid, 5000)", pid=pid) == [[True]]


SLEEPER_READ_TIMEOUT_SECONDS = 300.0


def sleep_on(pid: int) -> list[BoundStatement]:
    """A read that sleeps only on backend ``pid``: the first attempt hangs, a retry does not.

    The hang outlasts any wait for the killer on a busy machine (the role's 5 s
    statement_timeout is lifted for it; pools for it read with SLEEPER_READ_TIMEOUT_SECONDS),
    so only the drop can end it early. The backend's pid is the last row.
    """
    return [
        fixed("SELECT set_config('statement_timeout', '0', true)"),
        BoundStatement(
            "SELECT pg_backend_pid() FROM pg_sleep(CASE WHEN pg_backend_pid() = $1 THEN 120 END)",
            (pid,),
        ),
    ]


def failures_of(pool: db.Pool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[type, bool]]:
    """For each of the pool's queries that failed, as ``db.execute`` received it: the error's
    type, and whether a timeout ended it (the error itself is not kept: its traceback would
    keep the dead connection alive past the test)."""
    failures: list[tuple[type, bool]] = []
    run = pool.run

    def recording(statements: Sequence[BoundStatement]) -> list[Any]:
        try:
            return run(statements)
        except Exception as error:
            timed_out = any(isinstance(cause, TimeoutError) for cause in causes(error))
            failures.append((type(error), timed_out))
            raise

    monkeypatch.setattr(pool, "run", recording)
    return failures


class Killer(threading.Thread):
    """Terminates backend ``pid`` once it is busy sleeping, from its own admin connection."""

    def __init__(self, admin_url: str, pid: int) -> None:
        super().__init__(daemon=True)
        self.admin_url, self.pid, self.killed = admin_url, pid, False

    def run(self) -> None:
        conn = local_db.admin_connection(self.admin_url)
        try:
            deadline = time.monotonic() + 60  # only bounds a hang
            while time.monotonic() < deadline and not self.killed:
                busy = conn.run(
                    "SELECT 1 FROM pg_stat_activity "
                    "WHERE pid = :pid AND state = 'active' AND wait_event = 'PgSleep'",
                    pid=self.pid,
                )
                if busy:
                    self.killed = conn.run("SELECT pg_terminate_backend(:pid)", pid=self.pid) == [
                        [True]
                    ]
                else:
                    time.sleep(0.005)
        finally:
            conn.close()


@pytest.mark.parametrize("retry", [True, False], ids=["retry", "no-retry"])
def test_connection_killed_between_reads_is_replaced_on_the_next_read(api_database, admin, retry):
    first = backend_pid()
    terminate(admin, first)

    # The pool sees the hung-up socket at checkout and connects anew before sending anything,
    # so even a caller that allows no retry gets its answer.
    second = backend_pid(retry=retry)

    assert second != first
    assert backend_pid() == second


def test_connection_dropped_during_a_read_is_retried_once_on_a_fresh_connection(
    api_database, pools, monkeypatch
):
    pool = api_pool(api_database, db_read_timeout_seconds=SLEEPER_READ_TIMEOUT_SECONDS)
    pools.append(pool)
    first = backend_pid(pool)
    failures = failures_of(pool, monkeypatch)
    killer = Killer(api_database.admin_url, first)
    killer.start()

    rows = db.execute(sleep_on(first), pool=pool)

    killer.join()
    assert killer.killed
    assert rows[-1][0] != first
    # The first attempt was cut short by the drop, not waited out (nor cut by a timeout).
    assert failures == [(pg8000.dbapi.InterfaceError, False)]


def test_connection_dropped_during_a_statement_without_retry_raises_database_unavailable(
    api_database, pools
):
    pool = api_pool(api_database, db_read_timeout_seconds=SLEEPER_READ_TIMEOUT_SECONDS)
    pools.append(pool)
    first = backend_pid(pool)
    killer = Killer(api_database.admin_url, first)
    killer.start()

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute(sleep_on(first), pool=pool, retry=False)

    killer.join()
    assert killer.killed
    assert isinstance(raised.value.__cause__, pg8000.dbapi.InterfaceError)
    assert raised.value.headers() == {"Retry-After": "2"}  # DB_RETRY_AFTER_SECONDS' default
    assert raised.value.to_object()["code"] == "SERVICE_UNAVAILABLE"
    # The broken connection was thrown away: the next read works.
    assert backend_pid(pool) != first


@pytest.mark.parametrize(("retry", "attempts"), [(True, 2), (False, 1)])
def test_unreachable_database_is_tried_once_more_then_reported_unavailable(
    api_database, forwarders, pools, retry, attempts
):
    # api_database: the functions' environment, whose settings say how long a client told the
    # database is unavailable should wait (the pool below is this test's own).
    server = forwarders(hang_up=True)
    pool = db.build_pool(
        Settings(database_url=f"postgresql://well_api:x@127.0.0.1:{server.port}/well")
    )
    pools.append(pool)

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute([fixed("SELECT 1")], pool=pool, retry=retry)

    assert server.accepted == attempts
    assert "network error" not in str(raised.value)  # no driver text towards the client


@pytest.mark.parametrize("autocommit", [True, False], ids=["request-pool", "migration-engine"])
def test_statement_longer_than_the_connect_timeout_is_not_cut_by_the_client(
    api_database, pools, autocommit
):
    settings = Settings(database_url=api_database.url_for(API_ROLE), db_connect_timeout_seconds=1)
    pool = built_for(settings, autocommit=autocommit)
    pools.append(pool)

    # Statements are bounded by the server's statement_timeout, not by the connect timeout:
    # reads wait for the read bound (none for migrations), whatever the connect timeout was.
    with dbapi_connection_of(pool) as connection:
        read_bound = settings.db_read_timeout_seconds if autocommit else None
        assert driver.socket_of(connection).gettimeout() == read_bound
        cursor = connection.cursor()
        cursor.execute("SELECT pg_sleep(1.5), 1")
        assert list(map(list, cursor.fetchall())) == [["", 1]]


def test_a_reply_that_never_comes_is_given_up_on_after_the_read_timeout(api_database, pools):
    settings = Settings(database_url=api_database.url_for(API_ROLE), db_read_timeout_seconds=0.3)
    pool = db.build_pool(settings)
    pools.append(pool)

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute([fixed("SELECT pg_sleep(2)")], pool=pool, retry=False)

    # The reply would have come after 2 s: the read bound the pool set ended the wait first.
    assert [c for c in causes(raised.value) if isinstance(c, TimeoutError)]
    with pool.connection() as connection:
        assert driver.socket_of(connection).gettimeout() == 0.3


def test_the_sync_writer_waits_longer_than_its_statement_timeout(api_database):
    sync = db.settings_for("sync")
    assert sync.db_read_timeout_seconds > 60 > db.settings_for("api").db_read_timeout_seconds > 5


def test_server_that_never_answers_is_given_up_on_within_the_connect_timeout(
    api_database, forwarders, pools, monkeypatch
):
    # api_database: the functions' environment, whose settings say how long a client told the
    # database is unavailable should wait (the pool below is this test's own).
    server = forwarders(silent=True)
    asked: list[float] = []
    connect = pg8000.dbapi.connect

    def recording(**kwargs: Any) -> Any:
        asked.append(kwargs["timeout"])
        return connect(**kwargs)

    monkeypatch.setattr(pg8000.dbapi, "connect", recording)
    pool = db.build_pool(
        Settings(
            database_url=f"postgresql://well_api:x@127.0.0.1:{server.port}/well",
            db_connect_timeout_seconds=0.3,
        )
    )
    pools.append(pool)

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute([fixed("SELECT 1")], pool=pool)

    assert server.accepted == 2  # the first attempt and its one retry
    assert asked == [0.3, 0.3]  # each bounded by the connect timeout...
    assert [c for c in causes(raised.value) if isinstance(c, TimeoutError)]  # ...which ended it


# --- server-side statement timeout ----------------------------------------------------------

SHOW_STATEMENT_TIMEOUT = fixed("SHOW statement_timeout")


def test_api_role_gets_its_statement_timeout_from_the_server(api_database):
    assert db.execute([SHOW_STATEMENT_TIMEOUT]) == [["5s"]]


def test_api_role_plans_with_the_random_page_cost_of_ssd_storage_from_the_server(api_database):
    # The role's own setting: the ordered walk of a busy record's index must beat a bitmap of
    # its rows.
    assert db.execute([fixed("SHOW random_page_cost")]) == [["1.1"]]


def test_statement_over_the_timeout_is_cancelled_with_an_unavailable_sqlstate(api_database):
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        # Transaction-local, so nothing session-level is set: the one-second sleep is cut at
        # 50 ms exactly as the role's 5 s timeout would cut a longer one.
        db.execute(
            [
                fixed("SELECT set_config('statement_timeout', '50ms', true)"),
                fixed("SELECT pg_sleep(1)"),
            ]
        )

    assert errors.sqlstate_of(raised.value) == "57014"
    # Cut by the timeout, not ended otherwise: the server says which cancel it was.
    assert raised.value.args[0]["M"] == "canceling statement due to statement timeout"
    assert errors.is_unavailable(errors.sqlstate_of(raised.value))
    assert isinstance(errors.database_error(raised.value), errors.DatabaseUnavailable)
    # The shortened timeout died with its transaction; the connection is still good.
    assert db.execute([SHOW_STATEMENT_TIMEOUT]) == [["5s"]]


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57014", True),  # query_canceled (statement timeout)
        ("57P01", True),  # admin_shutdown
        ("08006", True),  # connection_failure
        ("53300", True),  # too_many_connections
        ("40001", True),  # serialization_failure
        ("40P01", True),  # deadlock_detected
        ("23505", False),  # unique_violation: a rule, not an outage
        ("42501", False),  # insufficient_privilege
        (None, False),
    ],
)
def test_sqlstates_meaning_try_again_are_classified_unavailable(sqlstate, unavailable):
    assert errors.is_unavailable(sqlstate) is unavailable


def test_driver_failures_map_to_unavailable_and_rule_violations_are_left_to_the_caller():
    assert isinstance(
        errors.database_error(pg8000.dbapi.InterfaceError("network error")),
        errors.DatabaseUnavailable,
    )
    assert isinstance(errors.database_error(ConnectionResetError()), errors.DatabaseUnavailable)
    assert isinstance(
        errors.database_error(pg8000.dbapi.DatabaseError({"C": "40001"})),
        errors.DatabaseUnavailable,
    )
    assert errors.database_error(pg8000.dbapi.DatabaseError({"C": "23505"})) is None
    assert errors.database_error(ValueError("not a driver error")) is None


def test_sqlstate_and_constraint_are_read_from_driver_errors_only():
    driver_error = pg8000.dbapi.DatabaseError(
        {"S": "ERROR", "C": "23505", "n": "workspace_providers_workspace_provider_active_unique"}
    )
    assert errors.sqlstate_of(driver_error) == "23505"
    assert errors.constraint_of(driver_error) == (
        "workspace_providers_workspace_provider_active_unique"
    )
    assert errors.sqlstate_of(pg8000.dbapi.DatabaseError({"S": "ERROR"})) is None
    assert errors.constraint_of(pg8000.dbapi.DatabaseError({"C": "57014"})) is None
    assert errors.sqlstate_of(ValueError("57014")) is None
    assert errors.constraint_of(ValueError()) is None


def raised(error: Exception, cause: BaseException | None = None) -> Exception:
    """``error`` as a raise leaves it: with its traceback, and raised from ``cause``."""
    try:
        raise error from cause
    except Exception as caught:
        return caught


def test_a_failure_the_driver_is_in_is_logged_without_any_exception_text():
    driver_error = raised(pg8000.dbapi.DatabaseError({"C": "23505", "D": "Key (x)=(1) exists"}))
    outage = raised(errors.DatabaseUnavailable(), raised(pg8000.dbapi.InterfaceError("host h")))
    # A connection lost under the driver: the socket's error, whose text names the host.
    reset = raised(errors.DatabaseUnavailable(), raised(ConnectionResetError("host h:5432")))
    ours = raised(KeyError("person_id"))

    for error, sqlstate in ((driver_error, "23505"), (outage, None), (reset, None)):
        logged = errors.logged_failure(error, messages=3)
        assert "exc_info" not in logged
        assert logged["extra"]["error_type"] == type(error).__name__
        assert (logged["extra"]["sqlstate"], logged["extra"]["messages"]) == (sqlstate, 3)
        assert logged["extra"]["raised_at"][0].endswith(" in raised")
    # A fault of ours has nothing of the driver's to tell: its traceback helps find it.
    assert errors.logged_failure(ours) == {
        "extra": {"error_type": "KeyError", "sqlstate": None},
        "exc_info": ours,
    }
    # An outage raised from the server's error says the server's SQLSTATE.
    cancelled = raised(
        errors.DatabaseUnavailable(), raised(pg8000.dbapi.DatabaseError({"C": "57014"}))
    )
    assert errors.failure_fields(cancelled) == {
        "error_type": "DatabaseUnavailable",
        "sqlstate": "57014",
    }


# --- a request's transaction that fails -----------------------------------------------------


def _no_scope() -> BoundStatement:
    # Any opening statement: these tests are about the transaction, not the scope.
    return fixed("SELECT 1")


@pytest.mark.parametrize("read_only", [True, False])
def test_a_request_whose_statement_fails_leaves_its_connection_usable(api_database, read_only):
    pool = api_pool(api_database)
    try:
        with pytest.raises(pg8000.dbapi.DatabaseError):
            db.execute([fixed("SELECT 1/0")], pool=pool, prove=_no_scope, read_only=read_only)
        pid = backend_pid(pool)

        # The same connection, out of the failed transaction: the next request runs.
        rows = db.execute(
            [fixed("SELECT pg_backend_pid(), now() = statement_timestamp()")],
            pool=pool,
            prove=_no_scope,
            read_only=read_only,
        )
    finally:
        pool.dispose()
    assert rows == [[1], [pid, False]]


def test_a_request_whose_opening_fails_leaves_its_connection_usable(api_database, monkeypatch):
    pool = api_pool(api_database)
    try:
        monkeypatch.setattr(db, "READ_ONLY_OPENING", (db.BEGIN_READ_ONLY, fixed("SELECT 1/0")))
        with pytest.raises(pg8000.dbapi.DatabaseError):
            db.execute([fixed("SELECT 1")], pool=pool, prove=_no_scope, read_only=True)
        monkeypatch.undo()
        pid = backend_pid(pool)

        rows = db.execute(
            [fixed("SELECT pg_backend_pid()")], pool=pool, prove=_no_scope, read_only=True
        )
    finally:
        pool.dispose()
    assert rows == [[1], [pid]]


def test_a_read_cannot_write_even_through_sql_it_did_not_mean(api_database):
    pool = api_pool(api_database)
    try:
        with pytest.raises(pg8000.dbapi.DatabaseError) as refused:
            db.execute(
                [fixed("CREATE TEMP TABLE written (x int)")],
                pool=pool,
                prove=_no_scope,
                read_only=True,
            )
    finally:
        pool.dispose()
    assert refused.value.args[0]["C"] == "25006"  # read_only_sql_transaction


# --- a worker's transaction: one message ----------------------------------------------------

WORKER_PID = fixed("SELECT pg_backend_pid()")


def sync_pool(database: local_db.LocalDatabase, pools: list[Any]) -> db.Pool:
    pool = db.build_pool(Settings(database_url=database.url_for(SYNC_ROLE)))
    pools.append(pool)
    return pool


# One message: its statements, pipelined, or a simple query's text as one statement.
Message = tuple[BoundStatement, ...]


def messages_of(monkeypatch: pytest.MonkeyPatch) -> list[Message]:
    """Every message the pools send from now on: pipelined (``connections.send``) or as a
    simple query (a rollback, the question of a session's timer)."""
    sent: list[Message] = []
    rows = db._rows
    pipelined = db.send

    def simple(cursor: Any, sql: str) -> list[Any]:
        sent.append((fixed(sql),))
        return rows(cursor, sql)

    def send(connection: Any, statements: Sequence[BoundStatement]) -> list[Any]:
        sent.append(tuple(statements))
        return pipelined(connection, statements)

    monkeypatch.setattr(db, "_rows", simple)
    monkeypatch.setattr(db, "send", send)
    return sent


def ends_with(message: Message, *statements: BoundStatement) -> bool:
    return message[-len(statements) :] == statements


def slow_opening(monkeypatch: pytest.MonkeyPatch) -> None:
    """An opening that takes 50 ms before the transaction's settings: any timer the session
    set below that cuts it."""
    monkeypatch.setattr(
        db,
        "OPENING",
        (db.BEGIN, fixed("SELECT pg_catalog.pg_sleep(0.05)"), db.SETTINGS),
    )


def test_a_worker_transaction_is_one_message_with_its_settings_and_its_commit(
    database, pools, monkeypatch
):
    pool = sync_pool(database, pools)
    sent = messages_of(monkeypatch)

    timeout = fixed("SELECT current_setting('statement_timeout')")
    rows = db.in_transaction([timeout], pool=pool)

    assert rows == [["1min"]]
    assert sent == [(*db.OPENING, timeout, db.COMMIT)]


def test_a_worker_transaction_cancelled_by_a_timer_its_session_set_is_sent_again(
    api_database, pools, monkeypatch
):
    pool = sync_pool(api_database, pools)
    first = int(db.in_transaction([WORKER_PID], pool=pool)[0][0])
    # As SQL running as the role on the worker's connection could leave it.
    db.execute([fixed("SET statement_timeout = 10")], pool=pool)
    slow_opening(monkeypatch)
    sent = messages_of(monkeypatch)

    rows = db.in_transaction([WORKER_PID], retry=False, pool=pool)

    assert int(rows[-1][0]) != first
    assert len([m for m in sent if ends_with(m, WORKER_PID, db.COMMIT)]) == 2


# A transaction_timeout of 10 ms for the session's later transactions. Set inside a transaction
# its timer starts there and then, so set alone it could end this very session on a busy
# machine; set first to an hour, that hour's timer is the one this transaction runs under.
SESSION_TRANSACTION_TIMEOUT = [
    fixed("SET transaction_timeout = '1h'"),
    fixed("SET transaction_timeout = 10"),
]


def refuses_transaction_timeout(admin: Any, pool: db.Pool) -> bool:
    """Whether the server lacks transaction_timeout (before PostgreSQL 17), shown by refusing it
    to SQL on the worker's connection: then no session can leave one behind there."""
    if majors.has_setting(admin, "transaction_timeout"):
        return False
    with pytest.raises(pg8000.dbapi.DatabaseError) as refused:
        db.execute(SESSION_TRANSACTION_TIMEOUT, pool=pool)
    assert refused.value.args[0]["C"] == majors.UNRECOGNIZED
    return True


def test_a_transaction_timeout_its_session_set_is_off_before_a_worker_statement_runs(
    api_database, admin, pools, monkeypatch
):
    pool = sync_pool(api_database, pools)
    if refuses_transaction_timeout(admin, pool):
        return
    first = int(db.in_transaction([WORKER_PID], pool=pool)[0][0])
    db.execute(SESSION_TRANSACTION_TIMEOUT, pool=pool)
    sent = messages_of(monkeypatch)

    rows = db.in_transaction([fixed("SELECT pg_sleep(0.05)"), WORKER_PID], retry=False, pool=pool)

    assert int(rows[-1][0]) == first
    assert len(sent) == 1


def test_a_worker_read_its_session_ended_before_its_settings_held_is_sent_again(
    api_database, admin, pools, monkeypatch
):
    pool = sync_pool(api_database, pools)
    if refuses_transaction_timeout(admin, pool):
        return
    first = int(db.in_transaction([WORKER_PID], pool=pool)[0][0])
    db.execute(SESSION_TRANSACTION_TIMEOUT, pool=pool)
    slow_opening(monkeypatch)

    # Without its commit (the drainer's read): nothing of it can have been committed.
    rows = db.in_transaction([WORKER_PID], retry=False, pool=pool, commit=False)
    db.execute([fixed("ROLLBACK")], pool=pool)

    assert int(rows[-1][0]) != first


def test_a_worker_statement_over_its_own_timeout_is_not_sent_again(database, pools, monkeypatch):
    pool = sync_pool(database, pools)
    first = int(db.in_transaction([WORKER_PID], pool=pool)[0][0])
    sent = messages_of(monkeypatch)
    over = (
        fixed("SELECT set_config('statement_timeout', '50ms', true)"),
        fixed("SELECT pg_sleep(1)"),
    )

    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        db.in_transaction(over, pool=pool)

    assert errors.sqlstate_of(raised.value) == "57014"
    assert len([m for m in sent if ends_with(m, *over, db.COMMIT)]) == 1
    # The connection is kept, out of its failed transaction.
    assert int(db.in_transaction([WORKER_PID], pool=pool)[0][0]) == first


def test_a_worker_read_that_timed_out_is_not_waited_out_twice(api_database, pools, monkeypatch):
    pool = db.build_pool(
        Settings(database_url=api_database.url_for(SYNC_ROLE), db_read_timeout_seconds=0.5)
    )
    pools.append(pool)
    sent = messages_of(monkeypatch)
    hang = (
        fixed("SELECT set_config('statement_timeout', '0', true)"),
        fixed("SELECT pg_sleep(3)"),
    )

    with pytest.raises(errors.DatabaseUnavailable):
        db.in_transaction(hang, retry=False, pool=pool)

    assert len([m for m in sent if ends_with(m, *hang, db.COMMIT)]) == 1


# ---- a function whose clock and the database's disagree ------------------------------------


def service_key(admin: Any, name: str) -> str:
    """A service key of a tenant of its own."""
    t = f.tenant(admin)
    _, key = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="service", name=name
    )
    return key


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON log lines printed so far."""
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line[:1] == "{"]


@pytest.mark.parametrize("seconds", [-(PROOF_SECONDS + 1), PROOF_AHEAD_SECONDS + 1])
def test_a_function_whose_clock_is_off_answers_503_and_says_why(
    api_database, admin, monkeypatch, capsys, seconds
):
    """Its proofs are made outside the time the database believes one: the database refuses
    them aloud (WP002), the authorizer answers unavailable and the API 503, each logging the
    SQLSTATE, never 401 as if the key were wrong (``core_api.prove_key`` and ``prove_scope``
    raise it)."""
    key = service_key(admin, "clock")
    claims = authorize(key)
    monkeypatch.setattr(proofs, "now", lambda: moment_from_now(seconds))
    db.reset_pools()

    checked = authorize(key)
    read = rf.read("workspace_providers", claims)

    assert checked == {"auth_unavailable": "true"}
    assert read.status == 503
    assert rf.error(read, 503)["code"] == "SERVICE_UNAVAILABLE"
    lines = json_lines(capsys)
    said = {(line["message"], line.get("sqlstate")) for line in lines if "sqlstate" in line}
    assert said == {
        ("authentication unavailable", errors.PROOF_OUT_OF_TIME),
        ("database unavailable", errors.PROOF_OUT_OF_TIME),
    }


# ---- an authorizer that fails otherwise than by an outage --------------------------------------


@pytest.mark.parametrize(
    ("fault", "sqlstate"),
    [
        # What the database answers a statement it cannot run (a setting the server lacks was
        # one: PostgreSQL 16 and transaction_timeout), never an outage.
        (BoundStatement("SELECT 1 / 0"), "22012"),
        (BoundStatement("SELECT * FROM core_api.no_such_function()"), "42883"),
    ],
)
def test_an_authorizer_fault_is_the_apis_own_500_never_api_gateways(
    api_database, admin, monkeypatch, capsys, fault, sqlstate
):
    """API Gateway answers an authorizer that raises with its own bare 500 (not JSON:API, no
    code): the authorizer lets the request on with the fault said, and the function answers
    the API's 500 with its code and trace id, logged with the SQLSTATE."""
    key = service_key(admin, "fault")
    monkeypatch.setattr(authorizer, "LOOKUP_STATEMENT", fault)

    checked = authorize(key)
    read = rf.read("workspace_providers", checked)

    assert checked == {"auth_unavailable": "fault"}
    assert rf.error(read, 500)["code"] == "INTERNAL_ERROR"  # its status checked too
    lines = json_lines(capsys)
    said = [line for line in lines if line["message"] == "authentication failed unexpectedly"]
    assert [(line["level"], line["sqlstate"]) for line in said] == [("ERROR", sqlstate)]
    assert key not in json.dumps(lines)
