"""Phase ``cold``: the import alone of every function, against the third-party modules it loads."""

from __future__ import annotations

import heapq
import statistics
from collections import Counter, defaultdict
from typing import Any

from welldev.bench.harness import note
from welldev.bench.report import Report
from welldev.bench.sandbox import Function, Sandbox


def measure_cold(report: Report, box: Sandbox, runs: int) -> dict[str, tuple[str, ...]]:
    """The import alone of every function against the third-party modules it loads; the
    top-level packages of those modules, by function.

    Reported, not a goal (that is phase ``first``): a bound on this ratio would punish importing
    fewer libraries. A first interpreter lists what the handler loads; each of ``runs`` more
    imports those third-party modules (the floor's times), then the handler (its times). The
    ratio is of CPU time, taken within each run: on a shared machine wall time mostly measures
    the other processes, and two interpreters doing the same work differ by ±10-20 %.
    """
    packages: dict[str, tuple[str, ...]] = {}
    details: defaultdict[str, dict[str, float]] = defaultdict(dict)  # by function
    for index, function in enumerate(box.functions.values(), start=1):
        logical_id, own = function.logical_id, function.handler.split(".")[0]
        listed = box.run(function, {"handler": function.handler, "list": True})["loaded"]
        # root: the index of the path it came from; None the standard library.
        floor = [
            n for n, root in listed if root is not None and n.split(".")[0] not in ("wellapi", own)
        ]
        packages[logical_id] = tuple(dict.fromkeys(n.split(".")[0] for n in floor))
        details["third_party_modules"][logical_id] = len(floor)
        details["modules_loaded"][logical_id] = len(listed)
        paired = [
            box.run(function, {"modules": floor, "handler": function.handler}) for _ in range(runs)
        ]
        ends, floors = [r["answer"] for r in paired], [r["modules"] for r in paired]
        name = f"cold_start.{logical_id}"
        h = report.figure(name, [wall for _, wall in ends], "ms")
        f = report.figure(f"{name}.floor", [wall for _, wall in floors], "ms")
        hc = report.figure(f"{name}.cpu", [cpu for cpu, _ in ends], "ms cpu")
        fc = report.figure(f"{name}.floor.cpu", [cpu for cpu, _ in floors], "ms cpu")
        parts = [(end[0], part[0]) for end, part in zip(ends, floors, strict=True)]
        own_code = report.figure(f"{name}.own.cpu", [e - p for e, p in parts], "ms cpu")
        ratio = statistics.median(e / p for e, p in parts)
        details["paired_ratio"][logical_id] = round(ratio, 3)
        details["wall_ratio"][logical_id] = round(h.median / f.median, 3)
        note(
            f"[{index}/{len(box.functions)}] {logical_id}: {hc.median:.0f} ms cpu "
            f"({h.median:.0f} wall), floor {fc.median:.0f} ms cpu ({f.median:.0f} wall, "
            f"{len(floor)} modules), own code {own_code.median:.0f} ms cpu: {ratio:.2f}x"
        )
    report.details["cold_start"] = {
        "runs": runs,
        "method": (
            "`python -I -S -B` on a read-only copy of the build; the ratio is of CPU time, "
            "floor and handler paired in one interpreter, the floor's figures its first part "
            "(measure_cold)"
        ),
        "floor": "every third-party module the handler loads (its top-level packages: below)",
        "third_party_packages": {k: list(v) for k, v in packages.items()},
        **details,
    }
    return packages


def importtime_breakdown(box: Sandbox, function: Function, top: int = 12) -> dict[str, Any]:
    """``-X importtime`` of one handler import, self time summed by top-level package."""
    stderr = box.run(function, {"handler": function.handler}, flags=("-X", "importtime"))["stderr"]
    by_package: Counter[str] = Counter()  # self time in µs
    modules: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = line.removeprefix("import time:").split("|")
            by_package[name.strip().split(".")[0]] += int(self_us)
            modules.append((int(self_us) / 1000, name.strip()))
    return {
        "function": function.logical_id,
        "self_ms_by_package": {k: round(us / 1000, 1) for k, us in by_package.most_common(top)},
        "slowest_modules_ms": [[name, round(ms, 1)] for ms, name in heapq.nlargest(top, modules)],
        "note": "-X importtime inflates every import; compare shares, not absolute times",
    }


def diagnose_cold(
    report: Report, box: Sandbox, packages: dict[str, tuple[str, ...]], runs: int
) -> None:
    """Split the worst function's cold start: top-level packages -> its floor -> it.

    Importing only the floor's top-level packages shows what their submodules (the postgresql
    dialects, Powertools' event handler...) cost; above the floor is wellapi and the entry point.
    """
    paired = report.details["cold_start"]["paired_ratio"]
    logical_id = max(box.functions, key=lambda f: paired[f])
    function = box.functions[logical_id]
    top_level = {"modules": list(packages[logical_id])}
    samples = [box.run(function, top_level)["answer"][0] for _ in range(max(runs, 3))]
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
