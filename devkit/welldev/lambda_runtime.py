"""Running a template function in this process, the way the Lambda Python runtime would.

The handler is imported as Lambda does it (the function's CodeUri first on ``sys.path``, the
module path taken from ``Handler``), once per function: later invocations reuse it, like a warm
execution environment. Each invocation gets a context object with the runtime's attributes, and
its result goes through JSON as Lambda's response does, so a handler that returns something
Lambda could not send back fails here too.

Every function shares this one process, so some things differ from AWS, on purpose and only
locally:

- the environment is the process's: ``apply_template_environment`` sets the template's
  variables once, for keys nobody has set yet (the local runner's ``DATABASE_URL`` and
  ``DB_AUTH`` win over the template's ``DB_AUTH=iam``). When two functions disagree on a value,
  one value wins for all of them and the disagreement is reported;
- a function that runs longer than its ``Timeout`` is not stopped (a thread cannot be killed);
  it fails after the fact with ``FunctionTimedOut``, as the caller would have seen in AWS;
- Lambda's own variables (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``...) are not set:
  they differ per function and the process has one environment.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from welldev.intrinsics import LOCAL_ACCOUNT_ID, pseudo_parameters
from welldev.template import Function, Template, resolve_environment

Handler = Callable[[Any, "LambdaContext"], Any]


class HandlerImportError(ImportError):
    """The handler named by the template cannot be imported (Lambda: Runtime.ImportModuleError)."""


class FunctionTimedOut(Exception):
    """The function ran past its Timeout; in AWS it would have been stopped."""


class ResponseNotSerializable(TypeError):
    """The handler returned something Lambda cannot send back as JSON (Runtime.MarshalError)."""


class LambdaContext:
    """The ``context`` argument, attribute for attribute as the Python runtime builds it."""

    def __init__(
        self,
        function: Function,
        log_stream_name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        region = pseudo_parameters()["AWS::Region"]
        self.function_name = function.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function.function_name}"
        )
        # The real runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: it is a string there.
        self.memory_limit_in_mb = str(function.memory_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.function_name}"
        self.log_stream_name = log_stream_name
        self.identity: Any = None
        self.client_context: Any = None
        self._clock = clock
        self._deadline = clock() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))


@dataclass
class _Environment:
    """A warm execution environment: the imported handler and its log stream."""

    handler: Handler
    log_stream_name: str = field(
        default_factory=lambda: f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    )


class LambdaRuntime:
    """Imports and invokes the functions of one template; safe to share between threads.

    A function's time runs on ``clock`` (``time.monotonic`` unless a test gives its own).
    """

    def __init__(self, template: Template, clock: Callable[[], float] = time.monotonic) -> None:
        self.template = template
        self.clock = clock
        self._environments: dict[str, _Environment] = {}
        # Imports change sys.path and sys.modules, which every thread shares.
        self._lock = threading.Lock()

    def handler(self, function_id: str) -> Handler:
        return self._environment(function_id).handler

    def invoke(self, function_id: str, event: Any) -> Any:
        """Run the function on ``event`` and return what Lambda would return to the caller.

        Handler exceptions propagate unchanged (the caller decides what they become).
        """
        function = self.template.function(function_id)
        environment = self._environment(function_id)  # the init phase is not timed
        context = LambdaContext(function, environment.log_stream_name, self.clock)
        # Lambda hands the function a fresh copy parsed from JSON, never the caller's objects.
        result = environment.handler(json.loads(json.dumps(event)), context)
        if context.get_remaining_time_in_millis() == 0:
            raise FunctionTimedOut(
                f"{function_id}: Task timed out after {function.timeout_seconds:.2f} seconds"
            )
        return marshal(result)

    def _environment(self, function_id: str) -> _Environment:
        environment = self._environments.get(function_id)
        if environment is None:
            with self._lock:
                environment = self._environments.get(function_id)
                if environment is None:
                    handler = load_handler(self.template.function(function_id))
                    environment = self._environments[function_id] = _Environment(handler)
        return environment


def load_handler(function: Function) -> Handler:
    """Import ``module.attribute`` from ``Handler`` with CodeUri searched first, as Lambda does.

    A module the CodeUri does not hold is looked up further along ``sys.path``: in AWS that is
    the layer (``Handler: wellapi.migrate.handler``), here the editable install.
    """
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
    _check_origin(function, module_name, getattr(module, "__file__", None))
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise HandlerImportError(
            f"{function.logical_id}: Handler '{attribute}' missing on module '{module_name}'"
        )
    return handler  # type: ignore[no-any-return]


def _check_origin(function: Function, module_name: str, loaded_from: str | None) -> None:
    """Refuse to run another CodeUri's module that happens to have the same name.

    Lambda gives each function its own process; here one ``sys.modules`` serves them all, so
    two CodeUris that both define ``app.py`` would silently share the first one imported.
    """
    relative = Path(*module_name.split("."))
    candidates = (
        function.code_uri / relative.with_suffix(".py"),
        function.code_uri / relative / "__init__.py",
    )
    expected = next((c.resolve() for c in candidates if c.is_file()), None)
    if expected is not None and loaded_from and Path(loaded_from).resolve() != expected:
        raise HandlerImportError(
            f"{function.logical_id}: module '{module_name}' was already imported from "
            f"{loaded_from}; one process cannot hold two modules of that name "
            f"(rename one of them to run both locally)"
        )


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


@dataclass(frozen=True)
class EnvironmentReport:
    applied: dict[str, str]  # set now, from the template
    kept: tuple[str, ...]  # already set by the local runner: its value wins
    unresolved: tuple[str, ...]  # needs a deployed resource (an endpoint, an ARN): left unset
    conflicts: tuple[str, ...]  # functions disagree on the value: the first function's won


def apply_template_environment(
    template: Template,
    functions: Iterable[Function],
    environ: MutableMapping[str, str] = os.environ,
) -> EnvironmentReport:
    """Set the functions' template variables on the process, never over a value already set."""
    chosen: dict[str, tuple[str, str]] = {}  # name -> (value, function that set it)
    conflicts: dict[str, str] = {}
    unresolved: set[str] = set()
    for function in sorted(functions, key=lambda f: f.logical_id):
        resolved = resolve_environment(template, function)
        unresolved.update(resolved.unresolved)
        for name, value in resolved.values.items():
            if name in chosen and chosen[name][0] != value:
                conflicts.setdefault(name, f"{name} ({chosen[name][1]} vs {function.logical_id})")
            chosen.setdefault(name, (value, function.logical_id))
    kept = tuple(name for name in sorted(chosen) if name in environ)
    applied = {name: value for name, (value, _) in sorted(chosen.items()) if name not in environ}
    environ.update(applied)
    return EnvironmentReport(
        applied=applied,
        kept=kept,
        unresolved=tuple(sorted(unresolved - set(chosen) - set(environ))),
        conflicts=tuple(text for name, text in sorted(conflicts.items()) if name not in kept),
    )
