"""A corpus of hostile requests, every route, over HTTP, against the local server.

What the other suites lack, sent through the server ``wellapi run`` serves (the template, the
key authorizer, the functions as ``well_api``; ``welldev.serving``) with real keys:

- charset (and other) parameters on the JSON:API media type, bodies in other encodings;
- bodies over API Gateway's 10 MB (its own 413, before a byte of the body is read) and over our
  64 KiB (a JSON:API 413);
- JSON nested past what the parser takes, and nesting where a member must be an object;
- SQL and JSON:API meta-characters (``'`` ``"`` ``;`` ``--`` ``%`` ``\\`` NUL ``[`` ``]`` ``,``
  unicode), malformed percent-escapes and invalid UTF-8 in every query parameter a route
  documents (filters, sort, page, include, fields, workspace_id), and in every path id;
- ids that are not canonical UUIDs (braces, URNs, no hyphens, non-ASCII digits...), and
  well-formed UUIDs of other versions than 4 (nil, max, v1, v5), which are ids of nothing;
- ``page[size]`` of 0, negative, 10^9 and other non-numbers;
- meta-characters inside the request document: member names, types, ids, values.

Each answer must be the precise 4xx: a JSON:API error (valid against the JSON:API 1.1 schema)
with the expected status and code, naming the culprit (``source.parameter`` for a query
parameter, ``source.pointer`` for a member of the document, ``source.header`` for a header,
``meta.path_parameter`` for a path segment, which JSON:API has no source member for); or, where
API Gateway answers itself (a body over its 10 MB), its own body; a path no route has is the
``$default`` route's JSON:API 404 (``wellapi.operations.unmatched``). And every core_api table
must be byte for byte what it was (one snapshot before and after each route's share of a
category).

The server runs on a database of its own, so the snapshots stay small. The last test sends
each route's unmutated request and expects it to succeed: the hostile requests differ from a
working request only by what they are testing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import pg8000.native
import pytest

from tests.support import cross_tenant as ct
from tests.support import tenancy as tn
from tests.support.api import JSONAPI
from tests.support.wire import WireReply, send
from wellapi.jsonapi.body import MAX_BODY_BYTES
from wellapi.jsonapi.query import MAX_PAGE_SIZE
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import PROVIDER_CATALOG, RESOURCES, resource_named
from welldev import api_keys
from welldev import database as local_db
from welldev import openapi as spec
from welldev.payload import MAX_REQUEST_BODY_BYTES
from welldev.serving import Served, serving

AUTHENTICATION_COLUMNS = {"api_keys": ("last_used_at", "updated_at")}
ROUTES = spec.ROUTES
DOCUMENT = spec.build_document()

# Values no parameter of this API accepts, as strings (percent-encoded when sent).
META_CHARACTERS = (
    "'",
    '"',
    ";",
    "--",
    "%",
    "\\",
    "\x00",
    "[",
    "]",
    ",",
    "é",
    "\u202e",
    "🙂",
    "' OR '1'='1' --",
    "1; DROP TABLE core_api.workspaces; --",
    "%00",
    "[]",
)
# Sent as written: escapes that do not decode, and one that decodes to invalid UTF-8.
RAW_ESCAPES = ("%", "%zz", "%C3%28", "%FF")
A_UUID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
NOT_CANONICAL_UUIDS = (
    "not-a-uuid",
    "{" + A_UUID + "}",
    "urn:uuid:" + A_UUID,
    A_UUID.replace("-", ""),
    A_UUID.upper().replace("-", "", 1),
    A_UUID + "0",
    A_UUID[:-1],
    A_UUID.replace("6", "\uff16"),  # a full-width digit: int() reads it, a UUID has none
    A_UUID.replace("4", "\u0664"),  # an Arabic-Indic digit
    "0" * 36,
    "-1",
    "1e9",
)
# Whitespace around an id: a list parameter trims its items (``a, b``); elsewhere it is refused.
PADDED_UUIDS = (" " + A_UUID, A_UUID + "\n", "\t" + A_UUID)
OTHER_VERSION_UUIDS = (
    "00000000-0000-0000-0000-000000000000",  # nil
    "ffffffff-ffff-ffff-ffff-ffffffffffff",  # max
    "c232ab00-9414-11ec-b3c8-9e6bdeced846",  # version 1
    "5df41881-3aed-3515-88a7-2f4a814cf09e",  # version 3
    "2ed6657d-e927-568b-95e1-2665a8aea6a2",  # version 5
)
BAD_PAGE_SIZES = ("0", "-1", "-500", "1000000000", "1" + "0" * 100, "1e3", "0x10", "+5", "5.0")
BAD_PAGE_SIZES += (" 5", "\uff15", "\u0665", "", "NaN", "Infinity")  # full-width, Arabic 5


# ---- the routes and a working request of each ------------------------------------------------


@dataclass(frozen=True)
class Route:
    resource: str
    operation: str
    path: str  # with real ids of tenant A
    path_parameters: dict[str, str]
    key: str  # a caller allowed to make the request
    body: dict[str, Any] | None
    query_parameters: tuple[str, ...]  # those the OpenAPI document lists for the route
    success: int

    @property
    def method(self) -> str:
        return OPERATIONS[self.operation].method

    @property
    def template(self) -> str:
        target = PROVIDER_CATALOG if self.operation == "catalog" else resource_named(self.resource)
        return OPERATIONS[self.operation].path(target)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def refuses_every_patch(self) -> bool:
        """Enrolments are never modified: that PATCH is a 403 before anything but the claims
        is read (``wellapi.http.request``'s order), its Accept header included."""
        return self.resource == "workspace_group_workspaces" and self.operation == "update"

    def with_path(self, name: str, raw_segment: str) -> str:
        """The path with one parameter replaced by an already encoded segment."""
        parts = self.template.split("/")
        values = {f"{{{k}}}": v for k, v in self.path_parameters.items()}
        return "/".join(
            raw_segment if part == f"{{{name}}}" else values.get(part, part) for part in parts
        )


def _query_parameters(template: str, method: str) -> tuple[str, ...]:
    operation = DOCUMENT["paths"][template][method.lower()]
    return tuple(p["name"] for p in operation["parameters"] if p["in"] == "query")


def _routes(world: tn.World, member: str, service: str) -> dict[str, Route]:
    """A working request for each of the 40 routes, by tenant A (the service key where only a
    service principal may write), built from the cross-tenant matrix's controls."""
    routes = {}
    for resource, operation in ROUTES:
        _, controls = ct.route_cases((resource, operation), world)
        case = controls[0]
        request = case.request
        key = service if case.caller == ct.SERVICE_A else member
        route = Route(
            resource,
            operation,
            request.path,
            dict(request.path_parameters),
            key,
            request.body,
            (),
            case.expect.status,
        )
        parameters = _query_parameters(route.template, route.method)
        routes[route.name] = replace(route, query_parameters=parameters)
    return routes


@dataclass
class Hostile:
    served: Served
    admin: pg8000.native.Connection
    routes: dict[str, Route]

    def send(self, route: Route, **kw: Any) -> WireReply:
        kw.setdefault("key", route.key)
        return send(self.served.url, kw.pop("method", route.method), kw.pop("target"), **kw)

    def snapshot(self) -> tn.Snapshot:
        return tn.snapshot(self.admin, ignore=AUTHENTICATION_COLUMNS)


@pytest.fixture(scope="module")
def hostile(server: local_db.LocalDatabase) -> Iterator[Hostile]:
    name = f"wellapi_hostile_{os.getpid()}"  # the test server may serve other sessions too
    db = local_db.prepare(server, name, replace=True)
    admin = local_db.admin_connection(db.admin_url)
    world = tn.world(admin)
    t = world.a.tenant

    def key(kind: str) -> str:
        return api_keys.create_key(
            admin, person_id=t.person_id, workspace_id=t.workspace_id, kind=kind, name="hostile"
        )[1]

    try:
        with serving(db, processes=0) as served:
            yield Hostile(served, admin, _routes(world, key("member"), key("service")))
    finally:
        admin.close()
        local_db.drop_database(server, name)


def _route_name(resource: str, operation: str) -> str:
    op = OPERATIONS[operation]
    target = PROVIDER_CATALOG if operation == "catalog" else resource_named(resource)
    return f"{op.method} {op.path(target)}"


ROUTE_NAMES = [_route_name(*route) for route in ROUTES]
BODY_ROUTES = [
    name
    for name, (_, op) in zip(ROUTE_NAMES, ROUTES, strict=True)
    if OPERATIONS[op].method in ("POST", "PATCH")
]
LIST_ROUTES = [
    name for name, (_, op) in zip(ROUTE_NAMES, ROUTES, strict=True) if op in ("list", "catalog")
]
PATH_ROUTES = [name for name in ROUTE_NAMES if "{" in name]
# The reads of one row: a Retrieve, and its related-resource and relationship routes.
ITEM_READ_ROUTES = [
    name
    for name, (_, op) in zip(ROUTE_NAMES, ROUTES, strict=True)
    if op in ("retrieve", "related", "relationship")
]


# ---- judging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    code: str | None = None
    parameter: str | None = None
    pointer: str | None = None
    header: str | None = None
    path_parameter: str | None = None
    gateway: str | None = None  # API Gateway's own {"message": ...}


def judge(reply: WireReply, expect: Expect, sent: str) -> list[str]:
    """What is wrong with ``reply`` (nothing: [])."""
    where = f"{sent!r}"
    if reply.status != expect.status:
        return [f"{where}: status {reply.status}, expected {expect.status}: {reply.text[:300]}"]
    if expect.gateway is not None:
        if reply.content_type != "application/json" or reply.json != {"message": expect.gateway}:
            return [f"{where}: not API Gateway's answer: {reply.content_type} {reply.text[:200]}"]
        return []
    if not reply.content_type.startswith(JSONAPI):
        return [f"{where}: content type {reply.content_type!r}: {reply.text[:200]}"]
    if expect.status == 200:
        # A value taken as text: it must have matched nothing.
        return [] if reply.json["data"] == [] else [f"{where}: matched {reply.text[:200]}"]
    errors = reply.errors()  # validated against the JSON:API 1.1 schema
    problems = []
    first = errors[0]
    if len({e["status"] for e in errors}) != 1 or first["status"] != str(expect.status):
        problems.append(f"{where}: error statuses {[e['status'] for e in errors]}")
    if expect.code is not None and first.get("code") != expect.code:
        problems.append(f"{where}: code {first.get('code')}, expected {expect.code}")
    source = first.get("source", {})
    wanted = {
        k: v
        for k, v in (
            ("parameter", expect.parameter),
            ("pointer", expect.pointer),
            ("header", expect.header),
        )
        if v is not None
    }
    if source != wanted:
        problems.append(f"{where}: source {source}, expected {wanted}")
    if expect.path_parameter is not None:
        named = first.get("meta", {}).get("path_parameter")
        if named != expect.path_parameter:
            problems.append(f"{where}: meta.path_parameter {named!r}, expected path parameter")
    return problems


def check_all(
    hostile: Hostile, route: Route, cases: list[tuple[str, dict[str, Any], Expect]]
) -> None:
    """Send every (label, request, expectation); the database must not change."""
    assert cases, f"no cases for {route.name}"
    before = hostile.snapshot()
    problems: list[str] = []
    for label, request, expect in cases:
        reply = hostile.send(route, **request)
        problems += judge(reply, expect, label)
    changed = tn.changed_tables(before, hostile.snapshot())
    if changed:
        problems.append(f"the database changed: {changed}")
    assert problems == [], "\n".join(problems[:15])


def encoded(value: str) -> str:
    return quote(value, safe="")


def query_target(route: Route, query: str) -> str:
    return f"{route.path}?{query}"


def unknown_relationship() -> Expect:
    """A related-resource or relationship route's answer to a name that is no relationship:
    the name is read before the id, the query or the row."""
    return Expect(404, "UNKNOWN_RELATIONSHIP", path_parameter="relationship")


def refusal(route: Route) -> Expect | None:
    """The answer that comes before the part under test, when the route has one."""
    if route.refuses_every_patch:
        return Expect(403, "FORBIDDEN")
    return None


# ---- content types and encodings --------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_accept_with_a_charset_parameter_is_406_on_every_route(hostile, name):
    route = hostile.routes[name]
    cases = [
        (
            accept,
            {"target": route.path, "headers": {"Accept": accept}, "body": route.body},
            refusal(route) or Expect(406, "NOT_ACCEPTABLE", header="Accept"),
        )
        for accept in (
            f"{JSONAPI}; charset=utf-8",
            f'{JSONAPI};charset="UTF-8"',
            f"{JSONAPI}; charset=iso-8859-1, {JSONAPI}; charset=utf-8",
        )
    ]
    check_all(hostile, route, cases)


@pytest.mark.parametrize("name", BODY_ROUTES)
def test_a_body_with_a_charset_or_in_another_encoding_is_refused_precisely(hostile, name):
    route = hostile.routes[name]
    assert route.body is not None
    document = json.dumps(route.body)
    unsupported = Expect(415, "UNSUPPORTED_MEDIA_TYPE", header="Content-Type")
    invalid = Expect(400, "INVALID_JSON", pointer="")
    cases = [
        (
            content_type,
            {
                "target": route.path,
                "body": document.encode(),
                "headers": {"Content-Type": content_type},
            },
            unsupported,
        )
        for content_type in (
            f"{JSONAPI}; charset=utf-8",
            f"{JSONAPI};charset=UTF-8",
            f'{JSONAPI}; charset="utf-8"',
            "application/json; charset=utf-8",  # API Gateway passes this one as text
            "text/plain; charset=utf-8",
        )
    ]
    cases += [
        (
            label,
            {"target": route.path, "body": raw, "headers": {"Content-Type": JSONAPI}},
            invalid,
        )
        for label, raw in (
            ("UTF-8 with a byte order mark", b"\xef\xbb\xbf" + document.encode()),
            ("UTF-16", document.encode("utf-16")),
            (
                "Latin-1",
                json.dumps({**route.body, "meta": {"x": "é"}}, ensure_ascii=False).encode(
                    "latin-1"
                ),
            ),
            ("a lone surrogate", document.encode()[:-1] + b'"\xed\xa0\x80"}'),
        )
    ]
    expect = refusal(route)
    check_all(hostile, route, [(label, request, expect or e) for label, request, e in cases])


# ---- sizes and depth ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_body_over_api_gateways_10_mb_is_its_413_before_the_body_is_read(hostile, name):
    route = hostile.routes[name]
    too_large = Expect(413, gateway="Request Entity Too Large")
    size = MAX_REQUEST_BODY_BYTES + 1
    cases = [
        (
            "Content-Length over 10 MB, nothing sent",
            {
                "target": route.path,
                "body": b"",
                "headers": {"Content-Type": JSONAPI, "Content-Length": str(size)},
            },
            too_large,
        ),
        (
            "one chunk over 10 MB, nothing sent",
            {
                "target": route.path,
                "body": f"{size:x}\r\n".encode(),
                "headers": {"Content-Type": JSONAPI, "Transfer-Encoding": "chunked"},
            },
            too_large,
        ),
    ]
    check_all(hostile, route, cases)


@pytest.mark.parametrize("name", BODY_ROUTES)
def test_a_body_over_64_kib_is_a_jsonapi_413_and_over_nesting_a_400_with_its_pointer(hostile, name):
    route = hostile.routes[name]
    assert route.body is not None
    padded = {**route.body, "meta": {"padding": "x" * MAX_BODY_BYTES}}
    depth = 20_000  # far past what the parser takes, well under 64 KiB
    deep = b'{"data": ' + b"[" * depth + b"]" * depth + b"}"
    data = route.body["data"]
    relationship = next(iter(data.get("relationships") or {"x": None}))
    nested: Any = "x"
    for _ in range(200):
        nested = [nested]
    shallow_enough = {
        "data": {
            **data,
            "relationships": {**data.get("relationships", {}), relationship: {"data": nested}},
        }
    }
    cases = [
        (
            "64 KiB + padding",
            {"target": route.path, "body": padded},
            Expect(413, "PAYLOAD_TOO_LARGE", pointer=""),
        ),
        (
            "20,000 nested arrays",
            {"target": route.path, "body": deep},
            Expect(400, "INVALID_JSON", pointer=""),
        ),
        (
            "200 nested arrays where a linkage object goes",
            {"target": route.path, "body": shallow_enough},
            Expect(
                400, "SCHEMA_VALIDATION_ERROR", pointer=f"/data/relationships/{relationship}/data"
            ),
        ),
    ]
    for _, request, _ in cases:
        request.setdefault("headers", {"Content-Type": JSONAPI})
    if relationship == "x":  # no relationship in the document: the member is unknown
        cases[2] = (
            cases[2][0],
            cases[2][1],
            Expect(400, "SCHEMA_VALIDATION_ERROR", pointer="/data/relationships/x"),
        )
    expect = refusal(route)
    check_all(hostile, route, [(label, request, expect or e) for label, request, e in cases])


# ---- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_meta_characters_in_every_query_parameter_are_a_400_naming_it(hostile, name):
    route = hostile.routes[name]
    cases = []
    # A route whose path names the workspace documents no query parameter (remove); the server
    # still reads workspace_id there, and must refuse meta characters in it all the same.
    for parameter in route.query_parameters or ("workspace_id",):
        expect = refusal(route) or Expect(400, parameter=parameter)
        sent = [(value, encoded(value)) for value in META_CHARACTERS]
        sent += [(f"{raw} (raw)", raw) for raw in RAW_ESCAPES]
        for label, value in sent:
            target = query_target(route, f"{encoded(parameter)}={value}")
            meant = expect
            if parameter in FREE_TEXT and _free_text(label):
                meant = Expect(200)  # a literal like any other: it matches no record
            cases.append((f"{parameter}={label}", {"target": target, "body": route.body}, meant))
    check_all(hostile, route, cases)


# Query parameters whose value is text of the client's choosing: the changes feed's sync run
# (any text a sync message's run id may be, wellapi.sync.messages). Meta characters there are a
# value to look for, a 200 finding nothing; a control character, a comma (a list) or bytes that
# are not UTF-8 are still a 400.
FREE_TEXT = frozenset({"filter[sync_run_id]"})


def _free_text(label: str) -> bool:
    if label.endswith(" (raw)"):
        # A lone or invalid escape is kept as it is (text); one that decodes to bytes that are
        # not UTF-8 is not text.
        return label.removesuffix(" (raw)") in ("%", "%zz")
    return label != "," and not any(c < " " or c == "\x7f" for c in label)


@pytest.mark.parametrize("name", LIST_ROUTES)
def test_a_page_size_of_zero_negative_huge_or_not_a_number_is_a_400_naming_it(hostile, name):
    route = hostile.routes[name]
    cases = []
    for value in BAD_PAGE_SIZES:
        digits = value.lstrip("0")
        too_large = digits.isascii() and digits.isdigit() and int(digits) > MAX_PAGE_SIZE
        code = "PAGE_SIZE_TOO_LARGE" if too_large else "INVALID_PAGE_PARAMETER"
        query = f"page%5Bsize%5D={encoded(value)}"
        cases.append(
            (
                f"page[size]={value}",
                {"target": query_target(route, query)},
                Expect(400, code, parameter="page[size]"),
            )
        )
    check_all(hostile, route, cases)


@pytest.mark.parametrize("name", LIST_ROUTES)
def test_ids_that_are_not_canonical_uuids_in_filters_and_workspace_id_are_a_400_naming_them(
    hostile, name
):
    route = hostile.routes[name]
    parameters = [p for p in route.query_parameters if p in ("workspace_id", "workspaceId")]
    resource = PROVIDER_CATALOG if route.operation == "catalog" else resource_named(route.resource)
    parameters += [f"filter[{r.name}]" for r in resource.relationships]
    cases = [
        (
            f"{parameter}={value}",
            {"target": query_target(route, f"{encoded(parameter)}={encoded(value)}")},
            Expect(400, "INVALID_UUID", parameter=parameter),
        )
        for parameter in parameters
        for value in (
            NOT_CANONICAL_UUIDS + PADDED_UUIDS
            if parameter in ("workspace_id", "workspaceId")
            else NOT_CANONICAL_UUIDS
        )
    ]
    check_all(hostile, route, cases)


@pytest.mark.parametrize("name", ITEM_READ_ROUTES)
def test_a_query_parameter_a_read_of_one_row_does_not_take_is_a_400_naming_it(hostile, name):
    """A List's parameters, and what no route takes, sent to a read of one row; on the
    relationship route (linkage only) include and fields too; on the related-resource route an
    include of anything, and fields of another type than the record's."""
    route = hostile.routes[name]
    resource = RESOURCES[route.resource]
    unknown = [
        ("sort", "-created_at"),
        ("page[size]", "5"),
        ("page[after]", "x"),
        ("filter[created_at][gte]", "2026-01-01T00:00:00Z"),
        (f"filter[{resource.relationships[0].name}]", A_UUID),
        ("id", A_UUID),
        ("workspace", A_UUID),
        ("relationship", "workspace"),
        ("bogus", "1"),
    ]
    refused = []
    if route.operation == "relationship":
        unknown += [("include", ""), ("include", "workspace"), (f"fields[{resource.type}]", "")]
        unknown += [(f"fields[{rel.parent.type}]", "") for rel in resource.relationships]
    if route.operation == "related":
        record = resource.relationship(route.path_parameters["relationship"]).parent.type
        refused += [("include", rel.name, "INVALID_INCLUDE") for rel in resource.relationships]
        refused += [
            (f"fields[{t}]", "", "INVALID_FIELDS")
            for t in {resource.type, "bogus", *(r.parent.type for r in resource.relationships)}
            if t != record
        ]
    cases = [
        (
            f"{parameter}={value}",
            {"target": query_target(route, f"{encoded(parameter)}={encoded(value)}")},
            Expect(400, "UNKNOWN_QUERY_PARAMETER", parameter=parameter),
        )
        for parameter, value in unknown
    ]
    cases += [
        (
            f"{parameter}={value}",
            {"target": query_target(route, f"{encoded(parameter)}={encoded(value)}")},
            Expect(400, code, parameter=parameter),
        )
        for parameter, value, code in refused
    ]
    check_all(hostile, route, cases)


# ---- path ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PATH_ROUTES)
def test_meta_characters_and_invalid_uuids_in_every_path_id_are_a_400_naming_the_segment(
    hostile, name
):
    route = hostile.routes[name]
    cases = []
    for parameter in route.path_parameters:
        expect = refusal(route) or Expect(400, "INVALID_ID", path_parameter=parameter)
        if parameter == "relationship":  # a name, not an id: no name of these is one
            expect = unknown_relationship()
        odd = (*META_CHARACTERS, *NOT_CANONICAL_UUIDS, *PADDED_UUIDS, "?", "#")
        sent = [(v, encoded(v)) for v in odd]
        sent += [(f"{raw} (raw)", raw) for raw in RAW_ESCAPES]
        for label, value in sent:
            target = route.with_path(parameter, value)
            cases.append((f"{parameter}={label}", {"target": target, "body": route.body}, expect))
        # An encoded slash makes another path (API Gateway decodes it before routing). No
        # route has it: the $default route's 404 (never API Gateway's own); but
        # /v1/<resource>/{id} with "<uuid>/x" for its id is the related-resource route of the
        # relationship "x" of the row <uuid>, which a PATCH or a DELETE does not have (405).
        target = route.with_path(parameter, encoded(f"{A_UUID}/x"))
        slashed = Expect(404, "ROUTE_NOT_FOUND")
        if route.operation == "retrieve":
            slashed = unknown_relationship()
        elif route.operation in ("update", "delete"):
            slashed = Expect(405, "METHOD_NOT_ALLOWED")
        cases.append((f"{parameter} with a slash", {"target": target, "body": route.body}, slashed))
    check_all(hostile, route, cases)


@pytest.mark.parametrize("name", PATH_ROUTES)
def test_uuids_of_other_versions_in_a_path_are_ids_of_nothing_404(hostile, name):
    route = hostile.routes[name]
    cases = []
    for parameter in route.path_parameters:
        for value in OTHER_VERSION_UUIDS:
            target = route.with_path(parameter, value)
            expect = Expect(404, "NOT_FOUND")
            if parameter == "relationship":  # a UUID is no relationship's name
                expect = unknown_relationship()
            if route.operation == "enrol":  # the group is the document's relationship
                expect = Expect(404, "NOT_FOUND", pointer="/data/relationships/workspace_group")
            body = route.body
            if route.operation == "update":  # a PATCH names its row twice: the same id here
                assert body is not None
                body = {"data": {**body["data"], "id": value}}
            request = {"target": target, "body": body}
            cases.append((f"{parameter}={value}", request, refusal(route) or expect))
    check_all(hostile, route, cases)


# ---- the request document -----------------------------------------------------------------------


@pytest.mark.parametrize("name", BODY_ROUTES)
def test_meta_characters_inside_the_document_are_refused_with_an_escaped_pointer(hostile, name):
    route = hostile.routes[name]
    assert route.body is not None
    data = route.body["data"]
    cases = []
    for value in ("a/b", "a~b", "~1", "'; --", "\x00", "[0]", "é"):
        attributes = {**data.get("attributes", {}), value: True}
        pointer = "/data/attributes/" + value.replace("~", "~0").replace("/", "~1")
        cases.append(
            (
                f"attribute named {value!r}",
                {"target": route.path, "body": {"data": {**data, "attributes": attributes}}},
                Expect(400, "SCHEMA_VALIDATION_ERROR", pointer=pointer),
            )
        )
        cases.append(
            (
                f"data.type {value!r}",
                {"target": route.path, "body": {"data": {**data, "type": data["type"] + value}}},
                Expect(409, "CONFLICT", pointer="/data/type"),
            )
        )
    for name_, linkage in (data.get("relationships") or {}).items():
        for value in ("' OR '1'='1", "\x00", A_UUID + "'; --", "{" + A_UUID + "}"):
            broken = {**linkage["data"], "id": value}
            relationships = {**data["relationships"], name_: {"data": broken}}
            cases.append(
                (
                    f"{name_} id {value!r}",
                    {
                        "target": route.path,
                        "body": {"data": {**data, "relationships": relationships}},
                    },
                    Expect(
                        400,
                        "SCHEMA_VALIDATION_ERROR",
                        pointer=f"/data/relationships/{name_}/data/id",
                    ),
                )
            )
    expect = refusal(route)
    check_all(hostile, route, [(label, request, expect or e) for label, request, e in cases])


# ---- controls -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_each_routes_unmutated_request_succeeds(hostile, name):
    """Run last: the hostile requests are these, changed only where they are hostile.

    Each on a world of its own, since several routes write the same rows.
    """
    world = tn.world(hostile.admin)
    t = world.a.tenant

    def key(kind: str) -> str:
        return api_keys.create_key(
            hostile.admin, person_id=t.person_id, workspace_id=t.workspace_id, kind=kind, name="c"
        )[1]

    route = _routes(world, key("member"), key("service"))[name]
    reply = hostile.send(route, target=route.path, body=route.body)
    assert reply.status == route.success, reply.text[:500]
    assert hostile.routes[name].template == route.template
