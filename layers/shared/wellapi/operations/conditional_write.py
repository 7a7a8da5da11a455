"""The conditional write every write route makes: one round trip (scope, the write).

The script is one implicit transaction: the scope statement, the write statement that checks
every rule and writes only if all hold and answers with the row it leaves, in the columns a
Retrieve reads (``wellapi.sqltext.writes.written_row``), so the response shows the row as
committed. A keyed create's row is read back by the statement that keeps it
(``wellapi.store.idempotency``). A rejected request writes nothing. ``write`` and ``nested``
declare their routes on it; neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

import pg8000.dbapi

from wellapi.errors import (
    ApiError,
    Conflict,
    ErrorList,
    Forbidden,
    NotFound,
    OutsidePeriods,
    Unprocessable,
    constraint_of,
    outside_periods,
    sqlstate_of,
)
from wellapi.http.principal import Principal, check_scope
from wellapi.http.request import IDEMPOTENCY_KEY, ParsedRequest
from wellapi.http.response import Response, document_response
from wellapi.jsonapi.document import resource_document
from wellapi.jsonapi.ids import new_id
from wellapi.jsonapi.query import ReadQuery
from wellapi.operations import archived_part, document_params, linker, missing, object_writer
from wellapi.resources import Resource
from wellapi.resources.changes import ResourceDocument, WriteKind
from wellapi.resources.conditions import constant, qualified, slot
from wellapi.resources.rules import KEEPS_PREFIX, READ_ONLY_PREFIX
from wellapi.sqltext.statements import read_template, write_plan
from wellapi.store import connections, idempotency
from wellapi.store.rows import ReadRow, WriteOutcome
from wellapi.store.shapes import ReadShape, WritePlan, WriteShape, write_params
from wellapi.store.sql import Script, ScriptPart, Statement

# The name of the write statement's part in a request's script.
WRITE_PART = "write"
# The part after a create's write that checks the id the client generated
# (core_api.check_client_id).
CLIENT_ID_PART = "client id"
# The SQLSTATE it raises when a row of the table has the id and this request did not write it.
ID_USED_SQLSTATE = "WI409"


# The header that marks an answer given again to a retry (docs/api.md, "Retry-safe creates").
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Written:
    created: bool
    rows: list[ReadRow]
    # The first answer to this Idempotency-Key, given again: nothing was written this time.
    replayed: bool = False


def may_write(resource: Resource, principal: Principal) -> None:
    """Every write route's ``RequestSpec.permit``: the ledgers are written by services only."""
    if not principal.is_service and not resource.rules.members_may_write:
        raise Forbidden(f"{resource.type} rows are written by the connector sync pipeline only.")


class TargetNotFound(NotFound):
    """The row the path's id names is not there for the caller (``missing`` says how)."""


def _raise_for(row: list[Any], plan: WritePlan, kind: WriteKind, resource: Resource) -> bool:
    """Turn the outcome row into the first failed rule's error; return whether it created."""
    outcome = WriteOutcome.read(
        kind, plan.outcome, row, relationships=plan.relationships, checks=plan.checks
    )
    if not outcome.found_target:
        raise TargetNotFound(f"No {resource.type} here with that id.")
    for name in plan.relationships:
        if not outcome.found[name]:
            raise NotFound(
                f"The {name} this request points at does not exist.",
                pointer=f"/data/relationships/{name}",
            )
    rules = resource.rules
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


def _judged(
    answer: dict[str, list[list[Any]]], plan: WritePlan, kind: WriteKind, resource: Resource
) -> bool:
    """``_raise_for`` on the write's outcome row, a missing target told as ``missing`` says
    (410 for an id of an archived period, whose check rode in the script)."""
    (outcome,) = answer[WRITE_PART]
    try:
        return _raise_for(outcome, plan, kind, resource)
    except TargetNotFound as error:
        raise missing(answer, error.detail) from None


