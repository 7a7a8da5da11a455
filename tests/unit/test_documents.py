"""Rows to JSON:API documents (``wellapi.jsonapi.document``), from rows made by hand.

The rows are ``wellapi.store.rows.ReadRow`` objects laid out by label, as a read's statement answers
them (``make_row``; the last test holds its labels to the compiled statements'). The documents
expected are those the database-backed tests expect of the same rows
(``tests/test_read_documents.py``, ``tests/test_read_include_fields.py``), written out member by
member in the order a client receives them, so the bytes are pinned too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from wellapi.domain import Direction
from wellapi.http.response import dump
from wellapi.jsonapi.document import DocumentBuilder, Linker, json_value
from wellapi.jsonapi.query import ReadKind, parse_read_query
from wellapi.resources import PROVIDER_CATALOG, RESOURCES, Resource
from wellapi.store.rows import (
    ID_LABEL,
    ReadRow,
    attribute_label,
    included_label,
    linkage_label,
    visible_label,
)
from wellapi.store.shapes import ReadShape
from wellapi.store.statements import compiled_entry
from wellapi.store.templates import Layout

BASE = "https://api.test"
STAMP = datetime(2024, 5, 10, 8, 5, tzinfo=UTC)
ROW = UUID("0190a0a0-0000-7000-8000-0000000000aa")
OTHER = UUID("0190a0a0-0000-7000-8000-0000000000bb")
WORKSPACE = UUID("0190a0a0-0000-7000-8000-0000000000cc")

# What a client sees of each resource, spelled out (not read from the descriptions).
PROVENANCE = {
    "account_workspace_connectors": "account",
    "company_workspace_connectors": "company",
    "people_workspace_connectors": "people",
}
ALL = (*PROVENANCE, "workspace_group_workspaces", "workspace_providers")
TIMESTAMPS = {
    "created_at": "2024-05-10T08:05:00Z",
    "updated_at": "2024-05-10T08:05:00Z",
    "deleted_at": None,
}
ATTRIBUTES: dict[str, dict[str, Any]] = {
    **{key: {"direction": "input", **TIMESTAMPS} for key in PROVENANCE},
    "workspace_group_workspaces": TIMESTAMPS,
    "workspace_providers": {"is_selected": True, "is_matched": True, **TIMESTAMPS},
}
# Each relationship, in the order a resource object shows them, and its parent's type.
RELATIONSHIPS: dict[str, dict[str, str]] = {
    **{
        key: {record: record, "workspace_connector": "workspace_connector"}
        for key, record in PROVENANCE.items()
    },
    "workspace_group_workspaces": {
        "workspace_group": "workspace_group",
        "workspace": "workspace",
        "created_by": "people",
    },
    "workspace_providers": {"workspace": "workspace", "provider": "provider"},
}
# The values of the included parents (what ``test_included_parents_carry_their_values`` reads).
PARENT_VALUES: dict[str, dict[str, Any]] = {
    "account": {"account_type": "credit", "account_name": "Main account"},
    "company": {"name": "Acme", "domain": "acme.test"},
    "people": {"first_name": "Grace", "last_name": "Hopper", "full_name": "Grace Hopper"},
    "workspace_connector": {"status": "enabled"},
    "workspace": {"name": "Main workspace"},
    "workspace_group": {"name": "Finance team"},
    "provider": {
        "name": "Ledgerly",
        "slug": "ledgerly",
        "url": "https://example.com",
        "category": "Accounting",
        "popularity_score": 42,
    },
    "workspace_provider": {"is_selected": False, "is_matched": True, **TIMESTAMPS},
}
VALUES: dict[str, Any] = {
    "created_at": STAMP,
    "updated_at": STAMP,
    "deleted_at": None,
    "direction": Direction.INPUT,  # an enum member is written as its value
    "is_selected": True,
    "is_matched": True,
    **PARENT_VALUES["provider"],
}


def parent_id(name: str, index: int = 0) -> UUID:
    """A stable id for the parent ``name`` points at (``index`` tells several apart)."""
    return UUID(int=(0x0190A0A0 << 96) + (sum(map(ord, name)) << 8) + index)


def resource_named(key: str) -> Resource:
    return PROVIDER_CATALOG if key == PROVIDER_CATALOG.key else RESOURCES[key]


def row_values(
    resource: Resource,
    row_id: UUID = ROW,
    *,
    include: tuple[str, ...] = (),
    parents: Mapping[str, UUID | None] | None = None,
    hidden: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A row as a read of ``resource`` with ``include`` answers it, by label: its id,
    attributes and parents' linkage, and for each included parent whether it is visible and
    its values."""
    parents = parents or {}
    values: dict[str, Any] = {ID_LABEL: row_id}
    values.update({attribute_label(a.name): VALUES[a.name] for a in resource.attributes})
    for rel in resource.relationships:
        values[linkage_label(rel.name)] = parents.get(rel.name, parent_id(rel.name))
    for name in include:
        parent = resource.relationship(name).parent
        values[visible_label(name)] = name not in hidden
        for a in parent.attributes:
            values[included_label(name, a.name)] = PARENT_VALUES[parent.type][a.name]
    return values


