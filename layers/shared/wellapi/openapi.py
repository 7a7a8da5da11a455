"""The OpenAPI 3.1 document, generated from the resource descriptions and the operations.

The committed ``openapi.json`` is this module's output; a test fails when they differ
(regenerate with ``make openapi``). Request and response bodies are JSON:API documents.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from wellapi.jsonapi import CURSOR_PROFILE, MEDIA_TYPE
from wellapi.jsonapi.ids import UUID_PATTERN
from wellapi.jsonapi.query import (
    MAX_FILTER_VALUES,
    MAX_PAGE_SIZE,
    RANGE_OPERATORS,
    SORTABLE,
    WORKSPACE_PARAMETERS,
    fields_of,
)
from wellapi.operations import OPERATIONS, Operation
from wellapi.resources import PARENTS, PROVIDER_CATALOG, RESOURCES, Attribute, Parent, Resource

# (resource key, operation): every route the API serves; the template has one function each.
ROUTES: tuple[tuple[str, str], ...] = (
    *((key, op) for key in RESOURCES for op in ("list", "retrieve", "create", "update", "delete")),
    ("workspace_providers", "catalog"),
    ("workspace_providers", "select"),
    ("workspace_providers", "remove"),
    ("workspace_group_workspaces", "enrol"),
    ("workspace_group_workspaces", "unenrol"),
)
UUID_SCHEMA = {"type": "string", "format": "uuid"}
REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _attribute_schema(attribute: Attribute) -> dict[str, Any]:
    schema: dict[str, Any]
    if attribute.kind == "enum":
        schema = {"type": "string", "enum": list(attribute.enum)}
    elif attribute.kind == "datetime":
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": attribute.kind}
    if attribute.nullable:
        schema = (
            {"oneOf": [schema, {"type": "null"}]}
            if "enum" in schema
            else {**schema, "type": [schema["type"], "null"]}
        )
    return schema


def _attributes(
    attributes: tuple[Attribute, ...], *, writable: str | None = None
) -> dict[str, Any]:
    chosen = [a for a in attributes if writable is None or a.writable in (writable, "always")]
    return {
        "type": "object",
        "properties": {a.name: _attribute_schema(a) for a in chosen},
        "additionalProperties": False,
    }


def _linkage(type_name: str, *, nullable: bool) -> dict[str, Any]:
    identifier = {
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"const": type_name}, "id": UUID_SCHEMA},
        "additionalProperties": False,
    }
    return {"oneOf": [identifier, {"type": "null"}]} if nullable else identifier


def _parent_resource(parent: Parent) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "id"],
        "properties": {
            "type": {"const": parent.type},
            "id": UUID_SCHEMA,
            "attributes": _attributes(parent.attributes),
            "links": {"type": "object", "properties": {"self": {"type": "string"}}},
        },
    }


def _resource_object(resource: Resource) -> dict[str, Any]:
    relationships = {
        rel.name: {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": _linkage(rel.parent.type, nullable=not rel.required),
                "links": {"type": "object", "properties": {"related": {"type": "string"}}},
            },
        }
        for rel in resource.relationships
    }
    return {
        "type": "object",
        "required": ["type", "id", "links"],
        "properties": {
            "type": {"const": resource.type},
            "id": UUID_SCHEMA,
            "attributes": _attributes(resource.attributes),
            "relationships": {
                "type": "object",
                "properties": relationships,
                "additionalProperties": False,
            },
            "links": {
                "type": "object",
                "required": ["self"],
                "properties": {"self": {"type": "string"}},
            },
        },
        "additionalProperties": False,
    }


def _request_document(resource: Resource, mode: str) -> dict[str, Any]:
    writable = "create" if mode == "create" else "always"
    relationships = {
        rel.name: {
            "type": "object",
            "required": ["data"],
            "properties": {"data": _linkage(rel.parent.type, nullable=not rel.required)},
        }
        for rel in resource.relationships
        if rel.writable != "never"
    }
    data: dict[str, Any] = {
        "type": "object",
        "required": ["type"] if mode == "create" else ["type", "id"],
        "properties": {
            "type": {"const": resource.type},
            "attributes": _attributes(resource.attributes, writable=writable),
            "relationships": {
                "type": "object",
                "properties": relationships,
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    if mode == "update":
        data["properties"]["id"] = UUID_SCHEMA
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": data},
        "additionalProperties": False,
    }


def _document(resource: Resource, *, collection: bool) -> dict[str, Any]:
    name = _pascal(resource.key)
    included = sorted({rel.parent.type for rel in resource.relationships})
    links: dict[str, Any] = {
        "type": "object",
        "required": ["self"],
        "properties": {"self": {"type": "string"}},
    }
    if collection:
        page_link = {"type": ["string", "null"]}
        links["required"] = ["self", "prev", "next"]
        links["properties"].update({"prev": page_link, "next": page_link})
    return {
        "type": "object",
        "required": ["jsonapi", "data", "links"],
        "properties": {
            "jsonapi": _ref("JsonApi"),
            "data": {"type": "array", "items": _ref(f"{name}Resource")}
            if collection
            else _ref(f"{name}Resource"),
            "included": {
                "type": "array",
                "items": {"oneOf": [_ref(f"{_pascal(t)}Parent") for t in included]},
            },
            "links": links,
        },
    }


def _parameter(
    name: str, schema: dict[str, Any], description: str, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def _escape(value: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", value)


def _comma_list(items: list[str], *, empty: bool) -> dict[str, Any]:
    """A comma-separated list of the given regular expressions, as a string schema."""
    item = "(?:" + "|".join(items) + ")"
    pattern = f"{item}(?:,{item})*"
    return {"type": "string", "pattern": f"^(?:{pattern})?$" if empty else f"^{pattern}$"}


def _names(names: Any) -> list[str]:
    return [_escape(str(name)) for name in names]


def _read_parameters(resource: Resource, collection: bool) -> list[dict[str, Any]]:
    params = [
        _parameter(
            "include",
            _comma_list(_names(r.name for r in resource.relationships), empty=True),
            "Comma-separated relationships to include: "
            + ", ".join(r.name for r in resource.relationships),
        )
    ]
    types = [resource.type, *sorted({r.parent.type for r in resource.relationships})]
    params += [
        _parameter(
            f"fields[{t}]",
            _comma_list(_names(fields_of(resource, t) or ()), empty=True),
            f"Sparse fieldset for {t}.",
        )
        for t in types
    ]
    params += [
        _parameter(name, UUID_SCHEMA, "Act in this workspace (an active membership is needed).")
        for name in WORKSPACE_PARAMETERS
    ]
    if not collection:
        return params
    sorts = [s for field in SORTABLE for s in (field, "-" + field)]
    params.append(
        _parameter("sort", {"type": "string", "enum": sorts}, "Default -created_at; ties by id.")
    )
    params.append(
        _parameter(
            "page[size]", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, "Default 20."
        )
    )
    params += [
        _parameter(f"page[{d}]", {"type": "string"}, f"Cursor ({CURSOR_PROFILE}).")
        for d in ("after", "before")
    ]
    params += [
        _parameter(
            f"filter[{r.name}]",
            _comma_list([UUID_PATTERN], empty=False),
            f"Comma-separated {r.parent.type} ids (at most {MAX_FILTER_VALUES}).",
        )
        for r in resource.relationships
    ]
    for name in resource.filters:
        attribute = resource.attribute(name)
        schema: dict[str, Any] = (
            _comma_list(_names(attribute.enum), empty=False)
            if attribute.kind == "enum"
            else {"type": "boolean"}
        )
        params.append(_parameter(f"filter[{name}]", schema, f"Filter on {name}."))
    params += [
        _parameter(
            f"filter[created_at][{op}]", {"type": "string", "format": "date-time"}, "Range bound."
        )
        for op in RANGE_OPERATORS
    ]
    return params


# Answers API Gateway gives itself, before or instead of the function, with its own body
# (``{"message": "..."}`` as application/json): no route for the path (404, e.g. a path
# parameter holding an encoded slash), a body over its 10 MB limit (413), throttling (429).
# Never 401: the authorizer has no identity source, so every 401 is ours (template.yaml).
GATEWAY_STATUSES = {
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
}


def _errors(*statuses: int) -> dict[str, Any]:
    jsonapi = {MEDIA_TYPE: {"schema": _ref("ErrorDocument")}}
    gateway = {"application/json": {"schema": _ref("GatewayMessage")}}
    responses: dict[str, Any] = {}
    for status in sorted({*statuses, *GATEWAY_STATUSES}):
        if status not in statuses:
            description = f"API Gateway's own answer: {GATEWAY_STATUSES[status]}."
            responses[str(status)] = {"description": description, "content": gateway}
        elif status in GATEWAY_STATUSES:
            responses[str(status)] = {
                "description": "A JSON:API error document; or API Gateway's own answer "
                f"({GATEWAY_STATUSES[status]}) as application/json.",
                "content": {**jsonapi, **gateway},
            }
        else:
            responses[str(status)] = {
                "description": "A JSON:API error document.",
                "content": jsonapi,
            }
    responses["503"] = {
        "description": "The database is unavailable; retry after the Retry-After header.",
        "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
        "content": jsonapi,
    }
    return responses


def _operation(resource_key: str, op: Operation) -> dict[str, Any]:
    resource = PROVIDER_CATALOG if op.name == "catalog" else RESOURCES[resource_key]
    name = _pascal(resource.key)
    path = op.path(resource)
    parameters = [
        _parameter(p, UUID_SCHEMA, f"The {p.removesuffix('_id').replace('_', ' ')} id.", "path")
        for p in re.findall(r"\{(\w+)\}", path)
    ]
    document = {"content": {MEDIA_TYPE: {"schema": _ref(f"{name}Document")}}}
    spec: dict[str, Any] = {"operationId": f"{resource_key}_{op.name}", "tags": [resource_key]}
    if op.method == "GET":
        collection = not op.item
        parameters += _read_parameters(resource, collection)
        schema = f"{name}Collection" if collection else f"{name}Document"
        spec["responses"] = {
            "200": {"description": "OK", "content": {MEDIA_TYPE: {"schema": _ref(schema)}}},
            **_errors(400, 401, 403, 404, 406),
        }
    elif op.method == "DELETE":
        parameters += _read_parameters(resource, False)[-len(WORKSPACE_PARAMETERS) :]
        spec["responses"] = {
            "204": {"description": "Deleted (soft)."},
            **_errors(400, 401, 403, 404, 406),
        }
    else:
        mode = "update" if op.method == "PATCH" else "create"
        parameters += _read_parameters(resource, False)
        body_schema = f"{name}{'Update' if mode == 'update' else 'Create'}Request"
        spec["requestBody"] = {
            "required": True,
            "content": {MEDIA_TYPE: {"schema": _ref(body_schema)}},
        }
        ok = {"200": {"description": "OK", **document}}
        if mode == "create":
            ok = {
                "201": {
                    "description": "Created",
                    **document,
                    "headers": {"Location": {"schema": {"type": "string"}}},
                }
            }
            if op.name == "select":
                ok["200"] = {"description": "Already there; selected.", **document}
        spec["responses"] = {**ok, **_errors(400, 401, 403, 404, 406, 409, 413, 415, 422)}
    spec["parameters"] = parameters
    return spec


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "JsonApi": {"type": "object", "properties": {"version": {"const": "1.1"}}},
        "Error": {
            "type": "object",
            "required": ["status", "code", "title"],
            "properties": {
                "status": {"type": "string"},
                "code": {"type": "string"},
                "title": {"type": "string"},
                "detail": {"type": "string"},
                "source": {
                    "type": "object",
                    "properties": {
                        k: {"type": "string"} for k in ("pointer", "parameter", "header")
                    },
                },
                "links": {"type": "object"},
                "meta": {"type": "object"},
            },
        },
        "ErrorDocument": {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "jsonapi": _ref("JsonApi"),
                "errors": {"type": "array", "items": _ref("Error")},
            },
        },
        "GatewayMessage": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
            "description": "API Gateway's own answer (not a JSON:API document).",
        },
    }
    for parent in PARENTS.values():
        schemas[f"{_pascal(parent.type)}Parent"] = _parent_resource(parent)
    for resource in (*RESOURCES.values(), PROVIDER_CATALOG):
        name = _pascal(resource.key)
        schemas[f"{name}Resource"] = _resource_object(resource)
        schemas[f"{name}Document"] = _document(resource, collection=False)
        schemas[f"{name}Collection"] = _document(resource, collection=True)
        if resource.key in RESOURCES:
            schemas[f"{name}CreateRequest"] = _request_document(resource, "create")
            schemas[f"{name}UpdateRequest"] = _request_document(resource, "update")
    return {
        "schemas": schemas,
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "wk_<prefix>_<secret>"}
        },
    }


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for resource_key, operation in ROUTES:
        op = OPERATIONS[operation]
        resource = PROVIDER_CATALOG if operation == "catalog" else RESOURCES[resource_key]
        paths.setdefault(op.path(resource), {})[op.method.lower()] = _operation(resource_key, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Well workspace junctions API",
            "version": "1.0.0",
            "description": (
                "JSON:API 1.1: provenance ledgers, workspace group enrolments, provider bookmarks."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": dict(sorted(paths.items())),
        "components": _components(),
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("openapi.json")
    target.write_text(render())


if __name__ == "__main__":
    main()
