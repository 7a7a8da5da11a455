"""The bench in miniature, for tests/system/test_bench_smoke.py: its configuration, and the
databases a run leaves on the test server."""

from __future__ import annotations

from dataclasses import replace

from welldev import database
from welldev.bench.config import Config, LargeSizes, PeriodSizes, Sizes

# The databases a run makes, by the suffix of its ``database_prefix``.
SUFFIXES = (
    "",
    "_tenants_base",
    "_tenants_large",
    "_revocation_seed",
    "_revocation",
    "_feed",
    "_archive",
)


def tiny(cold_function: str = "AccountWorkspaceConnectorsRetrieveFunction") -> Config:
    """Every code path on a handful of rows (the smoke test): shapes, not timings."""
    return replace(
        Config.quick(),
        database_prefix="wellapi_bench_smoke",
        bench=Sizes(2_000, warm_rows=30, sync_records=20),
        cold_functions=(cold_function,),
        first_runs=1,
        first_functions=(
            cold_function,
            "AuthorizerFunction",
            "SyncFunction",
            "WorkspaceGroupWorkspacesEnrolFunction",
        ),
        warm_iterations=5,
        warmup=2,
        sync_messages=2,
        sync_ids=10,
        memory_requests=200,
        memory_sample_every=50,
        large_tenants=LargeSizes(
            rows=2_000,
            base_rows=500,
            small_rows=300,
            iterations=2,
            rounds=2,
            warmup=1,
            sync_batches=1,
            sync_ids=20,
        ),
        periods=PeriodSizes(
            rows=2_000,
            years=2,
            small_rows=300,
            iterations=2,
            rounds=2,
            warmup=1,
            sync_batches=1,
            sync_ids=20,
        ),
        profile_requests=5,
        diagnose="always",
        build=False,
        revocation_rows=2_000,
        archive_rows=2_000,
        revocation_baseline_seconds=0.5,
        feed_records=3_000,
        feed_small_records=300,
        feed_iterations=3,
        db_cpu_requests=10,
        db_cpu_round=5,
    )


def drop_databases(server: database.LocalDatabase, config: Config) -> None:
    for suffix in SUFFIXES:
        database.drop_database(server, config.database_prefix + suffix)
