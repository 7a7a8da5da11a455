"""Retry-safe creates: a POST sent again with its ``Idempotency-Key`` is answered, not applied.

Every create route (the generic create of each resource, the nested select and enrol) takes the
header. The first request is applied and its answer kept
(``core_api.remember_idempotent_answer``); a retry with the same key, body and principal gets
the same status, body and ``Location``, marked ``Idempotent-Replayed: true``, and writes
nothing; the same key with another body is 422 ``IDEMPOTENCY_KEY_REUSED``; two requests with one
key at once write once; keys of different principals never meet; kept keys expire after
``KEYS_KEPT`` and are pruned by later claims.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from tests.support import api
from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.proven import SCOPE_STATEMENT

pytestmark = pytest.mark.usefixtures("api_database")

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

arranged = w.arrange_route
ROUTES = w.CREATE_ROUTES


@pytest.fixture(autouse=True)
def no_keys(admin: Any) -> None:
    """Each test starts with no kept key (the module's tests share their database)."""
    admin.run("DELETE FROM well_private.idempotency_keys")


def rows_of(admin: Any, table: str, workspace_pk: int) -> int:
    """The rows of ``table`` in the workspace (a ledger's, through its workspace connector)."""
    if table in w.PROVENANCE:
        return int(
            admin.run(
                f"SELECT count(*) FROM core_api.{table} l JOIN core_api.workspace_connectors c "
                "ON c.pk = l.workspace_connector_pk WHERE c.workspace_pk = :w",
                w=workspace_pk,
            )[0][0]
        )
    return int(
        admin.run(f"SELECT count(*) FROM core_api.{table} WHERE workspace_pk = :w", w=workspace_pk)[
            0
        ][0]
    )


def keys(admin: Any) -> list[list[Any]]:
    return list(
        admin.run(
            "SELECT person_pk, principal_kind, idempotency_key, status "
            "FROM well_private.idempotency_keys ORDER BY created_at"
        )
    )


@pytest.mark.parametrize("route", ROUTES)
def test_a_retry_gets_the_first_answer_and_writes_nothing(admin, route):
    send, doc, t, table = arranged(admin, route)
    key = {KEY: str(uuid4())}

    first = send(key, doc)
    assert first.status == 201, first.body
    written = rows_of(admin, table, t.workspace_pk)
    with w.writes_nothing(admin):
        retry = send(key, doc)

    assert (retry.status, retry.body) == (first.status, first.body)
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert rows_of(admin, table, t.workspace_pk) == written


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_create_answers_the_resource_object_a_retrieve_of_its_row_answers(admin, route, keyed):
    """Keyed, the create's document is written by its re-read's statement (the rows the key
    keeps, which the previous release replays); unkeyed, by the function, as a read's is. Both
    are the row as a Retrieve answers it."""
    send, doc, t, table = arranged(admin, route)
    reply = send({KEY: str(uuid4())} if keyed else {}, doc)
    assert reply.status == 201, reply.body
    data = json.loads(reply.body)["data"]

    # The nested route's links carry its path's workspace, as a Retrieve naming it does.
    query = f"workspace_id={t.workspace_id}" if route == "select" else ""
    retrieved = api.get(table, t.claims(), row_id=data["id"], query=query)

    assert retrieved.status == 200, retrieved.body
    assert data == json.loads(retrieved.body)["data"]


@pytest.mark.parametrize(
    ("route", "query"),
    [(r, q) for r in ROUTES for q in w.answer_queries(w.table_of_route(r))],
    ids=str,
)
def test_an_unkeyed_create_answers_what_a_retrieve_with_its_query_answers(
    admin, monkeypatch, route, query
):
    """Unkeyed, a create's one statement answers with the row it wrote, its parents read from
    the statement's own lookups or joined as a read joins them
    (``wellapi.sqltext.writes.written_row``), and nothing reads it back: the document,
    included records and all, is the Retrieve's of the same row with the same query."""
    send, doc, t, table = arranged(admin, route)
    named = f"workspace_id={t.workspace_id}&" if route == "select" else ""
    sent = rf.record_queries(monkeypatch)
    reply = send({}, doc, query=named + query)
    assert reply.status == 201, reply.body
    (request,) = rf.requests_of(sent)
    scope, write = (s.text for s in request.bound)
    assert scope.startswith(SCOPE_STATEMENT)
    assert write.startswith("WITH ")
    created = json.loads(reply.body)
    row_id = created["data"]["id"]

    retrieved = api.get(table, t.claims(), row_id=row_id, query=named + query)

    assert retrieved.status == 200, retrieved.body
    answered = json.loads(retrieved.body)
    assert (created["data"], created.get("included")) == (
        answered["data"],
        answered.get("included"),
    )
    assert created.get("included"), "each query includes a record"


def test_without_the_header_a_create_is_applied_each_time_as_before(admin):
    send, doc, _, _ = arranged(admin, "workspace_providers")
    first = send({}, doc)
    assert first.status == 201
    # The same provider again: the route's own rule answers, as it always did.
    assert send({}, doc).status == 409
    assert admin.run("SELECT count(*) FROM well_private.idempotency_keys") == [[0]]


def test_a_select_of_an_existing_row_is_replayed_as_its_200(admin):
    send, doc, _, _ = arranged(admin, "select")
    assert send({}, doc).status == 201
    key = {KEY: "select-again"}

    first = send(key, doc)
    retry = send(key, doc)

    assert first.status == 200, first.body
    assert (retry.status, retry.body, retry.headers[REPLAYED]) == (200, first.body, "true")


def test_the_same_key_with_another_body_is_422_and_writes_nothing(admin):
    send, doc, t, _ = arranged(admin, "select")
    key = {KEY: "k-1"}
    assert send(key, doc).status == 201
    _, other_provider = f.provider(admin)
    other = w.provider_document(t.workspace_id, other_provider)

    with w.writes_nothing(admin):
        reply = send(key, other)

    error = w.error(reply, 422)
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert error["source"] == {"header": KEY}


def test_the_same_key_on_another_route_or_query_is_another_request(admin):
    a = w.arrange_create(admin, "workspace_group_workspaces")
    key = {KEY: "k-2"}
    assert w.post("workspace_group_workspaces", a.claims, a.document, headers=key).status == 201

    reply = w.post(
        "workspace_group_workspaces", a.claims, a.document, headers=key, query="include=workspace"
    )

    assert w.error(reply, 422)["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_of_different_principals_never_collide(admin):
    one, doc_one, t_one, table = arranged(admin, "select")
    two, doc_two, t_two, _ = arranged(admin, "select")
    key = {KEY: "shared-key"}

    first, second = one(key, doc_one), two(key, doc_two)

    assert (first.status, second.status) == (201, 201)
    assert REPLAYED not in second.headers
    assert (
        rows_of(admin, table, t_one.workspace_pk) == rows_of(admin, table, t_two.workspace_pk) == 1
    )
    assert len({(r[0], r[1]) for r in keys(admin)}) == 2


def test_a_refused_request_keeps_no_answer_and_frees_its_key(admin):
    send, doc, t, _ = arranged(admin, "workspace_group_workspaces")
    assert send({}, doc).status == 201  # already enrolled: the keyed request is refused
    key = {KEY: "k-3"}

    assert send(key, doc).status == 409
    assert keys(admin) == []
    w.unenrol(w.writer_claims(t, "workspace_group_workspaces"), *_enrolment(admin, t))

    assert send(key, doc).status == 201


def test_a_refused_request_right_after_another_requests_update_keeps_no_answer(admin):
    """The update a previous request committed on the same connection (its statistics not yet
    flushed) does not make a refused request look applied: ``core_api.remember_idempotent_answer``
    asks the rows' own ``xmin``."""
    send, doc, t, _ = arranged(admin, "workspace_group_workspaces")
    assert send({}, doc).status == 201
    other_send, other_doc, other, _ = arranged(admin, "workspace_group_workspaces")
    assert other_send({}, other_doc).status == 201
    w.unenrol(other.claims(), *_enrolment(admin, other))  # an UPDATE, committed just now
    key = {KEY: "k-after-an-update"}

    assert send(key, doc).status == 409
    assert keys(admin) == []
    w.unenrol(t.claims(), *_enrolment(admin, t))

    again = send(key, doc)
    assert (again.status, REPLAYED in again.headers) == (201, False)


def _enrolment(admin: Any, t: f.Tenant) -> tuple[Any, Any]:
    (group_id,) = admin.run(
        "SELECT g.workspace_group_id FROM core_api.workspace_group_workspaces e "
        "JOIN core_api.workspace_groups g ON g.pk = e.workspace_group_pk "
        "WHERE e.workspace_pk = :w AND e.deleted_at IS NULL",
        w=t.workspace_pk,
    )[0]
    return group_id, t.workspace_id


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there", "a space"])
def test_an_empty_long_or_unprintable_key_is_400_naming_the_header(admin, key):
    send, doc, _, _ = arranged(admin, "select")

    with w.writes_nothing(admin):
        reply = send({KEY: key}, doc)

    error = w.error(reply, 400)
    assert (error["code"], error["source"]) == ("INVALID_IDEMPOTENCY_KEY", {"header": KEY})


def test_a_key_of_255_characters_is_taken(admin):
    send, doc, _, _ = arranged(admin, "select")
    assert send({KEY: "k" * 255}, doc).status == 201


def test_two_requests_with_one_key_at_once_write_once(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id)
    ev = w.select_event(t.claims(), t.workspace_id, doc, headers={KEY: "raced"})

    replies = w.race([("workspace_providers", "select", ev), ("workspace_providers", "select", ev)])

    assert w.statuses(replies) == [201, 201]
    assert replies[0].body == replies[1].body
    assert sorted(REPLAYED in r.headers for r in replies) == [False, True]
    assert rows_of(admin, "workspace_providers", t.workspace_pk) == 1


def test_a_request_waits_for_the_first_with_its_key_then_replays_its_answer(admin, locker):
    """Deterministic: the first request's claim is held open while the second arrives."""
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id)
    key = {KEY: "held"}
    first = w.select(t.claims(), t.workspace_id, doc, headers=key)
    (stored,) = admin.run("SELECT fingerprint, status, rows FROM well_private.idempotency_keys")
    admin.run("DELETE FROM well_private.idempotency_keys")

    retry = w.select_event(t.claims(), t.workspace_id, doc, headers=key)

    reply = w.waiting_on_a_lock(
        admin,
        locker,
        "INSERT INTO well_private.idempotency_keys "
        "(person_pk, principal_kind, idempotency_key, fingerprint, status, rows) "
        "VALUES (:p, 'member', 'held', :fp, :s, CAST(:r AS jsonb))",
        ("workspace_providers", "select", retry),
        p=t.person_pk,
        fp=stored[0],
        s=stored[1],
        r=json.dumps(stored[2]),
    )

    assert (reply.status, reply.body, reply.headers[REPLAYED]) == (201, first.body, "true")
    assert rows_of(admin, "workspace_providers", t.workspace_pk) == 1


def test_expired_keys_are_pruned_by_later_claims_and_an_expired_key_is_applied_again(admin):
    send, doc, t, _ = arranged(admin, "workspace_group_workspaces")
    key = {KEY: "old"}
    assert send(key, doc).status == 201
    others = [f.tenant(admin) for _ in range(3)]
    for i, other in enumerate(others):
        admin.run(
            "INSERT INTO well_private.idempotency_keys (person_pk, principal_kind, "
            "idempotency_key, fingerprint, status, rows, created_at) "
            "VALUES (:p, 'member', :k, 'x', 201, '[]', now() - CAST(:age AS interval))",
            p=other.person_pk,
            k=f"stale-{i}",
            age=f"{25 + i} hours",
        )
    admin.run(
        "UPDATE well_private.idempotency_keys "
        "SET created_at = now() - interval '24 hours 1 second' WHERE idempotency_key = 'old'"
    )
    w.unenrol(t.claims(), *_enrolment(admin, t))

    # The same key again: its first answer has expired, so the request is applied afresh.
    again = send(key, doc)

    assert again.status == 201
    assert REPLAYED not in again.headers
    left = {r[2] for r in keys(admin)}
    # The two oldest expired keys went with this claim, and the caller's own expired one.
    assert left == {"stale-0", "old"}


def test_a_keyed_create_and_its_replay_are_each_one_transaction_of_two_messages(admin, monkeypatch):
    warm, warm_doc, _, _ = arranged(admin, "select")
    assert warm({}, warm_doc).status == 201  # connect before counting
    send, doc, _, _ = arranged(admin, "select")
    calls = rf.record_queries(monkeypatch)
    key = {KEY: "one-trip"}

    for expected in (None, "true"):
        assert send(key, doc).headers.get(REPLAYED) == expected
        (request,) = rf.requests_of(calls)
        calls.clear()
        sent = request.statements
        assert not request.read_only
        scope, claim, remember = (
            sent.index(SCOPE_STATEMENT),
            sent.index("core_api.claim_idempotency_key("),
            sent.index("core_api.remember_idempotent_answer("),
        )
        assert scope < claim < sent.index("INSERT INTO core_api.workspace_providers") < remember
