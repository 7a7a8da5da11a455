"""A statement's plan as the API role runs it in a scope, and the rows it read, for the tests that
hold a read to rows bounded by its page (``test_read_plans``, ``test_feed_plans``,
``test_read_revoked_connectors``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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


# A ledger's period, its partition (``<ledger>_p<first day>``): counted as its ledger.
PERIOD = re.compile(r"_p\d{8}$")


def ledger_indexes(conn: pg8000.native.Connection) -> dict[str, str]:
    """Each index of a ledger's period (PostgreSQL names them), by the ledger's index it is of:
    what a plan's ``Index Name`` is, then what the migrations named."""
    rows = conn.run(
        "SELECT c.relname, p.relname FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relkind = 'I' AND p.relnamespace = CAST('core_api' AS regnamespace)"
    )
    return {str(child): str(parent) for child, parent in rows}


def scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of ``node`` that reads a table (or a ledger's period), ``node`` included."""
    if "Relation Name" in node:
        yield node
    for child in node.get("Plans", []):
        yield from scans(child)


def of_table(scan: dict[str, Any]) -> str:
    """The table a scan node reads: a ledger's name for any of its periods."""
    return PERIOD.sub("", scan["Relation Name"])


def rows_read(node: dict[str, Any]) -> dict[str, float]:
    """Per table (a ledger's periods together), the rows every scan node of ``node`` returned
    or filtered away, times its loops."""
    read: dict[str, float] = {}
    if "Relation Name" in node:
        seen = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        seen += node.get("Rows Removed by Index Recheck", 0)
        read[of_table(node)] = seen * node.get("Actual Loops", 1)
    for child in node.get("Plans", []):
        for table, rows in rows_read(child).items():
            read[table] = read.get(table, 0) + rows
    return read
