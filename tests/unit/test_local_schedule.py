"""The template's ``Schedule`` events run locally: EventBridge's rule invoking a function.

The schedule is exercised on a fixture function written to tmp_path, named as the sweep function
(whose scheduled event of ``events/`` it receives), that records its events and answers what the
test queued for it: a sweep's summary, nothing, a crash, or a hold until the test releases it.
The project's own sweep function behind the running server is in
``tests/system/test_local_run.py``.
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

from tests.support.stacks import function, stack
from welldev import schedules
from welldev import stack as local_stack
from welldev.lambda_runtime import HandlerImportError, LambdaRuntime
from welldev.stack import ScheduleEvent, Stack

ROOT = Path(__file__).resolve().parents[2]
SWEEP = "SweepFunction"


def fixture_stack(src: Path, handler: str = "schedule_fixture_app.handler") -> Stack:
    # A 60 s timeout: an invocation a test holds must not run out of time on a busy machine.
    event = ScheduleEvent(SWEEP, "EveryMinute", "rate(1 minute)")
    return stack(function(SWEEP, handler, src, timeout=60, schedule_events=[event]))


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

SWEPT = {"rows": 12000, "steps": 2, "revocations_swept": 1, "parts_left": 0}
NOTHING_SWEPT = {"rows": 0, "steps": 0, "revocations_swept": 0, "parts_left": 0}


class Fixture:
    def __init__(self, src: Path) -> None:
        self.src = src  # the fixture function's code
        self.template = fixture_stack(src)
        self.runtime = LambdaRuntime(self.template)
        self.log = io.StringIO()

    def schedule(self, period: float = 5.0) -> schedules.Schedule:
        (schedule,) = schedules.schedules_of(self.template, self.runtime, period, self.log)
        return schedule

    @property
    def app(self) -> Any:
        return sys.modules["schedule_fixture_app"]


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
    fixture.runtime.handler(SWEEP)  # imported, so that its lists exist
    for kept in (fixture.app.EVENTS, fixture.app.ANSWERS, fixture.app.PRINTS):
        kept.clear()
    fixture.app.HOLDING.clear()
    fixture.app.RELEASE.clear()
    fixture.log.seek(0)
    fixture.log.truncate()


def test_the_projects_schedules_run_every_minute() -> None:
    template = local_stack.load()
    assert [
        (e.function_id, e.event_name, e.expression)
        for f in template.functions.values()
        for e in f.schedule_events
    ] == [
        ("SweepFunction", "EveryMinute", "rate(1 minute)"),
        ("DrainFunction", "EveryMinute", "rate(1 minute)"),
    ]


def test_the_function_receives_its_scheduled_event_of_events_fresh(fixture: Fixture) -> None:
    schedule = fixture.schedule()
    schedule.invoke_once()
    schedule.invoke_once()
    first, second = fixture.app.EVENTS
    canonical = json.loads((ROOT / "events" / "sweep-schedule.json").read_text())
    assert first | {"id": "", "time": ""} == canonical | {"id": "", "time": ""}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"])
    assert first["id"] != second["id"]
    with pytest.raises(ValueError, match="positive"):
        fixture.schedule(period=0)


def test_an_invocation_that_did_something_gets_a_line_and_one_that_did_nothing_none(
    fixture: Fixture,
) -> None:
    fixture.app.ANSWERS.extend([SWEPT, NOTHING_SWEPT, None, {"report": "sent"}])
    schedule = fixture.schedule()
    assert schedule.invoke_once() == SWEPT
    assert schedule.invoke_once() == NOTHING_SWEPT
    assert schedule.invoke_once() is None
    assert schedule.invoke_once() == {"report": "sent"}
    assert schedule.invocations == 4
    assert fixture.log.getvalue().splitlines() == [
        "[schedule] SweepFunction: 12000 rows in 2 steps, revocations_swept 1",
        '[schedule] SweepFunction: report "sent"',
    ]


def test_a_failed_invocation_is_logged_and_the_next_one_runs(fixture: Fixture) -> None:
    fixture.app.ANSWERS.extend(["crash", SWEPT])
    schedule = fixture.schedule()
    assert schedule.invoke_once() is None
    log = fixture.log.getvalue()
    assert log.startswith("[schedule] SweepFunction failed:\nTraceback")
    assert "RuntimeError: the sweep crashed" in log
    assert schedule.invoke_once() == SWEPT


def test_what_an_invocation_printed_is_printed_only_when_it_did_something(
    fixture: Fixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code = fixture.src.parent / "printing"
    code.mkdir(exist_ok=True)
    (code / "schedule_printing_app.py").write_text(
        "CALLS = []\n"
        "def handler(event, context):\n"
        "    CALLS.append(event)\n"
        "    print('metrics of run', len(CALLS), 'key-\\udcff')\n"
        "    return {'rows': 1, 'steps': 1} if len(CALLS) > 1 else {}\n"
    )
    template = fixture_stack(code, "schedule_printing_app.handler")
    runtime = LambdaRuntime(template, processes=1)
    try:
        (schedule,) = schedules.schedules_of(template, runtime, 5.0, fixture.log)
        assert schedule.invoke_once() == {}
        assert schedule.invoke_once() == {"rows": 1, "steps": 1}
    finally:
        runtime.close()
    # A lone surrogate in what a function printed is relayed escaped.
    assert capsys.readouterr().out == "metrics of run 2 key-\\udcff\n"
    assert fixture.log.getvalue() == "[schedule] SweepFunction: 1 rows in 1 step\n"


def test_the_schedule_invokes_until_stopped_and_an_invocation_in_progress_finishes_first(
    fixture: Fixture,
) -> None:
    fixture.app.ANSWERS.append("hold")
    schedule = fixture.schedule(period=0.01)
    schedule.start()
    try:
        assert fixture.app.HOLDING.wait(30)  # invoked, a period after the start
        assert not schedule.stop(timeout=0)  # the invocation in progress is not dropped
        assert schedule.is_alive()
    finally:
        fixture.app.RELEASE.set()
        assert schedule.stop(timeout=60)
    assert not schedule.is_alive()
    assert schedule.invocations == 1  # stopped while it ran: no invocation after it
    assert not [t for t in threading.enumerate() if t.name == "wellapi-schedule-SweepFunction"]


def test_a_schedule_of_a_handler_that_cannot_be_imported_fails_when_it_starts(
    fixture: Fixture,
) -> None:
    template = fixture_stack(fixture.src, "no_such_module.handler")
    (schedule,) = schedules.schedules_of(template, LambdaRuntime(template))
    with pytest.raises(HandlerImportError, match="no_such_module"):
        schedule.start()
    assert not schedule.is_alive()
    assert schedule.stop()
