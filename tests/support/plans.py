"""A statement's plan as the API role runs it in a scope, and the rows it read, for the tests that
hold a read to rows bounded by its page (``test_read_plans``, ``test_feed_plans``,
``test_read_revoked_connectors``)."""

from __future__ import annotations

import json
from typing import Any

import pg8000.native

from tests.support.proven import SignedScope
from wellapi.store.connections import send
from wellapi.store.sql import BoundStatement
from welldev.bench.raw_client import prepared

# The name a generic plan's statement is prepared under for the length of one explain.
GENERIC = "plan_check"


def explain(
    conn: pg8000.native.Connection,
    scope: SignedScope,
    sql: BoundStatement,
    form: str = "JSON",
    plan: str = "custom",
) -> Any:
    """The plan of ``sql`` run with its bound values in ``scope``, analysed: planned for those
    values (``custom``), or the generic plan a named statement keeps (``generic``), made
    without any tenant's values and then used for every tenant's (the API role's
    ``plan_cache_mode``)."""
    analyze = BoundStatement(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT {form}) {sql.text}", sql.values)
    try:
        assert scope.open(conn)[0] is not None
        if plan == "generic":
            # Whatever the role's own setting: the plan every request gets once it is kept.
            conn.run("SET LOCAL plan_cache_mode = force_generic_plan")
            execute = prepared(conn, GENERIC, sql)
            analyze = BoundStatement(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT {form}) {execute.text}")
        rows = send(conn, [analyze])
    finally:
        conn.run("ROLLBACK")
        if plan == "generic":
            conn.run(f"DEALLOCATE {GENERIC}")
    if form == "TEXT":
        return "\n".join(r[0] for r in rows)
    raw = rows[0][0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def rows_read(node: dict[str, Any]) -> dict[str, float]:
    """Per table, the rows every scan node of ``node`` returned or filtered away, times its
    loops."""
    read: dict[str, float] = {}
    if "Relation Name" in node:
        seen = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        seen += node.get("Rows Removed by Index Recheck", 0)
        read[node["Relation Name"]] = seen * node.get("Actual Loops", 1)
    for child in node.get("Plans", []):
        for table, rows in rows_read(child).items():
            read[table] = read.get(table, 0) + rows
    return read
