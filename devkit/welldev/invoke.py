"""``sam local invoke`` for this project: one function of the template, one event."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from welldev import stack as local_stack
from welldev.lambda_runtime import LambdaRuntime, apply_template_environment, error_payload


class NotAnEvent(ValueError):
    """The event file does not hold JSON."""


def read_event(event_file: str | Path) -> Any:
    """The event from a JSON file, or from standard input when the file is ``-``."""
    text = sys.stdin.read() if str(event_file) == "-" else Path(event_file).read_text("utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotAnEvent(f"{event_file}: not a JSON event: {error}") from error


def invoke(
    function_logical_id: str,
    event_file: str | Path,
    *,
    runtime: LambdaRuntime | None = None,
    out: TextIO | None = None,
    prepare: Callable[[Any], Any] | None = None,
) -> Any:
    """Run the function on the event file's event and print what it returned as JSON.

    A function error prints Lambda's error payload instead, then raises the error.
    """
    runtime = runtime or LambdaRuntime(local_stack.load())
    runtime.template.function(function_logical_id)  # an unknown function before the event
    event = read_event(event_file)
    if prepare is not None:
        event = prepare(event)
    return invoke_event(function_logical_id, event, runtime=runtime, out=out)


def invoke_event(
    function_logical_id: str, event: Any, *, runtime: LambdaRuntime, out: TextIO | None = None
) -> Any:
    """``invoke`` of an event already read: the template's variables set where nothing set
    them, the function run, its result (or Lambda's error payload, then the error) printed."""
    out = out or sys.stdout
    function = runtime.template.function(function_logical_id)
    apply_template_environment(runtime.template, [function])
    try:
        result = runtime.invoke(function_logical_id, event)
    except Exception as error:
        print(json.dumps(error_payload(error), indent=2), file=out)
        raise
    print(json.dumps(result, indent=2), file=out)
    return result
