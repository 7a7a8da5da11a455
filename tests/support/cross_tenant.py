"""The cross-tenant matrix: every route the API serves, B's credentials, A's rows and ids.

Its core, ``run_route``, takes a *client*: anything that sends one request as a named caller
and returns the reply. ``InProcessClient`` invokes the Lambda handlers with the authorizer's
claims; ``HttpClient`` talks to a running server with real API keys. The same cases run
through both.

For each route the cases are the ways a member of tenant B could reach tenant A's data: A's
ids in the path, in filters, in includes, in a write body's relationships, A's workspace as the
``workspace_id`` parameter or as the workspace in a nested route's path; plus a member key on
a write only service principals may make, and a revoked key. Each case states the one answer
it must get (404 where A's row is out of scope, 403 where the act is refused whatever the row,
401 for the revoked key). Every reply to B must be free of A's ids (other than those B sent),
and after every write attempt every core_api table must be byte-for-byte what it was.

Each route also has controls: A's own legitimate requests, run after the attacks, which must
succeed. They prove the attack requests are well-formed and aim at rows that exist, so a 404
means "out of scope", not "wrong URL".
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

from tests.support import tenancy as tn
from tests.support.api import JSONAPI, Lambda, Reply, assert_valid_document, call, event
from tests.support.links import WALKER, caller_key
from wellapi.handlers.authorizer import authorizer_handler
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import PROVIDER_CATALOG, RESOURCES, resource_named
from welldev import api_keys

Route = tuple[str, str]

# The callers every client knows.
MEMBER_B = "member_b"  # the attacker: an active owner of workspace B
REVOKED_B = "revoked_b"  # a key of B's person that has been revoked
MEMBER_A = "member_a"  # the victim, for the controls
SERVICE_A = "service_a"  # A's service principal, for the controls of service-only writes
CALLERS = (MEMBER_B, REVOKED_B, MEMBER_A, SERVICE_A)


def route_id(route: Route) -> str:
    return f"{route[0]}-{route[1]}"


@dataclass(frozen=True)
class Request:
    resource: str
    operation: str
    path: str
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    query: str = ""
    body: Any = None

    @property
    def method(self) -> str:
        return OPERATIONS[self.operation].method

    @property
    def route(self) -> str:
        """The route template (API Gateway's ``{name}`` spelling)."""
        return OPERATIONS[self.operation].path(resource_named(self.resource))

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def text(self) -> str:
        """Everything the caller sent: ids in it may come back (a self link, an error detail)."""
        return f"{self.path}?{self.query} {json.dumps(self.body)}"


@dataclass(frozen=True)
class Expect:
    status: int
    code: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    empty: bool = False  # a 200 whose primary data must be []
    contains: frozenset[str] = frozenset()  # ids the primary data must hold
    excludes: frozenset[str] = frozenset()  # ids the primary data must not hold


@dataclass(frozen=True)
class Case:
    name: str
    caller: str
    request: Request
    expect: Expect


class Client(Protocol):
    def send(self, caller: str, request: Request) -> Reply: ...


# ---- clients -----------------------------------------------------------------------------------


def authorize(key: str) -> dict[str, Any]:
    """The claims the API's authorizer gives a bearer of ``key`` (``{}``: unauthenticated)."""
    ev = {"version": "2.0", "type": "REQUEST", "headers": {"authorization": f"Bearer {key}"}}
    result = authorizer_handler()(ev, Lambda())
    assert result["isAuthorized"] is True
    return dict(result["context"])


class InProcessClient:
    """The Lambda handlers, invoked with API Gateway events; callers given as the authorizer's
    claims, or as a real key that goes through the authorizer first."""

    def __init__(self, claims: Mapping[str, dict[str, str]], keys: Mapping[str, str]) -> None:
        self.claims = claims
        self.keys = keys

    def send(self, caller: str, request: Request) -> Reply:
        claims = self.claims[caller] if caller in self.claims else authorize(self.keys[caller])
        headers = {"content-type": JSONAPI} if request.body is not None else None
        ev = event(
            request.method,
            request.path,
            query=request.query,
            claims=claims,
            path_parameters=dict(request.path_parameters) or None,
            body=None if request.body is None else json.dumps(request.body),
            headers=headers,
            route=request.route,
        )
        return call(request.resource, request.operation, ev)


def in_process_client(admin: Any, w: tn.World) -> InProcessClient:
    """The matrix's callers in process (``CALLERS``; the revoked key through the authorizer)."""
    a, b = w.a.tenant, w.b.tenant
    key_id, revoked = api_keys.create_key(
        admin, person_id=b.person_id, workspace_id=b.workspace_id, kind="member", name="revoked"
    )
    assert api_keys.revoke_key(admin, str(key_id))
    claims = {MEMBER_B: b.claims(), MEMBER_A: a.claims(), SERVICE_A: a.claims("service")}
    return InProcessClient(claims, {REVOKED_B: revoked})


class HttpClient:
    """A running server, over HTTP, with real bearer keys."""

    def __init__(self, base_url: str, keys: Mapping[str, str]) -> None:
        self.base = urlsplit(base_url)
        self.keys = keys

    def send(self, caller: str, request: Request) -> Reply:
        target = request.path + (f"?{request.query}" if request.query else "")
        reply = self._send(caller, request.method, target, request.body)
        WALKER.walk(
            f"{request.method} {target}",
            reply,
            caller_key(self.keys[caller]),
            lambda link: self._send(caller, "GET", _target(link), None),
        )
        return reply

    def _send(self, caller: str, method: str, target: str, document: Any) -> Reply:
        headers = {"Authorization": f"Bearer {self.keys[caller]}", "Accept": JSONAPI}
        body: bytes | None = None
        if document is not None:
            body = json.dumps(document).encode()
            headers["Content-Type"] = JSONAPI
        connection = http.client.HTTPConnection(
            self.base.hostname or "127.0.0.1", self.base.port, timeout=30
        )
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            reply = Reply(response.status, dict(response.getheaders()), response.read().decode())
        finally:
            connection.close()
        content_type = header(reply, "content-type") or ""
        if reply.body and content_type.startswith(JSONAPI):
            assert_valid_document(reply.json)
        return reply


def _target(link: str) -> str:
    url = urlsplit(link)
    return url.path + (f"?{url.query}" if url.query else "")


def header(reply: Reply, name: str) -> str | None:
    for key, value in reply.headers.items():
        if key.lower() == name.lower():
            return value
    return None


# ---- the cases ---------------------------------------------------------------------------------


def _linkage(type_name: str, row_id: UUID) -> dict[str, Any]:
    return {"data": {"type": type_name, "id": str(row_id)}}


def _document(
    resource: str,
    relationships: Mapping[str, UUID] | None = None,
    attributes: Mapping[str, Any] | None = None,
    row_id: UUID | None = None,
) -> dict[str, Any]:
    r = RESOURCES[resource]
    data: dict[str, Any] = {"type": r.type}
    if row_id is not None:
        data["id"] = str(row_id)
    if attributes is not None:
        data["attributes"] = dict(attributes)
    if relationships:
        data["relationships"] = {
            name: _linkage(r.relationship(name).parent.type, value)
            for name, value in relationships.items()
        }
    return {"data": data}


def _ids(*values: UUID) -> frozenset[str]:
    return frozenset(str(v) for v in values)


# A well-formed id of no row anywhere.
MISSING_ID = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"


def not_found(pointer: str | None = None) -> Expect:
    return Expect(404, "NOT_FOUND", pointer=pointer)


def forbidden(parameter: str | None = None) -> Expect:
    return Expect(403, "FORBIDDEN", parameter=parameter)


def route_cases(route: Route, w: tn.World) -> tuple[list[Case], list[Case]]:
    """(attacks by B, controls by A) for one route."""
    resource, operation = route
    a, b = w.a, w.b
    r = resource_named(resource)
    base = f"/v1/{r.path}"
    rels = [rel.name for rel in r.relationships]
    include_all = "include=" + ",".join(rels)
    attacks: list[Case] = []
    controls: list[Case] = []

    def req(path: str, query: str = "", body: Any = None, **params: UUID | str) -> Request:
        return Request(
            resource, operation, path, {k: str(v) for k, v in params.items()}, query, body
        )

    def item(row_id: UUID, query: str = "", body: Any = None) -> Request:
        return req(f"{base}/{row_id}", query, body, id=row_id)

    def attack(name: str, request: Request, expect: Expect) -> None:
        attacks.append(Case(name, MEMBER_B, request, expect))

    def control(name: str, request: Request, expect: Expect, caller: str = MEMBER_A) -> None:
        controls.append(Case(name, caller, request, expect))

    in_a = f"workspace_id={a.workspace[1]}"
    provenance = resource in tn.PROVENANCE
    if operation == "feed":
        # The changes feed: B's own records only, whatever B names; A's need A's workspace.
        attack("own feed", req(base), Expect(200, contains=frozenset({b.change})))
        attack(
            "own feed, every kind filtered",
            req(base, "filter[resource_type]=workspace_provider&filter[change]=selected"),
            Expect(200, contains=frozenset({b.change}), excludes=frozenset({a.change})),
        )
        attack("own feed", req(base), Expect(200, excludes=frozenset({a.change})))
        attack("workspace_id = A's", req(base, in_a), forbidden("workspace_id"))
        attack(
            "workspaceId = A's",
            req(base, f"workspaceId={a.workspace[1]}"),
            forbidden("workspaceId"),
        )
        control("A's feed, by A", req(base), Expect(200, contains=frozenset({a.change})))
        control(
            "A's feed, by A's service key, in A's workspace",
            req(base, in_a),
            Expect(200, contains=frozenset({a.change}), excludes=frozenset({b.change})),
            caller=SERVICE_A,
        )
        return attacks, controls
    a_row, b_row = a.row(resource)[1], b.row(resource)[1]

    if operation == "list":
        attack(
            "own rows, every relationship included",
            req(base, include_all),
            Expect(200, contains=_ids(*b.rows(resource))),
        )
        for rel in rels:
            a_id, b_id = a.parent(resource, rel), b.parent(resource, rel)
            attack(
                f"filter[{rel}] = A's",
                req(base, f"filter[{rel}]={a_id}&{include_all}"),
                Expect(200, empty=True),
            )
            attack(
                f"filter[{rel}] = A's and B's",
                req(base, f"filter[{rel}]={a_id},{b_id}&{include_all}"),
                Expect(200, contains=_ids(b_row), excludes=_ids(a_row)),
            )
            control(
                f"filter[{rel}] = A's, by A",
                req(base, f"filter[{rel}]={a_id}"),
                Expect(200, contains=_ids(a_row)),
            )
        attack("workspace_id = A's", req(base, in_a), forbidden("workspace_id"))
        attack(
            "workspaceId = A's",
            req(base, f"workspaceId={a.workspace[1]}"),
            forbidden("workspaceId"),
        )

    elif operation == "retrieve":
        attack("A's row", item(a_row), not_found())
        attack("A's row, every relationship included", item(a_row, include_all), not_found())
        attack("own row, workspace_id = A's", item(b_row, in_a), forbidden("workspace_id"))
        attack(
            "own row, every relationship included",
            item(b_row, include_all),
            Expect(200, contains=_ids(b_row)),
        )
        control("A's row, by A", item(a_row, include_all), Expect(200, contains=_ids(a_row)))

    elif operation == "create" and provenance:
        record = tn.PROVENANCE[resource]

        def ledger(side_record: tn.Side, side_connector: tn.Side) -> dict[str, Any]:
            return _document(
                resource,
                {
                    record: side_record.records[record][1],
                    "workspace_connector": side_connector.workspace_connector[1],
                },
                {"direction": "output"},
            )

        attack("member key, A's record and connector", req(base, body=ledger(a, a)), forbidden())
        attack(
            "member key, own record and A's connector", req(base, body=ledger(b, a)), forbidden()
        )
        attack("member key, own record and connector", req(base, body=ledger(b, b)), forbidden())
        control(
            "A's service key, A's record and connector",
            req(base, body=ledger(a, a)),
            Expect(201),
            SERVICE_A,
        )

    elif operation == "create" and resource == "workspace_group_workspaces":

        def enrolment(group: tn.Ref, workspace: tn.Ref) -> dict[str, Any]:
            return _document(resource, {"workspace_group": group[1], "workspace": workspace[1]})

        attack(
            "A's group in the body",
            req(base, body=enrolment(a.group, b.spare_workspace)),
            not_found("/data/relationships/workspace_group"),
        )
        attack(
            "A's workspace in the body",
            req(base, body=enrolment(b.group, a.workspace)),
            not_found("/data/relationships/workspace"),
        )
        attack(
            "workspace_id = A's",
            req(base, in_a, enrolment(b.group, b.spare_workspace)),
            forbidden("workspace_id"),
        )
        control(
            "A enrols its other workspace",
            req(base, body=enrolment(a.group, a.spare_workspace)),
            Expect(201),
        )

    elif operation == "create":  # workspace_providers

        def selection(workspace: tn.Ref) -> dict[str, Any]:
            return _document(
                resource,
                {"workspace": workspace[1], "provider": w.free_provider[1]},
                {"is_selected": True},
            )

        attack(
            "A's workspace in the body",
            req(base, body=selection(a.workspace)),
            not_found("/data/relationships/workspace"),
        )
        attack(
            "workspace_id = A's", req(base, in_a, selection(b.workspace)), forbidden("workspace_id")
        )
        control("A selects a provider", req(base, body=selection(a.workspace)), Expect(201))

    elif operation == "update" and provenance:
        attack(
            "member key, A's row",
            item(a_row, body=_document(resource, attributes={}, row_id=a_row)),
            forbidden(),
        )
        attack(
            "member key, own row",
            item(b_row, body=_document(resource, attributes={}, row_id=b_row)),
            forbidden(),
        )
        control(
            "A's service key, A's row",
            item(a_row, body=_document(resource, attributes={"direction": "input"}, row_id=a_row)),
            Expect(200, contains=_ids(a_row)),
            SERVICE_A,
        )

    elif operation == "update" and resource == "workspace_group_workspaces":
        # Enrolments are never modified (removed and added again instead): 403 for everyone.
        attack(
            "A's row",
            item(a_row, body=_document(resource, attributes={}, row_id=a_row)),
            forbidden(),
        )
        control(
            "A's row, by A: refused too",
            item(a_row, body=_document(resource, attributes={}, row_id=a_row)),
            forbidden(),
        )

    elif operation == "update":  # workspace_providers
        attack(
            "A's row",
            item(a_row, body=_document(resource, attributes={"is_matched": True}, row_id=a_row)),
            not_found(),
        )
        attack(
            "own row, A's workspace in the body",
            item(
                b_row,
                body=_document(
                    resource, {"workspace": a.workspace[1]}, {"is_matched": True}, b_row
                ),
            ),
            not_found("/data/relationships/workspace"),
        )
        attack(
            "own row, workspace_id = A's",
            item(b_row, in_a, _document(resource, attributes={"is_matched": True}, row_id=b_row)),
            forbidden("workspace_id"),
        )
        control(
            "A's row, by A",
            item(a_row, body=_document(resource, attributes={"is_matched": True}, row_id=a_row)),
            Expect(200, contains=_ids(a_row)),
        )

    elif operation == "delete" and provenance:
        attack("member key, A's row", item(a_row), forbidden())
        attack("member key, own row", item(b_row), forbidden())
        control("A's service key, A's row", item(a_row), Expect(204), SERVICE_A)

    elif operation == "delete":  # enrolments and selections
        attack("A's row", item(a_row), not_found())
        attack("own row, workspace_id = A's", item(b_row, in_a), forbidden("workspace_id"))
        control("A's row, by A", item(a_row), Expect(204))

    elif operation == "catalog":
        catalog = "/v1/workspaces/{}/providers"
        mine = _ids(b.provider[1], w.shared_provider[1])
        attack(
            "A's workspace in the path",
            req(catalog.format(a.workspace[1]), workspace_id=a.workspace[1]),
            not_found(),
        )
        attack(
            "A's workspace in the path, selections included",
            req(
                catalog.format(a.workspace[1]),
                "include=workspace_provider",
                workspace_id=a.workspace[1],
            ),
            not_found(),
        )
        attack(
            "own catalog, selections included",
            req(
                catalog.format(b.workspace[1]),
                "include=workspace_provider",
                workspace_id=b.workspace[1],
            ),
            Expect(200, contains=mine),
        )
        attack(
            "own catalog, selected only",
            req(
                catalog.format(b.workspace[1]),
                "filter[is_selected]=true&include=workspace_provider",
                workspace_id=b.workspace[1],
            ),
            Expect(200, contains=mine, excludes=_ids(a.provider[1])),
        )
        control(
            "A's catalog, by A",
            req(
                catalog.format(a.workspace[1]),
                "filter[is_selected]=true&include=workspace_provider",
                workspace_id=a.workspace[1],
            ),
            Expect(
                200,
                contains=_ids(a.provider[1], w.shared_provider[1]),
                excludes=_ids(b.provider[1]),
            ),
        )

    elif operation == "select":
        path = f"/v1/workspaces/{a.workspace[1]}/providers"
        own = f"/v1/workspaces/{b.workspace[1]}/providers"
        pick = _document(resource, {"provider": w.free_provider[1]})
        attack(
            "A's workspace in the path",
            req(path, body=pick, workspace_id=a.workspace[1]),
            not_found(),
        )
        attack(
            "own path, A's workspace in the body",
            req(
                own,
                body=_document(
                    resource, {"provider": w.free_provider[1], "workspace": a.workspace[1]}
                ),
                workspace_id=b.workspace[1],
            ),
            Expect(409, "CONFLICT", pointer="/data/relationships/workspace"),
        )
        control(
            "A selects in its workspace",
            req(path, body=pick, workspace_id=a.workspace[1]),
            Expect(201),
        )

    elif operation == "remove":
        path = "/v1/workspaces/{}/providers/{}"
        for name, provider in (
            ("A's provider", a.provider),
            ("the shared provider", w.shared_provider),
        ):
            attack(
                f"A's workspace in the path, {name}",
                req(
                    path.format(a.workspace[1], provider[1]),
                    workspace_id=a.workspace[1],
                    provider_id=provider[1],
                ),
                not_found(),
            )
        control(
            "A removes its selection",
            req(
                path.format(a.workspace[1], a.provider[1]),
                workspace_id=a.workspace[1],
                provider_id=a.provider[1],
            ),
            Expect(204),
        )

    elif operation == "enrol":
        path = "/v1/workspace-groups/{}/workspaces"

        def enrol(workspace: tn.Ref) -> dict[str, Any]:
            return _document(resource, {"workspace": workspace[1]})

        attack(
            "A's group in the path",
            req(
                path.format(a.group[1]),
                body=enrol(b.spare_workspace),
                workspace_group_id=a.group[1],
            ),
            not_found("/data/relationships/workspace_group"),
        )
        attack(
            "own group, A's workspace in the body",
            req(path.format(b.group[1]), body=enrol(a.workspace), workspace_group_id=b.group[1]),
            not_found("/data/relationships/workspace"),
        )
        attack(
            "own group, workspace_id = A's",
            req(
                path.format(b.group[1]),
                in_a,
                enrol(b.spare_workspace),
                workspace_group_id=b.group[1],
            ),
            forbidden("workspace_id"),
        )
        control(
            "A enrols its other workspace",
            req(
                path.format(a.group[1]),
                body=enrol(a.spare_workspace),
                workspace_group_id=a.group[1],
            ),
            Expect(201),
        )

    elif operation == "unenrol":
        path = "/v1/workspace-groups/{}/workspaces/{}"
        attack(
            "A's group and workspace in the path",
            req(
                path.format(a.group[1], a.workspace[1]),
                workspace_group_id=a.group[1],
                workspace_id=a.workspace[1],
            ),
            not_found(),
        )
        attack(
            "own group and workspace, workspace_id = A's",
            req(
                path.format(b.group[1], b.workspace[1]),
                in_a,
                workspace_group_id=b.group[1],
                workspace_id=b.workspace[1],
            ),
            forbidden("workspace_id"),
        )
        control(
            "A removes its enrolment",
            req(
                path.format(a.group[1], a.workspace[1]),
                workspace_group_id=a.group[1],
                workspace_id=a.workspace[1],
            ),
            Expect(204),
        )

    elif operation in ("related", "relationship"):
        # GET .../{id}/<relationship> and .../{id}/relationships/<relationship>: A's row is a
        # 404 exactly as a missing row is, for every relationship and whatever else is asked.
        middle = "/relationships/" if operation == "relationship" else "/"

        def follow(row_id: UUID | str, rel: str, query: str = "") -> Request:
            return req(f"{base}/{row_id}{middle}{rel}", query, id=row_id, relationship=rel)

        missing = MISSING_ID
        for rel in rels:
            parent_type = r.relationship(rel).parent.type
            record_fields = f"fields[{parent_type}]=" + (
                ",".join(attr.name for attr in r.relationship(rel).parent.attributes)
            )
            attack(f"A's row, {rel}", follow(a_row, rel), not_found())
            attack(f"a missing row, {rel}", follow(missing, rel), not_found())
            if operation == "related":
                attack(
                    f"A's row, {rel}, {record_fields}",
                    follow(a_row, rel, record_fields),
                    not_found(),
                )
                attack(
                    f"A's row, {rel}, empty include",
                    follow(a_row, rel, "include="),
                    not_found(),
                )
            attack(
                f"A's row, {rel}, workspace_id = B's",
                follow(a_row, rel, f"workspace_id={b.workspace[1]}"),
                not_found(),
            )
            attack(
                f"own row, {rel}, workspace_id = A's",
                follow(b_row, rel, in_a),
                forbidden("workspace_id"),
            )
            attack(
                f"own row, {rel}, workspaceId = A's",
                follow(b_row, rel, f"workspaceId={a.workspace[1]}"),
                forbidden("workspaceId"),
            )
            attack(
                f"own row, {rel}",
                follow(b_row, rel),
                Expect(200, contains=_ids(b.parent(resource, rel))),
            )
            control(
                f"A's row, {rel}, by A",
                follow(a_row, rel),
                Expect(200, contains=_ids(a.parent(resource, rel))),
            )
        # The relationship is checked before the row is read: no answer says whether it exists.
        for row in (a_row, missing):
            attack(
                "an unknown relationship" + (" of A's row" if row == a_row else ""),
                follow(row, "relationships"),
                Expect(404, "UNKNOWN_RELATIONSHIP"),
            )

    else:  # pragma: no cover - a new route must get its cases here
        raise AssertionError(f"no cross-tenant cases for {route}")

    # A revoked key never gets past authentication, whatever it asks for.
    first = controls[0]
    attacks.append(Case("revoked key", REVOKED_B, first.request, Expect(401, "UNAUTHORIZED")))
    return attacks, controls


# ---- running and judging -----------------------------------------------------------------------


def _primary_ids(document: Any) -> list[str]:
    data = document.get("data")
    if isinstance(data, list):
        return [str(item.get("id")) for item in data]
    if isinstance(data, dict):
        return [str(data.get("id"))]
    return []


def judge(case: Case, reply: Reply, private: set[str]) -> list[str]:
    """What is wrong with ``reply`` as the answer to ``case`` (nothing: [])."""
    expect = case.expect
    problems: list[str] = []
    if reply.status != expect.status:
        return [f"status {reply.status}, expected {expect.status}: {reply.body[:500]}"]
    document: Any = None
    if reply.body:
        try:
            document = reply.json
        except ValueError:
            return [f"not JSON: {reply.body[:200]}"]
    if expect.status >= 400:
        errors = (document or {}).get("errors") or [{}]
        first = errors[0]
        if expect.code is not None and first.get("code") != expect.code:
            problems.append(f"error code {first.get('code')}, expected {expect.code}")
        source = first.get("source") or {}
        if expect.pointer is not None and source.get("pointer") != expect.pointer:
            problems.append(f"pointer {source.get('pointer')}, expected {expect.pointer}")
        if expect.parameter is not None and source.get("parameter") != expect.parameter:
            problems.append(f"parameter {source.get('parameter')}, expected {expect.parameter}")
    elif document is not None:
        primary = _primary_ids(document)
        if expect.empty and primary:
            problems.append(f"primary data should be empty, holds {primary}")
        if not expect.contains <= set(primary):
            problems.append(f"primary data lacks {sorted(expect.contains - set(primary))}")
        if expect.excludes & set(primary):
            problems.append(f"primary data holds {sorted(expect.excludes & set(primary))}")
    if case.caller not in (MEMBER_A, SERVICE_A):
        sent = case.request.text()
        leaked = sorted(i for i in private if i in reply.body and i not in sent)
        if leaked:
            problems.append(f"A's ids in the reply: {leaked}")
    return problems


def run_route(
    route: Route,
    w: tn.World,
    client: Client,
    snapshot: Callable[[], tn.Snapshot],
) -> list[str]:
    """Every case of ``route`` through ``client``; the list of failures (empty: all held)."""
    attacks, controls = route_cases(route, w)
    private = w.a.private_ids()
    failures: list[str] = []
    for case in attacks:
        before = snapshot() if case.request.writes else None
        reply = client.send(case.caller, case.request)
        problems = judge(case, reply, private)
        if before is not None:
            changed = tn.changed_tables(before, snapshot())
            if changed:
                problems.append(f"the database changed: {changed}")
        failures += [f"{case.name} [{case.caller}]: {p}" for p in problems]
    for case in controls:
        reply = client.send(case.caller, case.request)
        failures += [f"control {case.name}: {p}" for p in judge(case, reply, private)]
    return failures


def served_routes() -> list[tuple[str, str]]:
    """(method, route template) of every route in ``ROUTES``."""
    from welldev.openapi import ROUTES

    routes = []
    for resource, operation in ROUTES:
        op = OPERATIONS[operation]
        target = PROVIDER_CATALOG if operation == "catalog" else resource_named(resource)
        routes.append((op.method, op.path(target)))
    return routes
