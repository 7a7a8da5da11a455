"""The OpenAPI 3.1 document, generated from the resource descriptions and the operations.

The committed ``openapi.json`` is this module's output; a test fails when they differ
(regenerate with ``make openapi``). Request and response bodies are JSON:API documents.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from wellapi.errors import ERROR_CODES
from wellapi.jsonapi import MEDIA_TYPE
from wellapi.jsonapi.body import accepted_types
from wellapi.jsonapi.document import SERVED, served
from wellapi.jsonapi.query import MAX_PAGE_SIZE
from wellapi.operations import Operation
from wellapi.operations.read import TOTAL_BOUND
from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.resources import (
    CHANGES,
    PARENTS,
    PROVIDER_CATALOG,
    RESOURCES,
    Attribute,
    Parent,
    Relationship,
    Resource,
    resource_named,
)
from welldev import openapi_examples as examples
from welldev.openapi_parameters import (
    UUID_SCHEMA,
    feed_parameters,
    id_parameter,
    read_parameters,
    related_parameters,
    related_types,
    scope_parameters,
    workspace_parameters,
)
from welldev.openapi_text import (
    DESCRIPTION,
    IDEMPOTENCY_KEY_PARAMETER,
    REPLAYED_HEADER,
    STATUS_HEADERS,
    describe,
)

TITLE = "Well junction-resources API"
REF = "#/components/schemas/"
EXAMPLES_REF = "#/components/examples/"
# A member of a request document the server accepts with any value and ignores.
IGNORED = {"description": "Accepted with any value, and ignored."}
# Any other member of a request document's objects (``jsonapi.body``, after JSON:API 1.1).
IGNORED_MEMBER = {"$ref": REF + "IgnoredMember"}
# In an attributes or relationships object every member is a field, so a name the resource
# does not have is 400; but an @-member is no field, and is ignored.
AT_MEMBERS = {"^@": {"description": "An @-member: ignored (JSON:API 1.1, @-Members)."}}
# A member a request document must not have.
REFUSED: dict[str, Any] = {"not": {}}
STRING = {"type": "string"}
LINK = {**STRING, "description": "An absolute URL of a route this API serves."}
PAGE_LINK = {"type": ["string", "null"]}
# A change record's id in the feed: its place in the order, ``<xid>-<pk>``.
FEED_ID = {"type": "string", "pattern": "^[0-9]+-[0-9]+$"}


def _object(
    properties: dict[str, Any], *required: str, additional: Any = False, **more: Any
) -> dict[str, Any]:
    """An object schema: ``required`` when any, ``additionalProperties`` unless None."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, **more}
    if required:
        schema["required"] = list(required)
    if additional is not None:
        schema["additionalProperties"] = additional
    return schema


def _count(what: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": MAX_PAGE_SIZE, "description": what}


# A List's ``meta``: the platform's counts.
LIST_META = _object(
    {
        "total": {
            "type": "integer",
            "minimum": 0,
            "maximum": TOTAL_BOUND,
            "description": f"The rows of every page of this List (the cursor aside): exact up to "
            f"{TOTAL_BOUND}; a List holding more says {TOTAL_BOUND} and `total_is_lower_bound`.",
        },
        "total_is_lower_bound": {
            "type": "boolean",
            "enum": [True],
            "description": f"Present (true) only when the List holds more than {TOTAL_BOUND} "
            "rows: `total` is then a lower bound, not a count.",
        },
        "count": _count("The rows of this page (`data`'s length)."),
    },
    "total",
    "count",
    additional=None,
)
# The feed's ``meta``: how many records this page holds (a feed is not counted), and where to
# ask later for what commits after it.
FEED_META = _object(
    {
        "poll": {
            "type": "string",
            "description": "The link to follow later for what commits after this page: after "
            "its last record (an empty page: this request's own link). Always present; "
            "`links.next` is the same link while more records are there now, null once the "
            "consumer has caught up.",
        },
        "count": _count("The records of this page (`data`'s length)."),
    },
    "count",
    "poll",
    additional=None,
)


def _links(*names: str) -> dict[str, Any]:
    return _object(dict.fromkeys(names, LINK), *names)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _ok(schema: str) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {MEDIA_TYPE: {"schema": _ref(schema)}}}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _attribute_schema(attribute: Attribute) -> dict[str, Any]:
    schema: dict[str, Any]
    if attribute.kind == "enum":
        schema = {"type": "string", "enum": list(attribute.enum)}
    elif attribute.kind == "uuids":
        schema = {"type": "array", "items": UUID_SCHEMA}
    elif attribute.kind == "datetime":
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": attribute.kind}
    if attribute.nullable:
        return (
            _nullable(schema) if "enum" in schema else {**schema, "type": [schema["type"], "null"]}
        )
    return schema


