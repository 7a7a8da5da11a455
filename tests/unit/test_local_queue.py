"""The local SQS queue and the event source mapping that feeds a function from it.

The queue is exercised on its own (visibility timeouts, receive counts, receipt handles, the
dead-letter list) and through the mapping, on a fixture function written to tmp_path that
succeeds, reports failures, crashes, answers nonsense or holds its batch until released,
depending on the message body. The project's own sync function behind the running server is
in ``tests/system/test_local_run.py``.

No test waits for real time to pass: the queue runs on a clock of the test's
(tests/support/clock.py), which a test moves, or on which every wait passes at once and is
recorded; threads are followed through events, with timeouts that only bound a hang.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import ManualClock, PassingTime
from welldev import queue_messages, queues
from welldev import template as sam
from welldev.lambda_runtime import LambdaRuntime

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """
Globals:
  Function:
    CodeUri: src/
    Timeout: 60  # the batch a test holds must not run out of time on a busy machine
Resources:
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: queue_fixture_app.handler
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 3
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: queue_fixture_app.handler
      Events:
        Plain:
          Type: SQS
          Properties:
            Queue: !GetAtt PlainQueue.Arn
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 360
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn
        maxReceiveCount: 3
  JobsDeadLetterQueue:
    Type: AWS::SQS::Queue
  PlainQueue:
    Type: AWS::SQS::Queue
