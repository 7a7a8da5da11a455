"""API Gateway's ``$default`` route: every request no route serves, answered as JSON:API.

The mapping (``wellapi.operations.unmatched.RouteTable``) against every served route, in every
spelling a generic client uses, and the function (``functions/unmatched.py``) on API Gateway's
events: 308 with ``Location``, 405 with ``Allow``, 204 to ``OPTIONS``, 404, each document
valid JSON:API. No database: the function reads who calls from the authorizer's claims.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.support.api import Lambda, Reply, answer, event
from wellapi.errors import ERROR_CODES
from wellapi.operations.registry import OPERATIONS, ROUTES, served_routes
from wellapi.operations.unmatched import (
    DEFAULT_ROUTE,
    MAX_PATH,
    SHOWN_PATH,
    RouteTable,
    collections,
)
from wellapi.resources import FEEDS, PARENTS, RESOURCES, VIEWS, resource_named
from wellapi.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
TABLE = RouteTable(served_routes(), collections())
# Fixed, so that every pytest-xdist worker collects the same test ids.
ID, OTHER = "0b6e0f7e-6a51-4d0e-9b0e-3f2c1d4a5b6c", "5c4b3a2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
# A value for each path parameter of the routes: ids, and a relationship's name.
VALUES = {"relationship": "workspace", "id": ID}


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings as a function has them; nothing here connects."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.delenv("API_BASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def handler() -> Any:
    """The function's handler, loaded from its entry point as Lambda loads it."""
    spec = importlib.util.spec_from_file_location("unmatched", ROOT / "functions/unmatched.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


# --- The spellings of a collection, as the test derives them from the descriptions ------------


def _words(path: str, type_name: str) -> dict[str, list[str]]:
    return {"plural": path.split("-"), "singular": type_name.split("_")}


STYLES = {
    "kebab": lambda words: "-".join(words),
    "snake": lambda words: "_".join(words),
    "camel": lambda words: words[0] + "".join(w.capitalize() for w in words[1:]),
    "pascal": lambda words: "".join(w.capitalize() for w in words),
}
DESCRIBED = {
    d.path: d.type
    for d in (*RESOURCES.values(), *VIEWS.values(), *FEEDS.values(), *PARENTS.values())
}
SPELLINGS = [(style, number) for style in STYLES for number in ("plural", "singular")]


def spelled(literal: str, style: str, number: str) -> str:
    """A literal segment of a route as a client spells it (``relationships`` has no type: it
    is only ever spelled as it is)."""
    if literal not in DESCRIBED:
        return literal
    return STYLES[style](_words(literal, DESCRIBED[literal])[number])


def concrete(template: str) -> str:
    """A served path with its parameters filled in."""
    parts = template.split("/")
    return "/".join(VALUES.get(p.strip("{}"), OTHER) if p.startswith("{") else p for p in parts)


def variants(template: str, style: str, number: str) -> Iterator[tuple[str, str]]:
    """(how a client writes the path, its canonical path): the collections spelled so, with
    and without a trailing slash and the /v1 prefix."""
    canonical = concrete(template)
    parts = canonical.split("/")[1:]
    literals = set(template.split("/")) - {"v1"}
    written = "/" + "/".join(spelled(p, style, number) if p in literals else p for p in parts)
    for slash in ("", "/"):
        yield written + slash, canonical
        yield written.removeprefix("/v1") + slash, canonical


# Every served (method, path template), as the template and the OpenAPI document have them.
SERVED = sorted(
    {
        (OPERATIONS[op].method, OPERATIONS[op].path(resource_named(resource)))
        for resource, op in ROUTES
    }
)


def test_the_served_routes_are_those_of_the_template_and_the_openapi_document():
    assert sorted(served_routes()) == SERVED
    assert len(SERVED) == 7 * len(RESOURCES) + 6  # seven per resource, six of their own


@pytest.mark.parametrize(("method", "template"), SERVED, ids=[f"{m} {p}" for m, p in SERVED])
@pytest.mark.parametrize(("style", "number"), SPELLINGS, ids=[f"{s}-{n}" for s, n in SPELLINGS])
def test_every_spelling_of_every_route_redirects_to_it_ids_kept(method, template, style, number):
    for written, canonical in variants(template, style, number):
        found = TABLE.resolve(method, written)
        expected = "served" if written == canonical else "redirect"
        assert (found.kind, found.canonical) == (expected, canonical), written


@pytest.mark.parametrize(("method", "template"), SERVED, ids=[f"{m} {p}" for m, p in SERVED])
def test_a_served_path_with_a_method_no_route_serves_it_with_is_405(method, template):
    allowed = tuple(m for m, p in SERVED if p == template)
    for other in ("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "TRACE"):
        if other in allowed:
            continue
        for written, canonical in variants(template, "snake", "singular"):
            found = TABLE.resolve(other, written)
            assert (found.kind, found.canonical) == ("method", canonical), (other, written)
            assert set(found.allowed) == set(allowed)


@pytest.mark.parametrize(
    ("method", "written", "canonical"),
    [
        # devour-client: snake case, plural
        ("GET", "/v1/account_workspace_connectors", "/v1/account-workspace-connectors"),
        # spraypaint: snake case, singular
        ("GET", "/v1/account_workspace_connector", "/v1/account-workspace-connectors"),
        # @orbit/jsonapi: camel-cased model names
        ("POST", "/v1/accountWorkspaceConnectors", "/v1/account-workspace-connectors"),
        ("GET", "/v1/PeopleWorkspaceConnector", "/v1/people-workspace-connectors"),
        # jsonapi-requests: a trailing slash
        ("GET", "/v1/workspace-providers/", "/v1/workspace-providers"),
        ("PATCH", f"/v1/workspace-providers/{ID}/", f"/v1/workspace-providers/{ID}"),
        ("DELETE", f"/v1/workspace_provider/{ID}", f"/v1/workspace-providers/{ID}"),
        # no /v1
        ("GET", f"/workspace-providers/{ID}/provider", f"/v1/workspace-providers/{ID}/provider"),
        (
            "GET",
            f"/v1/companyWorkspaceConnectors/{ID}/relationships/company/",
            f"/v1/company-workspace-connectors/{ID}/relationships/company",
        ),
        # the platform's nested routes, every collection of them
        ("GET", f"/v1/workspace/{ID}/provider", f"/v1/workspaces/{ID}/providers"),
        ("POST", f"/v1/Workspaces/{ID}/Providers/", f"/v1/workspaces/{ID}/providers"),
        (
            "DELETE",
            f"/workspaces/{ID}/providers/{OTHER}/",
            f"/v1/workspaces/{ID}/providers/{OTHER}",
        ),
        ("POST", f"/v1/workspace_groups/{ID}/workspaces", f"/v1/workspace-groups/{ID}/workspaces"),
        (
            "DELETE",
            f"/v1/workspaceGroup/{ID}/workspace/{OTHER}",
            f"/v1/workspace-groups/{ID}/workspaces/{OTHER}",
        ),
        ("GET", "/v1/change/", "/v1/changes"),
        # an id that is no UUID is kept as sent (the canonical route answers 400 INVALID_ID)
        ("GET", "/v1/workspace_providers/not-an-id", "/v1/workspace-providers/not-an-id"),
    ],
)
def test_what_generic_clients_send_redirects_to_the_canonical_path(method, written, canonical):
    found = TABLE.resolve(method, written)
    assert (found.kind, found.canonical) == ("redirect", canonical)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v1/",
        "/v2/workspace-providers",
        "/v1/providers",  # the catalog is nested under its workspace
        "/v1/workspace-provider-things",
        "/v1/workspace--providers",
        "/v1/workspace providers",
        "/v1/workspaces",
        f"/v1/workspaces/{ID}",
        f"/v1/workspace-providers/{ID}/relationships/provider/extra",
        f"/v1/workspace-providers/{ID}/relationship/provider",
        "/v1/workspace-providers//provider",  # an empty id: no route takes it
        f"/v1//workspace-providers/{ID}",
        "/v1/changes/x",
        "/v1/openapi.json",  # served by `make run` alone, never in AWS
        "/v1/" + "a" * MAX_PATH,
    ],
)
def test_a_path_no_route_has_in_any_spelling_is_missing(path):
    for method in ("GET", "POST", "OPTIONS"):
        assert TABLE.resolve(method, path).kind == "missing", (method, path)


