"""Provenance junctions (account, company and people): written by the connector sync pipeline,
so over HTTP only a service principal may create, change or delete a row."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import get

pytestmark = [
    pytest.mark.usefixtures("api_database"),
    pytest.mark.parametrize("resource", w.PROVENANCE),
]


def soft_delete(admin: Any, table: str, pk: int) -> None:
    admin.run(f"UPDATE core_api.{table} SET deleted_at = now() WHERE pk = :pk", pk=pk)


def record_table(resource: str) -> str:
    return {"account": "accounts", "company": "companies", "people": "peoples"}[w.RECORD[resource]]


# --- who may write ------------------------------------------------------------------------------


def test_a_service_principal_creates_a_row(admin, resource):
    t = f.tenant(admin)
    record_pk, record_id = f.record_of(t, resource)
    doc = w.provenance_document(resource, record_id, t.workspace_connector_id, "output")

    data = w.created(w.post(resource, t.claims("service"), doc))

    assert data["attributes"]["direction"] == "output"
    assert w.related_id(data, w.RECORD[resource]) == str(record_id)
    assert w.related_id(data, "workspace_connector") == str(t.workspace_connector_id)
    row = w.db_row(admin, resource, data["id"])
    assert row[f"{w.RECORD[resource]}_pk"] == record_pk
    assert row["workspace_connector_pk"] == t.workspace_connector_pk
    assert row["direction"] == "output"
    assert row["deleted_at"] is None
    # The server's id is time-ordered (version 7), as the database's own default is.
    assert UUID(data["id"]).version == 7


def test_a_service_principal_acts_across_workspaces(admin, resource):
    service_home, other = f.tenant(admin), f.tenant(admin)
    _, record_id = f.record_of(other, resource)
    doc = w.provenance_document(resource, record_id, other.workspace_connector_id)

    data = w.created(w.post(resource, service_home.claims("service"), doc))

    row_id = data["id"]
    changed = w.document(w.type_of(resource), row_id=row_id, attributes={"direction": "input"})
    assert w.patch(resource, service_home.claims("service"), row_id, changed).status == 200
    assert w.delete(resource, service_home.claims("service"), row_id).status == 204


def test_a_member_may_not_create_even_in_their_own_workspace(admin, resource):
    case = w.arrange_create(admin, resource)
    with w.writes_nothing(admin):
        obj = w.error(w.post(resource, case.tenant.claims("member"), case.document), 403)
    assert obj["code"] == "FORBIDDEN"


def test_a_member_may_not_update(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    with w.writes_nothing(admin):
        reply = w.patch(resource, case.tenant.claims("member"), row_id, case.document)
    assert w.error(reply, 403)["code"] == "FORBIDDEN"


def test_a_member_may_not_delete(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    with w.writes_nothing(admin):
        obj = w.error(w.delete(resource, case.tenant.claims("member"), row_id), 403)
    assert obj["code"] == "FORBIDDEN"
    assert w.db_row(admin, resource, row_id)["deleted_at"] is None


def test_a_member_is_refused_before_the_body_is_read(admin, resource):
    case = w.arrange_create(admin, resource)
    with w.writes_nothing(admin):
        reply = w.post(resource, case.tenant.claims("member"), "not json")
    assert w.error(reply, 403)["code"] == "FORBIDDEN"


def test_a_service_key_naming_a_workspace_that_does_not_exist_writes_nothing(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    create = w.arrange_create(admin, resource)
    query = f"workspace_id={uuid4()}"
    with w.writes_nothing(admin):
        replies = [
            w.post(resource, create.claims, create.document, query=query),
            w.patch(resource, case.claims, row_id, case.document, query=query),
            w.delete(resource, case.claims, row_id, query=query),
        ]
    for reply in replies:
        assert w.error(reply, 403)["source"] == {"parameter": "workspace_id"}


# --- direction ----------------------------------------------------------------------------------


def test_direction_is_required_on_create(admin, resource):
    t = f.tenant(admin)
    _, record_id = f.record_of(t, resource)
    doc = w.provenance_document(resource, record_id, t.workspace_connector_id, direction=None)
    with w.writes_nothing(admin):
        obj = w.error(w.post(resource, t.claims("service"), doc), 422)
    assert obj["source"] == {"pointer": "/data/attributes/direction"}


@pytest.mark.parametrize(("before", "after"), [("input", "output"), ("output", "input")])
def test_direction_cannot_change(admin, resource, before, after):
    t = f.tenant(admin)
    record_pk, _ = f.record_of(t, resource)
    row_id = f.provenance(admin, resource, record_pk, t.workspace_connector_pk, before)
    doc = w.document(w.type_of(resource), row_id=row_id, attributes={"direction": after})

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, t.claims("service"), row_id, doc), 403)

    assert obj["code"] == "IMMUTABLE_FIELD"
    assert obj["source"] == {"pointer": "/data/attributes/direction"}
    assert w.db_row(admin, resource, row_id)["direction"] == before


@pytest.mark.parametrize("direction", ["input", "output"])
def test_sending_the_same_direction_again_is_fine(admin, resource, direction):
    t = f.tenant(admin)
    record_pk, _ = f.record_of(t, resource)
    row_id = f.provenance(admin, resource, record_pk, t.workspace_connector_pk, direction)
    doc = w.document(w.type_of(resource), row_id=row_id, attributes={"direction": direction})

    reply = w.patch(resource, t.claims("service"), row_id, doc)

    assert reply.status == 200, reply.body
    assert reply.json["data"]["attributes"]["direction"] == direction


# --- the parents --------------------------------------------------------------------------------


def test_the_record_and_the_connector_must_share_a_workspace(admin, resource):
    a, b = f.tenant(admin), f.tenant(admin)
    _, record_id = f.record_of(a, resource)
    doc = w.provenance_document(resource, record_id, b.workspace_connector_id)

    with w.writes_nothing(admin):
        reply = w.post(resource, a.claims("service"), doc)

    assert reply.status == 422, reply.body
    assert w.pointers(reply) == sorted(
        [f"/data/relationships/{w.RECORD[resource]}", "/data/relationships/workspace_connector"]
    )
    assert set(reply.error_codes()) == {"WORKSPACE_MISMATCH"}


def test_sending_the_same_parents_on_patch_is_fine(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    current = get(resource, case.claims, row_id=row_id).json["data"]["relationships"]
    doc = w.document(w.type_of(resource), row_id=row_id)
    doc["data"]["relationships"] = {n: {"data": r["data"]} for n, r in current.items()}

    assert w.patch(resource, case.claims, row_id, doc).status == 200


@pytest.mark.parametrize("parent", ["record", "workspace_connector"])
def test_a_parent_cannot_change(admin, resource, parent):
    t = f.tenant(admin)
    record_pk, _ = f.record_of(t, resource)
    row_id = f.provenance(admin, resource, record_pk, t.workspace_connector_pk)
    if parent == "record":
        name, (_, other_id) = w.RECORD[resource], f.record_of(t, resource)
    else:
        name, (_, other_id) = parent, t.workspace_connector()
    doc = w.document(w.type_of(resource), row_id=row_id, relationships={name: (name, other_id)})

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, t.claims("service"), row_id, doc), 403)

    assert obj["code"] == "IMMUTABLE_FIELD"
    assert obj["source"] == {"pointer": f"/data/relationships/{name}"}


@pytest.mark.parametrize("parent", ["record", "workspace_connector"])
@pytest.mark.parametrize("state", ["missing", "soft-deleted"])
def test_a_missing_or_deleted_parent_is_404_with_the_pointer(admin, resource, parent, state):
    t = f.tenant(admin)
    record_pk, record_id = f.record_of(t, resource)
    connector_id: UUID = t.workspace_connector_id
    if parent == "record":
        name = w.RECORD[resource]
        if state == "missing":
            record_id = uuid4()
        else:
            soft_delete(admin, record_table(resource), record_pk)
    else:
        name = "workspace_connector"
        if state == "missing":
            connector_id = uuid4()
        else:
            soft_delete(admin, "workspace_connectors", t.workspace_connector_pk)
    doc = w.provenance_document(resource, record_id, connector_id)

    with w.writes_nothing(admin):
        obj = w.error(w.post(resource, t.claims("service"), doc), 404)

    assert obj["code"] == "NOT_FOUND"
    assert obj["source"] == {"pointer": f"/data/relationships/{name}"}


def test_both_parents_missing_is_404_naming_one_of_them(admin, resource):
    t = f.tenant(admin)
    doc = w.provenance_document(resource, uuid4(), uuid4())
    with w.writes_nothing(admin):
        obj = w.error(w.post(resource, t.claims("service"), doc), 404)
    assert obj["source"]["pointer"] in (
        f"/data/relationships/{w.RECORD[resource]}",
        "/data/relationships/workspace_connector",
    )


# --- a ledger, not a set ------------------------------------------------------------------------


def test_the_same_record_connector_and_direction_may_be_posted_again(admin, resource):
    t = f.tenant(admin)
    record_pk, record_id = f.record_of(t, resource)
    doc = w.provenance_document(resource, record_id, t.workspace_connector_id)

    first = w.created(w.post(resource, t.claims("service"), doc))
    second = w.created(w.post(resource, t.claims("service"), doc))

    assert first["id"] != second["id"]
    rows = w.live_rows(admin, resource, f"{w.RECORD[resource]}_pk = :r", r=record_pk)
    assert sorted(r["id"] for r in rows) == sorted([first["id"], second["id"]])


def test_a_deleted_row_stays_in_the_ledger(admin, resource):
    case, row_id = w.arrange_row(admin, resource)

    assert w.delete(resource, case.claims, row_id).status == 204

    row = w.db_row(admin, resource, row_id)
    assert row["deleted_at"] is not None
    assert row["direction"] == "input"
