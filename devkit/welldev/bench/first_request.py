"""``make bench``, phase ``first``: cold start including the first request, against a raw floor.

For every function of the built template (the migration function aside: its request is a
schema migration, not a query of the demo), on a migrated database seeded with the demo, the
function's own event from ``events/`` (signed; the authorizer's with a real demo key) is
served by a fresh ``python -I -S -B`` that sees only the sandbox, as Lambda lays it out; its
CPU time at the answer (interpreter start, import, connect, the request) is held against a
fresh interpreter that imports pg8000 and ``json`` from the layer, connects as the same role,
sends the same SQL text (captured once in this process, and opened by a fresh proof of the
same credential for each run: a proof is spent once) and dumps its rows. The two take
turns, ``first_runs`` times each; the demo rows are put back after every run, so every run
does the same work. The same event is also served under the real runtime client
(``runtime_api``: awslambdaric behind AWS's Runtime Interface Emulator), whose init and
first invoke are reported beside it. Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import contextlib
import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any
from uuid import uuid4

import pg8000.native

from wellapi.handlers.entry_points import binding_of
from wellapi.roles import API_ROLE, AUTH_ROLE, SYNC_ROLE
from wellapi.store import connections as wellapi_db
from wellapi.store.sql import BoundStatement
from welldev import database, seed
from welldev.bench.config import ROOT, Config
from welldev.bench.errors import BenchError
from welldev.bench.harness import (
    CONTEXT,
    Handler,
    handler_for,
    invoke,
    note,
    quiet_powertools,
)
from welldev.bench.raw_client import Captured, captured_requests, replaced, values_of
from welldev.bench.report import Report
from welldev.bench.runtime_api import measure_runtime
from welldev.bench.sandbox import FLOOR_CHILD, Function, Sandbox
from welldev.bench.wire import recording
from welldev.claims import sign_event
from welldev.console import step
from welldev.function_roles import functions_connected_as

EVENTS = ROOT / "events"
GOAL = 3.0
SKIPPED = {
    "wellapi.handlers.migration": "migrates the schema: no request of the demo to measure",
    "sweep": "sweeps revoked connectors on a schedule: no request of the demo to measure",
    "drain": "publishes change records on a schedule: its throughput is phase drain's",
    "unmatched": "answers a route no function serves without the database: no query to compare",
}
# As tests/database/test_events.py: the events whose designed answer is a refusal.
REFUSED = {
    "account-workspace-connectors-update.json": 403,
    "company-workspace-connectors-update.json": 403,
    "people-workspace-connectors-update.json": 403,
    "workspace-group-workspaces-update.json": 403,
}
# Both demo workspaces are enrolled: these enrol again only what the other operation removed.
PREREQUISITES = {
    "workspace-group-workspaces-create.json": "delete",
    "workspace-group-workspaces-enrol.json": "unenrol",
}
# Every table the measured requests write (checked against the captured SQL), put back as it
# was after each run. api_keys is written too (last_used_at), the same way on every run.
RESTORED = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
    "workspace_group_workspaces",
    "workspace_providers",
    "sync_receipts",
    "sync_tombstones",
    "connector_revocations",
    "revocation_sweeps",
    "change_records",
)
SNAPSHOT = "bench_first"
WRITES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+core_api\.(\w+)", re.IGNORECASE)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Target:
    """A function, its event and what a correct answer is."""

    function: Function
    kind: str  # api, authorizer or sync
    event_file: str
    role: str
    expected: Any  # the status (api), the person (authorizer), the failures (sync)

    def check(self, response: Any, where: str) -> None:
        if self.kind == "api":
            ok = isinstance(response, dict) and response.get("statusCode") == self.expected
        elif self.kind == "authorizer":
            context = response.get("context") if isinstance(response, dict) else None
            ok = isinstance(context, dict) and context.get("person_id") == self.expected
        else:
            ok = isinstance(response, dict) and response.get("batchItemFailures") == self.expected
        if not ok:
            raise BenchError(
                f"{self.function.logical_id} ({where}) answered {str(response)[:800]}, "
                f"expected {self.expected!r}"
            )


class DemoState:
    """The demo database, its snapshot of the written tables, and putting them back."""

    def __init__(self, local: database.LocalDatabase, admin: pg8000.native.Connection) -> None:
        self.local = local
        self.admin = admin
        # The demo with real keys: the first member and their key, for the authorizer.
        member, key = seed.seed(admin, seed.IssuedKeys()).members[0]
        if key is None:
            raise BenchError("the demo seed issued no API key")
        self.key_owner, self.key = str(member.person_id), key
        admin.run(f"CREATE SCHEMA {SNAPSHOT}")
        for table in RESTORED:
            admin.run(f"CREATE TABLE {SNAPSHOT}.{table} AS TABLE core_api.{table}")
        (superuser,) = admin.run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0]
        # Without the triggers, the rows come back exactly as they were (updated_at too).
        script = ["BEGIN", "SET LOCAL session_replication_role = replica" if superuser else ""]
        for table in RESTORED:
            live, saved = f"core_api.{table}", f"{SNAPSHOT}.{table}"
            same = "ROW(s.*) IS NOT DISTINCT FROM ROW(x.*)"
            script.append(
                f"DELETE FROM {live} x WHERE NOT EXISTS (SELECT FROM {saved} s WHERE {same})"
            )
            script.append(
                # The outbox's pk is GENERATED ALWAYS: a row put back keeps its own.
                f"INSERT INTO {live} OVERRIDING SYSTEM VALUE SELECT * FROM {saved} s "
                f"WHERE NOT EXISTS (SELECT FROM {live} x WHERE {same})"
            )
        self.restore_sql = ";\n".join([*filter(None, script), "COMMIT"])
        self.triggers_off = bool(superuser)

    def reset(self, before: tuple[Handler, dict[str, Any]] | None) -> None:
        self.admin.run(self.restore_sql)
        if before is not None:
            invoke(before[0], before[1], 204)


def _event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def targets(box: Sandbox, only: tuple[str, ...] | None) -> tuple[list[Target], dict[str, str]]:
    """The functions to measure, and those skipped with the reason."""
    index: dict[str, list[str]] = json.loads((EVENTS / "index.json").read_text())
    found: list[Target] = []
    skipped: dict[str, str] = {}
    for logical_id, function in box.functions.items():
        module = function.handler.rpartition(".")[0]
        if only is not None and logical_id not in only:
            continue
        if module in SKIPPED:
            skipped[logical_id] = SKIPPED[module]
            continue
        name = index[logical_id][0]
        if module == "authorizer":
            found.append(Target(function, "authorizer", name, AUTH_ROLE, None))
        elif module == "sync":
            found.append(Target(function, "sync", name, SYNC_ROLE, []))
        else:
            found.append(Target(function, "api", name, API_ROLE, REFUSED.get(name)))
    return found, skipped


def _in_process(target: Target) -> Handler:
    from wellapi.handlers.authorizer import authorizer_handler
    from wellapi.handlers.sync import sync_handler

    if target.kind == "authorizer":
        return authorizer_handler()
    if target.kind == "sync":
        return sync_handler()
    return handler_for(*_binding(target))


def _binding(target: Target) -> tuple[str, str]:
    """(resource, operation) of an API function's target."""
    binding = binding_of(target.function.handler)
    if binding is None:
        raise BenchError(f"{target.function.logical_id} is no API function")
    return binding