def test_a_collection_is_spelled_in_a_path_as_a_write_s_type_may_be():
    # One rule for both (wellapi.jsonapi.body.accepted_types): snake, kebab, camel or Pascal
    # case, singular or plural; nothing else.
    spellings = collections()
    for path, type_name in DESCRIBED.items():
        written = {spelled(path, style, number) for style, number in SPELLINGS}
        assert spellings[path] == written | {type_name}, path
    for other in (
        "ACCOUNT_WORKSPACE_CONNECTORS",
        "account__workspace_connectors",
        "account-workspace_connectors",
        "Account_Workspace_Connectors",
        "accountworkspaceconnectors",
    ):
        assert TABLE.resolve("GET", f"/v1/{other}").kind == "missing", other


# --- The function, on API Gateway's events ------------------------------------------------------


def claims() -> dict[str, str]:
    """What the authorizer answers for a key (the token is only checked by its form here)."""
    return {
        "person_id": str(uuid4()),
        "principal_kind": "member",
        "workspace_id": str(uuid4()),
        "api_key_id": str(uuid4()),
        "scope_token": f"t1.1.member.9999999999.{'0' * 64}",
    }


def send(
    handler: Any,
    method: str,
    path: str,
    *,
    query: str = "",
    caller: dict[str, str] | None = None,
    anonymous: bool = False,
    body: str | None = None,
) -> Reply:
    sent = event(method, path, query=query, body=body, claims=None if anonymous else caller)
    if not anonymous and caller is None:
        sent["requestContext"]["authorizer"] = {"lambda": claims()}
    sent["routeKey"] = sent["requestContext"]["routeKey"] = DEFAULT_ROUTE
    return answer(handler(sent, Lambda()))


