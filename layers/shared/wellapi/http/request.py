"""A request, parsed once: the ``ParsedRequest`` every operation receives.

``request_from_event`` takes the parts of an API Gateway HTTP API (payload 2.0) event the API
reads; ``parse_request`` parses them as the operation declares (its ``RequestSpec``: a query of
which kind, a body of which mode, which ids the path holds) into one frozen ``ParsedRequest``:
the principal scoped to its workspace, the path's ids as UUIDs, the query, the document. An
operation takes the ``ParsedRequest`` and parses nothing.

A request broken in several ways is answered with the first of these, on every route alike:

1. authentication: claims that name no principal are 401 (503 when the authorizer could not
   reach the key store), so an anonymous caller learns nothing else;
2. the route: one the caller may never use is 403 whatever else the request holds (a member
   writing a ledger, a PATCH of an enrolment); then the relationship a related or
   relationship route names (404 ``UNKNOWN_RELATIONSHIP``); then each id of the path, in the
   route's order (400 ``INVALID_ID``);
3. content negotiation: ``Accept`` (406), then ``Content-Type`` where the route reads a body
   (415);
4. the query string (400);
5. the body: its transfer encoding (400), its size (413) and JSON (400), then the document's
   problems in the order ``wellapi.jsonapi.body`` reports them (400, 409, 403, 422);
6. on a create route, an ``Idempotency-Key`` header that is empty or too long (400
   ``INVALID_IDEMPOTENCY_KEY``, ``source.header``): last, so a request without the header is
   answered exactly as before it existed.

What the database decides (whether the principal may act in the workspace, whether the row is
there, a write's rules) comes after all of these, in the request's one round trip.

Below the operations, which take a ``ParsedRequest``, and ``wellapi.handlers.api``, which
makes one: the handler imports the operations, so what both use lives in this package, below both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from uuid import UUID

from wellapi.errors import BadRequest, NotFound
from wellapi.http.principal import Principal, principal_from_claims
from wellapi.jsonapi.ids import canonical_uuid
from wellapi.jsonapi.media import check_accept, check_content_type
from wellapi.jsonapi.query import ReadKind, ReadQuery, parse_read_query
from wellapi.resources import Relationship, Resource
from wellapi.settings import get_settings

if TYPE_CHECKING:
    from wellapi.jsonapi.body import DocumentBody
    from wellapi.resources.changes import ResourceDocument

# The query parameters a page link replaces; it carries every other one over as sent.
CURSOR_PARAMETERS = ("page[after]", "page[before]", "page[number]", "cursor")
# The header a create's retry repeats (docs/api.md, "Retry-safe creates"), and its bounds.
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True)
class Request:
    """The parts of an event the API reads, as sent: nothing here is checked yet."""

    path: str
    raw_query: str
    headers: dict[str, str]
    path_parameters: dict[str, str]
    body: str | None
    body_base64: bool
    claims: Any
    base_url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _base_url(headers: dict[str, str], context: dict[str, Any]) -> str:
    configured = get_settings().api_base_url
    if configured:
        return configured.rstrip("/")
    host = headers.get("host") or str(context.get("domainName") or "localhost")
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{scheme}://{host}"


def request_from_event(event: dict[str, Any]) -> Request:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw_body = event.get("body")
    authorizer = context.get("authorizer") or {}
    return Request(
        path=str(event.get("rawPath") or http.get("path") or "/"),
        raw_query=str(event.get("rawQueryString") or ""),
        headers=headers,
        path_parameters={str(k): str(v) for k, v in (event.get("pathParameters") or {}).items()},
        body=None if raw_body is None else str(raw_body),
        body_base64=bool(event.get("isBase64Encoded")),
        claims=authorizer.get("lambda"),
        base_url=_base_url(headers, context),
    )


@dataclass(frozen=True)
class PathId:
    """An id in a route's path, ``{parameter}``: the row's own, or a parent's."""

    parameter: str
    # The relationship whose parent it names: a nested route's body takes it, or its delete
    # finds the row by it. None: the row's own id.
    relationship: str | None = None


ROW_ID = PathId("id")

# Refuses (403) a caller the route never serves, whatever the request names or sends.
Permit = Callable[[Resource, Principal], None]


@dataclass(frozen=True)
class RequestSpec:
    """What an operation reads from a request, declared beside it (``Operation.request_spec``)."""

    # Every route reads a query string: a write's is that of the Retrieve it answers with.
    query: ReadKind
    body: DocumentBody | None = None
    # In the route's order, which is the order their errors are reported in.
    ids: tuple[PathId, ...] = ()
    # The path's ``{relationship}`` names one of the resource's relationships.
    relationship: bool = False
    # The path parameter naming the workspace the principal acts in (a nested route's).
    scope: str | None = None
    permit: Permit | None = None
    # What the route reads when it is not the function's resource (the provider catalog).
    reads: Resource | None = None
    # A create: it takes an ``Idempotency-Key`` and a retry with it is answered, not applied.
    idempotent: bool = False


