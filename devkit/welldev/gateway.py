"""API Gateway's HTTP API in front of the template's functions, without the network part.

``Gateway.handle`` answers a request off the wire as API Gateway would: the route chosen as it
chooses (literal segments beat variables, variables a greedy ``{proxy+}`` tail, a named method
``ANY``; a path that matches with another method is no match: 404, not 405), the Lambda
authorizer run, the payload format 2.0 event given, the result mapped by the 2.0 rules, its own
answers with its bodies (``{"message":"Not Found"}``...). A ``$default`` route (this API's:
``wellapi.operations.unmatched``) takes what no other route takes, through its authorizer.
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
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TextIO

from welldev.lambda_runtime import LambdaRuntime
from welldev.payload import (
    STAGE,
    Event,
    HttpRequest,
    HttpResponse,
    InvalidLambdaResponse,
    build_event,
    gateway_response,
    map_response,
    raw_path_of,
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
        variables = [_VARIABLE.fullmatch(segment) for segment in segments]
        # API Gateway prefers literal segments (2) to variables (1), and both to a greedy tail (0).
        self.specificity = tuple(2 if v is None else 0 if v[2] else 1 for v in variables)
        if 0 in self.specificity[:-1]:
            raise StackError(f"{path}: a greedy variable must be the last segment")
        self._pattern = re.compile(
            "".join(
                f"/{re.escape(s)}" if v is None else f"/(?P<{v[1]}>{'.+' if v[2] else '[^/]+'})"
                for s, v in zip(segments, variables, strict=True)
            )
        )

    def match(self, path: str) -> dict[str, str] | None:
        matched = self._pattern.fullmatch(path)
        return None if matched is None else matched.groupdict()


@dataclass(frozen=True)
class RouteTarget:
    """A route and where it leads: a template function (maybe behind an authorizer), or a
    handler only the local server has (the documentation), answering the 2.0 event like one."""

    method: str
    path: str  # or $default
    function_id: str | None = None
    authorizer: Authorizer | None = None
    local: LocalHandler | None = None

    @cached_property
    def pattern(self) -> PathTemplate | None:
        return None if self.path == DEFAULT_ROUTE else PathTemplate(self.path)

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
        if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
            raise StackError(f"routes declared twice: {duplicates}")
        # API Gateway's precedence: the most specific path, then a named method before ANY;
        # $default last. The sort is stable: of two equal routes, the first declared wins.
        self._by_precedence = sorted(self.targets, key=_precedence, reverse=True)

    def match(self, method: str, path: str) -> tuple[RouteTarget, dict[str, str]] | None:
        for target in self._by_precedence:
            if target.pattern is None:
                return target, {}
            values = target.pattern.match(path) if target.method in (method, "ANY") else None
            if values is not None:
                return target, values
        return None


def _precedence(target: RouteTarget) -> tuple[bool, tuple[int, ...], bool]:
    specificity = () if target.pattern is None else target.pattern.specificity
    return target.pattern is not None, specificity, target.method != "ANY"


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
        self.runtime = runtime
        self.cors = template.cors
        self._log = log or sys.stderr
        self._warned: set[tuple[str, str]] = set()
        authorizer = template.authorizer
        targets = [
            RouteTarget(r.method, r.path, r.function_id, authorizer if r.authorizer else None)
            for r in template.routes
        ]
        self.router = Router([*targets, *local_routes])

    def describe_routes(self) -> list[str]:
        lines = []
        for target in self.router.targets:
            auth = f" [authorizer {target.authorizer.name}]" if target.authorizer else ""
            lines.append(f"{target.route_key} -> {target.name}{auth}")
        return lines

    def handle(self, request: HttpRequest) -> HttpResponse:
        # API Gateway's request ids look like "JKJaXmPLvHcESHA=".
        request_id = base64.b64encode(os.urandom(11)).decode("ascii")
        try:
            response = self._handle(request, request_id)
        except Exception:  # a bug of the gateway itself must still answer like API Gateway
            response = self._failed("the local gateway failed", traceback.format_exc())
        if self.cors is not None and response.served_by != PREFLIGHT:
            # As it leaves API Gateway: the integration's CORS headers replaced by the configured
            # ones, a preflight answer's too when a route's integration answered a preflight.
            preflight = response.served_by != "gateway" and _is_preflight(request)
            kept = [h for h in response.headers if not h[0].lower().startswith("access-control-")]
            kept += _cors_headers(self.cors, request.headers, expose=True, preflight=preflight)
            response = replace(response, headers=kept)
        response.headers.append(("apigw-requestid", request_id))
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        matched = self.router.match(request.method, raw_path_of(request.target))
        if matched is not None:
            return self._run(*matched, request, request_id)
        if self.cors is not None and _is_preflight(request):
            # No OPTIONS (or ANY, or $default) route: API Gateway answers the preflight itself.
            answer = _cors_headers(self.cors, request.headers, expose=False, preflight=True)
            return HttpResponse(204, answer, b"", served_by=PREFLIGHT)
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
        if target.authorizer and (denied := self._authorize(target.authorizer, event)):
            return denied
        try:
            if target.local is not None:
                result = target.local(event)
            else:
                assert target.function_id is not None
                result = self.runtime.invoke(target.function_id, event)
        except Exception:
            return self._failed(f"{target.name} failed", traceback.format_exc())
        try:
            mapped = map_response(result, lambda note: self._warn_once(target.name, note))
        except InvalidLambdaResponse as error:
            return self._failed(f"{target.name} returned an invalid response", str(error))
        return HttpResponse(mapped.status, mapped.headers, mapped.body, served_by=target.name)

    def _authorize(self, authorizer: Authorizer, event: Event) -> HttpResponse | None:
        """None when the request may go on (its context set), else the answer; no identity
        source and simple responses: called for every request, ``isAuthorized`` read."""
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
            return self._failed(f"authorizer {authorizer.name} failed", traceback.format_exc())
        if not allowed:
            return gateway_response(403, "Forbidden")
        context["authorizer"] = {"lambda": response.get("context")}
        return None

    def _failed(self, what: str, detail: str) -> HttpResponse:
        """API Gateway's 500, the failure logged."""
        print(f"[gateway] {what}:\n{detail.rstrip()}", file=self._log, flush=True)
        return gateway_response(500, "Internal Server Error")

    def _warn_once(self, name: str, note: str) -> None:
        if (name, note) not in self._warned:
            self._warned.add((name, note))
            print(f"[gateway] {name}: {note}", file=self._log, flush=True)