def make_row(resource: Resource, row_id: UUID = ROW, **options: Any) -> ReadRow:
    """``row_values`` as a ``ReadRow``, laid out in reverse: a row is read by label, never by
    position."""
    values = row_values(resource, row_id, **options)
    labels = tuple(reversed(values))
    return Layout(labels).rows([[values[label] for label in labels]])[0]


def builder(
    key: str, query: str = "", kind: ReadKind = "retrieve", workspace: UUID | None = None
) -> DocumentBuilder:
    resource = resource_named(key)
    return DocumentBuilder(
        resource, parse_read_query(resource, query, kind), Linker(BASE + "/", workspace)
    )


def here(key: str, row_id: UUID = ROW) -> str:
    return f"{BASE}/v1/{key.replace('_', '-')}/{row_id}"


def relationship_object(
    key: str, name: str, parent: UUID | None, row_id: UUID = ROW
) -> dict[str, Any]:
    data = None if parent is None else {"type": RELATIONSHIPS[key][name], "id": str(parent)}
    link = here(key, row_id)
    return {
        "data": data,
        "links": {"self": f"{link}/relationships/{name}", "related": f"{link}/{name}"},
    }


def resource_object(key: str, row_id: UUID = ROW, **parents: UUID | None) -> dict[str, Any]:
    """The resource object every read of ``key`` shows for a row, member by member."""
    return {
        "type": key[:-1],
        "id": str(row_id),
        "attributes": ATTRIBUTES[key],
        "relationships": {
            name: relationship_object(key, name, parents.get(name, parent_id(name)), row_id)
            for name in RELATIONSHIPS[key]
        },
        "links": {"self": here(key, row_id)},
    }


def included_object(type_name: str, object_id: UUID) -> dict[str, Any]:
    # The platform's records are served by another API: no link leads to them from here.
    return {"type": type_name, "id": str(object_id), "attributes": PARENT_VALUES[type_name]}


def assert_same_bytes(document: dict[str, Any], expected: dict[str, Any]) -> None:
    assert document == expected
    # And in the same order, as the client receives it.
    assert dump(document) == dump(expected)


# --- one resource -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ALL)
def test_retrieve_is_the_resource_object_with_every_relationships_linkage_and_links(key):
    document = builder(key).single(make_row(RESOURCES[key]), here(key))

    assert_same_bytes(
        document,
        {"jsonapi": {"version": "1.1"}, "data": resource_object(key), "links": {"self": here(key)}},
    )