def error_of(reply: Reply) -> dict[str, Any]:
    (error,) = reply.json["errors"]
    assert error["meta"]["trace_id"]
    assert ERROR_CODES[error["code"]].status == reply.status == int(error["status"])
    return dict(error)


def test_a_misspelt_path_is_a_308_to_the_canonical_url_query_kept(handler):
    query = "include=provider&page[size]=5&filter%5Bis_selected%5D=true"
    reply = send(handler, "GET", "/v1/workspace_providers/", query=query)
    assert reply.status == 308
    location = f"https://api.test/v1/workspace-providers?{query}"
    assert reply.headers["Location"] == location
    assert reply.headers["Content-Type"] == "application/vnd.api+json"
    assert reply.json["meta"]["canonical_path"] == "/v1/workspace-providers"
    assert "GET /v1/workspace_providers/" in reply.json["meta"]["detail"]
    assert "errors" not in reply.json
    assert "data" not in reply.json


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_write_is_redirected_too_308_keeping_its_method_and_body(handler, method):
    path = "/v1/workspaceProviders" if method == "POST" else f"/v1/workspace-provider/{ID}/"
    reply = send(handler, method, path, body='{"data": {}}')
    assert reply.status == 308
    assert reply.headers["Location"] == "https://api.test" + path.replace(
        "workspaceProviders", "workspace-providers"
    ).replace("workspace-provider/", "workspace-providers/").rstrip("/")


def test_the_redirect_names_the_configured_base_url(handler, monkeypatch):
    monkeypatch.setenv("API_BASE_URL", "https://api.example.com/junctions/")
    get_settings.cache_clear()
    reply = send(handler, "GET", "/v1/change")
    assert reply.headers["Location"] == "https://api.example.com/junctions/v1/changes"


def test_a_path_no_route_has_is_a_jsonapi_404(handler):
    reply = send(handler, "GET", "/v1/accounts")
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/vnd.api+json"
    error = error_of(reply)
    assert error["code"] == "ROUTE_NOT_FOUND"
    assert error["detail"] == "No route of this API serves GET /v1/accounts."


def test_a_method_a_served_path_lacks_is_a_405_with_allow(handler):
    reply = send(handler, "PUT", f"/v1/workspace-providers/{ID}")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, PATCH, DELETE"
    error = error_of(reply)
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert error["meta"]["allowed_methods"] == ["GET", "PATCH", "DELETE"]
    assert error["detail"].startswith(f"PUT is not a method of /v1/workspace-providers/{ID}")
    assert "canonical_path" not in error["meta"]
    # An id a URL must escape is no other spelling of the path.
    reply = send(handler, "PUT", "/v1/workspace-providers/a b")
    assert reply.status == 405
    assert "canonical_path" not in error_of(reply)["meta"]
    # Misspelt too: the 405 names the canonical path, which the redirect would lead to.
    reply = send(handler, "DELETE", "/v1/change/")
    assert (reply.status, reply.headers["Allow"]) == (405, "GET")
    assert error_of(reply)["meta"]["canonical_path"] == "/v1/changes"


