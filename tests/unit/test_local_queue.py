"""The queues ``wellapi run`` makes on moto's server, and the event source mapping that feeds a
function from them (welldev.local_aws).

The queues come from a fixture stack (a visibility timeout of 1 s, a redrive policy of three
receives, and a queue of 0 s with the same policy for the dead-letter path; a batching window
of 1 s on a function and queue of its own), served by moto in
server mode in this process (one server for the module, emptied and provisioned again for each
test), and are reached over HTTP through boto3 as the functions reach them; the mapping invokes
a fixture function written to tmp_path that succeeds, reports failures, crashes, answers
nonsense or holds its batch until released, depending on the message body. The project's own
sync function behind the running server is in ``tests/system/test_local_run.py``.

Redelivery waits for moto's visibility timeout to pass, on its clock: each wait is a receive
that long-polls until a message is visible again, under a deadline that only bounds a hang.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.stacks import function, sqs, stack
from welldev import local_aws, queue_messages
from welldev.lambda_runtime import LambdaRuntime
from welldev.stack import Function, SqsQueue, Stack

ROOT = Path(__file__).resolve().parents[2]
HANG = 60  # seconds: bounds a hang, says nothing about speed


def fixture_stack(src: Path) -> Stack:
    def fed_by(function_id: str, queue_id: str, **event: Any) -> Function:
        # A 60 s timeout: the batch a test holds must not run out of time on a busy machine.
        events = [sqs(function_id, queue_id, **event)]
        handler = "queue_fixture_app.handler"
        return function(function_id, handler, src, timeout=60, sqs_events=events)

    functions = (
        fed_by("WorkerFunction", "JobsQueue", batch_size=3, report=True),
        # The batching window's own function: elsewhere a partial batch would wait it out.
        fed_by("WindowedFunction", "BurstQueue", batch_size=3, window=1),
        # The dead-letter path's own: a visibility timeout of 0, so a failed message comes
        # back at once instead of after the 1 s each receive of JobsQueue waits.
        fed_by("PoisonFunction", "PoisonQueue", batch_size=3, report=True),
        fed_by("PlainFunction", "PlainQueue"),
    )
    queues = [
        SqsQueue("JobsQueue", 1, 3, "JobsDeadLetterQueue"),
        SqsQueue("PoisonQueue", 0, 3, "JobsDeadLetterQueue"),
        SqsQueue("JobsDeadLetterQueue", 30),
        SqsQueue("PlainQueue", 30),
        SqsQueue("BurstQueue", 30),
    ]
    return stack(*functions, queues=queues)


APP = """
import threading

EVENTS = []
HOLDING = threading.Event()  # a batch with "hold" is being processed...
RELEASE = threading.Event()  # ...until the test releases it


def handler(event, context):
    EVENTS.append(event)
    bodies = [record["body"] for record in event["Records"]]
    if "crash" in bodies:
        raise RuntimeError("the worker crashed")
    if "bogus" in bodies:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-of-this-batch"}]}
    if "hold" in bodies:
        HOLDING.set()
        RELEASE.wait(60)
    return {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]}
            for record in event["Records"]
            if record["body"] == "fail"
        ]
    }
"""


class Fixture:
    """The template, its functions (imported in this process) and moto's server, whose queues
    each test finds made anew from the template, empty."""

    def __init__(self, template: Stack) -> None:
        self.template = template
        self.runtime = LambdaRuntime(template)
        self.log = io.StringIO()
        self.aws = local_aws.LocalAws.start(self.template)
        self.sqs = self.aws.sqs()

    def mapping(self, function_id: str = "WorkerFunction") -> local_aws.EventSourceMapping:
        mappings = local_aws.mappings_of(self.template, self.runtime, self.aws, self.log)
        (mapping,) = [m for m in mappings if m.function_id == function_id]
        return mapping

    def send(self, mapping: local_aws.EventSourceMapping, body: str) -> str:
        message_id: str = self.sqs.send_message(QueueUrl=mapping.queue.url, MessageBody=body)[
            "MessageId"
        ]
        return message_id

    def counts(self, logical_id: str = "JobsQueue") -> tuple[int, int]:
        """(visible, in flight) on the queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.aws.queues[logical_id].url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    @property
    def app(self) -> Any:
        return sys.modules["queue_fixture_app"]

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.app.EVENTS
        return events

    @property
    def received(self) -> list[tuple[str, str]]:
        """(body, receive count) of every record the function was given, in order."""
        return [
            (r["body"], r["attributes"]["ApproximateReceiveCount"])
            for event in self.events
            for r in event["Records"]
        ]


