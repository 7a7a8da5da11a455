"""The handler of API Gateway's ``$default`` route: every request no route serves.

``functions/unmatched.py`` calls ``unmatched_handler()`` and nothing else. The handler reads
every served route from the registry once, at init (which loads every operation's module: it
answers about all of them), and answers each event as ``wellapi.operations.unmatched`` says:
308 to the canonical path, 405, 204 to ``OPTIONS``, or 404, each as JSON:API. It never
connects to the database: who calls is in the authorizer's claims.
"""

from __future__ import annotations

from typing import Any

from wellapi.errors import ApiError, ErrorList, NotFound
from wellapi.handlers.api import Handler, instrumented, trace_id_of, unexpected
from wellapi.http.request import request_from_event
from wellapi.http.response import Response, error_response
from wellapi.operations.registry import DEFAULT_ROUTE_FUNCTION, served_routes
from wellapi.operations.unmatched import DEFAULT_ROUTE, RouteTable, answer, collections


def unmatched_handler() -> Handler:
    table = RouteTable(served_routes(), collections())

    def serve_unmatched(event: dict[str, Any]) -> Response:
        trace_id = trace_id_of(event)
        # Only API Gateway's $default route sends events here.
        if event.get("routeKey") != DEFAULT_ROUTE:
            return error_response(NotFound("No such route."), trace_id)
        context = event.get("requestContext") or {}
        method = str((context.get("http") or {}).get("method") or "").upper()
        try:
            return answer(table, request_from_event(event), method)
        except (ApiError, ErrorList) as error:
            return error_response(error, trace_id)
        except Exception as error:
            return unexpected(error, trace_id)

    return instrumented(DEFAULT_ROUTE, DEFAULT_ROUTE_FUNCTION, serve_unmatched)
