"""The template's SQS queues in this process, and the event source mappings that drain them.

``LocalQueue`` is a standard queue held in memory: messages are received in batches, stay
invisible for the visibility timeout, come back with a higher ``ApproximateReceiveCount`` when
they were not deleted, and move to the dead-letter list instead of being received again once
they have been received ``maxReceiveCount`` times (the queue's ``RedrivePolicy``), as SQS does.
Nothing is written anywhere: the messages are lost when the process stops.

``EventSourceMapping`` is Lambda's poller for one ``SQS`` event of a function: it waits for
messages, gathers up to ``BatchSize`` of them for at most ``MaximumBatchingWindowInSeconds``,
invokes the function with the event Lambda builds (same record shape), deletes what succeeded
and leaves the rest to come back after the visibility timeout. With
``FunctionResponseTypes: [ReportBatchItemFailures]`` only the records named in
``batchItemFailures`` are left (a malformed answer fails the whole batch, as in AWS); an error
or a timeout of the function fails the whole batch.

Two things differ from AWS, on purpose:

- the visibility timeout is short (``DEFAULT_VISIBILITY_TIMEOUT_SECONDS``, ``wellapi run
  --visibility-timeout``) instead of the template's, so that retries and the way to the
  dead-letter list take seconds, not half an hour;
- one poller per mapping, so batches of one function never run concurrently. A batch that
  outlives the visibility timeout is therefore not delivered twice meanwhile, and it can still
  delete its messages: the receipt handle stays valid until the message is received again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from welldev.intrinsics import LOCAL_ACCOUNT_ID, pseudo_parameters
from welldev.lambda_runtime import LambdaRuntime
from welldev.queue_messages import NotAMessage, bodies_of
from welldev.template import SqsEvent, SqsQueue, Template, TemplateError

# Locally, instead of the template's VisibilityTimeout (360 s for SyncQueue).
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 5.0
# How long the poller sleeps when nothing happens (a send or a stop wakes it at once).
_IDLE_WAIT_SECONDS = 1.0


def route_name(queue_logical_id: str) -> str:
    """``SyncQueue`` -> ``sync``: the queue's name in the local routes and commands."""
    base = queue_logical_id.removesuffix("Queue") or queue_logical_id
    return re.sub(r"(?<!^)(?=[A-Z])", "-", base).lower()


def queue_arn(queue_name: str) -> str:
    region = pseudo_parameters()["AWS::Region"]
    return f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{queue_name}"


