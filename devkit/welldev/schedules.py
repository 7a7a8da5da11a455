"""The template's schedules in this process: EventBridge's rules that invoke a function at a rate.

``ScheduledInvoker`` is the rule of one ``Schedule`` event of a function: once a period, it
invokes the function through the local Lambda runtime (the one the routes and the queues use)
with the event EventBridge sends for a scheduled rule (``scheduled_event``), or the rule's
``Input`` when it has one. An invocation that did something is logged in a line
(``[schedule] SweepFunction: 12000 rows in 2 steps``) after what the function printed; one that
answered nothing, or nothing but zeros, is not, and under ``output_held_per_thread`` (as
``wellapi run`` serves) what it printed is dropped too (the metrics every run of the sweep
writes), so a schedule with nothing to do leaves the output quiet.

Three things differ from AWS, on purpose:

- the period is short (``DEFAULT_SCHEDULE_PERIOD_SECONDS``, ``wellapi run --schedule-period``)
  instead of the template's rate, so that what a scheduled function does (the revocation
  sweep) follows what called for it (a revocation put on the local queue) within seconds;
- invocations of one function never overlap: each waits for the one before it to end, and
  the periods it outlasted make one invocation, not one each (in AWS the sweep function's one
  reserved environment throttles an overlapping run);
- a disabled rule (``Enabled: false``, ``State: DISABLED``) is not run at all.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO, cast

from welldev.lambda_runtime import LambdaRuntime
from welldev.stack import LOCAL_ACCOUNT_ID, ScheduleEvent, Stack, StackError, local_region

# Locally, instead of the template's rate (rate(1 minute) for SweepFunction).
DEFAULT_SCHEDULE_PERIOD_SECONDS = 5.0

# How an invoker waits on its condition for at most some seconds; a test passes one that lets
# the time pass on its own clock instead (tests/support/clock.py).
Wait = Callable[[threading.Condition, float], object]


def rule_arn(event: ScheduleEvent) -> str:
    region = local_region()
    return f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:rule/{event.rule_name}"


def scheduled_event(event: ScheduleEvent, at: datetime | None = None) -> Any:
    """What EventBridge sends the function for one firing of the rule (its Input, if any)."""
    if event.input is not None:
        return json.loads(event.input)
    at = at or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": local_region(),
        "resources": [rule_arn(event)],
        "detail": {},
    }


def describe_result(result: Any) -> str | None:
    """A few words on what an invocation answered; None when it did nothing: no answer, or
    only zeros, falses and empties (a sweep that found nothing to sweep)."""
    if not _did_something(result):
        return None
    if not isinstance(result, Mapping):
        text = json.dumps(result)
        return text if len(text) <= 200 else text[:197] + "..."
    rest = dict(result)
    words = []
    rows, steps = rest.get("rows"), rest.get("steps")
    if isinstance(rows, int) and isinstance(steps, int):
        words.append(f"{rows} rows in {steps} step{'' if steps == 1 else 's'}")
        del rest["rows"], rest["steps"]
    words += [f"{key} {json.dumps(value)}" for key, value in rest.items() if _did_something(value)]
    return ", ".join(words)


def _did_something(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_did_something(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_did_something(v) for v in value)
    return bool(value)


def utf8(text: str) -> str:
    """``text`` as a UTF-8 stream takes it: what a function prints may hold a lone surrogate
    (a message escaped one in its JSON), relayed escaped rather than failing the relay."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class HeldOutput:
    """What stands for ``sys.stdout`` while ``wellapi run`` serves: the writes of the threads it
    holds for (scheduled invocations running) are kept for them, every other thread's go to the
    stream it replaced."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.held: dict[int, list[str]] = {}

    def write(self, text: str) -> int:
        held = self.held.get(threading.get_ident())
        if held is None:
            return self.target.write(utf8(text))
        held.append(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


@contextlib.contextmanager
def output_held_per_thread() -> Iterator[HeldOutput]:
    """``sys.stdout`` is a ``HeldOutput`` meanwhile, so that scheduled invocations can keep
    what they print until they know whether they did anything (``wellapi run`` serves in it)."""
    previous = sys.stdout
    stream = HeldOutput(previous)
    replacement = cast(TextIO, stream)
    sys.stdout = replacement
    try:
        yield stream
    finally:
        if sys.stdout is replacement:
            sys.stdout = previous


@contextlib.contextmanager
def held_output() -> Iterator[list[str] | None]:
    """What this thread prints meanwhile, kept in the list instead of printed; None (printed
    as it comes) unless ``sys.stdout`` is a ``HeldOutput``."""
    stream = sys.stdout
    if not isinstance(stream, HeldOutput):
        yield None
        return
    held: list[str] = []
    stream.held[threading.get_ident()] = held
    try:
        yield held
    finally:
        stream.held.pop(threading.get_ident(), None)


class ScheduledInvoker:
    """EventBridge's rule for one ``Schedule`` event: invokes the function once a period.

    The period is ``period`` when given, else the rule's rate. Time runs on ``clock``
    (``time.monotonic`` unless a test gives its own), and ``wait`` is how the invoker sleeps
    until its next invocation or a stop. Invokers sharing ``lock`` never invoke at once.
    """

    def __init__(
        self,
        runtime: LambdaRuntime,
        event: ScheduleEvent,
        *,
        period: float | None = None,
        log: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Wait = threading.Condition.wait,
        lock: threading.Lock | None = None,
    ) -> None:
        if period is None:
            if event.rate_seconds is None:
                raise StackError(
                    f"{event.function_id}.Events.{event.event_name}: {event.expression} has no "
                    "fixed period; run it at a local one (wellapi run --schedule-period)"
                )
            period = float(event.rate_seconds)
        if period <= 0:
            raise ValueError("the schedule period must be positive")
        self.runtime = runtime
        self.event = event
        self.period = period
        self.log = log or sys.stderr
        self.invocations = 0  # so far
        self._clock = clock
        self._wait = wait
        self._lock = lock or threading.Lock()
        self._changed = threading.Condition()
        self._stopped = False
        self._due: float | None = None
        self._thread: threading.Thread | None = None

    @property
    def function_id(self) -> str:
        return self.event.function_id

    def start(self) -> None:
        """Import the function (its init phase, so a broken handler fails now), then run the
        schedule: the first invocation one period from now, as a new rule's."""
        self.runtime.prepare(self.function_id)
        with self._changed:
            self._due = self._clock() + self.period
        self._thread = threading.Thread(
            target=self._run, name=f"wellapi-schedule-{self.function_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the schedule; an invocation in progress finishes first. True when it ended."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        return self.runtime.join(self._thread, self.function_id, timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_until_due(self) -> bool:
        """Wait until the next invocation is due, or a stop; True when it is due.

        The next one is then due a period later; when the clock has passed several periods
        meanwhile (an invocation that outlasted its period), they make this one invocation.
        """
        with self._changed:
            if self._due is None:
                self._due = self._clock() + self.period
            while not self._stopped:
                now = self._clock()
                if now >= self._due:
                    while self._due <= now:
                        self._due += self.period
                    return True
                self._wait(self._changed, self._due - now)
            return False

    def invoke_once(self) -> Any:
        """Invoke the function on a scheduled event, and log what it did (if anything).

        Returns what it answered; None when it failed (the failure is logged, after what the
        function printed).
        """
        event = scheduled_event(self.event)
        failure: str | None = None
        with self._lock:
            self.invocations += 1
            with held_output() as printed:
                try:
                    result = self.runtime.invoke(self.function_id, event)
                except Exception:
                    failure = traceback.format_exc().rstrip()
                    result = None
        described = describe_result(result)
        if printed and (failure is not None or described is not None):
            sys.stdout.write(utf8("".join(printed)))
            sys.stdout.flush()
        if failure is not None:
            self._say(f"{self.function_id} failed:\n{failure}")
        elif described is not None:
            self._say(f"{self.function_id}: {described}")
        return result

    def _run(self) -> None:
        while self.wait_until_due():
            try:
                self.invoke_once()
            except Exception:  # the schedule must survive anything an invocation does
                self._say(f"the schedule failed:\n{traceback.format_exc().rstrip()}")

    def _say(self, message: str) -> None:
        print(f"[schedule] {message}", file=self.log, flush=True)


def schedules_of(
    template: Stack,
    runtime: LambdaRuntime,
    *,
    period: float | None = DEFAULT_SCHEDULE_PERIOD_SECONDS,
    log: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    wait: Wait = threading.Condition.wait,
) -> list[ScheduledInvoker]:
    """An invoker for every enabled ``Schedule`` event of the template, each once ``period``
    (None: at its rule's rate); a function's invokers share one lock, so its invocations
    never overlap."""
    invokers: list[ScheduledInvoker] = []
    for function in sorted(template.functions.values(), key=lambda f: f.logical_id):
        lock = threading.Lock()
        for event in function.schedule_events:
            if event.enabled:
                invokers.append(
                    ScheduledInvoker(
                        runtime, event, period=period, log=log, clock=clock, wait=wait, lock=lock
                    )
                )
    return invokers


def disabled_schedules(template: Stack) -> list[ScheduleEvent]:
    """The ``Schedule`` events the template disables: not run locally either."""
    return [
        event
        for function in sorted(template.functions.values(), key=lambda f: f.logical_id)
        for event in function.schedule_events
        if not event.enabled
    ]
