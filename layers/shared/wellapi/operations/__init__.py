"""The operations every function is built from. Each reads a resource description; none is
written per resource.

An operation is declared beside its code (``read``, ``write``, ``related``, ``nested``), with
what it reads from a request (``RequestSpec``), and a function file imports the one it serves:
``api_handler("<resource>", LIST)``, so every static tool follows a request from its function
to its SQL. The handler parses the request once (``wellapi.http.request.parse_request``) and the
operation runs on that ``ParsedRequest``. A function loads only its own operation's module (a read
never loads the write path and its SQL builders); what several share is here (the read every
answer is made of) or in ``conditional_write`` (the write every write route makes), never in another
operation's module. ``wellapi.operations.registry`` lists them all, for what needs every
route (the template, the OpenAPI document, the tests); no function imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from wellapi.errors import ApiError, NotFound, PeriodArchived
from wellapi.http.principal import check_scope
from wellapi.http.request import ParsedRequest, RequestSpec
from wellapi.http.response import Response
from wellapi.jsonapi import CURSOR_PROFILE, MEDIA_TYPE
from wellapi.jsonapi.document import Linker, ObjectWriter, document_values
from wellapi.jsonapi.ids import time_of
from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import Resource
from wellapi.settings import get_settings
from wellapi.sqltext.statements import read_template, total_template
from wellapi.store import connections
from wellapi.store.rows import ReadRow
from wellapi.store.shapes import ReadShape, read_params
from wellapi.store.sql import Script, ScriptPart, Statement

Run = Callable[[ParsedRequest], Response]

# The platform's nested routes.
WORKSPACE_PROVIDERS_ROUTE = "/v1/workspaces/{workspace_id}/providers"
GROUP_WORKSPACES_ROUTE = "/v1/workspace-groups/{workspace_group_id}/workspaces"
# The changes feed: the one route of its resource.
CHANGES_ROUTE = "/v1/changes"
# A collection's answer: JSON:API with the cursor pagination profile it pages by.
COLLECTION_MEDIA_TYPE = f'{MEDIA_TYPE}; profile="{CURSOR_PROFILE}"'
# The name of the read's part in a request's script.
READ_PART = "read"
# A List's total, counted in the same script.
TOTAL_PART = "total"
# The archived period a ledger id's time falls in (docs/archive.md): one row, NULLs for none.
ARCHIVED_PART = "archived"
# The end of a ledger's newest archived period (NULL for none): where its Lists begin.
ARCHIVED_BEFORE_PART = "archived_before"
ARCHIVED_BEFORE = Statement("SELECT core_api.archived_before(%(ledger)s::text)")
ARCHIVED_PERIOD = Statement(
    "SELECT p.starts_at, p.ends_at FROM (SELECT) AS one LEFT JOIN "
    "core_api.archived_period_of(%(ledger)s::text, %(id)s::uuid) AS p ON true"
)


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    # What answers a request: the operation's own function in its module.
    run: Run
    # What the handler reads from the request before ``run`` is called.
    request_spec: RequestSpec
    item: bool = False
    # A fixed route (the platform's nested routes); otherwise /v1/<resource path>[/{id}].
    route: str | None = None
    # What follows /{id} on an item's route: the related-resource and relationship routes.
    suffix: str = ""

    def path(self, resource: Resource) -> str:
        if self.route is not None:
            return self.route
        base = f"/v1/{resource.path}"
        return base + "/{id}" + self.suffix if self.item else base


def fetch(request: ParsedRequest, params: dict[str, Any], *, single: bool) -> list[ReadRow]:
    """The rows ``request.query`` reads, in one round trip with the scope statement."""
    return _fetch(request, params, single=single, total=False)[0]


@dataclass(frozen=True)
class Page:
    """A List's rows, its total counted up to ``params["total_limit"]``, and for a ledger
    whose deployment archives, the end of its newest archived period (``archived_before``)."""

    rows: list[ReadRow]
    total: int
    archived_before: str | None = None


def fetch_page(request: ParsedRequest, params: dict[str, Any]) -> Page:
    """A List's page: the scope statement, the total, the archive's bound (a ledger's, when
    the deployment archives) and the page in one script, one round trip."""
    resource = request.resource
    archives = resource.time_ordered_id and get_settings().ledger_retention_days > 0
    bound = ARCHIVED_BEFORE.bind({"ledger": resource.table.name})
    extra = [ScriptPart(ARCHIVED_BEFORE_PART, bound, "one")] if archives else []
    rows, total, answer = _fetch(request, params, single=False, total=True, extra=extra)
    assert total is not None
    ((before,),) = answer.get(ARCHIVED_BEFORE_PART) or [[None]]
    return Page(rows, total, None if before is None else _api_instant(before))


def _fetch(
    request: ParsedRequest,
    params: dict[str, Any],
    *,
    single: bool,
    total: bool,
    extra: Sequence[ScriptPart] = (),
) -> tuple[list[ReadRow], int | None, dict[str, list[list[Any]]]]:
    principal = request.principal
    shape = ReadShape.of(
        request.resource, request.query, single=single, service=principal.is_service
    )
    template, layout = read_template(shape)
    parts = [principal.scope_part()]
    if total:
        parts.append(ScriptPart(TOTAL_PART, total_template(shape).bind(params), "one"))
    parts += [*extra, ScriptPart(READ_PART, template.bind(params), "rows")]
    request_script = Script(tuple(parts))
    answer = request_script.split(connections.read(request_script.statements, principal.prove))
    check_scope(answer, request.query.workspace_parameter, path=request.path_workspace is not None)
    counted = int(answer[TOTAL_PART][0][0]) if total else None
    return layout.rows(answer[READ_PART], object_writer(request)), counted, answer


def page_link(request: ParsedRequest, replace: dict[str, str]) -> str:
    """The request's URL with its cursor parameter replaced: a page link of a collection."""
    kept = request.kept_parameters() + list(replace.items())
    return f"{request.base_url}{request.path}?{urlencode(kept, safe='[],')}"


