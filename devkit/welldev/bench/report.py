"""The report of a bench run: figures, goals held as ratios, details; and its printed table.

Statistics, results and the machine's description are pyperf's: every figure in a unit pyperf
knows (time, bytes, counts; all values above 0) is also a pyperf benchmark of one run, and
``write`` dumps them to pyperf's JSON beside the goals file, with pyperf's metadata of the
machine and interpreter, so ``python -m pyperf stats`` and ``python -m pyperf compare_to
OLD.json NEW.json`` read a bench run like any other. What pyperf has no notion of stays here:
goals as ratios of two figures measured side by side, and the details.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf

from welldev.bench.errors import BenchError

# Our units as pyperf's, and the factor from one to the other (rows/s has none in pyperf).
PYPERF_UNITS = {
    "ms": ("second", 1e-3),
    "ms cpu": ("second", 1e-3),
    "s": ("second", 1.0),
    "MB": ("byte", 1024 * 1024),
    "round trips": ("integer", 1),
    "statements": ("integer", 1),
    "transactions": ("integer", 1),
}


def _git(*args: str) -> str:
    try:
        run = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, like make does
            cwd=Path(__file__).parent,  # git finds the checkout from inside it
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return ""
    return run.stdout.strip()


def machine_info() -> dict[str, Any]:
    """pyperf's metadata of this machine and interpreter, and what it does not know: the
    commit measured and the memory the server has."""
    # A Run collects pyperf's metadata when it is made; its one value is never reported.
    metadata: dict[str, Any] = dict(pyperf.Run([1.0]).get_metadata())
    metadata.pop("mem_max_rss", None)  # this process's, not the machine's
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        **metadata,
        "memory_gb": round(pages * page_size / 1024**3, 1),
        "git_commit": _git("rev-parse", "HEAD"),
        # The bench measures the working tree, which may hold uncommitted changes.
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average_at_start": list(os.getloadavg()),
    }


@dataclass(frozen=True)
class Stats:
    median: float
    min: float
    max: float
    unit: str
    n: int

    @classmethod
    def of(cls, samples: Sequence[float], unit: str) -> Stats:
        if not samples:
            raise BenchError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), unit, len(samples))

    def as_json(self) -> dict[str, Any]:
        return {k: _round(v) if k in ("median", "min", "max") else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class Ratio:
    value: float
    goal: float
    # Throughput is better high; time, memory and counts are better low.
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def as_json(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "goal": _round(self.goal),
            "met": self.met,
            "compare": ">=" if self.higher_is_better else "<=",
        }


def _round(value: float) -> float:
    return float(f"{value:.4g}")


@dataclass
class Report:
    machine: dict[str, Any]
    figures: dict[str, Stats] = field(default_factory=dict)
    ratios: dict[str, Ratio] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    benchmarks: list[pyperf.Benchmark] = field(default_factory=list)

    def figure(self, name: str, samples: Sequence[float], unit: str) -> Stats:
        self.figures[name] = Stats.of(samples, unit)
        pyperf_unit, factor = PYPERF_UNITS.get(unit, ("", 0))
        if pyperf_unit and all(value > 0 for value in samples):
            metadata = {"name": name, "unit": pyperf_unit}
            values = [value * factor for value in samples]
            run = pyperf.Run(values, metadata=metadata, collect_metadata=False)
            self.benchmarks.append(pyperf.Benchmark([run]))
        return self.figures[name]

    def ratio(
        self, name: str, value: float, goal: float, *, higher_is_better: bool = False
    ) -> Ratio:
        self.ratios[name] = Ratio(value, goal, higher_is_better)
        return self.ratios[name]

    def missed(self, prefix: str) -> list[str]:
        return [n for n, r in self.ratios.items() if n.startswith(prefix) and not r.met]

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "figures": {n: s.as_json() for n, s in self.figures.items()},
            "ratios": {n: r.as_json() for n, r in self.ratios.items()},
            "details": self.details,
        }

    def write(self, output: Path) -> Path:
        """The goals file at ``output``, pyperf's JSON beside it (``<stem>-pyperf.json``)."""
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(self.as_json(), indent=2) + "\n")
        results = output.with_name(f"{output.stem}-pyperf.json")
        if self.benchmarks:
            # The machine on every run, which pyperf shows once as the suite's metadata.
            machine = {
                k: str(v) if isinstance(v, bool | list) else v for k, v in self.machine.items()
            }
            for benchmark in self.benchmarks:
                benchmark.update_metadata(machine)
            pyperf.BenchmarkSuite(self.benchmarks).dump(str(results), replace=True)
        return results


