"""Client-generated ids on create (JSON:API 1.1, 9.1.1): a UUID no row of the table has had.

Every create route (the ledgers', the enrolments', the providers', the select and the enrol
routes) takes ``data.id``: a UUID creates the row under it; an id any row of the table has or
had (live, soft-deleted, another tenant's, which the API role cannot see) is 409
``ID_ALREADY_USED`` at ``/data/id`` and writes nothing; anything else is refused before the
database is asked. The used id is checked in the request's one round trip, after the write
(``core_api.check_client_id``), so two creates racing with one id get one 201 and 409s, and one
row.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import Reply
from wellapi.jsonapi.ids import new_id

pytestmark = pytest.mark.usefixtures("api_database")

KEY = "Idempotency-Key"


def with_id(document: w.Json, row_id: Any) -> w.Json:
    return {**document, "data": {**document["data"], "id": row_id}}


def refused_as_used(reply: Reply) -> w.Json:
    error = w.error(reply, 409)
    assert error["code"] == "ID_ALREADY_USED"
    assert error["source"] == {"pointer": "/data/id"}
    return error


def rows_with_id(admin: Any, table: str, row_id: UUID | str) -> int:
    found = admin.run(
        f"SELECT count(*) FROM core_api.{table} WHERE {w.type_of(table)}_id = CAST(:i AS uuid)",
        i=str(row_id),
    )
    return int(found[0][0])


@pytest.mark.parametrize("route", w.CREATE_ROUTES)
def test_a_uuid_as_data_id_creates_the_row_under_it(admin, route):
    send, doc, _, table = w.arrange_route(admin, route)
    row_id = new_id()

    data = w.created(send({}, with_id(doc, str(row_id))))

    assert data["id"] == str(row_id)
    # The select route's self link names the pair (/workspaces/{id}/providers/{id}).
    assert data["links"]["self"].endswith(f"/{row_id}") or route == "select"
    assert rows_with_id(admin, table, row_id) == 1


def test_a_uuid_in_capitals_is_the_same_id_answered_in_the_canonical_spelling(admin):
    send, doc, _, table = w.arrange_route(admin, "workspace_providers")
    row_id = new_id()

    data = w.created(send({}, with_id(doc, str(row_id).upper())))

    assert data["id"] == str(row_id)
    assert rows_with_id(admin, table, row_id) == 1


@pytest.mark.parametrize("route", w.CREATE_ROUTES)
def test_an_id_of_a_live_row_of_the_same_tenant_is_409_and_writes_nothing(admin, route):
    send, doc, _, _ = w.arrange_route(admin, route)
    row_id = str(new_id())
    assert send({}, with_id(doc, row_id)).status == 201

    with w.writes_nothing(admin):
        refused_as_used(send({}, with_id(doc, row_id)))


@pytest.mark.parametrize("route", w.ALL)
def test_an_id_of_a_soft_deleted_row_is_409_and_writes_nothing(admin, route):
    a, row_id = w.arrange_row(admin, route)
    assert w.delete(route, a.claims, row_id).status == 204
    fresh = w.arrange_create(admin, route)

    with w.writes_nothing(admin):
        refused_as_used(w.post(route, fresh.claims, with_id(fresh.document, str(row_id))))


@pytest.mark.parametrize("route", w.CREATE_ROUTES)
def test_an_id_of_another_tenants_row_is_409_and_writes_nothing(admin, route):
    theirs, their_doc, _, table = w.arrange_route(admin, route)
    ours, our_doc, _, _ = w.arrange_route(admin, route)
    row_id = str(new_id())
    assert theirs({}, with_id(their_doc, row_id)).status == 201

    with w.writes_nothing(admin):
        refused_as_used(ours({}, with_id(our_doc, row_id)))
    assert rows_with_id(admin, table, row_id) == 1


def test_a_used_id_says_the_same_whoever_holds_it_and_in_whatever_state(admin):
    # Live in the caller's tenant, soft-deleted in it, live in another: one answer.
    route = "workspace_providers"
    caller = w.arrange_create(admin, route)

    def new_document() -> w.Json:
        return w.provider_document(caller.tenant.workspace_id, f.provider(admin)[1])

    own_id, deleted_id = str(new_id()), str(new_id())
    assert w.post(route, caller.claims, with_id(new_document(), own_id)).status == 201
    assert w.post(route, caller.claims, with_id(new_document(), deleted_id)).status == 201
    assert w.delete(route, caller.claims, deleted_id).status == 204
    _, their_id = w.arrange_row(admin, route)

    errors = []
    for row_id in (own_id, deleted_id, str(their_id)):
        sent = with_id(new_document(), row_id)
        with w.writes_nothing(admin):
            error = refused_as_used(w.post(route, caller.claims, sent))
        # Each answer has its own trace id; nothing else may differ.
        errors.append(
            {k: v for k, v in error.items() if k != "meta"} | {"meta": set(error["meta"])}
        )
    assert errors[0] == errors[1] == errors[2]


def test_a_used_id_is_409_before_the_rules_of_the_resource(admin):
    # The document names a provider that does not exist: with a new id that is 404; with a
    # used id the answer is the id's, and says nothing of the rest.
    _, their_id = w.arrange_row(admin, "workspace_providers")
    caller = w.arrange_create(admin, "workspace_providers")
    doc = w.provider_document(caller.tenant.workspace_id, new_id())

    missing = w.post("workspace_providers", caller.claims, with_id(doc, str(new_id())))
    assert w.error(missing, 404)["source"] == {"pointer": "/data/relationships/provider"}
    with w.writes_nothing(admin):
        refused_as_used(w.post("workspace_providers", caller.claims, with_id(doc, str(their_id))))


@pytest.mark.parametrize(
    "row_id",
    ["my-own-id", "", "{" + str(UUID(int=7)) + "}", "urn:uuid:" + str(UUID(int=7)), "0" * 32],
)
@pytest.mark.parametrize("route", ["workspace_providers", "select", "enrol"])
def test_an_id_that_is_not_a_uuid_is_403_and_writes_nothing(admin, route, row_id):
    send, doc, _, _ = w.arrange_route(admin, route)
    with w.writes_nothing(admin):
        error = w.error(send({}, with_id(doc, row_id)), 403)
    assert error["code"] == "CLIENT_GENERATED_ID_NOT_ALLOWED"
    assert error["source"] == {"pointer": "/data/id"}


@pytest.mark.parametrize("row_id", [None, 42, [], {}])
def test_an_id_that_is_not_a_string_is_400_and_writes_nothing(admin, row_id):
    send, doc, _, _ = w.arrange_route(admin, "workspace_providers")
    with w.writes_nothing(admin):
        error = w.error(send({}, with_id(doc, row_id)), 400)
    assert error["code"] == "SCHEMA_VALIDATION_ERROR"
    assert error["source"] == {"pointer": "/data/id"}


# --- the select route's upsert ---------------------------------------------------------------


def test_a_select_with_a_client_id_and_no_live_row_creates_it_under_the_id(admin):
    send, doc, t, _ = w.arrange_route(admin, "select")
    row_id = str(new_id())

    data = w.created(send({}, with_id(doc, row_id)))

    assert data["id"] == row_id
    assert data["attributes"]["is_selected"] is True
    assert w.related_id(data, "workspace") == str(t.workspace_id)


def test_a_select_with_a_client_id_when_the_pair_has_a_live_row_is_409_not_that_row(admin):
    # Without an id the select updates the live row and answers with it (200); with one the
    # client named a new resource, and the live row has another id: nothing is written.
    send, doc, _, _ = w.arrange_route(admin, "select")
    assert send({}, doc).status == 201

    with w.writes_nothing(admin):
        error = w.error(send({}, with_id(doc, str(new_id()))), 409)
    assert error["code"] == "WORKSPACE_PROVIDER_ALREADY_EXISTS"
    assert send({}, doc).status == 200


def test_a_select_with_the_live_rows_own_id_is_409_as_a_used_id(admin):
    send, doc, _, _ = w.arrange_route(admin, "select")
    row_id = str(new_id())
    assert send({}, with_id(doc, row_id)).status == 201

    with w.writes_nothing(admin):
        refused_as_used(send({}, with_id(doc, row_id)))


# --- Idempotency-Key -------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["workspace_providers", "select"])
def test_a_keyed_create_with_a_client_id_is_replayed_not_refused(admin, route):
    admin.run("DELETE FROM well_private.idempotency_keys")
    send, doc, _, table = w.arrange_route(admin, route)
    sent = with_id(doc, str(new_id()))
    key = {KEY: f"client-id-{route}"}

    first = send(key, sent)
    with w.writes_nothing(admin):
        retry = send(key, sent)

    assert first.status == 201, first.body
    assert (retry.status, retry.body, retry.headers["Idempotent-Replayed"]) == (
        201,
        first.body,
        "true",
    )
    assert rows_with_id(admin, table, sent["data"]["id"]) == 1


def test_the_same_key_with_another_client_id_is_422_and_another_key_with_the_id_409(admin):
    admin.run("DELETE FROM well_private.idempotency_keys")
    send, doc, _, _ = w.arrange_route(admin, "workspace_providers")
    row_id = str(new_id())
    assert send({KEY: "k-id"}, with_id(doc, row_id)).status == 201

    with w.writes_nothing(admin):
        reused = w.error(send({KEY: "k-id"}, with_id(doc, str(new_id()))), 422)
        refused_as_used(send({KEY: "k-other"}, with_id(doc, row_id)))
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"


# --- races -----------------------------------------------------------------------------------


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(w.ALL),
    racers=st.integers(min_value=2, max_value=4),
    tenants=st.sampled_from(["one", "each"]),
)
def test_creates_racing_with_one_client_id_make_one_row_one_201_and_409s(
    admin, route, racers, tenants
):
    row_id = str(new_id())
    one = w.arrange_create(admin, route)
    arranged = [one if tenants == "one" else w.arrange_create(admin, route) for _ in range(racers)]
    batch = [
        (route, "create", w.create_event(route, a.claims, with_id(a.document, row_id)))
        for a in arranged
    ]

    replies = w.race(batch)

    assert w.statuses(replies) == [201] + [409] * (racers - 1), [r.body for r in replies]
    for reply in replies:
        if reply.status == 409:
            refused_as_used(reply)
    assert rows_with_id(admin, route, row_id) == 1


# --- out of scope ----------------------------------------------------------------------------


def test_a_used_id_out_of_the_callers_workspace_is_its_403_not_409(admin):
    # A key of a person with no membership in the workspace it names: the scope's answer, as
    # without an id; the id is not looked at.
    _, their_id = w.arrange_row(admin, "workspace_providers")
    caller = w.arrange_create(admin, "workspace_providers")
    other = f.tenant(admin)
    claims = f.claims(admin, caller.tenant.person_id, other.workspace_id, "member")
    doc = with_id(caller.document, str(their_id))

    with w.writes_nothing(admin):
        error = w.error(w.post("workspace_providers", claims, doc), 403)
    assert error["code"] == "FORBIDDEN"
