"""The routes a relationship's links lead to, for every relationship of every resource.

- GET /v1/<resource>/{id}/{relationship}: the record the relationship points at, exactly as
  ``include`` shows it (``data: null`` where ``include`` would leave it out: out of scope)
- GET /v1/<resource>/{id}/relationships/{relationship}: the linkage, as the resource shows it

Each is the resource's Retrieve (the same scope statement and compiled SELECT, one round
trip) answered with a part of the row.
"""

from __future__ import annotations

from dataclasses import replace

from wellapi.errors import NotFound
from wellapi.jsonapi.media import check_accept
from wellapi.jsonapi.query import ReadQuery, parse_read_query
from wellapi.operations import Operation
from wellapi.operations.read import read_one
from wellapi.request import Request
from wellapi.resources import Relationship, Resource
from wellapi.response import Response, document_response


def _relationship(resource: Resource, request: Request) -> Relationship:
    name = request.path_parameters.get("relationship", "")
    for rel in resource.relationships:
        if rel.name == name:
            return rel
    raise NotFound(
        f"{resource.type} has no relationship '{name}'.",
        code="UNKNOWN_RELATIONSHIP",
        meta={"path_parameter": "relationship"},
    )


def related_query(resource: Resource, relationship: Relationship, raw_query: str) -> ReadQuery:
    """The read a related route makes: the resource, with the record included.

    The record is read as ``include`` reads it: the same visibility, the same compiled SQL.
    """
    asked = parse_read_query(resource, raw_query, "related", related=relationship.parent)
    return replace(asked, include=(relationship.name,), include_requested=True)


def related_resource(resource: Resource, request: Request) -> Response:
    check_accept(request.header("accept"))
    rel = _relationship(resource, request)
    builder, row = read_one(resource, request, related_query(resource, rel, request.raw_query))
    return document_response(200, builder.related(row, rel.name, request.url))


def relationship_linkage(resource: Resource, request: Request) -> Response:
    check_accept(request.header("accept"))
    rel = _relationship(resource, request)
    query = parse_read_query(resource, request.raw_query, "relationship")
    builder, row = read_one(resource, request, query)
    return document_response(200, builder.relationship(row, rel.name, request.url))


RELATED = Operation("related", "GET", related_resource, item=True, suffix="/{relationship}")
RELATIONSHIP = Operation(
    "relationship",
    "GET",
    relationship_linkage,
    item=True,
    suffix="/relationships/{relationship}",
)