def test_a_retrieve_document_is_these_bytes():
    # An enrolment without a creator, read with include=created_by in a workspace named in the
    # query: null linkage, its routes still there, nothing to include, every link in that
    # workspace.
    key = "workspace_group_workspaces"
    row = make_row(RESOURCES[key], include=("created_by",), parents={"created_by": None})
    b = builder(key, f"include=created_by&workspace_id={WORKSPACE}", workspace=WORKSPACE)

    body = dump(b.single(row, f"{here(key)}?include=created_by&workspace_id={WORKSPACE}"))

    item = "https://api.test/v1/workspace-group-workspaces/0190a0a0-0000-7000-8000-0000000000aa"
    w = "?workspace_id=0190a0a0-0000-7000-8000-0000000000cc"
    assert body == (
        '{"jsonapi":{"version":"1.1"},"data":{"type":"workspace_group_workspace",'
        '"id":"0190a0a0-0000-7000-8000-0000000000aa","attributes":{'
        '"created_at":"2024-05-10T08:05:00Z","updated_at":"2024-05-10T08:05:00Z","deleted_at":null},'
        '"relationships":{'
        '"workspace_group":{"data":{"type":"workspace_group",'
        '"id":"0190a0a0-0000-0000-0000-000000065b00"},'
        f'"links":{{"self":"{item}/relationships/workspace_group{w}","related":"{item}/workspace_group{w}"}}}},'
        '"workspace":{"data":{"type":"workspace","id":"0190a0a0-0000-0000-0000-00000003cf00"},'
        f'"links":{{"self":"{item}/relationships/workspace{w}","related":"{item}/workspace{w}"}}}},'
        '"created_by":{"data":null,'
        f'"links":{{"self":"{item}/relationships/created_by{w}","related":"{item}/created_by{w}"}}}}}},'
        f'"links":{{"self":"{item}{w}"}}}},'
        '"included":[],'
        f'"links":{{"self":"{item}?include=created_by&workspace_id=0190a0a0-0000-7000-8000-0000000000cc"}}}}'
    )


@pytest.mark.parametrize("kind", ["retrieve", "list"])
def test_a_null_relationship_has_null_data_its_routes_and_nothing_included(kind):
    key = "workspace_group_workspaces"
    row = make_row(RESOURCES[key], include=("created_by",), parents={"created_by": None})
    b = builder(key, "include=created_by", kind)

    document = b.single(row, here(key)) if kind == "retrieve" else b.collection([row], {})

    data = document["data"] if kind == "retrieve" else document["data"][0]
    assert data["relationships"]["created_by"] == relationship_object(key, "created_by", None)
    assert document["included"] == []


@pytest.mark.parametrize("key", ALL)
def test_without_include_there_is_no_included_member_and_an_empty_include_gives_an_empty_one(key):
    row = make_row(RESOURCES[key])

    assert "included" not in builder(key).single(row, here(key))
    assert "included" not in builder(key, kind="list").collection([row], {})
    assert builder(key, "include=").single(row, here(key))["included"] == []


# --- a list, with included --------------------------------------------------------------------


@pytest.mark.parametrize(("key", "record"), PROVENANCE.items())
def test_a_list_includes_each_parent_once_in_the_order_first_linked(key, record):
    resource = RESOURCES[key]
    include = (record, "workspace_connector")
    # Three rows: the first two share one record, all three one connector.
    records = [parent_id(record, 1), parent_id(record, 1), parent_id(record, 2)]
    ids = [UUID(int=ROW.int + i) for i in range(3)]
    rows = [
        make_row(resource, row_id, include=include, parents={record: parent})
        for row_id, parent in zip(ids, records, strict=True)
    ]
    links = {
        "self": f"{BASE}/v1/{resource.path}?include={record},workspace_connector",
        "prev": None,
        "next": None,
    }

    document = builder(key, f"include={record},workspace_connector", "list").collection(rows, links)

    assert_same_bytes(
        document,
        {
            "jsonapi": {"version": "1.1"},
            "data": [
                resource_object(key, row_id, **{record: parent})
                for row_id, parent in zip(ids, records, strict=True)
            ],
            "included": [
                included_object(record, parent_id(record, 1)),
                included_object("workspace_connector", parent_id("workspace_connector")),
                included_object(record, parent_id(record, 2)),
            ],
            "links": links,
        },
    )


@pytest.mark.parametrize("key", ALL)
def test_a_list_with_every_parent_included_shows_each_as_its_own_type(key):
    include = tuple(RELATIONSHIPS[key])
    rows = [make_row(RESOURCES[key], include=include)]
    links = {"self": f"{BASE}/v1/{key.replace('_', '-')}", "prev": None, "next": None}

    document = builder(key, "include=" + ",".join(include), "list").collection(
        rows, links, {"n": 1}
    )

    assert document["data"] == [resource_object(key)]
    assert document["included"] == [
        included_object(type_name, parent_id(name))
        for name, type_name in RELATIONSHIPS[key].items()
    ]
    assert document["links"] == links
    assert document["meta"] == {"n": 1}
    assert list(document) == ["jsonapi", "data", "included", "links", "meta"]


