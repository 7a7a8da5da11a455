"""Invoke handlers with API Gateway HTTP API events, and check every document they return."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import jsonschema_rs

from tests.support.links import WALKER, caller_key, route_of
from wellapi.handlers.api import api_handler
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import RESOURCES

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "vendor" / "jsonapi"
JSONAPI = "application/vnd.api+json"


@lru_cache(maxsize=1)
def response_validator() -> Any:
    schema = json.loads((SCHEMA_DIR / "1.1-schema.json").read_text())
    return jsonschema_rs.validator_for(schema)


def assert_valid_document(document: Any) -> None:
    errors = [f"{e.instance_path}: {e.message}" for e in response_validator().iter_errors(document)]
    assert not errors, f"not a valid JSON:API 1.1 document: {errors[:5]}"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.json["errors"])

    def error_codes(self) -> list[str]:
        return [e["code"] for e in self.errors]


class Lambda:
    """A context object as the handlers see it."""

    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:test"

    def __init__(self, remaining_ms: int = 15000) -> None:
        self.aws_request_id = str(uuid4())
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def event(
    method: str,
    path: str,
    *,
    query: str = "",
    claims: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    route: str | None = None,
) -> dict[str, Any]:
    all_headers = {"host": "api.test", "x-forwarded-proto": "https", "accept": JSONAPI}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    ev: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route or path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "api.test",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid4()),
            "routeKey": f"{method} {route or path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if path_parameters:
        ev["pathParameters"] = path_parameters
    if body is not None:
        ev["body"] = body
    if claims is not None:
        ev["requestContext"]["authorizer"] = {"lambda": claims}
    return ev


def call(resource: str, operation: str, ev: dict[str, Any]) -> Reply:
    return invoke(_handler(resource, operation), ev)


def invoke(handler: Any, ev: dict[str, Any]) -> Reply:
    """What ``handler`` answers to ``ev``: every body must be a JSON:API document of ours."""
    reply = answer(handler(ev, Lambda()))
    WALKER.walk(_asked(ev), reply, caller_key(_claims(ev)), lambda link: _follow(ev, link))
    return reply


def answer(result: dict[str, Any]) -> Reply:
    """A handler's result as a reply, its body checked to be a JSON:API document of ours."""
    headers = dict(result.get("headers") or {})
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[k] = ", ".join(values)
    reply = Reply(result["statusCode"], headers, result.get("body") or "")
    if reply.body:
        assert headers.get("Content-Type", "").startswith(JSONAPI), headers
        assert_valid_document(reply.json)
    return reply


def _claims(ev: dict[str, Any]) -> Any:
    return ((ev.get("requestContext") or {}).get("authorizer") or {}).get("lambda")


def _asked(ev: dict[str, Any]) -> str:
    method = ev["routeKey"].split(" ")[0]
    query = ev.get("rawQueryString")
    return f"{method} {ev.get('rawPath', '')}" + (f"?{query}" if query else "")


def _follow(ev: dict[str, Any], link: str) -> Reply:
    """GET ``link`` from its route's function, with the claims and host ``ev`` came with."""
    url = urlsplit(link)
    resolved = route_of(url.path)
    assert resolved is not None, link
    route, parameters = resolved
    return call(
        route.resource,
        route.operation,
        event(
            "GET",
            url.path,
            query=url.query,
            claims=_claims(ev),
            path_parameters=parameters,
            headers={"host": url.netloc} if url.netloc else {},
            route=route.template,
        ),
    )


@cache
def _handler(resource: str, operation: str) -> Any:
    return api_handler(resource, OPERATIONS[operation])


def get(
    resource: str,
    claims: dict[str, str] | None,
    *,
    row_id: str | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Reply:
    base = "/v1/" + resource.replace("_", "-")
    if row_id is None:
        return call(
            resource, "list", event("GET", base, query=query, claims=claims, headers=headers)
        )
    return call(
        resource,
        "retrieve",
        event(
            "GET",
            f"{base}/{row_id}",
            query=query,
            claims=claims,
            path_parameters={"id": row_id},
            headers=headers,
            route=base + "/{id}",
        ),
    )


def related(
    resource: str,
    claims: dict[str, str] | None,
    row_id: str,
    relationship: str,
    *,
    linkage: bool = False,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Reply:
    """GET the record a relationship points at, or (``linkage``) the relationship itself."""
    operation = "relationship" if linkage else "related"
    route = OPERATIONS[operation].path(RESOURCES[resource])
    return call(
        resource,
        operation,
        event(
            "GET",
            route.format(id=row_id, relationship=relationship),
            query=query,
            claims=claims,
            path_parameters={"id": row_id, "relationship": relationship},
            headers=headers,
            route=route,
        ),
    )