def linker(request: ParsedRequest) -> Linker:
    """Links for this answer, carrying the workspace the request named (in the query or path)."""
    workspace = request.query.workspace_id
    if workspace is None:
        workspace = request.path_workspace
    return Linker(request.base_url, workspace)


def object_writer(request: ParsedRequest, query: ReadQuery | None = None) -> ObjectWriter:
    """What writes a read's resource objects and included records for this request: its
    resource, the fields it keeps and what it includes (of ``query``, by default the
    request's own), its links."""
    return ObjectWriter(request.resource, query or request.query, linker(request))


def document_params(request: ParsedRequest, query: ReadQuery | None = None) -> dict[str, Any]:
    """What a keyed create's re-read needs to write its documents in SQL for this request: the
    links' base and workspace, the fields kept (of ``query``, by default the request's own)."""
    return document_values(request.resource, query or request.query, linker(request))


def read_one(request: ParsedRequest) -> ReadRow:
    """The row the path's id names, as the request's query reads it."""
    row_id = request.row_id
    params = read_params(request.query, row_id=row_id)
    extra = archived_part(request.resource, row_id)
    rows, _, answer = _fetch(request, params, single=True, total=False, extra=extra)
    if not rows:
        raise missing(answer, f"No {request.resource.type} with id {row_id}.")
    return rows[0]


def archived_part(resource: Resource, row_id: UUID | None) -> list[ScriptPart]:
    """In the request's own script, whether the archive took the period of a ledger id: only
    for an id older than the deployment's retention (``LEDGER_RETENTION_DAYS``), the only ids
    it can have taken, so a request of any other costs nothing more."""
    days = get_settings().ledger_retention_days
    at = time_of(row_id) if resource.time_ordered_id and row_id is not None else None
    if days <= 0 or at is None or at >= datetime.now(UTC) - timedelta(days=days):
        return []
    statement = ARCHIVED_PERIOD.bind({"ledger": resource.table.name, "id": str(row_id)})
    return [ScriptPart(ARCHIVED_PART, statement, "one")]


def missing(answer: dict[str, list[list[Any]]], detail: str) -> ApiError:
    """What an id no row answers is: 404, or 410 ``PERIOD_ARCHIVED`` when the request's
    ``archived_part`` found its period archived. The same for every caller: the rows are
    gone, so whether one existed, and whose, is not known."""
    ((starts, ends),) = answer.get(ARCHIVED_PART) or [[None, None]]
    if starts is None:
        return NotFound(detail)
    period = {"starts_at": _api_instant(starts), "ends_at": _api_instant(ends)}
    return PeriodArchived(
        f"The period of this id, from {period['starts_at']} to {period['ends_at']}, is "
        "archived: its rows are no longer served.",
        meta={"period": period},
    )


def _api_instant(moment: datetime) -> str:
    """An instant as the API writes one (``created_at``'s form, in UTC)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
