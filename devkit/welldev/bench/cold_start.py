"""Phase ``cold``: the import alone of every function, against the third-party modules it loads."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from welldev.bench.errors import BenchError
from welldev.bench.harness import note
from welldev.bench.report import Report
from welldev.bench.sandbox import Function, Sandbox

# Run by path by the Lambda-like interpreter (-I: its own directory is not on sys.path).
CHILD = Path(__file__).with_name("child_cold_import.py")


@dataclass(frozen=True)
class ColdRun:
    wall_ms: float  # from spawn to the "imported" line
    cpu_ms: float  # the child's own CPU time at that line: start-up and imports
    rest: str  # what it printed after that line
    errors: str
    # A paired run: the CPU time once the floor's modules were imported, before the handler.
    floor_cpu_ms: float | None = None


def run_cold(
    box: Sandbox,
    function: Function,
    target: str,
    *,
    listing: bool = False,
    flags: Sequence[str] = (),
) -> ColdRun:
    command = [
        sys.executable,
        "-I",
        "-S",
        "-B",
        *flags,
        str(CHILD),
        json.dumps(box.paths(function)),
        target,
        "list" if listing else "-",
    ]
    # stderr to a file: -X importtime writes more than a pipe holds before "imported" is read.
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our interpreter and script
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=box.environment(function),
            cwd=function.code_dir,
        )
        assert process.stdout is not None
        watchdog = threading.Timer(300, process.kill)
        watchdog.start()
        try:
            first = process.stdout.readline()
            wall = time.perf_counter() - started
            # Not communicate(): it reads the pipe's descriptor and would miss what readline()
            # already buffered (the listing often arrives with the first line).
            rest = process.stdout.read()
            process.wait()
        finally:
            watchdog.cancel()
        stderr.seek(0)
        errors = stderr.read()
    word, cpu, floor = [*first.split(), "", "", ""][:3]
    if word != "imported" or process.returncode != 0:
        raise BenchError(f"{function.logical_id}: import failed: {(errors or first)[-2000:]}")
    floor_ms = None if floor == "None" else float(floor) * 1000
    return ColdRun(wall * 1000, float(cpu) * 1000, rest, errors, floor_ms)


@dataclass(frozen=True)
class Loaded:
    """What importing a handler loaded that is not its own or wellapi's, in import order."""

    packages: tuple[str, ...]  # top-level third-party packages
    modules: tuple[str, ...]  # every third-party module
    total: int


def third_party(listing: str, function: Function) -> Loaded:
    own = function.handler.split(".")[0]
    packages: list[str] = []
    modules: list[str] = []
    entries = json.loads(listing)
    for name, root in entries:
        top = name.split(".")[0]
        # root: 0 the code directory, 1 the layer, 2 the runtime; None the standard library.
        if root is None or top in ("wellapi", own):
            continue
        modules.append(name)
        if top not in packages:
            packages.append(top)
    return Loaded(tuple(packages), tuple(modules), len(entries))


@dataclass(frozen=True)
class ColdRuns:
    handler: list[ColdRun]  # a fresh interpreter importing the handler
    floor: list[ColdRun]  # a fresh interpreter importing the third-party modules it loads
    paired: list[ColdRun]  # the floor's modules, then the handler, in one fresh interpreter
    loaded: Loaded


def _cold_runs(box: Sandbox, function: Function, runs: int) -> ColdRuns:
    """The handler, its floor, and the two paired in one process, in turn, ``runs`` times each.

    Taking turns keeps a slow patch of the machine (other processes) from landing on one side.
    The first handler run also lists what it loaded: its third-party modules are the floor.
    """
    target = f"handler:{function.handler}"
    first = run_cold(box, function, target, listing=True)
    loaded = third_party(first.rest, function)
    floor_target = json.dumps(list(loaded.modules))
    paired_target = f"paired:{floor_target}|{function.handler}"
    result = ColdRuns([first], [], [], loaded)
    for run in range(runs):
        result.floor.append(run_cold(box, function, floor_target))
        result.paired.append(run_cold(box, function, paired_target))
        if run + 1 < runs:
            result.handler.append(run_cold(box, function, target))
    return result


