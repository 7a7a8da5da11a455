"""The routes a relationship's links lead to, for every relationship of every resource.

- GET /v1/<resource>/{id}/{relationship}: the record the relationship points at, exactly as
  ``include=<relationship>`` shows it in the resource's Retrieve (``data: null`` where include
  would leave it out, or where the relationship is empty);
- GET /v1/<resource>/{id}/relationships/{relationship}: the linkage, as the Retrieve shows it.

Both are the resource's Retrieve: the same scope, the same statements, one read-only
transaction of one message.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.api import JSONAPI, Reply, related
from tests.support.proven import SCOPE_STATEMENT
from tests.support.read_factories import (
    ALL,
    PAIRS,
    PARENT_ATTRIBUTES,
    PROVENANCE,
    RELATIONSHIPS,
    SECRET,
    TYPES,
    read,
)
from wellapi.resources import PARENTS

pytestmark = pytest.mark.usefixtures("api_database")

# The table and public id column of each related type, to soft-delete one.
PARENT_TABLES = {type_: (p.table.name, p.id_column) for type_, p in PARENTS.items()}
BASE = "https://api.test/v1"
ITEM = re.compile(r"/v1/(?P<path>[a-z-]+)/(?P<id>[^/]+)")
LINK = re.compile(r"/v1/(?P<path>[a-z-]+)/(?P<id>[^/]+)(?P<linkage>/relationships)?/(?P<name>\w+)")


def here(row: rf.Row) -> str:
    return f"{BASE}/{row.resource.replace('_', '-')}/{row.id}"


def fetch(
    resource: str,
    claims: dict[str, str] | None,
    row_id: str | UUID,
    name: str,
    *,
    linkage: bool = False,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Reply:
    """``api.related`` (media type and JSON:API schema checked), plus what every read holds."""
    reply = related(
        resource, claims, str(row_id), name, linkage=linkage, query=query, headers=headers
    )
    assert SECRET not in reply.body
    assert "api_secret" not in reply.body
    if reply.body:
        rf.assert_no_internal_keys(reply.json)
    return reply


def follow(link: str, claims: dict[str, str]) -> Reply:
    """GET a link exactly as a document gives it: a resource, a related or relationship route."""
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("https", "api.test"), link
    item = ITEM.fullmatch(parts.path)
    if item:
        return read(item["path"].replace("-", "_"), claims, row_id=item["id"], query=parts.query)
    match = LINK.fullmatch(parts.path)
    assert match, link
    return fetch(
        match["path"].replace("-", "_"),
        claims,
        match["id"],
        match["name"],
        linkage=match["linkage"] is not None,
        query=parts.query,
    )


def included_by_retrieve(
    row: rf.Row, claims: dict[str, str], name: str, query: str = ""
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Retrieve with ``include=name``: its resource object and its ``included``."""
    extra = f"&{query}" if query else ""
    reply = read(row.resource, claims, row_id=row.id, query=f"include={name}{extra}")
    assert reply.status == 200, reply.body
    return reply.json["data"], reply.json["included"]


def assert_answers_like_include(
    row: rf.Row, claims: dict[str, str], name: str, query: str = ""
) -> dict[str, Any] | None:
    """The related route's data is the one object include adds, or null when it adds none."""
    _, included = included_by_retrieve(row, claims, name, query)
    reply = fetch(row.resource, claims, row.id, name, query=query)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == JSONAPI
    doc = reply.json
    assert set(doc) == {"jsonapi", "data", "links"}
    assert doc["data"] == (included[0] if included else None)
    assert len(included) <= 1
    suffix = f"?{query}" if query else ""
    assert doc["links"] == {"self": f"{here(row)}/{name}{suffix}"}
    return doc["data"]


def assert_links_like_retrieve(
    row: rf.Row, claims: dict[str, str], name: str, query: str = ""
) -> dict[str, Any] | None:
    """The relationship route's data and related link are the Retrieve's relationship's."""
    retrieved = read(row.resource, claims, row_id=row.id, query=query)
    assert retrieved.status == 200, retrieved.body
    shown = retrieved.json["data"]["relationships"][name]
    reply = fetch(row.resource, claims, row.id, name, linkage=True, query=query)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == JSONAPI
    doc = reply.json
    assert set(doc) == {"jsonapi", "data", "links"}
    assert doc["data"] == shown["data"]
    suffix = f"?{query}" if query else ""
    assert doc["links"] == {
        "self": f"{here(row)}/relationships/{name}{suffix}",
        "related": shown["links"]["related"],
    }
    return doc["data"]


