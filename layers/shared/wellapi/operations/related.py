"""The routes a relationship's links lead to, for every relationship of every resource.

- GET /v1/<resource>/{id}/{relationship}: the record the relationship points at, exactly as
  ``include`` shows it (``data: null`` where ``include`` would leave it out: out of scope)
- GET /v1/<resource>/{id}/relationships/{relationship}: the linkage, as the resource shows it

Each is the resource's Retrieve (the same scope statement and composed SELECT, one round
trip) answered with a part of the row: the handler reads the query as a Retrieve with the
record included (``wellapi.http.request.related_query``).
"""

from __future__ import annotations

from wellapi.http.request import ROW_ID, ParsedRequest, RequestSpec
from wellapi.http.response import Response, document_response
from wellapi.jsonapi.document import related_document, relationship_document
from wellapi.operations import Operation, linker, read_one
from wellapi.resources import Relationship


def _named(request: ParsedRequest) -> Relationship:
    if request.relationship is None:
        raise LookupError("this route names no relationship")
    return request.relationship


def related_resource(request: ParsedRequest) -> Response:
    name = _named(request).name
    row = read_one(request)
    return document_response(200, related_document(row.included(name), request.url))


def relationship_linkage(request: ParsedRequest) -> Response:
    name = _named(request).name
    row = read_one(request)
    linkage = row.linkage(name)
    document = relationship_document(
        request.resource, row.id, name, linkage, linker(request), request.url
    )
    return document_response(200, document)


RELATED = Operation(
    "related",
    "GET",
    related_resource,
    RequestSpec("related", ids=(ROW_ID,), relationship=True),
    item=True,
    suffix="/{relationship}",
)
RELATIONSHIP = Operation(
    "relationship",
    "GET",
    relationship_linkage,
    RequestSpec("relationship", ids=(ROW_ID,), relationship=True),
    item=True,
    suffix="/relationships/{relationship}",
)
