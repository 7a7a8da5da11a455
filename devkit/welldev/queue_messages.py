"""Message bodies as a producer sends them to a local queue: what ``wellapi enqueue`` reads.

Standard library only: ``enqueue`` is one HTTP POST to the running server and imports nothing
of the queues themselves (``welldev.queues``, which reads the template).
"""

from __future__ import annotations

import json

# Where the local server serves its queues: GET (counts) and POST (send) ``<path>/<queue>``.
QUEUES_PATH = "/_local/queues"


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
