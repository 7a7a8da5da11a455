"""An HTTP API's CORS configuration, applied as API Gateway applies it.

What AWS documents (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html):

- "If you configure CORS for an API, API Gateway automatically sends a response to preflight
  OPTIONS requests, even if there isn't an OPTIONS route configured for your API." A route that
  matches OPTIONS (an ``OPTIONS`` or ``ANY`` route, or ``$default``) takes the request instead,
  authorizer included: the same page tells users of ``$default`` to add an unauthorized
  ``OPTIONS /{proxy+}`` route for that reason.
- "For a CORS request, API Gateway adds the configured CORS headers to the response from an
  integration", and "ignores CORS headers returned from your backend integration".
- "To return CORS headers, your request must contain an origin header. For OPTIONS methods,
  your request must contain an origin header and an Access-Control-Request-Method header."
  (the current page; the older copy in github.com/awsdocs/amazon-api-gateway-developer-guide,
  doc_source/http-api-cors.md, has the first two points but not this one).
- ``AllowOrigins`` may hold ``*``, or ``https://*`` / ``http://*`` (every origin of a scheme).

What it does not document, and is emulated here as HTTP APIs are commonly observed to answer
(check against a deployed stage before relying on it):

- the preflight answer is ``204 No Content`` without a body or ``Content-Type``, carrying
  ``Access-Control-Allow-Origin`` (the request's origin, or ``*``), ``-Allow-Methods``,
  ``-Allow-Headers``, ``-Max-Age`` and ``-Allow-Credentials`` (only when true);
- a preflight from an origin that is not allowed is still a 204, without any CORS header, so
  the browser refuses the request;
- API Gateway's own answers (404 without a route, 401/403 of an authorizer, 413, 500) get the
  CORS headers of a normal response too;
- a preflight a route took (an ``OPTIONS`` or ``ANY`` route, or ``$default``, as this API's is)
  and its integration answered gets the headers of API Gateway's own preflight answer added to
  that answer ("API Gateway adds the configured CORS headers to the response from an
  integration"), so a browser's preflight works when the function answers it with a 2xx.
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


def preflight(cors: CorsConfiguration, headers: Sequence[tuple[str, str]]) -> HttpResponse:
    """API Gateway's own answer to a preflight request (no route, no authorizer, no function)."""
    answer: list[tuple[str, str]] = []
    origin = allowed_origin(cors, header(headers, "origin"))
    if origin is not None:
        answer.append(("access-control-allow-origin", origin))
        if cors.allow_credentials:
            answer.append(("access-control-allow-credentials", "true"))
        if cors.allow_methods:
            answer.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
        if cors.allow_headers:
            answer.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
        if cors.max_age is not None:
            answer.append(("access-control-max-age", str(cors.max_age)))
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
    origin = allowed_origin(cors, header(headers, "origin"))
    if origin is not None:
        kept.append(("access-control-allow-origin", origin))
        if cors.allow_credentials:
            kept.append(("access-control-allow-credentials", "true"))
        if cors.expose_headers:
            kept.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
        if preflight and cors.allow_methods:
            kept.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
        if preflight and cors.allow_headers:
            kept.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
        if preflight and cors.max_age is not None:
            kept.append(("access-control-max-age", str(cors.max_age)))
    return HttpResponse(response.status, kept, response.body, served_by=response.served_by)
