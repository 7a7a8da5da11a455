"""The command line of ``make bench``: its options, the configuration they make, the output.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from welldev import bench, database
from welldev.bench.config import EMBEDDED_SETTINGS, LOCAL_DIR, PHASES, Config
from welldev.bench.errors import BenchError
from welldev.bench.report import diagnostics_text, table
from welldev.bench.runner import run
from welldev.console import step


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wellapi bench", description=(bench.__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs and iterations")
    parser.add_argument("--only", help=f"comma-separated phases of: {','.join(PHASES)}")
    parser.add_argument("--functions", help="comma-separated logical ids for the cold starts")
    parser.add_argument("--cold-runs", type=int, help="runs per function (default 3)")
    parser.add_argument("--iterations", type=int, help="warm iterations (default 300)")
    parser.add_argument("--diagnose", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--no-build", action="store_true", help="never run `make build`")
    parser.add_argument("--data-dir", type=Path, default=LOCAL_DIR / "bench-pg")
    parser.add_argument("--output", type=Path, default=LOCAL_DIR / "bench.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    return parser


def config_from(args: argparse.Namespace) -> Config:
    config = Config.quick() if args.quick else Config()
    changes: dict[str, Any] = {"diagnose": args.diagnose, "build": not args.no_build}
    if args.only:
        phases = tuple(p.strip() for p in args.only.split(","))
        unknown = sorted(set(phases) - set(PHASES))
        if unknown:
            raise BenchError(f"unknown phases: {', '.join(unknown)}")
        changes["phases"] = phases
    if args.functions:
        changes["cold_functions"] = tuple(f.strip() for f in args.functions.split(","))
        changes["first_functions"] = changes["cold_functions"]
    if args.cold_runs:
        changes["cold_runs"] = args.cold_runs
    if args.iterations:
        changes["warm_iterations"] = args.iterations
    return replace(config, **changes)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = config_from(args)
        kind = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded"
        needs_db = any(p != "cold" for p in config.phases)
        if needs_db:
            step(f"PostgreSQL: {'DATABASE_URL' if kind != 'embedded' else args.data_dir}")
        server = database.resolve(args.data_dir) if needs_db else database.LocalDatabase("")
        if needs_db and kind == "embedded":
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
    diagnostics = diagnostics_text(report)
    if diagnostics:
        print("\ndiagnostics (details.diagnostics in the JSON):\n" + diagnostics)
    results = args.output.with_name(f"{args.output.stem}-pyperf.json")
    print(f"\nwrote {args.output} and {results} in {report.machine['bench_seconds']:.0f} s")
    print(f"(python -m pyperf stats {results}; compare two runs with pyperf compare_to)")
    missed = any(not r.met for r in report.ratios.values())
    return 1 if args.strict and missed else 0
