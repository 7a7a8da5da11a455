"""Init and first invoke of a function under the real runtime client, behind the real Runtime API.

A Lambda cold start also holds the runtime client (``awslambdaric``, as in AWS's python3.13
image) and its calls to the Runtime API. AWS's Runtime Interface Emulator (RIE, the binary SAM
CLI mounts into its containers, shipped in its wheel) serves that API here: it runs the client
in a fresh ``python -I -S -B`` (``child_handler``), hands it one event, enforces the timeout
and reports, as Lambda does, init (the runtime's start to its first ``GET .../next``, sent once
the handler is imported) and the first invoke (the event handed over to the result received).

The child's ``sys.path`` is the given paths (code, layer...), the standard library, then only
the client and its dependencies, linked from this venv like ``/var/runtime`` on Lambda: a
package that only the venv has fails to import, as in AWS. Linux only, like the emulator.
Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from welldev.bench.errors import BenchError
from welldev.bench.harness import link_installed

# What awslambdaric imports beyond the standard library; runtime_client is its C extension
# (aws-lambda-cpp over libcurl), which makes the invocation calls.
RUNTIME_MODULES = ("awslambdaric", "runtime_client", "simplejson", "snapshot_restore_py")
CHILD = Path(__file__).with_name("child_handler.py")
INVOCATIONS = "/2015-03-31/functions/function/invocations"
# The emulator's own log lines (at --log-level info) with Lambda's figures of the two phases.
INIT = re.compile(r"INIT REPORT\(durationMs: ([\d.]+)\)")
INVOKE = re.compile(r"INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([\d.]+)ms\)")


@dataclass(frozen=True)
class RuntimeRun:
    init_ms: float  # the runtime's start -> its first GET next
    first_invoke_ms: float  # event handed over -> result received
    handler_init_ms: float  # importing the handler's module, within init_ms
    response: Any  # the handler's result


def emulator() -> Path:
    spec = importlib.util.find_spec("samcli")
    if spec is None or spec.origin is None:
        raise BenchError("SAM CLI, which ships the Runtime Interface Emulator, is not installed")
    machine = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    return Path(spec.origin).parent / "local" / "rapid" / f"aws-lambda-rie-{machine}"


def _free_ports() -> tuple[int, int]:
    with socket.socket() as one, socket.socket() as other:
        one.bind(("127.0.0.1", 0))
        other.bind(("127.0.0.1", 0))
        return one.getsockname()[1], other.getsockname()[1]


def _invoke(
    port: int, event: dict[str, Any], timeout: float, emulator: subprocess.Popen[Any]
) -> bytes:
    """The event's result, once the emulator listens (it starts in a few milliseconds); nothing
    when it never does."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{INVOCATIONS}", json.dumps(event).encode()
    )
    give_up_at = time.monotonic() + 30
    while emulator.poll() is None and time.monotonic() < give_up_at:
        try:
            with urllib.request.urlopen(request, timeout=timeout + 30) as response:  # noqa: S310
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as error:  # an init that failed, a runtime that died
            return error.read()
        except urllib.error.URLError:
            time.sleep(0.01)
        except TimeoutError:  # the emulator times the function out: not it on that port
            break
    return b""


def measure_runtime(
    paths: list[str],
    handler: str,
    env: dict[str, str],
    event: dict[str, Any],
    cwd: str,
    timeout: int = 120,
) -> RuntimeRun:
    """Start ``handler`` under awslambdaric behind the emulator, send ``event``, time both phases.

    A failed init, a handler that raises, a runtime that dies and no result within ``timeout``
    seconds raise BenchError, with the function's output. The emulator is stopped in every case
    (it kills the runtime first).
    """
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wellapi-runtime-")))
        (tmp / "runtime").mkdir()
        link_installed(tmp / "runtime", RUNTIME_MODULES)
        args = {"paths": paths, "runtime": str(tmp / "runtime"), "handler": handler}
        args["out"] = str(tmp / "init.json")
        port, api_port = _free_ports()
        command = [str(emulator()), "--log-level", "info"]
        command += ["--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
        command += ["--runtime-api-address", f"127.0.0.1:{api_port}"]
        command += [sys.executable, "-I", "-S", "-B", str(CHILD), json.dumps(args)]
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            # Lambda's own value; it also makes the client wait for events on a thread, as there.
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            **env,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
            "LAMBDA_TASK_ROOT": cwd,
        }
        output = stack.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(  # noqa: S603 - the emulator, our interpreter and program
            command,
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            body = _invoke(port, event, timeout, process)
        finally:
            process.terminate()  # the emulator kills the runtime, then exits
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output.seek(0)
        printed = output.read().decode(errors="replace")
        # Written once the handler was imported: it is there when the init went well.
        timings = (tmp / "init.json").read_text() if (tmp / "init.json").exists() else ""

    try:
        result = json.loads(body)
    except ValueError:  # the emulator's own words ("Task timed out after 2.00 seconds"), or none
        result = {"errorMessage": body.decode(errors="replace")}
    init, invoke = INIT.search(printed), INVOKE.search(printed)
    if (isinstance(result, dict) and "errorMessage" in result) or not (init and invoke and timings):
        tail = f"\n--- the last of the emulator's and the function's output ---\n{printed[-4000:]}"
        raise BenchError(
            f"{handler} failed under awslambdaric: {body[:2000].decode(errors='replace')}{tail}"
        )
    return RuntimeRun(
        init_ms=float(init.group(1)),
        first_invoke_ms=float(invoke.group(1)),
        handler_init_ms=json.loads(timings)["handler_init"] * 1000,
        response=result,
    )