def test_a_parent_the_caller_may_not_see_keeps_its_linkage_and_is_not_included():
    key = "workspace_group_workspaces"
    row = make_row(
        RESOURCES[key], include=("workspace_group", "workspace"), hidden=("workspace_group",)
    )

    document = builder(key, "include=workspace_group,workspace").single(row, here(key))

    assert document["data"] == resource_object(key)
    assert document["included"] == [included_object("workspace", parent_id("workspace"))]


def test_an_empty_list_has_empty_data_and_its_links():
    links = {"self": f"{BASE}/v1/workspace-providers", "prev": None, "next": None}

    document = builder("workspace_providers", "include=provider", "list").collection([], links)

    assert dump(document) == (
        '{"jsonapi":{"version":"1.1"},"data":[],"included":[],'
        '"links":{"self":"https://api.test/v1/workspace-providers","prev":null,"next":null}}'
    )


# --- sparse fieldsets -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ALL)
def test_fields_limits_the_primary_type_to_the_named_attribute(key):
    document = builder(key, f"fields[{key[:-1]}]=created_at").single(
        make_row(RESOURCES[key]), here(key)
    )

    assert_same_bytes(
        document["data"],
        {
            "type": key[:-1],
            "id": str(ROW),
            "attributes": {"created_at": "2024-05-10T08:05:00Z"},
            "links": {"self": here(key)},
        },
    )


@pytest.mark.parametrize(
    ("key", "name"), [(key, name) for key in ALL for name in RELATIONSHIPS[key]]
)
def test_fields_can_name_a_relationship_alone(key, name):
    document = builder(key, f"fields[{key[:-1]}]={name}", "list").collection(
        [make_row(RESOURCES[key])], {}
    )

    (obj,) = document["data"]
    assert obj["relationships"] == {name: relationship_object(key, name, parent_id(name))}
    assert "attributes" not in obj


def test_fields_mixes_attributes_and_relationships_in_the_descriptions_order():
    key = "workspace_providers"
    document = builder(key, "fields[workspace_provider]=provider,is_matched").single(
        make_row(RESOURCES[key]), here(key)
    )

    assert list(document["data"]) == ["type", "id", "attributes", "relationships", "links"]
    assert document["data"]["attributes"] == {"is_matched": True}
    assert list(document["data"]["relationships"]) == ["provider"]


def test_an_empty_fieldset_leaves_only_type_id_and_links():
    key = "people_workspace_connectors"
    document = builder(key, "fields[people_workspace_connector]=", "list").collection(
        [make_row(RESOURCES[key])], {}
    )

    assert document["data"] == [{"type": key[:-1], "id": str(ROW), "links": {"self": here(key)}}]


# Every relationship, with one field of its parent's type (its last).
INCLUDED_FIELDS = [
    (key, name, parent_type, list(PARENT_VALUES[parent_type])[-1])
    for key in ALL
    for name, parent_type in RELATIONSHIPS[key].items()
]


@pytest.mark.parametrize(("key", "name", "parent_type", "field"), INCLUDED_FIELDS)
def test_fields_limits_included_types_too(key, name, parent_type, field):
    row = make_row(RESOURCES[key], include=(name,))

    document = builder(key, f"include={name}&fields[{parent_type}]={field}", "list").collection(
        [row], {}
    )

    assert document["included"] == [
        {
            "type": parent_type,
            "id": str(parent_id(name)),
            "attributes": {field: PARENT_VALUES[parent_type][field]},
        }
    ]
    # The primary type is not restricted by another type's fieldset.
    assert document["data"] == [resource_object(key)]


def test_fields_on_an_included_type_and_the_primary_type_combine():
    key = "account_workspace_connectors"
    row = make_row(RESOURCES[key], include=("account",))

    document = builder(
        key, "include=account&fields[account]=&fields[account_workspace_connector]=account", "list"
    ).collection([row], {})

    assert document["data"] == [
        {
            "type": key[:-1],
            "id": str(ROW),
            "relationships": {"account": relationship_object(key, "account", parent_id("account"))},
            "links": {"self": here(key)},
        }
    ]
    assert document["included"] == [{"type": "account", "id": str(parent_id("account"))}]


# --- links ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ALL)
def test_every_link_carries_the_workspace_the_request_named(key):
    row = make_row(RESOURCES[key])
    suffix = f"?workspace_id={WORKSPACE}"

    document = builder(key, workspace=WORKSPACE).single(row, "self")
    data = document["data"]

    assert data["links"] == {"self": here(key) + suffix}
    for name, relationship in data["relationships"].items():
        assert relationship["links"] == {
            "self": f"{here(key)}/relationships/{name}{suffix}",
            "related": f"{here(key)}/{name}{suffix}",
        }


