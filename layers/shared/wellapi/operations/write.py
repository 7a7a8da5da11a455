"""Create, Update and Delete: one round trip each (scope, the guarded write, the re-read).

The script is one implicit transaction: the scope statement, the write statement that checks
every rule and writes only if all hold, and the same SELECT a Retrieve runs, so the response
shows the row as committed. A rejected request writes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pg8000.dbapi
from aws_lambda_powertools.event_handler import Response

from wellapi import db
from wellapi.errors import (
    ApiError,
    Forbidden,
    NotFound,
    Unprocessable,
    constraint_of,
    sqlstate_of,
)
from wellapi.http.request import Request
from wellapi.http.response import document_response
from wellapi.jsonapi.body import ResourceDocument, parse_resource_document
from wellapi.jsonapi.document import DocumentBuilder, Linker
from wellapi.jsonapi.media import check_accept
from wellapi.jsonapi.query import ReadQuery, parse_read_query
from wellapi.operations.read import parse_id
from wellapi.principal import Principal, check_scope
from wellapi.queries import ReadShape, read_template
from wellapi.resources import Resource
from wellapi.rules import RULES
from wellapi.sql import script
from wellapi.writes import WriteKind, WritePlan, WriteShape, write_params, write_plan


def _principal(resource: Resource, request: Request, query: ReadQuery) -> Principal:
    principal = request.principal().in_workspace(query.workspace_id)
    if not principal.is_service and not RULES[resource.key].members_may_write:
        raise Forbidden(f"{resource.type} rows are written by the connector sync pipeline only.")
    return principal


def _raise_for(outcome: list[Any], plan: WritePlan, kind: WriteKind, resource: Resource) -> None:
    values = iter(outcome)
    if kind != "create" and not next(values):
        raise NotFound(f"No {resource.type} with that id.")
    for name in plan.relationships:
        if not next(values):
            raise NotFound(
                f"The {name} this request points at does not exist.",
                pointer=f"/data/relationships/{name}",
            )
    for check in plan.checks:
        if not next(values):
            raise check.error()
    if not next(values):
        if kind == "create":
            raise RULES[resource.key].conflict(resource)
        # The row was deleted by a concurrent request between our read and our write.
        raise NotFound(f"No {resource.type} with that id.")


def _database_rule_error(error: pg8000.dbapi.DatabaseError, resource: Resource) -> ApiError | None:
    state = sqlstate_of(error)
    if state == "23505":
        return RULES[resource.key].conflict(resource)
    if state == "23514":
        return Unprocessable(
            f"The change breaks the rule {constraint_of(error) or 'of this resource'}.",
            pointer="/data/attributes",
        )
    return None


def run_write(
    resource: Resource,
    request: Request,
    kind: WriteKind,
    document: ResourceDocument,
    query: ReadQuery,
    principal: Principal,
    row_id: UUID,
) -> list[list[Any]]:
    """Send the write; return the re-read rows (empty for a delete)."""
    shape = WriteShape.of(resource, kind, document, principal.is_service)
    plan = write_plan(shape)
    statements = [
        principal.scope_statement(),
        plan.template.render(write_params(document, row_id=row_id)),
    ]
    if kind != "delete":
        read, _ = read_template(
            ReadShape.of(resource, query, single=True, service=principal.is_service)
        )
        statements.append(read.render({"row_id": row_id}))
    try:
        # Not retried on a dropped connection: the first attempt may have committed.
        rows = db.execute(script(*statements), retry=False)
    except pg8000.dbapi.DatabaseError as error:
        mapped = _database_rule_error(error, resource)
        if mapped is None:
            raise
        raise mapped from error
    check_scope(rows[0], query.workspace_parameter)
    _raise_for(rows[1], plan, kind, resource)
    return rows[2:]


def _respond(
    resource: Resource,
    request: Request,
    query: ReadQuery,
    principal: Principal,
    rows: list[list[Any]],
    status: int,
) -> Response[str]:
    _, layout = read_template(
        ReadShape.of(resource, query, single=True, service=principal.is_service)
    )
    builder = DocumentBuilder(resource, query, layout, Linker(request.base_url))
    document = builder.single(rows[0], "")
    self_link = document["data"]["links"]["self"]
    document["links"] = {"self": self_link}
    headers = {"Location": self_link} if status == 201 else {}
    return document_response(status, document, headers)


def create_row(resource: Resource, request: Request) -> Response[str]:
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "retrieve")
    principal = _principal(resource, request, query)
    rules = RULES[resource.key]
    document = parse_resource_document(
        resource, request.body, request.header("content-type"), "create"
    )
    document = rules.normalise(document, "create")
    rows = run_write(resource, request, "create", document, query, principal, uuid4())
    return _respond(resource, request, query, principal, rows, 201)


def update_row(resource: Resource, request: Request) -> Response[str]:
    check_accept(request.header("accept"))
    rules = RULES[resource.key]
    if not rules.patch_allowed:
        raise Forbidden(f"{resource.type} rows cannot be modified; remove and add again instead.")
    query = parse_read_query(resource, request.raw_query, "retrieve")
    row_id = parse_id(request)
    principal = _principal(resource, request, query)
    document = parse_resource_document(
        resource, request.body, request.header("content-type"), "update", row_id=row_id
    )
    document = rules.normalise(document, "update")
    rows = run_write(resource, request, "update", document, query, principal, row_id)
    return _respond(resource, request, query, principal, rows, 200)


def delete_row(resource: Resource, request: Request) -> Response[str]:
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "retrieve")
    row_id = parse_id(request)
    principal = _principal(resource, request, query)
    run_write(resource, request, "delete", ResourceDocument(), query, principal, row_id)
    return document_response(204, None)
