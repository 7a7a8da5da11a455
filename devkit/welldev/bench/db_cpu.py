"""Phase ``db_cpu``: the database's CPU per request, against the floor any server must pay.

The database is the tier that does not scale out, so a request's price is counted where it is
scarce: the CPU of the backend that served it (its process's time on a CPU, from ``/proc``),
not its latency. Each case's handler serves requests on its warm environment's one
connection; beside it, in turns, the floor: the plainest statements that read or write the
same rows through the same indexes, prepared once and run by bare pg8000 as the administrator
(no row-level security, no proof, no scope, no JSON built in SQL), as a competent plain server
would send them. The goal is ``db_cpu.<case>`` <= 1.2x; the figures also give each request's
capacity (requests a database core serves at saturation) and each side's own CPU. The two
Python peers (``welldev.bench.peers``) take the same turns on connections of their own:
``db_cpu.<case>.peers`` is the API's database CPU over the more frugal peer's (goal <= 1).
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from wellapi.store import connections as wellapi_db
from wellapi.store.sql import MAX_NAMES, BoundStatement, Prepared
from welldev.bench.api_requests import Case, Requests, warm_cases
from welldev.bench.config import PAGE_SIZE, Config
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.harness import (
    CONTEXT,
    backend_cpu,
    backend_cpu_ms,
    collected_first,
    handler_for,
    invoke,
    last_backend,
    note,
    own_garbage,
    returned,
    taking_turns,
)
from welldev.bench.peers import PEERS, backend_pid, same_answer, serving
from welldev.bench.raw_client import (
    Captured,
    RawClient,
    Statements,
    captured_sql,
    in_two_messages,
    prepared,
    proven,
)
from welldev.bench.report import Report

GOAL = 1.2
# The API's database CPU a request against the more frugal peer's.
PEER_GOAL = 1.0
# The API function's own CPU a request against the more frugal peer's: issue #50 lets it grow
# (the documents are the function's), to half the peer's at most.
OWN_GOAL = 0.5
# How a write's statements end where they are measured again and again, as they are.
ROLLBACK = BoundStatement("ROLLBACK")
# A Retrieve on a connection holding as many names as it keeps, against one holding its own.
NAMES_GOAL = 1.1
# A request in one message against the same in the previous release's two (revision 0030).
MESSAGES_GOAL = 1.05
# The requests measured, by their warm case's name; the floor answers the same.
CASES = ("retrieve", "list_default", "list", "create")
BIG_PAGE = 100
# A List's total is counted up to here, as the API counts it (meta.page.total's bound).
COUNT_BOUND = 1001

# A page of the member's company ledger in the default order, walked per connector and
# direction through the partial indexes the API's walk reads (revision 0008).
PAGE = """
SELECT p.company_workspace_connector_id, p.direction, p.created_at, p.updated_at,
       p.deleted_at, p.company_pk, w.workspace_connector_id, w.pk
FROM core_api.workspace_connectors w
CROSS JOIN LATERAL (
  (SELECT * FROM core_api.company_workspace_connectors x
   WHERE x.workspace_connector_pk = w.pk AND x.deleted_at IS NULL AND x.direction = 'input'
   ORDER BY x.created_at DESC, x.company_workspace_connector_id DESC LIMIT :limit)
  UNION ALL
  (SELECT * FROM core_api.company_workspace_connectors x
   WHERE x.workspace_connector_pk = w.pk AND x.deleted_at IS NULL AND x.direction = 'output'
   ORDER BY x.created_at DESC, x.company_workspace_connector_id DESC LIMIT :limit)
) p
WHERE w.workspace_pk = :workspace_pk
ORDER BY p.created_at DESC, p.company_workspace_connector_id DESC
LIMIT :limit"""
COUNT = f"""
SELECT count(*) FROM (
  SELECT 1 FROM core_api.workspace_connectors w
  CROSS JOIN LATERAL (
    (SELECT 1 FROM core_api.company_workspace_connectors x
     WHERE x.workspace_connector_pk = w.pk AND x.deleted_at IS NULL AND x.direction = 'input'
     LIMIT {COUNT_BOUND})
    UNION ALL
    (SELECT 1 FROM core_api.company_workspace_connectors x
     WHERE x.workspace_connector_pk = w.pk AND x.deleted_at IS NULL AND x.direction = 'output'
     LIMIT {COUNT_BOUND})
  ) p
  WHERE w.workspace_pk = :workspace_pk
  LIMIT {COUNT_BOUND}
) counted"""
RETRIEVE = """
SELECT t.company_workspace_connector_id, t.direction, t.created_at, t.updated_at,
       t.deleted_at, c.company_id, w.workspace_connector_id
