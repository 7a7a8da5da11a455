"""The sam build, copied read-only and laid out the way Lambda mounts it; a function run there in
a fresh interpreter, alone or under the runtime client behind AWS's Runtime Interface Emulator.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from welldev.bench.config import BUILD_DIR, ROOT
from welldev.bench.errors import BenchError
from welldev.bench.harness import elapsed, link_installed, note
from welldev.console import step

# What the python3.13 Lambda runtime provides besides the standard library (as in
# tests/system/test_packaging.py), and its runtime client with what that imports (runtime_client
# is its C extension, which makes the invocation calls): linked from the venv, never copied.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
RUNTIME_CLIENT = ("awslambdaric", "runtime_client", "simplejson", "snapshot_restore_py")
# Sources whose change makes the sam build stale (devkit/welldev is not shipped).
BUILD_SOURCES = ("template.yaml", "stacks", "functions", "layers/shared", "migrations")
# The program run by path in the fresh interpreter (-I: its own directory is not on sys.path).
CHILD = Path(__file__).with_name("child_handler.py")
# Lambda's variables (-I ignores PYTHON* variables: -B says the same as the last).
ENVIRONMENT = {"AWS_REGION": "eu-west-1", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
INVOCATIONS = "/2015-03-31/functions/function/invocations"
# Lambda's figures of a cold start in the emulator's log lines, and the handler's import as the
# child prints it; each in ms.
EMULATED = {
    "init": re.compile(r"INIT REPORT\(durationMs: ([\d.]+)\)"),
    "first_invoke": re.compile(
        r"INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([\d.]+)ms\)"
    ),
    "handler_init": re.compile(r"bench handler_init: ([\d.]+)"),
}


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str


@dataclass(frozen=True)
class Sandbox:
    layer: Path  # /opt/python
    runtime: Path  # the runtime's own packages (boto3...), linked from the venv
    functions: dict[str, Function]

    def command(self, function: Function, args: dict[str, Any], *flags: str) -> list[str]:
        """The child on ``args``, on the function's paths unless ``args`` gives its own."""
        paths = [str(function.code_dir), str(self.layer), str(self.runtime)]
        arg = json.dumps({"paths": paths, **args})
        return [sys.executable, "-I", "-S", "-B", *flags, str(CHILD), arg]

    def run(
        self,
        function: Function,
        args: dict[str, Any],
        env: dict[str, str] | None = None,
        flags: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The child on ``args`` in the function's code directory: its result (the last line of
        its stderr), each of its times as (CPU ms since exec, wall ms since the spawn), with
        ``stderr``. The function's log (stdout) is dropped."""
        started = time.perf_counter()
        run = subprocess.run(  # noqa: S603 - our interpreter and child program
            self.command(function, args, *flags),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**ENVIRONMENT, "LAMBDA_TASK_ROOT": str(function.code_dir), **(env or {})},
            cwd=function.code_dir,
            timeout=900,
            check=False,
        )
        if run.returncode != 0:
            who = f"{function.logical_id} ({args.get('handler')})"
            raise BenchError(f"{who} failed ({run.returncode}): {run.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(run.stderr.splitlines()[-1])
        for mark in ("modules", "import", "answer"):
            if mark in result:
                cpu, at = result[mark]
                result[mark] = (cpu, (at - started) * 1000)
        return {**result, "stderr": run.stderr}

    def run_runtime(
        self, function: Function, env: dict[str, str], event: dict[str, Any], timeout: int = 120
    ) -> tuple[dict[str, float], Any]:
        """``event`` served by the function under awslambdaric behind AWS's Runtime Interface
        Emulator: ``EMULATED``'s figures, and the result.

        A Lambda cold start also holds the runtime client and its calls to the Runtime API,
        which the emulator (shipped in SAM CLI's wheel; Linux only) serves, timing init (up to
        the first ``GET .../next``, once the handler is imported) and the first invoke. A failed
        init or invoke, or no result within ``timeout`` seconds, raises BenchError with the
        function's output.
        """
        port, api_port = _free_ports()
        command = [str(emulator()), "--log-level", "info"]
        command += ["--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
        command += ["--runtime-api-address", f"127.0.0.1:{api_port}"]
        command += self.command(function, {"runtime": function.handler})
        environment = {
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            # Lambda's own value; it also makes the client wait for events on a thread, as there.
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
            **ENVIRONMENT,
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            **env,
        }
        with tempfile.TemporaryFile() as output:
            process = subprocess.Popen(  # noqa: S603 - the emulator, our interpreter and child
                command,
                cwd=function.code_dir,
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
        try:
            result = json.loads(body)
        except ValueError:  # the emulator's own words ("Task timed out after 2.00 seconds")
            result = {"errorMessage": body.decode(errors="replace")}
        found = {name: pattern.search(printed) for name, pattern in EMULATED.items()}
        if (isinstance(result, dict) and "errorMessage" in result) or not all(found.values()):
            answer = body[:2000].decode(errors="replace")
            raise BenchError(
                f"{function.handler} failed under awslambdaric: {answer}\n--- the last of the "
                f"emulator's and the function's output ---\n{printed[-4000:]}"
            )
        return {k: float(m.group(1)) for k, m in found.items() if m}, result


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
    """The event's result, once the emulator listens; nothing when it never does."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{INVOCATIONS}", json.dumps(event).encode()
    )
    give_up_at = time.monotonic() + 30
    while emulator.poll() is None and time.monotonic() < give_up_at:
        try:
            with urllib.request.urlopen(request, timeout=timeout + 30) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as error:  # an init that failed, a runtime that died
            return error.read()
        except urllib.error.URLError:
            time.sleep(0.01)
        except TimeoutError:  # the emulator times the function out: not it on that port
            break
    return b""


def ensure_build(allowed: bool) -> None:
    """``make build`` if the sam build is missing or older than a source it is built from."""
    built = BUILD_DIR / "template.yaml"
    built_at = built.stat().st_mtime if built.is_file() else 0.0
    sources = [f for s in BUILD_SOURCES for f in [ROOT / s, *(ROOT / s).rglob("*")]]
    if not any(
        f.is_file()
        and "__pycache__" not in f.parts
        and ".egg-info/" not in f.as_posix()
        and f.stat().st_mtime > built_at
        for f in sources
    ):
        note("sam build is up to date")
    elif not allowed:
        if not built.is_file():
            raise BenchError("no sam build in .aws-sam/build: run `make build` first")
        note("sam build is older than its sources; measuring it anyway (build disabled)")
    else:
        step("the sam build is missing or stale: make build")
        started = time.perf_counter()
        # Its output goes to stderr with the progress: stdout is the table.
        subprocess.run(["make", "build"], cwd=ROOT, check=True, stdout=sys.stderr)  # noqa: S607
        note(f"built in {elapsed(started)}")


def built_function_code(template: Path) -> dict[str, tuple[Path, str]]:
    """Each function a built template deploys, its nested stacks' included: its built code
    directory and its handler, by logical id."""
    import yaml

    resources = yaml.safe_load(template.read_text())["Resources"]
    functions = {
        logical_id: (template.parent / r["Properties"]["CodeUri"], str(r["Properties"]["Handler"]))
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    for r in resources.values():
        if r["Type"] == "AWS::Serverless::Application":
            functions.update(built_function_code(template.parent / r["Properties"]["Location"]))
    return functions


@contextlib.contextmanager
def sandbox(only: Sequence[str] | None = None) -> Iterator[Sandbox]:
    """Copy the build to a temporary directory and make the code read-only, as in Lambda."""
    import yaml

    resources = yaml.safe_load((BUILD_DIR / "template.yaml").read_text())["Resources"]
    layer = BUILD_DIR / resources["SharedLayer"]["Properties"]["ContentUri"] / "python"
    built = built_function_code(BUILD_DIR / "template.yaml")
    if only is not None:
        if unknown := sorted(set(only) - set(built)):
            raise BenchError(f"not functions of the built template: {', '.join(unknown)}")
        built = {k: v for k, v in built.items() if k in only}
    with tempfile.TemporaryDirectory(prefix="wellapi-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(layer, root / "opt" / "python", symlinks=True)
        functions = {}
        for logical_id, (code_dir, handler) in built.items():
            target = root / "task" / logical_id
            shutil.copytree(code_dir, target, symlinks=True)
            functions[logical_id] = Function(logical_id, target, handler)
        (root / "runtime").mkdir()
        link_installed(root / "runtime", RUNTIME_PACKAGES + RUNTIME_CLIENT)
        # Read-only as in Lambda; TemporaryDirectory makes it writable again to remove it.
        for path in [*root.glob("opt/**"), *root.glob("task/**")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o222)
        yield Sandbox(root / "opt" / "python", root / "runtime", functions)
