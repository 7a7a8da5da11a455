"""Database access behind RDS Proxy: one lazy connection per role and environment, no pinning.

Everything runs against the real test PostgreSQL; where the pool must speak TCP, a forwarder
(tests/support/db_access.py) pipes 127.0.0.1 to the test server. Failures, retries and
timeouts are in test_db_failures.py; the three ways to connect (URL, IAM, secret) and TLS in
test_db_credentials.py.
"""

from __future__ import annotations

import inspect
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pg8000.dbapi
import pytest
from sqlalchemy import Engine

from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.db_access import (
    PID,
    api_pool,
    backend_pid,
    built_for,
    dbapi_connection_of,
    reset_environment_pools,
    tcp_url,
)
from tests.support.links import WALKER
from tests.support.proven import SCOPE_STATEMENT
from wellapi.roles import API_ROLE
from wellapi.settings import Settings
from wellapi.store import connections as db
from wellapi.store import driver
from wellapi.store.sql import BoundStatement, fixed

# --- one pool per execution environment ---------------------------------------------------


def test_environment_engine_is_created_on_first_use_once_and_connects_lazily(api_database):
    reset_environment_pools()
    assert db.cached_pools() == 0

    pool = db.get_pool()

    assert db.get_pool() is pool
    assert db.get_pool("api") is pool
    assert pool.idle_count() == 0  # creating the pool opened no connection
    assert pool.lent_count() == 0
    first = backend_pid()
    assert backend_pid() == first  # the one pooled connection serves every request
    assert pool.idle_count() == 1


def test_an_environment_keeps_one_connection_per_role_across_requests(api_database, pools):
    # An environment serves one request at a time: one connection of each role serves them
    # all, and a request that failed on the server's side leaves it in place.
    pool = db.build_pool(Settings(database_url=api_database.url_for(API_ROLE)))
    pools.append(pool)

    first = backend_pid(pool)
    with pytest.raises(pg8000.dbapi.DatabaseError):
        db.execute([fixed("SELECT 1/0")], pool=pool)

    assert backend_pid(pool) == first
    assert (pool.idle_count(), pool.lent_count()) == (1, 0)
    with pool.connection():
        assert (pool.idle_count(), pool.lent_count()) == (0, 1)
    assert (pool.idle_count(), pool.lent_count()) == (1, 0)


def test_pooled_connection_is_recycled_before_the_proxy_idle_timeout(api_database, pools):
    settings = Settings(database_url=api_database.url_for(API_ROLE))
    pool = db.build_pool(settings)
    pools.append(pool)
    assert pool.recycle_seconds == settings.db_pool_recycle_seconds < 30 * 60

    first = backend_pid(pool)
    assert backend_pid(pool) == first  # young: reused
    assert pool._idle is not None
    pool._idle.opened_at -= settings.db_pool_recycle_seconds + 1  # as if it were that old

    assert backend_pid(pool) != first


def test_engine_runs_in_autocommit_one_implicit_transaction_per_message(api_database, admin, pools):
    pool = api_pool(api_database)
    pools.append(pool)
    xact = fixed("SELECT pg_current_xact_id()::text")

    (first,), (same,) = db.execute([xact, xact], pool=pool)
    ((next_message,),) = db.execute([xact], pool=pool)

    assert first == same  # the statements pipelined in one message share its transaction
    assert next_message != first  # which ended with the message's Sync: no COMMIT was needed
    with pool.connection() as conn:
        assert conn.autocommit is True
        cursor = conn.cursor()
        cursor.execute(PID)
        pid = cursor.fetchone()[0]
    assert admin.run("SELECT state FROM pg_stat_activity WHERE pid = :pid", pid=pid) == [["idle"]]


# --- TCP_NODELAY ----------------------------------------------------------------------------


def nodelay(pool: db.Pool | Engine) -> tuple[int, int, bool]:
    with dbapi_connection_of(pool) as dbapi_connection:
        sock = driver.socket_of(dbapi_connection)
        return (
            sock.family,
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            dbapi_connection.autocommit,
        )


@pytest.mark.parametrize("autocommit", [True, False], ids=["request-pool", "migration-engine"])
def test_every_tcp_connection_has_tcp_nodelay(api_database, forwarders, pools, autocommit):
    forwarder = forwarders()
    url = tcp_url(api_database, API_ROLE, forwarder.port)
    pool = built_for(Settings(database_url=url), autocommit=autocommit)
    pools.append(pool)

    family, flag, engine_autocommit = nodelay(pool)
    assert family == socket.AF_INET
    assert flag != 0
    assert engine_autocommit is autocommit

    pool.dispose()  # the next connection is a new one: it gets the option too
    assert nodelay(pool)[1] != 0
    assert forwarder.accepted == 2


