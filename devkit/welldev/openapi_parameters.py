"""The parameters of the OpenAPI document (``welldev.openapi``): how one is written, a path's
ids, the workspace a key acts in, a read's include, fields, sort and filters, and its pages.

A List takes three forms of paging, one per request (``wellapi.jsonapi.query``): the platform's
``limit`` / ``cursor`` and the cursor pagination profile's ``page[...]`` (the same cursor
paging), and numbered pages (``page[number]`` with ``page[size]``) as deep as
``MAX_PAGE_DEPTH`` rows. The changes feed pages forward only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from wellapi.jsonapi import CURSOR_PROFILE
from wellapi.jsonapi.ids import UUID_PATTERN
from wellapi.jsonapi.query import (
    MAX_FILTER_VALUES,
    MAX_PAGE_DEPTH,
    MAX_PAGE_SIZE,
    RANGE_OPERATORS,
    SORTABLE,
    WORKSPACE_PARAMETERS,
    fields_of,
)
from wellapi.operations.read import TOTAL_BOUND
from wellapi.resources import Resource
from wellapi.resources.feed import SYNC_RUN_ID_MAX
from welldev import openapi_examples as examples

UUID_SCHEMA = {"type": "string", "format": "uuid"}


def openapi_parameter(
    name: str, schema: dict[str, Any], description: str, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def comma_list(names: Iterable[Any], *, empty: bool, pattern: str = "") -> dict[str, Any]:
    """A comma-separated list of ``names`` (or of items that match ``pattern``) as a string
    schema; ``empty``: the empty string too."""
    escaped = [re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", str(name)) for name in names]
    item = "(?:" + (pattern or "|".join(escaped)) + ")"
    listed = f"{item}(?:,{item})*"
    return {"type": "string", "pattern": f"^(?:{listed})?$" if empty else f"^{listed}$"}


_SIZE: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
_CURSOR: dict[str, Any] = {"type": "string"}

# (name, schema, description) of each paging parameter of a List.
PAGE_PARAMETERS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("limit", _SIZE, "Rows per page, default 20 (the platform's form; not with `page[...]`)."),
    (
        "cursor",
        _CURSOR,
        "The `cursor` of the previous answer's `links.next` or `links.prev`, as it is: opaque "
        "(the platform's form; not with `page[...]`).",
    ),
    ("page[size]", _SIZE, "Default 20 (the profile's form; not with `limit`)."),
    ("page[after]", _CURSOR, f"Cursor ({CURSOR_PROFILE}; not with `cursor`)."),
    ("page[before]", _CURSOR, f"Cursor ({CURSOR_PROFILE}; not with `cursor`)."),
    (
        "page[number]",
        {"type": "integer", "minimum": 1},
        "A numbered page, 1 the first, of `page[size]` rows (not with a cursor or `limit`). It "
        f"may start at most {MAX_PAGE_DEPTH} rows deep (400 `PAGE_NUMBER_TOO_DEEP`); the "
        "deepest page's `links.next` is a cursor. The links are numbered: `first`, `prev`, "
        f"`next`, and `last` while the List holds at most {TOTAL_BOUND} rows.",
    ),
)

# The changes feed pages forward only, in either form: no page[before], and its cursor comes
# from links.next or meta.poll.
_FEED_CURSOR = (
    "cursor",
    _CURSOR,
    "The `cursor` of the previous answer's `links.next` or `meta.poll`, as it is: opaque (the "
    "platform's form; not with `page[...]`).",
)
FEED_PAGE_PARAMETERS = (PAGE_PARAMETERS[0], _FEED_CURSOR, *PAGE_PARAMETERS[2:4])

# The operations whose workspace is the path's ``{workspace_id}`` (their ``RequestSpec.scope``, in
# ``operations.nested`` and ``operations.read``): they take no workspace parameter.
PATH_SCOPED = frozenset({"catalog", "select", "remove"})


def workspace_parameters() -> list[dict[str, Any]]:
    """The query parameters that choose the workspace a key acts in."""
    current, legacy = WORKSPACE_PARAMETERS
    return [
        openapi_parameter(
            current,
            UUID_SCHEMA,
            "Act in this workspace instead of the key's default one: a member key needs an "
            "active membership there (403 `FORBIDDEN` otherwise), a service key any live "
            f"workspace. `{legacy}` is its legacy name (give one of the two).",
        ),
        openapi_parameter(
            legacy, UUID_SCHEMA, f"The legacy name of `{current}`: the same meaning."
        ),
    ]


def feed_parameters(resource: Resource) -> list[dict[str, Any]]:
    """The changes feed's query: its filters, its forward pages, the workspace."""
    params = [openapi_parameter(*p) for p in FEED_PAGE_PARAMETERS]
    for name in resource.filters:
        attribute = resource.attribute(name)
        if attribute.kind == "enum":
            schema = comma_list(attribute.enum, empty=False)
            text = f"Comma-separated values of `{name}`: a record with any of them."
        else:
            schema = {"type": "string", "minLength": 1, "maxLength": SYNC_RUN_ID_MAX}
            schema["pattern"] = "^[^,\\u0000-\\u001f\\u007f]+$"
            text = "One sync run's records: what it linked and unlinked, when, with what lag."
        params.append(openapi_parameter(f"filter[{name}]", schema, text))
    return params + workspace_parameters()


