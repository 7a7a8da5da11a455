"""The template's ``Schedule`` events run locally: EventBridge's rule invoking a function.

The invoker is exercised on a fixture function written to tmp_path that records its events
and answers what the test queued for it: a sweep's summary, nothing, a crash, or a hold until
the test releases it. The project's own sweep function behind the running server is in
``tests/system/test_local_run.py``.

No test waits for real time to pass: the invoker runs on a clock of the test's
(tests/support/clock.py), which a test moves, or on which every wait passes at once and is
recorded; threads are followed through events, with timeouts that only bound a hang.
"""

from __future__ import annotations

import io
import json
import re
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import ManualClock, PassingTime
from tests.support.stacks import function, schedule, stack
from welldev import schedules
from welldev import stack as local_stack
from welldev.lambda_runtime import HandlerImportError, LambdaRuntime
from welldev.stack import LOCAL_ACCOUNT_ID, ScheduleEvent, Stack, StackError

ROOT = Path(__file__).resolve().parents[2]


def fixture_stack(src: Path) -> Stack:
    # A 60 s timeout: an invocation a test holds must not run out of time on a busy machine.
    tick = function(
        "TickFunction",
        "schedule_fixture_app.handler",
        src,
        timeout=60,
        schedule_events=[schedule("TickFunction", "EveryMinute", "rate(1 minute)")],
    )
    nightly = ScheduleEvent(
        "ReportFunction",
        "Nightly",
        "cron(0 3 * * ? *)",
        None,
        "nightly-report",
        input='{"report": "nightly"}',
    )
    report = function(
        "ReportFunction",
        "schedule_fixture_app.handler",
        src,
        timeout=60,
        schedule_events=[
            nightly,
            schedule("ReportFunction", "Hourly", "rate(1 hour)"),
            schedule("ReportFunction", "Paused", "rate(5 minutes)", enabled=False),
            schedule("ReportFunction", "Stopped", "rate(2 hours)", enabled=False),
        ],
    )
    return stack(tick, report)


APP = """
import threading

EVENTS = []
ANSWERS = []  # what the next invocations answer, in order ({} once none is left)
PRINTS = []  # what the next invocations print, in order (nothing once none is left)
HOLDING = threading.Event()  # an invocation answering "hold" is running...
RELEASE = threading.Event()  # ...until the test releases it


def handler(event, context):
    EVENTS.append(event)
    if PRINTS:
        print(PRINTS.pop(0))
    answer = ANSWERS.pop(0) if ANSWERS else {}
    if answer == "crash":
        raise RuntimeError("the sweep crashed")
    if answer == "hold":
        HOLDING.set()
        RELEASE.wait(60)
        return {}
    return answer
"""

SWEPT = {
    "rows": 12000,
    "steps": 2,
    "revocations_swept": 1,
    "parts_left": 0,
    "oldest_pending_revocation_seconds": 0.0,
}
NOTHING_SWEPT = {
    "rows": 0,
    "steps": 0,
    "revocations_swept": 0,
    "parts_left": 0,
    "oldest_pending_revocation_seconds": 0.0,
}


class Fixture:
    def __init__(self, src: Path) -> None:
        self.src = src  # the fixture functions' code
        self.template = fixture_stack(src)
        self.runtime = LambdaRuntime(self.template)
        self.log = io.StringIO()

    def event(self, function_id: str = "TickFunction", name: str = "EveryMinute") -> Any:
        (event,) = [
            e for e in self.template.function(function_id).schedule_events if e.event_name == name
        ]
        return event

    def invoker(
        self,
        function_id: str = "TickFunction",
        name: str = "EveryMinute",
        *,
        period: float | None = 5.0,
        clock: ManualClock | None = None,
    ) -> schedules.ScheduledInvoker:
        timing: dict[str, Any] = {"clock": clock} if clock else {}
        if isinstance(clock, PassingTime):
            timing["wait"] = clock.wait
        return schedules.ScheduledInvoker(
            self.runtime, self.event(function_id, name), period=period, log=self.log, **timing
        )

    @property
    def app(self) -> Any:
        return sys.modules["schedule_fixture_app"]

    @property
    def events(self) -> list[Any]:
        events: list[Any] = self.app.EVENTS
        return events


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    root = tmp_path_factory.mktemp("schedule")
    (root / "src").mkdir()
    (root / "src" / "schedule_fixture_app.py").write_text(textwrap.dedent(APP))
    yield Fixture(root / "src")
    sys.modules.pop("schedule_fixture_app", None)
    if str(root / "src") in sys.path:
        sys.path.remove(str(root / "src"))


