"""Message bodies as a producer sends them to a local queue: what ``wellapi enqueue`` reads.

Standard library only: ``wellapi invoke`` moves an event's times with it too.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any


class NotAMessage(ValueError):
    """The text holds nothing to enqueue."""


def bodies_of(text: str) -> list[str]:
    """The message bodies in ``text``: each record's body of an SQS event, or ``text`` itself.

    An SQS event (``{"Records": [{"body": "..."}...]}``, like ``events/sync-*.json``) gives its
    records' bodies, unchanged; anything else is one message whose body is the text (surrounding
    white space removed), as a producer would send it.
    """
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


# The sync writer refuses a link older than 35 days (``wellapi.sync.batches``), and the examples
# of ``events/`` have fixed times. A message older than this period is moved forward by whole
# periods, so it stays the same for a period at a time: sent twice within one, it is a
# duplicate, never another message reusing its key.
EXAMPLE_PERIOD = timedelta(days=28)


def _occurred_at(body: str) -> datetime | None:
    try:
        document = json.loads(body)
        when = datetime.fromisoformat(document["occurred_at"])
    except (ValueError, TypeError, KeyError):
        return None
    return when if when.tzinfo is not None else None


def example_shift(bodies: list[str], now: datetime) -> timedelta:
    """How far to move the messages' times: whole periods that bring the newest within the
    last period, or nothing when it is there already."""
    times = [t for t in map(_occurred_at, bodies) if t is not None]
    if not times or max(times) >= now - EXAMPLE_PERIOD:
        return timedelta(0)
    periods = math.ceil((now - EXAMPLE_PERIOD - max(times)) / EXAMPLE_PERIOD)
    return periods * EXAMPLE_PERIOD


def _moved(body: str, shift: timedelta) -> str:
    when = _occurred_at(body)
    if when is None or not shift:
        return body
    document = json.loads(body)
    document["occurred_at"] = (when + shift).isoformat()
    return json.dumps(document, separators=(",", ":"))


def with_recent_times(event: Any, now: datetime) -> tuple[Any, timedelta]:
    """An SQS event (or a bare body's text) with its messages' times moved by ``example_shift``,
    and the shift; anything else unchanged."""
    if isinstance(event, str):
        shift = example_shift([event], now)
        return _moved(event, shift), shift
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return event, timedelta(0)
    bodies = [r.get("body") for r in records if isinstance(r, dict)]
    shift = example_shift([b for b in bodies if isinstance(b, str)], now)
    if not shift:
        return event, shift
    moved = [
        dict(r, body=_moved(r["body"], shift))
        if isinstance(r, dict) and isinstance(r.get("body"), str)
        else r
        for r in records
    ]
    return dict(event, Records=moved), shift
