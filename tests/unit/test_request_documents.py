"""The request document parser (``wellapi.jsonapi.body``) against JSON:API 1.1, no database.

- The platform's canonical type (plural kebab-case) is taken on write beside today's, in
  ``data.type`` and in every linkage, for every resource; another resource's type, in either
  spelling, is still 409.
- What the specification has a server ignore is ignored: members it does not define in the
  object they are in, @-members anywhere (in the attributes and relationships objects too), and
  the members it defines that a write does not use (``lid``, ``links``, ``meta``, ``jsonapi``, a
  top-level ``included``). The parsed document is the same as without them.
- What stays an error: an attribute or relationship the resource does not have (400), ``data``
  beside ``errors`` or missing (400), a resource object without a string ``type`` (400), a
  linkage that names a resource by ``lid`` only (400).
"""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wellapi.errors import ApiError, ErrorList
from wellapi.jsonapi.body import (
    CARRIED_BACK,
    Mode,
    accepted_types,
    canonical_type,
    parse_resource_document,
)
from wellapi.resources import PARENTS, PROVIDER_CATALOG, RESOURCES, Resource
from wellapi.resources.changes import ResourceDocument
from wellapi.resources.ledgers import RECORD_TYPES

ROW_ID = UUID("0b9a3b5e-2222-4b5e-9d5e-0b9a3b5e2222")
KEBAB_PLURAL = re.compile(r"^[a-z]+(-[a-z]+)*$")
# The canonical names the platform's conventions give (issue #31), for every type on write.
CANONICAL = {
    # Every ledger's: its record type's, then "-workspace-connectors".
    **{
        f"{record}_workspace_connector": f"{record.replace('_', '-')}-workspace-connectors"
        for record in RECORD_TYPES
    },
    "workspace_group_workspace": "workspace-group-workspaces",
    "workspace_provider": "workspace-providers",
    "account": "accounts",
    "company": "companies",
    "people": "people",
    "workspace_connector": "workspace-connectors",
    "workspace": "workspaces",
    "workspace_group": "workspace-groups",
    "provider": "providers",
}


def _id(name: str) -> str:
    return str(uuid5(ROW_ID, name))


def _parse(
    resource: Resource, document: Any, mode: Mode = "create", *, row_id: UUID | None = None
) -> ResourceDocument:
    return parse_resource_document(resource, json.dumps(document).encode(), mode, row_id=row_id)


def _refusal(resource: Resource, document: Any, mode: Mode = "create") -> list[tuple[int, str]]:
    """The (status, pointer) of every error the document is refused with."""
    try:
        _parse(resource, document, mode, row_id=ROW_ID if mode == "update" else None)
    except ErrorList as errors:
        return [(e.error_status, e.pointer or "") for e in errors.errors]
    except ApiError as error:
        return [(error.error_status, error.pointer or "")]
    raise AssertionError("the document was accepted")


def _create(resource: Resource, *, canonical: bool = False) -> dict[str, Any]:
    """A create of ``resource`` naming every relationship a client sets, in either spelling."""

    def spelt(described: Any) -> str:
        return canonical_type(described) if canonical else described.type

    attributes = {
        a.name: (a.enum[0] if a.kind == "enum" else True)
        for a in resource.attributes
        if a.writable != "never" and a.kind in ("enum", "boolean")
    }
    relationships = {
        rel.name: {"data": {"type": spelt(rel.parent), "id": _id(rel.name)}}
        for rel in resource.relationships
        if rel.writable != "never"
    }
    data = {"type": spelt(resource), "attributes": attributes, "relationships": relationships}
    return {"data": data}


def _update(resource: Resource, *, canonical: bool = False) -> dict[str, Any]:
    document = _create(resource, canonical=canonical)
    document["data"]["id"] = str(ROW_ID)
    return document


WRITTEN = [RESOURCES[key] for key in RESOURCES]


# --- the canonical types -------------------------------------------------------------------


def test_every_type_has_the_platforms_canonical_name_derived_from_its_description():
    described = [*RESOURCES.values(), PROVIDER_CATALOG, *PARENTS.values()]
    for item in described:
        assert canonical_type(item) == CANONICAL[item.type], item.type
        assert KEBAB_PLURAL.match(canonical_type(item)), item.type
        assert accepted_types(item)[0] == item.type  # today's first: what reads emit
    # Two spellings of one type never name another: any other type stays a 409.
    owner: dict[str, str] = {}
    for item in described:
        for name in accepted_types(item):
            assert owner.setdefault(name, item.type) == item.type, name