"""

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
    def __init__(self, template: sam.Template) -> None:
        self.template = template
        self.runtime = LambdaRuntime(template)
        self.log = io.StringIO()

    def mapping(
        self,
        function_id: str = "WorkerFunction",
        visibility_timeout: float = 0.0,
        passing: PassingTime | None = None,
    ) -> queues.EventSourceMapping:
        timing: dict[str, Any] = {"clock": passing, "wait": passing.wait} if passing else {}
        (mapping,) = [
            m
            for m in queues.mappings_of(
                self.template,
                self.runtime,
                visibility_timeout=visibility_timeout,
                log=self.log,
                **timing,
            )
            if m.function_id == function_id
        ]
        return mapping

    @property
    def app(self) -> Any:
        return sys.modules["queue_fixture_app"]

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.app.EVENTS
        return events


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    root = tmp_path_factory.mktemp("queue")
    (root / "src").mkdir()
    (root / "src" / "queue_fixture_app.py").write_text(textwrap.dedent(APP))
    (root / "template.yaml").write_text(TEMPLATE)
    yield Fixture(sam.load(root / "template.yaml"))
    sys.modules.pop("queue_fixture_app", None)
    if str(root / "src") in sys.path:
        sys.path.remove(str(root / "src"))


@pytest.fixture(autouse=True)
def no_events_yet(fixture: Fixture) -> None:
    fixture.runtime.handler("WorkerFunction")  # imported, so that its event list exists
    fixture.events.clear()
    fixture.app.HOLDING.clear()
    fixture.app.RELEASE.clear()


def local_queue(
    visibility_timeout: float = 0.0,
    max_receive_count: int | None = 3,
    clock: Callable[[], float] = time.monotonic,
    wait: queues.Wait = threading.Condition.wait,
) -> Any:
    return queues.LocalQueue(
        "jobs",
        arn=queues.queue_arn("JobsQueue"),
        visibility_timeout=visibility_timeout,
        max_receive_count=max_receive_count,
        log=io.StringIO(),
        clock=clock,
        wait=wait,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Until ``condition`` holds; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Waiter(threading.Thread):
    """``wait_for_visible`` in a thread of its own, with a deadline the test's clock never
    reaches unless the test moves it there."""

    def __init__(self, queue: queues.LocalQueue, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.queue, self.stop, self.visible = queue, stop, -1

    def run(self) -> None:
        self.visible = self.queue.wait_for_visible(1, 100.0, self.stop)

    def result(self) -> int:
        self.join(30)
        assert not self.is_alive(), "the waiter never woke"
        return self.visible


def start_waiting(queue: queues.LocalQueue, clock: ManualClock, stop: threading.Event) -> Waiter:
    """A waiter that is waiting: it reads the clock holding the queue's lock, which it lets go
    only in its wait, so a send or a wake from the test comes after the waiter is waiting."""
    clock.read.clear()
    waiter = Waiter(queue, stop)
    waiter.start()
    assert clock.read.wait(30)
    return waiter


# ---- the queue ------------------------------------------------------------------------------


def test_a_received_message_is_invisible_until_its_visibility_timeout_passes() -> None:
    clock = ManualClock()
    queue = local_queue(visibility_timeout=30, clock=clock)
    queue.send("hello")
    (first,) = queue.receive(10)
    assert first.attributes["ApproximateReceiveCount"] == "1"
    assert queue.receive(10) == []
    assert queue.counts().as_dict() == {
        "visible": 0,
        "in_flight": 1,
        "dead_lettered": 0,
        "processed": 0,
        "sent": 1,
    }
    clock.advance(29.5)
    assert queue.receive(10) == []  # not yet
    clock.advance(1)
    (again,) = queue.receive(10)
    assert again.message_id == first.message_id
    assert again.attributes["ApproximateReceiveCount"] == "2"
    assert again.receipt_handle != first.receipt_handle
    assert (
        again.attributes["ApproximateFirstReceiveTimestamp"]
        == (first.attributes["ApproximateFirstReceiveTimestamp"])
    )


def test_a_receive_returns_at_most_the_batch_size_oldest_first() -> None:
    queue = local_queue(visibility_timeout=60)
    sent = [queue.send(f"m{i}").message_id for i in range(5)]
    assert [m.message_id for m in queue.receive(3)] == sent[:3]
    assert [m.message_id for m in queue.receive(3)] == sent[3:]


def test_only_the_latest_receipt_handle_deletes_a_message() -> None:
    queue = local_queue()
    queue.send("hello")
    (old,) = queue.receive(1)
    (latest,) = queue.receive(1)
    assert not queue.delete(old.receipt_handle)
    assert queue.delete(latest.receipt_handle)
    assert not queue.delete(latest.receipt_handle)
    assert queue.counts().processed == 1
    assert queue.counts().visible == 0


def test_a_message_received_max_receive_count_times_moves_to_the_dead_letter_list() -> None:
    queue = local_queue(max_receive_count=3)
    message_id = queue.send("poison").message_id
    for receive in (1, 2, 3):
        (message,) = queue.receive(10)
        assert message.attributes["ApproximateReceiveCount"] == str(receive)
    assert queue.receive(10) == []  # a fourth receive moves it instead
    (dead,) = queue.dead_letters()
    assert (dead.message_id, dead.body, dead.receive_count) == (message_id, "poison", 3)
    assert queue.counts().dead_lettered == 1
    assert queue.describe()["dead_letters"] == [
        {"messageId": message_id, "approximateReceiveCount": 3, "body": "poison"}
    ]


def test_without_a_redrive_policy_a_message_comes_back_for_ever() -> None:
    queue = local_queue(max_receive_count=None)
    queue.send("again")
    for _ in range(10):
        assert len(queue.receive(1)) == 1
    assert queue.counts().dead_lettered == 0


def test_a_waiter_wakes_when_a_message_arrives_or_becomes_visible_again() -> None:
    clock = ManualClock()
    queue = local_queue(visibility_timeout=30, clock=clock)
    stop = threading.Event()
    waiter = start_waiting(queue, clock, stop)
    queue.send("late")
    assert waiter.result() == 1  # woken by the send: its own deadline never came
    queue.receive(1)
    waiter = start_waiting(queue, clock, stop)
    clock.advance(30)
    queue.wake()  # as the end of the wait it asked for would (next test)
    assert waiter.result() == 1  # visible again after the visibility timeout


def test_a_waiter_sleeps_until_the_next_message_becomes_visible_not_its_whole_timeout() -> None:
    passing = PassingTime()
    queue = local_queue(visibility_timeout=30, clock=passing, wait=passing.wait)
    queue.send("again")
    queue.receive(1)
    assert queue.wait_for_visible(1, 100.0, threading.Event()) == 1
    assert passing.waits == pytest.approx([30])


def test_a_stop_interrupts_a_waiter() -> None:
    clock = ManualClock()
    queue = local_queue(clock=clock)
    stop = threading.Event()
    waiter = start_waiting(queue, clock, stop)
    stop.set()
    queue.wake()
    assert waiter.result() == 0  # its deadline never came: the stop ended the wait


def test_queue_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="negative"):
        queues.LocalQueue("q", arn="arn", visibility_timeout=-1)
    with pytest.raises(ValueError, match="maxReceiveCount"):
        queues.LocalQueue("q", arn="arn", max_receive_count=0)


def test_queues_are_named_after_their_logical_id() -> None:
    assert queues.route_name("SyncQueue") == "sync"
    assert queues.route_name("SyncDeadLetterQueue") == "sync-dead-letter"
    assert queues.route_name("Queue") == "queue"


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
    mapping = fixture.mapping(visibility_timeout=2.5)
    assert (mapping.event.batch_size, mapping.event.batching_window_seconds) == (3, 1)
    assert mapping.event.report_batch_item_failures
    assert mapping.queue.name == "jobs"
    assert mapping.queue.max_receive_count == 3
    assert mapping.queue.visibility_timeout == 2.5  # the local one, not the template's 360
    assert mapping.queue.arn.endswith(":123456789012:JobsQueue")
    plain = fixture.mapping("PlainFunction")
    assert plain.queue.max_receive_count is None
    assert (plain.event.batch_size, plain.event.batching_window_seconds) == (10, 0)


def test_a_queue_outside_the_template_cannot_be_consumed(fixture: Fixture) -> None:
    template = sam.parse(
        {
            "Resources": {
                "F": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "Handler": "a.b",
                        "Events": {"E": {"Type": "SQS", "Properties": {"Queue": "arn:x"}}},
                    },
                }
            }
        },
        fixture.template.path,
    )
    with pytest.raises(sam.TemplateError, match="only a queue of the template"):
        queues.mappings_of(template, fixture.runtime)


def test_the_function_receives_the_event_lambda_builds_for_an_sqs_batch(fixture: Fixture) -> None:
    mapping = fixture.mapping()
    sent = mapping.queue.send('{"hello": "queue"}')
    mapping.process(mapping.queue.receive(3))
    (record,) = fixture.events[0]["Records"]
    canonical = json.loads((ROOT / "events" / "sync-provenance-linked.json").read_text())
    (example,) = canonical["Records"]
    assert record.keys() == example.keys()
    assert record["attributes"].keys() == example["attributes"].keys()
    assert record["messageId"] == sent.message_id
    assert record["body"] == '{"hello": "queue"}'
    assert record["md5OfBody"] == queues.md5_of('{"hello": "queue"}')
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == mapping.queue.arn
    assert record["awsRegion"] == mapping.queue.arn.split(":")[3]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert mapping.queue.counts().processed == 1


def test_successes_are_deleted_and_reported_failures_come_back_until_the_dead_letter_list(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping()
    mapping.queue.send("ok")
    poison = mapping.queue.send("fail").message_id
    for _ in range(5):
        batch = mapping.queue.receive(3)
        if batch:
            mapping.process(batch)
    counts = mapping.queue.counts()
    assert (counts.processed, counts.dead_lettered, counts.visible) == (1, 1, 0)
    received = [
        (r["body"], r["attributes"]["ApproximateReceiveCount"])
        for event in fixture.events
        for r in event["Records"]
    ]
    assert received == [("ok", "1"), ("fail", "1"), ("fail", "2"), ("fail", "3")]
    assert mapping.queue.dead_letters()[0].message_id == poison
    log = fixture.log.getvalue()
    assert "batch of 2 -> WorkerFunction: 1 done, 1 failed" in log
    assert "receive 3 of 3" in log
    assert f"message {poison} moved to the dead-letter list after 3 receives" in log


def test_a_function_error_fails_the_whole_batch(fixture: Fixture) -> None:
    mapping = fixture.mapping()
    mapping.queue.send("ok")
    mapping.queue.send("crash")
    mapping.process(mapping.queue.receive(3))
    assert mapping.queue.counts().visible == 2
    assert "WorkerFunction failed on a batch of 2" in fixture.log.getvalue()
    assert "RuntimeError: the worker crashed" in fixture.log.getvalue()


def test_an_answer_naming_a_message_outside_the_batch_fails_the_whole_batch(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping()
    mapping.queue.send("ok")
    mapping.queue.send("bogus")
    mapping.process(mapping.queue.receive(3))
    assert mapping.queue.counts().visible == 2


def test_without_report_batch_item_failures_a_batch_that_returns_is_deleted(
    fixture: Fixture,
) -> None:
    mapping = fixture.mapping("PlainFunction")
    mapping.queue.send("fail")  # reported, but this mapping does not read reports
    mapping.process(mapping.queue.receive(10))
    assert mapping.queue.counts().processed == 1


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
    assert queues.failed_message_ids(answer, ["a", "b"]) == failed


def test_the_batching_window_turns_a_burst_into_one_batch_of_at_most_batch_size(
    fixture: Fixture,
) -> None:
    passing = PassingTime()
    mapping = fixture.mapping(passing=passing)
    for index in range(4):
        mapping.queue.send(f"burst-{index}")
    assert mapping.poll_once(0.1) == 3
    assert passing.waits == []  # a full batch is sent at once
    assert mapping.poll_once(0.1) == 1  # the window (1 s) closed on a partial batch
    assert passing.waits == [1]
    assert [len(event["Records"]) for event in fixture.events] == [3, 1]
    assert mapping.poll_once(0.1) == 0  # nothing left: returns after the wait
    assert passing.waits == pytest.approx([1, 0.1])


def test_the_poller_processes_messages_as_they_come_and_stops_cleanly(fixture: Fixture) -> None:
    mapping = fixture.mapping()
    mapping.start()
    try:
        assert mapping.running
        mapping.queue.send("ok")
        wait_until(lambda: mapping.queue.counts().processed == 1)
        mapping.queue.send("hold")
        assert fixture.app.HOLDING.wait(30)  # the batch is being processed
        assert not mapping.stop(timeout=0)  # the poller does not drop the batch in progress
        assert mapping.running
    finally:
        fixture.app.RELEASE.set()
        assert mapping.stop(timeout=60)
    assert not mapping.running
    assert mapping.queue.counts().processed == 2  # the batch in progress finished first
    assert not [t for t in threading.enumerate() if t.name == "wellapi-queue-jobs"]


def test_a_poller_that_never_started_stops_at_once(fixture: Fixture) -> None:
    assert fixture.mapping().stop()


def test_the_poller_survives_a_failure_of_its_own(
    fixture: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = fixture.mapping()
    calls: list[int] = []

    def broken(wait_seconds: float) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the poller tripped")
        mapping._stop.wait(0.05)
        return 0

    monkeypatch.setattr(queues, "_IDLE_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(mapping, "poll_once", broken)
    mapping.start()
    wait_until(lambda: len(calls) >= 2)
    assert mapping.stop(timeout=60)
    assert "the poller failed" in fixture.log.getvalue()


def test_a_stop_during_the_batching_window_receives_nothing(fixture: Fixture) -> None:
    passing = PassingTime()
    mapping = fixture.mapping(passing=passing)
    passing.on_wait = lambda seconds: mapping.stop()
    mapping.queue.send("alone")  # fewer than BatchSize: the window (1 s) waits
    assert mapping.poll_once(0.1) == 0
    assert passing.waits == [1]  # stopped in the window
    assert mapping.queue.counts().visible == 1
    assert fixture.events == []


# ---- the local routes ------------------------------------------------------------------------


def route_event(method: str, queue: str, body: bytes = b"", base64_encoded: bool = False) -> Any:
    return {
        "pathParameters": {"queue": queue},
        "requestContext": {"http": {"method": method}},
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
        "isBase64Encoded": base64_encoded,
    }


def test_the_queue_route_sends_bodies_that_came_base64_encoded() -> None:
    queue = local_queue()
    handle = queues.queue_routes_handler({"jobs": queue})
    response = handle(route_event("POST", "jobs", b'{"type": "x"}', base64_encoded=True))
    assert response["statusCode"] == 200
    answer = json.loads(response["body"])
    assert answer["visible"] == 1
    assert queue.receive(1)[0].body == '{"type": "x"}'
    assert json.loads(handle(route_event("GET", "jobs"))["body"])["in_flight"] == 0


@pytest.mark.parametrize(
    "encoded",
    ["//4=", "not base64!"],  # bytes that are not UTF-8; text that is not base64
)
def test_the_queue_route_refuses_a_body_that_is_not_text(encoded: str) -> None:
    handle = queues.queue_routes_handler({"jobs": local_queue()})
    event = route_event("POST", "jobs", base64_encoded=True)
    event["body"] = encoded
    response = handle(event)
    assert response["statusCode"] == 400
    assert "not UTF-8 text" in json.loads(response["body"])["message"]


# ---- the examples' fixed times -----------------------------------------------------------------

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def _body(occurred_at: str) -> str:
    return json.dumps({"type": "provenance.linked", "occurred_at": occurred_at, "x": 1})


def test_a_message_older_than_the_period_moves_forward_by_whole_periods_into_it() -> None:
    old = _body("2026-11-21T09:29:55+00:00")
    moved, shift = queue_messages.with_recent_times(old, NOW)
    assert shift.days % 28 == 0
    assert shift > timedelta(0)
    occurred = datetime.fromisoformat(json.loads(moved)["occurred_at"])
    assert NOW - queue_messages.EXAMPLE_PERIOD <= occurred < NOW
    assert json.loads(moved)["x"] == 1


def test_within_a_period_the_moved_message_is_the_same_so_a_resend_is_a_duplicate() -> None:
    old = _body("2026-11-21T09:29:55+00:00")
    first, _ = queue_messages.with_recent_times(old, NOW)
    later, _ = queue_messages.with_recent_times(old, NOW + timedelta(days=2))
    assert first == later


def test_recent_messages_and_bodies_without_a_time_are_sent_as_written() -> None:
    recent = _body((NOW - timedelta(days=3)).isoformat())
    assert queue_messages.with_recent_times(recent, NOW) == (recent, timedelta(0))
    assert queue_messages.with_recent_times("not json", NOW) == ("not json", timedelta(0))


def test_an_sqs_events_records_move_together_keeping_their_order_and_gaps() -> None:
    bodies = [_body("2026-10-01T00:00:00+00:00"), _body("2026-10-01T00:05:00+00:00")]
    event = {"Records": [{"messageId": "a", "body": b} for b in bodies]}
    moved, shift = queue_messages.with_recent_times(event, NOW)
    times = [datetime.fromisoformat(json.loads(r["body"])["occurred_at"]) for r in moved["Records"]]
    assert times[1] - times[0] == timedelta(minutes=5)
    assert times[0] == datetime(2026, 10, 1, tzinfo=UTC) + shift
    assert [r["messageId"] for r in moved["Records"]] == ["a", "a"]