def _attributes(
    attributes: tuple[Attribute, ...], *, writable: str | None = None
) -> dict[str, Any]:
    chosen = [a for a in attributes if writable is None or a.writable in (writable, "always")]
    return _object({a.name: _attribute_schema(a) for a in chosen})


def _linkage(type_name: str, *, nullable: bool) -> dict[str, Any]:
    identifier = _object({"type": {"const": type_name}, "id": UUID_SCHEMA}, "type", "id")
    return _nullable(identifier) if nullable else identifier


def _record(described: Resource | Parent, links: bool, **properties: Any) -> dict[str, Any]:
    """A resource object: its type, id and attributes, and ``links.self`` when it has links."""
    schema = _object(
        {
            "type": {"const": described.type},
            "id": UUID_SCHEMA,
            "attributes": _attributes(described.attributes),
            **properties,
        },
        "type",
        "id",
    )
    if links:
        schema["required"].append("links")
        schema["properties"]["links"] = _links("self")
    return schema


def _parent_resource(parent: Parent) -> dict[str, Any]:
    """A record a relationship points at, as ``include`` and the related route show it.

    Only a record this API serves (a ``workspace_provider``, from the catalog) links to its
    route; the platform's own records are another API's, and carry no links.
    """
    schema = _record(parent, parent.type in SERVED)
    if parent.type not in SERVED:
        schema["description"] = "A record of the platform, served by another API: no links."
    return schema


def _resource_object(resource: Resource) -> dict[str, Any]:
    """A primary resource. One this API serves links to its route (``links.self``), and each
    of its relationships to the relationship route (``self``) and the related route
    (``related``); the catalog's providers, the platform's records, have no links."""
    is_served = served(resource)
    relationships = {}
    for rel in resource.relationships:
        member = _object({"data": _linkage(rel.parent.type, nullable=not rel.required)}, "data")
        if is_served:
            member["required"].append("links")
            member["properties"]["links"] = _links("self", "related")
        relationships[rel.name] = member
    schema = _record(resource, is_served, relationships=_object(relationships))
    if resource.scope == "feed":
        schema["properties"]["id"] = FEED_ID
    return schema


def _written_type(described: Resource | Parent) -> dict[str, Any]:
    """A request's ``type``: today's, which every read emits, or the platform's canonical one."""
    types = accepted_types(described)
    return {
        "enum": list(types),
        "description": (
            f"`{types[0]}`, as reads emit it, or the platform's canonical `{types[-1]}` "
            "(plural kebab-case)."
            if len(types) > 1
            else f"`{types[0]}`."
        ),
    }


def _request_relationship(rel: Relationship, mode: str) -> dict[str, Any]:
    identifier = _object(
        {"type": _written_type(rel.parent), "id": UUID_SCHEMA, "meta": IGNORED, "lid": IGNORED},
        "type",
        "id",
        additional=IGNORED_MEMBER,
    )
    data = identifier if rel.required else _nullable(identifier)
    member = _object(
        {"data": data, "meta": IGNORED, "links": IGNORED}, "data", additional=IGNORED_MEMBER
    )
    if mode == "update":
        member["description"] = _current_value(rel.writable, relationship=True)
    return member


def _current_value(writable: str, *, relationship: bool = False, name: str = "") -> str:
    """What an update does with a member: writable, or accepted at its current value only."""
    if writable == "always":
        return "Writable."
    current = "linkage" if relationship else "value"
    if name == "deleted_at":
        current += ", `null` on every row the API serves"
    if writable == "create":
        return (
            f"Set on create only: accepted here only at its current {current} (another is 403 "
            "`IMMUTABLE_FIELD`)."
        )
    return (
        f"Set by the server: accepted here only at its current {current} (another is 403 "
        "`READ_ONLY_FIELD`)."
    )