# CORS, as API Gateway applies an HTTP API's CorsConfiguration. As AWS documents it
# (docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html): a preflight no route
# matches (``OPTIONS``, ``ANY``, ``$default``) is answered by API Gateway; an integration's CORS
# headers are replaced by the configured ones, given only to a request with an ``Origin`` (a
# preflight: and ``Access-Control-Request-Method``); an allowed origin may be ``*``, ``http://*``
# or ``https://*``. As HTTP APIs are observed to answer (check a deployed stage before relying on
# it): a preflight gets a 204 without a body (without CORS headers for an origin not allowed);
# API Gateway's own answers (404, 403, 413, 500) a normal response's CORS headers; a preflight a
# route answered, those of API Gateway's preflight answer.

PREFLIGHT = "gateway (CORS preflight)"


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of a request header, by its lower-case name."""
    return next((value for key, value in headers if key.lower() == name), None)


def _is_preflight(request: HttpRequest) -> bool:
    wanted = ("origin", "access-control-request-method")
    return request.method == "OPTIONS" and all(_header(request.headers, name) for name in wanted)


def allowed_origin(cors: CorsConfiguration, origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for this origin, or None when it is refused."""
    if not origin:
        return None
    candidate = origin.strip().lower()
    for allowed in cors.allow_origins:
        pattern = allowed.strip().lower()
        if pattern == "*":
            return "*"
        scheme = pattern in ("https://*", "http://*") and candidate.startswith(pattern[:-1])
        if scheme or pattern == candidate:
            return origin
    return None


def _cors_headers(
    cors: CorsConfiguration, headers: Sequence[tuple[str, str]], *, expose: bool, preflight: bool
) -> list[tuple[str, str]]:
    """CORS headers of an answer to an allowed origin: a request's (``expose``), a preflight's."""
    if (origin := allowed_origin(cors, _header(headers, "origin"))) is None:
        return []
    candidates = [
        ("allow-origin", origin),
        ("expose-headers", ",".join(cors.expose_headers) if expose else ""),
        ("allow-methods", ",".join(cors.allow_methods) if preflight else ""),
        ("allow-headers", ",".join(cors.allow_headers) if preflight else ""),
        ("max-age", str(cors.max_age) if preflight and cors.max_age is not None else ""),
    ]
    return [(f"access-control-{name}", value) for name, value in candidates if value]
