"""Shapes (``wellapi.store.shapes``): what decides a request's SQL text, apart from its values.

Two requests that differ only in values are one shape (one composed statement, cached by the
shape); two that differ in what the SQL must say are two. ``read_params`` and
``write_params`` carry the values, and exactly those.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from wellapi.jsonapi.body import Mode, parse_resource_document
from wellapi.jsonapi.cursor import Cursor
from wellapi.jsonapi.document import LINK_BASE, LINK_SUFFIX
from wellapi.jsonapi.query import ReadKind, ReadQuery, parse_read_query
from wellapi.resources import PROVIDER_CATALOG, RESOURCES, Resource
from wellapi.resources.changes import ResourceDocument
from wellapi.sqltext.statements import read_template
from wellapi.store.shapes import ReadShape, WriteShape, read_params, write_params

U1 = UUID("0190a0a0-0000-7000-8000-000000000001")
U2 = UUID("0190a0a0-0000-7000-8000-000000000002")
U3 = UUID("0190a0a0-0000-7000-8000-000000000003")
AT = datetime(2024, 5, 10, 8, 0, tzinfo=UTC)
AFTER_1 = Cursor("-created_at", AT, U1).encode()
AFTER_2 = Cursor("-created_at", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), U2).encode()
AWC = "account_workspace_connectors"
WP = "workspace_providers"
WGW = "workspace_group_workspaces"


def resource_named(key: str) -> Resource:
    return PROVIDER_CATALOG if key == PROVIDER_CATALOG.key else RESOURCES[key]


def parsed(key: str, query: str, kind: ReadKind = "list") -> ReadQuery:
    return parse_read_query(resource_named(key), query, kind)


def shape(key: str, query: str, *, single: bool = False, service: bool = False) -> ReadShape:
    kind: ReadKind = "retrieve" if single else "list"
    return ReadShape.of(
        resource_named(key), parsed(key, query, kind), single=single, service=service
    )


# --- one shape, whatever the values -----------------------------------------------------------

SAME = [
    (AWC, f"filter[account]={U1}", f"filter[account]={U2}"),
    (AWC, f"filter[account]={U1},{U2}", f"filter[account]={U3},{U1}"),
    (AWC, "page[size]=5", "page[size]=500"),
    (AWC, "", "page[size]=20"),
    (
        AWC,
        "filter[created_at][gte]=2024-05-10T08:00:00Z",
        "filter[created_at][gte]=1999-01-01T00:00:00%2B05:00",
    ),
    (AWC, f"page[after]={AFTER_1}", f"page[after]={AFTER_2}"),
    (AWC, f"workspace_id={U1}", f"workspaceId={U2}"),
    # Both values of the direction are walked either way.
    (AWC, "", "filter[direction]=input,output"),
    (AWC, "filter[direction]=output,input", "filter[direction]=input,output"),
    (AWC, "include=account", "include=account&fields[account]=account_name"),
    (AWC, "", "fields[account_workspace_connector]=direction"),
    (WP, "filter[is_selected]=true", "filter[is_selected]=false"),
    # The same filters written in another order.
    (
        WP,
        "filter[is_selected]=true&filter[is_matched]=true",
        "filter[is_matched]=false&filter[is_selected]=true",
    ),
    (
        AWC,
        f"filter[account]={U1}&filter[workspace_connector]={U2}",
        f"filter[workspace_connector]={U3}&filter[account]={U2}",
    ),
    (
        WP,
        f"filter[workspace]={U1}&filter[is_matched]=true",
        f"filter[is_matched]=false&filter[workspace]={U2}",
    ),
    (
        WGW,
        f"filter[workspace_group]={U1}&sort=updated_at",
        f"sort=updated_at&filter[workspace_group]={U3}",
    ),
    ("provider_catalog", "filter[category]=Accounting", "filter[category]=Finance"),
]
DIFFERENT = [
    (AWC, "", "include=account"),
    (AWC, "include=account", "include=workspace_connector"),
    (AWC, "", "sort=created_at"),
    (WP, "sort=-created_at", "sort=-updated_at"),
    (AWC, f"filter[account]={U1}", f"filter[account]={U1},{U2}"),
    (AWC, f"filter[account]={U1}", f"filter[workspace_connector]={U1}"),
    (AWC, f"page[after]={AFTER_1}", f"page[before]={AFTER_1}"),
    (AWC, "", f"page[after]={AFTER_1}"),
    # The indexed enum's values are in the text: each has its own partial index.
    (AWC, "filter[direction]=input", "filter[direction]=output"),
    (AWC, "", "filter[direction]=input"),
    (
        AWC,
        "filter[created_at][gte]=2024-05-10T08:00:00Z",
        "filter[created_at][lte]=2024-05-10T08:00:00Z",
    ),
    (WP, "filter[is_selected]=true", "filter[is_matched]=true"),
    (WP, "filter[is_selected]=true", "filter[is_selected]=true&filter[is_matched]=true"),
]


def _ids(cases: list[tuple[str, str, str]]) -> list[str]:
    def short(query: str) -> str:
        for name, value in (("U1", U1), ("U2", U2), ("U3", U3)):
            query = query.replace(str(value), name)
        return query.replace(AFTER_1, "C1").replace(AFTER_2, "C2") or "-"

    return [f"{key}:{short(a)}|{short(b)}" for key, a, b in cases]


@pytest.mark.parametrize(("key", "first", "second"), SAME, ids=_ids(SAME))
def test_queries_differing_only_in_values_are_one_shape(key, first, second):
    a, b = shape(key, first), shape(key, second)

    assert a == b
    assert hash(a) == hash(b)
    assert repr(a) == repr(b)
    # One statement, composed once.
    assert read_template(a) is read_template(b)


@pytest.mark.parametrize(("key", "first", "second"), DIFFERENT, ids=_ids(DIFFERENT))
def test_queries_differing_in_structure_are_two_shapes(key, first, second):
    a, b = shape(key, first), shape(key, second)

    assert a != b
    assert repr(a) != repr(b)
    assert read_template(a)[0].text != read_template(b)[0].text


@pytest.mark.parametrize("key", [AWC, WP, WGW])
def test_a_retrieve_a_list_and_a_services_read_are_three_shapes(key):
    shapes = {
        shape(key, "", single=True),
        shape(key, ""),
        shape(key, "", service=True),
    }

    assert len(shapes) == 3
    assert len({repr(s) for s in shapes}) == 3


@pytest.mark.parametrize("key", [AWC, WGW])
def test_a_retrieve_is_one_shape_whichever_workspace_or_fields_it_names(key):
    a = shape(
        key, "include=workspace_connector" if key == AWC else "include=workspace", single=True
    )
    b = shape(
        key,
        ("include=workspace_connector" if key == AWC else "include=workspace")
        + f"&workspace_id={U3}&fields[{RESOURCES[key].type}]=created_at",
        single=True,
    )

    assert a == b
    assert repr(a) == repr(b)


# --- the repr is stable -------------------------------------------------------------------------

REPRS = [
    (
        shape(AWC, ""),
        "ReadShape(resource='account_workspace_connectors', single=False, include=(), "
        "sort='created_at', descending=True, relationship_filters=(), attribute_filters=(), "
        "ranges=(), cursor=None, offset=False, service=False, enum_values=('input', 'output'), "
        "documents_in_sql=False)",
    ),
    (
        shape(WP, f"filter[is_selected]=true&filter[workspace]={U1}", service=True),
        "ReadShape(resource='workspace_providers', single=False, include=(), "
        "sort='created_at', descending=True, relationship_filters=(('workspace', 1),), "
        "attribute_filters=(('is_selected', 1),), ranges=(), cursor=None, offset=False, "
        "service=True, enum_values=(), documents_in_sql=False)",
    ),
    (
        shape(WGW, "include=created_by", single=True),
        "ReadShape(resource='workspace_group_workspaces', single=True, include=('created_by',), "
        "sort='created_at', descending=True, relationship_filters=(), attribute_filters=(), "
        "ranges=(), cursor=None, offset=False, service=False, enum_values=(), "
        "documents_in_sql=False)",
    ),
    (
        shape(AWC, f"page[after]={AFTER_1}"),
        "ReadShape(resource='account_workspace_connectors', single=False, include=(), "
        "sort='created_at', descending=True, relationship_filters=(), attribute_filters=(), "
        "ranges=(), cursor='after', offset=False, service=False, enum_values=('input', 'output'), "
        "documents_in_sql=False)",
    ),
    (
        shape(AWC, "page[number]=2&page[size]=5"),
        "ReadShape(resource='account_workspace_connectors', single=False, include=(), "
        "sort='created_at', descending=True, relationship_filters=(), attribute_filters=(), "
        "ranges=(), cursor=None, offset=True, service=False, enum_values=('input', 'output'), "
        "documents_in_sql=False)",
    ),
]


def document(
    key: str, body: dict[str, Any], mode: Mode = "create", row_id: UUID | None = None
) -> ResourceDocument:
    return parse_resource_document(RESOURCES[key], json.dumps(body).encode(), mode, row_id=row_id)


def linkage(type_name: str, row_id: UUID | None) -> dict[str, Any]:
    return {"data": None if row_id is None else {"type": type_name, "id": str(row_id)}}


SELECT = {
    "data": {
        "type": "workspace_provider",
        "attributes": {"is_selected": True},
        "relationships": {
            "workspace": linkage("workspace", U1),
            "provider": linkage("provider", U2),
        },
    }
}
WRITE_REPRS = [
    (
        WriteShape.of(RESOURCES[WP], "create", document(WP, SELECT), False),
        "WriteShape(resource='workspace_providers', kind='create', attributes=('is_selected',), "
        "relationships=('provider', 'workspace'), null_relationships=(), service=False, "
        "target_by=(), upsert=False, read_only=(), answers=None)",
    ),
]


@pytest.mark.parametrize(
    ("value", "text"), REPRS + WRITE_REPRS, ids=[t.split(",")[0] for _, t in REPRS + WRITE_REPRS]
)
def test_the_repr_of_a_shape_is_stable(value, text):
    # What the logs say of a shape, and what the cache of its statement is keyed on.
    assert repr(value) == text
    assert eval(text, {"ReadShape": ReadShape, "WriteShape": WriteShape}) == value  # noqa: S307


# --- the values ---------------------------------------------------------------------------------


def test_read_params_carry_exactly_the_values_of_the_query():
    query = parsed(
        AWC,
        f"filter[account]={U1},{U2}&filter[direction]=input&page[size]=7"
        "&filter[created_at][gte]=2024-05-10T10:00:00%2B02:00&filter[created_at][lt]=2025-01-01T00:00:00Z"
        f"&page[after]={AFTER_1}&include=account&workspace_id={U3}",
    )

    assert read_params(query) == {
        "limit": 8,  # one more than the page: whether there is a next page
        "rel_account_0": U1,
        "rel_account_1": U2,
        "attr_direction_0": "input",
        "range_created_at_gte": AT,
        "range_created_at_lt": datetime(2025, 1, 1, tzinfo=UTC),
        "cursor_value": AT,
        "cursor_id": U1,
    }


def test_read_params_of_a_retrieve_carry_its_id_and_a_before_cursor_its_values():
    before = Cursor("updated_at", AT, U2).encode()

    assert read_params(parsed(WP, ""), row_id=U1) == {"limit": 21, "row_id": U1}
    assert read_params(parsed(WP, f"sort=updated_at&page[before]={before}")) == {
        "limit": 21,
        "cursor_value": AT,
        "cursor_id": U2,
    }
    assert read_params(parsed(WP, "filter[is_selected]=false&filter[is_matched]=true")) == {
        "limit": 21,
        "attr_is_selected_0": False,
        "attr_is_matched_0": True,
    }


SLOTS = re.compile(r"%\((\w+)\)s")
QUERIES = [
    (WP, f"filter[is_selected]=true&filter[workspace]={U1}&page[before]={AFTER_1}", True),
    (AWC, f"filter[created_at][gte]=2024-05-10T08:00:00Z&page[after]={AFTER_1}", False),
    (AWC, "filter[direction]=input&page[size]=3", False),
    (WGW, f"filter[workspace]={U1}&sort=updated_at", False),
]


@pytest.mark.parametrize(("key", "query", "service"), QUERIES)
def test_read_params_fill_every_slot_of_the_composed_statement(key, query, service):
    read_query = parsed(key, query)
    value = ReadShape.of(resource_named(key), read_query, single=False, service=service)
    template, _ = read_template(value)
    params = read_params(read_query)

    slots = set(SLOTS.findall(template.text))
    # Every slot but the document's own values (``document_values``: fields and links).
    document = {s for s in slots if s.startswith(("show_", "any_"))} | {LINK_BASE, LINK_SUFFIX}
    assert slots - document <= set(params)
    # Only the indexed enum's values are in the text rather than in a slot; and a ledger's
    # cursor is its id alone, which carries the time its value repeats.
    by_id = resource_named(key).time_ordered_id and read_query.sort == "created_at"
    unused = {"attr_direction_0"} | ({"cursor_value"} if by_id else set())
    assert {p for p in params if p not in slots} <= unused


def test_write_shape_and_params_of_a_create():
    doc = document(WP, SELECT)

    assert WriteShape.of(RESOURCES[WP], "create", doc, False) == WriteShape(
        WP, "create", ("is_selected",), ("provider", "workspace"), (), False
    )
    assert write_params(doc, row_id=U3) == {
        "row_id": U3,
        "attr_is_selected": True,
        "rel_workspace": U1,
        "rel_provider": U2,
    }


def test_write_shape_and_params_of_an_update_with_a_null_relationship_and_read_only_values():
    body = {
        "data": {
            "type": "workspace_group_workspace",
            "id": str(U3),
            "attributes": {"created_at": "2024-05-10T08:00:00Z"},
            "relationships": {"created_by": linkage("people", None)},
        }
    }
    doc = document(WGW, body, "update", U3)

    assert WriteShape.of(RESOURCES[WGW], "update", doc, True) == WriteShape(
        WGW, "update", (), (), ("created_by",), True, read_only=("created_at",)
    )
    # A null relationship is in the shape (the SQL compares it with NULL), not in the values.
    assert write_params(doc, row_id=U3, target={"workspace": U1}) == {
        "row_id": U3,
        "target_workspace": U1,
        "ro_created_at": AT,
    }


def test_two_documents_differing_only_in_values_are_one_write_shape():
    other = json.loads(json.dumps(SELECT).replace(str(U1), str(U3)).replace("true", "false"))
    resource = RESOURCES[WP]

    a = WriteShape.of(resource, "create", document(WP, SELECT), False)
    b = WriteShape.of(resource, "create", document(WP, other), False)
    fewer = dict(SELECT["data"], attributes={})
    c = WriteShape.of(resource, "create", document(WP, {"data": fewer}), False)

    assert a == b
    assert repr(a) == repr(b)
    assert write_params(document(WP, other), row_id=U3)["attr_is_selected"] is False
    assert c != a
    assert repr(c) != repr(a)
    assert WriteShape.of(resource, "create", document(WP, SELECT), False, upsert=True) != a
