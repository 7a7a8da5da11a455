"""Running the functions of a template the way Lambda does: in execution environments, each
importing one function (its init: CodeUri first on ``sys.path``, the module from ``Handler``),
then serving one invocation at a time (docs/design.md, "The local emulator", says why so).
``LambdaRuntime`` keeps them in one of two ways:

- ``processes=N`` (``wellapi run``, ``make load``): up to N worker processes per function
  (``welldev.environment_worker``), a cold start when all are busy; one past its ``Timeout`` is
  killed and replaced, one idle for ``idle_seconds`` is stopped, as Lambda reclaims idle ones;
- ``processes=0`` (``wellapi invoke``, tests that look inside a function): this process is the
  one environment of every function; a function past its ``Timeout`` fails after the fact.

Not like AWS, on purpose: an environment gets the process's variables (the local runner's
``DATABASE_URL`` and ``DB_AUTH`` win over the template's ``DB_AUTH=iam``), and what a function
prints is printed by the caller, where Lambda sends it to CloudWatch.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any, TextIO

from welldev.stack import LOCAL_ACCOUNT_ID, Function, Stack, local_region, resolve_environment

Handler = Callable[[Any, "LambdaContext"], Any]


class HandlerImportError(ImportError):
    """The handler named by the template cannot be imported (Lambda: Runtime.ImportModuleError)."""


class IdleSecondsError(ValueError):
    """``WELLAPI_IDLE_SECONDS`` is not a number of seconds above 0."""


class FunctionTimedOut(Exception):
    """The function ran past its Timeout; in AWS it would have been stopped."""

    def __init__(self, function_id: str, seconds: float) -> None:
        super().__init__(f"{function_id}: Task timed out after {seconds:.2f} seconds")


class ResponseNotSerializable(TypeError):
    """The handler returned something Lambda cannot send back as JSON (Runtime.MarshalError)."""


class EnvironmentExited(Exception):
    """The environment's process ended during an invocation or its init (Runtime.ExitError)."""


class LambdaContext:
    """The ``context`` argument, attribute for attribute as the Python runtime builds it."""

    def __init__(
        self,
        function: Function,
        log_stream_name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function_name = function.logical_id  # as SAM local names the function
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{local_region()}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"
        )
        # The real runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: it is a string there.
        self.memory_limit_in_mb = str(function.memory_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.logical_id}"
        self.log_stream_name = log_stream_name
        self.identity: Any = None
        self.client_context: Any = None
        self._clock = clock
        self._deadline = clock() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))


