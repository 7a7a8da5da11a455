"""List and Retrieve: one round trip each, holding the scope statement and one SELECT."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from wellapi.http.request import ROW_ID, ParsedRequest, PathId, RequestSpec
from wellapi.http.response import Response, document_response
from wellapi.jsonapi.cursor import Cursor
from wellapi.jsonapi.document import collection_document, resource_document
from wellapi.jsonapi.query import MAX_PAGE_DEPTH, PAGE_NUMBER_PARAMETER, ReadQuery
from wellapi.operations import (
    COLLECTION_MEDIA_TYPE,
    WORKSPACE_PROVIDERS_ROUTE,
    Operation,
    Page,
    fetch_page,
    page_link,
    read_one,
)
from wellapi.resources import PROVIDER_CATALOG
from wellapi.store.rows import ReadRow
from wellapi.store.shapes import read_params

# A List's meta.total is exact up to this many rows; beyond, it says TOTAL_BOUND and
# total_is_lower_bound: true. Counting reads at most TOTAL_BOUND + 1 rows of the List's index scans
# (docs/performance.md "Counting a List").
TOTAL_BOUND = 1000

# A collection's links by name; a page link is null where there is no such page.
Links = dict[str, str | None]


def retrieve_row(request: ParsedRequest) -> Response:
    return document_response(200, resource_document(read_one(request), request.query, request.url))


def _page(request: ParsedRequest) -> Page:
    """The List's total, counted to one past ``TOTAL_BOUND`` at most, and its page's rows
    (one more than the page when more lie ahead)."""
    params = read_params(request.query) | {"total_limit": TOTAL_BOUND + 1}
    return fetch_page(request, params)


def _cursor_parameter(query: ReadQuery, row: ReadRow, *, backward: bool) -> dict[str, str]:
    """The page link's cursor parameter, in the form the request paged with (a numbered
    page's, past ``MAX_PAGE_DEPTH``, in the profile's)."""
    flat = query.pagination == "flat"
    value = datetime.fromisoformat(row.attribute(query.sort))
    token = Cursor(query.sort_token, value, UUID(row.id), flat and backward)
    name = "cursor" if flat else "page[before]" if backward else "page[after]"
    return {name: token.encode()}


def _cursor_links(request: ParsedRequest, rows: list[ReadRow], has_more: bool) -> Links:
    query = request.query
    links: Links = {"prev": None, "next": None}
    if rows:
        # Paging forward, more rows lie ahead only if the extra row came back; paging
        # backward (page[before]) the cursor row itself lies ahead.
        if (query.before is None and has_more) or query.before is not None:
            links["next"] = page_link(request, _cursor_parameter(query, rows[-1], backward=False))
        if (query.before is not None and has_more) or query.after is not None:
            links["prev"] = page_link(request, _cursor_parameter(query, rows[0], backward=True))
    return links


def _number_links(request: ParsedRequest, rows: list[ReadRow], has_more: bool, total: int) -> Links:
    """A numbered page's links: first, prev, next, and last when the total is exact and the
    last page is within reach; past ``MAX_PAGE_DEPTH`` next is a cursor."""
    query = request.query
    number, size = query.page_number or 1, query.page_size

    def numbered(n: int) -> str:
        return page_link(request, {PAGE_NUMBER_PARAMETER: str(n)})

    links: Links = {"first": numbered(1), "last": None, "prev": None, "next": None}
    if number > 1:
        links["prev"] = numbered(number - 1)
    if rows and has_more:
        within = number * size < MAX_PAGE_DEPTH
        after = _cursor_parameter(query, rows[-1], backward=False)
        links["next"] = numbered(number + 1) if within else page_link(request, after)
    last = max(1, -(-total // size))
    if total <= TOTAL_BOUND and (last - 1) * size < MAX_PAGE_DEPTH:
        links["last"] = numbered(last)
    return links


def list_rows(request: ParsedRequest) -> Response:
    query = request.query
    page = _page(request)
    total, rows = page.total, page.rows
    has_more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    if query.before is not None:
        rows.reverse()
    if query.pagination == "number":
        pages = _number_links(request, rows, has_more, total)
    else:
        pages = _cursor_links(request, rows, has_more)
    links: Links = {"self": request.url, **pages}
    # The platform's counts: how many rows this page holds, and the List's pages in all.
    meta: dict[str, int | bool | str | None] = {
        "total": min(total, TOTAL_BOUND),
        "count": len(rows),
    }
    if total > TOTAL_BOUND:
        meta["total_is_lower_bound"] = True
    if request.resource.time_ordered_id:
        # Where the ledger's kept rows begin: before it, the archive holds them (or none).
        meta["archived_before"] = page.archived_before
    document = collection_document(rows, query, links, meta)
    return document_response(200, document, media_type=COLLECTION_MEDIA_TYPE)


LIST = Operation("list", "GET", list_rows, RequestSpec("list"))
RETRIEVE = Operation(
    "retrieve", "GET", retrieve_row, RequestSpec("retrieve", ids=(ROW_ID,)), item=True
)
# GET /v1/workspaces/{workspace_id}/providers: the catalog, listed as that workspace sees it
# (the path's workspace is the one it is read for, not a relationship of it).
CATALOG = Operation(
    "catalog",
    "GET",
    list_rows,
    RequestSpec(
        "list", ids=(PathId("workspace_id"),), scope="workspace_id", reads=PROVIDER_CATALOG
    ),
    route=WORKSPACE_PROVIDERS_ROUTE,
)
