"""The local gateway's rules of API Gateway, checked without a server or the network.

Routing precedence and the mapping of a function's
result to an HTTP response; test_local_server.py checks the same through a running server.
"""

from __future__ import annotations

from typing import Any

import pytest

from welldev import stack as local_stack
from welldev.gateway import Gateway, PathTemplate, Router, RouteTarget
from welldev.lambda_runtime import LambdaRuntime
from welldev.payload import InvalidLambdaResponse, map_response
from welldev.stack import StackError


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ({"statusCode": True}, "statusCode"),
        ({"statusCode": 99}, "statusCode"),
        ({"statusCode": 200, "headers": ["x"]}, "headers must be an object"),
        ({"statusCode": 200, "headers": {"x": ["1", "2"]}}, "single value"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies"),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "base64"),
    ],
)
def test_results_api_gateway_cannot_send_are_refused(result: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidLambdaResponse, match=problem):
        map_response(result, warn=lambda note: None)


def test_a_response_without_body_or_content_type_gets_api_gateways_defaults() -> None:
    # No body, no Content-Type: API Gateway documents none for a result with a statusCode
    # (payload.UNTYPED_BODY_CONTENT_TYPE says what is known); a 204 stays without one.
    response = map_response(
        {"statusCode": 204, "headers": {"Content-Length": "99", "X-Ok": True}}, warn=print
    )
    assert response.status == 204
    assert response.body == b""
    assert response.headers == [("X-Ok", "true")]
    typed = map_response({"statusCode": 200, "body": "text"}, warn=print)
    assert typed.headers == [("content-type", "text/plain")]


def test_route_precedence_follows_api_gateway() -> None:
    def target(method: str, path: str) -> RouteTarget:
        return RouteTarget(method, path, function_id=f"{method} {path}")

    router = Router(
        [
            target("ANY", "$default"),
            target("ANY", "/v1/{proxy+}"),
            target("ANY", "/v1/things/{id}"),
            target("GET", "/v1/things/{id}"),
            target("GET", "/v1/things/special"),
        ]
    )

    def winner(method: str, path: str) -> str | None:
        matched = router.match(method, path)
        return matched[0].function_id if matched else None

    assert winner("GET", "/v1/things/special") == "GET /v1/things/special"
    assert winner("GET", "/v1/things/1") == "GET /v1/things/{id}"
    assert winner("PUT", "/v1/things/1") == "ANY /v1/things/{id}"
    assert winner("PUT", "/v1/things/1/sub") == "ANY /v1/{proxy+}"
    assert winner("GET", "/v1") == "ANY $default"  # only $default is left
    with pytest.raises(StackError, match="greedy"):
        PathTemplate("/{proxy+}/x")
    with pytest.raises(StackError, match="declared twice"):
        Router([target("GET", "/x"), target("GET", "/x")])


def test_a_literal_segment_wins_over_a_variable_at_any_depth() -> None:
    # The related-resource and relationship routes of JSON:API: where a variable and the
    # literal `relationships` could both take a segment, the literal does, whichever route
    # the template declares first.
    routes = [
        "/v1/things/{id}/{relationship}",
        "/v1/things/{id}/{relationship}/{rest}",
        "/v1/things/{id}/relationships/{relationship}",
        "/v1/things/{id}/relationships",
    ]
    for ordered in (routes, routes[::-1]):
        router = Router([RouteTarget("GET", path, function_id=path) for path in ordered])

        def winner(path: str, router: Router = router) -> tuple[str | None, dict[str, str]]:
            matched = router.match("GET", path)
            assert matched is not None, path
            return matched[0].function_id, matched[1]

        assert winner("/v1/things/1/owner") == (
            "/v1/things/{id}/{relationship}",
            {"id": "1", "relationship": "owner"},
        )
        assert winner("/v1/things/1/relationships/owner") == (
            "/v1/things/{id}/relationships/{relationship}",
            {"id": "1", "relationship": "owner"},
        )
        assert winner("/v1/things/1/relationships") == (
            "/v1/things/{id}/relationships",
            {"id": "1"},
        )
        assert winner("/v1/things/1/owner/x") == (
            "/v1/things/{id}/{relationship}/{rest}",
            {"id": "1", "relationship": "owner", "rest": "x"},
        )


def test_the_projects_item_routes_reach_the_function_api_gateway_would_choose() -> None:
    # The project's stack as `wellapi run` serves it: a resource's retrieve, related-resource and
    # relationship routes share their first segments; each request reaches its own function.
    template = local_stack.load()
    router = Gateway(template, LambdaRuntime(template)).router
    item = "01a184f4-d400-7cbc-acef-5d77a5d45e01"
    resources = {
        "account-workspace-connectors": "AccountWorkspaceConnectors",
        "company-workspace-connectors": "CompanyWorkspaceConnectors",
        "people-workspace-connectors": "PeopleWorkspaceConnectors",
        "workspace-group-workspaces": "WorkspaceGroupWorkspaces",
        "workspace-providers": "WorkspaceProviders",
    }
    for path, logical in resources.items():

        def chosen(
            tail: str, base: str = f"/v1/{path}/{item}"
        ) -> tuple[str | None, dict[str, str]]:
            matched = router.match("GET", base + tail)
            assert matched is not None, base + tail
            return matched[0].function_id, matched[1]

        assert chosen("") == (f"{logical}RetrieveFunction", {"id": item})
        assert chosen("/workspace") == (
            f"{logical}RelatedFunction",
            {"id": item, "relationship": "workspace"},
        )
        assert chosen("/relationships/workspace") == (
            f"{logical}RelationshipFunction",
            {"id": item, "relationship": "workspace"},
        )
        # No route has the bare literal: API Gateway gives it to the variable, as here (the
        # function answers 404, no such relationship).
        assert chosen("/relationships") == (
            f"{logical}RelatedFunction",
            {"id": item, "relationship": "relationships"},
        )
        # What no route takes goes to the $default route's function.
        assert chosen("/relationships/workspace/x") == ("UnmatchedFunction", {})
        assert chosen("/") == ("UnmatchedFunction", {})
