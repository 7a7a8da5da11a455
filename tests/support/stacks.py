"""Fixture stacks for the local runtime's tests: a few functions of a test's own, with the
routes, authorizer, queues and schedules each test needs, built as ``welldev.stack`` builds the
project's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from welldev.stack import (
    Authorizer,
    CorsConfiguration,
    Function,
    HttpRoute,
    ScheduleEvent,
    SqsEvent,
    SqsQueue,
    Stack,
    Value,
)


def route(function_id: str, method: str, path: str, authorizer: str | None = "ApiKey") -> HttpRoute:
    """A route of the fixture API (``path`` "$default": its catch-all route)."""
    return HttpRoute(method, path, function_id, authorizer)


def sqs(
    function_id: str, queue_id: str, batch_size: int = 10, window: int = 0, report: bool = False
) -> SqsEvent:
    return SqsEvent(function_id, queue_id, queue_id, batch_size, window, report)


def function(
    logical_id: str,
    handler: str,
    code_uri: Path,
    *,
    timeout: int = 5,
    memory: int = 256,
    environment: Mapping[str, Value] | None = None,
    routes: Iterable[tuple[str, str] | tuple[str, str, str | None]] = (),
    sqs_events: Iterable[SqsEvent] = (),
    schedule_events: Iterable[ScheduleEvent] = (),
) -> Function:
    """A function; each of ``routes`` is (method, path) behind the API's authorizer, or
    (method, path, authorizer)."""
    return Function(
        logical_id=logical_id,
        code_uri=code_uri,
        handler=handler,
        timeout_seconds=timeout,
        memory_mb=memory,
        environment=dict(environment or {}),
        http_routes=tuple(route(logical_id, *r) for r in routes),
        sqs_events=tuple(sqs_events),
        schedule_events=tuple(schedule_events),
    )


def stack(
    *functions: Function,
    authorizer: Authorizer | None = None,
    cors: CorsConfiguration | None = None,
    queues: Iterable[SqsQueue] = (),
    parameters: Mapping[str, str | None] | None = None,
) -> Stack:
    """A stack of ``functions`` behind one API, whose default authorizer is ``authorizer``."""
    return Stack(
        parameters=dict(parameters or {}),
        functions={f.logical_id: f for f in functions},
        authorizer=authorizer,
        cors=cors,
        queues={q.logical_id: q for q in queues},
    )