@dataclass(frozen=True)
class Prepared:
    target: Target
    event: dict[str, Any]
    # What the function sent, without the proofs its requests opened with: each floor run
    # makes fresh ones for its own transactions.
    sql: list[Captured]
    fresh_ids: list[str]  # ids the function made (Create): new ones for each floor run
    before: tuple[Handler, dict[str, Any]] | None


def prepare(target: Target, demo: DemoState) -> Prepared:
    """Sign the event, capture the SQL the function sends and settle what it must answer."""
    event = _event(target.event_file)
    before = None
    if target.kind == "authorizer":
        event["headers"]["authorization"] = f"Bearer {demo.key}"
        target = replace(target, expected=demo.key_owner)
    else:
        event = sign_event(demo.admin, event)
    operation = PREREQUISITES.get(target.event_file)
    if operation is not None:
        resource = _binding(target)[0]
        name = f"{resource.replace('_', '-')}-{operation}.json"
        before = (handler_for(resource, operation), sign_event(demo.admin, _event(name)))
    demo.reset(before)
    with recording() as wire:
        response = _in_process(target)(event, CONTEXT)
    if target.kind == "api" and target.expected is None:
        status = response.get("statusCode")
        if not isinstance(status, int) or not 200 <= status < 300:
            raise BenchError(f"{target.function.logical_id} answered {str(response)[:800]}")
        target = replace(target, expected=status)
    target.check(response, "in this process")
    sent = captured_requests(wire.calls, event)
    texts = [s.text for c in sent for s in c.statements]
    unrestored = {t for text in texts for t in WRITES.findall(text)} - set(RESTORED)
    if unrestored:
        raise BenchError(f"{target.function.logical_id} writes {unrestored}, never put back")
    known = json.dumps(event).lower()
    values = [str(v).lower() for c in sent for v in values_of(c.statements)]
    fresh = sorted({v for v in values if UUID.fullmatch(v) and v not in known})
    return Prepared(target, event, sent, fresh, before)


def _renamed(sent: Captured, renamed: dict[str, str]) -> tuple[BoundStatement, ...]:
    """The request's statements, each id the function made bound to a new one instead."""
    statements = sent.statements
    for made, new in renamed.items():
        statements = replaced(statements, made, new)
    return statements


Samples = defaultdict[str, list[float]]