@dataclass(frozen=True)
class Idempotency:
    """A create's ``Idempotency-Key`` and the fingerprint of what it was sent with."""

    key: str
    # SHA-256 of the path, the query string, the workspace and the body's bytes: the same key
    # with anything else is another request (422 ``IDEMPOTENCY_KEY_REUSED``).
    fingerprint: str


@dataclass(frozen=True)
class ParsedRequest:
    """A request as parsed: what an operation reads, checked and typed, and nothing raw."""

    resource: Resource
    # Authenticated, and moved to the workspace the path or the query names.
    principal: Principal
    query: ReadQuery
    base_url: str
    path: str
    raw_query: str
    # The path's ids by parameter, and those naming a parent by relationship.
    ids: Mapping[str, UUID] = field(default_factory=dict)
    parents: Mapping[str, UUID] = field(default_factory=dict)
    relationship: Relationship | None = None
    # The workspace a nested route's path names: out of scope there, it is 404, not 403.
    path_workspace: UUID | None = None
    document: ResourceDocument | None = None
    idempotency: Idempotency | None = None

    @property
    def url(self) -> str:
        return self.base_url + self.path + (f"?{self.raw_query}" if self.raw_query else "")

    @property
    def row_id(self) -> UUID:
        """The row an item route's path names."""
        return self.ids[ROW_ID.parameter]

    def sent(self) -> ResourceDocument:
        """The request's document, on a route that declared a body."""
        if self.document is None:
            raise LookupError("this route reads no body")
        return self.document

    def kept_parameters(self) -> list[tuple[str, str]]:
        """The query's parameters a page link carries over: all but the cursor."""
        # The query was parsed strictly already: it is UTF-8, so nothing is replaced here.
        pairs = parse_qsl(self.raw_query, keep_blank_values=True)
        return [(k, v) for k, v in pairs if k not in CURSOR_PARAMETERS]


def _path_id(request: Request, name: str) -> UUID:
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

    The record is read as ``include`` reads it: the same visibility, the same composed SQL.
    """
    asked = parse_read_query(resource, raw_query, "related", related=relationship.parent)
    return replace(asked, include=(relationship.name,), include_requested=True)


def _body_bytes(request: Request) -> bytes | None:
    if request.body is None:
        return None
    if not request.body_base64:
        return request.body.encode()
    try:
        return base64.b64decode(request.body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadRequest("The request body is not valid base64.") from error


def _idempotency(request: Request, body: bytes | None, workspace_id: UUID) -> Idempotency | None:
    key = request.header(IDEMPOTENCY_KEY)
    if key is None:
        return None
    # Visible ASCII only: no space, which HTTP strips at either end of a field's value.
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX or not all("!" <= c <= "~" for c in key):
        raise BadRequest(
            f"An {IDEMPOTENCY_KEY} is 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters "
            "(no space).",
            code="INVALID_IDEMPOTENCY_KEY",
            header=IDEMPOTENCY_KEY,
        )
    sent = [request.path, request.raw_query, str(workspace_id), (body or b"").hex()]
    fingerprint = hashlib.sha256(json.dumps(sent).encode()).hexdigest()
    return Idempotency(key, fingerprint)


def parse_request(request: Request, resource: Resource, spec: RequestSpec) -> ParsedRequest:
    """The request as ``spec`` declares it, each fault answered in the module's order."""
    principal = principal_from_claims(request.claims)
    read = spec.reads or resource
    if spec.permit is not None:
        spec.permit(read, principal)
    relationship = _relationship(read, request) if spec.relationship else None
    ids = {p.parameter: _path_id(request, p.parameter) for p in spec.ids}
    check_accept(request.header("accept"))
    if spec.body is not None:
        check_content_type(request.header("content-type"))
    if relationship is not None and spec.query == "related":
        query = related_query(read, relationship, request.raw_query)
    else:
        query = parse_read_query(read, request.raw_query, spec.query)
    parents = {p.relationship: ids[p.parameter] for p in spec.ids if p.relationship}
    document = None
    body = None
    if spec.body is not None:
        body = _body_bytes(request)
        document = spec.body.parse(read, body, row_id=ids.get(ROW_ID.parameter), preset=parents)
    path_workspace = ids[spec.scope] if spec.scope is not None else None
    principal = principal.in_workspace(
        query.workspace_id if path_workspace is None else path_workspace
    )
    idempotency = _idempotency(request, body, principal.workspace_id) if spec.idempotent else None
    return ParsedRequest(
        resource=read,
        principal=principal,
        query=query,
        base_url=request.base_url,
        path=request.path,
        raw_query=request.raw_query,
        ids=ids,
        parents=parents,
        relationship=relationship,
        path_workspace=path_workspace,
        document=document,
        idempotency=idempotency,
    )
