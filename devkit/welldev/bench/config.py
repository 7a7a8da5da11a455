"""What a bench run measures, and on what: the phases, the sizes, the iterations.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BUILD_DIR = ROOT / ".aws-sam" / "build"
LOCAL_DIR = ROOT / ".local"


@dataclass(frozen=True)
class LargeSizes:
    """The large-tenant phase's (``large``): the big and the small database, the sync batches."""

    rows: int  # the big tenant's account ledger rows in the large database
    base_rows: int = 10_000
    small_rows: int = 10_000
    # Each shape's calls on each database, in rounds taking turns: a ratio of medians of fewer
    # than a hundred calls moved by 0.2x from run to run on this project's bench machine.
    iterations: int = 160
    rounds: int = 8
    warmup: int = 2
    sync_batches: int = 6
    sync_ids: int = 1_000  # record ids per message (databases.RECORDS accounts at least)


@dataclass(frozen=True)
class PeriodSizes:
    """The periods phase's (``periods``): the same rows in one period, a year's, a quarter's."""

    rows: int  # the big tenant's account ledger rows, over ``years``
    years: int = 5
    small_rows: int = 10_000
    # Each shape's calls on each database, in rounds taking turns: a ratio of medians of fewer
    # than a hundred calls moved by 0.2x from run to run on this project's bench machine.
    iterations: int = 160
    rounds: int = 8
    # A named statement is planned for its values five times, then keeps its generic plan.
    warmup: int = 6
    sync_batches: int = 6
    sync_ids: int = 1_000


@dataclass(frozen=True)
class Sizes:
    """What the bench database holds."""

    ledger_rows: int  # account_workspace_connectors rows of connector X (a List deep in them)
    warm_rows: int  # company_workspace_connectors rows of the member's workspace
    sync_records: int  # people the sync batches link (messages x ids per batch)


@dataclass(frozen=True)
class Config:
    """A full run's by default."""

    phases: tuple[str, ...] | None = None  # None: every phase of the runner
    database_prefix: str = "wellapi_bench"
    bench: Sizes = Sizes(10_000, warm_rows=300, sync_records=10_000)
    cold_runs: int = 3
    cold_functions: tuple[str, ...] | None = None  # None: every function of the template
    warm_iterations: int = 300
    warmup: int = 30
    sync_messages: int = 10
    sync_ids: int = 1_000
    sync_batches: int = 3
    sync_reps: int = 3
    memory_requests: int = 10_000
    memory_sample_every: int = 1_000
    large_tenants: LargeSizes = LargeSizes(rows=10_000_000)
    periods: PeriodSizes = PeriodSizes(rows=10_000_000)
    profile_requests: int = 200
    diagnose: str = "auto"  # "auto" (when a goal is missed), "always" or "never"
    build: bool = True  # run `make build` when the build is missing or stale
    # The revocation phase: the revoked connector's rows, and how long the other tenant's
    # traffic runs alone first.
    revocation_rows: int = 10_000_000
    # The archive phase: the rows of each of the two periods (one deleted, one detached): a
    # year of a mid-sized deployment (docs/performance.md's large workspace adds 36,000,000).
    archive_rows: int = 5_000_000
    revocation_baseline_seconds: float = 10.0
    # The feed phase: the big and the small workspace's change records, and the requests
    # timed of each case at each size.
    feed_records: int = 10_000_000
    feed_small_records: int = 10_000
    feed_iterations: int = 200
    first_runs: int = 9  # cold start with the first request: runs per function, each side
    runtime_runs: int = 3  # the same under awslambdaric, per function
    first_functions: tuple[str, ...] | None = None  # None: every function of the template
    # The db_cpu phase: requests per side and case, in rounds of this many taking turns.
    db_cpu_requests: int = 1_000
    db_cpu_round: int = 100

    @classmethod
    def quick(cls) -> Config:
        """Fewer runs and iterations, same data: a rough picture in about two minutes."""
        return replace(
            cls(),
            cold_runs=1,
            first_runs=3,
            runtime_runs=1,
            warm_iterations=60,
            warmup=10,
            sync_batches=1,
            sync_reps=1,
            memory_requests=2_000,
            memory_sample_every=500,
            large_tenants=LargeSizes(rows=10_000_000, iterations=12, sync_batches=1),
            periods=PeriodSizes(rows=10_000_000, iterations=12, sync_batches=1),
            profile_requests=50,
            db_cpu_requests=300,
        )


EMBEDDED_SETTINGS = {"shared_buffers": "1GB"}
# The bound on what the outbox may add to a Create and to a sync batch (#42).
OUTBOX_GOAL = 1.1
PAGE_SIZE = 20  # the API's default page size, the deep List's
