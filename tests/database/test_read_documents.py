"""What a client sees in a List or Retrieve document: types, ids, attributes, relationships."""

from __future__ import annotations

import json

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.api import JSONAPI, Lambda, assert_valid_document, event
from tests.support.environments import function_of
from tests.support.read_factories import ALL, PROVENANCE, at, read
from welldev.lambda_runtime import load_handler

pytestmark = pytest.mark.usefixtures("api_database")

# The specification's words: every ledger has the provenance pattern (its record and the
# workspace connector, which way), the other junctions their own.
TYPES = {
    **{ledger: f"{record}_workspace_connector" for ledger, record in f.PROVENANCE_RECORD.items()},
    "workspace_group_workspaces": "workspace_group_workspace",
    "workspace_providers": "workspace_provider",
}
SYSTEM = {"created_at", "updated_at", "deleted_at"}
ATTRIBUTES = {
    **{ledger: {"direction", *SYSTEM} for ledger in f.PROVENANCE_RECORD},
    "workspace_group_workspaces": SYSTEM,
    "workspace_providers": {"is_selected", "is_matched", *SYSTEM},
}
RELATIONSHIPS = {
    **{ledger: {record, "workspace_connector"} for ledger, record in f.PROVENANCE_RECORD.items()},
    "workspace_group_workspaces": {"workspace_group", "workspace", "created_by"},
    "workspace_providers": {"workspace", "provider"},
}
BASE = "https://api.test/v1"


def assert_resource_object(obj: dict, row: rf.Row, resource: str) -> None:
    assert obj["type"] == TYPES[resource]
    assert obj["id"] == str(row.id)
    assert set(obj["attributes"]) == ATTRIBUTES[resource]
    assert obj["attributes"]["created_at"] == "2024-05-10T08:05:00Z"
    # The trigger stamps updated_at on insert with the same instant.
    assert obj["attributes"]["updated_at"] == "2024-05-10T08:05:00Z"
    assert obj["attributes"]["deleted_at"] is None
    assert set(obj["relationships"]) == RELATIONSHIPS[resource]
    here = f"{BASE}/{resource.replace('_', '-')}/{row.id}"
    for name, parent in row.parents.items():
        assert parent is not None
        parent_type, parent_id = parent
        # Both links lead to this API's own routes for the relationship, never to the
        # platform's record.
        assert obj["relationships"][name] == {
            "data": {"type": parent_type, "id": str(parent_id)},
            "links": {"self": f"{here}/relationships/{name}", "related": f"{here}/{name}"},
        }
    assert obj["links"] == {"self": here}
    assert set(obj) == {"type", "id", "attributes", "relationships", "links"}


@pytest.mark.parametrize("resource", ALL)
def test_retrieve_returns_the_resource_object_the_spec_describes(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource, created_at=at(5))

    reply = read(resource, t.claims(), row_id=row.id)

    assert reply.status == 200, reply.body
    doc = reply.json
    assert doc["jsonapi"] == {"version": "1.1"}
    assert_resource_object(doc["data"], row, resource)
    assert doc["links"] == {"self": f"{BASE}/{resource.replace('_', '-')}/{row.id}"}
    assert "included" not in doc
    assert reply.headers["Content-Type"] == JSONAPI


@pytest.mark.parametrize("resource", ALL)
def test_list_returns_the_same_resource_objects_as_retrieve(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource, created_at=at(5))

    reply = read(resource, t.claims())

    assert reply.status == 200, reply.body
    doc = reply.json
    assert doc["jsonapi"] == {"version": "1.1"}
    assert len(doc["data"]) == 1
    assert_resource_object(doc["data"][0], row, resource)
    assert doc["data"][0] == read(resource, t.claims(), row_id=row.id).json["data"]
    assert doc["links"] == {
        "self": f"{BASE}/{resource.replace('_', '-')}",
        "prev": None,
        "next": None,
    }
    assert reply.headers["Content-Type"] == (
        f'{JSONAPI}; profile="https://jsonapi.org/profiles/ethanresnick/cursor-pagination"'
    )


@pytest.mark.parametrize("resource", PROVENANCE)
@pytest.mark.parametrize("direction", ["input", "output"])
def test_provenance_direction_is_the_stored_enum_value(admin, resource, direction):
    t = f.tenant(admin)
    row = rf.provenance(admin, t, resource, direction=direction)

    reply = read(resource, t.claims(), row_id=row.id)

    assert reply.json["data"]["attributes"]["direction"] == direction


@pytest.mark.parametrize(("selected", "matched"), [(True, True), (False, True), (False, False)])
def test_workspace_provider_flags_are_json_booleans(admin, selected, matched):
    t = f.tenant(admin)
    row = rf.workspace_provider(admin, t, selected=selected, matched=matched)

    attributes = read("workspace_providers", t.claims(), row_id=row.id).json["data"]["attributes"]

    assert attributes["is_selected"] is selected
    assert attributes["is_matched"] is matched


