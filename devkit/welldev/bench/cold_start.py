"""Phase ``cold``: the import alone of every function, against the third-party modules it loads."""

from __future__ import annotations

import statistics
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
    """A fresh interpreter importing ``modules``, then the handler: its CPU and wall times in
    ms, at the end and once the modules were imported."""
    args = {
        "modules": list(modules),
        "handler": function.handler if handler else None,
        "list": listing,
    }
    r = box.run(function, args, flags=flags)
    modules_wall = r["wall"] - (r["at"] - r["modules_at"]) * 1000
    return {
        **r,
        "cpu": r["cpu"] * 1000,
        "modules": r["modules"] * 1000,
        "modules_wall": modules_wall,
    }


@dataclass(frozen=True)
class Loaded:
    """What importing a handler loaded that is not its own or wellapi's, in import order."""

    packages: tuple[str, ...]  # top-level third-party packages
    modules: tuple[str, ...]  # every third-party module
    total: int


def third_party(entries: list[tuple[str, int | None]], function: Function) -> Loaded:
    own = function.handler.split(".")[0]
    packages: list[str] = []
    modules: list[str] = []
    for name, root in entries:
        top = name.split(".")[0]
        # root: 0 the code directory, 1 the layer, 2 the runtime; None the standard library.
        if root is None or top in ("wellapi", own):
            continue
        modules.append(name)
        if top not in packages:
            packages.append(top)
    return Loaded(tuple(packages), tuple(modules), len(entries))


def measure_cold(report: Report, box: Sandbox, runs: int) -> dict[str, Loaded]:
    """The import alone of every function against the third-party modules it loads.

    Reported, not a goal: the goal on cold start is phase ``first`` (import and first request
    against raw pg8000, ``welldev.bench.first_request``). This one shows what our own code costs
    to import beside the libraries it loads: its ratio was held to 1.15x while those libraries
    (SQLAlchemy, pydantic, a router) cost about 600 ms; without them the floor is about 116 ms,
    and the same bound would punish importing less.

    Two fresh interpreters take turns, ``runs`` times each (a slow patch of the machine then
    lands on no one side): the handler (the first run also lists what it loaded: its
    third-party modules are the floor), and the two paired: the floor's modules, whose times
    are the floor's, then the handler, which then costs only its own code. Judged on CPU time
    (the child's own, from exec to imported): a cold start is one single-threaded, CPU-bound
    process, and on a shared machine its wall time mostly measures the other processes; wall
    times are reported beside it. The ratio is taken within paired runs, as two interpreters
    doing the same work differ by ±10-20 % of CPU time here; the separate one is in
    ``separate_ratio``.
    """
    loaded: dict[str, Loaded] = {}
    wall_ratios: dict[str, float] = {}
    separate_ratios: dict[str, float] = {}
    paired_ratios: dict[str, float] = {}
    for index, function in enumerate(box.functions.values(), start=1):
        first = run_cold(box, function, listing=True)
        loaded[function.logical_id] = imports = third_party(first["loaded"], function)
        handler, paired = [first], []
        for run in range(runs):
            paired.append(run_cold(box, function, imports.modules))
            if run + 1 < runs:
                handler.append(run_cold(box, function))
        name = f"cold_start.{function.logical_id}"
        h = report.figure(name, [r["wall"] for r in handler], "ms")
        f = report.figure(f"{name}.floor", [r["modules_wall"] for r in paired], "ms")
        hc = report.figure(f"{name}.cpu", [r["cpu"] for r in handler], "ms cpu")
        fc = report.figure(f"{name}.floor.cpu", [r["modules"] for r in paired], "ms cpu")
        own = report.figure(f"{name}.own.cpu", [r["cpu"] - r["modules"] for r in paired], "ms cpu")
        ratio = statistics.median(r["cpu"] / r["modules"] for r in paired)
        paired_ratios[function.logical_id] = ratio
        wall_ratios[function.logical_id] = round(h.median / f.median, 3)
        separate_ratios[function.logical_id] = round(hc.median / fc.median, 3)
        note(
            f"[{index}/{len(box.functions)}] {function.logical_id}: {hc.median:.0f} ms cpu "
            f"({h.median:.0f} wall), floor {fc.median:.0f} ms cpu ({f.median:.0f} wall, "
            f"{len(imports.modules)} modules), own code {own.median:.0f} ms cpu: {ratio:.2f}x"
        )
    report.details["cold_start"] = {
        "paired_ratio": {k: round(v, 3) for k, v in paired_ratios.items()},
        "runs": runs,
        "method": (
            "`python -I -S -B` on a read-only copy of the build; the ratio is of CPU time, "
            "floor and handler paired in one interpreter, the floor's figures its first part "
            "(measure_cold)"
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
    stderr = run_cold(box, function, flags=("-X", "importtime"))["stderr"]
    by_package: dict[str, float] = {}
    modules: list[tuple[float, str]] = []
    for line in stderr.splitlines():
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
    packages = loaded[logical_id].packages
    samples = [run_cold(box, function, packages, handler=False)["cpu"] for _ in range(max(runs, 3))]
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
