"""Init and first invoke of a function under the real Lambda runtime client.

``welldev.bench`` times a handler's import in a bare interpreter; a Lambda cold start also
holds the runtime client (``awslambdaric``, as in AWS's python3.13 image) and its calls to the
Runtime API. This module serves a fake Runtime API (v2018-06-01) on 127.0.0.1, runs the client
in a fresh ``python -I -S -B``, hands it one event and times, on this process's clock, init
(spawn to the first ``GET .../invocation/next``, sent once the handler is imported) and the
first invoke (the event's last byte sent to the result's last byte received).

The child's ``sys.path`` is the given paths (code, layer...), the standard library, then only
the client and its dependencies, linked from this venv like ``/var/runtime`` on Lambda: a
package that only the venv has fails to import, as in AWS. The client's next ``GET next`` is
held and the process killed, as Lambda freezes, then drops, an idle environment.
Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from welldev.bench.harness import link_installed

API = "/2018-06-01/runtime"
# What awslambdaric imports beyond the standard library; runtime_client is its C extension
# (aws-lambda-cpp over libcurl), which makes the invocation calls.
RUNTIME_MODULES = ("awslambdaric", "runtime_client", "simplejson", "snapshot_restore_py")
OUTPUT_TAIL = 4000

# Run by path (-I: its own directory is not on sys.path, and PYTHONPATH is ignored, so the
# paths come as arguments).
CHILD = Path(__file__).with_name("child_runtime.py")


class RuntimeFailure(Exception):
    """The function failed its init, died or timed out; the message ends with its output."""


@dataclass(frozen=True)
class RuntimeRun:
    init_ms: float  # spawn -> first GET next
    first_invoke_ms: float  # event sent -> result (response or error) received
    response: dict[str, Any] | None  # the handler's result, when it is a JSON object
    error: str | None  # the invocation error as posted (errorMessage, errorType...)
    body: bytes  # the result or the error, as posted
    runtime_import_ms: float | None  # importing awslambdaric, on the child's clock
    handler_init_ms: float | None  # importing the handler's module, within init_ms
    output: str  # what the function printed: its log in Lambda


@dataclass
class _Api:
    event: bytes
    timeout: float
    arn: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    first_next: float | None = None
    served: float | None = None
    answered: float | None = None
    outcome: str | None = None  # "response", "error" or "init/error"
    body: bytes = b""


def _handler_class(api: _Api) -> type[BaseHTTPRequestHandler]:
    invocation = f"{API}/invocation/{api.request_id}"
    outcomes = {
        f"{invocation}/response": "response",
        f"{invocation}/error": "error",
        f"{API}/init/error": "init/error",
    }

    class Handler(BaseHTTPRequestHandler):
        # The client keeps one connection for all its calls, as with Lambda's API.
        protocol_version = "HTTP/1.1"

        def handle(self) -> None:
            # The child is killed with its connection open, by design: its reset is no error.
            with contextlib.suppress(ConnectionError):
                super().handle()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the harness's own calls are not worth a line on stderr each

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self) -> None:
            now = time.perf_counter()
            if self.path != f"{API}/invocation/next":
                self._reply(404, b"{}", {})
                return
            with api.lock:
                first = api.first_next is None
                if first:
                    api.first_next = now
                    self._reply(200, api.event, _event_headers(api))
                    api.served = time.perf_counter()
            if not first:
                # A second event would be a warm invoke: hold the client until it is killed.
                self.close_connection = True
                api.release.wait()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            outcome = outcomes.get(self.path)
            if outcome is None:
                self._reply(404, b"{}", {})
                return
            # After the event's lock, so that a result never predates the event's last byte.
            with api.lock:
                if api.outcome is None:
                    api.answered, api.outcome, api.body = time.perf_counter(), outcome, body
            self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
            api.done.set()

    return Handler


def _event_headers(api: _Api) -> dict[str, str]:
    epoch = time.time()
    return {
        "Content-Type": "application/json",
        "Lambda-Runtime-Aws-Request-Id": api.request_id,
        "Lambda-Runtime-Deadline-Ms": str(int((epoch + api.timeout) * 1000)),
        "Lambda-Runtime-Invoked-Function-Arn": api.arn,
        "Lambda-Runtime-Trace-Id": f"Root=1-{int(epoch):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
    }


def _environment(env: dict[str, str], port: int, handler: str, cwd: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        # Lambda's own value; it also makes the client wait for events on a thread, as there.
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        **env,
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "LAMBDA_TASK_ROOT": cwd,
        "_HANDLER": handler,
    }


def measure_runtime(
    python: str,
    paths: list[str],
    handler: str,
    env: dict[str, str],
    event: dict[str, Any],
    cwd: str,
    timeout: float = 120,
    clock: Callable[[], float] = time.perf_counter,
) -> RuntimeRun:
    """Start ``handler`` under awslambdaric with ``python``, send ``event``, time both phases.

    A handler that raises is a result (``error`` set); a failed init, a child that dies and no
    result within ``timeout`` seconds of the spawn raise RuntimeFailure. The child is killed
    and the server stopped in every case. ``clock`` tells when the timeout has passed (a test
    gives it one of its own); the figures are always taken on ``time.perf_counter``.
    """
    api = _Api(json.dumps(event).encode(), timeout)
    exited: int | None = None  # the child's own exit status, before it is killed
    # Undone in reverse: kill the child, then release its held GET and stop the server.
    with contextlib.ExitStack() as stack:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(api))
        stack.callback(server.server_close)
        server.daemon_threads = True  # a GET next held open must not hold up server_close
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        stack.callback(server.shutdown)
        stack.callback(api.release.set)
        runtime = stack.enter_context(tempfile.TemporaryDirectory(prefix="wellapi-runtime-"))
        link_installed(Path(runtime), RUNTIME_MODULES)
        output = stack.enter_context(tempfile.TemporaryFile())
        read_fd, write_fd = os.pipe()
        stack.callback(os.close, read_fd)
        command = [python, "-I", "-S", "-B", str(CHILD), handler, str(write_fd)]
        command += [str(len(paths)), *paths, runtime]
        environment = _environment(env, server.server_address[1], handler, cwd)
        region, name = environment["AWS_REGION"], environment["AWS_LAMBDA_FUNCTION_NAME"]
        api.arn = f"arn:aws:lambda:{region}:000000000000:function:{name}"
        spawned = time.perf_counter()
        give_up_at = clock() + timeout
        try:
            process = subprocess.Popen(  # noqa: S603 - the caller's interpreter, our script
                command,
                cwd=cwd,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        stack.callback(process.wait)
        stack.callback(process.kill)
        while not api.done.wait(0.02):
            exited = process.poll()
            if exited is not None or clock() > give_up_at:
                break
        process.kill()
        process.wait()
        # The only writer is gone, so this returns at once: the figures, or nothing.
        timings = os.read(read_fd, 256).split()
        output.seek(0)
        printed = output.read().decode(errors="replace")

    tail = f"\n--- the last of the function's output ---\n{printed[-OUTPUT_TAIL:]}"
    if api.outcome == "init/error":
        raise RuntimeFailure(f"{handler}: init failed: {api.body.decode(errors='replace')}{tail}")
    if api.outcome is None or api.first_next is None or api.served is None:
        phase = "init" if api.first_next is None else "the first invoke"
        cause = f"no result within {timeout:g} s" if exited is None else f"exited with {exited}"
        raise RuntimeFailure(f"{handler}: {cause}, during {phase}{tail}")
    assert api.answered is not None
    runtime_import = float(timings[0]) * 1000 if len(timings) == 2 else None
    handler_init = float(timings[1]) * 1000 if len(timings) == 2 else None
    try:
        result = None if api.outcome == "error" else json.loads(api.body)
    except ValueError:  # a marshaller of the function's own may send something else
        result = None
    return RuntimeRun(
        init_ms=(api.first_next - spawned) * 1000,
        first_invoke_ms=(api.answered - api.served) * 1000,
        response=result if isinstance(result, dict) else None,
        error=api.body.decode(errors="replace") if api.outcome == "error" else None,
        body=api.body,
        runtime_import_ms=runtime_import,
        handler_init_ms=handler_init,
        output=printed,
    )
