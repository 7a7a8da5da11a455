"""``make bench`` in miniature: every measurement on a handful of rows, so the bench cannot rot.

The bench's own functions run in ``tests.support.bench.tiny()``: small databases on the test
server, a few iterations, one function for the cold start, four for the first request (an API read,
a group enrolment that must be put back between runs, the authorizer and the sync function), every
diagnostic. Timings mean nothing at this size and are not asserted; the report's shape is (~20 s,
~7 s more for the first request). The cold start, the first request and the memory process read
``.aws-sam/build`` like tests/system/test_packaging.py (``make test`` builds first).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyperf
import pytest

from tests.support.bench import drop_databases, tiny
from welldev.bench.config import BUILD_DIR, Config
from welldev.bench.peers import PEERS
from welldev.bench.report import diagnostics_text, table
from welldev.bench.runner import config_from, main, parser, run
from welldev.bench.wire import Call, Wire, split_statements
from welldev.database import LocalDatabase

COLD_FUNCTION = "AccountWorkspaceConnectorsRetrieveFunction"
# The peers' figures: at each round trip, and each side's CPU.
MS = ("0ms", "1ms")
SIDE = ("database", "function")
# pyperf's metadata of the machine and interpreter, and what the bench adds to it.
MACHINE = ("cpu_model_name", "cpu_count", "memory_gb", "python_version", "postgres", "git_commit")
FIGURES = (
    f"cold_start.{COLD_FUNCTION}",
    f"cold_start.{COLD_FUNCTION}.floor",
    f"first_request.{COLD_FUNCTION}.cpu",
    f"first_request.{COLD_FUNCTION}.floor.cpu",
    f"first_request.{COLD_FUNCTION}.import.cpu",
    "first_request.WorkspaceGroupWorkspacesEnrolFunction.cpu",
    "first_request.SyncFunction.floor.cpu",
    f"runtime.{COLD_FUNCTION}.init",
    f"runtime.{COLD_FUNCTION}.first_invoke",
    "runtime.AuthorizerFunction.first_invoke",
    "warm.retrieve.handler",
    "warm.retrieve.raw",
    "warm.list.handler",
    "warm.list.raw",
    "warm.create.handler",
    "warm.create.raw",
    "warm.list.raw_rls",
    "warm.list.raw_no_rls",
    "round_trips.retrieve",
    "statements.list_size_100_include",
    "transactions.create",
    "round_trips.sync_batch_full",
    "latency.retrieve.0ms",
    "latency.retrieve.1ms",
    "latency.create.added_per_round_trip",
    "latency.round_trip",
    *(f"latency.{c}.{peer}.{ms}" for c in ("retrieve", "list") for peer in PEERS for ms in MS),
    *(f"latency.retrieve.{side}{ms}.database" for side in ("", "drf.") for ms in MS),
    "latency.retrieve.database_growth",
    "scale.deep_cursor.large",
    "scale.deep_cursor.small",
    "sync.rows_per_second",
    "sync.copy_rows_per_second",
    "sync.database_cpu_per_row",
    "sync.copy_database_cpu_per_row",
    "sync.updated_at_indexes.rows_per_second",
    "sync.updated_at_indexes.database_cpu_per_row",
    "outbox.create.with_record",
    "outbox.create.without_record",
    "outbox.create.database.with_record",
    "outbox.create.database.without_record",
    "outbox.sync_batch.with_record",
    "outbox.sync_batch.without_record",
    "memory.peak_rss",
    "memory.rss_after_first_thousand",
    "memory.rss_after_last_thousand",
    "large.big.account_workspace_connectors.default",
    "large.small.account_workspace_connectors.default.base",
    "large.sync.rows_per_second",
    "large.sync.rows_per_second.base",
    "large.pages.first",
    "large.pages.cursor_deep",
    "large.pages.number_deep",
    "periods.account_workspace_connectors.default",
    "periods.account_workspace_connectors.default.one",
    *(f"periods.sync.rows_per_second.{layout}" for layout in ("one", "year", "quarter")),
    "revocation.hidden_ms",
    "revocation.sweep_seconds",
    "revocation.step_seconds",
    "revocation.other_tenant_rows_per_second_alone",
    "revocation.other_tenant_rows_per_second_during_sweep",
    "feed.deep.big",
    "feed.deep.small",
    "feed.sync_run.big",
    "feed.deep.resource_type_and_change.small",
    "wall.retrieve.with",
    "wall.retrieve.without",
    "wall.retrieve.unsettled",
    "wall.retrieve.inline",
    "wall.create.with",
    *(f"db_cpu.{c}.{p}" for c in ("retrieve", "create") for p in ("database", "function")),
    "db_cpu.list.floor.database",
    *(f"db_cpu.{c}.{peer}.{p}" for c in ("list", "create") for peer in PEERS for p in SIDE),
    "wire.list_size_100_include.largest_message",
    "wire.sync_batch_full.largest_message",
)
RATIOS = (
    f"first_request.{COLD_FUNCTION}",
    "first_request.worst",
    "first_request.authorizer",
    "first_request.sync",
    "warm.retrieve",
    "warm.list",
    "warm.create",
    "statements.retrieve",
    "statements.list_size_100_include",
    "round_trips.growth_with_page_size_and_include",
    "transactions.create",
    "transactions.update",
    "transactions.delete",
    "scale.deep_cursor",
    "sync.throughput_vs_copy",
    "outbox.create",
    "outbox.sync_batch",
    "wall.retrieve",
    "wall.list_default",
    "wall.create",
    "wall.retrieve.settings",
    "wall.list_default.settings",
    "wall.create.settings",
    "db_cpu.retrieve.own",
    "db_cpu.create.own",
    "round_trips.retrieve",
    "transactions.retrieve",
    "memory.peak_rss_mb",
    "memory.growth_mb",
    "warm.retrieve.rls",
    "warm.list.rls",
    "large.worst",
    "periods.account_workspace_connectors.default",
    "periods.account_workspace_connectors.default.cpu",
    "periods.account_workspace_connectors.retrieve_include.cpu",
    "periods.sync",
    "archive.detach_drop.time",
    "archive.detach_drop.wal",
    "large.pages.number_deep",
    "large.sync.slowdown",
    "large.big.people_workspace_connectors.cursor_deep",
    "large.small.workspace_providers.retrieve_include",
    "revocation.hidden_ms",
    "revocation.longest_statement_seconds",
    "revocation.other_tenant_throughput_during_sweep",
    "feed.first_page",
    "feed.deep",
    "feed.deep.resource_type",
    "feed.deep.change",
    "feed.deep.resource_type_and_change",
    "feed.sync_run",
    "db_cpu.retrieve",
    "db_cpu.retrieve.one_message",
    "db_cpu.list_default",
    "db_cpu.list",
    "db_cpu.create",
    *(f"db_cpu.{c}.peers" for c in ("retrieve", "list_default", "list", "create")),
    *(f"db_cpu.{c}.peers_beyond_wall" for c in ("retrieve", "list_default", "list", "create")),
    *(f"lead.{c}.{ms}" for c in ("retrieve", "list_default", "list", "create") for ms in MS),
    "latency.round_trip",
    "wire.retrieve",
    "wire.create",
    "wire.sync_batch_full",
)


@pytest.fixture(scope="module")
def output(server: LocalDatabase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The goals file of a tiny run (pyperf's results beside it)."""
    if not (BUILD_DIR / "template.yaml").is_file():
        pytest.fail("no sam build: run `make build` before these tests; `make test` does")
    config = tiny(COLD_FUNCTION)
    output = tmp_path_factory.mktemp("bench") / "bench.json"
    try:
        result = run(config, server, output)
    finally:
        drop_databases(server, config)
    assert "goals met" in table(result)
    assert diagnostics_text(result)
    return output