def normalised(reply: Reply, row_id: str | UUID) -> dict[str, Any]:
    """An error body without its trace id, the requested id spelt as <id>."""
    body = json.loads(reply.body.replace(str(row_id), "<id>"))
    for obj in body["errors"]:
        del obj["meta"]["trace_id"]
    return body


def with_deleted_parent(admin: Any, t: f.Tenant, resource: str, name: str) -> rf.Row:
    """A row of ``resource`` in ``t``'s scope whose ``name`` parent is soft-deleted."""
    if name == "created_by":
        # Not the caller: a deleted caller is no principal at all (401).
        creator = t.member()
        row = rf.enrolment(admin, t, created_by=creator)
    else:
        row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None
    table, column = PARENT_TABLES[parent[0]]
    admin.run(
        f"UPDATE core_api.{table} SET deleted_at = now() WHERE {column} = CAST(:id AS uuid)",
        id=str(parent[1]),
    )
    return row


# --- the related route answers what include shows ----------------------------------------------


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_related_route_answers_exactly_the_object_include_adds_to_the_retrieve(
    admin, resource, name
):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None

    data = assert_answers_like_include(row, t.claims(), name)

    assert data is not None
    assert (data["type"], data["id"]) == (parent[0], str(parent[1]))
    assert tuple(data["attributes"]) == PARENT_ATTRIBUTES[parent[0]]
    # A platform record is served by another API: no link leads to it from here.
    assert set(data) == {"type", "id", "attributes"}


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_related_route_applies_the_related_types_fieldset_as_include_does(
    admin, resource, name
):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None
    attributes = PARENT_ATTRIBUTES[parent[0]]

    for fieldset in (attributes[-1], "", ",".join(attributes)):
        query = f"fields[{parent[0]}]={fieldset}"
        data = assert_answers_like_include(row, t.claims(), name, query)
        assert data is not None
        assert set(data.get("attributes", {})) == set(filter(None, fieldset.split(",")))


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_an_empty_include_parameter_is_accepted_and_includes_nothing(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    plain = fetch(resource, t.claims(), row.id, name)
    empty = fetch(resource, t.claims(), row.id, name, query="include=")

    assert empty.status == 200, empty.body
    assert "included" not in empty.json
    assert empty.json["data"] == plain.json["data"] is not None
    assert empty.json["links"] == {"self": f"{here(row)}/{name}?include="}


# --- the relationship route answers the linkage the retrieve shows -----------------------------


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_relationship_route_answers_the_retrieves_linkage_and_links(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None

    data = assert_links_like_retrieve(row, t.claims(), name)

    assert data == {"type": parent[0], "id": str(parent[1])}
    # The Retrieve's relationship links lead to these two routes of this API.
    shown = read(resource, t.claims(), row_id=row.id).json["data"]["relationships"][name]
    assert shown["links"] == {
        "self": f"{here(row)}/relationships/{name}",
        "related": f"{here(row)}/{name}",
    }


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_every_relationship_link_resolves_to_the_route_it_names(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    retrieved = read(resource, t.claims(), row_id=row.id).json["data"]["relationships"][name]
    linkage = fetch(resource, t.claims(), row.id, name, linkage=True)
    record = fetch(resource, t.claims(), row.id, name)

    # From the Retrieve's relationship object...
    assert follow(retrieved["links"]["self"], t.claims()).json == linkage.json
    assert follow(retrieved["links"]["related"], t.claims()).json == record.json
    # ...and from the relationship document itself: each link answers itself again.
    assert follow(linkage.json["links"]["self"], t.claims()).json == linkage.json
    related_doc = follow(linkage.json["links"]["related"], t.claims()).json
    assert related_doc == record.json
    assert follow(related_doc["links"]["self"], t.claims()).json == record.json
    # The record the related route answers is the one the linkage names.
    data = record.json["data"]
    assert {"type": data["type"], "id": data["id"]} == linkage.json["data"]


# --- out of scope or empty: data null -----------------------------------------------------------


def test_a_group_member_reads_the_group_but_not_the_enrolled_workspace_it_links(admin):
    owner = f.tenant(admin, name="Owner workspace")
    member = f.tenant(admin)
    group = f.group(admin, name="Shared group", created_by_pk=owner.person_pk)
    rf.group_membership(admin, group[0], member.person_pk)
    row = rf.enrolment(admin, owner, group=group)  # created by the owner's person
    claims = member.claims()

    # The group is in the member's scope: its record, as include shows it.
    assert assert_answers_like_include(row, claims, "workspace_group") == {
        "type": "workspace_group",
        "id": str(group[1]),
        "attributes": {"name": "Shared group"},
    }
    assert assert_links_like_retrieve(row, claims, "workspace_group") == {
        "type": "workspace_group",
        "id": str(group[1]),
    }
    # The enrolled workspace is not: no record, but the linkage still names it.
    assert assert_answers_like_include(row, claims, "workspace") is None
    assert assert_links_like_retrieve(row, claims, "workspace") == {
        "type": "workspace",
        "id": str(owner.workspace_id),
    }
    # Nor is the owner's person: the Retrieve shows no linkage to it, and neither route does.
    assert assert_answers_like_include(row, claims, "created_by") is None
    assert assert_links_like_retrieve(row, claims, "created_by") is None
    for name in RELATIONSHIPS["workspace_group_workspaces"]:
        for linkage in (False, True):
            body = fetch(row.resource, claims, row.id, name, linkage=linkage).body
            assert "Owner workspace" not in body
            assert "Grace Hopper" not in body
            assert str(owner.person_id) not in body
    # The owner sees every record.
    for name in RELATIONSHIPS["workspace_group_workspaces"]:
        assert assert_answers_like_include(row, owner.claims(), name) is not None


def test_a_former_group_member_finds_no_enrolment_at_all(admin):
    owner, former = f.tenant(admin), f.tenant(admin)
    group = f.group(admin)
    rf.group_membership(admin, group[0], former.person_pk, deleted=True)
    row = rf.enrolment(admin, owner, group=group)

    for name in RELATIONSHIPS["workspace_group_workspaces"]:
        for linkage in (False, True):
            reply = fetch(row.resource, former.claims(), row.id, name, linkage=linkage)
            assert rf.error(reply, 404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("resource", "name"), [(r, n) for r, n in PAIRS if n != "workspace"])
def test_a_soft_deleted_related_record_is_null_while_the_linkage_still_names_it(
    admin, resource, name
):
    t = f.tenant(admin)
    row = with_deleted_parent(admin, t, resource, name)
    parent = row.parents[name]
    assert parent is not None

    assert assert_answers_like_include(row, t.claims(), name) is None
    linkage = assert_links_like_retrieve(row, t.claims(), name)

    assert linkage == {"type": parent[0], "id": str(parent[1])}


def test_an_empty_relationship_is_null_on_both_routes(admin):
    t = f.tenant(admin)
    row = rf.enrolment(admin, t, created_by=None)

    assert assert_answers_like_include(row, t.claims(), "created_by") is None
    assert assert_links_like_retrieve(row, t.claims(), "created_by") is None
    linkage = fetch(row.resource, t.claims(), row.id, "created_by", linkage=True)
    assert follow(linkage.json["links"]["related"], t.claims()).json["data"] is None


# --- the workspace the request named ------------------------------------------------------------


def all_links(document: Any) -> list[str]:
    """Every link of a document: values of every ``links`` member, wherever it is."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "links" and isinstance(value, dict):
                found.extend(v for v in value.values() if isinstance(v, str))
            else:
                found.extend(all_links(value))
    elif isinstance(document, list):
        for value in document:
            found.extend(all_links(value))
    return found


@pytest.mark.parametrize("spelling", ["workspace_id", "workspaceId"])
@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_workspace_the_request_names_is_carried_into_every_link(
    admin, resource, name, spelling
):
    home, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, home.person_pk, other, status="active")
    row = rf.make_row(admin, other, resource)
    claims = home.claims()
    switch = f"{spelling}={other.workspace_id}"

    record = assert_answers_like_include(row, claims, name, switch)
    linkage = assert_links_like_retrieve(row, claims, name, switch)

    assert record is not None
    assert linkage is not None
    documents = [
        fetch(resource, claims, row.id, name, query=switch).json,
        fetch(resource, claims, row.id, name, linkage=True, query=switch).json,
        read(resource, claims, row_id=row.id, query=switch).json,
    ]
    links = [link for doc in documents for link in all_links(doc)]
    assert len(links) == 1 + 2 + 1 + 2 * len(RELATIONSHIPS[resource]) + 1
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert (query.get("workspace_id") or query.get(spelling)) == [str(other.workspace_id)]
    # The links this API makes spell it workspace_id; self links are the request's own URL.
    assert documents[1]["links"]["related"] == (
        f"{here(row)}/{name}?workspace_id={other.workspace_id}"
    )
    # Followed as they are, they reach the row again; without the workspace, it is not there.
    for link in links:
        assert follow(link, claims).status == 200, link
    assert rf.error(fetch(resource, claims, row.id, name), 404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_a_service_principal_reads_related_records_across_workspaces(admin, resource, name):
    service, other = f.tenant(admin), f.tenant(admin)
    row = rf.make_row(admin, other, resource)
    claims = service.claims("service")
    switch = f"workspace_id={other.workspace_id}"
    owners_view = fetch(resource, other.claims(), row.id, name).json["data"]
    assert owners_view is not None

    # Scoped to the row's workspace, the service sees what the workspace's owner sees.
    assert assert_answers_like_include(row, claims, name, switch) == owners_view
    linkage = assert_links_like_retrieve(row, claims, name, switch)
    assert linkage == {"type": owners_view["type"], "id": owners_view["id"]}
    # Without naming it, the routes still answer as the service's Retrieve does.
    assert_answers_like_include(row, claims, name)
    assert assert_links_like_retrieve(row, claims, name) == linkage


# --- not found and bad requests -----------------------------------------------------------------


@pytest.mark.parametrize("linkage", [False, True])
@pytest.mark.parametrize("resource", ALL)
def test_a_relationship_the_resource_does_not_have_is_404_unknown_relationship(
    admin, resource, linkage
):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    others = {n for names in RELATIONSHIPS.values() for n in names} - set(RELATIONSHIPS[resource])
    names = [
        "nope",
        "relationships",
        "workspace_provider",
        "connector",
        "id",
        "pk",
        RELATIONSHIPS[resource][0].upper(),
        *sorted(others),
    ]

    for name in names:
        reply = fetch(resource, t.claims(), row.id, name, linkage=linkage)
        obj = rf.error(reply, 404)
        assert obj["code"] == "UNKNOWN_RELATIONSHIP", name
        assert obj["meta"]["path_parameter"] == "relationship"
        assert "source" not in obj


@pytest.mark.parametrize("linkage", [False, True])
@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_another_tenants_row_is_not_found_exactly_like_a_missing_one(
    admin, resource, name, linkage
):
    mine, theirs = f.tenant(admin), f.tenant(admin)
    row = rf.make_row(admin, theirs, resource)
    missing = uuid4()

    other = fetch(resource, mine.claims(), row.id, name, linkage=linkage)
    absent = fetch(resource, mine.claims(), missing, name, linkage=linkage)

    assert rf.error(other, 404)["code"] == "NOT_FOUND"
    assert normalised(other, row.id) == normalised(absent, missing)
    assert other.headers == absent.headers
    assert str(row.id) not in json.dumps(normalised(other, row.id))
    # The owner reads it.
    assert fetch(resource, theirs.claims(), row.id, name, linkage=linkage).status == 200


@pytest.mark.parametrize("linkage", [False, True])
@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_a_soft_deleted_row_is_not_found(admin, resource, name, linkage):
    t = f.tenant(admin)
    gone = rf.make_row(admin, t, resource, deleted=True)
    later = rf.make_row(admin, t, resource)
    assert fetch(resource, t.claims(), later.id, name, linkage=linkage).status == 200
    rf.soft_delete(admin, resource, later.pk)

    for row in (gone, later):
        reply = fetch(resource, t.claims(), row.id, name, linkage=linkage)
        assert rf.error(reply, 404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("raw", ["not-a-uuid", "123", "1" * 40, "%00", "' OR 1=1 --", "-1"])
@pytest.mark.parametrize("linkage", [False, True])
@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_a_malformed_id_is_a_bad_request(admin, resource, name, linkage, raw):
    t = f.tenant(admin)

    obj = rf.error(fetch(resource, t.claims(), raw, name, linkage=linkage), 400)

    assert obj["code"] == "INVALID_ID"
    assert obj["meta"]["path_parameter"] == "id"
    assert "source" not in obj


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_related_route_includes_nothing_and_refuses_every_include_name(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    # A platform record has no relationships: neither the resource's nor any other is one.
    names = [name, *RELATIONSHIPS[resource], "workspace_provider", "nope", f"{name}.workspace"]

    for value in names:
        obj = rf.error(fetch(resource, t.claims(), row.id, name, query=f"include={value}"), 400)
        assert obj["code"] == "INVALID_INCLUDE", value
        assert obj["source"] == {"parameter": "include"}


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_related_route_accepts_fields_of_the_related_type_only(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None
    other_types = sorted(
        (set(PARENT_ATTRIBUTES) - {parent[0]}) | {TYPES[resource], "workspace_provider"}
    )
    refused = [
        *((f"fields[{other}]", "") for other in other_types),
        (f"fields[{TYPES[resource]}]", "created_at"),
        ("fields[nope]", "name"),
        (f"fields[{parent[0]}]", "bogus"),
        (f"fields[{parent[0]}]", "id"),
        (f"fields[{parent[0]}]", "type"),
    ]

    for parameter, value in refused:
        reply = fetch(resource, t.claims(), row.id, name, query=f"{parameter}={value}")
        obj = rf.error(reply, 400, parameter)
        assert obj["code"] == "INVALID_FIELDS", (parameter, value)
    # A malformed list is refused as the Retrieve refuses it.
    malformed = f"fields[{parent[0]}]={PARENT_ATTRIBUTES[parent[0]][0]},"
    obj = rf.error(fetch(resource, t.claims(), row.id, name, query=malformed), 400)
    expected = rf.error(read(resource, t.claims(), row_id=row.id, query=malformed), 400)
    assert (obj["code"], obj["source"]) == (expected["code"], expected["source"])
    # The related type's own fields are accepted, each one.
    for field in PARENT_ATTRIBUTES[parent[0]]:
        query = f"fields[{parent[0]}]={field}"
        assert fetch(resource, t.claims(), row.id, name, query=query).status == 200


@pytest.mark.parametrize(
    "parameter",
    [
        "foo",
        "sort",
        "page[size]",
        "page[after]",
        "filter[direction]",
        "filter[name]",
        "include[account]",
        "fields",
        "workspace",
        "Include",
    ],
)
@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_related_route_rejects_any_other_parameter(admin, resource, name, parameter):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    reply = fetch(resource, t.claims(), row.id, name, query=f"{parameter}=1")

    obj = rf.error(reply, 400, parameter)
    assert obj["code"] == "UNKNOWN_QUERY_PARAMETER"


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_the_relationship_route_accepts_only_the_workspace(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None
    refused = [
        ("include", ""),
        ("include", name),
        (f"fields[{parent[0]}]", PARENT_ATTRIBUTES[parent[0]][0]),
        (f"fields[{TYPES[resource]}]", ""),
        ("sort", "created_at"),
        ("page[size]", "1"),
        ("filter[direction]", "input"),
        ("foo", "1"),
    ]

    for parameter, value in refused:
        reply = fetch(
            resource, t.claims(), row.id, name, linkage=True, query=f"{parameter}={value}"
        )
        obj = rf.error(reply, 400, parameter)
        assert obj["code"] == "UNKNOWN_QUERY_PARAMETER", parameter
    for spelling in ("workspace_id", "workspaceId"):
        query = f"{spelling}={t.workspace_id}"
        assert fetch(resource, t.claims(), row.id, name, linkage=True, query=query).status == 200


@pytest.mark.parametrize("linkage", [False, True])
def test_a_repeated_parameter_is_rejected(admin, linkage):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "account_workspace_connectors")
    w = t.workspace_id
    cases = [
        (f"workspace_id={w}&workspace_id={w}", "workspace_id"),
        (f"workspace_id={w}&workspaceId={w}", "workspaceId"),
        (f"workspaceId={w}&workspace_id={w}", "workspace_id"),
    ]
    if not linkage:
        cases += [
            ("fields[account]=account_name&fields[account]=account_name", "fields[account]"),
            ("include=&include=", "include"),
        ]

    for query, parameter in cases:
        reply = fetch(row.resource, t.claims(), row.id, "account", linkage=linkage, query=query)
        assert rf.error(reply, 400, parameter)["code"] == "DUPLICATE_QUERY_PARAMETER", query


@pytest.mark.parametrize("linkage", [False, True])
def test_a_workspace_the_caller_is_not_a_member_of_is_forbidden(admin, linkage):
    home, other = f.tenant(admin), f.tenant(admin)
    row = rf.make_row(admin, other, "workspace_providers")

    for spelling in ("workspace_id", "workspaceId"):
        query = f"{spelling}={other.workspace_id}"
        reply = fetch(row.resource, home.claims(), row.id, "provider", linkage=linkage, query=query)
        assert rf.error(reply, 403, spelling)["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "accept", [f"{JSONAPI}; charset=utf-8", f'{JSONAPI}; ext="https://jsonapi.org/ext/atomic"']
)
@pytest.mark.parametrize("linkage", [False, True])
@pytest.mark.parametrize("resource", ALL)
def test_an_unusable_accept_header_is_406(admin, resource, linkage, accept):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    name = RELATIONSHIPS[resource][0]

    reply = fetch(resource, t.claims(), row.id, name, linkage=linkage, headers={"Accept": accept})

    obj = rf.error(reply, 406)
    assert obj["source"] == {"header": "Accept"}
    assert reply.headers["Content-Type"] == JSONAPI


@pytest.mark.parametrize("linkage", [False, True])
@pytest.mark.parametrize("resource", ALL)
def test_missing_claims_are_unauthorized(admin, resource, linkage):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    reply = fetch(resource, None, row.id, RELATIONSHIPS[resource][0], linkage=linkage)

    assert rf.error(reply, 401)["code"] == "CREDENTIALS_MISSING"
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="wellapi"'


# --- what reaches the database ------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_each_route_is_one_read_only_request_sending_the_retrieves_statements(
    admin, monkeypatch, resource, name
):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    claims = t.claims()
    # Connect (and let SQLAlchemy run its first-connect checks) before counting.
    assert read(resource, claims, row_id=row.id).status == 200
    parent = row.parents[name]
    assert parent is not None
    fields = f"fields[{parent[0]}]={PARENT_ATTRIBUTES[parent[0]][0]}"
    calls = rf.record_queries(monkeypatch)

    pairs = [
        # The related route reads what the Retrieve reads to include the record...
        (
            lambda: read(resource, claims, row_id=row.id, query=f"include={name}&{fields}"),
            lambda: fetch(resource, claims, row.id, name, query=fields),
        ),
        # ...the relationship route what the plain Retrieve reads.
        (
            lambda: read(resource, claims, row_id=row.id),
            lambda: fetch(resource, claims, row.id, name, linkage=True),
        ),
    ]
    for retrieve, route in pairs:
        assert retrieve().status == 200
        assert route().status == 200
        expected, sent = rf.requests_of(calls)
        # The same statements bound to the same values, each opened by a proof of its own
        # transaction.
        assert sent.read_only
        assert expected.read_only
        assert sent.statements.startswith(SCOPE_STATEMENT)
        assert sent.bound == expected.bound
        assert sent.proof != expected.proof
        calls.clear()

    # A request refused before the row is read sends nothing.
    assert fetch(resource, claims, row.id, "nope").status == 404
    assert fetch(resource, claims, "bad", name).status == 400
    assert fetch(resource, claims, row.id, name, query="include=x").status == 400
    assert calls == []


@pytest.mark.parametrize("resource", PROVENANCE)
def test_the_connectors_config_never_leaves_through_the_related_route(admin, resource):
    t = f.tenant(admin)
    row = rf.provenance(admin, t, resource)

    reply = fetch(resource, t.claims(), row.id, "workspace_connector")

    assert reply.json["data"]["attributes"] == {"status": "enabled"}
    refused = fetch(
        resource,
        t.claims(),
        row.id,
        "workspace_connector",
        query="fields[workspace_connector]=status,config",
    )
    rf.error(refused, 400, "fields[workspace_connector]")
