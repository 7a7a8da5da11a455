"""The stack's schedules in this process: EventBridge's rules that invoke a function at a rate.

An invocation that did something gets a line (``[schedule] SweepFunction: 12000 rows in 2
steps``) after what the function printed; what one that did nothing printed (every sweep's
metrics) is dropped, so that an idle schedule leaves the output quiet. Not like AWS, on purpose:
the period is a few seconds (``--schedule-period``), so that a revocation's sweep follows within
seconds; and the next invocation is due a period after the last one ended, so that they never
overlap (in AWS the sweep function's one reserved environment throttles an overlapping run).
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from welldev.event_kinds import first_event
from welldev.lambda_runtime import Invoker, LambdaRuntime
from welldev.stack import ScheduleEvent, Stack

# Locally, instead of the template's rate (rate(1 minute) for SweepFunction).
DEFAULT_SCHEDULE_PERIOD_SECONDS = 5.0


def scheduled_event(function_id: str) -> Any:
    """What EventBridge sends at a firing: the function's event of ``events/``, new id, time now."""
    path = first_event(function_id)
    assert path is not None, f"events/index.json lists no event of {function_id}"
    event = json.loads(path.read_text(encoding="utf-8"))
    return event | {"id": str(uuid.uuid4()), "time": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"}


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


class Schedule(Invoker):
    """EventBridge's rule of one ``Schedule`` event: it invokes the function once ``period``."""

    def __init__(
        self, runtime: LambdaRuntime, event: ScheduleEvent, period: float, log: TextIO | None
    ) -> None:
        if period <= 0:
            raise ValueError("the schedule period must be positive")
        super().__init__(runtime, event.function_id, "schedule", log)
        self.event = event
        self.period = period
        self.invocations = 0  # so far

    def run(self) -> None:
        while not self.stopping.wait(self.period):
            try:
                self.invoke_once()
            except Exception:  # the schedule must survive anything an invocation does
                self.say(f"the schedule failed:\n{traceback.format_exc().rstrip()}")

    def invoke_once(self) -> Any:
        """Invoke the function on a scheduled event, log what it did (if anything); what it
        answered, None when it failed (logged after what the function printed)."""
        self.invocations += 1
        printed: list[str] = []
        try:
            result = self.runtime.invoke(
                self.function_id, scheduled_event(self.function_id), printed=printed
            )
        except Exception:
            result = None
            said: str | None = f"{self.function_id} failed:\n{traceback.format_exc().rstrip()}"
        else:
            described = describe_result(result)
            said = None if described is None else f"{self.function_id}: {described}"
        if said is not None:
            print("".join(printed), end="", flush=True)
            self.say(said)
        return result


def schedules_of(
    template: Stack,
    runtime: LambdaRuntime,
    period: float = DEFAULT_SCHEDULE_PERIOD_SECONDS,
    log: TextIO | None = None,
) -> list[Schedule]:
    """A schedule for every ``Schedule`` event of the stack, each invoking once ``period``."""
    return [
        Schedule(runtime, event, period, log)
        for function in sorted(template.functions.values(), key=lambda f: f.logical_id)
        for event in function.schedule_events
    ]