@pytest.fixture(scope="module")
def report(output: Path) -> dict[str, Any]:
    return dict(json.loads(output.read_text()))


def test_pyperf_reads_every_figure_it_has_a_unit_for(output: Path, report):
    suite = pyperf.BenchmarkSuite.load(str(output.with_name("bench-pyperf.json")))
    benchmarks = {b.get_name(): b for b in suite.get_benchmarks()}
    units = {
        "ms": ("second", 1e-3),
        "ms cpu": ("second", 1e-3),
        "s": ("second", 1),
        "MB": ("byte", 2**20),
    }
    for name, figure in report["figures"].items():
        if figure["unit"] not in units or figure["min"] <= 0:
            continue
        unit, factor = units[figure["unit"]]
        benchmark = benchmarks.pop(name)
        assert benchmark.get_unit() == unit, name
        assert benchmark.get_nvalue() == figure["n"], name
        # The goals file rounds to four significant digits.
        assert benchmark.median() == pytest.approx(figure["median"] * factor, rel=1e-3), name
    # Counts are pyperf integers; rows/s has no pyperf unit and stays in the goals file alone.
    assert all(b.get_unit() == "integer" for b in benchmarks.values())
    assert "sync.rows_per_second" not in benchmarks
    assert suite.get_metadata()["git_commit"] == report["machine"]["git_commit"]