@pytest.mark.parametrize("resource", WRITTEN, ids=lambda r: r.key)
@pytest.mark.parametrize("canonical", [False, True], ids=["today's types", "canonical types"])
def test_a_create_takes_todays_or_the_canonical_type_everywhere(resource, canonical):
    plain = _parse(resource, _create(resource))

    assert _parse(resource, _create(resource, canonical=canonical)) == plain
    assert plain.relationships == {
        rel.name: UUID(_id(rel.name)) for rel in resource.relationships if rel.writable != "never"
    }


@pytest.mark.parametrize("resource", WRITTEN, ids=lambda r: r.key)
def test_an_update_takes_the_canonical_type_too(resource):
    canonical = _parse(resource, _update(resource, canonical=True), "update", row_id=ROW_ID)

    assert canonical == _parse(resource, _update(resource), "update", row_id=ROW_ID)


def test_a_type_is_taken_in_every_spelling_a_generic_client_derives_from_a_name():
    # kitsu: camelCase plural; @orbit/jsonapi: camelCase singular; devour: its model's name.
    assert set(accepted_types(RESOURCES["workspace_providers"])) == {
        *("workspace_provider", "workspace_providers", "workspace-provider", "workspace-providers"),
        *("workspaceProvider", "workspaceProviders", "WorkspaceProvider", "WorkspaceProviders"),
    }
    assert set(accepted_types(PARENTS["people"])) == {"people", "People"}


@pytest.mark.parametrize("resource", WRITTEN, ids=lambda r: r.key)
def test_a_create_in_any_spelling_of_its_types_is_the_same_create(resource):
    plain = _parse(resource, _create(resource))
    for index in range(len(accepted_types(resource))):
        document = _create(resource)
        document["data"]["type"] = accepted_types(resource)[index]
        for name, linked in document["data"].get("relationships", {}).items():
            spellings = accepted_types(resource.relationship(name).parent)
            linked["data"]["type"] = spellings[index % len(spellings)]

        assert _parse(resource, document) == plain, document


@pytest.mark.parametrize("resource", WRITTEN, ids=lambda r: r.key)
def test_links_and_meta_a_client_carries_back_among_the_attributes_are_ignored(resource):
    # jsona, with its defaults, sends a fetched resource back with its links (and meta, when
    # it had some) among the attributes.
    document = _create(resource)
    document["data"].setdefault("attributes", {})
    document["data"]["attributes"]["links"] = {"self": "https://api.example/v1/x/1"}
    document["data"]["attributes"]["meta"] = {}

    assert _parse(resource, document) == _parse(resource, _create(resource))


@pytest.mark.parametrize("value", ["https://api.example/v1/x/1", None, [], 1])
def test_links_among_the_attributes_that_is_no_links_object_is_400(value):
    resource = RESOURCES["workspace_providers"]
    document = _create(resource)
    document["data"].setdefault("attributes", {})["links"] = value

    assert _refusal(resource, document) == [(400, "/data/attributes/links")]


def test_no_resource_has_an_attribute_named_as_what_a_client_carries_back():
    described = [*RESOURCES.values(), PROVIDER_CATALOG, *PARENTS.values()]
    for item in described:
        assert not CARRIED_BACK & {a.name for a in item.attributes}, item.type


def test_one_document_may_mix_the_two_spellings():
    resource = RESOURCES["workspace_providers"]
    document = _create(resource, canonical=True)
    document["data"]["relationships"]["workspace"]["data"]["type"] = "workspace"

    assert _parse(resource, document) == _parse(resource, _create(resource))


@pytest.mark.parametrize("resource", WRITTEN, ids=lambda r: r.key)
def test_another_resources_type_in_either_spelling_is_409(resource):
    others = {
        name
        for other in RESOURCES.values()
        if other is not resource
        for name in accepted_types(other)
    }
    # Not a spelling a client derives from a name: no case boundary, or the wrong case.
    others |= {"Workspace-Providers", resource.key.replace("_", ""), resource.key.upper()}
    for name in sorted(others - set(accepted_types(resource))):
        document = _create(resource)
        document["data"]["type"] = name
        assert _refusal(resource, document) == [(409, "/data/type")], name