def measure_cold(report: Report, box: Sandbox, runs: int) -> dict[str, Loaded]:
    """The import alone of every function against the third-party modules it loads.

    Reported, not a goal: the goal on cold start is phase ``first`` (import and first request
    against raw pg8000, ``welldev.bench.first_request``). This one shows what our own code costs
    to import beside the libraries it loads: its ratio was held to 1.15x while those libraries
    (SQLAlchemy, pydantic, a router) cost about 600 ms; without them the floor is about 116 ms,
    and the same bound would punish importing less.

    Judged on CPU time (the child's own, from exec to imported): a cold start is one
    single-threaded, CPU-bound process, and on a shared machine its wall time mostly measures
    the other processes. Wall times are reported beside it. The ratio is taken within paired
    runs: one fresh interpreter imports the floor's modules, notes its CPU time, then imports
    the handler (which now costs only its own code); two separate interpreters doing the same
    work differ by ±10-20 % of CPU time here. The separate ratio is in ``separate_ratio``.
    """
    loaded: dict[str, Loaded] = {}
    wall_ratios: dict[str, float] = {}
    separate_ratios: dict[str, float] = {}
    paired_ratios: dict[str, float] = {}
    for index, function in enumerate(box.functions.values(), start=1):
        runs_of = _cold_runs(box, function, runs)
        loaded[function.logical_id] = runs_of.loaded
        name = f"cold_start.{function.logical_id}"
        h = report.figure(name, [r.wall_ms for r in runs_of.handler], "ms")
        f = report.figure(f"{name}.floor", [r.wall_ms for r in runs_of.floor], "ms")
        hc = report.figure(f"{name}.cpu", [r.cpu_ms for r in runs_of.handler], "ms cpu")
        fc = report.figure(f"{name}.floor.cpu", [r.cpu_ms for r in runs_of.floor], "ms cpu")
        pairs = [(r.cpu_ms, r.floor_cpu_ms) for r in runs_of.paired if r.floor_cpu_ms]
        own = report.figure(f"{name}.own.cpu", [t - f for t, f in pairs], "ms cpu")
        paired = paired_ratios[function.logical_id] = statistics.median(t / f for t, f in pairs)
        wall_ratios[function.logical_id] = round(h.median / f.median, 3)
        separate_ratios[function.logical_id] = round(hc.median / fc.median, 3)
        note(
            f"[{index}/{len(box.functions)}] {function.logical_id}: {hc.median:.0f} ms cpu "
            f"({h.median:.0f} wall), floor {fc.median:.0f} ms cpu ({f.median:.0f} wall, "
            f"{len(runs_of.loaded.modules)} modules), own code {own.median:.0f} ms cpu: "
            f"{paired:.2f}x"
        )
    report.details["cold_start"] = {
        "paired_ratio": {k: round(v, 3) for k, v in paired_ratios.items()},
        "runs": runs,
        "method": (
            "`python -I -S -B` on a read-only copy of the build; the ratio is of CPU time, "
            "floor and handler paired in one interpreter (measure_cold)"
        ),
        "separate_ratio": separate_ratios,
        "wall_ratio": wall_ratios,
        "floor": "every third-party module the handler loads (its top-level packages: below)",
        "third_party_packages": {k: list(v.packages) for k, v in loaded.items()},
        "third_party_modules": {k: len(v.modules) for k, v in loaded.items()},
        "modules_loaded": {k: v.total for k, v in loaded.items()},
    }
    return loaded


def importtime_breakdown(box: Sandbox, function: Function, top: int = 12) -> dict[str, Any]:
    """``-X importtime`` of one handler import, self time summed by top-level package."""
    errors = run_cold(box, function, f"handler:{function.handler}", flags=("-X", "importtime"))
    by_package: dict[str, float] = {}
    modules: list[tuple[float, str]] = []
    for line in errors.errors.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line.replace("import time:", "").split("|"))
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
        modules.append((int(self_us) / 1000, name))
    modules.sort(reverse=True)
    return {
        "function": function.logical_id,
        "self_ms_by_package": dict(
            sorted(((k, round(v, 1)) for k, v in by_package.items()), key=lambda kv: -kv[1])[:top]
        ),
        "slowest_modules_ms": [[name, round(ms, 1)] for ms, name in modules[:top]],
        "note": "-X importtime inflates every import; compare shares, not absolute times",
    }


def diagnose_cold(report: Report, box: Sandbox, loaded: dict[str, Loaded], runs: int) -> None:
    """Split the worst function's cold start: top-level packages -> its floor -> it.

    The floor imports every third-party module the handler loads; importing only their
    top-level packages shows what the submodules (the postgresql dialects, Powertools' event
    handler...) cost. What is left above the floor is wellapi's own code and the entry point.
    """
    paired = report.details["cold_start"]["paired_ratio"]
    logical_id = max(box.functions, key=lambda f: paired[f])
    function = box.functions[logical_id]
    packages = json.dumps(list(loaded[logical_id].packages))
    samples = [run_cold(box, function, packages).cpu_ms for _ in range(max(runs, 3))]
    name = f"cold_start.{logical_id}"
    top = report.figure(f"{name}.top_level_packages.cpu", samples, "ms cpu")
    h = report.figures[f"{name}.cpu"].median
    f = report.figures[f"{name}.floor.cpu"].median
    report.details.setdefault("diagnostics", {})["cold_start"] = {
        "function": logical_id,
        "top_level_third_party_packages_cpu_ms": round(top.median, 1),
        "floor_every_third_party_module_it_loads_cpu_ms": round(f, 1),
        "handler_cpu_ms": round(h, 1),
        "third_party_submodules_ms": round(f - top.median, 1),
        "wellapi_and_entry_point_ms": round(h - f, 1),
        "importtime": importtime_breakdown(box, function),
    }
