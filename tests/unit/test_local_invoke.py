"""Local invoke and the Lambda runtime behind it, on fixture functions written to tmp_path."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import ManualClock
from tests.support.stacks import function, stack
from welldev.commands.invoke import invoke_event, read_event
from welldev.lambda_runtime import (
    DEFAULT_IDLE_SECONDS,
    IDLE_SECONDS_VARIABLE,
    FunctionTimedOut,
    HandlerImportError,
    IdleSecondsError,
    LambdaRuntime,
    ResponseNotSerializable,
    idle_seconds_from_environment,
    load_handler,
)
from welldev.stack import Function, Stack, StackError


def fixture_stack(root: Path) -> Stack:
    src = root / "src"
    environment = {"FIXTURE_MODE": "template", "DB_AUTH": "iam"}

    def app(logical_id: str, handler: str, **given: Any) -> Function:
        return function(
            logical_id, handler, src, **{"timeout": 3, "environment": environment, **given}
        )

    return stack(
        app("EchoFunction", "invoke_fixture_app.echo", memory=1024),
        app("FailingFunction", "invoke_fixture_app.fail"),
        app("SlowFunction", "invoke_fixture_app.slow", timeout=1),
        app(
            "ShapeFunction",
            "invoke_fixture_app.shape",
            environment={**environment, "FIXTURE_MODE": "shape"},
        ),
        app("MissingModuleFunction", "invoke_fixture_nowhere.handler"),
        app("MissingHandlerFunction", "invoke_fixture_app.nothing"),
        function("LayerFunction", "wellapi.handlers.migration.handler", root / "empty"),
    )


APP = """
import datetime
import decimal
import os
import time

IMPORTS = globals().get("IMPORTS", 0) + 1
# How the slow function spends its time; a test makes it move its runtime's clock instead.
SPEND = time.sleep


def echo(event, context):
    event["mutated"] = True
    return {
        "event": {k: v for k, v in event.items() if k != "mutated"},
        "mode": os.environ.get("FIXTURE_MODE"),
        "db_auth": os.environ.get("DB_AUTH"),
        "memory": context.memory_limit_in_mb,
        "function_name": context.function_name,
    }


def fail(event, context):
    raise ValueError("bad event")


def slow(event, context):
    SPEND(event.get("seconds", 1.05))
    return "late"


def shape(event, context):
    if event["kind"] == "decimal":
        return {"amount": decimal.Decimal("1.5")}
    return {"when": datetime.datetime(2026, 1, 1)}
"""


@pytest.fixture(scope="module")
def fixture_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("invoke")
    for folder in ("src", "empty"):
        (root / folder).mkdir()
    (root / "src" / "invoke_fixture_app.py").write_text(textwrap.dedent(APP))
    yield fixture_stack(root)
    sys.modules.pop("invoke_fixture_app", None)
    for folder in ("src", "empty"):
        if str(root / folder) in sys.path:
            sys.path.remove(str(root / folder))


@pytest.fixture
def runtime(fixture_template: Stack) -> LambdaRuntime:
    return LambdaRuntime(fixture_template)


@pytest.fixture(autouse=True)
def restore_environment() -> Iterator[None]:
    """invoke() sets template variables on os.environ; put the test session's back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def invoke(function_id: str, event_file: Path | str, runtime: LambdaRuntime, out: Any) -> Any:
    """``wellapi invoke``'s run of a function on an event file."""
    return invoke_event(function_id, read_event(event_file), runtime=runtime, out=out)


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"kind": "demo", "items": [1, 2]}))
    return path


def test_invoke_prints_the_result_as_json_and_returns_it(
    runtime: LambdaRuntime, event_file: Path
) -> None:
    out = io.StringIO()
    result = invoke("EchoFunction", event_file, runtime=runtime, out=out)
    assert json.loads(out.getvalue()) == result
    assert result["event"] == {"kind": "demo", "items": [1, 2]}
    assert result["memory"] == "1024"
    assert result["function_name"] == "EchoFunction"


def test_invoke_reads_the_event_from_stdin(
    runtime: LambdaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"kind": "stdin"}'))
    result = invoke("EchoFunction", "-", runtime=runtime, out=io.StringIO())
    assert result["event"] == {"kind": "stdin"}


def test_a_function_error_prints_lambdas_error_payload_and_raises(
    runtime: LambdaRuntime, event_file: Path
) -> None:
    out = io.StringIO()
    with pytest.raises(ValueError, match="bad event"):
        invoke("FailingFunction", event_file, runtime=runtime, out=out)
    payload = json.loads(out.getvalue())
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "bad event"
    assert any("invoke_fixture_app.py" in line for line in payload["stackTrace"])


def test_an_unknown_function_is_named(runtime: LambdaRuntime, event_file: Path) -> None:
    with pytest.raises(StackError, match="no function 'Nope'"):
        invoke("Nope", event_file, runtime=runtime, out=io.StringIO())


