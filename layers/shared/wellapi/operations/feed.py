"""The changes feed (``GET /v1/changes``): a workspace's change records in commit order, a page
at a time, forward only, in one round trip with the scope statement (docs/changes.md).

It is scoped as every List is: a member key reads the workspace it acts in, a service key the
one it acts in (its default, or ``workspace_id``), and row-level security repeats the rule. The
page is read by ``wellapi.store.feed``; the page links carry the last record's place. A cursor
behind what retention pruned is 410 ``CURSOR_EXPIRED``, never a page that skips a record.

``links.next`` is null once the consumer has caught up (the last page), as on every List, and
``meta.poll`` is always there: the link to follow later for what commits after this page
(JSON:API allows no other top-level link).
"""

from __future__ import annotations

from typing import NamedTuple

from wellapi.errors import Gone
from wellapi.http.principal import check_scope
from wellapi.http.request import ParsedRequest, RequestSpec
from wellapi.http.response import Response, document_response
from wellapi.jsonapi.cursor import ChangePlace
from wellapi.jsonapi.document import collection_document
from wellapi.operations import (
    CHANGES_ROUTE,
    COLLECTION_MEDIA_TYPE,
    READ_PART,
    Operation,
    page_link,
)
from wellapi.resources import CHANGE_PAIRS
from wellapi.store import connections
from wellapi.store.feed import expired_statement, page_statement
from wellapi.store.sql import Script, ScriptPart

# The name of the cursor check's part in the request's script.
EXPIRED_PART = "expired"


class FeedRow(NamedTuple):
    """A record of a page: its id (its place), and its resource object as JSON text."""

    id: str
    document: str

    def included(self, relationship: str) -> str | None:
        return None


def kept_pairs(request: ParsedRequest) -> tuple[tuple[str, str], ...] | None:
    """The (resource type, change) pairs the request's filters keep; None without such a
    filter."""
    filters = dict(request.query.attribute_filters)
    types, changes = filters.get("resource_type"), filters.get("change")
    if types is None and changes is None:
        return None
    return tuple(
        (t, c)
        for t, c in CHANGE_PAIRS
        if (types is None or t in types) and (changes is None or c in changes)
    )


def feed_rows(request: ParsedRequest) -> Response:
    query = request.query
    principal = request.principal
    position = query.position
    after = (position.xid, position.pk) if position is not None else None
    sync_run = dict(query.attribute_filters).get("sync_run_id")
    page = page_statement(
        after=after,
        limit=query.page_size + 1,
        pairs=kept_pairs(request),
        sync_run_id=str(sync_run[0]) if sync_run else None,
    )
    parts = [principal.scope_part(), ScriptPart(READ_PART, page, "rows")]
    if after is not None:
        parts.append(ScriptPart(EXPIRED_PART, expired_statement(after), "one"))
    request_script = Script(tuple(parts))
    answer = request_script.split(connections.read(request_script.statements, principal.prove))
    check_scope(answer, query.workspace_parameter)
    if after is not None and answer[EXPIRED_PART][0][0]:
        raise Gone(
            "Retention has pruned records after this cursor: following it would skip them. "
            "Read the feed again from its start (without a cursor).",
            parameter="cursor" if query.pagination == "flat" else "page[after]",
        )
    rows = [FeedRow(str(i), str(d)) for i, d in answer[READ_PART]]
    has_more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    # Where to ask for what commits after this page: after its last record, or where this
    # request asked (an empty page). ``next`` is that link while more records are there now.
    poll = request.url
    if rows:
        name = "cursor" if query.pagination == "flat" else "page[after]"
        poll = page_link(request, {name: ChangePlace.of(rows[-1].id).encode()})
    links = {"self": request.url, "prev": None, "next": poll if has_more else None}
    document = collection_document(rows, query, links, {"count": len(rows), "poll": poll})
    return document_response(200, document, media_type=COLLECTION_MEDIA_TYPE)


FEED = Operation("feed", "GET", feed_rows, RequestSpec("feed"), route=CHANGES_ROUTE)
