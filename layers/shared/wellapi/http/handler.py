"""The handler factory: one Lambda handler per (resource, operation), all built alike.

A function file calls ``api_handler(resource, operation)`` and nothing else. Every function
serves exactly one route, which API Gateway has already matched, so there is no router: the
handler checks the event's route key and runs the operation. Every error, typed or not,
leaves as a JSON:API error object (a database error never as its text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from wellapi import db
from wellapi.errors import ApiError, ErrorList, NotFound, database_error
from wellapi.http.request import Request, request_from_event
from wellapi.http.response import Response, error_response
from wellapi.operations import OPERATIONS, Operation
from wellapi.resources import RESOURCES, Resource

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
logger = Logger(service="wellapi", use_rfc3339=True)


def _unexpected(error: Exception, trace_id: str) -> Response:
    mapped = database_error(error)
    if mapped is None:
        logger.exception("unhandled error")
        mapped = ApiError("The request could not be completed.")
    elif mapped.error_status >= 500:
        logger.warning("database unavailable", extra={"error_type": type(error).__name__})
    return error_response(mapped, trace_id)


def serve(
    resource: Resource,
    operation: Operation,
    run: Callable[[Resource, Request], Response],
    event: dict[str, Any],
) -> Response:
    """The operation's answer to one event, or the error object that stands for it."""
    trace_id = str((event.get("requestContext") or {}).get("requestId") or "")
    # API Gateway matched the route; an event for another one was sent here by mistake.
    if event.get("routeKey") != f"{operation.method} {operation.path(resource)}":
        return error_response(NotFound("No such route."), trace_id)
    try:
        request = request_from_event(event)
        # Authenticate before anything else, so an anonymous caller learns nothing more.
        request.principal()
        return run(resource, request)
    except (ApiError, ErrorList) as error:
        return error_response(error, trace_id)
    except Exception as error:
        return _unexpected(error, trace_id)


def api_handler(resource_key: str, operation_name: str) -> Handler:
    resource = RESOURCES[resource_key]
    operation = OPERATIONS[operation_name]
    run = operation.runner()
    db.prepare_at_init("api")

    # Never log the event: it holds the Authorization header.
    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        return serve(resource, operation, run, event).to_gateway()

    handler.__name__ = f"{resource_key}_{operation_name}"
    return handler