@pytest.fixture(scope="module")
def functions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    root = tmp_path_factory.mktemp("queue")
    (root / "src").mkdir()
    (root / "src" / "queue_fixture_app.py").write_text(textwrap.dedent(APP))
    # One server for the module: stopping one waits out its poll interval (half a second).
    functions = Fixture(fixture_stack(root / "src"))
    yield functions
    functions.aws.stop()
    sys.modules.pop("queue_fixture_app", None)
    if str(root / "src") in sys.path:
        sys.path.remove(str(root / "src"))


@pytest.fixture
def fixture(functions: Fixture) -> Fixture:
    """Empty queues, made anew, and a function that has received nothing."""
    functions.runtime.handler("WorkerFunction")  # imported, so that its event list exists
    functions.events.clear()
    functions.app.HOLDING.clear()
    functions.app.RELEASE.clear()
    functions.log.seek(0)
    functions.log.truncate()
    functions.aws.provision(functions.template)
    return functions


def until(condition: Callable[[], bool], step: Callable[[], object], timeout: float = HANG) -> None:
    """``step`` until ``condition`` holds; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        step()


# ---- the queues -------------------------------------------------------------------------------


def test_the_queues_are_made_with_the_templates_visibility_timeout_and_redrive_policy(
    fixture: Fixture,
) -> None:
    jobs, dead = fixture.aws.queues["JobsQueue"], fixture.aws.queues["JobsDeadLetterQueue"]
    attributes = fixture.sqs.get_queue_attributes(QueueUrl=jobs.url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "1"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead.arn,
        "maxReceiveCount": 3,
    }
    assert (jobs.name, jobs.visibility_timeout, jobs.max_receive_count) == ("jobs", 1, 3)
    assert jobs.arn.endswith(":123456789012:JobsQueue")
    plain = fixture.sqs.get_queue_attributes(
        QueueUrl=fixture.aws.queues["PlainQueue"].url, AttributeNames=["All"]
    )["Attributes"]
    assert "RedrivePolicy" not in plain


def test_a_received_message_is_invisible_until_its_visibility_timeout_then_comes_back(
    fixture: Fixture,
) -> None:
    url = fixture.aws.queues["JobsQueue"].url
    fixture.sqs.send_message(QueueUrl=url, MessageBody="hello")

    def receive(wait: int) -> list[dict[str, Any]]:
        answer = fixture.sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=wait, MessageSystemAttributeNames=["All"]
        )
        return list(answer.get("Messages", []))

    (first,) = receive(0)
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert receive(0) == []  # in flight
    assert fixture.counts() == (0, 1)
    again: list[dict[str, Any]] = []
    until(lambda: bool(again), lambda: again.extend(receive(2)))
    assert again[0]["MessageId"] == first["MessageId"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again[0]["ReceiptHandle"] != first["ReceiptHandle"]
    first_received = "ApproximateFirstReceiveTimestamp"
    assert again[0]["Attributes"][first_received] == first["Attributes"][first_received]


def test_queues_are_named_after_their_logical_id() -> None:
    assert local_aws.route_name("SyncQueue") == "sync"
    assert local_aws.route_name("SyncDeadLetterQueue") == "sync-dead-letter"
    assert local_aws.route_name("Queue") == "queue"


# ---- what is enqueued ------------------------------------------------------------------------


def test_an_sqs_event_file_enqueues_each_records_body() -> None:
    text = (ROOT / "events" / "sync-poison.json").read_text()
    bodies = queue_messages.bodies_of(text)
    assert bodies == [r["body"] for r in json.loads(text)["Records"]]
    assert [queue_messages.describe_body(b) for b in bodies] == [
        "provenance.linked globex/chift/sync-run-0003/people/input",
        "provenance.linked globex/chift/sync-run-0004/people/input",
    ]


def test_anything_else_is_one_message_body() -> None:
    assert queue_messages.bodies_of('  {"type": "x"}\n') == ['{"type": "x"}']
    assert queue_messages.bodies_of("not json at all") == ["not json at all"]
    assert queue_messages.describe_body("not json at all") == "not json at all"
    assert queue_messages.describe_body("x" * 100) == "x" * 57 + "..."


@pytest.mark.parametrize(
    "text",
    ["", "   \n", '{"Records": []}', '{"Records": [{"body": 1}]}', '{"Records": "no"}'],
)
def test_nothing_to_enqueue_is_refused(text: str) -> None:
    with pytest.raises(queue_messages.NotAMessage):
        queue_messages.bodies_of(text)


# ---- the event source mapping ----------------------------------------------------------------


def test_mappings_read_batch_size_window_and_redrive_policy_from_the_template(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping()
    assert (mapping.event.batch_size, mapping.event.batching_window_seconds) == (3, 0)
    windowed = fixture.mapping("WindowedFunction")
    assert (windowed.event.batch_size, windowed.event.batching_window_seconds) == (3, 1)
    assert mapping.event.report_batch_item_failures
    assert mapping.queue is fixture.aws.queues["JobsQueue"]
    assert mapping.queue.dead_letter_queue == "JobsDeadLetterQueue"
    plain = fixture.mapping("PlainFunction")
    assert plain.queue.max_receive_count is None
    assert (plain.event.batch_size, plain.event.batching_window_seconds) == (10, 0)


def test_the_function_receives_the_event_lambda_builds_for_an_sqs_batch(fixture: Fixture) -> None:
    mapping = fixture.mapping()
    sent = fixture.send(mapping, '{"hello": "queue"}')
    assert mapping.poll_once(1) == 1
    (record,) = fixture.events[0]["Records"]
    canonical = json.loads((ROOT / "events" / "sync-provenance-linked.json").read_text())
    (example,) = canonical["Records"]
    assert record.keys() == example.keys()
    assert record["attributes"].keys() == example["attributes"].keys()
    assert record["messageId"] == sent
    assert record["body"] == '{"hello": "queue"}'
    assert record["md5OfBody"] == "c4f3b95a7b542d1d1f5655728a79ffa3"  # md5 of the body
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == mapping.queue.arn
    assert record["awsRegion"] == mapping.queue.arn.split(":")[3]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert fixture.counts() == (0, 0)  # deleted


def test_successes_are_deleted_and_reported_failures_come_back_until_the_dead_letter_queue(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping("PoisonFunction")
    fixture.send(mapping, "ok")
    poison = fixture.send(mapping, "fail")
    dead_url = fixture.aws.queues["JobsDeadLetterQueue"].url
    # Nothing to wait for: each receive finds the failed message visible again.
    until(lambda: fixture.counts("JobsDeadLetterQueue") == (1, 0), lambda: mapping.poll_once(0))
    assert fixture.counts("PoisonQueue") == (0, 0)
    assert fixture.received == [("ok", "1"), ("fail", "1"), ("fail", "2"), ("fail", "3")]
    (dead,) = local_aws.peek(fixture.sqs, dead_url)
    assert (dead["MessageId"], dead["Body"]) == (poison, "fail")
    log = fixture.log.getvalue()
    assert "batch of 2 -> PoisonFunction: 1 done, 1 failed (visible again in 0 s)" in log
    assert f"message {poison} failed its receive 3 of 3: the next receive moves it" in log


def test_a_function_error_fails_the_whole_batch(fixture: Fixture) -> None:
    mapping = fixture.mapping()
    fixture.send(mapping, "ok")
    fixture.send(mapping, "crash")
    assert mapping.poll_once(1) == 2
    assert sum(fixture.counts()) == 2  # neither deleted: both come back
    assert "WorkerFunction failed on a batch of 2" in fixture.log.getvalue()
    assert "RuntimeError: the worker crashed" in fixture.log.getvalue()


def test_an_answer_naming_a_message_outside_the_batch_fails_the_whole_batch(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping()
    fixture.send(mapping, "ok")
    fixture.send(mapping, "bogus")
    assert mapping.poll_once(1) == 2
    assert sum(fixture.counts()) == 2


def test_without_report_batch_item_failures_a_batch_that_returns_is_deleted(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping("PlainFunction")
    fixture.send(mapping, "fail")  # reported, but this mapping does not read reports
    assert mapping.poll_once(1) == 1
    assert fixture.counts("PlainQueue") == (0, 0)


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemId": "a"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": "c"}]}, {"a", "b"}),
        ({"batchItemFailures": "a"}, {"a", "b"}),
        ("not an object", {"a", "b"}),
    ],
)
def test_batch_item_failures_are_read_by_lambdas_rules(answer: Any, failed: set[str]) -> None:
    assert local_aws.failed_message_ids(answer, ["a", "b"]) == failed


def test_the_batching_window_turns_a_burst_into_batches_of_at_most_batch_size(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping("WindowedFunction")
    for index in range(4):
        fixture.send(mapping, f"burst-{index}")
    assert mapping.poll_once(1) == 3  # a full batch
    assert mapping.poll_once(1) == 1  # the window (1 s) closed on a partial batch
    assert [len(event["Records"]) for event in fixture.events] == [3, 1]
    assert mapping.poll_once(0) == 0  # nothing left


def test_a_stop_closes_the_batching_window_and_what_was_received_is_processed(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping("WindowedFunction")
    mapping.stop()
    fixture.send(mapping, "alone")  # fewer than BatchSize: the window would wait for more
    assert mapping.poll_once(1) == 1
    assert fixture.received == [("alone", "1")]
    assert fixture.counts("BurstQueue") == (0, 0)  # not left to come back later


def test_the_poller_processes_messages_as_they_come_and_stops_cleanly(fixture: Fixture) -> None:
    mapping = fixture.mapping()
    mapping.start()
    try:
        assert mapping.is_alive()
        fixture.send(mapping, "ok")
        until(lambda: fixture.received == [("ok", "1")], lambda: time.sleep(0.05))
        fixture.send(mapping, "hold")
        assert fixture.app.HOLDING.wait(HANG)  # the batch is being processed
        assert not mapping.stop(timeout=0)  # the poller does not drop the batch in progress
        assert mapping.is_alive()
    finally:
        fixture.app.RELEASE.set()
        assert mapping.stop(timeout=HANG)
    assert not mapping.is_alive()
    assert fixture.counts() == (0, 0)  # the batch in progress finished, and was deleted
    assert not [t for t in threading.enumerate() if t.name == "wellapi-queue-jobs-WorkerFunction"]


def test_a_poller_that_never_started_stops_at_once(fixture: Fixture) -> None:
    assert fixture.mapping().stop()


def test_the_poller_survives_a_failure_of_its_own(
    fixture: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = fixture.mapping()
    calls: list[int] = []

    def broken(wait_seconds: int) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the poller tripped")
        return 0

    monkeypatch.setattr(local_aws, "IDLE_WAIT_SECONDS", 0)
    monkeypatch.setattr(mapping, "poll_once", broken)
    mapping.start()
    until(lambda: len(calls) >= 2, lambda: time.sleep(0.01))
    assert mapping.stop(timeout=HANG)
    assert "the poller failed" in fixture.log.getvalue()
    assert "RuntimeError: the poller tripped" in fixture.log.getvalue()


def test_the_bench_makes_the_event_a_mapping_would_without_a_queue() -> None:
    event = local_aws.event_of(['{"a": 1}', "two"], "SyncQueue")
    canonical = json.loads((ROOT / "events" / "sync-provenance-linked.json").read_text())
    (example,) = canonical["Records"]
    first, second = event["Records"]
    assert first.keys() == example.keys()
    assert first["attributes"].keys() == example["attributes"].keys()
    assert (first["body"], second["body"]) == ('{"a": 1}', "two")
    assert first["messageId"] != second["messageId"]
    assert first["eventSourceARN"].endswith(":123456789012:SyncQueue")
