"""The report of a bench run: figures, goals held as ratios, details; and its printed table.

Every figure in a unit pyperf knows (time, bytes, counts; all values above 0) is also a pyperf
benchmark of one run, written to pyperf's JSON beside the goals file with pyperf's metadata of
the machine, for ``python -m pyperf stats`` and ``compare_to``. Goals, ratios of two figures
measured side by side, and the details are the bench's own.
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

    @property
    def compare(self) -> str:
        return ">=" if self.higher_is_better else "<="

    def as_json(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "goal": _round(self.goal),
            "met": self.met,
            "compare": self.compare,
        }


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def _under[T](prefix: str, named: dict[str, T]) -> dict[str, T]:
    """``named`` of ``prefix`` and under it, by the rest of their names."""
    return {n[len(prefix) + 1 :]: v for n, v in named.items() if f"{n}.".startswith(f"{prefix}.")}


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

    def summary(self, prefix: str) -> str:
        """The goals and the figures' medians named ``prefix`` or ``prefix.*``: a phase's note."""
        goals = [
            f"{name or 'goal'} {r.value:.3g} ({r.compare} {r.goal:g})"
            for name, r in _under(prefix, self.ratios).items()
        ]
        figures = [
            f"{name} {s.median:.4g} {s.unit}" for name, s in _under(prefix, self.figures).items()
        ]
        return f"{prefix}: " + ", ".join(goals + figures)

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "figures": {n: s.as_json() for n, s in self.figures.items()},
            "ratios": {n: r.as_json() for n, r in self.ratios.items()},
            "details": self.details,
        }

    def write(self, output: Path) -> None:
        """The goals file at ``output``, pyperf's JSON beside it (``<stem>-pyperf.json``)."""
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(self.as_json(), indent=2) + "\n")
        if self.benchmarks:
            # The machine on every run, which pyperf shows once as the suite's metadata.
            machine = {
                k: str(v) if isinstance(v, bool | list) else v for k, v in self.machine.items()
            }
            for benchmark in self.benchmarks:
                benchmark.update_metadata(machine)
            results = output.with_name(f"{output.stem}-pyperf.json")
            pyperf.BenchmarkSuite(self.benchmarks).dump(str(results), replace=True)


def table(report: Report) -> str:
    """Every goal, and the figures pyperf does not hold: ``python -m pyperf show`` prints the
    others from the pyperf JSON, with their statistics."""
    in_pyperf = {benchmark.get_name() for benchmark in report.benchmarks}
    lines = [
        f"{'figure (the others: pyperf show)':<76} {'median':>10} {'min':>10} {'max':>10}  unit"
    ]
    for name, s in report.figures.items():
        if name not in in_pyperf:
            lines.append(f"{name:<76} {s.median:>10.4g} {s.min:>10.4g} {s.max:>10.4g}  {s.unit}")
    lines += ["", f"{'goal':<76} {'value':>10} {'goal':>10}  met"]
    for name, r in report.ratios.items():
        mark = "yes" if r.met else "NO"
        lines.append(f"{name:<76} {r.value:>10.4g} {r.compare}{r.goal:>8.4g}  {mark}")
    met = len(report.ratios) - len(report.missed(""))
    lines += ["", f"{met} of {len(report.ratios)} goals met"]
    return "\n".join(lines)


def diagnostics_text(report: Report) -> str:
    """The diagnostics as the JSON holds them, indented for reading."""
    diagnostics = report.details.get("diagnostics")
    return json.dumps(diagnostics, indent=2, ensure_ascii=False) if diagnostics else ""