def test_the_catalog_links_only_to_the_workspace_provider_it_includes():
    # The catalog's providers are no resource of this API: no link to them or their routes;
    # the workspace_provider a catalog entry points at is, and links to its route.
    row = make_row(PROVIDER_CATALOG, include=("workspace_provider",))

    document = builder(
        PROVIDER_CATALOG.key, "include=workspace_provider", "list", WORKSPACE
    ).collection([row], {})

    provider = parent_id("workspace_provider")
    assert_same_bytes(
        document,
        {
            "jsonapi": {"version": "1.1"},
            "data": [
                {
                    "type": "provider",
                    "id": str(ROW),
                    "attributes": {
                        **PARENT_VALUES["provider"],
                        "is_selected": True,
                        "is_matched": True,
                        **TIMESTAMPS,
                    },
                    "relationships": {
                        "workspace_provider": {
                            "data": {"type": "workspace_provider", "id": str(provider)}
                        }
                    },
                }
            ],
            "included": [
                {
                    "type": "workspace_provider",
                    "id": str(provider),
                    "attributes": PARENT_VALUES["workspace_provider"],
                    "links": {
                        "self": f"{BASE}/v1/workspace-providers/{provider}?workspace_id={WORKSPACE}"
                    },
                }
            ],
            "links": {},
        },
    )


@pytest.mark.parametrize(
    ("key", "name"), [(key, name) for key in ALL for name in RELATIONSHIPS[key]]
)
def test_the_relationship_and_related_documents_show_what_the_resource_shows(key, name):
    row = make_row(RESOURCES[key], include=(name,))
    b = builder(key, kind="relationship")
    linkage = relationship_object(key, name, parent_id(name))

    assert_same_bytes(
        b.relationship(row, name, f"{here(key)}/relationships/{name}"),
        {
            "jsonapi": {"version": "1.1"},
            "data": linkage["data"],
            "links": {
                "self": f"{here(key)}/relationships/{name}",
                "related": f"{here(key)}/{name}",
            },
        },
    )
    type_name = RELATIONSHIPS[key][name]
    assert_same_bytes(
        builder(key, kind="related").related(row, name, f"{here(key)}/{name}"),
        {
            "jsonapi": {"version": "1.1"},
            "data": included_object(type_name, parent_id(name)),
            "links": {"self": f"{here(key)}/{name}"},
        },
    )


def test_a_related_parent_that_is_null_or_out_of_scope_is_null_data():
    key = "workspace_group_workspaces"
    empty = make_row(RESOURCES[key], include=("created_by",), parents={"created_by": None})
    hidden = make_row(RESOURCES[key], include=("created_by",), hidden=("created_by",))
    b = builder(key, kind="related")

    for row in (empty, hidden):
        assert b.related(row, "created_by", "self")["data"] is None


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 10, 8, 0, 0, 123456, tzinfo=UTC), "2024-05-10T08:00:00.123456Z"),
        (datetime(2024, 5, 10, 10, 0, tzinfo=timezone(timedelta(hours=2))), "2024-05-10T08:00:00Z"),
        (
            datetime(2024, 5, 9, 23, 30, tzinfo=timezone(timedelta(hours=-8, minutes=-30))),
            "2024-05-10T08:00:00Z",
        ),
        (ROW, str(ROW)),
        (Direction.OUTPUT, "output"),
        (True, True),
        (42, 42),
        (None, None),
        ("text", "text"),
    ],
)
def test_values_are_written_as_json_timestamps_in_utc_with_z(value, expected):
    assert json_value(value) == expected


# --- the rows made here are the rows the statements answer --------------------------------------


@pytest.mark.parametrize("key", [*ALL, PROVIDER_CATALOG.key])
def test_the_rows_made_here_have_the_labels_of_the_compiled_read(key):
    resource = resource_named(key)
    include = tuple(r.name for r in resource.relationships)
    query = parse_read_query(resource, "include=" + ",".join(include), "list")
    entry = compiled_entry(ReadShape.of(resource, query, single=False))
    assert entry is not None

    assert sorted(row_values(resource, include=include)) == sorted(entry["labels"])
