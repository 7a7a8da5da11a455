"""``python -m welldev.bench``, ``make bench``: its command line, and every phase of a run, in
order, on one report.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import subprocess
import sys
import time
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

from wellapi.roles import API_ROLE
from welldev import bench, database
from welldev.bench.archive import measure_archive
from welldev.bench.cold_start import diagnose_cold, measure_cold
from welldev.bench.config import EMBEDDED_SETTINGS, LOCAL_DIR, Config
from welldev.bench.databases import BenchDatabase, prepare_database, remove_created_rows
from welldev.bench.db_cpu import measure_db_cpu
from welldev.bench.drain import measure_drain
from welldev.bench.errors import BenchError
from welldev.bench.feed import measure_feed
from welldev.bench.first_request import measure_first
from welldev.bench.harness import quiet_powertools
from welldev.bench.large import measure_large
from welldev.bench.latency import measure_latency
from welldev.bench.memory import MEMORY_FUNCTION, measure_memory
from welldev.bench.outbox import measure_outbox
from welldev.bench.periods import measure_periods
from welldev.bench.report import Report, diagnostics_text, machine_info, table
from welldev.bench.revocation import measure_revocation
from welldev.bench.round_trips import measure_round_trips
from welldev.bench.sandbox import Sandbox, ensure_build, sandbox
from welldev.bench.sync import diagnose_sync, measure_sync
from welldev.bench.wall import measure_wall
from welldev.bench.warm import diagnose_warm, measure_warm
from welldev.console import step
from welldev.function_roles import functions_connected_as

# The line each phase starts with, of the config ``c``, in the order of a run.
TITLES = {
    "cold": "cold start: every function x {c.cold_runs} run(s), each with its floor",
    "first": "cold start with the first request: {c.first_runs} run(s) a function, its floor's",
    "warm": "warm latency: {c.warm_iterations} iterations after {c.warmup}; the wall",
    "db_cpu": "database CPU: {c.db_cpu_requests} requests of each case, its floor's, the peers'",
    "round_trips": "round trips per request; each at a 0 and a 1 ms round trip, beside the peers",
    "sync": "sync: {c.sync_messages} x {c.sync_ids} a batch, with and without records; COPY",
    "outbox": "outbox: a Create with and without its change record",
    "drain": "drain: 10,000 change records, one and ten of a workspace a call, to moto",
    "memory": "memory: one process serving {c.memory_requests:,} Retrieve requests",
    "large": "large tenants: every read shape at {c.large_tenants.rows:,} rows against 10,000",
    "periods": "ledger periods: {c.periods.rows:,} rows in one period, a year's, a quarter's",
    "archive": "archive: a period of {c.archive_rows:,} rows detached and dropped, or deleted",
    "revocation": "revocation of {c.revocation_rows:,} rows while another tenant syncs",
    "feed": "changes feed: {c.feed_records:,} records against {c.feed_small_records:,}",
}
# Measured on the bench database, as the API role.
BenchMeasure = Callable[[Report, BenchDatabase, Config], object]


def _phases(
    report: Report, c: Config, server: database.LocalDatabase, box: Sandbox | None
) -> dict[str, Callable[[], object]]:
    """What each phase runs: ``cold`` and ``first`` run functions of the build (``box``), the
    others read databases, the bench database seeded when a phase first reads it."""
    bench = functools.cache(lambda: prepare_database(server, c.database_prefix, c.bench))
    built = typing.cast(Sandbox, box)  # laid out whenever a phase of it runs

    def diagnoses(prefix: str) -> bool:
        """Always, or when a goal of ``prefix`` was missed."""
        return c.diagnose == "always" or (c.diagnose == "auto" and bool(report.missed(prefix)))

    def on_bench(
        *measures: BenchMeasure, diagnose: tuple[str, BenchMeasure] | None = None
    ) -> Callable[[], None]:
        def phase() -> None:
            with functions_connected_as(bench().local, API_ROLE):
                for measure in measures:
                    _measured(measure, report, bench(), c)
                if diagnose is not None and diagnoses(diagnose[0]):
                    _measured(diagnose[1], report, bench(), c)

        return phase

    def cold() -> None:
        only = c.cold_functions
        functions = {k: f for k, f in built.functions.items() if only is None or k in only}
        cold_box = dataclasses.replace(built, functions=functions)
        loaded = measure_cold(report, cold_box, c.cold_runs)
        if diagnoses("cold_start."):
            diagnose_cold(report, cold_box, loaded, c.cold_runs)

    return {
        "cold": cold,
        "first": lambda: measure_first(report, built, server, c),
        "warm": on_bench(measure_warm, measure_wall, diagnose=("warm.", diagnose_warm)),
        "db_cpu": on_bench(measure_db_cpu),
        "round_trips": on_bench(lambda r, b, _: measure_round_trips(r, b), measure_latency),
        "sync": on_bench(measure_sync, diagnose=("sync.", diagnose_sync)),
        "outbox": on_bench(measure_outbox),
        "drain": on_bench(measure_drain),
        "memory": lambda: measure_memory(report, built, bench(), c),
        "large": lambda: measure_large(report, server, c),
        "periods": lambda: measure_periods(report, server, c),
        "archive": lambda: measure_archive(report, server, c),
        "revocation": lambda: measure_revocation(report, server, c),
        "feed": lambda: measure_feed(report, server, c),
    }


def _measured(measure: BenchMeasure, report: Report, bench: BenchDatabase, c: Config) -> None:
    """``measure`` from none of the rows the API's writes create, and none left after it (a
    run stopped halfway, or writes sent to the bench database by hand, left some: the newest
    rows of the table, which a List's plain plan, the floor's and the peers', walks first)."""
    remove_created_rows(bench)
    try:
        measure(report, bench, c)
    finally:
        remove_created_rows(bench)


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
    chosen = set(config.phases or TITLES)
    if "outbox" in chosen:
        chosen.add("sync")  # its batches write the outbox phase's sync batch figures too
    # The functions of the build each phase runs (None: every one of the template).
    functions = {"cold": config.cold_functions, "first": config.first_functions}
    functions["memory"] = (MEMORY_FUNCTION,)
    built = [wanted for phase, wanted in functions.items() if phase in chosen]
    if built:
        ensure_build(config.build)
    # One phase that wants every function (None) gets the whole build.
    only = None if None in built else sorted({f for b in built for f in b or ()})
    with quiet_powertools(), sandbox(only) if built else contextlib.nullcontext() as box:
        phases = _phases(report, config, server, box)
        if chosen - {"cold", "first"}:
            step(f"bench databases on the {server_kind} server")
            report.machine["postgres_server"] = server_kind
            # On the maintenance database: a phase that builds databases of its own may run on
            # a server where the bench's default one was never made.
            with database.maintenance_connection(server) as conn:
                report.machine["postgres"] = str(conn.run("SHOW server_version")[0][0])
        for n, (phase, title) in enumerate(TITLES.items(), 1):
            if phase in chosen:
                step(f"{n}/{len(TITLES)} " + title.format(c=config))
                phases[phase]()
    report.machine["load_average_at_end"] = list(os.getloadavg())
    report.machine["bench_seconds"] = round(time.perf_counter() - started, 1)
    if output is not None:
        report.write(output)
    return report


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