@pytest.fixture(autouse=True)
def fresh(fixture: Fixture) -> None:
    fixture.runtime.handler("TickFunction")  # imported, so that its lists exist
    fixture.events.clear()
    fixture.app.ANSWERS.clear()
    fixture.app.PRINTS.clear()
    fixture.app.HOLDING.clear()
    fixture.app.RELEASE.clear()
    fixture.log.seek(0)
    fixture.log.truncate()


# ---- the template ----------------------------------------------------------------------------


def test_the_projects_schedules_run_every_minute() -> None:
    (sweep,) = local_stack.load().function("SweepFunction").schedule_events
    assert (sweep.rate_seconds, sweep.rule_name, sweep.enabled) == (
        60,
        "SweepFunctionEveryMinute",  # the logical id SAM gives the rule
        True,
    )


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 second)", 1),
        ("rate(30 seconds)", 30),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("cron(0 3 * * ? *)", None),
    ],
)
def test_rates_are_read_as_eventbridge_writes_them(expression: str, seconds: int | None) -> None:
    assert local_stack.rate_seconds(expression) == seconds


# ---- the invokers ------------------------------------------------------------------------------


def test_every_enabled_schedule_runs_at_the_local_period_else_at_its_rate(
    fixture: Fixture,
) -> None:
    local = schedules.schedules_of(fixture.template, fixture.runtime, period=0.5)
    assert [(i.function_id, i.event.event_name, i.period) for i in local] == [
        ("ReportFunction", "Nightly", 0.5),
        ("ReportFunction", "Hourly", 0.5),
        ("TickFunction", "EveryMinute", 0.5),
    ]
    assert [e.event_name for e in schedules.disabled_schedules(fixture.template)] == [
        "Paused",
        "Stopped",
    ]
    # A function's invocations never overlap: its invokers share one lock.
    nightly, hourly, tick = local
    assert nightly._lock is hourly._lock
    assert tick._lock is not nightly._lock
    # At the template's own rate a cron expression has no period.
    with pytest.raises(StackError, match=r"cron.* has no fixed period"):
        schedules.schedules_of(fixture.template, fixture.runtime, period=None)
    assert fixture.invoker(period=None).period == 60
    with pytest.raises(ValueError, match="positive"):
        fixture.invoker(period=0)


