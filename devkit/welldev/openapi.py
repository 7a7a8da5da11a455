"""The OpenAPI 3.1 document, generated from the resource descriptions and the operations.

The committed ``openapi.json`` is this module's output; a test fails when they differ
(regenerate with ``make openapi``). Request and response bodies are JSON:API documents. What
the registry does not derive, the fixed schemas and every word (a List's three forms of paging
and the feed's forward pages among them), is in ``openapi_text.yaml`` (``welldev.openapi_text``);
this module derives the rest from the registry: the schemas of its records and documents, each
operation's parameters, responses and request example.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wellapi.errors import ERROR_CODES
from wellapi.jsonapi import MEDIA_TYPE
from wellapi.jsonapi.body import accepted_types
from wellapi.jsonapi.document import SERVED, served
from wellapi.jsonapi.ids import UUID_PATTERN
from wellapi.jsonapi.query import RANGE_OPERATORS, WORKSPACE_PARAMETERS, fields_of
from wellapi.operations import Operation
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
from wellapi.resources.feed import SYNC_RUN_ID_MAX
from welldev import openapi_examples as examples
from welldev.openapi_text import describe, words
from welldev.stack import pascal

# An OpenAPI object or JSON Schema, as the document holds it.
Json = dict[str, Any]
TITLE: str = words("document", "info", "title")
REF = "#/components/schemas/"
EXAMPLES_REF = "#/components/examples/"
UUID_SCHEMA = {"type": "string", "format": "uuid"}
DATETIME_SCHEMA = {"type": "string", "format": "date-time"}
# An attribute's schema by its kind, where the kind is not its JSON type (an enum's: its values).
KIND_SCHEMAS: dict[str, Json] = {
    "uuids": {"type": "array", "items": UUID_SCHEMA},
    "datetime": DATETIME_SCHEMA,
}
IGNORED, IGNORED_MEMBER, AT_MEMBERS, LINK = (
    words("schemas", name) for name in ("ignored", "ignored_member", "at_members", "link")
)
PAGE_LINK = {"type": ["string", "null"]}


# ---- schemas ------------------------------------------------------------------------------------


def _object(properties: Json, *required: str, additional: Any = False, **more: Any) -> Json:
    """An object schema: ``required`` when any, ``additionalProperties`` unless None."""
    schema: Json = {"type": "object", "properties": properties, **more}
    if required:
        schema["required"] = list(required)
    if additional is not None:
        schema["additionalProperties"] = additional
    return schema


def _links(*names: str) -> Json:
    """A ``links`` member: an object of the links ``names``, each required."""
    return {"links": _object(dict.fromkeys(names, LINK), *names)}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _nullable(schema: Json) -> Json:
    return {"oneOf": [schema, {"type": "null"}]}


def _attribute_schema(attribute: Attribute) -> Json:
    if attribute.kind == "enum":
        schema = {"type": "string", "enum": list(attribute.enum)}
        return _nullable(schema) if attribute.nullable else schema
    schema = KIND_SCHEMAS.get(attribute.kind, {"type": attribute.kind})
    # A copy either way, which an update request's schema adds its description to.
    return {**schema, "type": [schema["type"], "null"]} if attribute.nullable else {**schema}


def _attributes(attributes: Iterable[Attribute]) -> Json:
    return _object({a.name: _attribute_schema(a) for a in attributes})


def _linkage(type_name: str, *, nullable: bool) -> Json:
    identifier = _object({"type": {"const": type_name}, "id": UUID_SCHEMA}, "type", "id")
    return _nullable(identifier) if nullable else identifier


def _record(described: Resource | Parent, links: bool, **properties: Any) -> Json:
    """A resource object: its type, id and attributes, and ``links.self`` when it has links."""
    attributes = _attributes(described.attributes)
    fixed = {"type": {"const": described.type}, "id": UUID_SCHEMA, "attributes": attributes}
    linked = _links("self") if links else {}
    return _object({**fixed, **properties, **linked}, "type", "id", *linked)


def _parent_resource(parent: Parent) -> Json:
    """A record a relationship points at, as ``include`` and the related route show it. Only
    a record this API serves (a ``workspace_provider``, from the catalog) links to its route;
    the platform's own records are another API's, and carry no links."""
    schema = _record(parent, parent.type in SERVED)
    if parent.type not in SERVED:
        schema["description"] = words("schemas", "platform_record")
    return schema


def _resource_object(resource: Resource) -> Json:
    """A primary resource. One this API serves links to its route (``links.self``), and each
    of its relationships to the relationship route (``self``) and the related route
    (``related``); the catalog's providers, the platform's records, have no links."""
    is_served = served(resource)
    linked = _links("self", "related") if is_served else {}
    relationships = {}
    for rel in resource.relationships:
        data = {"data": _linkage(rel.parent.type, nullable=not rel.required)}
        relationships[rel.name] = _object({**data, **linked}, "data", *linked)
    feed_id = {"id": words("schemas", "feed_id")} if resource.scope == "feed" else {}
    return _record(resource, is_served, relationships=_object(relationships), **feed_id)


def _written_type(described: Resource | Parent) -> Json:
    """A request's ``type``: today's, which every read emits, or the platform's canonical one."""
    types = accepted_types(described)
    form = "two" if len(types) > 1 else "one"
    text = words("schemas", "written_type", form, today=types[0], canonical=types[-1])
    return {"enum": list(types), "description": text}