def log_stream_name() -> str:
    """A new environment's log stream, named as Lambda names it."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


# An environment's init: Lambda allows 10 s, the machine may be busier (coverage, servers).
INIT_TIMEOUT_SECONDS = 60.0
# How long a process environment may stay idle before it is stopped: each holds a process of
# about 35 MiB and a database connection per role, and a crawl of every route starts one each.
IDLE_SECONDS_VARIABLE = "WELLAPI_IDLE_SECONDS"
DEFAULT_IDLE_SECONDS = 120.0


def idle_seconds_from_environment() -> float:
    """``$WELLAPI_IDLE_SECONDS`` when set (a positive number), else the default."""
    text = os.environ.get(IDLE_SECONDS_VARIABLE, "").strip() or str(DEFAULT_IDLE_SECONDS)
    with contextlib.suppress(ValueError):
        if float(text) > 0:
            return float(text)
    raise IdleSecondsError(f"{IDLE_SECONDS_VARIABLE} must be a number of seconds above 0: {text!r}")


class ProcessEnvironment:
    """One execution environment in a worker process of its own, which it starts (init)."""

    def __init__(self, function: Function) -> None:
        self.function = function
        ours, theirs = socket.socketpair()
        for end in (ours, theirs):
            # Blocking, as both sides read it: under gevent (locust runs `make load` in this
            # process) a socket is non-blocking, and the worker's read would fail at once.
            os.set_blocking(end.fileno(), True)
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter and module
                [sys.executable, "-m", "welldev.environment_worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env={**os.environ, **lambda_variables(function)},
            )
        finally:
            theirs.close()
        self._socket = ours
        self._connection = Connection(os.dup(ours.fileno()))
        self._connection.send(function)
        try:
            self._answer(INIT_TIMEOUT_SECONDS, "init")
        except BaseException:
            self.close()
            raise

    def invoke(self, event: Any, printed: list[str] | None = None) -> Any:
        """What the function answers to ``event``; its error is raised as it was raised there.
        What it printed is printed, or kept in ``printed`` when given."""
        self._connection.send(event)
        return self._answer(float(self.function.timeout_seconds), "invocation", printed)

    def _answer(self, timeout: float, phase: str, printed: list[str] | None = None) -> Any:
        if not self._connection.poll(timeout):
            self.close()
            raise FunctionTimedOut(self.function.logical_id, timeout)
        try:
            kind, value, out, err = self._connection.recv()
        except (EOFError, OSError) as error:
            code = self.close()
            raise EnvironmentExited(
                f"{self.function.logical_id}: the environment exited during its {phase} "
                f"(exit code {code})"
            ) from error
        if printed is not None:
            printed += [out, err]
        else:
            sys.stdout.write(out)
            sys.stderr.write(err)
        if kind in ("error", "failed"):
            raise value
        return value

    def close(self) -> int | None:
        """Stop the environment (its process ends when its connection closes, or is killed)."""
        # Shut down, not only closed: the worker reads its end at once even where a close is
        # deferred (gevent's, when locust runs `make load` in this process).
        with contextlib.suppress(OSError):  # closed already, or the worker went first
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._connection.close()
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def lambda_variables(function: Function) -> dict[str, str]:
    """The variables Lambda sets in a function's environment, those the local runtime can."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(function.code_uri),
    }


class _Environments:
    """A function's environments: a free one serves, else a new one starts, up to ``bound``."""

    def __init__(self, function: Function, bound: int, clock: Callable[[], float]) -> None:
        self.function = function
        self.bound = bound
        self.started = 0
        self.peak_busy = 0
        self._clock = clock
        # The free environments, each with the time it became free; the last freed at the end.
        self._free: list[tuple[ProcessEnvironment, float]] = []
        self._alive = 0
        self._changed = threading.Condition()

    @property
    def alive(self) -> int:
        """Environments running now, busy or free."""
        with self._changed:
            return self._alive

    def reclaim(self, idle_seconds: float) -> int:
        """Stop the environments free ``idle_seconds`` or more (0: every free one); how many."""
        with self._changed:
            cutoff = self._clock() - idle_seconds
            idle = [environment for environment, since in self._free if since <= cutoff]
            self._free = [(kept, since) for kept, since in self._free if since > cutoff]
            self._alive -= len(idle)
        for environment in idle:  # outside the lock: a process may take a moment to end
            environment.close()
        return len(idle)

    def invoke(self, event: Any, printed: list[str] | None = None) -> Any:
        environment = self._take()
        kept = False
        try:
            result = environment.invoke(event, printed)
            kept = True
            return result
        except Exception as error:
            # The function failed: its environment lives on, as in Lambda, unless it is gone.
            kept = not isinstance(error, FunctionTimedOut | EnvironmentExited)
            raise
        finally:
            self._give_back(environment if kept else None)

    def prepare(self) -> None:
        """Have one environment ready (its init done), unless one is already."""
        if not self.alive:
            self._give_back(self._take())

    def provision(self, count: int) -> None:
        """Hold ``count`` environments (at most the bound) at once, starting those missing, then
        free them: Lambda's provisioned concurrency, the cold starts now, not under traffic."""
        with contextlib.ExitStack() as held:
            for _ in range(min(count, self.bound)):
                held.callback(self._give_back, self._take())

    def _take(self) -> ProcessEnvironment:
        with self._changed:
            self._changed.wait_for(lambda: self._free or self._alive < self.bound)
            # The most recently used, the others may go idle; else a cold start.
            taken = self._free.pop()[0] if self._free else None
            if taken is None:
                self._alive += 1
                self.started += 1
            self.peak_busy = max(self.peak_busy, self._alive - len(self._free))
        if taken is not None:
            return taken
        try:
            return ProcessEnvironment(self.function)  # a cold start, outside the lock
        except BaseException:
            self._give_back(None)
            raise

    def _give_back(self, environment: ProcessEnvironment | None) -> None:
        with self._changed:
            if environment is None:
                self._alive -= 1
            else:
                self._free.append((environment, self._clock()))
            self._changed.notify()


