"""Message bodies as a producer sends them to a local queue: what ``wellapi enqueue`` reads.
Standard library only: ``wellapi invoke`` moves an event's times with it too."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any


class NotAMessage(ValueError):
    """The text holds nothing to enqueue."""


def bodies_of(text: str) -> list[str]:
    """The message bodies in ``text``: each record's body of an SQS event (``events/sync-*.json``)
    unchanged, or else the text itself, stripped, as a producer would send it."""
    stripped = text.strip()
    if not stripped:
        raise NotAMessage("an empty message")
    try:
        document = json.loads(stripped)
    except ValueError:
        return [stripped]
    if not (isinstance(document, dict) and "Records" in document):
        return [stripped]
    records = document["Records"]
    if not isinstance(records, list) or not records:
        raise NotAMessage("Records must be a non-empty list")
    bodies = [record.get("body") if isinstance(record, dict) else None for record in records]
    if not all(isinstance(body, str) and body for body in bodies):
        raise NotAMessage("every record of an SQS event needs a non-empty string body")
    return [str(body) for body in bodies]


def describe_body(body: str) -> str:
    """A short description of a message body, for printing."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("type"), str):
        key = document.get("idempotency_key")
        return f"{document['type']}" + (f" {key}" if isinstance(key, str) else "")
    text = " ".join(body.split())
    return text if len(text) <= 60 else text[:57] + "..."


# The sync writer refuses a link older than 35 days (``wellapi.sync.batches``) and the examples of
# ``events/`` have fixed times: an older message moves forward by whole periods, so that it stays
# the same for a period (sent twice within one, it is a duplicate, never a reused key).
EXAMPLE_PERIOD = timedelta(days=28)


def _occurred_at(body: str) -> datetime | None:
    try:
        document = json.loads(body)
        when = datetime.fromisoformat(document["occurred_at"])
    except (ValueError, TypeError, KeyError):
        return None
    return when if when.tzinfo is not None else None


def with_recent_bodies(bodies: list[str], now: datetime) -> tuple[list[str], timedelta]:
    """The messages with their times moved by whole periods that bring the newest within the
    last period (none when it is there already), and the shift."""
    times = [t for t in map(_occurred_at, bodies) if t is not None]
    if not times or max(times) >= now - EXAMPLE_PERIOD:
        return bodies, timedelta(0)
    shift = math.ceil((now - EXAMPLE_PERIOD - max(times)) / EXAMPLE_PERIOD) * EXAMPLE_PERIOD
    return [_moved(body, shift) for body in bodies], shift


def _moved(body: str, shift: timedelta) -> str:
    if (when := _occurred_at(body)) is None:
        return body
    moved = json.loads(body) | {"occurred_at": (when + shift).isoformat()}
    return json.dumps(moved, separators=(",", ":"))


def with_recent_times(event: Any, now: datetime) -> tuple[Any, timedelta]:
    """An SQS event with its messages' times moved (``with_recent_bodies``), and the shift."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("body"), str) for r in records
    ):
        return event, timedelta(0)
    bodies, shift = with_recent_bodies([r["body"] for r in records], now)
    moved = [dict(r, body=body) for r, body in zip(records, bodies, strict=True)]
    return dict(event, Records=moved), shift