def md5_of(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _Message:
    message_id: str
    body: str
    md5: str
    sent_ms: int
    receive_count: int = 0
    first_receive_ms: int | None = None
    receipt_handle: str | None = None  # of the latest receive
    invisible_until: float = 0.0  # on the queue's clock; visible once it has passed


@dataclass(frozen=True)
class Sent:
    """What ``SendMessage`` answers."""

    message_id: str
    md5_of_body: str


@dataclass(frozen=True)
class Received:
    """One message as ``ReceiveMessage`` returns it (with all its attributes)."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int


@dataclass(frozen=True)
class Counts:
    visible: int
    in_flight: int
    dead_lettered: int
    processed: int  # deleted after a successful invocation
    sent: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# How a queue waits on its condition for at most some seconds; a test passes one that lets
# the time pass on its own clock instead.
Wait = Callable[[threading.Condition, float], object]


class LocalQueue:
    """An SQS standard queue in memory, with its redrive policy; safe to share between threads.

    Visibility and waits are measured on ``clock`` (``time.monotonic`` unless a test gives its
    own); ``wait`` is how a waiter sleeps until a change or its next deadline.
    """

    def __init__(
        self,
        name: str,
        *,
        arn: str,
        visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
        max_receive_count: int | None = None,
        logical_id: str | None = None,
        log: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Wait = threading.Condition.wait,
    ) -> None:
        if visibility_timeout < 0:
            raise ValueError("the visibility timeout cannot be negative")
        if max_receive_count is not None and max_receive_count < 1:
            raise ValueError("maxReceiveCount must be at least 1")
        self.name = name
        self.arn = arn
        self.logical_id = logical_id or name
        self.visibility_timeout = visibility_timeout
        self.max_receive_count = max_receive_count
        self._log = log or sys.stderr
        self._messages: dict[str, _Message] = {}  # in sending order
        self._dead_letters: list[DeadLetter] = []
        self._processed = 0
        self._sent = 0
        self._changed = threading.Condition()
        self._clock = clock
        self._wait = wait

    @classmethod
    def from_template(
        cls,
        queue: SqsQueue,
        *,
        visibility_timeout: float,
        log: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Wait = threading.Condition.wait,
    ) -> LocalQueue:
        return cls(
            route_name(queue.logical_id),
            arn=queue_arn(queue.queue_name),
            visibility_timeout=visibility_timeout,
            max_receive_count=queue.max_receive_count,
            logical_id=queue.logical_id,
            log=log,
            clock=clock,
            wait=wait,
        )

    def send(self, body: str) -> Sent:
        """``SendMessage``: the message id and the MD5 of the body."""
        message = _Message(str(uuid.uuid4()), body, md5_of(body), _now_ms())
        with self._changed:
            self._messages[message.message_id] = message
            self._sent += 1
            self._changed.notify_all()
        return Sent(message.message_id, message.md5)

    def receive(self, max_messages: int) -> list[Received]:
        """``ReceiveMessage`` without waiting: up to ``max_messages`` visible messages.

        A visible message already received ``maxReceiveCount`` times moves to the dead-letter
        list instead of being returned.
        """
        received: list[Received] = []
        with self._changed:
            now = self._clock()
            for message in list(self._messages.values()):
                if len(received) >= max_messages:
                    break
                if message.invisible_until > now:
                    continue
                if self.max_receive_count and message.receive_count >= self.max_receive_count:
                    self._dead_letter(message)
                    continue
                message.receive_count += 1
                message.first_receive_ms = message.first_receive_ms or _now_ms()
                message.receipt_handle = _receipt_handle(message)
                message.invisible_until = now + self.visibility_timeout
                received.append(
                    Received(
                        message_id=message.message_id,
                        receipt_handle=message.receipt_handle,
                        body=message.body,
                        md5_of_body=message.md5,
                        attributes={
                            "ApproximateReceiveCount": str(message.receive_count),
                            "SentTimestamp": str(message.sent_ms),
                            "SenderId": LOCAL_ACCOUNT_ID,
                            "ApproximateFirstReceiveTimestamp": str(message.first_receive_ms),
                        },
                    )
                )
        return received

    def _dead_letter(self, message: _Message) -> None:
        del self._messages[message.message_id]
        self._dead_letters.append(
            DeadLetter(message.message_id, message.body, message.receive_count)
        )
        print(
            f"[queue {self.name}] message {message.message_id} moved to the dead-letter list "
            f"after {message.receive_count} receives",
            file=self._log,
            flush=True,
        )

    def delete(self, receipt_handle: str) -> bool:
        """``DeleteMessage`` with the handle of the message's latest receive."""
        with self._changed:
            for message in self._messages.values():
                if message.receipt_handle == receipt_handle:
                    del self._messages[message.message_id]
                    self._processed += 1
                    self._changed.notify_all()
                    return True
        return False

    def counts(self) -> Counts:
        with self._changed:
            now = self._clock()
            in_flight = sum(1 for m in self._messages.values() if m.invisible_until > now)
            return Counts(
                visible=len(self._messages) - in_flight,
                in_flight=in_flight,
                dead_lettered=len(self._dead_letters),
                processed=self._processed,
                sent=self._sent,
            )

    def dead_letters(self) -> list[DeadLetter]:
        with self._changed:
            return list(self._dead_letters)

    def wait_for_visible(self, count: int, timeout: float, stop: threading.Event) -> int:
        """Wait until ``count`` messages are visible, ``timeout`` passes or ``stop`` is set.

        Returns how many messages are visible then.
        """
        with self._changed:
            deadline = self._clock() + timeout
            while True:
                now = self._clock()
                visible = 0
                wake = deadline
                for message in self._messages.values():
                    if message.invisible_until <= now:
                        visible += 1
                    else:  # it becomes visible by itself: wake up then
                        wake = min(wake, message.invisible_until)
                if visible >= count or now >= deadline or stop.is_set():
                    return visible
                self._wait(self._changed, max(0.0, wake - now))

    def wake(self) -> None:
        """Wake every waiter (they look at the clock and their stop event again)."""
        with self._changed:
            self._changed.notify_all()

    def describe(self) -> dict[str, Any]:
        """What ``GET /_local/queues/<name>`` answers."""
        return {
            "queue": self.name,
            "logical_id": self.logical_id,
            "arn": self.arn,
            **self.counts().as_dict(),
            "visibility_timeout_seconds": self.visibility_timeout,
            "max_receive_count": self.max_receive_count,
            "dead_letters": [
                {
                    "messageId": d.message_id,
                    "approximateReceiveCount": d.receive_count,
                    "body": d.body,
                }
                for d in self.dead_letters()
            ],
        }


def _receipt_handle(message: _Message) -> str:
    token = f"{message.message_id}#{message.receive_count}#{uuid.uuid4().hex}"
    return base64.b64encode(token.encode()).decode("ascii")


# ---------------------------------------------------------------------------------------------
# Lambda's side: the event source mapping
# ---------------------------------------------------------------------------------------------


def sqs_event(messages: Sequence[Received], queue: LocalQueue) -> dict[str, Any]:
    """The event Lambda sends a function for a batch received from ``queue``."""
    region = queue.arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": dict(m.attributes),
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue.arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def failed_message_ids(result: Any, message_ids: Sequence[str]) -> set[str]:
    """The messages of a batch that failed, read from a ``ReportBatchItemFailures`` answer.

    AWS's rules: no answer, an empty one, or a null or empty ``batchItemFailures`` is a
    success; an answer it cannot read, or an item without a valid ``itemIdentifier`` of this
    batch, fails the whole batch.
    """
    everything = set(message_ids)
    if result is None or result == {}:
        return set()
    if not isinstance(result, dict):
        return everything
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


class EventSourceMapping:
    """Lambda's poller for one SQS event of a function: batches, invokes, deletes."""

    def __init__(
        self,
        queue: LocalQueue,
        runtime: LambdaRuntime,
        event: SqsEvent,
        log: TextIO | None = None,
    ) -> None:
        self.queue = queue
        self.runtime = runtime
        self.event = event
        self.log = log or sys.stderr
        self.batches = 0  # invocations so far
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def function_id(self) -> str:
        return self.event.function_id

    def start(self) -> None:
        """Import the function (its init phase, so a broken handler fails now), then poll."""
        self.runtime.prepare(self.function_id)
        self._thread = threading.Thread(
            target=self._poll, name=f"wellapi-queue-{self.queue.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop polling; a batch being processed finishes first. True when the poller ended."""
        self._stop.set()
        self.queue.wake()
        if self._thread is None:
            return True
        if timeout is None:
            timeout = self.runtime.template.function(self.function_id).timeout_seconds + 5
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(_IDLE_WAIT_SECONDS)
            except Exception:  # the poller must survive anything a batch does
                self._say(f"the poller failed:\n{traceback.format_exc().rstrip()}")
                self._stop.wait(_IDLE_WAIT_SECONDS)

    def poll_once(self, wait_seconds: float) -> int:
        """Wait for a batch (at most ``wait_seconds`` for the first message), process it.

        Returns the number of messages received.
        """
        if not self.queue.wait_for_visible(1, wait_seconds, self._stop):
            return 0
        if self.event.batching_window_seconds > 0:
            # The window opens with the first message and closes early on a full batch.
            self.queue.wait_for_visible(
                self.event.batch_size, self.event.batching_window_seconds, self._stop
            )
        if self._stop.is_set():
            return 0
        batch = self.queue.receive(self.event.batch_size)
        if batch:
            self.process(batch)
        return len(batch)

    def process(self, batch: Sequence[Received]) -> None:
        """Invoke the function on the batch; delete the messages that succeeded."""
        self.batches += 1
        ids = [m.message_id for m in batch]
        try:
            result = self.runtime.invoke(self.function_id, sqs_event(batch, self.queue))
        except Exception:
            failed = set(ids)
            self._say(
                f"{self.function_id} failed on a batch of {len(batch)}; every message will "
                f"be received again:\n{traceback.format_exc().rstrip()}"
            )
        else:
            failed = (
                failed_message_ids(result, ids) if self.event.report_batch_item_failures else set()
            )
        for message in batch:
            if message.message_id not in failed:
                self.queue.delete(message.receipt_handle)
        receives = max(int(m.attributes["ApproximateReceiveCount"]) for m in batch)
        limit = self.queue.max_receive_count
        self._say(
            f"batch of {len(batch)} -> {self.function_id}: {len(batch) - len(failed)} done, "
            f"{len(failed)} failed"
            + (
                f" (visible again in {self.queue.visibility_timeout:g} s; "
                f"receive {receives} of {limit or 'unlimited'})"
                if failed
                else ""
            )
        )

    def _say(self, message: str) -> None:
        print(f"[queue {self.queue.name}] {message}", file=self.log, flush=True)


def mappings_of(
    template: Template,
    runtime: LambdaRuntime,
    *,
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
    log: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    wait: Wait = threading.Condition.wait,
) -> list[EventSourceMapping]:
    """An event source mapping for every SQS event whose queue the template declares.

    Mappings on the same queue share one ``LocalQueue`` (on ``clock``, waiting with ``wait``).
    """
    log = log or sys.stderr
    queues: dict[str, LocalQueue] = {}
    mappings: list[EventSourceMapping] = []
    for function in sorted(template.functions.values(), key=lambda f: f.logical_id):
        for event in function.sqs_events:
            if event.queue_id is None or event.queue_id not in template.queues:
                raise TemplateError(
                    f"{function.logical_id}.Events.{event.event_name}: only a queue of the "
                    f"template (!GetAtt <Queue>.Arn) can be consumed locally"
                )
            if event.queue_id not in queues:
                queues[event.queue_id] = LocalQueue.from_template(
                    template.queues[event.queue_id],
                    visibility_timeout=visibility_timeout,
                    log=log,
                    clock=clock,
                    wait=wait,
                )
            mappings.append(EventSourceMapping(queues[event.queue_id], runtime, event, log))
    return mappings


# ---------------------------------------------------------------------------------------------
# What the local routes and ``wellapi enqueue`` accept
# ---------------------------------------------------------------------------------------------


def request_text(event: Mapping[str, Any]) -> str:
    """The body of a payload 2.0 event, decoded."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise NotAMessage(f"the body is not UTF-8 text: {error}") from error
    return str(body)


def queue_routes_handler(
    queues: Mapping[str, LocalQueue],
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``GET`` and ``POST /_local/queues/{queue}``: the counts, and ``SendMessage``."""

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        name = (event.get("pathParameters") or {}).get("queue", "")
        queue = queues.get(name)
        if queue is None:
            known = ", ".join(sorted(queues)) or "none"
            return _json(404, {"message": f"no local queue {name!r} (queues: {known})"})
        if event["requestContext"]["http"]["method"] == "GET":
            return _json(200, queue.describe())
        try:
            bodies = bodies_of(request_text(event))
        except NotAMessage as error:
            return _json(400, {"message": str(error)})
        sent = [queue.send(body) for body in bodies]
        return _json(
            200,
            {
                "queue": queue.name,
                "enqueued": [{"messageId": m.message_id, "md5OfBody": m.md5_of_body} for m in sent],
                **queue.counts().as_dict(),
            },
        )

    return handle


def _json(status: int, document: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(document, indent=2) + "\n",
    }
