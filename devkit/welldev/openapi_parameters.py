"""The query parameters of the OpenAPI document (``welldev.openapi``): how one is written, the
workspace a key acts in, and the changes feed's (its filters and forward pages).
"""

from __future__ import annotations

import re
from typing import Any

from wellapi.jsonapi.query import WORKSPACE_PARAMETERS
from wellapi.resources import Resource
from wellapi.resources.feed import SYNC_RUN_ID_MAX
from welldev.openapi_pages import FEED_PAGE_PARAMETERS

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


def escape(value: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", value)


def comma_list(items: list[str], *, empty: bool) -> dict[str, Any]:
    """A comma-separated list of the given regular expressions, as a string schema."""
    item = "(?:" + "|".join(items) + ")"
    pattern = f"{item}(?:,{item})*"
    return {"type": "string", "pattern": f"^(?:{pattern})?$" if empty else f"^{pattern}$"}


def escaped_names(names: Any) -> list[str]:
    return [escape(str(name)) for name in names]


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
            schema = comma_list(escaped_names(attribute.enum), empty=False)
            text = f"Comma-separated values of `{name}`: a record with any of them."
        else:
            schema = {"type": "string", "minLength": 1, "maxLength": SYNC_RUN_ID_MAX}
            schema["pattern"] = "^[^,\\u0000-\\u001f\\u007f]+$"
            text = "One sync run's records: what it linked and unlinked, when, with what lag."
        params.append(openapi_parameter(f"filter[{name}]", schema, text))
    return params + workspace_parameters()
