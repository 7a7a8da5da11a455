"""The JSON:API 1.1 schema validator the API tests rely on judges documents correctly.

``tests.support.api`` validates every response against the draft 1.1 schema with
jsonschema-rs. A validator that accepted everything would make those checks worthless (the
README of tests/vendor/jsonapi warns validators have misjudged such schemas), so here it must reject
documents the specification forbids and accept the ones it allows.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.api import assert_valid_document, response_validator

HERE = "https://api.test/v1/account-workspace-connectors/3fa85f64-5717-4562-b3fc-2c963f66afa6"
RESOURCE: dict[str, Any] = {
    "type": "account_workspace_connector",
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "attributes": {
        "direction": "input",
        "created_at": "2026-05-10T08:14:22.000Z",
        "updated_at": "2026-05-10T08:14:22.000Z",
        "deleted_at": None,
    },
    "relationships": {
        "account": {
            "data": {"type": "account", "id": "a1b2c3d4-0000-0000-0000-000000000001"},
            "links": {
                "self": f"{HERE}/relationships/account",
                "related": f"{HERE}/account",
            },
        },
        "workspace_connector": {
            "data": {"type": "workspace_connector", "id": "d4c3b2a1-0000-0000-0000-000000000002"}
        },
    },
    "links": {"self": HERE},
}
# A platform record, as this API includes it: served elsewhere, so without links.
ACCOUNT = {
    "type": "account",
    "id": "a1b2c3d4-0000-0000-0000-000000000001",
    "attributes": {"account_type": "deposit", "account_name": "Main"},
}
ERROR = {
    "status": "400",
    "code": "INVALID_QUERY_PARAMETER",
    "title": "Invalid query parameter",
    "detail": "page[size] may be at most 500.",
    "source": {"parameter": "page[size]"},
    "links": {
        "type": "https://jsonapi.org/profiles/ethanresnick/cursor-pagination/max-size-exceeded"
    },
    "meta": {"page": {"maxSize": 500}, "trace_id": "abc"},
}


def with_changes(document: dict[str, Any], *changes: tuple[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with each '/'-separated path set (or removed, for ...)."""
    result = copy.deepcopy(document)
    for path, value in changes:
        *parents, last = path.split("/")
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is ...:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return result


SINGLE = {"jsonapi": {"version": "1.1"}, "data": RESOURCE, "links": {"self": "https://api.test/x"}}
COLLECTION = {
    "jsonapi": {"version": "1.1"},
    "data": [RESOURCE],
    "included": [ACCOUNT],
    "links": {"self": "https://api.test/x", "prev": None, "next": "https://api.test/x?a=1"},
}
ERRORS = {"jsonapi": {"version": "1.1"}, "errors": [ERROR]}

GOOD = {
    "a single resource": SINGLE,
    "a compound collection with null prev": COLLECTION,
    "an empty collection with empty included": {"data": [], "included": []},
    "null primary data": {"data": None},
    "meta only": {"meta": {"total": 0}},
    "an error document": ERRORS,
    "an error with only a title": {"errors": [{"title": "Bad"}]},
    "a null to-one relationship": with_changes(
        SINGLE, ("data/relationships/account", {"data": None})
    ),
    "a relationship with links only": with_changes(
        SINGLE, ("data/relationships/account", {"links": {"related": "https://api.test/a"}})
    ),
    "a resource with no attributes member": with_changes(SINGLE, ("data/attributes", ...)),
    "a related-resource document": {
        "jsonapi": {"version": "1.1"},
        "data": ACCOUNT,
        "links": {"self": f"{HERE}/account"},
    },
    "a related-resource document with null data": {
        "jsonapi": {"version": "1.1"},
        "data": None,
        "links": {"self": f"{HERE}/account"},
    },
    "a relationship document": {
        "jsonapi": {"version": "1.1"},
        "data": {"type": "account", "id": "a1b2c3d4-0000-0000-0000-000000000001"},
        "links": {"self": f"{HERE}/relationships/account", "related": f"{HERE}/account"},
    },
    "an empty to-one relationship document": {
        "jsonapi": {"version": "1.1"},
        "data": None,
        "links": {"self": f"{HERE}/relationships/account", "related": f"{HERE}/account"},
    },
    "a spec example (workspace_provider)": {
        "data": {
            "type": "workspace_provider",
            "id": "a3f1c2d4-88e0-4b5a-9f3c-1d2e3f4a5b6c",
            "attributes": {
                "is_selected": True,
                "is_matched": True,
                "created_at": "2025-11-14T09:30:00.000Z",
                "updated_at": "2025-11-14T09:30:00.000Z",
                "deleted_at": None,
            },
            "relationships": {
                "workspace": {
                    "data": {"type": "workspace", "id": "d7e8f9a0-1234-4abc-8def-0123456789ab"}
                },
                "provider": {
                    "data": {"type": "provider", "id": "b2c3d4e5-5678-4bcd-9ef0-1234567890bc"}
                },
            },
        }
    },
}

