"""Write requests against JSON:API 1.1's rules for what a server ignores, and the platform's
canonical types, on the four routes that take a document (``test_write_documents``' routes).

A member the specification defines but a write does not use (``lid``, ``links``, ``meta``,
``jsonapi``, a top-level ``included``), one it does not define in the object it is in, and any
@-member are ignored: the write succeeds as without them. ``data`` beside ``errors`` is 400. The
canonical type (plural kebab-case) is taken in ``data.type`` and in every linkage, and reads
answer in today's. The parser's own tests, without a database, are
``tests/unit/test_request_documents.py``; the round trip of a resource fetched with ``include``
is in ``test_write_round_trips``.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.database.test_write_documents import Route, _route, with_data
from tests.support import writes as w
from tests.support.api import get
from wellapi.jsonapi.body import canonical_type
from wellapi.resources import RESOURCES

pytestmark = pytest.mark.usefixtures("api_database")


@pytest.fixture(params=["create", "update", "select", "enrol"])
def route(request: pytest.FixtureRequest, admin: object) -> Route:
    return _route(admin, request.param)


# JSON:API 1.1 has the server ignore what a write does not use (``wellapi.jsonapi.body`` quotes
# each rule); the parser's own tests are tests/unit/test_request_documents.py.
IGNORED_TOP_LEVEL = {
    "included": [{"type": "workspace", "id": str(uuid4()), "attributes": {"name": "x"}}],
    "links": {"self": "https://api.test/v1/workspace-providers"},
    "meta": {"client": "kitsu"},
    "jsonapi": {"version": "1.1"},
    "colour": "red",
    "@context": "https://schema.org",
}
IGNORED_IN_RESOURCE_OBJECT = {
    "lid": "local-1",
    "links": {"self": "https://api.test/v1/workspace-providers/x"},
    "meta": {"revision": 3},
    "colour": "red",
    "@context": "https://schema.org",
}


@pytest.mark.parametrize(("member", "value"), IGNORED_TOP_LEVEL.items(), ids=IGNORED_TOP_LEVEL)
def test_a_top_level_member_a_write_does_not_use_is_ignored(route, admin, member, value):
    reply = route.send({**route.document, member: value})

    assert reply.status == route.success, reply.body


@pytest.mark.parametrize(
    ("member", "value"), IGNORED_IN_RESOURCE_OBJECT.items(), ids=IGNORED_IN_RESOURCE_OBJECT
)
def test_a_member_of_the_resource_object_a_write_does_not_use_is_ignored(
    route, admin, member, value
):
    reply = route.send(with_data(route.document, **{member: value}))

    assert reply.status == route.success, reply.body


def test_at_members_in_attributes_and_relationships_are_no_fields_and_are_ignored(route, admin):
    data = route.document["data"]
    doc = with_data(
        route.document,
        attributes={**data.get("attributes", {}), "@type": "schema:Thing"},
        relationships={**data.get("relationships", {}), "@context": {"x": 1}},
    )

    reply = route.send(doc)

    assert reply.status == route.success, reply.body


def test_data_beside_errors_is_400_at_errors(route, admin):
    with w.writes_nothing(admin):
        obj = w.error(route.send({**route.document, "errors": []}), 400)
    assert obj["code"] == "SCHEMA_VALIDATION_ERROR"
    assert obj["source"] == {"pointer": "/errors"}


@pytest.mark.parametrize("name", ["create", "select", "enrol"])
def test_members_of_relationship_objects_and_linkage_a_write_does_not_use_are_ignored(admin, name):
    route = _route(admin, name)
    relationships = {
        rel: {
            **value,
            "links": {"self": "https://api.test/x", "related": "https://api.test/y"},
            "meta": {"count": 1},
            "bogus": 1,
            "@id": "x",
            "data": {
                **value["data"],
                "meta": {"m": 1},
                "lid": "local-1",
                "links": {"self": "https://api.test/z"},
                "attributes": {"name": "copied from included"},
                "name": "x",
                "@type": "schema:Thing",
            },
        }
        for rel, value in route.document["data"]["relationships"].items()
    }

    reply = route.send(with_data(route.document, relationships=relationships))

    assert reply.status == route.success, reply.body
    for rel, value in route.document["data"]["relationships"].items():
        assert reply.json["data"]["relationships"][rel]["data"] == value["data"]


def in_canonical_types(resource: str, doc: w.Json) -> w.Json:
    """The document with the platform's canonical types, in data.type and every linkage."""
    described = RESOURCES[resource]
    relationships = {
        name: {**linked, "data": {**linked["data"], "type": canonical_type(rel.parent)}}
        for name, linked in doc["data"].get("relationships", {}).items()
        for rel in [described.relationship(name)]
    }
    canonical = with_data(doc, type=canonical_type(described))
    if relationships:
        canonical = with_data(canonical, relationships=relationships)
    return canonical


def test_every_write_route_takes_the_canonical_types_and_answers_in_todays(route, admin):
    resource = "workspace_group_workspaces" if route.name == "enrol" else "workspace_providers"
    doc = in_canonical_types(resource, route.document)
    assert doc["data"]["type"] in ("workspace-providers", "workspace-group-workspaces")

    reply = route.send(doc)

    assert reply.status == route.success, reply.body
    assert reply.json["data"]["type"] == route.document["data"]["type"]
    for name, linked in route.document["data"].get("relationships", {}).items():
        assert reply.json["data"]["relationships"][name]["data"] == linked["data"]


@pytest.mark.parametrize("resource", w.ALL)
def test_a_create_in_the_canonical_types_is_read_back_in_todays(admin, resource):
    case = w.arrange_create(admin, resource)
    include = ",".join(rel.name for rel in RESOURCES[resource].relationships)

    reply = w.post(resource, case.claims, in_canonical_types(resource, case.document))

    data = w.created(reply)
    assert data["type"] == w.type_of(resource)
    for name, linked in case.document["data"]["relationships"].items():
        assert data["relationships"][name]["data"] == linked["data"]
    again = get(resource, case.claims, row_id=data["id"], query=f"include={include}")
    assert again.status == 200, again.body
    assert again.json["data"]["type"] == w.type_of(resource)
    legacy = {rel.parent.type for rel in RESOURCES[resource].relationships}
    assert {r["type"] for r in again.json.get("included", [])} <= legacy
