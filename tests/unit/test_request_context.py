"""A request is parsed once, in one order on every route (``wellapi.http.request.parse_request``).

Pure logic, no database: every request here is refused before the operation runs, or is
parsed without running it. For every function (resource and operation), a request broken
in two ways at once gets the error of the earlier fault in the documented order: 401, then the
route's 403, the relationship's 404, the path ids' 400 (in the route's order), 406, 415, the
query's 400, the body's 400.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.api import JSONAPI, event
from wellapi.errors import ApiError, Forbidden
from wellapi.handlers.api import serve
from wellapi.handlers.entry_points import binding_of
from wellapi.http.principal import principal_from_claims
from wellapi.http.request import (
    IDEMPOTENCY_KEY,
    ROW_ID,
    ParsedRequest,
    Request,
    parse_request,
    request_from_event,
)
from wellapi.operations import Operation
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import RESOURCES, Resource, resource_named
from wellapi.settings import get_settings
from welldev import stack as local_stack

# Every API function, as (resource, operation): its Handler (welldev.stack, as the template).
BINDINGS = sorted(
    binding
    for function in local_stack.load().functions.values()
    if (binding := binding_of(function.handler)) is not None
)
WORKSPACE = uuid4()
NAMED = uuid4()  # the workspace a query's workspace_id names
IDS = {name: uuid4() for name in ("id", "workspace_id", "provider_id", "workspace_group_id")}


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings as a function has them; nothing here connects (the handler's init would)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.delenv("API_BASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def claims(kind: str) -> dict[str, str]:
    """What the authorizer answers for a key: the scope token is only checked by its form here
    (the database checks its signature)."""
    return {
        "person_id": str(uuid4()),
        "principal_kind": kind,
        "workspace_id": str(WORKSPACE),
        "api_key_id": str(uuid4()),
        "scope_token": f"t1.1.{kind}.9999999999.{'0' * 64}",
    }


def _value(kind: str, enum: tuple[str, ...]) -> Any:
    return {"boolean": True, "enum": enum[0] if enum else None, "string": "x"}.get(kind)


def document(resource: Resource, mode: str, parents: dict[str, UUID]) -> dict[str, Any]:
    """A document the route takes: what a create requires (the parents the path names
    repeated), or an update of the path's row."""
    data: dict[str, Any] = {"type": resource.type}
    if mode == "update":
        data["id"] = str(IDS["id"])
        return {"data": data}
    data["attributes"] = {
        a.name: _value(a.kind, a.enum)
        for a in resource.attributes
        if a.writable == "create" and not a.nullable
    }
    data["relationships"] = {
        r.name: {"data": {"type": r.parent.type, "id": str(parents.get(r.name, uuid4()))}}
        for r in resource.relationships
        if r.required and r.writable != "never"
    }
    return {"data": data}


@dataclass(frozen=True)
class Binding:
    resource: Resource
    operation: Operation

    @property
    def template(self) -> str:
        return self.operation.path(self.resource)

    @property
    def kind(self) -> str:
        """A principal kind the route serves: the ledgers are written by services only."""
        permit = self.operation.request_spec.permit
        return "service" if permit is not None and self._refuses("member") else "member"

    def _refuses(self, kind: str) -> bool:
        permit = self.operation.request_spec.permit
        try:
            if permit is not None:
                permit(self.resource, principal_from_claims(claims(kind)))
        except ApiError:
            return True
        return False

    @property
    def refused_whoever_calls(self) -> bool:
        """A route no caller may use (enrolments are never PATCHed): 403 after 401, always."""
        return self._refuses("service")

    def request(self) -> dict[str, Any]:
        """The parts of a request this route understands, as ``event`` takes them."""
        parameters = {
            name: str(value) for name, value in IDS.items() if f"{{{name}}}" in self.template
        }
        if "{relationship}" in self.template:
            parameters["relationship"] = self.resource.relationships[0].name
        needs = self.operation.request_spec
        parts: dict[str, Any] = {
            "claims": claims(self.kind),
            "path_parameters": parameters,
            "query": f"workspace_id={NAMED}",
            "headers": {"Accept": JSONAPI},
        }
        if needs.body is not None:
            read = needs.reads or self.resource
            parents = {p.relationship: IDS[p.parameter] for p in needs.ids if p.relationship}
            parts["body"] = json.dumps(document(read, needs.body.mode, parents))
            parts["headers"] = {"Accept": JSONAPI, "Content-Type": JSONAPI}
        return parts

    def event(self, parts: dict[str, Any]) -> dict[str, Any]:
        path = self.template
        for name, value in parts["path_parameters"].items():
            path = path.replace(f"{{{name}}}", value)
        return event(self.operation.method, path, route=self.template, **parts)


