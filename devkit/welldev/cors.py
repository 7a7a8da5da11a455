"""An HTTP API's CORS configuration, applied as API Gateway applies it.

What AWS documents (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html):
API Gateway answers a preflight ``OPTIONS`` itself unless a route matches it (an ``OPTIONS`` or
``ANY`` route, or ``$default``: it then goes through the route's authorizer); it adds the
configured CORS headers to an integration's response and ignores the integration's own; it
returns CORS headers only to a request with an ``Origin`` (and, for a preflight, an
``Access-Control-Request-Method``); ``AllowOrigins`` may hold ``*``, or ``https://*`` /
``http://*`` (every origin of a scheme).

What it does not document, and is emulated here as HTTP APIs are commonly observed to answer
(check against a deployed stage before relying on it): the preflight answer is ``204 No
Content`` without a body, with ``Access-Control-Allow-Origin`` (the request's origin, or
``*``), ``-Allow-Methods``, ``-Allow-Headers`` and ``-Max-Age``; one from an origin not allowed
is still a 204, without CORS headers, so the browser refuses the request; API Gateway's own
answers (404, 401/403 of an authorizer, 413, 500) get the CORS headers of a normal response;
and a preflight a route's integration answered gets those of API Gateway's own preflight
answer too, so a browser's preflight works when the function answers it with a 2xx.
"""

from __future__ import annotations

from collections.abc import Sequence

from welldev.payload import HttpResponse
from welldev.stack import CorsConfiguration

PREFLIGHT = "gateway (CORS preflight)"


def header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of a request header, by case-insensitive name."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def is_preflight(method: str, headers: Sequence[tuple[str, str]]) -> bool:
    return (
        method == "OPTIONS"
        and bool(header(headers, "origin"))
        and bool(header(headers, "access-control-request-method"))
    )


def allowed_origin(cors: CorsConfiguration, origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for this origin, or None when it is refused."""
    if not origin:
        return None
    candidate = origin.strip().lower()
    for allowed in cors.allow_origins:
        pattern = allowed.strip().lower()
        if pattern == "*":
            return "*"
        if pattern in ("https://*", "http://*") and candidate.startswith(pattern[:-1]):
            return origin
        if pattern == candidate:
            return origin
    return None


def _headers(
    cors: CorsConfiguration, headers: Sequence[tuple[str, str]], *, expose: bool, preflight: bool
) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request from an allowed origin (none otherwise):
    ``expose`` those of an answer to a request, ``preflight`` those of an answer to a preflight.
    """
    origin = allowed_origin(cors, header(headers, "origin"))
    if origin is None:
        return []
    added = [("access-control-allow-origin", origin)]
    if expose and cors.expose_headers:
        added.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if preflight and cors.allow_methods:
        added.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
    if preflight and cors.allow_headers:
        added.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
    if preflight and cors.max_age is not None:
        added.append(("access-control-max-age", str(cors.max_age)))
    return added


def preflight(cors: CorsConfiguration, headers: Sequence[tuple[str, str]]) -> HttpResponse:
    """API Gateway's own answer to a preflight request (no route, no authorizer, no function)."""
    answer = _headers(cors, headers, expose=False, preflight=True)
    return HttpResponse(204, answer, b"", served_by=PREFLIGHT)


def decorate(
    cors: CorsConfiguration,
    headers: Sequence[tuple[str, str]],
    response: HttpResponse,
    *,
    preflight: bool = False,
) -> HttpResponse:
    """A response as it leaves API Gateway: the integration's CORS headers dropped, the
    configured ones added when the request's origin is allowed (those of a preflight answer
    too, when the request is a preflight a route took)."""
    kept = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
    kept += _headers(cors, headers, expose=True, preflight=preflight)
    return HttpResponse(response.status, kept, response.body, served_by=response.served_by)
