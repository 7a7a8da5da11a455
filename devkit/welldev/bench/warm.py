"""Phase ``warm``: warm latency through the handler, against the same SQL by hand, each call
taken apart as ``split`` says (the handler's parts are its figures)."""

from __future__ import annotations

import cProfile
import functools
from collections.abc import Callable
from typing import Any

from welldev.bench.api_requests import warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.harness import note, taking_turns
from welldev.bench.profiles import profile_lines
from welldev.bench.raw_client import RawClient
from welldev.bench.report import Report
from welldev.bench.split import PARTS, parts, report_split


def measure_warm(report: Report, bench: BenchDatabase, config: Config) -> None:
    """Each warm case through the handler against its SQL by hand, taking turns."""
    # The floor runs the same SQL as a role row-level security does not apply to (the
    # administrator); the API role runs it too, so the policies' price shows on its own.
    with RawClient(bench.local.admin_url) as raw, RawClient(bench.api_url) as raw_rls:
        # The API role's planner settings come from the server (its own random_page_cost);
        # the floor plans with the same ones, so the two differ by the policies alone.
        raw.run(f"SET random_page_cost = {raw_rls.run('SHOW random_page_cost')[0][0]}")
        for case in warm_cases(bench):
            calls: dict[str, Callable[[], Any]] = {
                "handler": case.call,
                "raw": functools.partial(case.replay, raw),
                "raw_rls": functools.partial(case.replay, raw_rls),
            }
            samples = taking_turns(calls, config.warm_iterations, config.warmup, parts)
            report_split(report, case.name, samples["handler"])
            ms = {way: [s["total"] for s in samples[way]] for way in calls}
            h, r, with_rls = (report.figure(f"warm.{case.name}.{w}", ms[w], "ms") for w in calls)
            report.figure(f"warm.{case.name}.raw_no_rls", ms["raw"], "ms")
            report.ratio(f"warm.{case.name}", h.median / r.median, 2.0)
            report.ratio(f"warm.{case.name}.rls", with_rls.median / r.median, 1.2)
            note(report.summary(f"warm.{case.name}"))


def diagnose_warm(report: Report, bench: BenchDatabase, config: Config) -> None:
    """cProfile of the worst case's handler, and how much of a request is the database's
    (its ``split`` figures: the query call is the database and the driver's decoding)."""
    worst = max(warm_cases(bench), key=lambda c: report.ratios[f"warm.{c.name}"].value)
    split = {p: report.figures[f"split.{worst.name}.{p}"].median for p in ("total", *PARTS)}
    total, wire = split["total"], split["database"] + split["decoding"]
    profiler, requests = cProfile.Profile(), config.profile_requests
    with profiler:
        for _ in range(requests):
            worst.call()
    report.details.setdefault("diagnostics", {})["warm"] = {
        "case": worst.name,
        "request_ms": round(total, 3),
        "query_call_ms": round(wire, 3),
        "handler_python_ms": round(total - wire, 3),
        "raw_median_ms": report.figures[f"warm.{worst.name}.raw"].median,
        "profile_top_by_own_time": profile_lines(profiler, "tottime", requests),
        "profile_top_by_cumulative_time": profile_lines(profiler, "cumulative", requests),
    }
