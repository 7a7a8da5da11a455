"""The change event bus in this process: where ``wellapi run`` has the drain function publish.

``LocalBus`` keeps what a rule with no filter would deliver from the stack's bus: each entry
``PutEvents`` accepted, as the event EventBridge makes of it (``version``, ``id``,
``detail-type``, ``source``, ``account``, ``time``, ``region``, ``resources``, ``detail``),
newest last, the last ``KEEP`` of them. The drain function reaches it as it reaches
EventBridge, through boto3: ``wellapi run`` sets ``AWS_ENDPOINT_URL_EVENTBRIDGE`` to
``<server>/_local/events``, where the server answers ``PutEvents`` (AWS's JSON 1.1 protocol),
and ``GET /_local/events`` shows what the bus received, as ``GET /_local/queues/sync`` shows
the queue.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from welldev.intrinsics import LOCAL_ACCOUNT_ID, pseudo_parameters
from welldev.queues import request_text
from welldev.template import Template

# Where the local server serves the bus: GET (what it received), POST (PutEvents).
EVENTS_PATH = "/_local/events"
# The events the bus keeps, and GET shows (newest last).
KEEP = 1000
SHOWN = 100
PUT_EVENTS_TARGET = "AWSEvents.PutEvents"


def _time(value: Any) -> str:
    """An entry's ``Time`` as an event's: boto3 sends epoch seconds, a caller may give text."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value:
        return value[:19] + "Z" if len(value) > 19 else value
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalBus:
    """The stack's change bus, in memory; ``put_events`` is boto3's signature, so it serves as
    the drainer's client in process too."""

    def __init__(self, name: str, keep: int = KEEP) -> None:
        self.name = name
        self.received = 0
        self._events: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        answers: list[dict[str, Any]] = []
        for entry in Entries:
            try:
                detail = json.loads(entry["Detail"])
            except (KeyError, TypeError, ValueError):
                refused = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is not JSON"}
                answers.append(refused)
                continue
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": entry.get("DetailType", ""),
                "source": entry.get("Source", ""),
                "account": LOCAL_ACCOUNT_ID,
                "time": _time(entry.get("Time")),
                "region": pseudo_parameters()["AWS::Region"],
                "resources": list(entry.get("Resources", [])),
                "detail": detail,
            }
            with self._lock:
                self._events.append(event)
                self.received += 1
            answers.append({"EventId": event["id"]})
        failed = sum("ErrorCode" in a for a in answers)
        return {"FailedEntryCount": failed, "Entries": answers}

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def describe(self) -> dict[str, Any]:
        """What ``GET /_local/events`` answers."""
        with self._lock:
            shown = list(self._events)[-SHOWN:]
            return {"bus": self.name, "received": self.received, "events": shown}


def bus_for(template: Template) -> LocalBus | None:
    """The stack's change bus, when a function of the template publishes to one (its
    environment names ``EVENT_BUS_NAME``), named as the stack names the bus it creates."""
    if not any("EVENT_BUS_NAME" in f.environment for f in template.functions.values()):
        return None
    return LocalBus(f"{pseudo_parameters()['AWS::StackName']}-changes")


def bus_routes_handler(bus: LocalBus) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``GET /_local/events``: what the bus received; ``POST``: EventBridge's ``PutEvents``."""

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        if event["requestContext"]["http"]["method"] == "GET":
            return _json(200, bus.describe(), "application/json")
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if headers.get("x-amz-target") != PUT_EVENTS_TARGET:
            return _json(400, {"__type": "UnknownOperationException"})
        try:
            request = json.loads(request_text(event) or "{}")
            entries = list(request["Entries"])
        except (KeyError, TypeError, ValueError):
            return _json(400, {"__type": "ValidationException", "message": "no Entries"})
        return _json(200, bus.put_events(Entries=entries))

    return handle


def _json(
    status: int, document: Any, content_type: str = "application/x-amz-json-1.1"
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": content_type},
        "body": json.dumps(document, indent=2) + "\n",
    }


__all__ = ["EVENTS_PATH", "LocalBus", "bus_for", "bus_routes_handler"]
