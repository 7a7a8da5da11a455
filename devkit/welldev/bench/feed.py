"""Phase ``feed``: the changes feed's page at 10,000,000 change records against 10,000 (#33),
two workspaces alike but for their records taking turns (``FEED_GOAL``); every statement of the
feed and of retention explained at the big size (retention's step rolled back).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pg8000.native

from wellapi.roles import API_ROLE
from wellapi.store.sql import BoundStatement
from welldev import database
from welldev.bench import large_tenant
from welldev.bench.config import Config
from welldev.bench.databases import RECORDS_PER_RUN, behind_horizon, explain, feed_seed, one
from welldev.bench.errors import BenchError
from welldev.bench.harness import api_event, handler_for, invoke, note, taking_turns
from welldev.bench.report import Report
from welldev.claims import claims
from welldev.function_roles import functions_connected_as

FEED_GOAL = 1.5
# The feed's filters, each with the cursor 90% deep (the sync run: its own first page).
CASES: dict[str, str] = {
    "first_page": "",
    "deep": "{cursor}",
    "deep.resource_type": "filter[resource_type]=workspace_provider&{cursor}",
    "deep.change": "filter[change]=unlinked,removed&{cursor}",
    "deep.resource_type_and_change": (
        "filter[resource_type]=account_workspace_connector&filter[change]=linked&{cursor}"
    ),
    "sync_run": "filter[sync_run_id]={run}",
}


def _deep(conn: pg8000.native.Connection, workspace_pk: int) -> tuple[int, int]:
    """The place (xid, pk) of the record 90% of the way into the workspace's records."""
    xid, pk = one(
        conn,
        "SELECT xid::text, pk FROM core_api.change_records WHERE workspace_pk = :w AND pk >= "
        "(SELECT min(pk) + (max(pk) - min(pk)) * 9 / 10 FROM core_api.change_records "
        "WHERE workspace_pk = :w) ORDER BY pk LIMIT 1",
        w=workspace_pk,
    )
    return int(xid), int(pk)


def _call(who: dict[str, str], query: str) -> Callable[[], Any]:
    handler = handler_for("changes", "feed")
    event = api_event("GET", "/v1/changes", route="/v1/changes", claims=who, query=query)

    def call() -> Any:
        body = json.loads(invoke(handler, event, 200)["body"])
        if not body["data"]:
            raise BenchError(f"the feed's page is empty: GET /v1/changes?{query}")
        return body

    return call


_EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")
_BUFFERS = re.compile(r"Buffers: shared hit=([0-9]+)(?: read=([0-9]+))?")


def _explain(conn: pg8000.native.Connection, statement: BoundStatement) -> dict[str, Any]:
    """The plan's execution time and buffers, and the plan."""
    plan = explain(conn, statement)
    executed = _EXECUTION.search("\n".join(plan))
    buffers = _BUFFERS.search("\n".join(plan))
    return {
        "execution_ms": float(executed.group(1)) if executed else None,
        "buffers": int(buffers.group(1)) + int(buffers.group(2) or 0) if buffers else None,
        "plan": plan,
    }


def _explain_all(
    conn: pg8000.native.Connection, workspace_pk: int, deep: tuple[int, int], run: str
) -> dict[str, Any]:
    from wellapi.resources import CHANGE_PAIRS
    from wellapi.store.feed import expired_statement, page_statement
    from wellapi.sync.retention import prune_statement

    provider_pairs = tuple(p for p in CHANGE_PAIRS if p[0] == "workspace_provider")
    statements = {
        "page.deep": page_statement(after=deep, limit=21),
        "page.deep.resource_type": page_statement(after=deep, limit=21, pairs=provider_pairs),
        "page.sync_run": page_statement(after=None, limit=21, sync_run_id=run),
        "expired": expired_statement(deep),
        "prune_step": prune_statement(),  # last: it deletes (rolled back)
    }
    conn.run("BEGIN")
    try:
        conn.run("SELECT set_config('well.workspace_pk', :w, true)", w=str(workspace_pk))
        return {name: _explain(conn, sql) for name, sql in statements.items()}
    finally:
        conn.run("ROLLBACK")


def measure_feed(report: Report, server: database.LocalDatabase, config: Config) -> None:
    from wellapi.jsonapi.cursor import ChangePlace

    records = {"big": config.feed_records, "small": config.feed_small_records}
    local = feed_seed(server, f"{config.database_prefix}_feed", records["big"], records["small"])
    with database.admin_connection(local.admin_url) as conn:
        tenants = {n: large_tenant.tenant(conn, n) for n in records}
        seeded = ", ".join(str(t.workspace_pk) for t in tenants.values())
        behind_horizon(conn, f"workspace_pk IN ({seeded})", "the feed's pages would be empty")
        owners = {
            n: claims(conn, t.person_id, t.workspace_id, "member") for n, t in tenants.items()
        }
        deep = {n: _deep(conn, t.workspace_pk) for n, t in tenants.items()}
        # A sync run in the middle of each workspace's records.
        runs = {n: f"run-{count // RECORDS_PER_RUN // 2}" for n, count in records.items()}
        plans = _explain_all(conn, tenants["big"].workspace_pk, deep["big"], runs["big"])
    cursors = {n: "cursor=" + ChangePlace(*place).encode() for n, place in deep.items()}
    note(f"feed at {config.feed_records:,} records against {config.feed_small_records:,}:")
    with functions_connected_as(local, API_ROLE):
        for case, template in CASES.items():
            queries = {n: template.format(cursor=cursors[n], run=runs[n]) for n in records}
            calls = {n: _call(owners[n], query.strip("&")) for n, query in queries.items()}
            ms = taking_turns(calls, config.feed_iterations, config.warmup)
            b = report.figure(f"feed.{case}.big", ms["big"], "ms")
            s = report.figure(f"feed.{case}.small", ms["small"], "ms")
            ratio = report.ratio(f"feed.{case}", b.median / s.median, FEED_GOAL)
            note(f"  {case} {b.median:.2f} / {s.median:.2f} ms = {ratio.value:.2f}x")
    report.details["feed"] = {
        "records": records,
        "explain": {k: {m: v[m] for m in ("execution_ms", "buffers")} for k, v in plans.items()},
        "plans": {k: v["plan"] for k, v in plans.items()},
    }
    for key, value in plans.items():
        note(f"  EXPLAIN {key}: {value['execution_ms']} ms, {value['buffers']} buffers")
