"""Create, Update and Delete: one round trip each (``wellapi.operations.guarded``)."""

from __future__ import annotations

from wellapi.errors import Forbidden
from wellapi.http.principal import Principal
from wellapi.http.request import ROW_ID, Call, Needs
from wellapi.http.response import Response
from wellapi.jsonapi.body import CREATE_BODY, UPDATE_BODY
from wellapi.operations import Operation
from wellapi.operations.guarded import create_one, delete_one, may_write, write_one
from wellapi.resources import Resource


def may_patch(resource: Resource, principal: Principal) -> None:
    """Update's ``Needs.permit``: a resource that is never modified, then ``may_write``."""
    if not resource.rules.patch_allowed:
        raise Forbidden(f"{resource.type} rows cannot be modified; remove and add again instead.")
    may_write(resource, principal)


def create_row(call: Call) -> Response:
    return create_one(call)


def update_row(call: Call) -> Response:
    document = call.resource.rules.normalise(call.sent(), "update")
    return write_one(call, "update", document, call.row_id)


def delete_row(call: Call) -> Response:
    return delete_one(call)


CREATE = Operation(
    "create",
    "POST",
    create_row,
    Needs("retrieve", body=CREATE_BODY, permit=may_write, idempotent=True),
)
UPDATE = Operation(
    "update",
    "PATCH",
    update_row,
    Needs("retrieve", body=UPDATE_BODY, ids=(ROW_ID,), permit=may_patch),
    item=True,
)
DELETE = Operation(
    "delete", "DELETE", delete_row, Needs("retrieve", ids=(ROW_ID,), permit=may_write), item=True
)