@pytest.mark.parametrize("resource", WRITTEN, ids=lambda r: r.key)
def test_a_linkage_of_another_type_in_either_spelling_is_409(resource):
    rel = next(r for r in resource.relationships if r.writable != "never")
    for other in PARENTS.values():
        if other.type == rel.parent.type:
            continue
        for name in accepted_types(other):
            document = _create(resource, canonical=True)
            document["data"]["relationships"][rel.name]["data"]["type"] = name
            pointer = f"/data/relationships/{rel.name}/data/type"
            assert _refusal(resource, document) == [(409, pointer)], name


# --- what JSON:API 1.1 has the server ignore -------------------------------------------------

PROVIDERS = RESOURCES["workspace_providers"]
ANYTHING: list[Any] = [None, 1, "x", [], {"a": {"b": [1]}}, True]


def _provider_create() -> dict[str, Any]:
    return {
        "data": {
            "type": "workspace_provider",
            "attributes": {"is_matched": True},
            "relationships": {
                "provider": {"data": {"type": "provider", "id": _id("provider")}},
                "workspace": {"data": {"type": "workspace", "id": _id("workspace")}},
            },
        }
    }


PLAIN = _parse(PROVIDERS, _provider_create())


def _at(document: dict[str, Any], where: str) -> dict[str, Any]:
    data = document["data"]
    provider = data["relationships"]["provider"]
    return {
        "top level": document,
        "resource object": data,
        "attributes": data["attributes"],
        "relationships": data["relationships"],
        "relationship object": provider,
        "resource identifier": provider["data"],
    }[where]


# Each object of a request document, and the members the server ignores there.
IGNORED: dict[str, tuple[str, ...]] = {
    "top level": ("included", "links", "meta", "jsonapi", "foo", "@context", "version:id"),
    "resource object": ("lid", "links", "meta", "foo", "@context", "@id", "version:id"),
    "attributes": ("@context", "@type"),
    "relationships": ("@context", "@graph"),
    "relationship object": ("links", "meta", "bogus", "@id"),
    "resource identifier": ("meta", "lid", "links", "attributes", "name", "@id"),
}


@pytest.mark.parametrize(
    ("where", "member"), [(w, m) for w, members in IGNORED.items() for m in members]
)
@pytest.mark.parametrize("value", ANYTHING, ids=repr)
def test_a_member_the_server_does_not_use_is_ignored_whatever_its_value(where, member, value):
    document = _provider_create()
    _at(document, where)[member] = value

    assert _parse(PROVIDERS, document) == PLAIN


def test_a_kitsu_style_round_trip_of_a_fetched_resource_parses_to_its_attributes():
    """What a client sends back after a Retrieve with include: the resource as fetched (links
    everywhere, meta), the included records, the answer's links and jsonapi."""
    here = f"https://api.test/v1/workspace-providers/{ROW_ID}"
    included = [
        {"type": "provider", "id": _id("provider"), "attributes": {"name": "Bank"}},
        {"type": "workspace", "id": _id("workspace"), "attributes": {"name": "Acme"}},
    ]
    document = {
        "jsonapi": {"version": "1.1"},
        "links": {"self": here + "?include=provider,workspace"},
        "meta": {"fetched": True},
        "data": {
            "type": "workspace-providers",
            "id": str(ROW_ID),
            "links": {"self": here},
            "meta": {"revision": 3},
            "attributes": {"is_matched": False, "created_at": "2026-05-10T08:00:00Z"},
            "relationships": {
                name: {
                    "links": {
                        "self": f"{here}/relationships/{name}",
                        "related": f"{here}/{name}",
                    },
                    "meta": {},
                    "data": {"type": name, "id": _id(name), "attributes": {"name": "copied"}},
                }
                for name in ("provider", "workspace")
            },
        },
        "included": included,
    }

    parsed = _parse(PROVIDERS, document, "update", row_id=ROW_ID)

    assert parsed.attributes == {"is_matched": False}
    assert set(parsed.read_only) == {"created_at"}
    assert parsed.relationships == {n: UUID(_id(n)) for n in ("provider", "workspace")}