def _request_object(properties: Json, *required: str, ignored: tuple[str, ...]) -> Json:
    """An object of a request document: ``properties``, the members the parser ignores
    (``ignored``, any value) and any member JSON:API does not define (``IgnoredMember``)."""
    members = {**properties, **dict.fromkeys(ignored, IGNORED)}
    return _object(members, *required, additional=IGNORED_MEMBER)


def _request_relationship(rel: Relationship, mode: str) -> Json:
    written = {"type": _written_type(rel.parent), "id": UUID_SCHEMA}
    identifier = _request_object(written, "type", "id", ignored=("meta", "lid"))
    data = identifier if rel.required else _nullable(identifier)
    member = _request_object({"data": data}, "data", ignored=("meta", "links"))
    if mode == "update":
        member["description"] = _current_value(rel.writable, "relationship")
    return member


def _current_value(writable: str, member: str) -> str:
    """What an update does with a member: writable, or accepted at its current value only."""
    current = words("schemas", "current", member)
    return str(words("schemas", "update_member", writable, current=current))


def _request_document(resource: Resource, mode: str) -> Json:
    """A create or update document: what the parser (``jsonapi.body``) accepts.

    A create carries the members a client may set. An update may carry every attribute and
    relationship, so that a fetched resource can be sent back as it is: the writable ones are
    marked so, and every other one is accepted only at its current value (not ``readOnly``,
    which would say a request must not carry it). What JSON:API 1.1 has the server ignore is
    allowed wherever it may be (``_request_object``), and so are the @-members of the
    attributes and relationships objects; a field the resource does not have is not.
    """
    create = mode == "create"
    attributes = _attributes(a for a in resource.attributes if not create or a.writable != "never")
    rels = [rel for rel in resource.relationships if not create or rel.writable != "never"]
    if not create:
        for a in resource.attributes:
            member = "deleted_at" if a.name == "deleted_at" else "attribute"
            attributes["properties"][a.name]["description"] = _current_value(a.writable, member)
    attributes["patternProperties"] = AT_MEMBERS
    relationships = {rel.name: _request_relationship(rel, mode) for rel in rels}
    members = {
        "type": _written_type(resource),
        "id": {**UUID_SCHEMA, "description": words("schemas", f"{mode}_id")},
        "attributes": attributes,
        "relationships": _object(relationships, patternProperties=AT_MEMBERS),
    }
    required = ["type"] if create else ["type", "id"]
    data = _request_object(members, *required, ignored=("meta", "links", "lid"))
    document = {"data": data, "errors": words("schemas", "errors_member")}
    return _request_object(document, "data", ignored=("meta", "jsonapi", "links", "included"))


