"""API Gateway's HTTP API in front of the template's functions, without the network part.

``Gateway.handle`` takes a request as it came off the wire and returns the response a client of
API Gateway would get: the route is chosen as API Gateway chooses it (literal segments beat
variables, variables beat a greedy ``{proxy+}`` tail, a named method beats ``ANY``, a path that
matches with another method is no match: 404, not 405), the Lambda authorizer runs, the
function receives the payload format 2.0 event, and its result is turned into a response by the
2.0 rules. The gateway's own answers carry API Gateway's bodies
(``{"message":"Not Found"}``...), so clients and tests see what they will see in AWS. A
template with a ``$default`` route (this API's: ``wellapi.operations.unmatched``) sends every
request no other route takes to that route's function, through its authorizer, as API Gateway
does, so API Gateway's own 404 is then never seen.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from welldev.lambda_runtime import LambdaRuntime
from welldev.payload import (
    MAX_REQUEST_BODY_BYTES,
    STAGE,
    Event,
    HttpRequest,
    HttpResponse,
    InvalidLambdaResponse,
    build_event,
    gateway_response,
    map_response,
    raw_path_of,
    too_large,
)
from welldev.stack import (
    DEFAULT_ROUTE,
    HTTP_API,
    LOCAL_ACCOUNT_ID,
    Authorizer,
    CorsConfiguration,
    Stack,
    StackError,
    local_region,
)

_VARIABLE = re.compile(r"\{(\w+)(\+?)\}")
# A route only the local server has: it takes the 2.0 event and answers like a function.
LocalHandler = Callable[[dict[str, Any]], Any]


class PathTemplate:
    """``/v1/things/{id}`` or ``/files/{proxy+}``: literal segments, variables, a greedy tail."""

    def __init__(self, path: str) -> None:
        self.path = path
        segments = path.split("/")[1:]
        pattern = ""
        rank: list[int] = []
        for index, segment in enumerate(segments):
            variable = _VARIABLE.fullmatch(segment)
            if variable is None:
                pattern += "/" + re.escape(segment)
                rank.append(2)
            elif not variable[2]:
                pattern += f"/(?P<{variable[1]}>[^/]+)"
                rank.append(1)
            elif index == len(segments) - 1:
                pattern += f"/(?P<{variable[1]}>.+)"
                rank.append(0)
            else:
                raise StackError(f"{path}: a greedy variable must be the last segment")
        # API Gateway prefers literal segments to variables, and both to a greedy tail.
        self.specificity = tuple(rank)
        self._pattern = re.compile(pattern)

    def match(self, path: str) -> dict[str, str] | None:
        matched = self._pattern.fullmatch(path)
        return None if matched is None else matched.groupdict()


@dataclass(frozen=True)
class RouteTarget:
    """A route and where it leads: a template function (maybe behind an authorizer), or a
    handler only the local server has (the documentation pages), which takes the same 2.0
    event and answers like a function."""

    method: str
    path: str  # or $default
    function_id: str | None = None
    authorizer: Authorizer | None = None
    local: LocalHandler | None = None
    pattern: PathTemplate | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = None if self.path == DEFAULT_ROUTE else PathTemplate(self.path)
        object.__setattr__(self, "pattern", pattern)

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"

    @property
    def name(self) -> str:
        return self.function_id or f"local {self.route_key}"


class Router:
    def __init__(self, targets: Sequence[RouteTarget]) -> None:
        self.targets = list(targets)
        keys = [t.route_key for t in self.targets]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise StackError(f"routes declared twice: {duplicates}")

    def match(self, method: str, path: str) -> tuple[RouteTarget, dict[str, str]] | None:
        best: tuple[tuple[tuple[int, ...], int], RouteTarget, dict[str, str]] | None = None
        fallback: RouteTarget | None = None
        for target in self.targets:
            if target.pattern is None:
                fallback = fallback or target
                continue
            if target.method not in (method, "ANY"):
                continue
            values = target.pattern.match(path)
            if values is None:
                continue
            rank = (target.pattern.specificity, 0 if target.method == "ANY" else 1)
            if best is None or rank > best[0]:
                best = (rank, target, values)
        if best is not None:
            return best[1], best[2]
        return (fallback, {}) if fallback is not None else None


# A stable 10-character API id, shaped like API Gateway's, for the stack's HttpApi.
API_ID = hashlib.sha256(HTTP_API.encode()).hexdigest()[:10]


class Gateway:
    """Every route of the stack's HTTP API, plus the local routes the runner adds."""

    def __init__(
        self,
        template: Stack,
        runtime: LambdaRuntime,
        *,
        local_routes: Sequence[RouteTarget] = (),
        log: TextIO | None = None,
    ) -> None:
        self.template = template
        self.runtime = runtime
        self.cors = template.cors
        self._log = log or sys.stderr
        self._warned: set[tuple[str, str]] = set()
        targets = [
            RouteTarget(
                route.method,
                route.path,
                route.function_id,
                template.authorizer if route.authorizer else None,
            )
            for route in template.routes
        ]
        self.router = Router([*targets, *local_routes])

    def describe_routes(self) -> list[str]:
        lines = []
        for target in self.router.targets:
            auth = f" [authorizer {target.authorizer.name}]" if target.authorizer else ""
            lines.append(f"{target.route_key} -> {target.name}{auth}")
        return lines

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id()
        try:
            response = self._handle(request, request_id)
        except Exception:  # a bug of the gateway itself must still answer like API Gateway
            self._error("the local gateway failed", traceback.format_exc())
            response = gateway_response(500, "Internal Server Error")
        if self.cors is not None and response.served_by != PREFLIGHT:
            # A preflight a route's integration answered (not API Gateway itself).
            preflight = response.served_by != "gateway" and is_preflight(
                request.method, request.headers
            )
            response = cors_decorate(self.cors, request.headers, response, preflight=preflight)
        response.headers.append(("apigw-requestid", request_id))
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if len(request.body) > MAX_REQUEST_BODY_BYTES:
            return too_large()
        matched = self.router.match(request.method, raw_path_of(request.target))
        if matched is not None:
            return self._run(*matched, request, request_id)
        if self.cors is not None and is_preflight(request.method, request.headers):
            # No OPTIONS (or ANY, or $default) route: API Gateway answers the preflight itself.
            return cors_preflight(self.cors, request.headers)
        return gateway_response(404, "Not Found")

    def _run(
        self,
        target: RouteTarget,
        path_parameters: dict[str, str],
        request: HttpRequest,
        request_id: str,
    ) -> HttpResponse:
        event = build_event(
            request,
            route_key=target.route_key,
            path_parameters=path_parameters,
            api_id=API_ID,
            request_id=request_id,
            now=time.time(),
        )
        if target.authorizer is not None:
            denied = self._authorize(target.authorizer, event)
            if denied is not None:
                return denied
        try:
            if target.local is not None:
                result = target.local(event)
            else:
                assert target.function_id is not None
                result = self.runtime.invoke(target.function_id, event)
        except Exception:
            self._error(f"{target.name} failed", traceback.format_exc())
            return gateway_response(500, "Internal Server Error")
        try:
            mapped = map_response(result, lambda note: self._warn_once(target.name, note))
        except InvalidLambdaResponse as error:
            self._error(f"{target.name} returned an invalid response", str(error))
            return gateway_response(500, "Internal Server Error")
        return HttpResponse(mapped.status, mapped.headers, mapped.body, served_by=target.name)

    def _authorize(self, authorizer: Authorizer, event: Event) -> HttpResponse | None:
        """None when the request may go on (with the context set), else the response to send.

        The stack's authorizer has no identity source and simple responses, so API Gateway
        calls it for every request (no cache) and reads ``isAuthorized``.
        """
        context = event["requestContext"]
        arn = (
            f"arn:aws:execute-api:{local_region()}:{LOCAL_ACCOUNT_ID}:{context['apiId']}/{STAGE}/"
            f"{context['http']['method']}{event['rawPath']}"
        )
        request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
        try:
            response = self.runtime.invoke(
                authorizer.function_id, {"type": "REQUEST", "routeArn": arn, **request}
            )
            allowed = response.get("isAuthorized") if isinstance(response, dict) else None
            if not isinstance(allowed, bool):
                raise TypeError(f"isAuthorized must be a boolean: {response!r}")
        except Exception:
            self._error(f"authorizer {authorizer.name} failed", traceback.format_exc())
            return gateway_response(500, "Internal Server Error")
        if not allowed:
            return gateway_response(403, "Forbidden")
        context["authorizer"] = {"lambda": response.get("context")}
        return None

    def _error(self, what: str, detail: str) -> None:
        print(f"[gateway] {what}:\n{detail.rstrip()}", file=self._log, flush=True)

    def _warn_once(self, name: str, note: str) -> None:
        if (name, note) not in self._warned:
            self._warned.add((name, note))
            print(f"[gateway] {name}: {note}", file=self._log, flush=True)


