"""Phase ``db_cpu``: the database's CPU per request, against the floor any server must pay.

The database is the tier that does not scale out, so a request's price is counted where it is
scarce: the CPU of the backend that served it (``/proc``), not its latency. Each case's handler,
on its warm environment's one connection, takes turns with its floor: the plainest statements
for the same rows through the same indexes, prepared once and run by bare pg8000 as the
administrator (no row-level security, proof, scope or JSON built in SQL), and with the two
Python peers (``welldev.bench.peers``) on connections of their own. Goals: ``db_cpu.<case>``
<= 1.2x the floor's, ``db_cpu.<case>.peers`` <= 1x the more frugal peer's.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wellapi.jsonapi.ids import new_id
from wellapi.store import connections as wellapi_db
from wellapi.store.sql import MAX_NAMES, BoundStatement, Prepared
from welldev.bench.api_requests import Case, Requests, warm_cases
from welldev.bench.config import PAGE_SIZE, Config
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.harness import (
    CONTEXT,
    backend_cpu,
    backend_cpu_ms,
    fairly,
    handler_for,
    invoke,
    last_backend,
    note,
    returned,
    taking_turns,
)
from welldev.bench.peers import PEERS, backend_pid, same_answer, serving
from welldev.bench.raw_client import Captured, RawClient, captured_sql, in_two_messages, prepared
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
# A request in one message against the same in two (the opening alone, then the rest).
MESSAGES_GOAL = 1.05
# The requests measured, by their warm case's name; the floor answers the same.
CASES = ("retrieve", "list_default", "list", "create")
BIG_PAGE = 100
# A List's total is counted up to here, as the API counts it (meta.page.total's bound).
COUNT_BOUND = 1001

# A page of the member's company ledger in the default order (its ids', which carry its time),
# walked per connector and direction through the partial indexes the API's walk reads
# (idx_company_workspace_connectors_wc_<direction>).
PAGE = """
SELECT p.company_workspace_connector_id, p.direction, p.created_at, p.updated_at,
       p.deleted_at, p.company_pk, w.workspace_connector_id, w.pk
