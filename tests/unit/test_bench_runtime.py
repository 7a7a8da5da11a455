"""welldev.bench.runtime_api: awslambdaric against the fake Runtime API, on tiny handlers.

Each test starts a real interpreter with the runtime client (~0.1 s); the figures are only
checked to be there, not for their size.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from welldev.bench.runtime_api import RuntimeFailure, RuntimeRun, measure_runtime

HANDLERS = """\
import os
import time

IMPORTED_WITH = os.environ.get("MARK")


def ok(event, context):
    return {"statusCode": 200, "body": "ok", "event": event, "mark": IMPORTED_WITH,
            "remaining_ms": context.get_remaining_time_in_millis()}


def none(event, context):
    return None


def boom(event, context):
    raise ValueError("boom from the handler")


def die(event, context):
    os._exit(3)


def sleep(event, context):
    with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "sleeping.pid"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
"""


def run(
    tmp_path: Path,
    handler: str,
    timeout: float = 30,
    clock: Callable[[], float] = time.perf_counter,
) -> RuntimeRun:
    (tmp_path / "app.py").write_text(HANDLERS)
    (tmp_path / "broken.py").write_text("raise ImportError('broken at import')\n")
    return measure_runtime(
        sys.executable,
        [str(tmp_path)],
        handler,
        {"MARK": "from env"},
        {"hello": "world"},
        str(tmp_path),
        timeout=timeout,
        clock=clock,
    )


def test_the_response_comes_back_with_positive_figures(tmp_path: Path) -> None:
    result = run(tmp_path, "app.ok")
    assert result.error is None
    assert result.response is not None
    assert result.response["statusCode"] == 200
    assert result.response["body"] == "ok"
    assert result.response["event"] == {"hello": "world"}
    assert result.response["mark"] == "from env"
    assert 0 < result.response["remaining_ms"] <= 30_000
    assert result.init_ms > 0
    assert result.first_invoke_ms > 0
    assert result.runtime_import_ms is not None
    assert result.runtime_import_ms > 0
    assert result.handler_init_ms is not None
    assert 0 < result.handler_init_ms < result.init_ms


def test_a_result_that_is_not_an_object_is_kept_as_posted(tmp_path: Path) -> None:
    result = run(tmp_path, "app.none")
    assert result.error is None
    assert result.response is None
    assert json.loads(result.body) is None


def test_a_handler_that_raises_is_reported_as_the_invocation_error(tmp_path: Path) -> None:
    result = run(tmp_path, "app.boom")
    assert result.response is None
    assert result.error is not None
    error = json.loads(result.error)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom from the handler"
    assert result.first_invoke_ms > 0
    assert "boom from the handler" in result.output


def test_a_failed_init_raises_with_the_posted_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeFailure, match="init failed") as failure:
        run(tmp_path, "broken.handler")
    assert "broken at import" in str(failure.value)


def test_a_child_that_dies_raises_with_its_status(tmp_path: Path) -> None:
    with pytest.raises(RuntimeFailure, match="exited with 3, during the first invoke"):
        run(tmp_path, "app.die")


def test_a_handler_that_never_answers_is_killed_at_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeping.pid"
    # The timeout passes once the handler is asleep, however slowly the machine got it there;
    # the real minute is only a backstop that keeps a broken init from hanging the test.
    backstop = time.perf_counter() + 60

    def clock() -> float:
        return math.inf if pid_file.exists() or time.perf_counter() > backstop else 0.0

    with pytest.raises(RuntimeFailure, match=r"no result within 2 s, during the first invoke"):
        run(tmp_path, "app.sleep", timeout=2, clock=clock)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
