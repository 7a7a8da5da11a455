"""Phase ``scale``: the sync-status query deep in 1,000,000 rows against the same in 10,000."""

from __future__ import annotations

import functools
from typing import Any

from wellapi.roles import API_ROLE
from wellapi.store.sql import BoundStatement
from welldev.bench.api_requests import Requests
from welldev.bench.config import PAGE_SIZE, Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.harness import alternating, handler_for, invoke, note
from welldev.bench.raw_client import Captured, RawClient, captured_sql, proven
from welldev.bench.report import Report
from welldev.function_roles import functions_connected_as


def _explain(bench: BenchDatabase, sent: Captured) -> list[str]:
    """EXPLAIN ANALYZE of the List's page, as the API role with the request's scope (a List's
    script is its scope, its total and its page)."""
    with RawClient(bench.api_url) as raw:
        _, rows = raw.proven_rows(sent, _explained(sent, "EXPLAIN (ANALYZE, BUFFERS) "))
    return [str(r[0]) for r in rows[1:]]


def _explained(sent: Captured, explain: str) -> tuple[BoundStatement, BoundStatement]:
    """The request's scope, then its last statement (a List's page) explained."""
    scope, *_, select = sent.statements
    return scope, BoundStatement(explain + select.text, select.values)


def _scale_samples(
    benches: dict[str, BenchDatabase], config: Config
) -> tuple[dict[str, list[float]], dict[str, Captured]]:
    """Milliseconds per request on each database, in five blocks each taking turns, and the
    SQL each request sent."""
    handler = handler_for("account_workspace_connectors", "list")
    events = {which: Requests.signed(bench).deep_list() for which, bench in benches.items()}
    sqls: dict[str, Captured] = {}
    for which, bench in benches.items():
        with functions_connected_as(bench.local, API_ROLE):
            invoke(handler, events[which], 200)  # connected: the SQL is a warm request's
            sqls[which] = captured_sql(handler, events[which], 200)
    samples = alternating(
        {which: bench.local for which, bench in benches.items()},
        lambda: {
            w: {"deep": functools.partial(invoke, handler, e, 200)} for w, e in events.items()
        },
        5,
        max(1, config.scale_iterations // 5),
        max(2, config.warmup // 5),
    )
    return {which: s["deep"] for which, s in samples.items()}, sqls


def measure_scale(
    report: Report, large: BenchDatabase, small: BenchDatabase, config: Config
) -> dict[str, Captured]:
    """The deep sync-status List through the handler on 1M rows against 10k; its plans."""
    benches = {"large": large, "small": small}
    samples, sqls = _scale_samples(benches, config)
    big = report.figure("scale.deep_cursor.large", samples["large"], "ms")
    little = report.figure("scale.deep_cursor.small", samples["small"], "ms")
    ratio = report.ratio("scale.deep_cursor", big.median / little.median, 1.5)
    report.details["scale"] = {
        which: {
            "ledger_rows": bench.sizes.ledger_rows,
            "window_rows": bench.dataset.window_rows,
            "rows_before_the_page": bench.dataset.cursor_depth,
            "pages_deep": bench.dataset.cursor_depth / PAGE_SIZE,
            "plan": _explain(bench, sqls[which]),
        }
        for which, bench in benches.items()
    }
    for which in benches:
        d = report.details["scale"][which]
        note(
            f"{which}: {d['ledger_rows']:,} rows, window {d['window_rows']:,}, cursor after "
            f"{d['rows_before_the_page']:,} rows (page {d['pages_deep'] + 1:g}): "
            f"{report.figures['scale.deep_cursor.' + which].median:.2f} ms"
        )
        for line in _plan_top(d["plan"]):
            note(f"  | {line}")
    note(f"large / small: {ratio.value:.2f}x")
    return sqls


def _plan_top(plan: list[str], lines: int = 14, width: int = 150) -> list[str]:
    """The plan's first lines, and how long it ran: enough to see the access path."""
    top = [line if len(line) <= width else line[: width - 3] + "..." for line in plan[:lines]]
    return top + [line for line in plan[lines:] if line.startswith("Execution Time")]


def _execution_ms(plan: list[str]) -> float | None:
    for line in plan:
        if line.startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return None


def diagnose_scale(
    report: Report, benches: dict[str, BenchDatabase], sqls: dict[str, Captured]
) -> None:
    """Is the growth in the API's own SELECT or in row-level security?

    The same statement with the same scope, run by the administrator (row-level security
    does not apply to a superuser), against the API role's plan: and which parts of the API
    role's plan read a whole table (a hashed SubPlan reads all of its rows once).
    """
    found: dict[str, Any] = {}
    for which, bench in benches.items():
        sent = sqls[which]
        with bench.admin() as conn:
            rows = proven(conn, sent, _explained(sent, "EXPLAIN (ANALYZE) "))
        api_plan = report.details["scale"][which]["plan"]
        found[which] = {
            "api_role_execution_ms": _execution_ms(api_plan),
            "without_row_level_security_execution_ms": _execution_ms([str(r[0]) for r in rows[1:]]),
            # A hashed SubPlan reads every row its subquery matches, once per execution.
            "hashed_subplans_in_the_api_plan": sum(
                line.count("hashed SubPlan") for line in api_plan
            ),
            "seq_scans_in_the_api_plan": [
                line.strip()[:160] for line in api_plan if "Seq Scan" in line
            ],
        }
    report.details.setdefault("diagnostics", {})["scale"] = found