def _errors(answers: Iterable[ApiError | ErrorList]) -> list[ApiError]:
    errors: list[ApiError] = []
    for answer in answers:
        errors += answer.errors if isinstance(answer, ErrorList) else [answer]
    return errors


def _database_rule_error(error: pg8000.dbapi.DatabaseError, resource: Resource) -> ApiError | None:
    state = sqlstate_of(error)
    if state == idempotency.REUSED_SQLSTATE:
        return Unprocessable(
            f"This {IDEMPOTENCY_KEY} was sent with another request; a retry repeats the first "
            "request exactly, and another request takes a new key.",
            code="IDEMPOTENCY_KEY_REUSED",
            header=IDEMPOTENCY_KEY,
        )
    if state == ID_USED_SQLSTATE:
        return Conflict(
            "This id is already used: a client-generated id names a new resource. Nothing was "
            "written.",
            pointer="/data/id",
            code="ID_ALREADY_USED",
        )
    if state == "23505":
        return resource.rules.conflict(resource)
    if outside_periods(error):
        return OutsidePeriods.from_database()
    if state == "23514":
        constraint = constraint_of(error)
        return resource.rules.constraint_error(constraint) or Unprocessable(
            f"The change breaks the rule {constraint or 'of this resource'}.",
            pointer="/data/attributes",
        )
    return None


def client_id_part(request: ParsedRequest, client_id: UUID) -> ScriptPart:
    """Roll the create back when ``client_id`` is a row's that this request did not write.

    The create inserts with ON CONFLICT DO NOTHING, so an id in use writes nothing without
    saying why; the check runs as the table's owner, who sees every tenant's and every
    soft-deleted row (``core_api.check_client_id``).
    """
    sql = client_id_template(request.resource.table.name).bind({"client_id": client_id})
    return ScriptPart(CLIENT_ID_PART, sql, "one")


@lru_cache(maxsize=32)
def client_id_template(table: str) -> Statement:
    """``core_api.check_client_id`` over ``table``, for the id in the slot ``client_id``."""
    return Statement(
        f"SELECT core_api.check_client_id({constant(qualified(table))}::regclass, "
        f"{slot('client_id', 'uuid')})"
    )


class Reread(NamedTuple):
    """What a write reads back: the read's shape, the query whose ``fields`` and ``include``
    its documents keep, and its values."""

    shape: ReadShape
    query: ReadQuery
    params: dict[str, Any]