def test_the_template_environment_fills_only_unset_variables(
    runtime: LambdaRuntime, event_file: Path
) -> None:
    os.environ["DB_AUTH"] = "url"  # what the local runner sets for the local database
    os.environ.pop("FIXTURE_MODE", None)
    result = invoke("EchoFunction", event_file, runtime=runtime, out=io.StringIO())
    assert result["db_auth"] == "url"
    assert result["mode"] == "template"


def test_the_function_gets_its_own_copy_of_the_event(runtime: LambdaRuntime) -> None:
    event = {"kind": "copy"}
    runtime.invoke("EchoFunction", event)
    assert event == {"kind": "copy"}


def test_results_go_through_json_as_lambda_sends_them(runtime: LambdaRuntime) -> None:
    assert runtime.invoke("ShapeFunction", {"kind": "decimal"}) == {"amount": 1.5}
    with pytest.raises(ResponseNotSerializable, match="Unable to marshal response"):
        runtime.invoke("ShapeFunction", {"kind": "datetime"})


def test_a_function_past_its_timeout_fails(
    fixture_template: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    runtime = LambdaRuntime(fixture_template, clock=clock)
    runtime.handler("SlowFunction")  # imported, so that its module can be given the clock
    monkeypatch.setattr(sys.modules["invoke_fixture_app"], "SPEND", clock.advance)
    assert runtime.invoke("SlowFunction", {"seconds": 0.95}) == "late"  # within its 1 s
    with pytest.raises(FunctionTimedOut, match=r"Task timed out after 1\.00 seconds"):
        runtime.invoke("SlowFunction", {"seconds": 1.05})


def test_a_handler_is_imported_once_per_function(runtime: LambdaRuntime) -> None:
    first = runtime.handler("EchoFunction")
    runtime.invoke("EchoFunction", {})
    assert runtime.handler("EchoFunction") is first
    assert sys.modules["invoke_fixture_app"].IMPORTS == 1


@pytest.mark.parametrize(
    ("function_id", "message"),
    [
        ("MissingModuleFunction", "Unable to import module 'invoke_fixture_nowhere'"),
        ("MissingHandlerFunction", "Handler 'nothing' missing"),
    ],
)
def test_a_handler_that_cannot_be_imported_is_named(
    runtime: LambdaRuntime, function_id: str, message: str
) -> None:
    with pytest.raises(HandlerImportError, match=message):
        runtime.handler(function_id)


def test_a_module_beyond_code_uri_comes_from_the_installed_layer(
    fixture_template: Stack,
) -> None:
    from wellapi.handlers import migration as migrate

    assert load_handler(fixture_template.function("LayerFunction")) is migrate.handler


def environments_alive(runtime: LambdaRuntime) -> int:
    """Process environments running now, busy or free, of every function."""
    return sum(pool.alive for pool in runtime._all_pools())


def test_an_environment_idle_past_the_idle_period_is_stopped_and_a_busy_one_is_kept(
    fixture_template: Stack,
) -> None:
    clock = ManualClock()
    runtime = LambdaRuntime(fixture_template, clock, processes=2, idle_seconds=60)
    try:
        assert runtime.invoke("EchoFunction", {"n": 1})["event"] == {"n": 1}
        clock.advance(30)
        assert runtime.invoke("ShapeFunction", {"kind": "decimal"}) == {"amount": 1.5}
        first = runtime.environments_of("EchoFunction")
        process = next(iter(first._free))[0].process
        assert environments_alive(runtime) == 2

        clock.advance(30)  # Echo's environment has been idle 60 s, Shape's 30 s

        assert runtime.reclaim_idle() == 1
        assert process.poll() is not None  # its process has ended
        assert environments_alive(runtime) == 1
        assert runtime.environments_of("ShapeFunction").alive == 1
        # Echo's next invocation is a cold start in a new environment.
        assert runtime.invoke("EchoFunction", {"n": 2})["event"] == {"n": 2}
        assert first.started == 2
    finally:
        runtime.close()


def test_without_an_idle_period_environments_live_until_the_runtime_closes(
    fixture_template: Stack,
) -> None:
    clock = ManualClock()
    runtime = LambdaRuntime(fixture_template, clock, processes=1)
    try:
        runtime.invoke("EchoFunction", {})
        clock.advance(10**6)
        assert runtime.reclaim_idle() == 0
        assert environments_alive(runtime) == 1
    finally:
        runtime.close()
    assert environments_alive(runtime) == 0


@pytest.mark.parametrize("given", ["0", "-5", "soon"])
def test_an_idle_period_that_is_not_a_positive_number_is_refused(
    given: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IDLE_SECONDS_VARIABLE, given)
    with pytest.raises(IdleSecondsError, match=IDLE_SECONDS_VARIABLE):
        idle_seconds_from_environment()


def test_the_idle_period_is_the_variables_else_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(IDLE_SECONDS_VARIABLE, raising=False)
    assert idle_seconds_from_environment() == DEFAULT_IDLE_SECONDS
    monkeypatch.setenv(IDLE_SECONDS_VARIABLE, "2.5")
    assert idle_seconds_from_environment() == 2.5
