"""``wellapi enqueue``, ``queue`` and ``events``: the local AWS of the running ``wellapi run``,
found under ``aws`` in ``.local/demo.json`` (each says so in a line, exit 1, when nothing is
recorded or nothing answers there). No database.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import EndpointConnectionError

from welldev import demo_file
from welldev.local_aws import client, delivered_events, peek
from welldev.queue_messages import NotAMessage, bodies_of, describe_body, with_recent_bodies

USAGE_ERRORS = (NotAMessage,)
STARTS_ONE = "`make run` starts one and records it there"


class _Refused(Exception):
    """Why a command does nothing: said in a line, exit 1."""


def enqueue(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    bodies = bodies_of(text)  # refuse an empty file before sending anything
    if not args.as_written:
        bodies, shift = with_recent_bodies(bodies, datetime.now(UTC))
        if shift:
            print(
                f"occurred_at moved forward {shift.days} days: the file's times are over 28 days "
                "old, and the sync writer refuses links older than 35 (--as-written sends them "
                "unchanged)",
                file=sys.stderr,
            )

    def send(aws: dict[str, Any], sqs: Any) -> None:
        url = _queue_url(aws, args.queue)
        for body in bodies:
            sent = sqs.send_message(QueueUrl=url, MessageBody=body)
            print(f"enqueued {sent['MessageId']}  {describe_body(body)}")
        counts = _describe(sqs, url, dead_letters=False)
        print(
            f"queue {args.queue}: {counts['visible']} visible, {counts['in_flight']} in flight, "
            f"{counts.get('dead_lettered', 0)} dead-lettered (wellapi queue {args.queue})"
        )

    return _with_local_aws(send)


def queue(args: argparse.Namespace) -> int:
    """The queue's counts, and the messages on its dead-letter queue."""

    def show(aws: dict[str, Any], sqs: Any) -> None:
        url = _queue_url(aws, args.queue)
        print(json.dumps({"queue": args.queue, **_describe(sqs, url, dead_letters=True)}, indent=2))

    return _with_local_aws(show)


def events(args: argparse.Namespace) -> int:
    """The last ``--last`` events the bus delivered, in the order sent (not by ``time``)."""

    def show(aws: dict[str, Any], sqs: Any) -> None:
        if not aws.get("delivered_to"):
            raise _Refused("the running `wellapi run` serves no event bus")
        logs = client("logs", aws["endpoint_url"], aws["region"])
        delivered = delivered_events(logs, aws["delivered_to"])
        shown = delivered[-args.last :] if args.last else delivered
        document = {"bus": aws["event_bus"], "rule": aws["rule"], "delivered": len(delivered)}
        print(json.dumps({**document, "events": shown}, indent=2))

    return _with_local_aws(show)


def _with_local_aws(command: Callable[[dict[str, Any], Any], None]) -> int:
    """``command`` given what ``.local/demo.json`` records of the local AWS and an SQS client of
    it: 0, or 1 having said why it did nothing (nothing recorded, nothing answers there...)."""
    path = demo_file.DEMO_FILE
    aws = (demo_file.read_demo(path) or {}).get("aws")
    try:
        if not isinstance(aws, dict):
            raise _Refused(f"{path} records no local AWS: {STARTS_ONE}")
        url = aws["endpoint_url"]
        try:
            command(aws, client("sqs", url, aws["region"]))
        except EndpointConnectionError as error:
            where = f"where {path} says it is ({error})"
            raise _Refused(f"no local AWS answers at {url}, {where}: {STARTS_ONE}") from error
    except _Refused as refused:
        print(f"wellapi: {refused}", file=sys.stderr)
        return 1
    return 0


def _queue_url(aws: dict[str, Any], name: str) -> str:
    queues: dict[str, str] = aws.get("queues") or {}
    if name not in queues:
        raise _Refused(f"no local queue {name!r} (queues: {', '.join(sorted(queues)) or 'none'})")
    return queues[name]


def _describe(sqs: Any, url: str, *, dead_letters: bool) -> dict[str, Any]:
    """What is on the queue, and on its dead-letter queue (the messages themselves if asked)."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    described: dict[str, Any] = {
        "url": url,
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "visibility_timeout_seconds": int(attributes["VisibilityTimeout"]),
    }
    if "RedrivePolicy" not in attributes:
        return described
    redrive = json.loads(attributes["RedrivePolicy"])
    name = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
    dead_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    described["max_receive_count"] = int(redrive["maxReceiveCount"])
    described["dead_letter_queue"] = dead_url
    counts = sqs.get_queue_attributes(
        QueueUrl=dead_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    described["dead_lettered"] = sum(int(count) for count in counts.values())
    if dead_letters:
        described["dead_letters"] = [
            {"messageId": m["MessageId"], "body": m["Body"]} for m in peek(sqs, dead_url)
        ]
    return described