def test_the_report_describes_the_machine(report):
    assert set(MACHINE) <= set(report["machine"])
    assert report["machine"]["cpu_count"] >= 1
    assert report["machine"]["postgres"]


def test_every_measurement_has_a_figure_with_median_min_max_and_unit(report):
    figures = report["figures"]
    assert set(FIGURES) <= set(figures)
    for name, figure in figures.items():
        assert set(figure) >= {"median", "min", "max", "unit"}, name
        assert figure["min"] <= figure["median"] <= figure["max"], name
        assert isinstance(figure["unit"], str), name


def test_every_goal_is_a_value_next_to_its_goal(report):
    ratios = report["ratios"]
    assert set(RATIOS) <= set(ratios)
    for name, ratio in ratios.items():
        assert isinstance(ratio["value"], int | float), name
        assert isinstance(ratio["goal"], int | float), name
        assert isinstance(ratio["met"], bool), name


def test_details_hold_the_third_party_packages_the_plans_and_the_diagnostics(report):
    details = report["details"]
    assert details["cold_start"]["paired_ratio"][COLD_FUNCTION] > 0
    packages = details["cold_start"]["third_party_packages"][COLD_FUNCTION]
    assert {"pg8000", "aws_lambda_powertools"} <= set(packages)
    # A Retrieve composes its statement with neither SQLAlchemy nor pydantic at cold start.
    assert not {"sqlalchemy", "pydantic", "wellapi"} & set(packages)
    assert set(details["diagnostics"]) == {"cold_start", "warm", "sync"}
    # Each read's database CPU taken apart, each part a figure; every case's capacity.
    parts = details["db_cpu"]["list.parts"]
    assert set(parts) == {
        "transaction",
        "settings",
        "opening",
        "proof_and_scope",
        "statements_parse_and_plan",
        "statements_execute",
        "whole",
    }
    assert all(details["db_cpu"][c]["requests_per_core_second"] > 0 for c in ("retrieve", "create"))
    # The changes feed's statements and retention's step, each explained.
    explained = details["feed"]["explain"]
    assert set(explained) == {
        "page.deep",
        "page.deep.resource_type",
        "page.sync_run",
        "expired",
        "prune_step",
    }
    assert all(e["execution_ms"] is not None and e["buffers"] for e in explained.values())
    # Two transactions (the records' resolution, the batch), each one message: its settings
    # (core_api.set_transaction_settings()) first, its statements, its COMMIT.
    assert details["first_request"]["queries"]["SyncFunction"] == 2
    assert details["first_request"]["worst"] in details["first_request"]["events"]


def test_statements_are_split_outside_quoted_text():
    assert split_statements("SELECT 'a;b'; SELECT \"x;y\" FROM t;") == [
        "SELECT 'a;b'",
        'SELECT "x;y" FROM t',
    ]


def test_transactions_are_counted_per_implicit_or_explicit_block():
    calls = [
        Call("simple", "SELECT 1; SELECT 2"),
        Call("unnamed", "begin transaction"),
        Call("unnamed", "INSERT INTO t VALUES (1)"),
        Call("unnamed", "commit"),
    ]
    assert Wire(calls).transactions == 2


def test_the_command_line_refuses_unknown_phases(capsys):
    assert main(["--only", "cold,nope"]) == 2
    assert "unknown phases: nope" in capsys.readouterr().err


def test_the_command_line_narrows_the_configuration(tmp_path: Path):
    args = parser().parse_args(
        ["--quick", "--only", "warm,large", "--iterations", "7", "--functions", "A,B"]
    )
    config = config_from(args)
    assert config.phases == ("warm", "large")
    assert config.warm_iterations == 7
    assert config.cold_functions == config.first_functions == ("A", "B")
    assert config.cold_runs == Config.quick().cold_runs
