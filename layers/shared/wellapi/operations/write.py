"""Create, Update and Delete: one round trip each (scope, the guarded write, the re-read).

The script is one implicit transaction: the scope statement, the write statement that checks
every rule and writes only if all hold, and the same SELECT a Retrieve runs, so the response
shows the row as committed. A rejected request writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import pg8000.dbapi

from wellapi import db
from wellapi.changes import ResourceDocument
from wellapi.errors import (
    ApiError,
    ErrorList,
    Forbidden,
    NotFound,
    Unprocessable,
    constraint_of,
    sqlstate_of,
)
from wellapi.jsonapi.body import parse_resource_document
from wellapi.jsonapi.document import DocumentBuilder
from wellapi.jsonapi.ids import new_id
from wellapi.jsonapi.media import check_accept
from wellapi.jsonapi.query import ReadQuery, parse_read_query
from wellapi.operations import Operation
from wellapi.operations.read import READ_PART, linker, parse_id, scoped_principal
from wellapi.principal import Principal, check_scope
from wellapi.request import Request
from wellapi.resources import Resource
from wellapi.response import Response, document_response
from wellapi.rows import ReadRow, WriteOutcome
from wellapi.rules import KEEPS_PREFIX, READ_ONLY_PREFIX, RULES
from wellapi.shapes import ReadShape, WriteKind, WritePlan, WriteShape, read_params, write_params
from wellapi.sql import Script, ScriptPart
from wellapi.statements import read_template, write_plan

# The name of the write statement's part in a request's script.
WRITE_PART = "write"


@dataclass(frozen=True)
class Written:
    created: bool
    rows: list[ReadRow]


def writer(
    resource: Resource, request: Request, query: ReadQuery, path_workspace: str | None = None
) -> Principal:
    principal = scoped_principal(request, query, path_workspace)
    if not principal.is_service and not RULES[resource.key].members_may_write:
        raise Forbidden(f"{resource.type} rows are written by the connector sync pipeline only.")
    return principal


def _raise_for(row: list[Any], plan: WritePlan, kind: WriteKind, resource: Resource) -> bool:
    """Turn the outcome row into the first failed rule's error; return whether it created."""
    outcome = WriteOutcome.read(
        kind, plan.outcome, row, relationships=plan.relationships, checks=plan.checks
    )
    if not outcome.found_target:
        raise NotFound(f"No {resource.type} here with that id.")
    for name in plan.relationships:
        if not outcome.found[name]:
            raise NotFound(
                f"The {name} this request points at does not exist.",
                pointer=f"/data/relationships/{name}",
            )
    rules = RULES[resource.key]
    failed = [check for check in plan.checks if not outcome.checks[check]]
    members = [c for c in failed if c.startswith((KEEPS_PREFIX, READ_ONLY_PREFIX))]
    if members:
        # Each member sent back changed, reported together (all 403), before any other rule.
        errors = _errors(rules.check_error(resource, kind, c) for c in members)
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    if failed:
        raise rules.check_error(resource, kind, failed[0])
    # An update writes only when it changes something: unchanged, it writes nothing.
    if not outcome.written and outcome.changes:
        if kind == "create":
            raise rules.conflict(resource)
        # The row was deleted by a concurrent request between our read and our write.
        raise NotFound(f"No {resource.type} here with that id.")
    return outcome.created


def _errors(answers: Iterable[ApiError | ErrorList]) -> list[ApiError]:
    errors: list[ApiError] = []
    for answer in answers:
        errors += answer.errors if isinstance(answer, ErrorList) else [answer]
    return errors


def _database_rule_error(error: pg8000.dbapi.DatabaseError, resource: Resource) -> ApiError | None:
    state = sqlstate_of(error)
    if state == "23505":
        return RULES[resource.key].conflict(resource)
    if state == "23514":
        constraint = constraint_of(error)
        return RULES[resource.key].constraint_error(constraint) or Unprocessable(
            f"The change breaks the rule {constraint or 'of this resource'}.",
            pointer="/data/attributes",
        )
    return None


def run_write(
    resource: Resource,
    shape: WriteShape,
    params: dict[str, Any],
    principal: Principal,
    scope_parameter: str | None,
    reread: tuple[ReadShape, dict[str, Any]] | None,
    *,
    path_scope: bool = False,
) -> Written:
    plan = write_plan(shape)
    parts = [principal.scope_part(), ScriptPart(WRITE_PART, plan.template.render(params), "one")]
    layout = None
    if reread is not None:
        read, layout = read_template(reread[0])
        parts.append(ScriptPart(READ_PART, read.render(reread[1]), "rows"))
    request_script = Script(tuple(parts))
    try:
        # Not retried on a dropped connection: the first attempt may have committed.
        answer = request_script.split(
            db.execute(request_script.text, retry=False, seal=principal.seal)
        )
    except pg8000.dbapi.DatabaseError as error:
        mapped = _database_rule_error(error, resource)
        if mapped is None:
            raise
        raise mapped from error
    check_scope(answer, scope_parameter, path=path_scope)
    (outcome,) = answer[WRITE_PART]
    created = _raise_for(outcome, plan, shape.kind, resource)
    return Written(created, layout.rows(answer[READ_PART]) if layout is not None else [])


