"""Phase ``cold``: the import alone of every function, against the third-party modules it loads."""

from __future__ import annotations

import heapq
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from welldev.bench.harness import note
from welldev.bench.report import Report
from welldev.bench.sandbox import Function, Sandbox


def run_cold(
    box: Sandbox,
    function: Function,
    modules: Sequence[str] = (),
    *,
    handler: bool = True,
    listing: bool = False,
    flags: Sequence[str] = (),
) -> dict[str, Any]:
    """A fresh interpreter importing ``modules``, then the handler (``Sandbox.run``'s result)."""
    args = {"modules": list(modules), "handler": function.handler if handler else None}
    return box.run(function, {**args, "list": listing}, flags=flags)


@dataclass(frozen=True)
class Loaded:
    """What importing a handler loaded that is not its own or wellapi's, in import order."""

    packages: tuple[str, ...]  # top-level third-party packages
    modules: tuple[str, ...]  # every third-party module
    total: int


def measure_cold(report: Report, box: Sandbox, runs: int) -> dict[str, Loaded]:
    """The import alone of every function against the third-party modules it loads.

    Reported, not a goal: the goal on cold start is phase ``first`` (import and first request
    against raw pg8000, ``welldev.bench.first_request``). This one shows what our own code costs
    to import beside the libraries it loads: its ratio was held to 1.15x while those libraries
    (SQLAlchemy, pydantic, a router) cost about 600 ms; without them the floor is about 116 ms,
    and the same bound would punish importing less.

    A first fresh interpreter imports the handler and lists what it loaded: its third-party
    modules are the floor. Then ``runs`` fresh interpreters import the floor's modules, whose
    times are the floor's, then the handler, which then costs only its own code; their times
    at the end are the handler's. Judged on CPU time (the child's own, from exec to imported):
    a cold start is one single-threaded, CPU-bound process, and on a shared machine its wall
    time mostly measures the other processes; wall times are reported beside it. The ratio is
    taken within each run, as two interpreters doing the same work differ by ±10-20 % of CPU
    time here.
    """
    loaded: dict[str, Loaded] = {}
    paired_ratios: dict[str, float] = {}
    wall_ratios: dict[str, float] = {}
    for index, function in enumerate(box.functions.values(), start=1):
        listed = run_cold(box, function, listing=True)["loaded"]
        own = function.handler.split(".")[0]
        # root: 0 the code directory, 1 the layer, 2 the runtime; None the standard library.
        floor = [
            n for n, root in listed if root is not None and n.split(".")[0] not in ("wellapi", own)
        ]
        packages = tuple(dict.fromkeys(n.split(".")[0] for n in floor))
        loaded[function.logical_id] = Loaded(packages, tuple(floor), len(listed))
        # Each run's times at the end and once the modules were imported: (CPU, wall) in ms.
        runs_times = [run_cold(box, function, floor) for _ in range(runs)]
        ends, floors = [r["answer"] for r in runs_times], [r["modules"] for r in runs_times]
        name = f"cold_start.{function.logical_id}"
        h = report.figure(name, [wall for _, wall in ends], "ms")
        f = report.figure(f"{name}.floor", [wall for _, wall in floors], "ms")
        hc = report.figure(f"{name}.cpu", [cpu for cpu, _ in ends], "ms cpu")
        fc = report.figure(f"{name}.floor.cpu", [cpu for cpu, _ in floors], "ms cpu")
        parts = [(end[0], part[0]) for end, part in zip(ends, floors, strict=True)]
        own_code = report.figure(f"{name}.own.cpu", [e - p for e, p in parts], "ms cpu")
        ratio = paired_ratios[function.logical_id] = statistics.median(e / p for e, p in parts)
        wall_ratios[function.logical_id] = round(h.median / f.median, 3)
        note(
            f"[{index}/{len(box.functions)}] {function.logical_id}: {hc.median:.0f} ms cpu "
            f"({h.median:.0f} wall), floor {fc.median:.0f} ms cpu ({f.median:.0f} wall, "
            f"{len(floor)} modules), own code {own_code.median:.0f} ms cpu: {ratio:.2f}x"
        )
    report.details["cold_start"] = {
        "paired_ratio": {k: round(v, 3) for k, v in paired_ratios.items()},
        "runs": runs,
        "method": (
            "`python -I -S -B` on a read-only copy of the build; the ratio is of CPU time, "
            "floor and handler paired in one interpreter, the floor's figures its first part "
            "(measure_cold)"
        ),
        "wall_ratio": wall_ratios,
        "floor": "every third-party module the handler loads (its top-level packages: below)",
        "third_party_packages": {k: list(v.packages) for k, v in loaded.items()},
        "third_party_modules": {k: len(v.modules) for k, v in loaded.items()},
        "modules_loaded": {k: v.total for k, v in loaded.items()},
    }
    return loaded


def importtime_breakdown(box: Sandbox, function: Function, top: int = 12) -> dict[str, Any]:
    """``-X importtime`` of one handler import, self time summed by top-level package."""
    stderr = run_cold(box, function, flags=("-X", "importtime"))["stderr"]
    by_package: Counter[str] = Counter()  # self time in µs
    modules: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = (
                part.strip() for part in line.removeprefix("import time:").split("|")
            )
            by_package[name.split(".")[0]] += int(self_us)
            modules.append((int(self_us) / 1000, name))
    return {
        "function": function.logical_id,
        "self_ms_by_package": {k: round(us / 1000, 1) for k, us in by_package.most_common(top)},
        "slowest_modules_ms": [[name, round(ms, 1)] for ms, name in heapq.nlargest(top, modules)],
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
    packages = loaded[logical_id].packages
    samples = [
        run_cold(box, function, packages, handler=False)["answer"][0] for _ in range(max(runs, 3))
    ]
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
