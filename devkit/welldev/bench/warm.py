"""Phase ``warm``: warm latency through the handler, against the same SQL by hand."""

from __future__ import annotations

import cProfile
import functools
import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from welldev.bench.api_requests import Requests, WarmCase, warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.errors import BenchError
from welldev.bench.harness import interleaved, invoke, note
from welldev.bench.profiles import profile_lines
from welldev.bench.raw_client import Captured, RawClient, captured_sql, replaced, values_of
from welldev.bench.report import Report
from welldev.bench.split import PARTS


def _raw_call(
    raw: RawClient, case: WarmCase, sent: Captured, row_id: str | None
) -> Callable[[], Any]:
    # A fresh proof for each call's transaction, as the handler makes for each request.
    if not case.fresh_id or row_id is None:
        return lambda: raw.document(sent, case.skip)
    # The handler makes a new id per Create; the raw floor must insert a new row too.
    return lambda: raw.document(sent, case.skip, replaced(sent.statements, row_id, uuid4()))


# Each warm case's request as the handler sent it, and the id its Create made (or None).
Sent = dict[str, tuple[Captured, str | None]]


def measure_warm(
    report: Report, bench: BenchDatabase, config: Config
) -> tuple[list[WarmCase], Sent]:
    """Each warm case through the handler against its SQL by hand; the cases and their SQL."""
    requests = Requests.signed(bench)
    captured: Sent = {}
    cases = warm_cases(requests)
    # The floor runs the same SQL as a role row-level security does not apply to (the
    # administrator); the API role runs it too, so the policies' price shows on its own.
    raw = RawClient(bench.local.admin_url)
    raw_rls = RawClient(bench.api_url)
    # The API role's planner settings come from the server (revision 0013); the floor plans
    # with the same ones, so the two differ by the policies alone.
    raw.rows(f"SET random_page_cost = {raw_rls.rows('SHOW random_page_cost')[1][0][0]}")
    try:
        for case in cases:
            invoke(case.handler, case.event, case.status)  # connect, compile, cache
            sent = captured_sql(case.handler, case.event, case.status)
            row_id = _created_id(case, sent)
            captured[case.name] = (sent, row_id)
            handler_ms, raw_ms = interleaved(
                functools.partial(invoke, case.handler, case.event, case.status),
                _raw_call(raw, case, sent, row_id),
                config.warm_iterations,
                config.warmup,
            )
            rls_ms, plain_ms = interleaved(
                _raw_call(raw_rls, case, sent, row_id),
                _raw_call(raw, case, sent, row_id),
                config.warm_iterations,
                config.warmup,
            )
            h = report.figure(f"warm.{case.name}.handler", handler_ms, "ms")
            r = report.figure(f"warm.{case.name}.raw", raw_ms, "ms")
            with_rls = report.figure(f"warm.{case.name}.raw_rls", rls_ms, "ms")
            without = report.figure(f"warm.{case.name}.raw_no_rls", plain_ms, "ms")
            ratio = report.ratio(f"warm.{case.name}", h.median / r.median, 2.0)
            rls = report.ratio(f"warm.{case.name}.rls", with_rls.median / without.median, 1.2)
            note(
                f"{case.name}: handler {h.median:.2f} ms, raw {r.median:.2f} ms without "
                f"row-level security: {ratio.value:.2f}x; the policies cost {rls.value:.2f}x"
            )
    finally:
        raw.close()
        raw_rls.close()
        remove_created_rows(bench)
    return cases, captured


def _created_id(case: WarmCase, sent: Captured) -> str | None:
    if not case.fresh_id:
        return None
    # The one UUID bound to the script that is not in the request: the id the handler made.
    body = str(case.event.get("body") or "") + json.dumps(case.event["requestContext"])
    for value in map(str, values_of(sent.statements)):
        if len(value) == 36 and value.count("-") == 4 and value not in body:
            return value
    raise BenchError("could not find the created row's id in the Create's SQL")


def diagnose_warm(report: Report, cases: list[WarmCase], requests_count: int) -> None:
    """cProfile of the worst case's handler, and how much of a request is the database's
    (phase ``split``'s figures of the same case: the query call is the database and the
    driver's decoding of the rows)."""
    worst = max(cases, key=lambda c: report.ratios[f"warm.{c.name}"].value)
    split = {p: report.figures[f"split.{worst.name}.{p}"].median for p in ("total", *PARTS)}
    total, wire = split["total"], split["database"] + split["decoding"]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests_count):
        invoke(worst.handler, worst.event, worst.status)
    profiler.disable()
    report.details.setdefault("diagnostics", {})["warm"] = {
        "case": worst.name,
        "request_ms": round(total, 3),
        "query_call_ms": round(wire, 3),
        "handler_python_ms": round(total - wire, 3),
        "raw_median_ms": report.figures[f"warm.{worst.name}.raw"].median,
        "profile_top_by_own_time": profile_lines(profiler, "tottime", requests_count),
        "profile_top_by_cumulative_time": profile_lines(profiler, "cumulative", requests_count),
    }