def _document(resource: Resource, *, collection: bool) -> Json:
    resource_ref = _ref(f"{pascal(resource.key)}Resource")
    links = _object({"self": {"type": "string"}}, "self", additional=None)
    properties: Json = {
        "jsonapi": _ref("JsonApi"),
        "data": {"type": "array", "items": resource_ref} if collection else resource_ref,
        "links": links,
    }
    if resource.scope == "feed":
        properties["meta"] = words("schemas", "feed_meta")
    else:
        parents = [_ref(f"{pascal(t)}Parent") for t in related_types(resource)]
        properties["included"] = {"type": "array", "items": {"oneOf": parents}}
    if not collection:
        return _object(properties, "jsonapi", "data", "links", additional=None)
    # A numbered page's links too (page[number]): the first page, and the last while the total
    # is exact and that page within MAX_PAGE_DEPTH (else null).
    links["properties"].update(dict.fromkeys(("prev", "next", "first", "last"), PAGE_LINK))
    links["required"] = ["self", "prev", "next"]
    properties.setdefault("meta", words("schemas", "list_meta"))
    return _object(properties, "jsonapi", "data", "links", "meta", additional=None)


def _linkage_document(resource: Resource, *, related: bool) -> Json:
    """GET /v1/<resource>/{id}/<relationship> (``related``): the record, as ``include`` shows
    it, or null; GET /v1/<resource>/{id}/relationships/<relationship>: the linkage, or null."""
    types = related_types(resource)
    if related:
        found, links = [_ref(f"{pascal(t)}Parent") for t in types], _links("self")
    else:
        found, links = [_linkage(t, nullable=False) for t in types], _links("self", "related")
    data = {"oneOf": [*found, {"type": "null"}]}
    return _object({"jsonapi": _ref("JsonApi"), "data": data, **links}, "jsonapi", "data", "links")


# The answers API Gateway gives itself (``responses`` of the text says when), by status.
GATEWAY_STATUSES: dict[int, str] = words("responses", "gateway_statuses")


def _errors(codes: tuple[str, ...]) -> Json:
    """The error responses of an operation that can answer ``codes``, and API Gateway's own."""
    responses: Json = {}
    for status in sorted({*(ERROR_CODES[code].status for code in codes), *GATEWAY_STATUSES}):
        mine = [code for code in codes if ERROR_CODES[code].status == status]
        reason = GATEWAY_STATUSES.get(status)
        parts, content = [], {}
        if mine:
            lines = [f"- `{code}`: {ERROR_CODES[code].meaning}" for code in mine]
            parts.append(words("responses", "errors") + "\n\n" + "\n".join(lines))
            refs = {code: {"$ref": EXAMPLES_REF + code} for code in mine}
            content[MEDIA_TYPE] = {"schema": _ref("ErrorDocument"), "examples": refs}
        if reason:  # API Gateway's own answer, alone or beside ours
            parts.append(words("responses", "or_gateway" if mine else "gateway", reason=reason))
            content["application/json"] = {"schema": _ref("GatewayMessage")}
        responses[str(status)] = {"description": "\n\n".join(parts), "content": content}
    for code, headers in words("responses", "status_headers").items():
        if code in responses:
            responses[code]["headers"] = headers
    return responses


# ---- parameters ----------------------------------------------------------------------------------

# The operations whose workspace is the path's ``{workspace_id}`` (their ``RequestSpec.scope``,
# in ``operations.nested`` and ``operations.read``): they take no workspace parameter.
PATH_SCOPED = frozenset({"catalog", "select", "remove"})


def parameter(name: str, schema: Json, description: str, where: str = "query") -> Json:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def _text(key: str, **names: Any) -> str:
    return str(words("parameters", key, **names))


