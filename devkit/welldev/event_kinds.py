"""Which kind of event a function of the template is invoked with, and which kind an event is.

In AWS each function receives one kind of event from the service the template connects it to:
API Gateway's request (payload 2.0) for a route's function, the authorizer's request for an
authorizer, an SQS batch for a queue's consumer, EventBridge's scheduled event for a schedule,
and a direct invoke or CloudFormation's custom-resource request for the migration function.
``wellapi invoke`` and ``wellapi event`` refuse an event of another kind: a handler given the
wrong one answers something that looks like a result (the sync function answers an
authorizer's request with no failures), which hides the mistake.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from welldev import stack as local_stack

API = "an API Gateway HTTP API request (payload 2.0)"
AUTHORIZER = "an API Gateway Lambda authorizer request (payload 2.0)"
SQS = "an SQS batch"
SCHEDULE = "an EventBridge scheduled event"
CLOUDFORMATION = "a CloudFormation custom-resource request"
DIRECT = "a direct invoke (any other JSON)"

EVENTS = local_stack.ROOT / "events"


class WrongEventKind(ValueError):
    """The event is not of a kind the function is invoked with."""


def kind_of(event: Any) -> str:
    """The kind of ``event``, by the members each service always sends."""
    if not isinstance(event, dict):
        return DIRECT
    if event.get("type") == "REQUEST" and "routeArn" in event:
        return AUTHORIZER
    if event.get("version") == "2.0" and "routeKey" in event and "requestContext" in event:
        return API
    records = event.get("Records")
    if isinstance(records, list) and records and all(_from_sqs(r) for r in records):
        return SQS
    if event.get("source") == "aws.events" and "detail-type" in event:
        return SCHEDULE
    if "RequestType" in event and "ResponseURL" in event:
        return CLOUDFORMATION
    return DIRECT


def _from_sqs(record: Any) -> bool:
    return isinstance(record, dict) and record.get("eventSource") == "aws:sqs"


def kinds_for(template: local_stack.Stack, function: local_stack.Function) -> tuple[str, ...]:
    """The kinds of event ``function`` is invoked with, as its template wires it."""
    if template.authorizer and function.logical_id == template.authorizer.function_id:
        return (AUTHORIZER,)
    if function.http_routes:
        return (API,)
    if function.sqs_events:
        return (SQS,)
    if function.schedule_events:  # or a direct invoke: the handler reads neither
        return (SCHEDULE, DIRECT)
    # Wired to nothing that invokes it (the migration function: a deploy's custom resource or
    # an operator's direct invoke).
    return (CLOUDFORMATION, DIRECT)


def check(template: local_stack.Stack, function_id: str, event: Any) -> None:
    """Raise ``WrongEventKind`` unless ``event`` is of a kind the function is invoked with."""
    expected = kinds_for(template, template.function(function_id))
    found = kind_of(event)
    if found not in expected:
        raise WrongEventKind(
            f"{function_id} is invoked with {' or '.join(expected)}, and this event is {found}; "
            f"events/index.json lists the events of {function_id}"
        )


def first_event(function_id: str) -> Path | None:
    """The function's first event of ``events/`` (as ``events/index.json`` lists them)."""
    listed = json.loads((EVENTS / "index.json").read_text(encoding="utf-8")).get(function_id)
    return EVENTS / listed[0] if listed else None
