"""Lambda authorizers of HTTP APIs (REQUEST type, payload format 2.0), as API Gateway runs them.

A request missing an identity source never reaches the authorizer (401). The authorizer's answer
is cached per identity source values for its TTL, for every route of the API: a simple response
allows or denies them all; an IAM policy response is evaluated again against each route's ARN.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from welldev.payload import STAGE, Event
from welldev.stack import LOCAL_ACCOUNT_ID, Authorizer, local_region


class AuthorizerFailed(Exception):
    """The authorizer raised or answered something API Gateway cannot use: a 500."""


@dataclass
class AuthorizerCache:
    """Authorizer responses per (authorizer, identity source values), for the authorizer's TTL."""

    clock: Callable[[], float] = time.monotonic
    _entries: dict[tuple[str, str, tuple[str, ...]], tuple[float, dict[str, Any]]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple[str, str, tuple[str, ...]]) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self.clock():
                self._entries.pop(key, None)
                return None
            return entry[1]

    def put(
        self, key: tuple[str, str, tuple[str, ...]], ttl: int, response: dict[str, Any]
    ) -> None:
        if ttl > 0:
            with self._lock:
                self._entries[key] = (self.clock() + ttl, response)


def identity_values(authorizer: Authorizer, event: Event) -> list[str] | None:
    """The identity source values, or None when one is missing or empty (API Gateway: 401)."""
    values: list[str] = []
    for source in authorizer.identity_sources:
        value: Any = None
        if source.startswith("$request.header."):
            value = event["headers"].get(source.removeprefix("$request.header.").lower())
        elif source.startswith("$request.querystring."):
            query = event.get("queryStringParameters") or {}
            value = query.get(source.removeprefix("$request.querystring."))
        elif source.startswith("$context."):
            value = event["requestContext"]
            for part in source.removeprefix("$context.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
        # $stageVariables.*: there are no stage variables locally, so the value is missing.
        if value is None or value == "":
            return None
        values.append(str(value))
    return values


def route_arn(event: Event) -> str:
    context = event["requestContext"]
    region = local_region()
    return (
        f"arn:aws:execute-api:{region}:{LOCAL_ACCOUNT_ID}:{context['apiId']}/{STAGE}/"
        f"{context['http']['method']}{event['rawPath']}"
    )


def authorizer_event(event: Event, identity: list[str]) -> Event:
    request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
    return {"type": "REQUEST", "routeArn": route_arn(event), "identitySource": identity, **request}


def is_authorized(authorizer: Authorizer, response: Any, arn: str) -> bool:
    """Read a simple response, or evaluate an IAM policy response against the route's ARN."""
    if not isinstance(response, dict):
        raise AuthorizerFailed(f"authorizer {authorizer.name} returned {type(response).__name__}")
    if authorizer.simple_responses:
        allowed = response.get("isAuthorized")
        if not isinstance(allowed, bool):
            raise AuthorizerFailed(f"authorizer {authorizer.name}: isAuthorized must be a boolean")
        return allowed
    statements = (response.get("policyDocument") or {}).get("Statement")
    if not isinstance(statements, list):
        raise AuthorizerFailed(f"authorizer {authorizer.name}: policyDocument.Statement missing")
    effects = {
        str(statement.get("Effect"))
        for statement in statements
        if isinstance(statement, dict) and _policy_resource_matches(statement.get("Resource"), arn)
    }
    return "Allow" in effects and "Deny" not in effects


def _policy_resource_matches(resource: Any, arn: str) -> bool:
    patterns = resource if isinstance(resource, list) else [resource]
    return any(isinstance(p, str) and fnmatch.fnmatchcase(arn, p) for p in patterns)
