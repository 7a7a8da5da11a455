"""The handler factory: one Lambda handler per (resource, operation), all built alike.

A function file calls ``api_handler(resource, operation)`` and nothing else. Powertools does
the routing and the structured logging; the operation does the work; every error, typed or
not, leaves as a JSON:API error object (a database error never as its text).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from wellapi import db
from wellapi.errors import ApiError, ErrorList, NotFound, database_error
from wellapi.http.request import request_from_event
from wellapi.http.response import error_response
from wellapi.operations import OPERATIONS, Operation
from wellapi.resources import RESOURCES, Resource

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
logger = Logger(service="wellapi", use_rfc3339=True)


def _resolver_rule(path: str) -> str:
    """API Gateway's ``{name}`` path parameters in Powertools' ``<name>`` spelling."""
    return path.replace("{", "<").replace("}", ">")


class PerThreadResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, with the state of the request in flight kept per thread.

    Powertools keeps the current event on its ``BaseRouter`` class, one per process, and the
    route context on the resolver. A Lambda environment serves one request at a time, so that
    is safe in AWS; the local runtime serves concurrent requests from one process through the
    same handlers, and there a request could run with another request's event (its claims,
    path and body). Here each thread reads its own.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._state = threading.local()
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        event: APIGatewayProxyEventV2 = self._state.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEventV2) -> None:
        self._state.event = value

    @property
    def context(self) -> dict[str, Any]:
        if not hasattr(self._state, "context"):
            self._state.context = {}
        context: dict[str, Any] = self._state.context
        return context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._state.context = value

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event = APIGatewayProxyEventV2(dict(event))
        return super().resolve(event, context)


def build_resolver(resource: Resource, operation: Operation) -> APIGatewayHttpResolver:
    # debug would print whole events (their Authorization header) under POWERTOOLS_DEV.
    app = PerThreadResolver(debug=False)

    def trace_id() -> str:
        return str(app.current_event.request_context.request_id or "")

    route_key = f"{operation.method} {operation.path(resource)}"

    @app.route(_resolver_rule(operation.path(resource)), operation.method)
    def serve(**_path: str) -> Response[str]:
        request = request_from_event(app.current_event.raw_event)
        # Authenticate before anything else, so an anonymous caller learns nothing more.
        request.principal()
        return operation.run(resource, request)

    def api_error(error: ApiError | ErrorList) -> Response[str]:
        return error_response(error, trace_id())

    def unexpected(error: Exception) -> Response[str]:
        mapped = database_error(error)
        if mapped is None:
            logger.exception("unhandled error")
            mapped = ApiError("The request could not be completed.")
        elif mapped.error_status >= 500:
            logger.warning("database unavailable", extra={"error_type": type(error).__name__})
        return error_response(mapped, trace_id())

    # Registered as calls: Powertools' decorators are untyped, and these must stay typed.
    app.exception_handler(ApiError)(api_error)
    app.exception_handler(ErrorList)(api_error)
    app.exception_handler(Exception)(unexpected)

    @app.not_found
    def not_found(_error: Exception) -> Response[str]:
        # API Gateway routed the request here: its {name} takes any character but "/", while
        # Powertools' path patterns refuse some ('"', "\\", "?", NUL, most non-word unicode).
        # The route is ours all the same; the operation judges the parameters (a precise 400).
        if app.current_event.raw_event.get("routeKey") == route_key:
            try:
                return serve()
            except (ApiError, ErrorList) as error:
                return api_error(error)
            except Exception as error:
                return unexpected(error)
        return error_response(NotFound("No such route."), trace_id())

    return app


def api_handler(resource_key: str, operation_name: str) -> Handler:
    resource = RESOURCES[resource_key]
    operation = OPERATIONS[operation_name]
    app = build_resolver(resource, operation)
    db.prepare_at_init("api")

    # Never log the event: it holds the Authorization header.
    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
    )
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    handler.__name__ = f"{resource_key}_{operation_name}"
    return handler