def measure_one(box: Sandbox, prepared: Prepared, demo: DemoState, config: Config) -> Samples:
    """The function and its floor in turn, the demo put back after each; then the runtime.

    The samples' keys are the figures' names after ``first_request.<id>.`` (``runtime.*``
    after ``runtime.<id>.``), in ms.
    """
    target, function = prepared.target, prepared.target.function
    url = demo.local.url_for(target.role)
    # The template's variables, with the database as a URL for the function's own role.
    env = {
        **box.environment(function),
        "POWERTOOLS_SERVICE_NAME": "wellapi",
        "POWERTOOLS_METRICS_NAMESPACE": "Well",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "DB_AUTH": "url",
        "DATABASE_URL": url,
    }
    samples: Samples = defaultdict(list)
    demo.reset(prepared.before)
    for _ in range(config.first_runs):
        result = box.run(function, {"handler": function.handler, "event": prepared.event}, env)
        target.check(result["response"], "a fresh interpreter")
        samples["cpu"].append(result["cpu"] * 1000)
        samples["import.cpu"].append(result["import"] * 1000)
        samples["wall"].append(result["wall"])
        demo.reset(prepared.before)
        renamed = {made: str(uuid4()) for made in prepared.fresh_ids}
        requests = [c.floor_request(_renamed(c, renamed)) for c in prepared.sql]
        connect = wellapi_db.url_connect_kwargs(url)
        floor_args = {"paths": [str(box.layer)], "connect": connect, "requests": requests}
        floor = box.run(function, floor_args, env, child=FLOOR_CHILD)
        samples["floor.cpu"].append(floor["cpu"] * 1000)
        samples["floor.wall"].append(floor["wall"])
        demo.reset(prepared.before)
    for _ in range(config.runtime_runs):
        run = measure_runtime(
            box.paths(function), function.handler, env, prepared.event, str(function.code_dir)
        )
        target.check(run.response, "awslambdaric")
        samples["runtime.init"].append(run.init_ms)
        samples["runtime.first_invoke"].append(run.first_invoke_ms)
        samples["runtime.handler_init"].append(run.handler_init_ms)
        demo.reset(prepared.before)
    return samples


def _figures(report: Report, logical_id: str, samples: Samples) -> float:
    name = f"first_request.{logical_id}"
    for key, values in samples.items():
        if key.startswith("runtime."):
            report.figure(f"runtime.{logical_id}.{key.removeprefix('runtime.')}", values, "ms")
        else:
            report.figure(f"{name}.{key}", values, "ms cpu" if key.endswith("cpu") else "ms")
    cpu, floor = report.figures[f"{name}.cpu"], report.figures[f"{name}.floor.cpu"]
    return report.ratio(name, cpu.median / floor.median, GOAL).value


def measure_first(
    report: Report, box: Sandbox, server: database.LocalDatabase, config: Config
) -> None:
    chosen, skipped = targets(box, config.first_functions)
    runs = f"{config.first_runs} run(s) and {config.runtime_runs} under awslambdaric"
    step(f"first request: {len(chosen)} functions x {runs}, each against its floor")
    name = config.database_prefix + "_first"
    local = database.prepare(server, name, replace=True)
    ratios: dict[str, float] = {}
    statements: dict[str, int] = {}
    try:
        with contextlib.ExitStack() as stack:
            admin = database.admin_connection(local.admin_url)
            stack.callback(admin.close)
            demo = DemoState(local, admin)
            stack.enter_context(functions_connected_as(local, API_ROLE))
            stack.enter_context(quiet_powertools())
            for index, target in enumerate(chosen, start=1):
                prepared = prepare(target, demo)
                samples = measure_one(box, prepared, demo, config)
                logical_id = target.function.logical_id
                ratios[logical_id] = _figures(report, logical_id, samples)
                statements[logical_id] = len(prepared.sql)
                note(
                    f"[{index}/{len(chosen)}] {logical_id}: "
                    f"{statistics.median(samples['cpu']):.0f} ms cpu, floor "
                    f"{statistics.median(samples['floor.cpu']):.0f}: {ratios[logical_id]:.2f}x"
                )
            triggers_off = demo.triggers_off
    finally:
        database.drop_database(server, name)
    report.details["first_request"] = {
        "runs": config.first_runs,
        "runtime_runs": config.runtime_runs,
        "method": (
            "fresh `python -I -S -B` on the sandbox: CPU time from exec to the first answer "
            "(import, connect, the request); the floor imports pg8000 and json from the layer, "
            "connects as the same role, sends the same SQL (captured in this process, each "
            "request opened by a fresh proof of the same credential) and dumps the rows; they "
            "take turns; runtime.* is awslambdaric behind AWS's Runtime Interface Emulator"
        ),
        "restore": (
            f"after every run, {', '.join(RESTORED)} are put back row for row from a snapshot "
            f"taken after seeding (triggers {'off' if triggers_off else 'on: not a superuser'}); "
            "group create and enrol first remove the enrolment they add again"
        ),
        "events": {t.function.logical_id: t.event_file for t in chosen},
        "queries": statements,
        "skipped": skipped,
    }
    _summary(report, chosen, ratios)


def _summary(report: Report, chosen: list[Target], ratios: dict[str, float]) -> None:
    if not ratios:
        return
    worst = max(ratios, key=lambda k: ratios[k])
    report.ratio("first_request.worst", ratios[worst], GOAL)
    report.details["first_request"]["worst"] = worst
    for target in chosen:
        if target.kind in ("authorizer", "sync"):
            value = ratios[target.function.logical_id]
            report.ratio(f"first_request.{target.kind}", value, GOAL)