def run_write(
    request: ParsedRequest,
    shape: WriteShape,
    params: dict[str, Any],
    reread: Reread | None,
    *,
    client_id: UUID | None = None,
) -> Written:
    """Send the write and raise what its outcome row refuses; with ``reread`` (a create's or
    an update's), the row the write leaves, as that read shows it, answered by the write's
    own statement.

    With an ``Idempotency-Key`` (a create's), the key is claimed before the write and a
    re-read is kept as its answer after it, in the same script (``wellapi.store.idempotency``):
    a retry is answered from the first request's rows and writes nothing. With a
    ``client_id`` (a create's client-generated id), an id in use rolls the script back: 409.
    """
    principal = request.principal
    keyed = request.idempotency if reread is not None else None
    if reread is not None and keyed is None:
        # The write's statement answers with the row it leaves: no statement reads it back.
        shape = replace(shape, answers=reread.shape)
    plan = write_plan(shape)
    parts = [principal.scope_part()]
    if keyed is not None:
        parts.append(idempotency.claim_part(keyed.key, keyed.fingerprint))
    parts.append(ScriptPart(WRITE_PART, plan.template.bind(params), "one"))
    if shape.kind != "create":
        parts += archived_part(request.resource, params.get("row_id"))
    if client_id is not None:
        parts.append(client_id_part(request, client_id))
    layout = writer = None
    if plan.answer is not None and reread is not None:
        # Answered with values, as a read is: the function writes the documents.
        layout, writer = plan.answer, object_writer(request, reread.query)
    elif reread is not None and keyed is not None:
        # The statement writes the documents: the key keeps those rows, which the release
        # before this one replays as JSON text.
        read, layout = read_template(replace(reread.shape, documents_in_sql=True))
        parts.append(
            idempotency.stored_response_part(
                keyed.key,
                request.resource.table.name,
                read,
                reread.params | document_params(request, reread.query),
                layout,
                minted=params["row_id"],
            )
        )
    request_script = Script(tuple(parts))
    try:
        # Not retried on a dropped connection: the first attempt may have committed.
        answer = request_script.split(
            connections.execute(request_script.statements, retry=False, prove=principal.prove)
        )
    except pg8000.dbapi.DatabaseError as error:
        mapped = _database_rule_error(error, request.resource)
        if mapped is None:
            raise
        raise mapped from error
    check_scope(answer, request.query.workspace_parameter, path=request.path_workspace is not None)
    if keyed is not None and layout is not None:
        (claimed,) = answer[idempotency.CLAIM_PART]
        claim = idempotency.Claim._make(claimed)
        if claim.replayed and claim.rows is not None:
            # The write ran in no scope and wrote nothing: the first answer stands.
            return Written(claim.status == 201, idempotency.decoded(claim.rows, layout), True)
    (outcome,) = answer[WRITE_PART]
    created = _judged(answer, plan, shape.kind, request.resource)
    if layout is None:
        return Written(created, [])
    if plan.answer is not None:
        # NULLs where the row would not be read back either (a parent the caller cannot see).
        shown = outcome[plan.answer.columns.id] is not None
        return Written(created, layout.rows([outcome], writer) if shown else [])
    (kept,) = answer[idempotency.ANSWER_PART]
    answer_rows = idempotency.StoredResponse._make(kept).rows
    return Written(created, idempotency.decoded(answer_rows, layout))


def respond(
    request: ParsedRequest,
    query: ReadQuery,
    rows: list[ReadRow],
    status: int,
    *,
    replayed: bool = False,
) -> Response:
    """The row as committed, read as ``query`` reads it: 201 with its location, or 200."""
    row = rows[0]
    self_link = linker(request).item(request.resource, row.id)
    headers = {"Location": self_link} if status == 201 else {}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return document_response(status, resource_document(row, query, self_link), headers)


def write_one(
    request: ParsedRequest, kind: WriteKind, document: ResourceDocument, row_id: UUID
) -> Response:
    """Create or update one row by id and answer with it as committed."""
    service = request.principal.is_service
    shape = WriteShape.of(request.resource, kind, document, service)
    read_shape = ReadShape.of(request.resource, request.query, single=True, service=service)
    result = run_write(
        request,
        shape,
        write_params(document, row_id=row_id),
        Reread(read_shape, request.query, {"row_id": row_id}),
        client_id=document.client_id,
    )
    if not result.rows:
        # The row the write leaves is not one the caller may read (``run_write``).
        raise NotFound(f"No {request.resource.type} here with that id.")
    status = 201 if kind == "create" else 200
    return respond(request, request.query, result.rows, status, replayed=result.replayed)


def create_one(request: ParsedRequest) -> Response:
    """Create the row the document describes, under the id the client generated or a new one."""
    document = request.resource.rules.normalise(request.sent(), "create")
    return write_one(request, "create", document, document.client_id or new_id())


def delete_one(request: ParsedRequest) -> Response:
    """Soft delete, addressed by id or (nested routes) by the parents the path names."""
    target = dict(request.parents) or None
    shape = WriteShape.of(
        request.resource,
        "delete",
        ResourceDocument(),
        request.principal.is_service,
        target_by=tuple(sorted(target or {})),
    )
    row_id = None if target else request.row_id
    run_write(request, shape, write_params(ResourceDocument(), row_id=row_id, target=target), None)
    return document_response(204, None)
