"""API Gateway HTTP API payload format 2.0: the event a function receives, and how its result
becomes the HTTP response. Two behaviours of API Gateway, copied on purpose:

- a request body is passed as text only for ``text/*``, ``application/json``,
  ``application/xml`` and ``application/javascript``; any other content type (even
  ``application/vnd.api+json``, or none) arrives base64 encoded, ``isBase64Encoded: true``;
- a 2.0 response's ``multiValueHeaders`` are ignored (a comma-joined header, or ``cookies`` for
  ``Set-Cookie``, instead): dropped with a warning.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from welldev.stack import LOCAL_ACCOUNT_ID

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
STAGE = "$default"
_TEXT_CONTENT_TYPES = ("application/json", "application/xml", "application/javascript")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Event = dict[str, Any]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request-target as received: "/v1/things?x=1"
    headers: Sequence[tuple[str, str]]  # as received, repeats and order kept
    body: bytes
    source_ip: str
    server_port: int
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    served_by: str = "gateway"  # the function (or local route) that answered, for the log


def gateway_response(status: int, message: str) -> HttpResponse:
    """One of API Gateway's own answers, with its exact body."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def raw_path_of(target: str) -> str:
    """``rawPath`` as API Gateway builds it: percent escapes decoded, except ``%25``."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:  # absolute-form request-target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return "%25".join(unquote(part) for part in (path or "/").split("%25"))


def build_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str],
    api_id: str,
    request_id: str,
    now: float,
) -> Event:
    """The event API Gateway sends a Lambda integration with payload format version 2.0."""
    raw_path = raw_path_of(request.target)
    raw_query = request.target.partition("?")[2].split("#", 1)[0]
    headers, cookies = _event_headers(request)
    t = time.gmtime(now)
    host = headers.get("host", f"127.0.0.1:{request.server_port}")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    event: Event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query := _joined(parse_qsl(raw_query, keep_blank_values=True)):
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["requestContext"] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": STAGE,
        # "21/Nov/2026:09:30:00 +0000", in English whatever the process locale is.
        "time": f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{time.strftime('%Y:%H:%M:%S', t)} +0000",
        "timeEpoch": int(now * 1000),
    }
    text = _body_text(request.body, headers.get("content-type"))
    if request.body:
        event["body"] = base64.b64encode(request.body).decode() if text is None else text
    event["isBase64Encoded"] = bool(request.body) and text is None
    return event


def _event_headers(request: HttpRequest) -> tuple[dict[str, str], list[str]]:
    """Lower-cased headers, repeats joined by commas; ``cookie`` moves to ``cookies``."""
    named = [(name.lower(), value) for name, value in request.headers]
    cookies = [c.strip() for key, value in named if key == "cookie" for c in value.split(";")]
    headers = _joined((key, value) for key, value in named if key != "cookie")
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = (
        f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    )
    headers["x-forwarded-port"] = str(request.server_port)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    return headers, [cookie for cookie in cookies if cookie]


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each name once, its repeated values joined by commas (headers, query parameters)."""
    values: dict[str, str] = {}
    for key, value in pairs:
        values[key] = f"{values[key]},{value}" if key in values else value
    return values


def _body_text(body: bytes, content_type: str | None) -> str | None:
    """The body as text when API Gateway passes it as text, else None (it goes as base64)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type.startswith("text/") or media_type in _TEXT_CONTENT_TYPES:
        with suppress(UnicodeDecodeError):
            return body.decode("utf-8")
    return None


# The Content-Type of a result with a statusCode and a body but no content-type: AWS documents
# application/json only without statusCode (docs.aws.amazon.com/apigateway/latest/developerguide/
# http-api-develop-integrations-lambda.html); users report text/plain (github.com/aws-powertools/
# powertools-lambda-python/issues/2464). Without a body (a 204), none (RFC 9110, section 8.3).
UNTYPED_BODY_CONTENT_TYPE = "text/plain"


class InvalidLambdaResponse(ValueError):
    """A result API Gateway cannot turn into a response: the client gets a 500."""


_FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}


def map_response(result: Any, warn: Callable[[str], None]) -> HttpResponse:
    """The response API Gateway makes of a function's result (the payload format 2.0 rules)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway sends the whole result as a JSON (or text) body.
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], text.encode())

    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidLambdaResponse(f"statusCode must be an HTTP status, not {status!r}")
    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise InvalidLambdaResponse("headers must be an object")
    for name, value in raw_headers.items():
        if isinstance(value, dict | list) or value is None:
            raise InvalidLambdaResponse(f"header {name!r} must be a single value")
        if str(name).lower() not in _FRAMING_HEADERS:
            headers.append((str(name), value if isinstance(value, str) else json.dumps(value)))
    if "multiValueHeaders" in result:
        warn("multiValueHeaders is ignored by HTTP API payload format 2.0 (as in AWS)")
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise InvalidLambdaResponse("cookies must be a list of strings")
    headers.extend(("set-cookie", cookie) for cookie in cookies)

    body = result.get("body")
    if body is None:
        content = b""
    elif not isinstance(body, str):
        raise InvalidLambdaResponse(f"body must be a string, not {type(body).__name__}")
    elif result.get("isBase64Encoded") is True:
        try:
            content = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise InvalidLambdaResponse(f"body is not valid base64: {error}") from error
    else:
        content = body.encode("utf-8")
    if content and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", UNTYPED_BODY_CONTENT_TYPE))
    return HttpResponse(status, headers, content)