def binding(resource: str, operation: str) -> Binding:
    return Binding(resource_named(resource), OPERATIONS[operation])


# A fault: its name, whether the route has it, what it does to a request, the answer it gets.
Break = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: Break
    status: int
    code: str
    source: dict[str, Any] | None = None


def _faults(b: Binding) -> list[Fault]:
    """The faults a request to ``b`` can have, in the order the API answers them."""
    needs = b.operation.request_spec

    def set_(key: str, value: Any) -> Break:
        return lambda parts: parts.__setitem__(key, value)

    def header(name: str, value: str) -> Break:
        return lambda parts: parts.__setitem__("headers", {**parts["headers"], name: value})

    def path(name: str, value: str) -> Break:
        return lambda parts: parts["path_parameters"].__setitem__(name, value)

    faults = [Fault("no claims", set_("claims", None), 401, "CREDENTIALS_MISSING")]
    if b.kind == "service":
        faults.append(Fault("a member", set_("claims", claims("member")), 403, "FORBIDDEN"))
    if needs.relationship:
        faults.append(
            Fault("relationship", path("relationship", "nope"), 404, "UNKNOWN_RELATIONSHIP")
        )
    faults += [Fault(p.parameter, path(p.parameter, "nope"), 400, "INVALID_ID") for p in needs.ids]
    faults.append(
        Fault("accept", header("Accept", f"{JSONAPI}; charset=utf-8"), 406, "NOT_ACCEPTABLE")
    )
    if needs.body is not None:
        faults.append(
            Fault(
                "content type", header("Content-Type", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"
            )
        )
    faults.append(
        Fault(
            "query",
            set_("query", "bogus=1"),
            400,
            "UNKNOWN_QUERY_PARAMETER",
            {"parameter": "bogus"},
        )
    )
    if needs.body is not None:
        faults.append(Fault("body", set_("body", "{"), 400, "INVALID_JSON", {"pointer": ""}))
    if needs.idempotent:
        faults.append(
            Fault(
                "idempotency key",
                header(IDEMPOTENCY_KEY, ""),
                400,
                "INVALID_IDEMPOTENCY_KEY",
                {"header": IDEMPOTENCY_KEY},
            )
        )
    return faults


def answer(b: Binding, faults: tuple[Fault, ...]) -> tuple[int, str, dict[str, Any]]:
    parts = b.request()
    for fault in faults:
        fault.breaks(parts)
    response = serve(b.resource, b.operation, b.event(parts))
    assert response.body is not None
    (error,) = json.loads(response.body)["errors"]
    return response.status, error["code"], error


def _pairs() -> list[Any]:
    cases = []
    for resource, operation in BINDINGS:
        faults = _faults(binding(resource, operation))
        for first, second in combinations(faults, 2):
            if {first.name, second.name} == {"no claims", "a member"}:
                continue  # two claims at once: no request is broken in both ways
            cases.append(
                pytest.param(
                    resource,
                    operation,
                    first.name,
                    second.name,
                    id=f"{resource}-{operation}-{first.name}+{second.name}",
                )
            )
    return cases


def test_every_function_is_bound():
    # Seven routes of every resource, and the six of their own (catalog, select, remove, enrol,
    # unenrol, the feed).
    assert len(BINDINGS) == 7 * len(RESOURCES) + 6
    assert {operation for _, operation in BINDINGS} == set(OPERATIONS)


@pytest.mark.parametrize(("resource", "operation"), BINDINGS)
def test_the_request_each_function_takes_is_understood(resource, operation):
    b = binding(resource, operation)
    request = request_from_event(b.event(b.request()))
    needs = b.operation.request_spec
    if b.refused_whoever_calls:
        with pytest.raises(Forbidden):
            parse_request(request, b.resource, needs)
        return
    call = parse_request(request, b.resource, needs)
    assert call.resource is (needs.reads or b.resource)
    assert dict(call.ids) == {p.parameter: IDS[p.parameter] for p in needs.ids}
    assert all(isinstance(v, UUID) for v in call.ids.values())
    assert dict(call.parents) == {
        p.relationship: IDS[p.parameter] for p in needs.ids if p.relationship
    }
    # The principal acts in the workspace the path names, or else in the one the query does.
    scope = IDS[needs.scope] if needs.scope else NAMED
    assert call.principal.workspace_id == scope
    assert call.path_workspace == (IDS[needs.scope] if needs.scope else None)
    assert call.query.workspace_id == NAMED
    assert (call.document is not None) is (needs.body is not None)
    assert (call.relationship is not None) is needs.relationship
    if needs.query == "related":
        assert call.relationship is not None
        assert call.query.include == (call.relationship.name,)


@pytest.mark.parametrize(("resource", "operation", "first", "second"), _pairs())
def test_a_request_broken_in_two_ways_gets_the_earlier_error(resource, operation, first, second):
    b = binding(resource, operation)
    faults = {f.name: f for f in _faults(b)}
    earlier = faults[first]

    status, code, error = answer(b, (faults[first], faults[second]))

    if b.refused_whoever_calls and earlier.status != 401:
        assert (status, code) == (403, "FORBIDDEN")
        return
    assert (status, code) == (earlier.status, earlier.code), error
    if earlier.code == "INVALID_ID":
        assert error["meta"]["path_parameter"] == earlier.name
    if earlier.source is not None:
        assert error["source"] == earlier.source


@pytest.mark.parametrize(("resource", "operation"), BINDINGS)
def test_each_fault_alone_gets_its_own_error(resource, operation):
    b = binding(resource, operation)
    for fault in _faults(b):
        status, code, _ = answer(b, (fault,))
        if b.refused_whoever_calls and fault.status != 401:
            assert (status, code) == (403, "FORBIDDEN"), fault.name
        else:
            assert (status, code) == (fault.status, fault.code), fault.name


def test_a_body_that_is_not_base64_is_read_after_authentication():
    b = binding("workspace_providers", "create")
    parts = b.request()
    ev = b.event(parts)
    ev["body"], ev["isBase64Encoded"] = "%%%", True

    assert serve(b.resource, b.operation, ev).status == 400
    del ev["requestContext"]["authorizer"]
    assert serve(b.resource, b.operation, ev).status == 401


def test_a_body_encoded_in_base64_is_the_body_it_encodes():
    b = binding("workspace_providers", "update")
    ev = b.event(b.request())
    plain = parse_request(request_from_event(ev), b.resource, b.operation.request_spec)
    ev["body"] = base64.b64encode(ev["body"].encode()).decode()
    ev["isBase64Encoded"] = True
    encoded = parse_request(request_from_event(ev), b.resource, b.operation.request_spec)

    assert encoded.document == plain.document


def _call(**changes: Any) -> ParsedRequest:
    b = binding("workspace_providers", "list")
    parts = {**b.request(), **changes}
    return parse_request(request_from_event(b.event(parts)), b.resource, b.operation.request_spec)


def test_a_page_link_keeps_every_parameter_but_the_cursor():
    call = _call(query="page[size]=2&filter[is_selected]=true&workspace_id=" + str(NAMED))

    assert call.kept_parameters() == [
        ("page[size]", "2"),
        ("filter[is_selected]", "true"),
        ("workspace_id", str(NAMED)),
    ]
    assert call.url == (
        f"https://api.test/v1/workspace-providers?page[size]=2&filter[is_selected]=true"
        f"&workspace_id={NAMED}"
    )


def test_without_a_workspace_in_the_query_the_principal_stays_in_its_keys():
    call = _call(query="")

    assert call.principal.workspace_id == WORKSPACE
    assert call.url == "https://api.test/v1/workspace-providers"


def test_a_route_without_a_body_or_a_row_has_neither():
    call = _call()

    with pytest.raises(LookupError):
        call.sent()
    with pytest.raises(KeyError):
        _ = call.row_id


def test_the_request_keeps_only_what_the_event_sent():
    ev = binding("workspace_providers", "retrieve").event(
        binding("workspace_providers", "retrieve").request()
    )
    request = request_from_event(ev)

    assert isinstance(request, Request)
    assert request.path_parameters == {ROW_ID.parameter: str(IDS["id"])}
    assert request.header("ACCEPT") == JSONAPI
    assert request.body is None


# --- Idempotency-Key ---------------------------------------------------------------------------

CREATES = [(r, o) for r, o in BINDINGS if OPERATIONS[o].request_spec.idempotent]


def test_every_post_and_only_a_post_takes_an_idempotency_key():
    assert {o for _, o in CREATES} == {"create", "select", "enrol"}
    assert all(OPERATIONS[o].method == "POST" for _, o in CREATES)
    assert all(
        OPERATIONS[o].request_spec.idempotent for _, o in BINDINGS if OPERATIONS[o].method == "POST"
    )


def _keyed(b: Binding, parts: dict[str, Any], key: str | None, **changes: Any) -> ParsedRequest:
    parts = {**parts, **changes}
    if key is not None:
        parts["headers"] = {**parts["headers"], IDEMPOTENCY_KEY: key}
    return parse_request(request_from_event(b.event(parts)), b.resource, b.operation.request_spec)


@pytest.mark.parametrize(("resource", "operation"), CREATES)
def test_a_create_carries_its_key_and_the_fingerprint_of_what_it_was_sent_with(resource, operation):
    b = binding(resource, operation)
    parts = b.request()
    first = _keyed(b, parts, "k" * 255)
    assert first.idempotency is not None
    assert first.idempotency.key == "k" * 255
    assert _keyed(b, parts, None).idempotency is None
    # Sent again, the same; sent with anything else, another fingerprint.
    assert _keyed(b, parts, "k" * 255).idempotency == first.idempotency
    body = json.loads(parts["body"])
    body["data"]["attributes"] = {**body["data"].get("attributes", {}), "@context": "x"}
    include = b.resource.relationships[0].name
    others = [
        _keyed(b, parts, "k" * 255, body=json.dumps(body)),
        _keyed(b, parts, "k" * 255, query=f"workspace_id={NAMED}&include={include}"),
        _keyed(b, parts, "k" * 255, query=f"workspace_id={uuid4()}"),
    ]
    for other in others:
        assert other.idempotency is not None
        assert other.idempotency.fingerprint != first.idempotency.fingerprint


def test_a_body_in_base64_has_the_fingerprint_of_the_body_it_encodes():
    b = binding("workspace_providers", "create")
    parts = b.request()
    parts["headers"] = {**parts["headers"], IDEMPOTENCY_KEY: "k"}
    ev = b.event(parts)
    plain = parse_request(request_from_event(ev), b.resource, b.operation.request_spec)
    ev["body"] = base64.b64encode(ev["body"].encode()).decode()
    ev["isBase64Encoded"] = True

    assert parse_request(request_from_event(ev), b.resource, b.operation.request_spec) == plain


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "new\nline", "a space"])
def test_an_empty_long_or_unprintable_key_is_400_naming_the_header(key):
    b = binding("workspace_providers", "select")
    parts = b.request()
    parts["headers"] = {**parts["headers"], IDEMPOTENCY_KEY: key}

    response = serve(b.resource, b.operation, b.event(parts))

    assert response.status == 400
    assert response.body is not None
    (error,) = json.loads(response.body)["errors"]
    assert (error["code"], error["source"]) == (
        "INVALID_IDEMPOTENCY_KEY",
        {"header": IDEMPOTENCY_KEY},
    )


def test_a_route_that_is_not_a_create_ignores_the_header():
    b = binding("workspace_providers", "update")
    assert _keyed(b, b.request(), "").idempotency is None