def test_options_is_answered_without_credentials_with_allow(handler):
    # A browser's CORS preflight carries no key; API Gateway adds the CORS headers.
    for path in (f"/v1/workspace-providers/{ID}", "/v1/workspace_providers/"):
        reply = send(handler, "OPTIONS", path, anonymous=True)
        assert (reply.status, reply.body) == (204, "")
        assert reply.headers["Allow"] in ("GET, PATCH, DELETE", "GET, POST")
    assert send(handler, "OPTIONS", "/v1/nothing", anonymous=True).status == 401
    assert send(handler, "OPTIONS", "/v1/nothing").status == 404


def test_without_a_valid_key_every_other_answer_is_401_first(handler):
    # What the authorizer says of the credential decides the code and the challenge.
    refusals = [
        ({"credentials": "missing"}, "CREDENTIALS_MISSING", 'Bearer realm="wellapi"'),
        (
            {"credentials": "malformed"},
            "CREDENTIALS_MALFORMED",
            'Bearer realm="wellapi", error="invalid_request"',
        ),
        (
            {"credentials": "invalid"},
            "CREDENTIALS_INVALID",
            'Bearer realm="wellapi", error="invalid_token"',
        ),
    ]
    for method, path in (("GET", "/v1/workspace_providers"), ("PUT", "/v1/changes"), ("GET", "/x")):
        for claims, code, challenge in refusals:
            reply = send(handler, method, path, caller=claims)
            assert (reply.status, error_of(reply)["code"]) == (401, code), (path, claims)
            assert reply.headers["WWW-Authenticate"] == challenge
    # The key store unreachable when the authorizer looked: 503, as on every route.
    reply = send(handler, "GET", "/v1/workspace_providers", caller={"auth_unavailable": "true"})
    assert (reply.status, error_of(reply)["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert reply.headers["Retry-After"]


def test_what_an_answer_shows_of_a_path_is_escaped_and_bounded(handler):
    hostile = "/v1/<script>\u202e\x00'\"" + "é" * 500
    error = error_of(send(handler, "GET", hostile))
    shown = error["detail"].removeprefix("No route of this API serves GET ").removesuffix(".")
    assert len(shown) == SHOWN_PATH + 1
    assert shown.endswith("…")
    assert shown[:-1].isascii()
    assert shown[:-1].isprintable()
    assert not set('<>"\\') & set(shown)
    assert shown.startswith("/v1/%3Cscript%3E%E2%80%AE%00'%22%C3%A9")
    # An id is kept, percent-encoded, in Location and in the document; so is the query.
    reply = send(handler, "GET", '/v1/workspace_providers/a b"<é>', query="q=é <x>&page[size]=1")
    location = reply.headers["Location"]
    assert location == (
        "https://api.test/v1/workspace-providers/a%20b%22%3C%C3%A9%3E?q=%C3%A9%20%3Cx%3E&page[size]=1"
    )
    assert reply.json["meta"]["canonical_path"] == "/v1/workspace-providers/a%20b%22%3C%C3%A9%3E"


def test_an_escape_the_client_sent_is_not_escaped_twice(handler):
    # rawPath keeps %25 (a percent sign) encoded: it stays so in Location.
    reply = send(handler, "GET", "/v1/workspace_providers/a%25b", query="x=%25")
    assert reply.headers["Location"] == "https://api.test/v1/workspace-providers/a%25b?x=%25"


def test_a_served_route_sent_here_is_a_500_that_pages(handler):
    # API Gateway routes a served route to its function: one here means the deployed routes
    # are not the registry's.
    reply = send(handler, "GET", "/v1/changes")
    assert (reply.status, error_of(reply)["code"]) == (500, "INTERNAL_ERROR")


def test_an_event_of_another_route_is_refused(handler):
    sent = event("GET", "/v1/changes", claims=claims())
    reply = answer(handler(sent, Lambda()))
    assert (reply.status, error_of(reply)["code"]) == (404, "NOT_FOUND")


def test_the_function_logs_its_request_under_the_default_route(handler, capsys):
    send(handler, "GET", "/v1/nothing")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    (line,) = [x for x in lines if x.get("message") == "request"]
    assert (line["route"], line["status"], line["Requests"]) == (DEFAULT_ROUTE, "404", [1.0])
    assert "/v1/nothing" not in json.dumps(line)