def related_types(resource: Resource) -> list[str]:
    """The types of the records ``resource``'s relationships point at."""
    return sorted({rel.parent.type for rel in resource.relationships})


def _fields(resource: Resource, type_name: str, description: str) -> dict[str, Any]:
    schema = comma_list(fields_of(resource, type_name) or (), empty=True)
    return openapi_parameter(f"fields[{type_name}]", schema, description)


def read_parameters(resource: Resource, collection: bool) -> list[dict[str, Any]]:
    names = [r.name for r in resource.relationships]
    include = "Comma-separated relationships to include: " + ", ".join(names)
    params = [openapi_parameter("include", comma_list(names, empty=True), include)]
    for t in [resource.type, *related_types(resource)]:
        params.append(_fields(resource, t, f"Sparse fieldset for {t}."))
    params += workspace_parameters()
    if not collection:
        return params
    sort = {"type": "string", "enum": [s for f in SORTABLE for s in (f, "-" + f)]}
    params.append(openapi_parameter("sort", sort, "Default -created_at; ties by id."))
    params += [openapi_parameter(*p) for p in PAGE_PARAMETERS]
    ids = comma_list((), empty=False, pattern=UUID_PATTERN)
    for r in resource.relationships:
        text = f"Comma-separated {r.parent.type} ids (at most {MAX_FILTER_VALUES})."
        params.append(openapi_parameter(f"filter[{r.name}]", ids, text))
    for name in resource.filters:
        attribute = resource.attribute(name)
        schema: dict[str, Any] = (
            comma_list(attribute.enum, empty=False)
            if attribute.kind == "enum"
            else {"type": "boolean"}
        )
        params.append(openapi_parameter(f"filter[{name}]", schema, f"Filter on {name}."))
    when = {"type": "string", "format": "date-time"}
    for op in RANGE_OPERATORS:
        params.append(openapi_parameter(f"filter[created_at][{op}]", when, "Range bound."))
    return params


def related_parameters(resource: Resource, operation: str) -> list[dict[str, Any]]:
    """The query of a related route (the record's fields, an empty include) or of a
    relationship route (none but the workspace)."""
    if operation == "relationship":
        return workspace_parameters()
    params = [
        openapi_parameter(
            "include",
            {"type": "string", "const": ""},
            "Taken only empty: the record has no relationships of its own to include (a name "
            "is 400 `INVALID_INCLUDE`).",
        )
    ]
    for t in related_types(resource):
        pointing = " or ".join(f"`{r.name}`" for r in resource.relationships if r.parent.type == t)
        text = f"Sparse fieldset for {t}, when the relationship is {pointing}"
        params.append(_fields(resource, t, text + " (for another, 400 `INVALID_FIELDS`)."))
    return params + workspace_parameters()


def scope_parameters(operation: str, path: str, parameters: list[dict[str, Any]]) -> None:
    """Keep only the workspace query parameters the route takes, under names of their own.

    Where the path's ``{workspace_id}`` is the workspace the request acts in, the query's are
    not taken (the server reads and ignores them). Where the path's ``{workspace_id}`` is
    another workspace (the enrolled one of an unenrol), the workspace the key acts in is given
    by the legacy name only, so that one operation never shows two inputs named alike.
    """
    current, legacy = WORKSPACE_PARAMETERS
    if "{workspace_id}" not in path:
        return
    drop = {current, legacy} if operation in PATH_SCOPED else {current}
    parameters[:] = [p for p in parameters if p["in"] == "path" or p["name"] not in drop]
    for parameter in parameters:
        if parameter["in"] == "query" and parameter["name"] == legacy:
            parameter["description"] = (
                "Act in this workspace instead of the key's default one (a member key needs an "
                "active membership there: 403 `FORBIDDEN` otherwise). Other routes call it "
                f"`{current}`, which this one takes too; the path's `{{{current}}}` is the "
                "workspace being removed from the group."
            )


def id_parameter(name: str, resource: Resource, operation: str) -> dict[str, Any]:
    """A path parameter of ``operation`` on ``resource``, the demo's value its example."""
    schema: dict[str, Any] = UUID_SCHEMA
    if name == "relationship":
        names = [rel.name for rel in resource.relationships]
        what = "to follow to its record" if operation == "related" else "whose linkage to answer"
        listed = ", ".join(f"`{n}`" for n in names)
        schema = {"type": "string", "enum": names}
        text = f"The relationship {what}: {listed}. Another name is 404 `UNKNOWN_RELATIONSHIP`."
    elif name == "id":
        text = f"The {resource.type}'s id."
    elif operation == "unenrol" and name == "workspace_id":
        text = "The id of the workspace to remove from the group."
    elif operation in PATH_SCOPED and name == "workspace_id":
        text = "The workspace the request acts in (and whose providers it reads)."
    else:  # workspace_id: "The workspace's id."
        text = f"The {name.removesuffix('_id').replace('_', ' ')}'s id."
    parameter = openapi_parameter(name, schema, text, "path")
    parameter["example"] = examples.path_parameters(resource, operation)[name]
    return parameter