@given(
    extra=st.dictionaries(
        st.text(min_size=1).filter(
            lambda n: n not in {"data", "errors", "type", "id", "attributes", "relationships"}
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda children: (
                st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=4,
    ),
    where=st.sampled_from(["top level", "resource object", "relationship object"]),
)
@settings(max_examples=200, deadline=None)
def test_any_member_json_api_does_not_define_here_changes_nothing(extra, where):
    document = _provider_create()
    target = _at(document, where)
    for name, value in extra.items():
        if where == "relationship object" and name == "data":
            continue
        target[name] = value

    assert _parse(PROVIDERS, document) == PLAIN


# --- what stays an error ---------------------------------------------------------------------


def test_an_attribute_or_relationship_the_resource_does_not_have_is_still_400():
    document = _provider_create()
    document["data"]["attributes"].update({"colour": "red", "@colour": "ignored"})
    document["data"]["relationships"]["owner"] = {"data": {"type": "people", "id": _id("o")}}

    assert _refusal(PROVIDERS, document) == [
        (400, "/data/attributes/colour"),
        (400, "/data/relationships/owner"),
    ]


@pytest.mark.parametrize(
    ("top_level", "refusal"),
    [
        ({"errors": []}, (400, "/errors")),
        ({"errors": [{"status": "400"}]}, (400, "/errors")),
    ],
    ids=["empty errors", "an error"],
)
def test_data_beside_errors_is_400(top_level, refusal):
    assert _refusal(PROVIDERS, {**_provider_create(), **top_level}) == [refusal]


@pytest.mark.parametrize(
    "document",
    [
        {"meta": {}},
        {"errors": [{"status": "400"}]},
        {"included": [], "links": {}, "jsonapi": {"version": "1.1"}},
        {"@data": {"type": "workspace_provider"}},
        {},
    ],
    ids=["meta only", "errors only", "no data but other members", "an @-member named data", "{}"],
)
def test_a_write_without_data_is_400(document):
    assert _refusal(PROVIDERS, document) == [(400, "")]


@pytest.mark.parametrize("data", [None, [], "workspace_provider", {"id": _id("x")}])
def test_data_that_is_not_a_resource_object_with_a_type_is_400(data):
    (refusal,) = _refusal(PROVIDERS, {"data": data})
    assert refusal[0] == 400
    assert refusal[1] in ("/data", "/data/type")


def test_an_update_still_needs_the_urls_id_and_a_lid_does_not_replace_it():
    document = _provider_create()
    document["data"]["lid"] = str(ROW_ID)
    assert _refusal(PROVIDERS, document, "update") == [(400, "/data/id")]


def test_a_client_generated_id_that_is_not_a_uuid_is_still_403_with_a_lid_beside_it():
    document = _provider_create()
    document["data"].update({"id": "mine", "lid": "local-1"})
    assert _refusal(PROVIDERS, document) == [(403, "/data/id")]


def test_a_linkage_naming_a_resource_by_lid_only_is_400_at_its_id():
    document = _provider_create()
    document["data"]["relationships"]["provider"]["data"] = {"type": "provider", "lid": "new-1"}
    assert _refusal(PROVIDERS, document) == [(400, "/data/relationships/provider/data/id")]


@pytest.mark.parametrize("value", [{}, {"links": {"related": "x"}}, {"meta": {}}, {"@id": "x"}])
def test_a_relationship_object_without_data_is_still_400(value):
    document = _provider_create()
    document["data"]["relationships"]["provider"] = value
    assert _refusal(PROVIDERS, document) == [(400, "/data/relationships/provider")]


def test_a_client_generated_uuid_is_the_documents_client_id_in_its_canonical_spelling():
    document = _provider_create()
    document["data"]["id"] = str(ROW_ID).upper()
    assert _parse(PROVIDERS, document).client_id == ROW_ID


def test_a_create_without_an_id_has_no_client_id_and_an_update_never_has_one():
    assert _parse(PROVIDERS, _provider_create()).client_id is None
    update = {"data": {"type": "workspace_provider", "id": str(ROW_ID), "attributes": {}}}
    assert _parse(PROVIDERS, update, "update", row_id=ROW_ID).client_id is None


@pytest.mark.parametrize("row_id", [None, 7, [], {}])
def test_a_client_generated_id_that_is_not_a_string_is_400(row_id):
    document = _provider_create()
    document["data"]["id"] = row_id
    assert _refusal(PROVIDERS, document) == [(400, "/data/id")]
