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
from typing import Any

import pg8000.core
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
from tests.support.proven import COMMIT, SCOPE_PROOF, SCOPE_STATEMENT, statements_of
from wellapi.roles import API_ROLE
from wellapi.settings import Settings
from wellapi.store import connections as db

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
        db.execute("SELECT 1/0", pool=pool)

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


def test_engine_runs_in_autocommit_one_implicit_transaction_per_query(api_database, admin, pools):
    pool = api_pool(api_database)
    pools.append(pool)
    xact = "SELECT pg_current_xact_id()::text"

    (first,), (same,) = db.execute(f"{xact}; {xact}", pool=pool)
    ((next_query,),) = db.execute(xact, pool=pool)

    assert first == same  # the statements of one query share its implicit transaction
    assert next_query != first  # which ended with the query: no COMMIT was needed
    with pool.connection() as conn:
        assert conn.autocommit is True
        cursor = conn.cursor()
        cursor.execute(PID)
        pid = cursor.fetchone()[0]
    assert admin.run("SELECT state FROM pg_stat_activity WHERE pid = :pid", pid=pid) == [["idle"]]


# --- TCP_NODELAY ----------------------------------------------------------------------------


def nodelay(pool: db.Pool | Engine) -> tuple[int, int, bool]:
    with dbapi_connection_of(pool) as dbapi_connection:
        sock = dbapi_connection._usock
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
        assert conn._usock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
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
    if method in ("prepare_statement", "execute_named"):
        return ["named prepared statement"]
    text = COMMENTS.sub(" ", statement)
    return [reason for reason, pattern in PINNING.items() if pattern.search(text)]


@pytest.mark.parametrize(
    ("method", "statement", "reason"),
    [
        ("execute_simple", "SET statement_timeout = 0", "session SET"),
        ("execute_simple", "select 1; set search_path to core_api", "session SET"),
        ("execute_simple", "/* x */ SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", None),
        ("execute_unnamed", "SELECT set_config('well.x', '1', false)", "session set_config"),
        ("execute_simple", "PREPARE p AS SELECT 1", "PREPARE"),
        ("execute_simple", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DECLARE cursor"),
        ("execute_simple", "LISTEN changes", "LISTEN"),
        ("execute_simple", "SELECT pg_advisory_lock(42)", "session advisory lock"),
        ("execute_simple", "create temporary table t (x int)", "temporary table"),
        ("execute_simple", "CREATE TEMP TABLE t AS SELECT 1", "temporary table"),
        ("execute_simple", "INSERT INTO t VALUES (nextval('s'))", "sequence call"),
        ("prepare_statement", "SELECT 1", "named prepared statement"),
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
    assert pinning_reasons("execute_simple", statement) == []


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every statement pg8000 puts on the wire, with the method that sent it (the link
    walker's requests, ``tests.support.links``, are not the test's)."""
    sent: list[tuple[str, str]] = []
    for name in ("execute_simple", "execute_unnamed", "prepare_statement", "execute_named"):
        original = getattr(pg8000.core.CoreConnection, name)
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
                sent.append((_name, str(bound.arguments["statement"])))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(pg8000.core.CoreConnection, name, recording)
    return sent


READ = "SELECT workspace_id, name FROM core_api.workspaces WHERE deleted_at IS NULL LIMIT 5"
WRITE = "INSERT INTO core_api.workspaces (name) VALUES ('pinning probe') RETURNING workspace_id"


def test_ordinary_read_and_write_send_nothing_that_pins_a_proxy_session(
    api_database, monkeypatch, sent_sql
):
    reset_environment_pools()  # record from pool creation on
    admin_pool = db.build_pool(Settings(database_url=api_database.admin_url))
    try:
        db.execute(READ)
        written = db.execute(WRITE, pool=admin_pool, retry=False)
        db.execute(READ)
        monkeypatch.undo()  # stop recording before cleaning up
        db.execute(
            f"DELETE FROM core_api.workspaces WHERE workspace_id = '{written[0][0]}'",
            pool=admin_pool,
        )
    finally:
        admin_pool.dispose()

    assert len(written) == 1
    flagged = [(m, s, r) for m, s in sent_sql for r in pinning_reasons(m, s)]
    assert flagged == [], sent_sql
    # Each query without a proof (the sync and drain functions') is one simple-protocol
    # message, in autocommit: no BEGIN/COMMIT around it. The API's requests are below.
    assert [(m, s) for m, s in sent_sql if s in (READ, WRITE)] == [
        ("execute_simple", READ),
        ("execute_simple", WRITE),
        ("execute_simple", READ),
    ]
    control = [s for _, s in sent_sql if s.split()[0].lower() in ("begin", "commit", "rollback")]
    # Not even once per connection: the pools run no driver or dialect initialisation.
    assert control == [], sent_sql


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

    flagged = [(m, s, r) for m, s in sent_sql for r in pinning_reasons(m, s)]
    assert flagged == [], sent_sql
    # Each request: its transaction's opening (read-only for a read), then its proof, its
    # statements and COMMIT; both simple-protocol messages, and nothing else on the wire.
    assert [m for m, _ in sent_sql] == ["execute_simple"] * 6, sent_sql
    openings, messages = [s for _, s in sent_sql[::2]], [s for _, s in sent_sql[1::2]]
    assert openings == [db.OPENING, db.READ_ONLY_OPENING, db.READ_ONLY_OPENING]
    proofs = set()
    for message in messages:
        proof = SCOPE_PROOF.match(message)
        assert proof is not None, message[:120]
        proofs.add(proof[1])
        assert message.endswith(COMMIT), message[-120:]
        statements = statements_of(message)
        assert statements is not None
        assert statements.startswith(SCOPE_STATEMENT), statements[:120]
    # Each with a proof of its own transaction.
    assert len(proofs) == 3