def comma_list(names: Iterable[Any], *, empty: bool, pattern: str = "") -> Json:
    """A comma-separated list of ``names`` (or of items that match ``pattern``) as a string
    schema; ``empty``: the empty string too."""
    escaped = [re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", str(name)) for name in names]
    item = "(?:" + (pattern or "|".join(escaped)) + ")"
    listed = f"{item}(?:,{item})*"
    return {"type": "string", "pattern": f"^(?:{listed})?$" if empty else f"^{listed}$"}


def workspace_parameters(operation: str) -> list[Json]:
    """The query parameters that choose the workspace a key acts in: none where the path's
    ``{workspace_id}`` is that workspace (the server reads and ignores them); where it is another
    (the enrolled one of an unenrol), the legacy name only, so that one operation never shows
    two inputs named alike."""
    if operation in PATH_SCOPED:
        return []
    legacy = WORKSPACE_PARAMETERS[1]
    if operation == "unenrol":
        return [parameter(legacy, UUID_SCHEMA, _text(f"acting_{legacy}"))]
    return [parameter(name, UUID_SCHEMA, _text(name)) for name in WORKSPACE_PARAMETERS]


def _pages(which: str) -> list[Json]:
    return [parameter(**page) for page in words("parameters", which)]


def feed_parameters(resource: Resource, workspace: list[Json]) -> list[Json]:
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


def _fields(resource: Resource, type_name: str, text: str, **names: str) -> Json:
    schema = comma_list(fields_of(resource, type_name) or (), empty=True)
    return parameter(f"fields[{type_name}]", schema, _text(text, type=type_name, **names))


def read_parameters(resource: Resource, workspace: list[Json], *, collection: bool) -> list[Json]:
    names = [r.name for r in resource.relationships]
    include = _text("include", names=", ".join(names))
    params = [parameter("include", comma_list(names, empty=True), include)]
    params += [_fields(resource, t, "fields") for t in [resource.type, *related_types(resource)]]
    params += workspace
    if not collection:
        return params
    sort = {"type": "string", "enum": list(resource.sort_values)}
    sort_text = " ".join(filter(None, (_text("sort"), resource.sort_note)))
    params += [parameter("sort", sort, sort_text), *_pages("pages")]
    ids = comma_list((), empty=False, pattern=UUID_PATTERN)
    for r in resource.relationships:
        params.append(parameter(f"filter[{r.name}]", ids, _text("filter_ids", type=r.parent.type)))
    for name in resource.filters:
        a = resource.attribute(name)
        schema = comma_list(a.enum, empty=False) if a.kind == "enum" else {"type": "boolean"}
        params.append(parameter(f"filter[{name}]", schema, _text("filter", name=name)))
    for op in RANGE_OPERATORS:
        params.append(parameter(f"filter[created_at][{op}]", DATETIME_SCHEMA, _text("range")))
    return params


def related_parameters(resource: Resource, operation: str, workspace: list[Json]) -> list[Json]:
    """The query of a related route (the record's fields, an empty include) or of a
    relationship route (none but the workspace)."""
    if operation == "relationship":
        return workspace
    params = [parameter("include", {"type": "string", "const": ""}, _text("related_include"))]
    for t in related_types(resource):
        pointing = " or ".join(f"`{r.name}`" for r in resource.relationships if r.parent.type == t)
        params.append(_fields(resource, t, "related_fields", names=pointing))
    return params + workspace


def id_parameter(name: str, resource: Resource, operation: str) -> Json:
    """A path parameter of ``operation`` on ``resource``, the demo's value its example."""
    names = [rel.name for rel in resource.relationships]
    listed = ", ".join(f"`{n}`" for n in names)
    texts = words("parameters", "path", type=resource.type, names=listed)
    text = texts.get(f"{operation}/{name}") or texts[name]
    schema = {"type": "string", "enum": names} if name == "relationship" else UUID_SCHEMA
    example = examples.path_parameters(resource, operation)[name]
    return {**parameter(name, schema, text, "path"), "example": example}


# ---- operations and the document -----------------------------------------------------------------


def _answer(what: str, schema: str, **more: Any) -> Json:
    """A success response: what it says (``responses`` of the text), its document's schema."""
    content = {MEDIA_TYPE: {"schema": _ref(schema)}}
    return {"description": words("responses", what), "content": content, **more}


def _operation(resource_key: str, op: Operation) -> tuple[str, str, Json]:
    """``op`` on ``resource_key``: its path, its method and what the document says of it."""
    resource = PROVIDER_CATALOG if op.name == "catalog" else resource_named(resource_key)
    name = pascal(resource.key)
    path = op.path(resource)
    text = describe(resource, op.name)
    parameters = [id_parameter(p, resource, op.name) for p in re.findall(r"\{(\w+)\}", path)]
    workspace = workspace_parameters(op.name)
    spec: Json = {
        "operationId": f"{resource_key}_{op.name}",
        "tags": [resource_named(resource_key).path],
        "summary": text.summary,
        "description": text.description,
    }
    if op.method == "GET":
        if resource.scope == "feed":
            parameters += feed_parameters(resource, workspace)
        elif op.suffix:  # /v1/<resource>/{id}[/relationships]/<relationship>
            parameters += related_parameters(resource, op.name, workspace)
        else:
            parameters += read_parameters(resource, workspace, collection=not op.item)
        shape = f"{pascal(op.name)}Document" if op.suffix else "Document" if op.item else ""
        ok = {"200": _answer("ok", name + (shape or "Collection"))}
    elif op.method == "DELETE":
        parameters += workspace
        ok = {"204": {"description": words("responses", "deleted")}}
    else:
        parameters += read_parameters(resource, workspace, collection=False)
        summary, body = examples.request_example(resource, op.name)
        request = "Update" if op.method == "PATCH" else "Create"
        example = {"demo": {"summary": summary, "value": body}}
        schema = {"schema": _ref(f"{name}{request}Request"), "examples": example}
        spec["requestBody"] = {"required": True, "content": {MEDIA_TYPE: schema}}
        ok = {"200": _answer("ok", f"{name}Document")}
        if request == "Create":
            location = {"Location": {"schema": {"type": "string"}}}
            ok = {"201": _answer("created", f"{name}Document", headers=location)}
            if op.name == "select":
                ok["200"] = _answer("selected", f"{name}Document")
        if op.request_spec.idempotent:
            parameters.append(words("parameters", "idempotency_key"))
            for answer in ok.values():
                answer["headers"] = {**answer.get("headers", {}), **words("responses", "replayed")}
    spec["responses"] = {**ok, **_errors(text.codes)}
    spec["parameters"] = parameters
    return path, op.method.lower(), spec


def _schemas() -> Json:
    """The schemas the registry derives: its records, documents and request documents."""
    schemas = {f"{pascal(p.type)}Parent": _parent_resource(p) for p in PARENTS.values()}
    for resource in (*RESOURCES.values(), PROVIDER_CATALOG, CHANGES):
        name = pascal(resource.key)
        schemas[f"{name}Resource"] = _resource_object(resource)
        if resource.scope != "feed":
            schemas[f"{name}Document"] = _document(resource, collection=False)
        schemas[f"{name}Collection"] = _document(resource, collection=True)
        if resource.key in RESOURCES:
            schemas[f"{name}CreateRequest"] = _request_document(resource, "create")
            schemas[f"{name}UpdateRequest"] = _request_document(resource, "update")
            schemas[f"{name}RelatedDocument"] = _linkage_document(resource, related=True)
            schemas[f"{name}RelationshipDocument"] = _linkage_document(resource, related=False)
    return schemas


def _error_example(code: str) -> Json:
    status, title, meaning = ERROR_CODES[code]
    error = {"status": str(status), "code": code, "title": title, "detail": meaning}
    value = {"errors": [{**error, "meta": {"trace_id": "<the request id>"}}]}
    return {"summary": code, "value": value}


def _tags() -> list[dict[str, str]]:
    """Swagger UI's groups in the order of ``ROUTES``, each named as its collection's path."""
    resources = map(resource_named, dict.fromkeys(key for key, _ in ROUTES))
    return [{"name": r.path, "description": r.summary} for r in resources]


def build_document() -> Json:
    paths: dict[str, Json] = {}
    for resource_key, operation in ROUTES:
        path, method, spec = _operation(resource_key, OPERATIONS[operation])
        paths.setdefault(path, {})[method] = spec
    document: Json = words("document")
    # The description's paragraphs are wrapped in the file: a line break within one is a space.
    info = document["info"]
    info["description"] = re.sub(r"(?<!\n)\n(?!\n)", " ", info["description"])
    document["tags"] = _tags()
    document["paths"] = dict(sorted(paths.items()))
    document["components"]["schemas"].update(_schemas())
    document["components"]["examples"] = {code: _error_example(code) for code in ERROR_CODES}
    return document


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