def _request_document(resource: Resource, mode: str) -> dict[str, Any]:
    """A create or update document: what the parser (``jsonapi.body``) accepts.

    A create carries the members a client may set. An update may carry every attribute and
    relationship, so that a fetched resource can be sent back as it is: the writable ones are
    marked so, and every other one is accepted only at its current value (not ``readOnly``,
    which would say a request must not carry it). ``type`` (and each linkage's) is today's or
    the canonical one. What JSON:API 1.1 has the server ignore is allowed wherever it may be:
    the members the parser ignores, any member JSON:API does not define (``IgnoredMember``), and
    the @-members of the attributes and relationships objects; a field the resource does not
    have is not.
    """
    if mode == "create":
        attributes = _attributes(resource.attributes, writable="create")
        rels = [rel for rel in resource.relationships if rel.writable != "never"]
        id_text = (
            "Optional: the id the client generated for the new row, a UUID no row of the table "
            "has had (a used one is 409 `ID_ALREADY_USED`, anything else 403 "
            "`CLIENT_GENERATED_ID_NOT_ALLOWED`). Without it the server chooses the id."
        )
    else:
        attributes = _attributes(resource.attributes)
        for attribute in resource.attributes:
            described = _current_value(attribute.writable, name=attribute.name)
            attributes["properties"][attribute.name]["description"] = described
        rels = list(resource.relationships)
        id_text = "The id of the URL."
    attributes["patternProperties"] = AT_MEMBERS
    relationships = {rel.name: _request_relationship(rel, mode) for rel in rels}
    data = _object(
        {
            "type": _written_type(resource),
            "id": {**UUID_SCHEMA, "description": id_text},
            "attributes": attributes,
            "relationships": _object(relationships, patternProperties=AT_MEMBERS),
            **dict.fromkeys(("meta", "links", "lid"), IGNORED),
        },
        *(["type"] if mode == "create" else ["type", "id"]),
        additional=IGNORED_MEMBER,
    )
    return _object(
        {
            "data": data,
            **dict.fromkeys(("meta", "jsonapi", "links", "included"), IGNORED),
            "errors": {**REFUSED, "description": "Never beside `data` (400)."},
        },
        "data",
        additional=IGNORED_MEMBER,
    )


def _document(resource: Resource, *, collection: bool) -> dict[str, Any]:
    resource_ref = _ref(f"{_pascal(resource.key)}Resource")
    links = _object({"self": {"type": "string"}}, "self", additional=None)
    properties: dict[str, Any] = {
        "jsonapi": _ref("JsonApi"),
        "data": {"type": "array", "items": resource_ref} if collection else resource_ref,
        "links": links,
    }
    if resource.scope == "feed":
        properties["meta"] = FEED_META
    else:
        parents = [_ref(f"{_pascal(t)}Parent") for t in related_types(resource)]
        properties["included"] = {"type": "array", "items": {"oneOf": parents}}
    if not collection:
        return _object(properties, "jsonapi", "data", "links", additional=None)
    # A numbered page's links too (page[number]): the first page, and the last while the total
    # is exact and that page within MAX_PAGE_DEPTH (else null).
    pages = ("prev", "next", "first", "last")
    links["properties"].update(dict.fromkeys(pages, PAGE_LINK))
    links["required"] = ["self", "prev", "next"]
    properties.setdefault("meta", LIST_META)
    return _object(properties, "jsonapi", "data", "links", "meta", additional=None)


def _related_document(resource: Resource) -> dict[str, Any]:
    """GET /v1/<resource>/{id}/<relationship>: the record, as ``include`` shows it, or null."""
    records = [_ref(f"{_pascal(t)}Parent") for t in related_types(resource)]
    return _linkage_document({"oneOf": [*records, {"type": "null"}]}, _links("self"))


def _relationship_document(resource: Resource) -> dict[str, Any]:
    """GET /v1/<resource>/{id}/relationships/<relationship>: the linkage, or null."""
    linkages = [_linkage(t, nullable=False) for t in related_types(resource)]
    return _linkage_document({"oneOf": [*linkages, {"type": "null"}]}, _links("self", "related"))


