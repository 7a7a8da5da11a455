"""The template's queues and change bus on moto's server, and Lambda's pollers of the queues.

``LocalAws.start`` runs moto's server (``ThreadedMotoServer``) in a thread of this process, on a
free loopback port, and makes there through boto3, as a deployment would, every queue of the
template with its ``VisibilityTimeout`` (or ``wellapi run --visibility-timeout``'s) and
``RedrivePolicy`` (moto moves a message to the dead-letter queue at the receive after the
``maxReceiveCount``-th, as SQS does), and the change bus with a rule that delivers every event to
a log group, which ``wellapi events`` reads back in pages of 10,000 (``delivered_events``). All in
memory, gone when ``wellapi run`` stops.

``EventSourceMapping`` is Lambda's poller of one ``SQS`` event: batches of up to ``BatchSize``
within ``MaximumBatchingWindowInSeconds``, the messages that succeeded deleted (as
``ReportBatchItemFailures`` says, by AWS's rules); one poller per mapping: batches never overlap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import traceback
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

import boto3
from botocore.config import Config

from welldev.lambda_runtime import Invoker
from welldev.stack import LOCAL_ACCOUNT_ID, LOCAL_STACK_NAME, local_region

if TYPE_CHECKING:
    from welldev.lambda_runtime import LambdaRuntime
    from welldev.stack import SqsEvent, Stack

LOOPBACK = "127.0.0.1"
# Credentials moto does not check: the local functions never hold a real account's key.
STAND_IN = "local"
# What Lambda puts in the attributes of each record of an SQS event.
RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
)
# How long an idle poller waits on a receive (long polling) before it looks at its stop again.
IDLE_WAIT_SECONDS = 1
RULE_NAME = "every-event"
# The change bus, named as the stack names the one it creates.
BUS = f"{LOCAL_STACK_NAME}-changes"
# At most this many messages in one ReceiveMessage, DeleteMessageBatch...
SQS_BATCH = 10
# Where the rule on the bus delivers every event: a log group (one stream an event, in the order
# delivered), read back in pages. A queue is read one receive of ten at a time, and moto reads
# the whole queue's attributes for each message it returns: 2,700 took over 300 s.
DELIVERED_LOG_GROUP = f"/{BUS}/delivered"


def route_name(queue_logical_id: str) -> str:
    """``SyncQueue`` -> ``sync``: the queue's name in the ``wellapi`` commands."""
    base = queue_logical_id.removesuffix("Queue") or queue_logical_id
    return re.sub(r"(?<!^)(?=[A-Z])", "-", base).lower()


def client(service: Literal["sqs", "events", "logs"], endpoint_url: str, region: str) -> Any:
    """A boto3 client of the local endpoint, with stand-in credentials and no retries: an
    endpoint nobody serves is said at once."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=STAND_IN,
        aws_secret_access_key=STAND_IN,
        config=Config(connect_timeout=5, read_timeout=60, retries={"total_max_attempts": 1}),
    )


def delivered_events(logs: Any, group: str) -> list[dict[str, Any]]:
    """Every event the rule delivered to the log group ``group``, in the order delivered."""
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    return [json.loads(event["message"]) for page in pages for event in page["events"]]


def handles(messages: Sequence[Mapping[str, Any]], **entry: Any) -> list[list[dict[str, Any]]]:
    """The messages' receipt handles as the entries of batch calls, ten at a time."""
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], **entry} for i, m in enumerate(messages)
    ]
    return [entries[start : start + SQS_BATCH] for start in range(0, len(entries), SQS_BATCH)]


def peek(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message on the queue, oldest first, left there: each is received, then made
    visible again (a message a consumer holds meanwhile is not seen)."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=SQS_BATCH, VisibilityTimeout=60
    ).get("Messages", []):
        messages += batch
    for entries in handles(messages, VisibilityTimeout=0):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
    return messages


@dataclass(frozen=True)
class Queue:
    """A queue of the template, as made on the local endpoint."""

    name: str  # route_name: what the commands call it
    url: str
    arn: str
    visibility_timeout: int
    max_receive_count: int | None
    dead_letter_queue: str | None  # its logical id


