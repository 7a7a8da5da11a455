"""The cross-tenant matrix: every route the API serves, B's credentials, A's rows and ids.

Its core, ``run_route``, takes a *client*: anything that sends one request as a named caller
and returns the reply. ``InProcessClient`` invokes the Lambda handlers with the authorizer's
claims; ``HttpClient`` talks to a running server with real API keys. The same cases run
through both: ``tests.support.cross_tenant_cases`` holds them, and says what each attack and
each control must get.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from tests.support import factories as f
from tests.support import tenancy as tn
from tests.support.api import JSONAPI, Lambda, Reply, assert_valid_document, call, event
from tests.support.cross_tenant_cases import (
    MEMBER_A,
    MEMBER_B,
    MISSING_ID,  # noqa: F401 (the tests reach it through this module)
    REVOKED_B,
    SERVICE_A,
    Case,
    Request,
    Route,
    route_cases,
    route_id,  # noqa: F401
)
from tests.support.links import WALKER, caller_key
from wellapi.handlers.authorizer import authorizer_handler
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import PROVIDER_CATALOG, resource_named
from welldev import api_keys


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
    """The matrix's callers in process (``cross_tenant_cases.CALLERS``; the revoked key
    through the authorizer)."""
    a, b = w.a.tenant, w.b.tenant
    key_id, revoked = api_keys.create_key(
        admin, person_id=b.person_id, workspace_id=b.workspace_id, kind="member", name="revoked"
    )
    assert f.revoke_key(admin, str(key_id))
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
    from wellapi.operations.registry import ROUTES

    routes = []
    for resource, operation in ROUTES:
        op = OPERATIONS[operation]
        target = PROVIDER_CATALOG if operation == "catalog" else resource_named(resource)
        routes.append((op.method, op.path(target)))
    return routes
