"""CORS at the local gateway, as API Gateway answers it from the HTTP API's configuration.

The CORS server shares the fixture files of the plain one (tests/support/local_server.py): one
process holds one module of a name, so both must run the same fixture functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.local_server import GOOD, Stack, reset_authorizer, serve
from tests.support.stacks import function, route
from welldev.stack import CorsConfiguration, Function


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from serve(tmp_path_factory)


@pytest.fixture(autouse=True)
def fresh_authorizer(stack: Stack) -> None:
    """Each test starts with an empty authorizer call log."""
    reset_authorizer(stack)


APP_ORIGIN = "http://localhost:5173"
CORS = CorsConfiguration(
    allow_origins=("https://app.example.com", APP_ORIGIN),
    allow_methods=("GET", "POST", "DELETE", "OPTIONS"),
    allow_headers=("authorization", "content-type"),
    expose_headers=("location", "retry-after"),
    max_age=600,
)


def cors_functions(root: Path) -> list[Function]:
    src = root / "src"
    return [
        function(
            "DeleteFunction",
            "server_fixture_app.deleted",
            src,
            routes=[("DELETE", "/v1/things/{id}")],
        ),
        function(
            "CorsHeadersFunction",
            "server_fixture_app.cors_headers",
            src,
            routes=[("GET", "/own-cors", None)],
        ),
    ]


@pytest.fixture(scope="module")
def cors_module(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    yield from serve(tmp_path_factory, cors_functions, CORS, root=stack.root)


@pytest.fixture
def cors(cors_module: Stack) -> Stack:
    return cors_module


def preflight(origin: str, method: str = "GET") -> list[tuple[str, str]]:
    return [
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", "authorization,content-type"),
    ]


def test_the_gateway_answers_with_its_apis_cors_configuration(cors: Stack, stack: Stack) -> None:
    assert cors.gateway.cors == CORS
    assert stack.gateway.cors is None


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway(cors: Stack) -> None:
    before = len(cors.authorizer_calls)
    status, headers, body = cors.request(
        "OPTIONS", "/v1/things/abc", preflight(APP_ORIGIN, "DELETE")
    )
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == APP_ORIGIN
    assert headers["access-control-allow-methods"] == "GET,POST,DELETE,OPTIONS"
    assert headers["access-control-allow-headers"] == "authorization,content-type"
    assert headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in headers
    assert "content-type" not in headers
    assert headers["apigw-requestid"]
    # Neither the authorizer nor a function ran (there is no OPTIONS route to run).
    assert len(cors.authorizer_calls) == before
    # The server logs a request once its answer is written: the line may follow the answer.
    assert cors.log.wait_for("gateway (CORS preflight)")


def test_a_preflight_from_another_origin_gets_no_cors_headers(cors: Stack) -> None:
    status, headers, body = cors.request(
        "OPTIONS", "/v1/things/abc", preflight("https://evil.example")
    )
    assert (status, body) == (204, b"")
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    assert cors.authorizer_calls == []


def test_an_options_request_that_is_no_preflight_is_routed_as_usual(cors: Stack) -> None:
    status, _, body = cors.request("OPTIONS", "/v1/things/abc", [("Origin", APP_ORIGIN)])
    assert (status, body) == (404, b'{"message":"Not Found"}')
    # An ANY route takes OPTIONS, preflights included, through its authorizer (as in AWS).
    status, _, _ = cors.request("OPTIONS", "/files/a", preflight(APP_ORIGIN))
    assert status == 403  # the authorizer refuses a request without a key


def test_a_get_from_an_allowed_origin_carries_the_cors_headers(cors: Stack) -> None:
    status, headers, body = cors.request("GET", "/v1/things/7", [*GOOD, ("Origin", APP_ORIGIN)])
    assert status == 200, body
    assert headers["access-control-allow-origin"] == APP_ORIGIN
    assert headers["access-control-expose-headers"] == "location,retry-after"
    assert len(cors.authorizer_calls) == 1
    # Without an Origin header (curl, servers) nothing is added.
    status, headers, _ = cors.request("GET", "/v1/things/7", GOOD)
    assert status == 200
    assert "access-control-allow-origin" not in headers


def test_gateway_answers_carry_the_cors_headers_and_other_origins_get_none(cors: Stack) -> None:
    status, headers, _ = cors.request("GET", "/nope", [("Origin", APP_ORIGIN)])
    assert (status, headers["access-control-allow-origin"]) == (404, APP_ORIGIN)
    status, headers, _ = cors.request("GET", "/v1/things/7", [("Origin", APP_ORIGIN)])
    assert (status, headers["access-control-allow-origin"]) == (403, APP_ORIGIN)
    status, headers, _ = cors.request("GET", "/v1/things/7", [*GOOD, ("Origin", "https://x.test")])
    assert status == 200
    assert "access-control-allow-origin" not in headers


def test_the_functions_own_cors_headers_are_ignored(cors: Stack) -> None:
    status, headers, _ = cors.request("GET", "/own-cors", [("Origin", "https://evil.example")])
    assert status == 200
    assert headers["location"] == "/v1/things/1"
    assert "access-control-allow-origin" not in headers
    status, headers, _ = cors.request("GET", "/own-cors", [("Origin", APP_ORIGIN)])
    assert headers.get_all("access-control-allow-origin") == [APP_ORIGIN]


def test_without_cors_an_options_preflight_is_still_a_404(stack: Stack) -> None:
    assert stack.gateway.cors is None
    status, headers, body = stack.request("OPTIONS", "/v1/things/1", preflight(APP_ORIGIN))
    assert (status, body) == (404, b'{"message":"Not Found"}')
    assert "access-control-allow-origin" not in headers


def test_a_delete_answers_204_without_content_type_or_body(cors: Stack) -> None:
    for extra in ([], [("Origin", APP_ORIGIN)]):
        status, headers, body = cors.request("DELETE", "/v1/things/1", [*GOOD, *extra])
        assert (status, body) == (204, b"")
        assert "content-type" not in headers
        assert headers["content-length"] == "0"
        assert headers["vary"] == "Accept"


# A $default route (as the project's template has) takes every request no route serves,
# preflights included: its integration answers, and the gateway adds the preflight's headers.
def default_route_functions(root: Path) -> list[Function]:
    default = function("DefaultFunction", "server_fixture_app.deleted", root / "src")
    return [
        *cors_functions(root),
        replace(default, http_routes=(route(default.logical_id, "ANY", "$default", None),)),
    ]


@pytest.fixture(scope="module")
def default_route(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    only_app = replace(CORS, allow_origins=(APP_ORIGIN,))
    yield from serve(tmp_path_factory, default_route_functions, only_app, root=stack.root)


def test_a_preflight_the_default_route_answers_gets_the_preflight_headers(
    default_route: Stack,
) -> None:
    status, headers, body = default_route.request(
        "OPTIONS", "/v1/things/abc", preflight(APP_ORIGIN, "DELETE")
    )
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == APP_ORIGIN
    assert headers["access-control-allow-methods"] == "GET,POST,DELETE,OPTIONS"
    assert headers["access-control-allow-headers"] == "authorization,content-type"
    assert headers["access-control-max-age"] == "600"
    assert default_route.log.wait_for("DefaultFunction")
    # Another origin's preflight gets none; a request that is no preflight, a normal answer's.
    status, headers, _ = default_route.request(
        "OPTIONS", "/v1/things/abc", preflight("https://evil.example")
    )
    assert status == 204
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    status, headers, _ = default_route.request("GET", "/nope", [("Origin", APP_ORIGIN)])
    assert (status, headers["access-control-allow-origin"]) == (204, APP_ORIGIN)
    assert "access-control-allow-methods" not in headers