class LocalAws:
    """moto's server, with the template's queues and change bus; ``stop`` ends it."""

    def __init__(self, server: Any, endpoint_url: str, region: str) -> None:
        self.server = server
        self.endpoint_url = endpoint_url
        self.region = region
        self.queues: dict[str, Queue] = {}  # by logical id

    @classmethod
    def start(cls, template: Stack, visibility_timeout: int | None = None) -> LocalAws:
        """Serve the template's queues and the change bus."""
        from moto.server import ThreadedMotoServer  # `wellapi enqueue`, `queue`, `events` need none

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        local = cls(server, f"http://{host}:{port}", local_region())
        try:
            local.provision(template, visibility_timeout)
        except BaseException:
            local.stop()
            raise
        return local

    def provision(self, template: Stack, visibility_timeout: int | None = None) -> None:
        """Empty moto, then make the template's queues and change bus on it (again)."""
        # moto's state is the process's: an earlier server of this process (a test) left its.
        reset = f"{self.endpoint_url}/moto-api/reset"
        request = urllib.request.Request(reset, method="POST")  # noqa: S310 (loopback)
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310
        self.queues = {}
        self._make_queues(template, visibility_timeout)
        self._make_bus()

    def sqs(self) -> Any:
        return client("sqs", self.endpoint_url, self.region)

    def _make_queues(self, template: Stack, visibility_timeout: int | None) -> None:
        sqs = self.sqs()
        # The dead-letter queues first: a redrive policy names its queue by ARN.
        ordered = sorted(template.queues.values(), key=lambda q: q.max_receive_count is not None)
        for queue in ordered:
            seconds = queue.visibility_timeout_seconds
            if visibility_timeout is not None:
                seconds = visibility_timeout
            attributes = {"VisibilityTimeout": str(seconds)}
            if queue.max_receive_count is not None:
                dead = self.queues[queue.dead_letter_queue_id or ""]
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": dead.arn, "maxReceiveCount": queue.max_receive_count}
                )
            url = sqs.create_queue(QueueName=queue.logical_id, Attributes=attributes)["QueueUrl"]
            found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            self.queues[queue.logical_id] = Queue(
                name=route_name(queue.logical_id),
                url=url,
                arn=found["Attributes"]["QueueArn"],
                visibility_timeout=seconds,
                max_receive_count=queue.max_receive_count,
                dead_letter_queue=queue.dead_letter_queue_id,
            )

    def _make_bus(self) -> None:
        events = client("events", self.endpoint_url, self.region)
        account = events.create_event_bus(Name=BUS)["EventBusArn"].split(":")[4]
        client("logs", self.endpoint_url, self.region).create_log_group(
            logGroupName=DELIVERED_LOG_GROUP
        )
        # Every event put on the bus: a rule needs a pattern, and each event carries its account.
        events.put_rule(
            Name=RULE_NAME, EventBusName=BUS, EventPattern=json.dumps({"account": [account]})
        )
        arn = f"arn:aws:logs:{self.region}:{account}:log-group:{DELIVERED_LOG_GROUP}"
        events.put_targets(
            Rule=RULE_NAME, EventBusName=BUS, Targets=[{"Id": "delivered", "Arn": arn}]
        )

    def environment(self) -> dict[str, str]:
        """What points the functions' boto3 here (set on ``wellapi run``'s process, inherited)."""
        return {
            "AWS_ENDPOINT_URL_SQS": self.endpoint_url,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": STAND_IN,
            "AWS_SECRET_ACCESS_KEY": STAND_IN,
            "EVENT_BUS_NAME": BUS,
        }

    def record(self) -> dict[str, Any]:
        """What ``.local/demo.json`` keeps for the commands (``aws``)."""
        return {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "queues": {queue.name: queue.url for queue in self.queues.values()},
            "event_bus": BUS,
            "rule": RULE_NAME,
            "delivered_to": DELIVERED_LOG_GROUP,
        }

    def stop(self) -> None:
        self.server.stop()


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda sends a function for messages ``ReceiveMessage`` returned."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


