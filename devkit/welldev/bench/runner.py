"""Every phase of a bench run, in order, on one report."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import replace
from pathlib import Path

from wellapi.roles import API_ROLE
from welldev import database
from welldev.bench.cold_start import diagnose_cold, measure_cold
from welldev.bench.config import Config
from welldev.bench.databases import prepare_database, remove_created_rows
from welldev.bench.db_cpu import measure_db_cpu
from welldev.bench.drain import measure_drain
from welldev.bench.feed import measure_feed
from welldev.bench.first_request import measure_first
from welldev.bench.harness import quiet_powertools
from welldev.bench.large import measure_large
from welldev.bench.latency import measure_latency
from welldev.bench.memory import MEMORY_FUNCTION, measure_memory
from welldev.bench.outbox import measure_outbox
from welldev.bench.report import Report, machine_info
from welldev.bench.revocation import measure_revocation
from welldev.bench.round_trips import measure_round_trips
from welldev.bench.sandbox import Sandbox, ensure_build, sandbox
from welldev.bench.sync import diagnose_sync, measure_sync
from welldev.bench.wall import measure_wall
from welldev.bench.warm import diagnose_warm, measure_warm
from welldev.console import step
from welldev.function_roles import functions_connected_as

# The phases that read the bench database (and its small twin) prepare_database seeds.
BENCH_DATABASE_PHASES = frozenset(
    {"warm", "db_cpu", "round_trips", "sync", "outbox", "drain", "memory"}
)


def postgres_version(local: database.LocalDatabase) -> str:
    # The server's maintenance database: a phase that builds databases of its own may run on
    # a server where the bench's default one was never made.
    with database.maintenance_connection(local) as conn:
        return str(conn.run("SHOW server_version")[0][0])


def run(
    config: Config,
    server: database.LocalDatabase,
    output: Path | None,
    *,
    server_kind: str = "embedded",
) -> Report:
    """Every phase of ``config``; the report, also written to ``output`` (and pyperf's JSON
    beside it) when given."""
    started = time.perf_counter()
    report = Report(machine_info())
    wanted: dict[str, tuple[str, ...] | None] = {
        "cold": config.cold_functions,
        "first": config.first_functions,
        "memory": (MEMORY_FUNCTION,),
    }
    wanted = {phase: functions for phase, functions in wanted.items() if phase in config.phases}
    with contextlib.ExitStack() as stack:
        box = None
        if wanted:
            ensure_build(config.build)
            # One phase that wants every function (None) gets the whole build.
            every = None in wanted.values()
            only = None if every else sorted({f for v in wanted.values() for f in v or ()})
            box = stack.enter_context(sandbox(only))
        if "cold" in config.phases and box is not None:
            _phase_cold(report, box, config)
        if "first" in config.phases and box is not None:
            measure_first(report, box, server, config)
        needs_db = any(p not in ("cold", "first") for p in config.phases)
        if needs_db:
            _database_phases(report, config, server, box, server_kind)
    report.machine["load_average_at_end"] = list(os.getloadavg())
    report.machine["bench_seconds"] = round(time.perf_counter() - started, 1)
    if output is not None:
        report.write(output)
    return report


def _should_diagnose(config: Config, report: Report, prefix: str) -> bool:
    if config.diagnose == "always":
        return True
    return config.diagnose == "auto" and bool(report.missed(prefix))


def _phase_cold(report: Report, box: Sandbox, config: Config) -> None:
    functions = config.cold_functions
    cold_box = (
        box
        if functions is None
        else replace(box, functions={k: v for k, v in box.functions.items() if k in functions})
    )
    count = len(cold_box.functions)
    step(f"1/10 cold start: {count} functions x {config.cold_runs} run(s), each with its floor")
    loaded = measure_cold(report, cold_box, config.cold_runs)
    if _should_diagnose(config, report, "cold_start."):
        diagnose_cold(report, cold_box, loaded, config.cold_runs)


def _database_phases(
    report: Report,
    config: Config,
    server: database.LocalDatabase,
    box: Sandbox | None,
    server_kind: str,
) -> None:
    step(f"bench databases on the {server_kind} server")
    report.machine["postgres_server"] = server_kind
    if not set(config.phases) & BENCH_DATABASE_PHASES:
        # The large-tenant and revocation phases build databases of their own.
        report.machine["postgres"] = postgres_version(server)
        _own_database_phases(report, config, server)
        return
    large = prepare_database(server, config.database_prefix, config.bench)
    report.machine["postgres"] = postgres_version(large.local)
    with functions_connected_as(large.local, API_ROLE), quiet_powertools():
        if "warm" in config.phases:
            step(f"2/10 warm latency: {config.warm_iterations} iterations after {config.warmup}")
            cases = measure_warm(report, large, config)
            try:
                measure_wall(report, large, cases, config)
            finally:
                remove_created_rows(large)
            if _should_diagnose(config, report, "warm."):
                diagnose_warm(report, cases, config.profile_requests)
        if "db_cpu" in config.phases:
            step(
                f"2/10 database CPU: {config.db_cpu_requests} requests of each case, and as "
                "many of its floor"
            )
            measure_db_cpu(report, large, config)
        if "round_trips" in config.phases:
            step("3/10 statements and round trips per request, and each at a 1 ms round trip")
            measure_round_trips(report, large)
            measure_latency(report, large, config.warm_iterations)
    bench_phases = {"sync": measure_sync, "outbox": measure_outbox, "drain": measure_drain}
    for phase, measure in bench_phases.items():
        # The sync phase's batches write the outbox phase's sync batch figures too.
        if phase in config.phases or (phase == "sync" and "outbox" in config.phases):
            step(TITLES[phase].format(c=config))
            with functions_connected_as(large.local, API_ROLE), quiet_powertools():
                measure(report, large, config)
            if phase == "sync" and _should_diagnose(config, report, "sync."):
                with functions_connected_as(large.local, API_ROLE):
                    diagnose_sync(report, large, config)
    if "memory" in config.phases and box is not None:
        step(f"7/10 memory: one process serving {config.memory_requests:,} Retrieve requests")
        measure_memory(report, box, large, config)
    _own_database_phases(report, config, server)


def _own_database_phases(report: Report, config: Config, server: database.LocalDatabase) -> None:
    own_phases = {"large": measure_large, "revocation": measure_revocation, "feed": measure_feed}
    for phase, measure in own_phases.items():
        if phase in config.phases:
            step(TITLES[phase].format(c=config))
            with quiet_powertools():
                measure(report, server, config)


# The line each of these phases starts with, of the config ``c``.
TITLES = {
    "sync": "4/10 sync: {c.sync_messages} x {c.sync_ids} a batch, with and without records; COPY",
    "outbox": "5/10 outbox: a Create with and without its change record",
    "drain": "6/10 drain: 10,000 change records to an EventBridge stub, as the drainer's role",
    "large": "8/10 large tenants: every read shape at {c.large_tenants.rows:,} rows against 10,000",
    "revocation": "9/10 revocation of {c.revocation_rows:,} rows while another tenant syncs",
    "feed": "10/10 changes feed: {c.feed_records:,} records against {c.feed_small_records:,}",
}