BAD = {
    "an error status that is a number": with_changes(ERRORS, ("errors/0/status", 400)),
    "an error code that is a number": with_changes(ERRORS, ("errors/0/code", 7)),
    "an error with an unknown member": with_changes(ERRORS, ("errors/0/reason", "x")),
    "an empty error object": {"errors": [{}]},
    "errors that are not an array": {"errors": ERROR},
    "a resource without type": with_changes(SINGLE, ("data/type", ...)),
    "a resource with a numeric id": with_changes(SINGLE, ("data/id", 42)),
    "a resource with an unknown member": with_changes(SINGLE, ("data/pk", 42)),
    "an attribute named id": with_changes(SINGLE, ("data/attributes/id", "x")),
    "an attribute named type": with_changes(SINGLE, ("data/attributes/type", "deposit")),
    "an attribute with an invalid member name": with_changes(SINGLE, ("data/attributes/a b", 1)),
    "a relationship named type": with_changes(SINGLE, ("data/relationships/type", {"data": None})),
    "a relationship with neither data, links nor meta": with_changes(
        SINGLE, ("data/relationships/account", {})
    ),
    "linkage without id": with_changes(SINGLE, ("data/relationships/account/data/id", ...)),
    "linkage with an attributes member": with_changes(
        SINGLE, ("data/relationships/account/data/attributes", {"a": 1})
    ),
    "data and errors together": {"data": None, "errors": [ERROR]},
    "no data, errors or meta": {"jsonapi": {"version": "1.1"}, "links": {"self": "x"}},
    "included without data": {"meta": {}, "included": [ACCOUNT]},
    "an unknown top-level member": with_changes(SINGLE, ("pk", 1)),
    "primary data that is a string": {"data": "3fa85f64"},
    "a jsonapi version that is a number": with_changes(SINGLE, ("jsonapi/version", 1.1)),
    "a self link that is a number": with_changes(SINGLE, ("links/self", 1)),
    "a next link that is a number": with_changes(COLLECTION, ("links/next", 2)),
    "a relationship document whose related link is a number": {
        "data": {"type": "account", "id": "a1b2c3d4-0000-0000-0000-000000000001"},
        "links": {"self": f"{HERE}/relationships/account", "related": 7},
    },
    "the same resource twice in included": with_changes(COLLECTION, ("included", [ACCOUNT] * 2)),
    "an error source pointer that is not a JSON pointer": with_changes(
        ERRORS, ("errors/0/source", {"pointer": "data/attributes"})
    ),
}


@pytest.mark.parametrize("document", GOOD.values(), ids=GOOD.keys())
def test_the_validator_accepts_a_valid_document(document):
    assert_valid_document(document)


@pytest.mark.parametrize("document", BAD.values(), ids=BAD.keys())
def test_the_validator_rejects_an_invalid_document(document):
    assert not response_validator().is_valid(document)
    with pytest.raises(AssertionError, match=r"not a valid JSON:API 1\.1 document"):
        assert_valid_document(document)