def event_of(bodies: Sequence[str], queue_name: str) -> dict[str, Any]:
    """The event Lambda would send for ``bodies`` received now from ``queue_name`` (the bench's)."""
    now = str(int(time.time() * 1000))
    attributes = dict.fromkeys(RECORD_ATTRIBUTES, now) | {
        "ApproximateReceiveCount": "1",
        "SenderId": LOCAL_ACCOUNT_ID,
    }
    received = [
        {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": uuid.uuid4().hex,
            "Body": body,
            "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "Attributes": attributes,
        }
        for body in bodies
    ]
    return sqs_event(received, f"arn:aws:sqs:{local_region()}:{LOCAL_ACCOUNT_ID}:{queue_name}")


def failed_message_ids(result: Any, message_ids: Sequence[str]) -> set[str]:
    """The messages of a batch that failed, by AWS's rules: no answer, an empty one, or a null or
    empty ``batchItemFailures`` is a success; an answer it cannot read, or an item without an
    ``itemIdentifier`` of the batch, fails the whole batch."""
    everything = set(message_ids)
    if result is None or result == {}:
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else "unreadable"
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    named = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    return everything & named if named <= everything else everything


class EventSourceMapping(Invoker):
    """Lambda's poller of one SQS event: receives, invokes, deletes (an error fails the batch)."""

    def __init__(
        self, aws: LocalAws, runtime: LambdaRuntime, event: SqsEvent, log: TextIO | None = None
    ) -> None:
        self.queue = aws.queues[event.queue_id]
        super().__init__(runtime, event.function_id, f"queue {self.queue.name}", log)
        self.sqs = aws.sqs()
        self.event = event

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once(IDLE_WAIT_SECONDS)
            except Exception:  # the poller must survive anything a batch or the queue does
                self.say(f"the poller failed:\n{traceback.format_exc().rstrip()}")
                self.stopping.wait(IDLE_WAIT_SECONDS)

    def poll_once(self, wait_seconds: int) -> int:
        """Receive a batch (waiting at most ``wait_seconds`` for its first message, then the
        batching window for the rest), process it; the number of messages received."""
        batch = self._receive(self.event.batch_size, wait_seconds)
        window_ends = time.monotonic() + self.event.batching_window_seconds
        while batch and len(batch) < self.event.batch_size and not self.stopping.is_set():
            left = window_ends - time.monotonic()
            if left <= 0:
                break
            batch += self._receive(self.event.batch_size - len(batch), math.ceil(left))
        if batch:
            self.process(batch)
        return len(batch)

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=min(count, SQS_BATCH),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=list(RECORD_ATTRIBUTES),
        ).get("Messages", [])
        return messages

    def process(self, batch: Sequence[Mapping[str, Any]]) -> None:
        """Invoke the function on the batch; delete the messages that succeeded."""
        ids = [m["MessageId"] for m in batch]
        try:
            result = self.runtime.invoke(self.function_id, sqs_event(batch, self.queue.arn))
        except Exception:
            failed = set(ids)
            self.say(
                f"{self.function_id} failed on a batch of {len(batch)}; every message will "
                f"be received again:\n{traceback.format_exc().rstrip()}"
            )
        else:
            failed = (
                failed_message_ids(result, ids) if self.event.report_batch_item_failures else set()
            )
        done = [m for m in batch if m["MessageId"] not in failed]
        for entries in handles(done):
            self.sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)
        limit = self.queue.max_receive_count
        self.say(
            f"batch of {len(batch)} -> {self.function_id}: {len(done)} done, {len(failed)} failed"
            + (f" (visible again in {self.queue.visibility_timeout} s)" if failed else "")
        )
        for message in batch:
            receives = int(message["Attributes"]["ApproximateReceiveCount"])
            if message["MessageId"] in failed and limit is not None and receives >= limit:
                self.say(
                    f"message {message['MessageId']} failed its receive {receives} of {limit}: "
                    f"the next receive moves it to the dead-letter queue"
                )


def mappings_of(
    template: Stack, runtime: LambdaRuntime, aws: LocalAws, log: TextIO | None = None
) -> list[EventSourceMapping]:
    """An event source mapping for every SQS event of the template, on its queue of ``aws``."""
    return [
        EventSourceMapping(aws, runtime, event, log)
        for function in sorted(template.functions.values(), key=lambda f: f.logical_id)
        for event in function.sqs_events
    ]