def parser() -> argparse.ArgumentParser:
    """The options, each named as the field of ``Config`` it sets."""
    parser = argparse.ArgumentParser(
        prog="python -m welldev.bench", description=(bench.__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs and iterations")
    phases = f"comma-separated phases of: {','.join(TITLES)}"
    parser.add_argument("--only", dest="phases", type=_names, metavar="PHASES", help=phases)
    functions = "comma-separated logical ids whose cold start and first request are measured"
    parser.add_argument("--functions", dest="cold_functions", type=_names, help=functions)
    runs = f"cold start runs (default {Config.cold_runs})"
    parser.add_argument("--cold-runs", type=int, metavar="N", help=runs)
    iterations = f"warm iterations (default {Config.warm_iterations})"
    parser.add_argument(
        "--iterations", dest="warm_iterations", type=int, metavar="N", help=iterations
    )
    parser.add_argument("--diagnose", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--no-build", dest="build", action="store_false", help="no `make build`")
    parser.add_argument("--data-dir", type=Path, default=LOCAL_DIR / "bench-pg")
    parser.add_argument("--output", type=Path, default=LOCAL_DIR / "bench.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    return parser


def config_from(args: argparse.Namespace) -> Config:
    config = Config.quick() if args.quick else Config()
    given = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(Config)}
    config = dataclasses.replace(config, **{k: v for k, v in given.items() if v is not None})
    if unknown := sorted(set(config.phases or ()) - set(TITLES)):
        raise BenchError(f"unknown phases: {', '.join(unknown)}")
    # The first requests are of the cold starts' functions.
    return dataclasses.replace(config, first_functions=config.cold_functions)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = config_from(args)
        kind = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded"
        server = database.LocalDatabase("")
        if set(config.phases or TITLES) - {"cold"}:
            step(f"PostgreSQL: {kind if kind != 'embedded' else args.data_dir}")
            server = database.resolve(args.data_dir)
            if kind == "embedded":
                # The 10-million-row database needs the buffer pool a server of its size has
                # (RDS gives a quarter of memory): with the default 128 MB, the large-tenant
                # figures would measure page reads through the operating system instead.
                database.configure_embedded(args.data_dir, EMBEDDED_SETTINGS)
        report = run(config, server, args.output, server_kind=kind)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(table(report))
    if diagnostics := diagnostics_text(report):
        print("\ndiagnostics (details.diagnostics in the JSON):\n" + diagnostics)
    results = args.output.with_name(f"{args.output.stem}-pyperf.json")
    print(f"\nwrote {args.output} and {results} in {report.machine['bench_seconds']:.0f} s")
    print(f"(python -m pyperf show {results}: every other figure; compare_to: two runs)")
    return 1 if args.strict and report.missed("") else 0
