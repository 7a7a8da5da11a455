"""The documents' envelope, without a database: rows' JSON text joined into documents, included
records once each, the values a statement takes for its links and sparse fieldsets.

The rows' own JSON (resource objects, included records) is written by PostgreSQL
(``wellapi.sqltext.document``); ``tests/database/test_document_bytes.py`` holds it, and
these envelopes, to the bytes the documents have always had.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from uuid import UUID

import pytest

from wellapi.jsonapi.document import (
    LINK_BASE,
    LINK_SUFFIX,
    Linker,
    any_shown,
    collection_document,
    document_values,
    related_document,
    relationship_document,
    resource_document,
    shown,
)
from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import PROVIDER_CATALOG, RESOURCES

LEDGER = RESOURCES["account_workspace_connectors"]
WORKSPACE = UUID("01900000-0000-7000-8000-000000000001")


@dataclass
class Row:
    document: str
    records: dict[str, str | None] = field(default_factory=dict)

    def included(self, relationship: str) -> str | None:
        return self.records[relationship]


def record(type_name: str, number: int) -> str:
    return json.dumps({"type": type_name, "id": str(number)}, separators=(",", ":"))


def test_a_resource_document_wraps_the_rows_object_with_its_link():
    row = Row('{"type":"t","id":"1"}')
    text = resource_document(row, ReadQuery(), "https://api.test/v1/t/1")
    assert text == (
        '{"jsonapi":{"version":"1.1"},"data":{"type":"t","id":"1"},'
        '"links":{"self":"https://api.test/v1/t/1"}}'
    )


def test_included_is_there_only_when_include_was_asked_even_when_empty():
    row = Row('{"type":"t","id":"1"}', {"account": None})
    asked = ReadQuery(include=("account",), include_requested=True)
    assert json.loads(resource_document(row, asked, "x"))["included"] == []
    assert "included" not in json.loads(resource_document(Row("{}"), ReadQuery(), "x"))
    empty = ReadQuery(include=(), include_requested=True)
    assert json.loads(resource_document(Row("{}"), empty, "x"))["included"] == []


def test_a_collection_includes_each_record_once_in_the_order_the_rows_first_name_it():
    rows = [
        Row("{}", {"account": record("account", 2), "workspace_connector": record("wc", 9)}),
        Row("{}", {"account": record("account", 1), "workspace_connector": record("wc", 9)}),
        Row("{}", {"account": record("account", 2), "workspace_connector": None}),
    ]
    query = ReadQuery(include=("account", "workspace_connector"), include_requested=True)
    text = collection_document(rows, query, {"self": "s", "prev": None, "next": "n"}, {"count": 3})
    document = json.loads(text)
    assert [(r["type"], r["id"]) for r in document["included"]] == [
        ("account", "2"),
        ("wc", "9"),
        ("account", "1"),
    ]
    assert document["data"] == [{}, {}, {}]
    assert list(document) == ["jsonapi", "data", "included", "links", "meta"]
    assert document["links"] == {"self": "s", "prev": None, "next": "n"}
    assert document["meta"] == {"count": 3}


def test_an_empty_collection_has_empty_data_its_links_and_meta():
    text = collection_document([], ReadQuery(), {"self": "s", "prev": None, "next": None}, {})
    assert text == (
        '{"jsonapi":{"version":"1.1"},"data":[],'
        '"links":{"self":"s","prev":null,"next":null},"meta":{}}'
    )


def test_a_related_document_is_the_included_record_or_null():
    assert json.loads(related_document(record("account", 1), "u"))["data"] == {
        "type": "account",
        "id": "1",
    }
    assert related_document(None, "u") == (
        '{"jsonapi":{"version":"1.1"},"data":null,"links":{"self":"u"}}'
    )


def test_a_relationship_document_is_the_linkage_with_its_own_and_the_related_link():
    linker = Linker("https://api.test/", WORKSPACE)
    text = relationship_document(LEDGER, "7", "account", "3", linker, "https://self")
    assert json.loads(text) == {
        "jsonapi": {"version": "1.1"},
        "data": {"type": "account", "id": "3"},
        "links": {
            "self": "https://self",
            "related": f"https://api.test/v1/account-workspace-connectors/7/account"
            f"?workspace_id={WORKSPACE}",
        },
    }
    assert (
        json.loads(relationship_document(LEDGER, "7", "account", None, linker, "s"))["data"] is None
    )


def test_links_carry_the_workspace_the_request_named_and_no_trailing_slash():
    assert Linker("https://h/stage/").item(LEDGER, "1") == (
        "https://h/stage/v1/account-workspace-connectors/1"
    )
    assert Linker("https://h", WORKSPACE).item(LEDGER, "1", "/account") == (
        f"https://h/v1/account-workspace-connectors/1/account?workspace_id={WORKSPACE}"
    )


def test_the_link_values_are_json_string_text():
    values = document_values(LEDGER, ReadQuery(), Linker('https://h"\\', WORKSPACE))
    assert values[LINK_BASE] == 'https://h\\"\\\\'
    assert values[LINK_SUFFIX] == f"?workspace_id={WORKSPACE}"


def test_without_fields_every_member_of_every_type_read_is_shown():
    query = ReadQuery(include=("account", "workspace_connector"))
    values = document_values(LEDGER, query, Linker("h"))
    flags = {k: v for k, v in values.items() if k not in (LINK_BASE, LINK_SUFFIX)}
    assert all(flags.values())
    members = [a.name for a in LEDGER.attributes] + [r.name for r in LEDGER.relationships]
    for name in members:
        assert shown(LEDGER.type, name) in flags
    assert shown("account", "account_name") in flags
    assert shown("workspace_connector", "status") in flags


@pytest.mark.parametrize(
    ("fields", "attributes", "relationships"),
    [
        ({"direction"}, True, False),
        ({"account"}, False, True),
        ({"direction", "account"}, True, True),
        (set(), False, False),
    ],
)
def test_a_fieldset_shows_what_it_names_and_a_group_only_if_it_names_one_of_it(
    fields, attributes, relationships
):
    query = ReadQuery(fields={LEDGER.type: frozenset(fields)})
    values = document_values(LEDGER, query, Linker("h"))
    assert values[any_shown(LEDGER.type, "attributes")] is attributes
    assert values[any_shown(LEDGER.type, "relationships")] is relationships
    for member in ("direction", "created_at", "account", "workspace_connector"):
        assert values[shown(LEDGER.type, member)] is (member in fields)


def test_a_fieldset_of_an_included_type_holds_for_that_type_alone():
    query = ReadQuery(include=("account",), fields={"account": frozenset({"account_type"})})
    values = document_values(LEDGER, query, Linker("h"))
    assert values[shown("account", "account_type")] is True
    assert values[shown("account", "account_name")] is False
    assert values[shown(LEDGER.type, "direction")] is True


def test_the_catalog_takes_values_for_its_own_type_and_the_workspace_provider_it_includes():
    query = ReadQuery(include=("workspace_provider",))
    values = document_values(PROVIDER_CATALOG, query, Linker("h"))
    assert values[shown("provider", "is_selected")] is True
    assert values[shown("workspace_provider", "is_selected")] is True