def table(report: Report) -> str:
    """Cold starts one line per function, then every other figure, then every goal."""
    cold = [n for n in report.figures if n.startswith("cold_start.") and n.count(".") == 1]
    lines = [
        f"{'cold start, import only (ms; CPU time)':<50} {'cpu':>7} {'floor':>7} {'ratio':>6}"
        f" {'wall':>7} {'floor':>7}"
    ]
    paired = report.details.get("cold_start", {}).get("paired_ratio", {})
    for name in cold:
        f = report.figures
        function_id = name.removeprefix("cold_start.")
        lines.append(
            f"{function_id:<50} {f[name + '.cpu'].median:>7.0f}"
            f" {f[name + '.floor.cpu'].median:>7.0f} {paired[function_id]:>6.2f}"
            f" {f[name].median:>7.0f} {f[name + '.floor'].median:>7.0f}"
        )
    shown = {f"{n}{suffix}" for n in cold for suffix in ("", ".floor", ".cpu", ".floor.cpu")}
    first, first_shown = _first_request_lines(report)
    lines += ["", *first] if first else []
    shown |= first_shown
    lines += ["", f"{'figure':<76} {'median':>10} {'min':>10} {'max':>10}  unit"]
    for name, s in report.figures.items():
        if name not in shown:
            lines.append(f"{name:<76} {s.median:>10.4g} {s.min:>10.4g} {s.max:>10.4g}  {s.unit}")
    lines += ["", f"{'goal':<76} {'value':>10} {'goal':>10}  met"]
    for name, r in report.ratios.items():
        compare = ">=" if r.higher_is_better else "<="
        mark = "yes" if r.met else "NO"
        lines.append(f"{name:<76} {r.value:>10.4g} {compare}{r.goal:>8.4g}  {mark}")
    missed = [n for n, r in report.ratios.items() if not r.met]
    lines += ["", f"{len(report.ratios) - len(missed)} of {len(report.ratios)} goals met"]
    return "\n".join(lines)


def diagnostics_text(report: Report) -> str:
    """The diagnostics as the JSON holds them, indented for reading."""
    diagnostics = report.details.get("diagnostics")
    return json.dumps(diagnostics, indent=2, ensure_ascii=False) if diagnostics else ""


def _first_request_lines(report: Report) -> tuple[list[str], set[str]]:
    """The section of the printed table, and the figures it shows."""
    f, prefix = report.figures, "first_request."
    ids = [
        n.removeprefix(prefix).removesuffix(".cpu")
        for n in f
        if n.startswith(prefix) and n.endswith(".cpu") and n.count(".") == 2
    ]
    if not ids:
        return [], set()
    lines = [
        f"{'first request (ms; goal: cpu <= 3x floor)':<44} {'cpu':>6} {'floor':>6} {'ratio':>6}"
        f" {'import':>6} {'wall':>6} {'fl.wall':>7} {'rt init':>7} {'rt inv':>6}"
    ]
    shown: set[str] = set()

    def median(name: str) -> str:
        shown.add(name)
        return f"{f[name].median:.0f}" if name in f else "-"

    for i in ids:
        name = prefix + i
        shown.add(f"runtime.{i}.handler_init")  # in the JSON: part of rt init
        lines.append(
            f"{i:<44} {median(name + '.cpu'):>6} {median(name + '.floor.cpu'):>6}"
            f" {report.ratios[name].value:>6.2f} {median(name + '.import.cpu'):>6}"
            f" {median(name + '.wall'):>6} {median(name + '.floor.wall'):>7}"
            f" {median(f'runtime.{i}.init'):>7} {median(f'runtime.{i}.first_invoke'):>6}"
        )
    worst = report.details.get("first_request", {}).get("worst", "")
    for label in ("worst", "authorizer", "sync"):
        ratio = report.ratios.get(prefix + label)
        if ratio is not None:
            what = f"{label} ({worst})" if label == "worst" else label
            lines.append(f"{what:<58} {ratio.value:>6.2f}")
    return lines, shown
