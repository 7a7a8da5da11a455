"""The shapes a client can send, for the tests: chosen by a stated rule from the resources'
descriptions, the query grammar and the document parser, never from a list of requests.

- every Retrieve a client can send: each ``include``, in any order;
- every write a document can ask for (``write_shapes``): each document the parser accepts and
  the resource's rules keep, created or updated, upserted where the resource has an upsert
  key, and each removal by id or by a nested route's path, for the principals that may write;
- every List that departs from the default List in at most ``MAX_DIMENSIONS`` (two) of its
  dimensions (``list_dimensions``: include, the resource's own sorts, relationship filters,
  attribute filters, a ``created_at`` range), one id or value per filter, at every page (the
  first, after a cursor, before one, a numbered page past the first); not what the API refuses.

All of it for members and for services: 9,246 shapes, whose composed statements the tests hold
to their row contracts and plans (every other shape is composed by the same parts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import combinations, permutations, product
from urllib.parse import quote
from uuid import UUID

from wellapi.errors import ApiError, ErrorList, InvalidQueryParameter
from wellapi.jsonapi.body import Mode, parse_resource_document
from wellapi.jsonapi.query import RANGE_OPERATORS, parse_read_query
from wellapi.resources import Resource
from wellapi.resources.changes import ResourceDocument
from wellapi.store.shapes import ReadShape, WriteShape

AN_ID = "00000000-0000-4000-8000-000000000001"
# The bound of the rule: the Lists that depart from the default List in at most this many of
# their dimensions (``list_dimensions``), at every page.
MAX_DIMENSIONS = 2
# Every List is taken at each page: the first, after a cursor, before one (a cursor's value is
# a parameter; only its direction is in the SQL text), and a numbered page past the first
# (its offset is a parameter; only that it skips rows is in the text).
PAGES = (None, "after", "before", "number")
A_TIME = "2026-01-01T00:00:00Z"


def include_options(resource: Resource) -> list[str]:
    """Every ``include`` a client can send: each ordered selection of the relationships."""
    names = [r.name for r in resource.relationships]
    return [",".join(chosen) for n in range(1, len(names) + 1) for chosen in permutations(names, n)]


def _nonempty_subsets(names: Sequence[str]) -> list[tuple[str, ...]]:
    return [c for n in range(1, len(names) + 1) for c in combinations(names, n)]


def _attribute_filters(resource: Resource) -> list[str]:
    indexed = {w.indexed_enum for w in resource.walks}
    per_attribute: list[list[str]] = []
    for name in resource.filters:
        values = resource.attribute(name).enum
        if name in indexed:
            # Which values an indexed enum shows decides the text (each has its own partial index);
            # all of them is the default List.
            chosen = [",".join(c) for n in range(1, len(values)) for c in combinations(values, n)]
        else:
            # Otherwise the text depends on how many values the filter holds: one.
            chosen = [values[0] if values else "true"]
        per_attribute.append(["", *(f"filter[{name}]={quote(v, safe=',')}" for v in chosen)])
    return ["&".join(p for p in combo if p) for combo in product(*per_attribute) if any(combo)]


def _ranges() -> list[str]:
    """A ``created_at`` range: a lower bound, an upper bound, or one of each."""
    lower = [""] + [f"filter[created_at][{op}]={A_TIME}" for op in RANGE_OPERATORS if "g" in op]
    upper = [""] + [f"filter[created_at][{op}]={A_TIME}" for op in RANGE_OPERATORS if "l" in op]
    return ["&".join(p for p in pair if p) for pair in product(lower, upper) if any(pair)]


def list_dimensions(resource: Resource) -> dict[str, list[str]]:
    """The dimensions of a List's query, each with its options other than the default List's.

    A relationship filter names one id (each id is a parameter of its own in the text, so a
    filter of two ids is another shape); a select (upsert) answers with its row as the List
    filtered by every relationship it names shows it, one id each: one option of ``filter``.
    """
    filterable = [r.name for r in resource.relationships if r.reverse_column is None]
    dimensions: dict[str, list[str]] = {
        "include": [f"include={names}" for names in include_options(resource)],
        "sort": [f"sort={s}" for s in resource.sort_values if s != "-created_at"],
        "filter": [
            "&".join(f"filter[{name}]={AN_ID}" for name in names)
            for names in _nonempty_subsets(filterable)
        ],
        "attribute filter": _attribute_filters(resource),
        "range": _ranges(),
    }
    return {name: choices for name, choices in dimensions.items() if choices}


def _list_queries(resource: Resource) -> Iterator[str]:
    dimensions = list(list_dimensions(resource).values())
    for n in range(MAX_DIMENSIONS + 1):
        for chosen in combinations(dimensions, n):
            for picks in product(*chosen):
                yield "&".join(picks)


def common_shapes(resource: Resource, *, view: bool) -> list[ReadShape]:
    """Every read shape of the rule for ``resource`` (a view is only ever listed)."""
    shapes: dict[ReadShape, None] = {}
    for service in (False, True):
        if not view:
            for include in ["", *include_options(resource)]:
                raw = f"include={include}" if include else ""
                query = parse_read_query(resource, raw, "retrieve")
                shapes[ReadShape.of(resource, query, single=True, service=service)] = None
        for raw in _list_queries(resource):
            try:
                query = parse_read_query(resource, raw, "list")
            except InvalidQueryParameter:
                continue  # a combination the API refuses (a range sorted by updated_at)
            shape = ReadShape.of(resource, query, single=False, service=service)
            for page in PAGES:
                shapes[_at_page(shape, page)] = None
    return list(shapes)


def _at_page(shape: ReadShape, page: str | None) -> ReadShape:
    if page == "number":
        return replace(shape, offset=True)
    return replace(shape, cursor=page) if page else shape


# The nested routes address a row by these relationships' ids (wellapi.operations.nested).
NESTED_TARGETS = {
    "workspace_providers": ("provider", "workspace"),
    "workspace_group_workspaces": ("workspace", "workspace_group"),
}
ROW_ID = UUID("00000000-0000-4000-8000-00000000000a")


def _values(resource: Resource, name: str) -> list[object]:
    """The values a document may give an attribute that can change its write's shape."""
    attribute = resource.attribute(name)
    # A boolean's value can (a selected provider is matched: Rules.normalise).
    samples: dict[str, list[object]] = {
        "boolean": [True, False],
        "datetime": [A_TIME],
        "enum": list(attribute.enum[:1]),
    }
    sample = samples.get(attribute.kind, ["x"])
    return [*sample, None] if attribute.nullable else sample


