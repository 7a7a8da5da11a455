"""``make bench``, phase ``first``: cold start including the first request, against a raw floor.

Each function serves its own event from ``events/`` in a fresh interpreter on the sandbox
(``Sandbox.run``), its CPU time at the answer against the floor's (``child_handler.floor``): the
same SQL, captured once in this process, sent by raw pg8000 as the same role. A proof holds
for the moment it is made, so each floor run proves its requests afresh; the demo rows are put
back after every run, so every run does the same work. The event is also served under
awslambdaric behind AWS's Runtime Interface Emulator (``Sandbox.run_runtime``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pg8000.native

from wellapi.handlers.entry_points import binding_of
from wellapi.roles import API_ROLE, AUTH_ROLE, SYNC_ROLE
from wellapi.store import connections as wellapi_db
from welldev import database, seed
from welldev.bench.config import ROOT, Config
from welldev.bench.errors import BenchError
from welldev.bench.harness import CONTEXT, Handler, handler_for, invoke, note
from welldev.bench.raw_client import Captured, captured_requests
from welldev.bench.report import Report
from welldev.bench.sandbox import Function, Sandbox
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
    "operator_actions": "a person's action, invoked directly: no request of a client to measure",
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
ROLES = {"authorizer": AUTH_ROLE, "sync": SYNC_ROLE}  # the API functions' is API_ROLE
# Where each kind of function says what it answered: the status, the person, the failures.
ANSWERS = {
    "api": ("statusCode",),
    "authorizer": ("context", "person_id"),
    "sync": ("batchItemFailures",),
}


@dataclass(frozen=True)
class Target:
    """A function, its event and what a correct answer is; once prepared, the event signed, the
    SQL the function sends and the request that must come first."""

    function: Function
    kind: str  # api, authorizer or sync
    event_file: str
    expected: Any  # ANSWERS' value in a correct answer
    event: dict[str, Any] = field(default_factory=dict)
    # Without the proofs its requests opened with: each floor run makes fresh ones.
    sql: tuple[Captured, ...] = ()
    before: tuple[Handler, dict[str, Any]] | None = None

    def check(self, response: Any, where: str) -> None:
        answer = response
        for key in ANSWERS[self.kind]:
            answer = answer.get(key) if isinstance(answer, dict) else None
        if answer != self.expected:
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
        (superuser,) = admin.run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0]
        # Without the triggers, the rows come back exactly as they were (updated_at too).
        script = ["BEGIN", "SET LOCAL session_replication_role = replica" if superuser else ""]
        same = "ROW(s.*) IS NOT DISTINCT FROM ROW(x.*)"
        admin.run(f"CREATE SCHEMA {SNAPSHOT}")
        for table in RESTORED:
            live, saved = f"core_api.{table}", f"{SNAPSHOT}.{table}"
            admin.run(f"CREATE TABLE {saved} AS TABLE {live}")
            script += [
                f"DELETE FROM {live} x WHERE NOT EXISTS (SELECT FROM {saved} s WHERE {same})",
                # The outbox's pk is GENERATED ALWAYS: a row put back keeps its own.
                f"INSERT INTO {live} OVERRIDING SYSTEM VALUE SELECT * FROM {saved} s "
                f"WHERE NOT EXISTS (SELECT FROM {live} x WHERE {same})",
            ]
        self.restore_sql = ";\n".join([*filter(None, script), "COMMIT"])
        self.triggers = "off" if superuser else "on: not a superuser"

    def reset(self, before: tuple[Handler, dict[str, Any]] | None) -> None:
        self.admin.run(self.restore_sql)
        if before is not None:
            invoke(before[0], before[1], 204)


def _event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


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
        kind = module if module in ("authorizer", "sync") else "api"
        # The authorizer's person and a 2xx status are settled in prepare().
        found.append(Target(function, kind, name, [] if kind == "sync" else REFUSED.get(name)))
    return found, skipped


def _in_process(target: Target) -> Handler:
    from wellapi.handlers.authorizer import authorizer_handler
    from wellapi.handlers.sync import sync_handler

    if target.kind == "api":
        return handler_for(*_binding(target))
    return {"authorizer": authorizer_handler, "sync": sync_handler}[target.kind]()


def _binding(target: Target) -> tuple[str, str]:
    """(resource, operation) of an API function's target."""
    if (binding := binding_of(target.function.handler)) is None:
        raise BenchError(f"{target.function.logical_id} is no API function")
    return binding