FROM core_api.workspace_connectors w
CROSS JOIN LATERAL (
  (SELECT * FROM core_api.company_workspace_connectors x
   WHERE x.workspace_connector_pk = w.pk AND x.deleted_at IS NULL AND x.direction = 'input'
   ORDER BY x.company_workspace_connector_id DESC LIMIT :limit)
  UNION ALL
  (SELECT * FROM core_api.company_workspace_connectors x
   WHERE x.workspace_connector_pk = w.pk AND x.deleted_at IS NULL AND x.direction = 'output'
   ORDER BY x.company_workspace_connector_id DESC LIMIT :limit)
) p
WHERE w.workspace_pk = :workspace_pk
ORDER BY p.company_workspace_connector_id DESC
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
                id=str(new_id()), company_pk=self.company_pk, connector_pk=self.connector_pk
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
    rounds = max(1, config.db_cpu_requests // config.db_cpu_round)
    with (
        floor.conn,
        bench.admin() as admin,
        serving(bench.local.admin_url, {"direct": None}) as peers,
    ):
        try:
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
                _report(report, case.name, fairly(sides, rounds, 0, returned))
                _split(report, bench, case.name, case.sent, config)
                if case.name == "retrieve":
                    _names(report, bench, case, config)
                note(report.summary(f"db_cpu.{case.name}"))
        finally:
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
    report.ratio(f"db_cpu.{name}.peers", mean_db / min(mean[p] for p in PEERS), PEER_GOAL)
    report.ratio(f"db_cpu.{name}.own", own["project"] / min(own[p] for p in PEERS), OWN_GOAL)
    report.ratio(f"db_cpu.{name}", mean_db / mean_floor if mean_floor else 0.0, GOAL)
    report.details.setdefault("db_cpu", {})[name] = {
        "database_ms": round(mean_db, 4),
        "floor_database_ms": round(mean_floor, 4),
        "requests_per_core_second": round(1000 / mean_db) if mean_db else 0,
        "floor_requests_per_core_second": round(1000 / mean_floor) if mean_floor else None,
    } | {f"{peer}_database_ms": round(mean[peer], 4) for peer in PEERS}


def _cpu_means(
    sides: Mapping[str, tuple[int, Callable[[], Any]]], config: Config
) -> dict[str, float]:
    """Each side's mean CPU milliseconds of its backend (``pid``) while its call runs, taking
    turns."""
    calls = {side: functools.partial(backend_cpu, pid, call) for side, (pid, call) in sides.items()}
    cpu = taking_turns(calls, config.db_cpu_requests, config.warmup, returned)
    return {side: statistics.fmean(ms) for side, ms in cpu.items()}


def _split(report: Report, bench: BenchDatabase, name: str, sent: Captured, config: Config) -> None:
    """``db_cpu.<case>.parts`` (ms a request) on an API role connection: its transaction
    alone (``BEGIN`` and its end); its opening (with the transaction's settings); with its
    proof and scope; with its statements as sent; with them prepared once (executed only). A
    write's are rolled back, to run again as they are. A Retrieve as sent also takes turns with
    the same in two messages (``db_cpu.retrieve.one_message``)."""
    if not sent.read_only:
        remove_created_rows(bench)
    scope, *statements = sent.statements
    end = wellapi_db.COMMIT if sent.read_only else ROLLBACK
    with RawClient(bench.api_url) as raw:
        executes = tuple(prepared(raw, f"db_cpu_{i}", s) for i, s in enumerate(statements))
        ways: dict[str, Callable[[], Any]] = {
            "transaction": lambda: wellapi_db.send(raw, (sent.opening[0], end)),
            "opening": lambda: wellapi_db.send(raw, (*sent.opening, end)),
            "scope": lambda: raw.proven_rows(sent, (scope,), end=end),
            "sent": lambda: raw.proven_rows(sent, end=end),
            "prepared": lambda: raw.proven_rows(sent, (scope, *executes), end=end),
        }
        if name == "retrieve":
            ways["two_messages"] = lambda: in_two_messages(raw, sent, sent.statements)
        mean = _cpu_means({way: (raw.pid, call) for way, call in ways.items()}, config)
        plans = raw.run("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
    split = {
        "transaction": mean["transaction"],
        "settings": mean["opening"] - mean["transaction"],
        "opening": mean["opening"],
        "proof_and_scope": mean["scope"] - mean["opening"],
        "statements_parse_and_plan": mean["sent"] - mean["prepared"],
        "statements_execute": mean["prepared"] - mean["scope"],
        "whole": mean["sent"],
    }
    report.details.setdefault("db_cpu", {})[f"{name}.parts"] = {
        part: round(ms, 4) for part, ms in split.items()
    }
    note(f"db_cpu {name}, prepared statements' [name, generic, custom] plans: {sorted(plans)}")
    _beyond_wall(report, name, split["settings"] + split["proof_and_scope"])
    if "two_messages" in mean:
        one_message = mean["sent"] / mean["two_messages"]
        report.ratio("db_cpu.retrieve.one_message", one_message, MESSAGES_GOAL)


def _beyond_wall(report: Report, name: str, wall_ms: float) -> None:
    """``db_cpu.<case>.peers_beyond_wall``: the request's database CPU less its wall's (the
    transaction's settings, the proof and the scope, as ``.parts`` measured them: sent unnamed,
    the names' check not counted) against the more frugal peer's. The peers, connected as the
    owner, pay for no wall: what is left is the price of the request's own statements, row-level
    security and the change records included."""
    measured = report.details["db_cpu"][name]
    best_peer = min(measured[f"{peer}_database_ms"] for peer in PEERS)
    beyond = (measured["database_ms"] - wall_ms) / best_peer
    report.ratio(f"db_cpu.{name}.peers_beyond_wall", beyond, PEER_GOAL)


def _names(report: Report, bench: BenchDatabase, case: Case, config: Config) -> None:
    """``db_cpu.retrieve.names``: the Retrieve under names, as a pool's connection keeps them, on
    a connection also holding ``MAX_NAMES`` List shapes' against one holding its own: a name's
    check reads every statement the session holds."""
    requests = Requests.signed(bench)
    lister = handler_for("company_workspace_connectors", "list")
    # MAX_NAMES shapes: each sort a ledger takes, include and direction filter a statement.
    shapes = [
        captured_sql(lister, requests.collection(f"sort={sort}&include={include}{only}"), 200)[0]
        for sort in ("created_at", "-created_at")
        for include in ("", "company", "workspace_connector", "company,workspace_connector")
        for only in ("", "&filter[direction]=input")
    ]
    with RawClient(bench.api_url) as many, RawClient(bench.api_url) as few:
        for raw, sent in ((many, shapes), (few, [])):
            setattr(raw, wellapi_db.PREPARED, Prepared())
            for request in (*sent, case.sent):
                raw.proven_rows(request)
        ((held,),) = many.run("SELECT count(*) FROM pg_prepared_statements")
        sides = {
            s: (r.pid, functools.partial(r.proven_rows, case.sent))
            for s, r in (("many", many), ("few", few))
        }
        mean = _cpu_means(sides, config)
    report.ratio("db_cpu.retrieve.names", mean["many"] / mean["few"], NAMES_GOAL)
    note(f"db_cpu retrieve.names: a connection holding {held} names (MAX_NAMES {MAX_NAMES})")