FROM core_api.company_workspace_connectors t
JOIN core_api.companies c ON c.pk = t.company_pk
JOIN core_api.workspace_connectors w ON w.pk = t.workspace_connector_pk
WHERE t.company_workspace_connector_id = CAST(:id AS uuid)
  AND t.deleted_at IS NULL AND w.workspace_pk = :workspace_pk"""
COMPANIES = """
SELECT company_id, name, domain FROM core_api.companies WHERE pk = ANY(CAST(:pks AS bigint[]))"""
CONNECTORS = """
SELECT workspace_connector_id, status FROM core_api.workspace_connectors
WHERE pk = ANY(CAST(:pks AS bigint[]))"""
INSERT = """
INSERT INTO core_api.company_workspace_connectors
  (company_workspace_connector_id, company_pk, workspace_connector_pk, direction)
VALUES (CAST(:id AS uuid), :company_pk, :connector_pk, 'input')
RETURNING company_workspace_connector_id, direction, created_at, updated_at, deleted_at"""


class Floor:
    """The plainest statements of each case, prepared once on a connection of their own."""

    def __init__(self, bench: BenchDatabase) -> None:
        self.conn = RawClient(bench.local.admin_url)
        d = bench.dataset
        ((self.workspace_pk, self.company_pk),) = self.conn.run(
            "SELECT (SELECT pk FROM core_api.workspaces WHERE workspace_id = CAST(:w AS uuid)), "
            "(SELECT pk FROM core_api.companies WHERE company_id = CAST(:c AS uuid))",
            w=d.member_workspace_id,
            c=d.write_company_id,
        )
        self.connector_pk = d.write_connector_pk
        self.row_id = d.warm_row_ids[0]
        self.page, self.count, self.retrieve, self.companies, self.connectors, self.insert = (
            self.conn.prepare(sql) for sql in (PAGE, COUNT, RETRIEVE, COMPANIES, CONNECTORS, INSERT)
        )

    def calls(self) -> dict[str, Callable[[], Any]]:
        return {
            "retrieve": lambda: self.retrieve.run(id=self.row_id, workspace_pk=self.workspace_pk),
            "list_default": lambda: self._list(PAGE_SIZE, include=False),
            "list": lambda: self._list(BIG_PAGE, include=True),
            "create": lambda: self.insert.run(
                id=str(uuid4()), company_pk=self.company_pk, connector_pk=self.connector_pk
            ),
        }

    def _list(self, size: int, *, include: bool) -> None:
        # One row past the page says whether there is a next one, as the API reads it.
        rows = self.page.run(limit=size + 1, workspace_pk=self.workspace_pk)
        self.count.run(workspace_pk=self.workspace_pk)
        if include:
            self.companies.run(pks=sorted({r[5] for r in rows}))
            self.connectors.run(pks=sorted({r[7] for r in rows}))


def _round(call: Callable[[], Any], pid: int, requests: int) -> Callable[[], tuple[float, float]]:
    """A round of ``requests`` calls, answering their database CPU and own CPU a request."""

    def measured() -> tuple[float, float]:
        database, own = backend_cpu_ms(pid), time.process_time()
        for _ in range(requests):
            call()
        own_ms = (time.process_time() - own) * 1000
        return (backend_cpu_ms(pid) - database) / requests, own_ms / requests

    return measured


def measure_db_cpu(report: Report, bench: BenchDatabase, config: Config) -> None:
    """``db_cpu.<case>``: each case's database CPU per request against its floor's."""
    if not Path("/proc/self/stat").exists():
        note("db_cpu: no /proc here to read the backends' CPU from; skipped")
        return
    floor = Floor(bench)
    admin = bench.admin()
    rounds = max(1, config.db_cpu_requests // config.db_cpu_round)
    try:
        with serving(bench.local.admin_url, {"direct": None}) as peers:
            for case in warm_cases(bench, CASES):
                calls = {"project": case.call, "floor": floor.calls()[case.name]}
                ours = case.call()
                for peer, handlers in peers.items():
                    served = handlers["direct"]
                    same_answer(peer, case.name, ours, served(case.event, CONTEXT))
                    calls[peer] = functools.partial(invoke, served, case.event, case.status)
                taking_turns(calls, 0, config.warmup)
                case.call()  # after the peers', whose backends may show a COMMIT too
                # The environment's connection: the backend that last committed a request (a
                # pipelined message shows as its last statement, the request's COMMIT).
                pids = {"project": last_backend(admin, "COMMIT"), "floor": floor.conn.pid}
                pids |= {peer: backend_pid(admin, peer, "direct") for peer in peers}
                sides = {s: _round(calls[s], pids[s], config.db_cpu_round) for s in calls}
                with own_garbage():
                    turns = taking_turns(sides, rounds, 0, collected_first(returned))
                _report(report, case.name, turns)
                _split(report, bench, case.name, case.sent, config)
                if case.name == "retrieve":
                    _names(report, bench, case, config)
                    _messages(report, bench, case.sent, config)
    finally:
        admin.close()
        floor.conn.close()
        remove_created_rows(bench)


def _report(report: Report, name: str, rounds: dict[str, list[tuple[float, float]]]) -> None:
    """Each side's figures from its rounds' (database, own) CPU a request."""
    own = {}
    for side in rounds:
        prefix = "" if side == "project" else f"{side}."
        database_ms, own_ms = zip(*rounds[side], strict=True)
        report.figure(f"db_cpu.{name}.{prefix}database", list(database_ms), "ms")
        own[side] = report.figure(f"db_cpu.{name}.{prefix}function", list(own_ms), "ms").median
    # Means, not medians: the mean of the rounds is the whole run's CPU over its requests.
    mean = {side: statistics.fmean(r[0] for r in samples) for side, samples in rounds.items()}
    mean_db, mean_floor = mean["project"], mean["floor"]
    best = min(PEERS, key=mean.__getitem__)
    peers = report.ratio(f"db_cpu.{name}.peers", mean_db / mean[best], PEER_GOAL)
    report.ratio(f"db_cpu.{name}.own", own["project"] / min(own[p] for p in PEERS), OWN_GOAL)
    ratio = report.ratio(f"db_cpu.{name}", mean_db / mean_floor if mean_floor else 0.0, GOAL)
    per_core = 1000 / mean_db if mean_db else 0.0
    report.details.setdefault("db_cpu", {})[name] = {
        "database_ms": round(mean_db, 4),
        "floor_database_ms": round(mean_floor, 4),
        "requests_per_core_second": round(per_core),
        "floor_requests_per_core_second": round(1000 / mean_floor) if mean_floor else None,
    } | {f"{peer}_database_ms": round(mean[peer], 4) for peer in PEERS}
    note(
        f"db_cpu {name}: database {mean_db:.3f} ms a request against the floor's "
        f"{mean_floor:.3f} ms ({ratio.value:.2f}x; {per_core:,.0f} a core a second), "
        + ", ".join(f"{peer}'s {mean[peer]:.3f} ms" for peer in PEERS)
        + f" ({peers.value:.2f}x {best}'s); own CPU "
        + ", ".join(f"{side} {ms:.3f} ms" for side, ms in own.items())
    )


def _prepared(raw: RawClient, statements: Statements) -> tuple[BoundStatement, ...]:
    """``statements`` prepared once on ``raw``, as ``EXECUTE`` with their values."""
    return tuple(prepared(raw, f"db_cpu_{i}", s) for i, s in enumerate(statements))


def _split(report: Report, bench: BenchDatabase, name: str, sent: Captured, config: Config) -> None:
    """``db_cpu.<case>.parts``: where a request's database CPU goes (means, ms a request), on a
    connection of the API role's own: its opening alone; with its proof and scope; with its
    statements as sent (parsed, planned, executed); with the same statements prepared once
    (executed only, their plans kept once the plan cache keeps a generic plan). A write's are
    rolled back, so that they run again as they are (its captured row removed first: each run
    inserts it), and its COMMIT is not counted."""
    if not sent.read_only:
        remove_created_rows(bench)
    raw = RawClient(bench.api_url)
    scope, *statements = sent.statements
    end = wellapi_db.COMMIT if sent.read_only else ROLLBACK
    try:
        executes = _prepared(raw, statements)
        calls: dict[str, Callable[[], Any]] = {
            "opening": lambda: wellapi_db.send(raw, (*sent.opening, end)),
            "scope": lambda: raw.proven_rows(sent, (scope,), end=end),
            "sent": lambda: raw.proven_rows(sent, end=end),
            "prepared": lambda: raw.proven_rows(sent, (scope, *executes), end=end),
        }
        cpu = taking_turns(
            calls, config.db_cpu_requests, config.warmup, lambda call: backend_cpu(raw.pid, call)
        )
        plans = {
            str(statement): [int(generic), int(custom)]
            for statement, generic, custom in raw.run(
                "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY 1"
            )
        }
    finally:
        raw.close()
    mean = {part: statistics.fmean(ms) for part, ms in cpu.items()}
    split = {
        "opening": mean["opening"],
        "proof_and_scope": mean["scope"] - mean["opening"],
        "statements_parse_and_plan": mean["sent"] - mean["prepared"],
        "statements_execute": mean["prepared"] - mean["scope"],
        "whole": mean["sent"],
    }
    report.details.setdefault("db_cpu", {})[f"{name}.parts"] = {
        part: round(ms, 4) for part, ms in split.items()
    }
    note(f"db_cpu {name}, ms a request: " + ", ".join(f"{k} {v:.3f}" for k, v in split.items()))
    note(f"db_cpu {name}, prepared statements' [generic, custom] plans: {plans}")


def _messages(report: Report, bench: BenchDatabase, sent: Captured, config: Config) -> None:
    """``db_cpu.retrieve.one_message``: the Retrieve's request in one message, as the function
    sends it, against the same statements in the previous release's two messages (revision
    0023: the opening asks the context, then the proof bound to it), on one connection of the
    API role, taking turns: what the message's shape alone costs the database."""
    raw = RawClient(bench.api_url)
    try:
        calls: dict[str, Callable[[], Any]] = {
            "one": lambda: proven(raw, sent),
            "two": lambda: in_two_messages(raw, sent, sent.statements),
        }
        cpu = taking_turns(
            calls, config.db_cpu_requests, config.warmup, lambda call: backend_cpu(raw.pid, call)
        )
    finally:
        raw.close()
    one, two = (statistics.fmean(cpu[way]) for way in ("one", "two"))
    ratio = report.ratio("db_cpu.retrieve.one_message", one / two, MESSAGES_GOAL)
    note(
        f"db_cpu retrieve: {one:.3f} ms a request in one message against {two:.3f} ms in the "
        f"previous release's two ({ratio.value:.2f}x)"
    )


