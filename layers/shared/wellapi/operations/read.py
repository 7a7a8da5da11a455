"""List and Retrieve: one round trip each, holding the scope statement and one SELECT."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

from wellapi import db
from wellapi.errors import BadRequest, NotFound
from wellapi.jsonapi import CURSOR_PROFILE, MEDIA_TYPE
from wellapi.jsonapi.cursor import Cursor
from wellapi.jsonapi.document import DocumentBuilder, Linker
from wellapi.jsonapi.ids import canonical_uuid
from wellapi.jsonapi.media import check_accept
from wellapi.jsonapi.query import ReadQuery, parse_read_query
from wellapi.operations import WORKSPACE_PROVIDERS_ROUTE, Operation
from wellapi.principal import Principal, check_scope
from wellapi.request import Request
from wellapi.resources import PROVIDER_CATALOG, Resource
from wellapi.response import Response, document_response
from wellapi.rows import ReadRow
from wellapi.shapes import ReadShape, read_params
from wellapi.sql import Script, ScriptPart
from wellapi.statements import read_template

COLLECTION_MEDIA_TYPE = f'{MEDIA_TYPE}; profile="{CURSOR_PROFILE}"'
# The name of the read's part in a request's script (a write's re-read goes by it too).
READ_PART = "read"


def scoped_principal(
    request: Request, query: ReadQuery, path_workspace: str | None = None
) -> Principal:
    """The caller, moved to the workspace the URL or the query names, if any."""
    principal = request.principal()
    if path_workspace is not None:
        workspace = canonical_uuid(path_workspace)
        if workspace is None:
            raise NotFound("No such workspace.")
        return principal.in_workspace(workspace)
    return principal.in_workspace(query.workspace_id)


def fetch(
    request: Request,
    resource: Resource,
    query: ReadQuery,
    params: dict[str, Any],
    *,
    single: bool,
    path_workspace: str | None = None,
) -> list[ReadRow]:
    principal = scoped_principal(request, query, path_workspace)
    shape = ReadShape.of(resource, query, single=single, service=principal.is_service)
    template, layout = read_template(shape)
    request_script = Script(
        (principal.scope_part(), ScriptPart(READ_PART, template.render(params), "rows"))
    )
    answer = request_script.split(db.execute(request_script.text, seal=principal.seal))
    check_scope(answer, query.workspace_parameter, path=path_workspace is not None)
    return layout.rows(answer[READ_PART])


def linker(request: Request, query: ReadQuery, path_workspace: str | None = None) -> Linker:
    """Links for this answer, carrying the workspace the request named (in the query or path)."""
    workspace = query.workspace_id
    if workspace is None and path_workspace is not None:
        workspace = canonical_uuid(path_workspace)
    return Linker(request.base_url, workspace)


def path_id(request: Request, name: str) -> UUID:
    """A UUID from the URL path, or 400 naming the path parameter.

    A path segment is not a query parameter: JSON:API's ``source.parameter`` would misname it
    (a nested route's ``workspace_id`` segment is not the ``workspace_id`` query parameter), so
    the segment is named in ``meta.path_parameter``.
    """
    raw = request.path_parameters.get(name, "")
    parsed = canonical_uuid(raw)
    if parsed is None:
        raise BadRequest(
            f"'{raw}' is not a UUID.", code="INVALID_ID", meta={"path_parameter": name}
        )
    return parsed


def parse_id(request: Request) -> UUID:
    return path_id(request, "id")


def retrieve_row(resource: Resource, request: Request) -> Response:
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "retrieve")
    builder, row = read_one(resource, request, query)
    return document_response(200, builder.single(row, request.url))


def read_one(
    resource: Resource, request: Request, query: ReadQuery
) -> tuple[DocumentBuilder, ReadRow]:
    """The row the path's id names, as ``query`` reads it, and the builder of its documents."""
    row_id = parse_id(request)
    rows = fetch(request, resource, query, read_params(query, row_id=row_id), single=True)
    if not rows:
        raise NotFound(f"No {resource.type} with id {row_id}.")
    return DocumentBuilder(resource, query, linker(request, query)), rows[0]


def _page_link(request: Request, replace: dict[str, str]) -> str:
    kept = [
        (k, v)
        for k, v in parse_qsl(request.raw_query, keep_blank_values=True)
        if k not in ("page[after]", "page[before]")
    ]
    kept += list(replace.items())
    return f"{request.base_url}{request.path}?{urlencode(kept, safe='[],')}"


def list_rows(
    resource: Resource, request: Request, *, path_workspace: str | None = None
) -> Response:
    check_accept(request.header("accept"))
    query = parse_read_query(resource, request.raw_query, "list")
    rows = fetch(
        request, resource, query, read_params(query), single=False, path_workspace=path_workspace
    )
    has_more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    if query.before is not None:
        rows.reverse()

    def cursor(row: ReadRow) -> str:
        return Cursor(query.sort_token, row.attribute(query.sort), row.id).encode()

    next_link: str | None = None
    prev_link: str | None = None
    if rows:
        # Walking forward, more rows lie ahead only if the extra row came back; walking
        # backward (page[before]) the cursor row itself lies ahead.
        if (query.before is None and has_more) or query.before is not None:
            next_link = _page_link(request, {"page[after]": cursor(rows[-1])})
        if (query.before is not None and has_more) or query.after is not None:
            prev_link = _page_link(request, {"page[before]": cursor(rows[0])})
    builder = DocumentBuilder(resource, query, linker(request, query, path_workspace))
    links = {"self": request.url, "prev": prev_link, "next": next_link}
    document = builder.collection(rows, links)
    return document_response(200, document, media_type=COLLECTION_MEDIA_TYPE)


def provider_catalog(_resource: Resource, request: Request) -> Response:
    """GET /v1/workspaces/{workspace_id}/providers: the catalog as that workspace sees it."""
    workspace = str(path_id(request, "workspace_id"))
    return list_rows(PROVIDER_CATALOG, request, path_workspace=workspace)


LIST = Operation("list", "GET", list_rows)
RETRIEVE = Operation("retrieve", "GET", retrieve_row, item=True)
CATALOG = Operation("catalog", "GET", provider_catalog, route=WORKSPACE_PROVIDERS_ROUTE)
