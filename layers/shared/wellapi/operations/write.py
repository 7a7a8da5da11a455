"""Create, Update and Delete: one round trip each (``wellapi.operations.conditional_write``)."""

from __future__ import annotations

from wellapi.errors import Forbidden
from wellapi.http.principal import Principal
from wellapi.http.request import ROW_ID, ParsedRequest, RequestSpec
from wellapi.http.response import Response
from wellapi.jsonapi.body import CREATE_BODY, UPDATE_BODY
from wellapi.operations import Operation
from wellapi.operations.conditional_write import create_one, delete_one, may_write, write_one
from wellapi.resources import Resource


def may_patch(resource: Resource, principal: Principal) -> None:
    """Update's ``RequestSpec.permit``: a resource that is never modified, then ``may_write``."""
    if not resource.rules.patch_allowed:
        raise Forbidden(f"{resource.type} rows cannot be modified; remove and add again instead.")
    may_write(resource, principal)


def create_row(request: ParsedRequest) -> Response:
    return create_one(request)


def update_row(request: ParsedRequest) -> Response:
    document = request.resource.rules.normalise(request.sent(), "update")
    return write_one(request, "update", document, request.row_id)


def delete_row(request: ParsedRequest) -> Response:
    return delete_one(request)


CREATE = Operation(
    "create",
    "POST",
    create_row,
    RequestSpec("retrieve", body=CREATE_BODY, permit=may_write, idempotent=True),
)
UPDATE = Operation(
    "update",
    "PATCH",
    update_row,
    RequestSpec("retrieve", body=UPDATE_BODY, ids=(ROW_ID,), permit=may_patch),
    item=True,
)
DELETE = Operation(
    "delete",
    "DELETE",
    delete_row,
    RequestSpec("retrieve", ids=(ROW_ID,), permit=may_write),
    item=True,
)