def _names(report: Report, bench: BenchDatabase, case: Case, config: Config) -> None:
    """``db_cpu.retrieve.names``: the Retrieve, its statements kept under names as a pool's
    connection keeps them, on a connection that also holds ``MAX_NAMES`` List shapes' names
    (the most it keeps) against one holding only its own. The check of revision 0029 reads
    every statement the session holds: this is what a function serving many shapes pays."""
    requests = Requests.signed(bench)
    lister = handler_for("company_workspace_connectors", "list")
    shapes = [
        captured_sql(lister, requests.collection(f"sort={sort}&include={include}"), 200)
        for sort in ("created_at", "-created_at", "updated_at", "-updated_at")
        for include in ("", "company", "workspace_connector", "company,workspace_connector")
    ]
    raws = {side: RawClient(bench.api_url) for side in ("many", "few")}
    try:
        for side, raw in raws.items():
            setattr(raw, wellapi_db.PREPARED, Prepared())
            for sent in shapes if side == "many" else ():
                raw.proven_rows(sent)
            raw.proven_rows(case.sent)
        ((held,),) = raws["many"].run("SELECT count(*) FROM pg_prepared_statements")
        calls = {
            side: (lambda raw=raw: backend_cpu(raw.pid, lambda: raw.proven_rows(case.sent)))
            for side, raw in raws.items()
        }
        cpu = taking_turns(calls, config.db_cpu_requests, config.warmup, lambda call: call())
    finally:
        for raw in raws.values():
            raw.close()
    many, few = (statistics.fmean(cpu[side]) for side in ("many", "few"))
    report.ratio("db_cpu.retrieve.names", many / few, NAMES_GOAL)
    note(
        f"db_cpu retrieve: {many:.3f} ms a request on a connection holding {held} names "
        f"(MAX_NAMES {MAX_NAMES}) against {few:.3f} ms"
    )