def documents(resource: Resource, mode: Mode) -> Iterator[bytes]:
    """Every document of ``mode`` up to values: each member absent or sent, each relationship
    absent, linked or null (what the parser refuses is dropped by ``write_shapes``)."""
    attributes = [a.name for a in resource.attributes]
    relationships = list(resource.relationships)
    attribute_choices = [
        [None, *((name, v) for v in _values(resource, name))] for name in attributes
    ]
    relationship_choices = [
        [None, (r.name, {"type": r.parent.type, "id": AN_ID}), (r.name, None)]
        for r in relationships
    ]
    for given in product(*attribute_choices):
        for linked in product(*relationship_choices):
            data: dict[str, object] = {
                "type": resource.type,
                "attributes": dict(c for c in given if c is not None),
                "relationships": {n: {"data": v} for n, v in (c for c in linked if c is not None)},
            }
            if mode == "update":
                data["id"] = str(ROW_ID)
            yield json.dumps({"data": data}).encode()


def write_shapes(resource: Resource) -> list[WriteShape]:
    """Every shape a write of ``resource`` can take, for the principals that may write: each
    document the parser accepts and the resource's rules keep, created (and upserted, where
    the resource has an upsert key, when it sets something: the select route forces
    ``is_selected``) or updated, and each removal, by id or by a nested route's path."""
    rules = resource.rules
    modes: tuple[Mode, ...] = ("create", "update") if rules.patch_allowed else ("create",)
    accepted: list[tuple[Mode, ResourceDocument]] = []
    for mode in modes:
        for body in documents(resource, mode):
            try:
                document = parse_resource_document(resource, body, mode, row_id=ROW_ID)
                accepted.append((mode, rules.normalise(document, mode)))
            except (ApiError, ErrorList):
                continue
    shapes: list[WriteShape] = []
    for service in (True, False) if rules.members_may_write else (True,):
        for mode, document in accepted:
            shape = WriteShape.of(resource, mode, document, service)
            shapes.append(shape)
            if mode == "create" and rules.upsert_key and shape.attributes:
                shapes.append(replace(shape, upsert=True))
        for target in ((), NESTED_TARGETS.get(resource.key, ())):
            shapes.append(WriteShape(resource.key, "delete", (), (), (), service, target))
    return sorted(dict.fromkeys(shapes), key=repr)