def test_enrolment_without_a_creator_has_null_created_by_linkage(admin):
    t = f.tenant(admin)
    row = rf.enrolment(admin, t, created_by=None)

    for reply in (
        read("workspace_group_workspaces", t.claims(), row_id=row.id),
        read("workspace_group_workspaces", t.claims(), query="include=created_by"),
    ):
        data = reply.json["data"]
        obj = data if isinstance(data, dict) else data[0]
        here = f"{BASE}/workspace-group-workspaces/{row.id}"
        # An empty to-one still has its routes.
        assert obj["relationships"]["created_by"] == {
            "data": None,
            "links": {
                "self": f"{here}/relationships/created_by",
                "related": f"{here}/created_by",
            },
        }
    # Nothing to include for an empty to-one.
    assert reply.json["included"] == []


def test_created_by_points_at_the_enrolling_person(admin):
    t = f.tenant(admin)
    row = rf.enrolment(admin, t)

    reply = read("workspace_group_workspaces", t.claims(), row_id=row.id)

    assert reply.json["data"]["relationships"]["created_by"]["data"] == {
        "type": "people",
        "id": str(t.person_id),
    }


@pytest.mark.parametrize("resource", ALL)
def test_no_internal_key_reaches_a_client(admin, resource):
    t = f.tenant(admin)
    rows = [rf.make_row(admin, t, resource, created_at=at(i)) for i in range(3)]
    everything = ",".join(sorted(RELATIONSHIPS[resource]))

    listed = read(resource, t.claims(), query=f"include={everything}&page[size]=2")
    retrieved = read(resource, t.claims(), row_id=rows[0].id, query=f"include={everything}")

    # read() walks each document: no `pk` member, no integer id, no stray integer, and the
    # cursor in links.next decodes to strings only. Here, also: the pks are not in the cursor.
    for reply in (listed, retrieved):
        assert reply.status == 200, reply.body
    sort, value, row_id = rf.decode_cursor(
        rf.cursor_of(listed.json["links"]["next"], "page[after]")
    )
    assert (sort, value, row_id) == ("-created_at", at(1).isoformat(), str(rows[1].id))
    assert all(str(r.pk) not in (sort, value, row_id) for r in rows)


def test_timestamps_are_utc_iso_8601_with_microseconds_kept(admin):
    t = f.tenant(admin)
    stamp = at(0).replace(microsecond=123456)
    row = rf.workspace_provider(admin, t, created_at=stamp)
    # A ledger row's created_at is its id's millisecond.
    ledger_row = rf.provenance(admin, t, "account_workspace_connectors", created_at=stamp)

    attributes = read("workspace_providers", t.claims(), row_id=row.id).json["data"]["attributes"]
    ledger = read("account_workspace_connectors", t.claims(), row_id=ledger_row.id).json["data"]

    assert attributes["created_at"] == "2024-05-10T08:00:00.123456Z"
    assert ledger["attributes"]["created_at"] == "2024-05-10T08:00:00.123000Z"


@pytest.mark.parametrize("operation", ["list", "retrieve", "related", "relationship"])
@pytest.mark.parametrize("resource", ALL)
def test_each_read_route_has_a_function_serving_its_resource(admin, resource, operation):
    # The template's function of the route, its handler imported as Lambda imports it.
    handler = load_handler(function_of(resource, operation))
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    base = "/v1/" + resource.replace("_", "-")
    # The related-resource and relationship routes follow the relationship into the row's
    # own workspace, which the caller may see whatever the resource.
    rel = "workspace_connector" if resource in PROVENANCE else "workspace"
    if operation == "list":
        ev = event("GET", base, claims=t.claims())
    elif operation == "retrieve":
        ev = event(
            "GET",
            f"{base}/{row.id}",
            claims=t.claims(),
            path_parameters={"id": str(row.id)},
            route=base + "/{id}",
        )
    else:
        suffix = (
            "/relationships/{relationship}" if operation == "relationship" else "/{relationship}"
        )
        ev = event(
            "GET",
            f"{base}/{row.id}{suffix.format(relationship=rel)}",
            claims=t.claims(),
            path_parameters={"id": str(row.id), "relationship": rel},
            route=base + "/{id}" + suffix,
        )

    result = handler(ev, Lambda())

    assert result["statusCode"] == 200, result
    document = json.loads(result["body"])
    assert_valid_document(document)
    if operation in ("related", "relationship"):
        assert document["data"]["type"] == rel  # each relationship named after its type
        if operation == "relationship":
            assert set(document["data"]) == {"type", "id"}
        else:
            assert "attributes" in document["data"]
        return
    data = document["data"] if operation == "retrieve" else document["data"][0]
    assert (data["type"], data["id"]) == (TYPES[resource], str(row.id))