def prepare(target: Target, demo: DemoState) -> Target:
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
    if target.expected is None:  # an API function not refused: the 2xx status it gave
        status = response.get("statusCode")
        if not isinstance(status, int) or not 200 <= status < 300:
            raise BenchError(f"{target.function.logical_id} answered {str(response)[:800]}")
        target = replace(target, expected=status)
    target.check(response, "in this process")
    sent = tuple(captured_requests(wire.calls, event))
    written = {t for c in sent for s in c.statements for t in WRITES.findall(s.text)}
    if unrestored := written - set(RESTORED):
        raise BenchError(f"{target.function.logical_id} writes {unrestored}, never put back")
    return replace(target, event=event, sql=sent, before=before)


def measure_one(
    report: Report, box: Sandbox, target: Target, demo: DemoState, config: Config
) -> None:
    """The function and its floor in turn, the demo put back after each; then the function
    under awslambdaric: ``first_request.<id>.*`` and ``runtime.<id>.*``, in ms."""
    function = target.function
    url = demo.local.url_for(ROLES.get(target.kind, API_ROLE))
    # The template's variables, with the database as a URL for the function's own role.
    env = {
        "POWERTOOLS_SERVICE_NAME": "wellapi",
        "POWERTOOLS_METRICS_NAMESPACE": "Well",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "DB_AUTH": "url",
        "DATABASE_URL": url,
    }
    requests = [c.floor_request(c.statements) for c in target.sql]
    floor_event = {"connect": wellapi_db.url_connect_kwargs(url), "requests": requests}
    # The floor is a handler of the child itself, its paths only the layer's (pg8000).
    floor = {"paths": [str(box.layer)], "handler": "__main__.floor", "event": floor_event}
    name = f"first_request.{function.logical_id}"
    samples: defaultdict[str, list[float]] = defaultdict(list)
    demo.reset(target.before)
    for _ in range(config.first_runs):
        served = box.run(function, {"handler": function.handler, "event": target.event}, env)
        target.check(served["response"], "a fresh interpreter")
        demo.reset(target.before)
        floored = box.run(function, floor, env)
        demo.reset(target.before)
        samples[f"{name}.import.cpu"].append(served["import"][0])
        for figure, result in ((name, served), (f"{name}.floor", floored)):
            samples[f"{figure}.cpu"].append(result["answer"][0])
            samples[f"{figure}.wall"].append(result["answer"][1])
    for _ in range(config.runtime_runs):
        figures, response = box.run_runtime(function, env, target.event)
        target.check(response, "awslambdaric")
        demo.reset(target.before)
        for key, ms in figures.items():
            samples[f"runtime.{function.logical_id}.{key}"].append(ms)
    for figure, values in samples.items():
        report.figure(figure, values, "ms cpu" if figure.endswith("cpu") else "ms")


def measure_first(
    report: Report, box: Sandbox, server: database.LocalDatabase, config: Config
) -> None:
    chosen, skipped = targets(box, config.first_functions)
    runs = f"{config.first_runs} run(s) and {config.runtime_runs} under awslambdaric"
    step(f"first request: {len(chosen)} functions x {runs}, each against its floor")
    database_name = config.database_prefix + "_first"
    local = database.prepare(server, database_name, replace=True)
    ratios: dict[str, float] = {}
    statements: dict[str, int] = {}
    try:
        with (
            contextlib.closing(database.admin_connection(local.admin_url)) as admin,
            functions_connected_as(local, API_ROLE),
        ):
            demo = DemoState(local, admin)
            for index, target in enumerate(chosen, start=1):
                prepared = prepare(target, demo)
                measure_one(report, box, prepared, demo, config)
                logical_id = target.function.logical_id
                name = f"first_request.{logical_id}"
                cpu = report.figures[f"{name}.cpu"].median
                floor = report.figures[f"{name}.floor.cpu"].median
                ratios[logical_id] = report.ratio(name, cpu / floor, GOAL).value
                statements[logical_id] = len(prepared.sql)
                note(
                    f"[{index}/{len(chosen)}] {logical_id}: {cpu:.0f} ms cpu, floor "
                    f"{floor:.0f}: {ratios[logical_id]:.2f}x"
                )
    finally:
        database.drop_database(server, database_name)
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
            f"taken after seeding (triggers {demo.triggers}); "
            "group create and enrol first remove the enrolment they add again"
        ),
        "events": {t.function.logical_id: t.event_file for t in chosen},
        "queries": statements,
        "skipped": skipped,
    }
    if ratios:
        worst = max(ratios, key=ratios.__getitem__)
        report.ratio("first_request.worst", ratios[worst], GOAL)
        report.details["first_request"]["worst"] = worst
    for target in chosen:
        if target.kind != "api":
            report.ratio(f"first_request.{target.kind}", ratios[target.function.logical_id], GOAL)
