"""A read writes nothing, and runs unchanged on a hot standby with the wall intact (#41).

Every read route (List, Retrieve, the related and relationship routes, the provider catalog,
the changes feed) of every resource is asked by every caller of the cross-tenant matrix
(``tests.support.cross_tenant``: A's member and service, B's member aiming at A's rows and
ids, a revoked key), its attacks and its controls:

- on the primary, the connection that served them wrote no WAL at all (PostgreSQL 18's
  per-backend WAL statistics, which other test workers' writes on the same server cannot
  move), while a Create on the same connection does;
- on a streaming hot standby of the test server (``tests.support.standby``), where nothing
  can be written, through ``DATABASE_READER_URL`` as a deployment's reader endpoint: every
  answer is the primary's, and every attack is refused there as on the primary;
- a request's message copied from the standby opens nothing there either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pg8000.exceptions
import pg8000.native
import pytest

from tests.support import cross_tenant as ct
from tests.support import read_factories as rf
from tests.support import tenancy as tn
from tests.support.api import Reply, call, event
from tests.support.proven import until_believed_no_more
from tests.support.standby import Standby, hot_standby
from tests.support.writes import post, provenance_document
from wellapi.errors import PROOF_OUT_OF_TIME
from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.roles import API_ROLE
from wellapi.store import connections as db
from wellapi.store.sql import BoundStatement
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

READ_ROUTES = [route for route in ROUTES if OPERATIONS[route[1]].method == "GET"]


def test_the_routes_asked_here_are_every_route_that_reads():
    # The handler sends GET routes to the reader (wellapi.handlers.api): every read, and
    # nothing that writes.
    reads = {"list", "retrieve", "related", "relationship", "catalog", "feed"}
    assert {name for name, op in OPERATIONS.items() if op.method == "GET"} == reads
    assert {op for _, op in READ_ROUTES} == reads


@pytest.fixture
def world(admin: pg8000.native.Connection) -> tn.World:
    return tn.world(admin)


@pytest.fixture
def client(world: tn.World, admin: pg8000.native.Connection) -> ct.InProcessClient:
    return ct.in_process_client(admin, world)


def backend_wal_records() -> int:
    """WAL records written so far by the backend of the API's read connection.

    A backend's statistics reach the shared ones when it goes idle; forcing the next flush
    makes the statement after it see every record the backend wrote before.
    """
    with db.get_pool(db.READER).connection() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT wal_records FROM pg_stat_get_backend_wal(pg_backend_pid())")
        (records,) = cursor.fetchone()
        return int(records)


def replies(world: tn.World, client: ct.InProcessClient) -> tuple[dict[str, Any], list[str]]:
    """Every read route's cases through ``client``: each answer, and what failed its case."""
    answers: dict[str, Any] = {}
    failures: list[str] = []
    private = world.a.private_ids()
    for route in READ_ROUTES:
        attacks, controls = ct.route_cases(route, world)
        for case in (*attacks, *controls):
            name = f"{ct.route_id(route)} {case.name} [{case.caller}]"
            reply = client.send(case.caller, case.request)
            answers[name] = comparable(reply)
            failures += [f"{name}: {problem}" for problem in ct.judge(case, reply, private)]
    return answers, failures


def comparable(reply: Reply) -> tuple[int, Any]:
    """A reply without what differs between two askings (an error's trace id)."""
    body = reply.json if reply.body else None
    for error in (body or {}).get("errors", []):
        error.get("meta", {}).pop("trace_id", None)
    return reply.status, json.dumps(body, sort_keys=True)


def test_no_read_writes_wal_while_a_create_on_the_same_connection_does(world, client, admin):
    if not admin.run("SELECT to_regproc('pg_stat_get_backend_wal') IS NOT NULL")[0][0]:
        # A backend's own WAL is counted from PostgreSQL 18 on: on an older server the count
        # cannot be read, and the standby tests below hold that every read runs where nothing
        # can be written.
        assert int(admin.run("SHOW server_version_num")[0][0]) < 180000
        return
    # The first pass sets what PostgreSQL itself may set on a first read (hint bits, which a
    # server with data checksums logs): the server's housekeeping, not the request's.
    replies(world, client)
    before = backend_wal_records()
    _, failures = replies(world, client)
    after_reads = backend_wal_records()
    assert failures == []

    ledger = "account_workspace_connectors"
    document = provenance_document(
        ledger, world.a.records["account"][1], world.a.workspace_connector[1]
    )
    created = post(ledger, world.a.tenant.claims("service"), document)

    assert created.status == 201, created.body
    assert after_reads == before
    assert backend_wal_records() > after_reads


@pytest.fixture(scope="module")
def standby(server: local_db.LocalDatabase) -> Iterator[Standby]:
    with hot_standby(server) as started:
        yield started


@pytest.fixture
def reads_on(
    standby: Standby, database: local_db.LocalDatabase, monkeypatch: pytest.MonkeyPatch
) -> Iterator[local_db.LocalDatabase]:
    """The read functions pointed at the standby's copy of this session's database."""
    replica = standby.server.with_database(database.name)
    standby.caught_up()
    monkeypatch.setenv("DATABASE_READER_URL", replica.url_for(API_ROLE))
    db.reset_pools()
    yield replica
    monkeypatch.delenv("DATABASE_READER_URL")
    db.reset_pools()


def test_every_read_answers_on_a_hot_standby_as_on_the_primary(world, client, standby, request):
    on_primary, _ = replies(world, client)
    request.getfixturevalue("reads_on")

    on_standby, failures = replies(world, client)

    in_recovery = [BoundStatement("SELECT pg_is_in_recovery()")]
    assert db.get_pool(db.READER).run(in_recovery) == [[True]]
    assert db.get_pool("api").run(in_recovery) == [[False]]
    assert failures == []
    assert on_standby == on_primary


def test_a_message_copied_from_the_standby_opens_nothing_there_once_its_proof_is_past(
    world, reads_on, monkeypatch
):
    sent = rf.record_queries(monkeypatch)
    claims = world.a.tenant.claims("service")
    listed = call(
        "account_workspace_connectors",
        "list",
        event("GET", "/v1/account-workspace-connectors", claims=claims),
    )
    assert listed.status == 200
    assert listed.json["data"]
    # The request's message: its opening, the proof, the scope statement, the read and
    # COMMIT, each with the values it was bound to; its proof made longer ago than believed.
    message = next(
        m.statements for m in sent if m.statements[2:3] and m.statements[2].text == rf.PROVE_SCOPE
    )
    until_believed_no_more(str(message[2].values[0]))
    attacker = local_db.admin_connection(reads_on.url_for(API_ROLE))
    try:
        with pytest.raises(pg8000.exceptions.DatabaseError) as refused:
            db.send(attacker, message)
        # Its proof set by hand, past prove_scope: set_scope believes it no more either.
        attacker.run("ROLLBACK")
        kept = BoundStatement("SELECT set_config('well.proof', $1, true)", message[2].values)
        rows = db.send(attacker, (*message[:2], kept, *message[3:]))
    finally:
        attacker.close()

    assert refused.value.args[0]["C"] == PROOF_OUT_OF_TIME
    _, scope, *page = rows
    assert scope == [None, None]
    assert page in ([], [[0]])