class LambdaRuntime:
    """Imports and invokes the functions of one template; safe to share between threads.
    ``processes``: environments per function at most, each a process (0: this process is every
    function's one); ``idle_seconds``: one free that long is stopped (None: at ``close``)."""

    def __init__(
        self,
        template: Stack,
        clock: Callable[[], float] = time.monotonic,
        *,
        processes: int = 0,
        idle_seconds: float | None = None,
    ) -> None:
        self.template = template
        self.clock = clock
        self.processes = processes
        self.idle_seconds = idle_seconds
        self._closing = threading.Event()
        # This process's environments (``processes=0``): each function's handler and log stream.
        self._environments: dict[str, tuple[Handler, str]] = {}
        self._pools: dict[str, _Environments] = {}
        # Invocations running at once in process environments, now and at most so far.
        self.in_flight = 0
        self.peak_in_flight = 0
        # This process as an environment serves one invocation at a time, as Lambda's do.
        self._serving = threading.Lock()
        self._lock = threading.Lock()

    def handler(self, function_id: str) -> Handler:
        """The function's handler imported in this process (``processes=0`` only)."""
        if self.processes:
            raise RuntimeError("the functions of this runtime run in their own processes")
        with self._serving:
            return self._environment(function_id)[0]

    def prepare(self, function_id: str) -> None:
        """Import the function ahead of its first invocation, so that an import error shows."""
        if self.processes:
            self.environments_of(function_id).prepare()
        else:
            self.handler(function_id)

    def environments_of(self, function_id: str) -> _Environments:
        """The function's process environments (``processes`` > 0)."""
        with self._lock:
            if function_id not in self._pools:
                function = self.template.function(function_id)
                if not self._pools and self.idle_seconds is not None:
                    self._start_reaper(self.idle_seconds / 4)  # with the first pool
                self._pools[function_id] = _Environments(function, self.processes, self.clock)
            return self._pools[function_id]

    def _all_pools(self) -> list[_Environments]:
        with self._lock:
            return list(self._pools.values())

    def reclaim_idle(self) -> int:
        """Stop every process environment idle for ``idle_seconds``; how many were stopped."""
        if self.idle_seconds is None:
            return 0
        return sum(pool.reclaim(self.idle_seconds) for pool in self._all_pools())

    def _start_reaper(self, period: float) -> None:
        # A few looks per idle period: an environment goes idle_seconds to a quarter more idle.
        def reap() -> None:
            while not self._closing.wait(period):
                self.reclaim_idle()

        threading.Thread(target=reap, name="wellapi-idle-reaper", daemon=True).start()

    def invoke(self, function_id: str, event: Any, printed: list[str] | None = None) -> Any:
        """What Lambda returns to the caller for ``event``; a handler's exception propagates.
        What a process environment prints is kept in ``printed`` when given."""
        function = self.template.function(function_id)
        # Lambda hands the function a fresh copy parsed from JSON, never the caller's objects.
        event = json.loads(json.dumps(event))
        if self.processes:
            environments = self.environments_of(function_id)
            with self._lock:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return environments.invoke(event, printed)
            finally:
                with self._lock:
                    self.in_flight -= 1
        with self._serving:
            handler, stream = self._environment(function_id)  # the init phase is not timed
            context = LambdaContext(function, stream, self.clock)
            result = handler(event, context)
            if context.get_remaining_time_in_millis() == 0:
                raise FunctionTimedOut(function_id, function.timeout_seconds)
            return marshal(result)

    def provision_used(self, count: int) -> None:
        """``count`` environments ready for every function invoked so far."""
        pools = self._all_pools()
        # The functions side by side, each one's environments in turn.
        with ThreadPoolExecutor(max(len(pools), 1)) as executor:
            list(executor.map(lambda pool: pool.provision(count), pools))

    def close(self) -> None:
        """Stop every idle process environment (a busy one stops when its parent exits)."""
        self._closing.set()
        for pool in self._all_pools():
            pool.reclaim(0)

    def _environment(self, function_id: str) -> tuple[Handler, str]:
        if function_id not in self._environments:
            handler = load_handler(self.template.function(function_id))
            self._environments[function_id] = (handler, log_stream_name())
        return self._environments[function_id]