def respond(
    resource: Resource,
    request: Request,
    query: ReadQuery,
    rows: list[ReadRow],
    status: int,
    path_workspace: str | None = None,
) -> Response:
    builder = DocumentBuilder(resource, query, linker(request, query, path_workspace))
    document = builder.single(rows[0], "")
    self_link = document["data"]["links"]["self"]
    document["links"] = {"self": self_link}
    headers = {"Location": self_link} if status == 201 else {}
    return document_response(status, document, headers)


def create_row(
    resource: Resource,
    request: Request,
    *,
    preset: dict[str, UUID] | None = None,
    path_workspace: str | None = None,
) -> Response:
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "retrieve")
    principal = writer(resource, request, query, path_workspace)
    rules = RULES[resource.key]
    document = parse_resource_document(
        resource, request.body, request.header("content-type"), "create", preset=preset
    )
    document = rules.normalise(document, "create")
    return _write_one(
        resource,
        request,
        query,
        principal,
        "create",
        document,
        new_id(),
        path_workspace is not None,
    )


def _write_one(
    resource: Resource,
    request: Request,
    query: ReadQuery,
    principal: Principal,
    kind: WriteKind,
    document: ResourceDocument,
    row_id: UUID,
    path_scope: bool = False,
) -> Response:
    """Create or update one row by id and answer with it as committed."""
    shape = WriteShape.of(resource, kind, document, principal.is_service)
    read_shape = ReadShape.of(resource, query, single=True, service=principal.is_service)
    result = run_write(
        resource,
        shape,
        write_params(document, row_id=row_id),
        principal,
        query.workspace_parameter,
        (read_shape, {"row_id": row_id}),
        path_scope=path_scope,
    )
    if not result.rows:
        # An update that changed nothing took no lock: a delete may commit between the write
        # statement and the re-read, as it may before the write (then the write says so).
        raise NotFound(f"No {resource.type} here with that id.")
    return respond(resource, request, query, result.rows, 201 if kind == "create" else 200)


def update_row(resource: Resource, request: Request) -> Response:
    check_accept(request.header("accept"))
    rules = RULES[resource.key]
    if not rules.patch_allowed:
        raise Forbidden(f"{resource.type} rows cannot be modified; remove and add again instead.")
    query = parse_read_query(resource, request.raw_query, "retrieve")
    row_id = parse_id(request)
    principal = writer(resource, request, query)
    document = parse_resource_document(
        resource, request.body, request.header("content-type"), "update", row_id=row_id
    )
    document = rules.normalise(document, "update")
    return _write_one(resource, request, query, principal, "update", document, row_id)


def delete_row(
    resource: Resource,
    request: Request,
    *,
    target: dict[str, UUID] | None = None,
    path_workspace: str | None = None,
) -> Response:
    """Soft delete, addressed by id or (nested routes) by relationship ids from the path."""
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "retrieve")
    principal = writer(resource, request, query, path_workspace)
    row_id = None if target else parse_id(request)
    shape = WriteShape.of(
        resource,
        "delete",
        ResourceDocument(),
        principal.is_service,
        target_by=tuple(sorted(target or {})),
    )
    run_write(
        resource,
        shape,
        write_params(ResourceDocument(), row_id=row_id, target=target),
        principal,
        query.workspace_parameter,
        None,
        path_scope=path_workspace is not None,
    )
    return document_response(204, None)


def upsert_row(
    resource: Resource,
    request: Request,
    *,
    preset: dict[str, UUID],
    path_workspace: str | None,
    force: dict[str, Any],
) -> Response:
    """Create the one live row for the preset relationships, or update it: 201 or 200.

    ``force`` holds attribute values the route stands for (selecting means is_selected).
    """
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "retrieve")
    principal = writer(resource, request, query, path_workspace)
    rules = RULES[resource.key]
    document = parse_resource_document(
        resource, request.body, request.header("content-type"), "create", preset=preset
    )
    for name, value in force.items():
        if document.attributes.get(name, value) != value:
            raise Unprocessable(
                f"This route sets {name} to {value}.", pointer=f"/data/attributes/{name}"
            )
    document = replace(document, attributes={**document.attributes, **force})
    document = rules.normalise(document, "create")
    shape = WriteShape.of(resource, "create", document, principal.is_service, upsert=True)
    # The row may be an existing one with its own id: re-read it by its relationships.
    by_relationships = ReadQuery(
        include=query.include,
        fields=query.fields,
        relationship_filters=tuple(
            (k, (v,)) for k, v in sorted(document.relationships.items()) if v
        ),
        page_size=1,
        include_requested=query.include_requested,
    )
    read_shape = ReadShape.of(
        resource, by_relationships, single=False, service=principal.is_service
    )
    result = run_write(
        resource,
        shape,
        write_params(document, row_id=new_id()),
        principal,
        query.workspace_parameter,
        (read_shape, read_params(by_relationships)),
        path_scope=path_workspace is not None,
    )
    status = 201 if result.created else 200
    return respond(resource, request, by_relationships, result.rows, status, path_workspace)


CREATE = Operation("create", "POST", create_row)
UPDATE = Operation("update", "PATCH", update_row, item=True)
DELETE = Operation("delete", "DELETE", delete_row, item=True)
