"""Sandbox.run_runtime: awslambdaric behind the Runtime Interface Emulator, on tiny handlers.

Each test starts a real interpreter with the runtime client (~0.1 s); the figures are only
checked to be there, not for their size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from welldev.bench.errors import BenchError
from welldev.bench.harness import link_installed
from welldev.bench.sandbox import RUNTIME_CLIENT, Function, Sandbox

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


def run(tmp_path: Path, handler: str, timeout: int = 30) -> tuple[dict[str, float], Any]:
    (tmp_path / "app.py").write_text(HANDLERS)
    (tmp_path / "broken.py").write_text("raise ImportError('broken at import')\n")
    (tmp_path / "runtime").mkdir()
    link_installed(tmp_path / "runtime", RUNTIME_CLIENT)
    box = Sandbox(tmp_path, tmp_path / "runtime", {})
    function = Function("App", tmp_path, handler)
    return box.run_runtime(function, {"MARK": "from env"}, {"hello": "world"}, timeout)


def test_the_response_comes_back_with_positive_figures(tmp_path: Path) -> None:
    figures, response = run(tmp_path, "app.ok")
    assert response["statusCode"] == 200
    assert response["body"] == "ok"
    assert response["event"] == {"hello": "world"}
    assert response["mark"] == "from env"
    assert 0 < response["remaining_ms"] <= 30_000
    assert figures["init"] > 0
    assert figures["first_invoke"] > 0
    assert 0 < figures["handler_init"] < figures["init"]


def test_a_result_that_is_not_an_object_is_kept_as_posted(tmp_path: Path) -> None:
    assert run(tmp_path, "app.none")[1] is None


def test_a_handler_that_raises_fails_with_the_invocation_error(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="boom from the handler") as failure:
        run(tmp_path, "app.boom")
    assert '"errorType": "ValueError"' in str(failure.value)


def test_a_failed_init_fails_with_the_posted_error(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"Runtime\.ImportModuleError") as failure:
        run(tmp_path, "broken.handler")
    assert "broken at import" in str(failure.value)


def test_a_runtime_that_dies_fails_with_its_status(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"Runtime\.ExitError.*exit status 3"):
        run(tmp_path, "app.die")


def test_a_handler_that_never_answers_is_killed_at_the_timeout(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"Task timed out after 2.00 seconds"):
        run(tmp_path, "app.sleep", timeout=2)
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "sleeping.pid").read_text()), 0)
