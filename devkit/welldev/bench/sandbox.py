"""The sam build, copied read-only and laid out the way Lambda mounts it."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from welldev.bench.config import BUILD_DIR, ROOT
from welldev.bench.errors import BenchError
from welldev.bench.harness import elapsed, link_installed, note
from welldev.console import step

# What the python3.13 Lambda runtime provides besides the standard library (as in
# tests/system/test_packaging.py): linked from the venv, never copied into an artifact.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
# Sources whose change makes the sam build stale (devkit/welldev is not shipped).
BUILD_SOURCES = ("template.yaml", "stacks", "functions", "layers/shared", "migrations")
# The programs run by path in the fresh interpreter (-I: their own directory is not on sys.path).
HANDLER_CHILD = Path(__file__).with_name("child_handler.py")
FLOOR_CHILD = Path(__file__).with_name("child_first_floor.py")


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str


@dataclass(frozen=True)
class Sandbox:
    """A read-only copy of the build, laid out the way Lambda mounts it."""

    layer: Path  # /opt/python
    runtime: Path  # the runtime's own packages (boto3...), linked from the venv
    functions: dict[str, Function]

    def paths(self, function: Function) -> list[str]:
        return [str(function.code_dir), str(self.layer), str(self.runtime)]

    def environment(self, function: Function) -> dict[str, str]:
        # -I ignores PYTHON* variables, so -B says the same as PYTHONDONTWRITEBYTECODE.
        return {
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "AWS_REGION": "eu-west-1",
            "PATH": "/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def run(
        self,
        function: Function,
        args: dict[str, Any],
        env: dict[str, str] | None = None,
        *,
        child: Path = HANDLER_CHILD,
        flags: Sequence[str] = (),
    ) -> dict[str, Any]:
        """``child`` on ``args`` in a fresh ``python -I -S -B`` in the function's code directory,
        its paths on ``sys.path`` unless ``args`` says otherwise: its result, with ``wall`` (ms
        from the spawn to its ``at``) and ``stderr``. The function's log (stdout) is dropped."""
        with tempfile.TemporaryDirectory(prefix="wellapi-child-") as tmp:
            out = Path(tmp) / "out.json"
            args = {"paths": self.paths(function), **args, "out": str(out)}
            started = time.perf_counter()
            run = subprocess.run(  # noqa: S603 - our interpreter and child program
                [sys.executable, "-I", "-S", "-B", *flags, str(child), json.dumps(args)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env={**self.environment(function), **(env or {})},
                cwd=function.code_dir,
                timeout=900,
                check=False,
            )
            if run.returncode != 0 or not out.is_file():
                who = f"{function.logical_id} ({child.name})"
                raise BenchError(f"{who} failed ({run.returncode}): {run.stderr[-2000:]}")
            result: dict[str, Any] = json.loads(out.read_text())
        return {**result, "wall": (result["at"] - started) * 1000, "stderr": run.stderr}


def _shipped_sources() -> Iterator[Path]:
    for source in BUILD_SOURCES:
        path = ROOT / source
        for f in [path] if path.is_file() else path.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and ".egg-info/" not in f.as_posix():
                yield f


def build_is_stale() -> bool:
    """Missing, or older than a source it is built from (the local runtime is not shipped)."""
    built = BUILD_DIR / "template.yaml"
    if not built.is_file():
        return True
    built_at = built.stat().st_mtime
    return any(f.stat().st_mtime > built_at for f in _shipped_sources())


def ensure_build(allowed: bool) -> None:
    if not build_is_stale():
        note("sam build is up to date")
        return
    if not allowed:
        if not (BUILD_DIR / "template.yaml").is_file():
            raise BenchError("no sam build in .aws-sam/build: run `make build` first")
        note("sam build is older than its sources; measuring it anyway (build disabled)")
        return
    step("the sam build is missing or stale: make build")
    started = time.perf_counter()
    # Its output goes to stderr with the progress: stdout is the table.
    subprocess.run(["make", "build"], cwd=ROOT, check=True, stdout=sys.stderr)  # noqa: S607
    note(f"built in {elapsed(started)}")


def built_function_code(template: Path) -> dict[str, tuple[Path, str]]:
    """Each function a built template deploys, its nested stacks' included: its built code
    directory and its handler, by logical id. sam build writes a nested stack's template in a
    folder of its own, its functions' code under it."""
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


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


@contextlib.contextmanager
def sandbox(only: Sequence[str] | None = None) -> Iterator[Sandbox]:
    """Copy the build to a temporary directory and make the code read-only, as in Lambda."""
    import yaml

    resources = yaml.safe_load((BUILD_DIR / "template.yaml").read_text())["Resources"]
    layer = BUILD_DIR / resources["SharedLayer"]["Properties"]["ContentUri"] / "python"
    built = built_function_code(BUILD_DIR / "template.yaml")
    if only is not None:
        unknown = sorted(set(only) - set(built))
        if unknown:
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
        link_installed(root / "runtime", RUNTIME_PACKAGES)
        for part in ("opt", "task"):
            _set_writable(root / part, False)
        try:
            yield Sandbox(root / "opt" / "python", root / "runtime", functions)
        finally:
            for part in ("opt", "task"):
                _set_writable(root / part, True)