def _linkage_document(data: dict[str, Any], links: dict[str, Any]) -> dict[str, Any]:
    properties = {"jsonapi": _ref("JsonApi"), "data": data, "links": links}
    return _object(properties, "jsonapi", "data", "links")


# Answers API Gateway gives itself, before or instead of the function, with its own body
# (``{"message": "..."}`` as application/json): a body over its 10 MB limit (413), throttling
# (429). Never 401: the authorizer has no identity source, so every 401 is ours (template.yaml);
# never 404: a path no route has goes to the $default route's function, whose 404 is ours.
GATEWAY_STATUSES = {
    413: "Request Entity Too Large",
    429: "Too Many Requests",
}


def _errors(codes: tuple[str, ...]) -> dict[str, Any]:
    """The error responses of an operation that can answer ``codes``, and API Gateway's own."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERROR_CODES[code].status, []).append(code)
    gateway = {"application/json": {"schema": _ref("GatewayMessage")}}
    responses: dict[str, Any] = {}
    for status in sorted({*by_status, *GATEWAY_STATUSES}):
        mine = by_status.get(status, [])
        if not mine:
            description = f"API Gateway's own answer: {GATEWAY_STATUSES[status]}."
            responses[str(status)] = {"description": description, "content": gateway}
            continue
        lines = [f"- `{code}`: {ERROR_CODES[code].meaning}" for code in mine]
        description = "A JSON:API error document; `code` is one of:\n\n" + "\n".join(lines)
        refs = {code: {"$ref": EXAMPLES_REF + code} for code in mine}
        content: dict[str, Any] = {MEDIA_TYPE: {"schema": _ref("ErrorDocument"), "examples": refs}}
        if status in GATEWAY_STATUSES:
            description += (
                f"\n\nOr API Gateway's own answer ({GATEWAY_STATUSES[status]}) as application/json."
            )
            content.update(gateway)
        responses[str(status)] = {"description": description, "content": content}
    for code, headers in STATUS_HEADERS.items():
        if code in responses:
            responses[code]["headers"] = headers
    return responses


def _operation(resource_key: str, op: Operation) -> dict[str, Any]:
    resource = PROVIDER_CATALOG if op.name == "catalog" else resource_named(resource_key)
    name = _pascal(resource.key)
    path = op.path(resource)
    text = describe(resource, op.name)
    parameters = [id_parameter(p, resource, op.name) for p in re.findall(r"\{(\w+)\}", path)]
    document = {"content": {MEDIA_TYPE: {"schema": _ref(f"{name}Document")}}}
    spec: dict[str, Any] = {
        "operationId": f"{resource_key}_{op.name}",
        "tags": [resource_named(resource_key).path],
        "summary": text.summary,
        "description": text.description,
    }
    ok: dict[str, Any]
    # The routes of one relationship of a resource: /v1/<resource>/{id}[/relationships]/<name>.
    if resource.scope == "feed":
        parameters += feed_parameters(resource)
        ok = _ok(f"{name}Collection")
    elif op.suffix:
        parameters += related_parameters(resource, op.name)
        ok = _ok(f"{name}{_pascal(op.name)}Document")
    elif op.method == "GET":
        parameters += read_parameters(resource, not op.item)
        ok = _ok(f"{name}Document" if op.item else f"{name}Collection")
    elif op.method == "DELETE":
        parameters += workspace_parameters()
        ok = {"204": {"description": "Deleted (soft)."}}
    else:
        parameters += read_parameters(resource, False)
        summary, body = examples.request_example(resource, op.name)
        request = "Update" if op.method == "PATCH" else "Create"
        spec["requestBody"] = {
            "required": True,
            "content": {
                MEDIA_TYPE: {
                    "schema": _ref(f"{name}{request}Request"),
                    "examples": {"demo": {"summary": summary, "value": body}},
                }
            },
        }
        ok = {"200": {"description": "OK", **document}}
        if request == "Create":
            location = {"Location": {"schema": {"type": "string"}}}
            ok = {"201": {"description": "Created", **document, "headers": location}}
            if op.name == "select":
                ok["200"] = {"description": "Already there; selected.", **document}
        if op.request_spec.idempotent:
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
            for answer in ok.values():
                answer["headers"] = {**answer.get("headers", {}), **REPLAYED_HEADER}
    scope_parameters(op.name, path, parameters)
    spec["responses"] = {**ok, **_errors(text.codes)}
    spec["parameters"] = parameters
    return spec


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "JsonApi": {"type": "object", "properties": {"version": {"const": "1.1"}}},
        "IgnoredMember": {
            "description": (
                "A member JSON:API does not define in this object of a request document, or an "
                "@-member: accepted with any value, and ignored (JSON:API 1.1: implementations "
                '"MUST ignore non-compliant members").'
            )
        },
        "Error": _object(
            {
                **dict.fromkeys(("status", "title", "detail"), STRING),
                "code": {
                    "type": "string",
                    "enum": list(ERROR_CODES),
                    "description": "Stable: what a client acts on. Each operation lists the "
                    "codes it can give, with their meaning, under its error responses.",
                },
                "source": _object(
                    dict.fromkeys(("pointer", "parameter", "header"), STRING),
                    additional=None,
                ),
                "links": {"type": "object"},
                "meta": {"type": "object"},
            },
            "status",
            "code",
            "title",
            additional=None,
        ),
        "ErrorDocument": _object(
            {"jsonapi": _ref("JsonApi"), "errors": {"type": "array", "items": _ref("Error")}},
            "errors",
            additional=None,
        ),
        "GatewayMessage": _object(
            {"message": {"type": "string"}},
            "message",
            additional=None,
            description="API Gateway's own answer (not a JSON:API document).",
        ),
    }
    for parent in PARENTS.values():
        schemas[f"{_pascal(parent.type)}Parent"] = _parent_resource(parent)
    for resource in (*RESOURCES.values(), PROVIDER_CATALOG, CHANGES):
        name = _pascal(resource.key)
        schemas[f"{name}Resource"] = _resource_object(resource)
        if resource.scope != "feed":
            schemas[f"{name}Document"] = _document(resource, collection=False)
        schemas[f"{name}Collection"] = _document(resource, collection=True)
        if resource.key in RESOURCES:
            schemas[f"{name}CreateRequest"] = _request_document(resource, "create")
            schemas[f"{name}UpdateRequest"] = _request_document(resource, "update")
            schemas[f"{name}RelatedDocument"] = _related_document(resource)
            schemas[f"{name}RelationshipDocument"] = _relationship_document(resource)
    return {
        "schemas": schemas,
        "examples": {code: _error_example(code) for code in ERROR_CODES},
        "securitySchemes": {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key, sent as `Authorization: Bearer wk_{prefix}_{secret}` "
                '(or `Authorization: Token token="wk_{prefix}_{secret}"`, as Rails\' token '
                "authentication and spraypaint send it). "
                "A member key acts in the workspaces where its person has an active membership; "
                "a service key (the platform's own services) acts across workspaces. Keys are "
                "made with `wellapi keys create`; `make run` writes the demo's to "
                "`.local/demo.json`: one member key per workspace (`workspaces[].api_key`) "
                "and a service key (`service_key`).",
            }
        },
    }


def _error_example(code: str) -> dict[str, Any]:
    status, title, meaning = ERROR_CODES[code]
    error = {"status": str(status), "code": code, "title": title, "detail": meaning}
    value = {"errors": [{**error, "meta": {"trace_id": "<the request id>"}}]}
    return {"summary": code, "value": value}


def _tags() -> list[dict[str, str]]:
    """Swagger UI's groups in the order of ``ROUTES``, each named as its collection's path."""
    resources = map(resource_named, dict.fromkeys(key for key, _ in ROUTES))
    return [{"name": r.path, "description": r.summary} for r in resources]


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for resource_key, operation in ROUTES:
        op = OPERATIONS[operation]
        resource = PROVIDER_CATALOG if operation == "catalog" else resource_named(resource_key)
        paths.setdefault(op.path(resource), {})[op.method.lower()] = _operation(resource_key, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "tags": _tags(),
        "paths": dict(sorted(paths.items())),
        "components": _components(),
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    # `--help` is an answer, not the name of the file written.
    parser = argparse.ArgumentParser(
        prog="python -m welldev.openapi", description="Write the OpenAPI 3.1 document."
    )
    parser.add_argument("target", nargs="?", default="openapi.json", type=Path)
    parser.parse_args(argv).target.write_text(render())


if __name__ == "__main__":
    main()