def test_the_function_receives_the_event_eventbridge_sends_for_a_scheduled_rule(
    fixture: Fixture,
) -> None:
    fixture.invoker().invoke_once()
    (event,) = fixture.events
    canonical = json.loads((ROOT / "events" / "sweep-schedule.json").read_text())
    assert event.keys() == canonical.keys()
    assert (event["version"], event["detail-type"], event["source"], event["detail"]) == (
        "0",
        "Scheduled Event",
        "aws.events",
        {},
    )
    assert event["account"] == LOCAL_ACCOUNT_ID
    assert event["resources"] == [
        f"arn:aws:events:{event['region']}:{LOCAL_ACCOUNT_ID}:rule/TickFunctionEveryMinute"
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    fixture.invoker().invoke_once()
    assert fixture.events[1]["id"] != event["id"]


def test_a_rules_input_is_sent_instead_of_the_event(fixture: Fixture) -> None:
    fixture.invoker("ReportFunction", "Nightly").invoke_once()
    assert fixture.events == [{"report": "nightly"}]


def test_invocations_are_a_period_apart_and_the_periods_one_outlasts_make_one(
    fixture: Fixture,
) -> None:
    passing = PassingTime()
    invoker = fixture.invoker(clock=passing)
    assert invoker.wait_until_due()
    assert passing.waits == [5]  # the first one a period after the start, as a new rule's
    passing.advance(12)  # the invocation took 12 s: the next two firings were missed...
    assert invoker.wait_until_due()
    assert passing.waits == [5]  # ...and make one invocation, at once
    assert invoker.wait_until_due()
    assert passing.waits == [5, 3]  # then the schedule goes on, a period after the last firing


def test_a_stop_ends_the_wait_for_the_next_invocation(fixture: Fixture) -> None:
    clock = ManualClock()
    invoker = fixture.invoker(clock=clock)
    due: list[bool] = []
    clock.read.clear()
    waiter = threading.Thread(target=lambda: due.append(invoker.wait_until_due()), daemon=True)
    waiter.start()
    # It reads the clock holding the invoker's lock, which it lets go only in its wait.
    assert clock.read.wait(30)
    assert invoker.stop()  # never started: nothing to join
    waiter.join(30)
    assert due == [False]  # its time never came: the stop ended the wait


# ---- what an invocation logs -------------------------------------------------------------------


def test_an_invocation_that_did_something_gets_a_line_and_one_that_did_nothing_none(
    fixture: Fixture,
) -> None:
    fixture.app.ANSWERS.extend([SWEPT, NOTHING_SWEPT, None, {"report": "sent"}])
    invoker = fixture.invoker()
    assert invoker.invoke_once() == SWEPT
    assert invoker.invoke_once() == NOTHING_SWEPT
    assert invoker.invoke_once() is None
    assert invoker.invoke_once() == {"report": "sent"}
    assert invoker.invocations == 4
    assert fixture.log.getvalue().splitlines() == [
        "[schedule] TickFunction: 12000 rows in 2 steps, revocations_swept 1",
        '[schedule] TickFunction: report "sent"',
    ]


def test_a_failed_invocation_is_logged_and_the_next_one_runs(fixture: Fixture) -> None:
    fixture.app.ANSWERS.extend(["crash", SWEPT])
    invoker = fixture.invoker()
    assert invoker.invoke_once() is None
    log = fixture.log.getvalue()
    assert log.startswith("[schedule] TickFunction failed:\nTraceback")
    assert "RuntimeError: the sweep crashed" in log
    assert invoker.invoke_once() == SWEPT


def test_what_an_invocation_that_did_nothing_printed_is_dropped_when_output_is_held(
    fixture: Fixture, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture.app.ANSWERS.extend([NOTHING_SWEPT, SWEPT, NOTHING_SWEPT])
    fixture.app.PRINTS.extend(["metrics of an empty run", "metrics of a sweep", "more metrics"])
    invoker = fixture.invoker()
    stdout = sys.stdout
    with schedules.output_held_per_thread():
        invoker.invoke_once()
        invoker.invoke_once()
        with schedules.held_output() as held:
            # Only the holding thread's writes are held.
            other = threading.Thread(target=lambda: print("another thread"))
            other.start()
            other.join(30)
            print("this thread")
        assert held == ["this thread", "\n"]
    assert sys.stdout is stdout
    # Without it, an invocation's output is printed as it comes.
    invoker.invoke_once()
    assert capsys.readouterr().out.splitlines() == [
        "metrics of a sweep",
        "another thread",
        "more metrics",
    ]
    assert fixture.log.getvalue().splitlines() == [
        "[schedule] TickFunction: 12000 rows in 2 steps, revocations_swept 1"
    ]


# ---- the schedule's thread ---------------------------------------------------------------------


def test_the_schedule_invokes_until_stopped_and_an_invocation_in_progress_finishes_first(
    fixture: Fixture,
) -> None:
    passing = PassingTime()  # every wait for the next firing passes at once
    fixture.app.ANSWERS.append("hold")
    invoker = fixture.invoker(clock=passing)
    invoker.start()
    try:
        assert fixture.app.HOLDING.wait(30)  # invoked, a period after the start
        assert not invoker.stop(timeout=0)  # the invocation in progress is not dropped
        assert invoker.running
    finally:
        fixture.app.RELEASE.set()
        assert invoker.stop(timeout=60)
    assert not invoker.running
    assert invoker.invocations == 1  # stopped while it ran: no invocation after it
    assert passing.waits == [5]
    assert not [t for t in threading.enumerate() if t.name == "wellapi-schedule-TickFunction"]


def test_a_schedule_of_a_handler_that_cannot_be_imported_fails_when_it_starts(
    fixture: Fixture,
) -> None:
    broken = function(
        "BrokenFunction",
        "no_such_module.handler",
        fixture.src,
        schedule_events=[schedule("BrokenFunction", "E", "rate(1 minute)")],
    )
    template = stack(broken)
    (invoker,) = schedules.schedules_of(template, LambdaRuntime(template))
    with pytest.raises(HandlerImportError, match="no_such_module"):
        invoker.start()
    assert not invoker.running
    assert invoker.stop()


def test_output_holding_a_lone_surrogate_is_relayed_escaped():
    stream = io.StringIO()
    held = schedules.HeldOutput(stream)

    held.write('{"idempotency_key": "key-\udcff"}\n')

    stream.getvalue().encode("utf-8")
    assert stream.getvalue() == '{"idempotency_key": "key-\\udcff"}\n'
