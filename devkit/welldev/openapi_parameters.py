"""The parameters of the OpenAPI document (``welldev.openapi``): a path's ids, the workspace a
key acts in, a read's include, fields, sort and filters, and its pages.

A List takes three forms of paging, one per request (``wellapi.jsonapi.query``): the platform's
``limit`` / ``cursor`` and the cursor pagination profile's ``page[...]`` (the same cursor
paging), and numbered pages (``page[number]`` with ``page[size]``) as deep as
``MAX_PAGE_DEPTH`` rows. The changes feed pages forward only. Their words are in
``openapi_text.yaml``, under ``parameters``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from wellapi.jsonapi.ids import UUID_PATTERN
from wellapi.jsonapi.query import RANGE_OPERATORS, SORTABLE, WORKSPACE_PARAMETERS, fields_of
from wellapi.resources import Resource
from wellapi.resources.feed import SYNC_RUN_ID_MAX
from welldev import openapi_examples as examples
from welldev.openapi_text import words

UUID_SCHEMA = {"type": "string", "format": "uuid"}
# The operations whose workspace is the path's ``{workspace_id}`` (their ``RequestSpec.scope``,
# in ``operations.nested`` and ``operations.read``): they take no workspace parameter.
PATH_SCOPED = frozenset({"catalog", "select", "remove"})


def parameter(
    name: str, schema: dict[str, Any], description: str, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def _text(key: str, **names: Any) -> str:
    return str(words("parameters", key, **names))


def comma_list(names: Iterable[Any], *, empty: bool, pattern: str = "") -> dict[str, Any]:
    """A comma-separated list of ``names`` (or of items that match ``pattern``) as a string
    schema; ``empty``: the empty string too."""
    escaped = [re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", str(name)) for name in names]
    item = "(?:" + (pattern or "|".join(escaped)) + ")"
    listed = f"{item}(?:,{item})*"
    return {"type": "string", "pattern": f"^(?:{listed})?$" if empty else f"^{listed}$"}


def workspace_parameters(operation: str) -> list[dict[str, Any]]:
    """The query parameters that choose the workspace a key acts in, under names of their own.

    Where the path's ``{workspace_id}`` is the workspace the request acts in, the query's are
    not taken (the server reads and ignores them). Where the path's ``{workspace_id}`` is
    another workspace (the enrolled one of an unenrol), the workspace the key acts in is given
    by the legacy name only, so that one operation never shows two inputs named alike.
    """
    if operation in PATH_SCOPED:
        return []
    legacy = WORKSPACE_PARAMETERS[1]
    if operation == "unenrol":
        return [parameter(legacy, UUID_SCHEMA, _text(f"acting_{legacy}"))]
    return [parameter(name, UUID_SCHEMA, _text(name)) for name in WORKSPACE_PARAMETERS]


def _pages(which: str) -> list[dict[str, Any]]:
    return [parameter(**page) for page in words("parameters", which)]


def feed_parameters(resource: Resource, workspace: list[Any]) -> list[dict[str, Any]]:
    """The changes feed's query: its forward pages, its filters, the workspace."""
    params = _pages("feed_pages")
    for name in resource.filters:
        attribute = resource.attribute(name)
        if attribute.kind == "enum":
            schema = comma_list(attribute.enum, empty=False)
            text = _text("feed_values", name=name)
        else:
            schema = {"type": "string", "minLength": 1, "maxLength": SYNC_RUN_ID_MAX}
            schema["pattern"] = "^[^,\\u0000-\\u001f\\u007f]+$"
            text = _text("feed_sync_run")
        params.append(parameter(f"filter[{name}]", schema, text))
    return params + workspace


def related_types(resource: Resource) -> list[str]:
    """The types of the records ``resource``'s relationships point at."""
    return sorted({rel.parent.type for rel in resource.relationships})


def _fields(resource: Resource, type_name: str, description: str) -> dict[str, Any]:
    schema = comma_list(fields_of(resource, type_name) or (), empty=True)
    return parameter(f"fields[{type_name}]", schema, description)


def read_parameters(
    resource: Resource, workspace: list[Any], *, collection: bool = False
) -> list[dict[str, Any]]:
    names = [r.name for r in resource.relationships]
    include = _text("include", names=", ".join(names))
    params = [parameter("include", comma_list(names, empty=True), include)]
    for t in [resource.type, *related_types(resource)]:
        params.append(_fields(resource, t, _text("fields", type=t)))
    params += workspace
    if not collection:
        return params
    sort = {"type": "string", "enum": [s for f in SORTABLE for s in (f, "-" + f)]}
    params += [parameter("sort", sort, _text("sort")), *_pages("pages")]
    ids = comma_list((), empty=False, pattern=UUID_PATTERN)
    for r in resource.relationships:
        params.append(parameter(f"filter[{r.name}]", ids, _text("filter_ids", type=r.parent.type)))
    for name in resource.filters:
        attribute = resource.attribute(name)
        schema: dict[str, Any] = (
            comma_list(attribute.enum, empty=False)
            if attribute.kind == "enum"
            else {"type": "boolean"}
        )
        params.append(parameter(f"filter[{name}]", schema, _text("filter", name=name)))
    when = {"type": "string", "format": "date-time"}
    for op in RANGE_OPERATORS:
        params.append(parameter(f"filter[created_at][{op}]", when, _text("range")))
    return params


def related_parameters(
    resource: Resource, operation: str, workspace: list[Any]
) -> list[dict[str, Any]]:
    """The query of a related route (the record's fields, an empty include) or of a
    relationship route (none but the workspace)."""
    if operation == "relationship":
        return workspace
    empty = {"type": "string", "const": ""}
    params = [parameter("include", empty, _text("related_include"))]
    for t in related_types(resource):
        pointing = " or ".join(f"`{r.name}`" for r in resource.relationships if r.parent.type == t)
        params.append(_fields(resource, t, _text("related_fields", type=t, names=pointing)))
    return params + workspace


def id_parameter(name: str, resource: Resource, operation: str) -> dict[str, Any]:
    """A path parameter of ``operation`` on ``resource``, the demo's value its example."""
    names = [rel.name for rel in resource.relationships]
    texts = words(
        "parameters", "path", type=resource.type, names=", ".join(f"`{n}`" for n in names)
    )
    text = texts.get(f"{operation}/{name}") or texts[name]
    schema = {"type": "string", "enum": names} if name == "relationship" else UUID_SCHEMA
    example = examples.path_parameters(resource, operation)[name]
    return {**parameter(name, schema, text, "path"), "example": example}