def test_pg8000_alone_leaves_nagle_on_which_is_why_the_engine_sets_nodelay(
    api_database, forwarders
):
    forwarder = forwarders()
    conn = pg8000.dbapi.connect(
        **db.url_connect_kwargs(tcp_url(api_database, API_ROLE, forwarder.port))
    )
    try:
        assert driver.socket_of(conn).getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        conn.close()


# --- nothing that pins an RDS Proxy session -------------------------------------------------

PINNING = {
    "session SET": re.compile(r"(?:^|;)\s*SET\s+(?!LOCAL\b)", re.I),
    "session set_config": re.compile(r"\bset_config\s*\((?:[^()]|\([^()]*\))*,\s*false\s*\)", re.I),
    "PREPARE": re.compile(r"(?:^|;)\s*PREPARE\b", re.I),
    "DECLARE cursor": re.compile(r"(?:^|;)\s*DECLARE\b", re.I),
    "LISTEN": re.compile(r"(?:^|;)\s*LISTEN\b", re.I),
    "session advisory lock": re.compile(r"\bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(", re.I),
    "temporary table": re.compile(r"\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?TEMP(?:ORARY)?\b", re.I),
    "sequence call": re.compile(r"\bnextval\s*\(", re.I),
}
COMMENTS = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)


def pinning_reasons(method: str, statement: str) -> list[str]:
    if method in (driver.NAMED_PARSE, driver.NAMED_QUERY):
        return ["named prepared statement"]
    text = COMMENTS.sub(" ", statement)
    return [reason for reason, pattern in PINNING.items() if pattern.search(text)]


@pytest.mark.parametrize(
    ("method", "statement", "reason"),
    [
        (driver.SIMPLE_QUERY, "SET statement_timeout = 0", "session SET"),
        (driver.SIMPLE_QUERY, "select 1; set search_path to core_api", "session SET"),
        (driver.SIMPLE_QUERY, "/* x */ SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", None),
        (driver.UNNAMED_QUERY, "SELECT set_config('well.x', '1', false)", "session set_config"),
        (driver.SIMPLE_QUERY, "PREPARE p AS SELECT 1", "PREPARE"),
        (driver.SIMPLE_QUERY, "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DECLARE cursor"),
        (driver.SIMPLE_QUERY, "LISTEN changes", "LISTEN"),
        (driver.SIMPLE_QUERY, "SELECT pg_advisory_lock(42)", "session advisory lock"),
        (driver.SIMPLE_QUERY, "create temporary table t (x int)", "temporary table"),
        (driver.SIMPLE_QUERY, "CREATE TEMP TABLE t AS SELECT 1", "temporary table"),
        (driver.SIMPLE_QUERY, "INSERT INTO t VALUES (nextval('s'))", "sequence call"),
        (driver.NAMED_PARSE, "SELECT 1", "named prepared statement"),
    ],
)
def test_pinning_detector_flags_what_would_pin_a_proxy_session(method, statement, reason):
    reasons = pinning_reasons(method, statement)
    assert reasons == ([reason] if reason else ["session SET"])


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT set_config('well.workspace_pk', '7', true); SELECT 1",
        "SET LOCAL statement_timeout = '1s'",
        "SELECT pg_advisory_xact_lock(42)",
        "SELECT 'SET x' AS settings, offset_value FROM t -- SET",
        "begin transaction",
        "show transaction isolation level",
    ],
)
def test_pinning_detector_allows_transaction_scoped_statements(statement):
    assert pinning_reasons(driver.SIMPLE_QUERY, statement) == []


@dataclass(frozen=True)
class Sent:
    """One message on the wire: the pg8000 method or ``connections.send`` (``"pipelined"``)
    that sent it, and its statements (a simple query's text is one)."""

    method: str
    statements: tuple[BoundStatement, ...]

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.statements]


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every message pg8000 puts on the wire, with the method that sent it: the driver's own,
    or ``connections.send``'s pipeline (the link walker's requests, ``tests.support.links``,
    are not the test's)."""
    sent: list[Sent] = []
    sending = (driver.SIMPLE_QUERY, driver.UNNAMED_QUERY, driver.NAMED_PARSE, driver.NAMED_QUERY)
    for name in sending:
        original = getattr(driver.CoreConnection, name)
        signature = inspect.signature(original)

        def recording(
            self: Any,
            *args: Any,
            _name: str = name,
            _original: Any = original,
            _signature: inspect.Signature = signature,
            **kwargs: Any,
        ) -> Any:
            bound = _signature.bind(self, *args, **kwargs)
            if not WALKER.walking:
                sent.append(Sent(_name, (fixed(str(bound.arguments["statement"])),)))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(driver.CoreConnection, name, recording)
    pipelined = db.send

    def send(connection: Any, statements: Sequence[BoundStatement]) -> list[Any]:
        if not WALKER.walking:
            sent.append(Sent("pipelined", tuple(statements)))
        return pipelined(connection, statements)

    monkeypatch.setattr(db, "send", send)
    return sent


