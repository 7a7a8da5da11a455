"""The parts of an API Gateway HTTP API (payload 2.0) event the operations use.

Below the operations, which take a ``Request``, and ``wellapi.http``, which makes one: the
handler imports the operations, so what both use cannot live in the handler's package.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from wellapi.errors import BadRequest, Unauthorized
from wellapi.principal import Principal, principal_from_claims
from wellapi.settings import get_settings


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    path_parameters: dict[str, str]
    body: bytes | None
    claims: Any
    base_url: str
    request_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def principal(self) -> Principal:
        if self.claims is None:
            raise Unauthorized()
        return principal_from_claims(self.claims)

    @property
    def url(self) -> str:
        return self.base_url + self.path + (f"?{self.raw_query}" if self.raw_query else "")


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
    body: bytes | None = None
    if raw_body is not None:
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw_body, validate=True)
            except (binascii.Error, ValueError) as error:
                raise BadRequest("The request body is not valid base64.") from error
        else:
            body = str(raw_body).encode()
    authorizer = context.get("authorizer") or {}
    return Request(
        method=str(http.get("method") or "GET").upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        raw_query=str(event.get("rawQueryString") or ""),
        headers=headers,
        path_parameters={str(k): str(v) for k, v in (event.get("pathParameters") or {}).items()},
        body=body,
        claims=authorizer.get("lambda"),
        base_url=_base_url(headers, context),
        request_id=str(context.get("requestId") or ""),
    )