class Invoker(threading.Thread):
    """A thread invoking one function until stopped (``run``): a queue's poller, a schedule."""

    def __init__(
        self, runtime: LambdaRuntime, function_id: str, prefix: str, log: TextIO | None
    ) -> None:
        super().__init__(name=f"wellapi-{prefix.replace(' ', '-')}-{function_id}", daemon=True)
        self.runtime = runtime
        self.function_id = function_id
        self.prefix = prefix
        self.log = log or sys.stderr
        self.stopping = threading.Event()

    def start(self) -> None:
        """Import the function (its init phase, so a broken handler fails now), then run."""
        self.runtime.prepare(self.function_id)
        super().start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop; an invocation in progress finishes first, waited for (by default) as long as
        one may take, and a little more. True when the thread ended."""
        self.stopping.set()
        if self.ident is not None:  # started
            longest = self.runtime.template.function(self.function_id).timeout_seconds + 5
            self.join(longest if timeout is None else timeout)
        return not self.is_alive()

    def say(self, message: str) -> None:
        print(f"[{self.prefix}] {message}", file=self.log, flush=True)


def load_handler(function: Function) -> Handler:
    """Import ``module.attribute`` from ``Handler``, CodeUri first on ``sys.path`` as in Lambda,
    then the layer (``wellapi.handlers.migration.handler``; here the editable install)."""
    module_name, _, attribute = function.handler.rpartition(".")
    code_dir = function.code_uri
    if not code_dir.is_dir():
        raise HandlerImportError(f"{function.logical_id}: CodeUri {code_dir} is not a directory")
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise HandlerImportError(
                f"{function.logical_id}: Unable to import module '{module_name}' "
                f"(searched {code_dir} first): {error}"
            ) from error
        raise
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise HandlerImportError(
            f"{function.logical_id}: Handler '{attribute}' missing on module '{module_name}'"
        )
    return handler  # type: ignore[no-any-return]


def marshal(result: Any) -> Any:
    """What the caller receives: the result through JSON, as Lambda sends it."""
    try:
        return json.loads(json.dumps(result, default=_runtime_json_default))
    except (TypeError, ValueError) as error:
        raise ResponseNotSerializable(f"Unable to marshal response: {error}") from error


def _runtime_json_default(value: Any) -> Any:
    # The Python runtime's encoder writes Decimals as numbers; anything else is an error.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def error_payload(error: BaseException) -> dict[str, Any]:
    """The body Lambda returns for a function error."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def apply_template_environment(template: Stack, functions: Iterable[Function]) -> list[str]:
    """Set the functions' template variables the process lacks (the first wins); their names."""
    applied: list[str] = []
    for function in sorted(functions, key=lambda f: f.logical_id):
        for name, value in resolve_environment(template, function).items():
            if name not in os.environ:
                os.environ[name] = value
                applied.append(name)
    return applied