def flagged_in(sent: list[Sent]) -> list[tuple[str, str, str]]:
    """Every statement sent that would pin a proxy session, and why."""
    return [
        (m.method, text, reason)
        for m in sent
        for text in m.texts
        for reason in pinning_reasons(m.method, text)
    ]


READ = fixed("SELECT workspace_id, name FROM core_api.workspaces WHERE deleted_at IS NULL LIMIT 5")
WRITE = fixed(
    "INSERT INTO core_api.workspaces (name) VALUES ('pinning probe') RETURNING workspace_id"
)


def test_ordinary_read_and_write_send_nothing_that_pins_a_proxy_session(
    api_database, monkeypatch, sent_sql
):
    reset_environment_pools()  # record from pool creation on
    admin_pool = db.build_pool(Settings(database_url=api_database.admin_url))
    try:
        db.execute([READ])
        written = db.execute([WRITE], pool=admin_pool, retry=False)
        db.execute([READ])
        monkeypatch.undo()  # stop recording before cleaning up
        db.execute(
            [
                BoundStatement(
                    "DELETE FROM core_api.workspaces WHERE workspace_id = $1", (written[0][0],)
                )
            ],
            pool=admin_pool,
        )
    finally:
        admin_pool.dispose()

    assert len(written) == 1
    assert flagged_in(sent_sql) == [], sent_sql
    # Each query without a proof (the sync and drain functions') is one pipelined message,
    # in autocommit: no BEGIN/COMMIT around it. The API's requests are below.
    assert [m for m in sent_sql if set(m.statements) & {READ, WRITE}] == [
        Sent("pipelined", (READ,)),
        Sent("pipelined", (WRITE,)),
        Sent("pipelined", (READ,)),
    ]
    control = [
        text
        for m in sent_sql
        for text in m.texts
        if text.split()[0].lower() in ("begin", "commit", "rollback")
    ]
    # Not even once per connection: the pools run no driver or dialect initialisation.
    assert control == [], sent_sql


# A request's proof: the statement of core_api.prove_scope, its value bound.
PROVE_SCOPE = "CALL core_api.prove_scope($1)"
PROOF_VALUE = re.compile(r"p2\.[0-9]+\.(?:member|service)\.[0-9]+\.[0-9]+\.[0-9a-f]{64}")


def test_an_api_request_is_one_transaction_of_two_messages_that_pins_nothing(
    api_database, admin, sent_sql
):
    # The API's own requests: a Create, then a Retrieve and a List of what it made.
    case = w.arrange_create(admin, "workspace_providers")
    reset_environment_pools()  # record from pool creation on
    sent_sql.clear()  # what the admin connection sent to arrange the case

    created = w.post("workspace_providers", case.claims, case.document)
    assert created.status == 201, created.body
    row_id = created.json["data"]["id"]
    assert rf.read("workspace_providers", case.claims, row_id=row_id).status == 200
    assert rf.read("workspace_providers", case.claims).status == 200

    assert flagged_in(sent_sql) == [], sent_sql
    # Each request one message: BEGIN (read-only for a read), the transaction's settings, its
    # proof, its statements and COMMIT, pipelined; nothing else on the wire.
    assert [m.method for m in sent_sql] == ["pipelined"] * 3, sent_sql
    openings = [list(m.statements[:2]) for m in sent_sql]
    assert openings == [
        [db.BEGIN, db.SETTINGS],
        [db.BEGIN_READ_ONLY, db.SETTINGS],
        [db.BEGIN_READ_ONLY, db.SETTINGS],
    ]
    proofs = set()
    for message in sent_sql:
        _, _, proof, *statements, commit = message.statements
        assert proof.text == PROVE_SCOPE, proof
        (value,) = proof.values
        assert PROOF_VALUE.fullmatch(value), value
        proofs.add(value)
        assert commit == db.COMMIT, commit
        assert statements, message
        assert statements[0].text.startswith(SCOPE_STATEMENT), statements[0].text[:120]
        # Bound, never written into a statement's text.
        assert not [s.text for s in message.statements if value in s.text]
    # Each with a proof of its own.
    assert len(proofs) == 3
