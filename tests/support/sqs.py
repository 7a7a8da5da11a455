"""Lambda SQS events, as the event source mapping builds them.

``event`` makes a batch from message bodies (tests that invoke the handler directly);
``event_from_received`` turns what ``ReceiveMessage`` returned into the batch Lambda would
get for it (tests that poll a queue like the event source mapping).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import uuid4

REGION = "eu-west-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:000000000000:sync"

Body = str | Mapping[str, Any]


def _text(body: Body) -> str:
    return body if isinstance(body, str) else json.dumps(body)


def record(
    body: Body,
    *,
    message_id: str | None = None,
    receipt_handle: str | None = None,
    attributes: Mapping[str, str] | None = None,
    queue_arn: str = QUEUE_ARN,
) -> dict[str, Any]:
    """One record of a Lambda SQS event; a mapping body is sent as its JSON."""
    text = _text(body)
    now = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid4()),
        "receiptHandle": receipt_handle or f"handle-{uuid4()}",
        "body": text,
        "attributes": dict(
            attributes
            or {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": now,
                "SenderId": "AIDAEXAMPLE",
                "ApproximateFirstReceiveTimestamp": now,
            }
        ),
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def event(*bodies: Body) -> dict[str, Any]:
    """A batch with one record per body, in order, each with a fresh message id."""
    return {"Records": [record(b) for b in bodies]}


def event_from_received(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda event for messages returned by ``ReceiveMessage`` (with all attributes)."""
    return {
        "Records": [
            record(
                m["Body"],
                message_id=m["MessageId"],
                receipt_handle=m["ReceiptHandle"],
                attributes=m.get("Attributes") or {},
                queue_arn=queue_arn,
            )
            for m in messages
        ]
    }


def message_ids(ev: Mapping[str, Any]) -> list[str]:
    return [r["messageId"] for r in ev["Records"]]


def failed_ids(response: Mapping[str, Any]) -> list[str]:
    """The message ids a handler response reports in ``batchItemFailures``, in order."""
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]