def _request_id() -> str:
    # API Gateway's request ids look like "JKJaXmPLvHcESHA=".
    return base64.b64encode(os.urandom(11)).decode("ascii")


# ---------------------------------------------------------------------------------------------
# CORS, as API Gateway applies an HTTP API's CorsConfiguration
# ---------------------------------------------------------------------------------------------

# What AWS documents (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html):
# API Gateway answers a preflight ``OPTIONS`` itself unless a route matches it (an ``OPTIONS`` or
# ``ANY`` route, or ``$default``: it then goes through the route's authorizer); it adds the
# configured CORS headers to an integration's response and ignores the integration's own; it
# returns CORS headers only to a request with an ``Origin`` (and, for a preflight, an
# ``Access-Control-Request-Method``); ``AllowOrigins`` may hold ``*``, or ``https://*`` /
# ``http://*`` (every origin of a scheme).
#
# What it does not document, and is emulated here as HTTP APIs are commonly observed to answer
# (check against a deployed stage before relying on it): the preflight answer is ``204 No
# Content`` without a body, with ``Access-Control-Allow-Origin`` (the request's origin, or
# ``*``), ``-Allow-Methods``, ``-Allow-Headers`` and ``-Max-Age``; one from an origin not allowed
# is still a 204, without CORS headers, so the browser refuses the request; API Gateway's own
# answers (404, 401/403 of an authorizer, 413, 500) get the CORS headers of a normal response;
# and a preflight a route's integration answered gets those of API Gateway's own preflight
# answer too, so a browser's preflight works when the function answers it with a 2xx.

PREFLIGHT = "gateway (CORS preflight)"


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of a request header, by case-insensitive name."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def is_preflight(method: str, headers: Sequence[tuple[str, str]]) -> bool:
    return (
        method == "OPTIONS"
        and bool(_header(headers, "origin"))
        and bool(_header(headers, "access-control-request-method"))
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


def _cors_headers(
    cors: CorsConfiguration, headers: Sequence[tuple[str, str]], *, expose: bool, preflight: bool
) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request from an allowed origin (none otherwise):
    ``expose`` those of an answer to a request, ``preflight`` those of an answer to a preflight.
    """
    origin = allowed_origin(cors, _header(headers, "origin"))
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


def cors_preflight(cors: CorsConfiguration, headers: Sequence[tuple[str, str]]) -> HttpResponse:
    """API Gateway's own answer to a preflight request (no route, no authorizer, no function)."""
    answer = _cors_headers(cors, headers, expose=False, preflight=True)
    return HttpResponse(204, answer, b"", served_by=PREFLIGHT)


def cors_decorate(
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
    kept += _cors_headers(cors, headers, expose=True, preflight=preflight)
    return HttpResponse(response.status, kept, response.body, served_by=response.served_by)
