"""``make bench``: the performance goals of the API, measured on this machine in one command.

    python -m welldev.bench [--quick] [--only cold,warm,...] [--output .local/bench.json]

It seeds its own data (an embedded PostgreSQL in ``.local/bench-pg``, or the server of
``DATABASE_URL``), runs every measurement several times, prints a table and writes
``.local/bench.json``: ``machine``, ``figures`` (median/min/max and unit of every measured
quantity), ``ratios`` (every goal as a value next to its goal, measured in the same run as the
floor it is compared with) and ``details`` (plans, samples, derived module lists, diagnostics).

The seven measurements, and the floor each one is held against:

1. cold start of every function of the built template, in a fresh ``-I -S -B`` interpreter that
   sees only what Lambda puts on ``sys.path`` (a read-only copy of the code directory, the
   layer's ``python/`` and the runtime's boto3), against a fresh interpreter importing only the
   third-party modules that function loads (each module, not only its top-level package: the
   PostgreSQL dialect and Powertools' event handler are needed by the first request whatever
   the import order, so a floor without them would reward moving them out of the import);
   ``tests/test_packaging.py`` fails any function that loads a module it does not need
   (``sqlalchemy.orm``, boto3);
2. warm latency of Retrieve, List (100 rows, two includes) and Create through the Lambda
   handler, against the same SQL text sent by hand with raw pg8000 and dumped with ``json``,
   by a role row-level security does not apply to; the same SQL as the API role beside it,
   so the policies' own price is a goal too (at most 1.2x);
3. statements, round trips and transactions per request, counted at the pg8000 connection;
4. the sync-status List with a cursor ~1,000 pages deep on 1,000,000 ledger rows, against the
   same request on 10,000 rows;
5. rows/s through the sync handler, against raw ``COPY`` of the same rows into the same table;
6. peak RSS of a process serving 10,000 Retrieve requests, and its growth;
7. every read shape of every resource for a tenant of 10,000,000 ledger rows and for a small
   tenant beside it, against the same shapes at 10,000 rows, and the sync writer's rows/s at
   both sizes (``welldev.bench_large``).

Beside the import-only cold start (reported, no longer a goal: see ``measure_cold``), phase
``first`` (``welldev.bench_first``) holds the cold start with the first request, every
function's own event on the seeded demo, to 3x a fresh interpreter sending the same SQL with
raw pg8000, and reports init and first invoke under the real runtime client (awslambdaric).

The seeded databases are cached between runs (their fingerprint covers the migrations, the
seed and the sizes), so only the first run pays the ~10 s of seeding. A full run took 2-3
minutes on a 2-core AMD EPYC VM (plus ~20-50 s when ``sam build`` is stale), most of it the
cold starts (33 functions x 3 runs x 2 interpreters); ``--quick`` takes about a minute.
Cold starts are judged on the child's CPU time, reported beside its wall time: on a shared
machine the wall time of a single-threaded import mostly measures the other processes.
When a goal is missed, the bench also records what it costs (``-X importtime`` by package,
cProfile of the handler, time on the wire, the plan without row-level security): see
``details.diagnostics``.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi import db as wellapi_db
from wellapi.migrate import migrations_dir
from wellapi.roles import API_ROLE
from welldev import database
from welldev.bench_harness import (
    CONTEXT,
    BenchError,
    Handler,
    Report,
    api_event,
    functions_connected_to,
    handler_for,
    invoke,
    link_installed,
    note,
    quiet_powertools,
    sync_events,
)
from welldev.bench_large import LargeSizes, measure_large
from welldev.claims import claims
from welldev.cli import step

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
LOCAL_DIR = ROOT / ".local"
# What the python3.13 Lambda runtime provides besides the standard library (as in
# tests/test_packaging.py): linked from the venv, never copied into an artifact.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
# Sources whose change makes the sam build stale (devkit/welldev is not shipped).
BUILD_SOURCES = ("template.yaml", "functions", "layers/shared", "migrations")
NOT_SHIPPED = ("devkit/welldev/",)
SCOPE_PREFIX = "SELECT workspace_pk, person_pk FROM core_api.set_scope("
MB = 1024 * 1024


# =============================================================================================
# Configuration
# =============================================================================================


@dataclass(frozen=True)
class Sizes:
    """What a bench database holds."""

    ledger_rows: int  # account_workspace_connectors rows (the scale table)
    warm_rows: int  # company_workspace_connectors rows of the member's workspace
    sync_records: int  # people the sync batches link (messages x ids per batch)
    connectors: int = 20  # the ledger rows are spread over this many connectors...
    workspaces: int = 5  # ...in this many workspaces
    rows_per_account: int = 10  # every account is touched by ~10 sync runs
    # The scale query's cursor: this many pages of PAGE_SIZE rows lie before the measured page.
    deep_pages: int = 1


@dataclass(frozen=True)
class Config:
    phases: tuple[str, ...]
    database_prefix: str
    large: Sizes
    small: Sizes
    cold_runs: int
    cold_functions: tuple[str, ...] | None  # None: every function of the template
    warm_iterations: int
    warmup: int
    scale_iterations: int
    sync_messages: int
    sync_ids: int
    sync_batches: int
    sync_reps: int
    memory_requests: int
    memory_sample_every: int
    large_tenants: LargeSizes
    profile_requests: int
    diagnose: str  # "auto" (when a goal is missed), "always" or "never"
    build: bool  # run `make build` when the build is missing or stale
    first_runs: int = 9  # cold start with the first request: runs per function, each side
    runtime_runs: int = 3  # the same under awslambdaric, per function
    first_functions: tuple[str, ...] | None = None  # None: every function of the template

    @classmethod
    def full(cls) -> Config:
        return cls(
            phases=PHASES,
            database_prefix="wellapi_bench",
            # X, the measured connector, holds 1/20 of the rows: 50,000; ~39,600 live ones in its
            # window, and the cursor sits after exactly 20,000 of those: page 1,001 at 20 rows a
            # page. The 10,000-row database is the same shape at 1/100: page 11.
            large=Sizes(1_000_000, warm_rows=300, sync_records=10_000, deep_pages=1_000),
            small=Sizes(10_000, warm_rows=5, sync_records=10, deep_pages=10),
            cold_runs=3,
            cold_functions=None,
            warm_iterations=300,
            warmup=30,
            scale_iterations=300,
            sync_messages=10,
            sync_ids=1_000,
            sync_batches=3,
            sync_reps=3,
            memory_requests=10_000,
            memory_sample_every=1_000,
            large_tenants=LargeSizes(rows=10_000_000),
            profile_requests=200,
            diagnose="auto",
            build=True,
        )

    @classmethod
    def quick(cls) -> Config:
        """Fewer runs and iterations, same data: a rough picture in about two minutes."""
        return replace(
            cls.full(),
            cold_runs=1,
            first_runs=3,
            runtime_runs=1,
            warm_iterations=60,
            warmup=10,
            scale_iterations=60,
            sync_batches=1,
            sync_reps=1,
            memory_requests=2_000,
            memory_sample_every=500,
            large_tenants=LargeSizes(rows=10_000_000, iterations=12, sync_batches=1),
            profile_requests=50,
        )

    @classmethod
    def tiny(cls, cold_function: str = "AccountWorkspaceConnectorsRetrieveFunction") -> Config:
        """Every code path on a handful of rows (the smoke test): shapes, not timings."""
        return replace(
            cls.full(),
            database_prefix="wellapi_bench_smoke",
            large=Sizes(2_000, warm_rows=30, sync_records=20, deep_pages=2),
            small=Sizes(200, warm_rows=5, sync_records=2, deep_pages=1),
            cold_runs=1,
            cold_functions=(cold_function,),
            first_runs=1,
            runtime_runs=1,
            first_functions=(
                cold_function,
                "AuthorizerFunction",
                "SyncFunction",
                "WorkspaceGroupWorkspacesEnrolFunction",
            ),
            warm_iterations=5,
            warmup=2,
            scale_iterations=6,
            sync_messages=2,
            sync_ids=10,
            sync_batches=1,
            sync_reps=1,
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
            profile_requests=5,
            diagnose="always",
            build=False,
        )


PHASES = ("cold", "first", "round_trips", "warm", "scale", "sync", "memory", "large")
EMBEDDED_SETTINGS = {"shared_buffers": "1GB"}
PAGE_SIZE = 20  # the API's default page size, used by the scale query


# =============================================================================================
# Results
# =============================================================================================


# =============================================================================================
# The machine
# =============================================================================================


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _git(*args: str) -> str:
    try:
        run = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, like make does
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return ""
    return run.stdout.strip()


def machine_info() -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "HEAD"),
        # The bench measures the working tree, which may hold uncommitted changes.
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average_at_start": list(os.getloadavg()),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# =============================================================================================
# What reaches the database: statements, round trips and transactions at the pg8000 connection
# =============================================================================================


@dataclass
class Call:
    protocol: str  # simple (one Query message), unnamed or named (extended protocol)
    sql: str
    round_trips: int = 0
    seconds: float = 0.0


@dataclass
class Wire:
    calls: list[Call] = field(default_factory=list)
    # Waits for ReadyForQuery outside any execute (connecting, authentication).
    other_round_trips: int = 0

    @property
    def round_trips(self) -> int:
        return sum(c.round_trips for c in self.calls) + self.other_round_trips

    @property
    def statements(self) -> list[str]:
        return [s for c in self.calls for s in split_statements(c.sql)]

    @property
    def operation_statements(self) -> list[str]:
        """Every statement but the scope statement each request opens with."""
        return [s for s in self.statements if not s.startswith(SCOPE_PREFIX)]

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def transactions(self) -> int:
        return count_transactions(self.calls)


def split_statements(sql: str) -> list[str]:
    """The statements of a simple-protocol query: ``;`` outside quoted text splits them.

    The API's and the sync writer's SQL never use dollar quoting, so quotes suffice.
    """
    parts: list[str] = []
    current: list[str] = []
    quote_char: str | None = None
    for char in sql:
        if quote_char is not None:
            if char == quote_char:
                quote_char = None
        elif char in "'\"":
            quote_char = char
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_OPENS = ("BEGIN", "START")
_CLOSES = ("COMMIT", "ROLLBACK", "END", "ABORT")


def count_transactions(calls: Sequence[Call]) -> int:
    """Transactions the calls ran: outside a BEGIN block, each call is its own implicit one."""
    count = 0
    in_block = False
    for call in calls:
        heads = [s.split(None, 1)[0].upper() for s in split_statements(call.sql)]
        if not in_block and heads and heads[0] not in _CLOSES:
            count += 1
        for head in heads:
            if head in _OPENS:
                in_block = True
            elif head in _CLOSES:
                in_block = False
    return count


@contextlib.contextmanager
def recording() -> Iterator[Wire]:
    """Count every query and every wait for the server on every pg8000 connection.

    ``handle_messages`` reads until ReadyForQuery: each call is one network round trip (a
    simple query costs one, a parameterised statement three: Parse, Describe, Bind+Execute).
    """
    core = pg8000.core.CoreConnection
    originals = {
        name: getattr(core, name)
        for name in ("execute_simple", "execute_unnamed", "execute_named", "handle_messages")
    }
    wire = Wire()
    current: list[Call] = []

    def traced(protocol: str, sql: str, run: Callable[[], Any]) -> Any:
        call = Call(protocol, sql)
        wire.calls.append(call)
        current.append(call)
        started = time.perf_counter()
        try:
            return run()
        finally:
            call.seconds = time.perf_counter() - started
            current.pop()

    def execute_simple(self: Any, statement: str) -> Any:
        return traced("simple", statement, lambda: originals["execute_simple"](self, statement))

    def execute_unnamed(self: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        return traced(
            "unnamed",
            statement,
            lambda: originals["execute_unnamed"](self, statement, *args, **kwargs),
        )

    def execute_named(self: Any, *args: Any, **kwargs: Any) -> Any:
        statement = str(kwargs.get("statement", args[-1] if args else ""))
        return traced("named", statement, lambda: originals["execute_named"](self, *args, **kwargs))

    def handle_messages(self: Any, context: Any) -> Any:
        if current:
            current[-1].round_trips += 1
        else:
            wire.other_round_trips += 1
        return originals["handle_messages"](self, context)

    patches = {
        "execute_simple": execute_simple,
        "execute_unnamed": execute_unnamed,
        "execute_named": execute_named,
        "handle_messages": handle_messages,
    }
    for name, function in patches.items():
        setattr(core, name, function)
    try:
        yield wire
    finally:
        for name, function in originals.items():
            setattr(core, name, function)


# =============================================================================================
# Bench databases: seeded set-based, cached by fingerprint
# =============================================================================================

SEED_VERSION = 6
T0 = datetime(2024, 1, 1, tzinfo=UTC)
LEDGER = "core_api.account_workspace_connectors"


@dataclass(frozen=True)
class Dataset:
    """The identities the measurements need, stored with the seed (the ids are seeded)."""

    member_person_id: str
    member_workspace_id: str
    scale_connector_id: str
    window_start: str
    window_end: str
    window_rows: int
    cursor: str
    cursor_depth: int  # rows of the window that lie before the measured page
    warm_row_ids: tuple[str, ...]
    service_person_id: str
    write_workspace_id: str
    write_company_id: str
    write_connector_id: str
    write_connector_pk: int
    sync_connector_id: str
    sync_connector_pk: int
    sync_workspace_pk: int

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Dataset:
        raw = dict(raw)
        raw["warm_row_ids"] = tuple(raw["warm_row_ids"])
        return cls(**raw)


@dataclass(frozen=True)
class BenchDatabase:
    local: database.LocalDatabase
    sizes: Sizes
    dataset: Dataset

    @property
    def api_url(self) -> str:
        return self.local.url_for(API_ROLE)

    def admin(self) -> pg8000.native.Connection:
        return database.admin_connection(self.local.admin_url)


def fingerprint(sizes: Sizes) -> str:
    """What the seeded data depends on: a change in any of it means seeding again."""
    digest = hashlib.sha256(f"{SEED_VERSION}:{asdict(sizes)}".encode())
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_database(server: database.LocalDatabase, name: str, sizes: Sizes) -> BenchDatabase:
    """The seeded bench database ``name``: reused when its fingerprint and rows still match."""
    local = database.create_database(server, name)
    wanted = fingerprint(sizes)
    dataset = _cached_dataset(local, wanted, sizes)
    if dataset is not None:
        database.ensure_roles(local)
        note(f"{name}: reusing the seeded data ({sizes.ledger_rows:,} ledger rows)")
        return BenchDatabase(local, sizes, dataset)
    started = time.perf_counter()
    local = database.prepare(server, name, replace=True)
    conn = database.admin_connection(local.admin_url)
    try:
        dataset = seed(conn, sizes, wanted)
    finally:
        conn.close()
    note(f"{name}: seeded {sizes.ledger_rows:,} ledger rows in {_elapsed(started)}")
    return BenchDatabase(local, sizes, dataset)


def _cached_dataset(local: database.LocalDatabase, wanted: str, sizes: Sizes) -> Dataset | None:
    conn = database.admin_connection(local.admin_url)
    try:
        if conn.run("SELECT to_regclass('public.bench_seed')")[0][0] is None:
            return None
        stored = dict(conn.run("SELECT key, value FROM public.bench_seed"))
        if stored.get("fingerprint") != wanted:
            return None
        # A run that died half-way, or someone's experiment, leaves other counts.
        if conn.run(f"SELECT count(*) FROM {LEDGER}")[0][0] != sizes.ledger_rows:
            return None
        return Dataset.from_json(json.loads(stored["dataset"]))
    finally:
        conn.close()


def drop_databases(server: database.LocalDatabase, config: Config) -> None:
    for suffix in ("", "_small", "_tenants_base", "_tenants_large"):
        database.drop_database(server, config.database_prefix + suffix)


@dataclass(frozen=True)
class _Tenants:
    scale_workspaces: list[int]  # pks, workspace 0 is the member's
    member_workspace_id: str
    member_person_id: str
    connector_lo: int  # the scale connectors' pks are contiguous: lo .. lo + connectors - 1
    scale_connector_id: str
    write_workspace: tuple[int, str]
    service_person_id: str
    write_connector: tuple[int, str]
    sync_workspace: int
    sync_connector: tuple[int, str]


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.run(sql, **params)[0])


def _workspace(conn: pg8000.native.Connection, name: str) -> tuple[int, str]:
    pk, public_id = _one(
        conn,
        "INSERT INTO core_api.workspaces (name) VALUES (:n) RETURNING pk, workspace_id",
        n=name,
    )
    return int(pk), str(public_id)


def _person(conn: pg8000.native.Connection, workspace_pk: int, *, owner: bool) -> str:
    pk, public_id = _one(
        conn,
        "INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
        "VALUES (:w, 'Bench', 'Person', 'Bench Person') RETURNING pk, person_id",
        w=workspace_pk,
    )
    if owner:
        conn.run(
            "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
            "VALUES (:w, :p, 'owner', 'active')",
            w=workspace_pk,
            p=pk,
        )
    return str(public_id)


def _connectors(
    conn: pg8000.native.Connection, connector_pk: int, workspaces: Sequence[int], count: int
) -> list[tuple[int, str]]:
    """``count`` workspace connectors, the i-th in ``workspaces[i % len]``, in pk order."""
    rows = conn.run(
        "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status, config) "
        "SELECT (CAST(:ws AS bigint[]))[1 + i % cardinality(CAST(:ws AS bigint[]))], :c, "
        "'enabled', CAST('{\"api_secret\": \"sk_bench\"}' AS jsonb) "
        "FROM generate_series(0, :n - 1) i ORDER BY i RETURNING pk, workspace_connector_id",
        ws=list(workspaces),
        c=connector_pk,
        n=count,
    )
    return sorted((int(pk), str(public_id)) for pk, public_id in rows)


def _tenants(conn: pg8000.native.Connection, sizes: Sizes) -> _Tenants:
    scale = [_workspace(conn, f"bench scale {i}") for i in range(sizes.workspaces)]
    member = _person(conn, scale[0][0], owner=True)
    for pk, _ in scale[1:]:
        _person(conn, pk, owner=True)
    write = _workspace(conn, "bench write")
    service = _person(conn, write[0], owner=False)
    sync = _workspace(conn, "bench sync")
    (connector_pk,) = _one(
        conn,
        "INSERT INTO core_api.connectors (name, provider) VALUES ('bench', 'plaid_eu') "
        "RETURNING pk",
    )
    scale_connectors = _connectors(conn, connector_pk, [pk for pk, _ in scale], sizes.connectors)
    lo = scale_connectors[0][0]
    if scale_connectors[-1][0] != lo + sizes.connectors - 1:
        raise BenchError("the scale connectors' keys are not contiguous")
    return _Tenants(
        scale_workspaces=[pk for pk, _ in scale],
        member_workspace_id=scale[0][1],
        member_person_id=member,
        connector_lo=lo,
        scale_connector_id=scale_connectors[0][1],
        write_workspace=write,
        service_person_id=service,
        write_connector=_connectors(conn, connector_pk, [write[0]], 1)[0],
        sync_workspace=sync[0],
        sync_connector=_connectors(conn, connector_pk, [sync[0]], 1)[0],
    )


def _accounts(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants) -> int:
    """Accounts of every scale workspace, workspace by workspace; the first one's pk.

    Public ids come from md5: ``gen_random_uuid()`` costs ~9 µs a row on this kind of machine,
    which alone would be 9 s of the 1M-row seed.
    """
    per_workspace = _accounts_per_workspace(sizes)
    conn.run(
        "INSERT INTO core_api.accounts (account_id, workspace_pk, account_name, type, "
        "created_at, updated_at) "
        "SELECT CAST(md5('bench-account-' || w || '-' || i) AS uuid), "
        "(CAST(:ws AS bigint[]))[1 + w], 'Account ' || i, 'deposit', :t0, :t0 "
        "FROM generate_series(0, :w_count - 1) w, generate_series(0, :a - 1) i ORDER BY w, i",
        ws=tenants.scale_workspaces,
        w_count=sizes.workspaces,
        a=per_workspace,
        t0=T0,
    )
    lo, hi = _one(
        conn,
        "SELECT min(pk), max(pk) FROM core_api.accounts WHERE workspace_pk = ANY(CAST(:ws AS "
        "bigint[]))",
        ws=tenants.scale_workspaces,
    )
    if hi - lo + 1 != per_workspace * sizes.workspaces:
        raise BenchError("the accounts' keys are not contiguous")
    return int(lo)


def _accounts_per_workspace(sizes: Sizes) -> int:
    return max(1, sizes.ledger_rows // (sizes.rows_per_account * sizes.workspaces))


def _ledger_indexes(conn: pg8000.native.Connection) -> tuple[list[list[str]], list[list[str]]]:
    """The ledger's plain indexes and its key constraints, as SQL to create them again."""
    indexes = conn.run(
        "SELECT pg_get_indexdef(indexrelid), indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = CAST(:t AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
        t=LEDGER,
    )
    constraints = conn.run(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u')",
        t=LEDGER,
    )
    return indexes, constraints


def _ledger(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants, lo: int) -> None:
    """The ledger rows, set-based: one INSERT ... SELECT over generate_series.

    Row g belongs to connector g % C (its workspace is that connector's) and to an account of
    the same workspace; it was created g minutes after T0; one in 97 is soft-deleted, a third
    go out. Indexes are dropped and built again after the insert (4 s against 18 s of index
    maintenance for 1M rows), inside the seed's one transaction.
    """
    indexes, constraints = _ledger_indexes(conn)
    for _, name in indexes:
        conn.run(f"DROP INDEX {name}")
    for name, _ in constraints:
        conn.run(f"ALTER TABLE {LEDGER} DROP CONSTRAINT {pg8000.native.identifier(name)}")
    conn.run(
        f"INSERT INTO {LEDGER} (account_workspace_connector_id, account_pk, "
        "workspace_connector_pk, direction, created_at, updated_at, deleted_at) "
        "SELECT CAST(md5('bench-awc-' || g) AS uuid), "
        ":lo + ((g % :c) % :w) * :a + (g / :c) % :a, :wc + g % :c, "
        "CAST(CASE WHEN (g / :c) % 3 = 2 THEN 'output' ELSE 'input' END "
        "AS core_api.direction_enum), at, at, "
        "CASE WHEN g % 97 = 13 THEN at + interval '1 day' END "
        "FROM generate_series(0, :n - 1) g, "
        "LATERAL (SELECT CAST(:t0 AS timestamptz) + g * interval '1 minute' AS at) a",
        lo=lo,
        c=sizes.connectors,
        w=sizes.workspaces,
        a=_accounts_per_workspace(sizes),
        wc=tenants.connector_lo,
        t0=T0,
        n=sizes.ledger_rows,
    )
    for name, definition in constraints:
        conn.run(
            f"ALTER TABLE {LEDGER} ADD CONSTRAINT {pg8000.native.identifier(name)} {definition}"
        )
    for definition, _ in indexes:
        conn.run(definition)


def _warm_rows(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants) -> list[str]:
    """The member's company ledger: small, so warm latency measures the code, not a scan."""
    rows = conn.run(
        "WITH c AS (INSERT INTO core_api.companies (workspace_pk, name, domain) "
        "SELECT :w, 'Company ' || i, 'example.com' FROM generate_series(1, :n) i "
        "RETURNING pk) "
        "INSERT INTO core_api.company_workspace_connectors (company_pk, workspace_connector_pk, "
        "direction, created_at) "
        "SELECT pk, :wc, 'input', CAST(:t0 AS timestamptz) + pk * interval '1 minute' FROM c "
        "RETURNING company_workspace_connector_id",
        w=tenants.scale_workspaces[0],
        wc=tenants.connector_lo,
        n=sizes.warm_rows,
        t0=T0,
    )
    return [str(r[0]) for r in rows]


def _write_company(conn: pg8000.native.Connection, tenants: _Tenants) -> str:
    (company_id,) = _one(
        conn,
        "INSERT INTO core_api.companies (workspace_pk, name, domain) "
        "VALUES (:w, 'Bench Company', 'example.com') RETURNING company_id",
        w=tenants.write_workspace[0],
    )
    return str(company_id)


def _sync_people(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants) -> None:
    conn.run(
        "INSERT INTO core_api.peoples (person_id, workspace_pk, first_name, last_name, "
        "full_name) SELECT CAST(md5('bench-person-' || i) AS uuid), :w, 'Ada', 'Lovelace', "
        "'Person ' || i FROM generate_series(1, :n) i",
        w=tenants.sync_workspace,
        n=sizes.sync_records,
    )


def _deep_cursor(
    conn: pg8000.native.Connection, sizes: Sizes, connector_pk: int
) -> tuple[datetime, datetime, int, int, str]:
    """The window [t1, t2) of connector X (80% of its rows) and a cursor ``deep_pages`` deep.

    The cursor is the exact (created_at, id) of the last row before the measured page, found
    in the order the API reads (created_at DESC, id DESC, live rows only).
    """
    from wellapi.jsonapi.cursor import Cursor

    t1 = T0 + timedelta(minutes=sizes.ledger_rows // 10)
    t2 = T0 + timedelta(minutes=sizes.ledger_rows * 9 // 10)
    live_window = (
        f"FROM {LEDGER} WHERE workspace_connector_pk = :x AND created_at >= :t1 "
        "AND created_at < :t2 AND deleted_at IS NULL"
    )
    (rows,) = _one(conn, f"SELECT count(*) {live_window}", x=connector_pk, t1=t1, t2=t2)
    # Tiny databases (the smoke test) have fewer rows than pages ask for: stay inside.
    depth = max(1, min(sizes.deep_pages * PAGE_SIZE, rows - 1))
    created_at, row_id = _one(
        conn,
        f"SELECT created_at, account_workspace_connector_id {live_window} "
        "ORDER BY created_at DESC, account_workspace_connector_id DESC OFFSET :o LIMIT 1",
        x=connector_pk,
        t1=t1,
        t2=t2,
        o=depth - 1,
    )
    cursor = Cursor("-created_at", created_at, UUID(str(row_id))).encode()
    return t1, t2, int(rows), depth, cursor


def seed(conn: pg8000.native.Connection, sizes: Sizes, wanted: str) -> Dataset:
    """Everything in one transaction, as the administrator; then VACUUM ANALYZE."""
    conn.run("BEGIN")
    try:
        tenants = _tenants(conn, sizes)
        # Bulk rows bypass the triggers (touch_row and the foreign-key checks): they are built
        # consistent, updated_at is set as touch_row would, and a superuser may skip them.
        # Another administrator keeps them and seeds more slowly.
        bypass = bool(conn.run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0])
        if bypass:
            conn.run("SET LOCAL session_replication_role = replica")
        conn.run("SET LOCAL maintenance_work_mem = '512MB'")
        lo = _accounts(conn, sizes, tenants)
        _ledger(conn, sizes, tenants, lo)
        if bypass:
            conn.run("SET LOCAL session_replication_role = origin")
        warm = _warm_rows(conn, sizes, tenants)
        write_company = _write_company(conn, tenants)
        _sync_people(conn, sizes, tenants)
        t1, t2, rows, depth, cursor = _deep_cursor(conn, sizes, tenants.connector_lo)
        dataset = Dataset(
            member_person_id=tenants.member_person_id,
            member_workspace_id=tenants.member_workspace_id,
            scale_connector_id=tenants.scale_connector_id,
            window_start=t1.isoformat(),
            window_end=t2.isoformat(),
            window_rows=rows,
            cursor=cursor,
            cursor_depth=depth,
            warm_row_ids=tuple(warm),
            service_person_id=tenants.service_person_id,
            write_workspace_id=tenants.write_workspace[1],
            write_company_id=write_company,
            write_connector_id=tenants.write_connector[1],
            write_connector_pk=tenants.write_connector[0],
            sync_connector_id=tenants.sync_connector[1],
            sync_connector_pk=tenants.sync_connector[0],
            sync_workspace_pk=tenants.sync_workspace,
        )
        conn.run("CREATE TABLE public.bench_seed (key text PRIMARY KEY, value text NOT NULL)")
        conn.run(
            "INSERT INTO public.bench_seed VALUES ('fingerprint', :f), ('dataset', :d)",
            f=wanted,
            d=json.dumps(asdict(dataset)),
        )
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise
    # Hint bits and the visibility map set now, not by the first measured reads.
    conn.run("VACUUM (ANALYZE)")
    return dataset


# =============================================================================================
# Invoking handlers in this process
# =============================================================================================


COMPANY_LEDGER_PATH = "/v1/company-workspace-connectors"


@dataclass(frozen=True)
class Requests:
    """The events of every measured API request against one bench database."""

    data: Dataset
    member: dict[str, str]
    service: dict[str, str]

    @classmethod
    def signed(cls, bench: BenchDatabase) -> Requests:
        """With the claims of a member and a service key, their scope tokens freshly signed."""
        conn = bench.admin()
        try:
            data = bench.dataset
            member = claims(conn, data.member_person_id, data.member_workspace_id, "member")
            service = claims(conn, data.service_person_id, data.write_workspace_id, "service")
        finally:
            conn.close()
        return cls(data, member, service)

    def _item(self, method: str, row_id: str, who: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        """An event on one company ledger row (Retrieve, Update, Delete)."""
        return api_event(
            method,
            f"{COMPANY_LEDGER_PATH}/{row_id}",
            route=COMPANY_LEDGER_PATH + "/{id}",
            claims=who,
            path_parameters={"id": row_id},
            **kwargs,
        )

    def retrieve(self, row_id: str | None = None, query: str = "") -> dict[str, Any]:
        return self._item("GET", row_id or self.data.warm_row_ids[0], self.member, query=query)

    def related(self, relationship: str = "company") -> dict[str, Any]:
        """The record a row's relationship points at, through the relationship's link."""
        row_id = self.data.warm_row_ids[0]
        return api_event(
            "GET",
            f"{COMPANY_LEDGER_PATH}/{row_id}/{relationship}",
            route=COMPANY_LEDGER_PATH + "/{id}/{relationship}",
            claims=self.member,
            path_parameters={"id": row_id, "relationship": relationship},
        )

    def collection(self, query: str) -> dict[str, Any]:
        path = COMPANY_LEDGER_PATH
        return api_event("GET", path, route=path, claims=self.member, query=query)

    def deep_list(self) -> dict[str, Any]:
        """The sync-status query: connector X, its window, a cursor deep inside it."""
        d = self.data
        query = (
            f"filter[workspace_connector]={d.scale_connector_id}"
            f"&filter[created_at][gte]={quote(d.window_start)}"
            f"&filter[created_at][lt]={quote(d.window_end)}"
            f"&page[size]={PAGE_SIZE}&page[after]={d.cursor}"
        )
        base = "/v1/account-workspace-connectors"
        return api_event("GET", base, route=base, claims=self.member, query=query)

    def create(self) -> dict[str, Any]:
        d = self.data
        body = {
            "data": {
                "type": "company_workspace_connector",
                "attributes": {"direction": "input"},
                "relationships": {
                    "company": {"data": {"type": "company", "id": d.write_company_id}},
                    "workspace_connector": {
                        "data": {"type": "workspace_connector", "id": d.write_connector_id}
                    },
                },
            }
        }
        path = COMPANY_LEDGER_PATH
        return api_event("POST", path, route=path, claims=self.service, body=json.dumps(body))

    def update(self, row_id: str) -> dict[str, Any]:
        body = {
            "data": {
                "type": "company_workspace_connector",
                "id": row_id,
                "attributes": {"direction": "input"},
            }
        }
        return self._item("PATCH", row_id, self.service, body=json.dumps(body))

    def delete(self, row_id: str) -> dict[str, Any]:
        return self._item("DELETE", row_id, self.service)


# =============================================================================================
# The raw floor: the same SQL text, by hand
# =============================================================================================


class RawClient:
    """A bare pg8000 connection, set up like the engine's (autocommit, TCP_NODELAY)."""

    def __init__(self, url: str) -> None:
        self.conn = pg8000.dbapi.connect(**wellapi_db.url_connect_kwargs(url))
        self.conn.autocommit = True
        sock = getattr(self.conn, "_usock", None)
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            # As the engine does: without it, pg8000 stalls on delayed ACKs over TCP.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def rows(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            names = [d[0] for d in cursor.description or []]
        finally:
            cursor.close()
        return names, [list(r) for r in rows]

    def document(self, sql: str, skip: int) -> str:
        """Run the script, turn the rows after the first ``skip`` into dicts, dump them."""
        names, rows = self.rows(sql)
        return json.dumps([dict(zip(names, r, strict=False)) for r in rows[skip:]], default=str)

    def close(self) -> None:
        self.conn.close()


def captured_sql(handler: Handler, event: dict[str, Any], status: int) -> str:
    """The one simple query a request sends (it must send exactly one)."""
    with recording() as wire:
        invoke(handler, event, status)
    if len(wire.calls) != 1 or wire.calls[0].protocol != "simple":
        raise BenchError(f"{event['routeKey']} sent {len(wire.calls)} queries, not one")
    return wire.calls[0].sql


# =============================================================================================
# 1. Cold start
# =============================================================================================

# Run by the Lambda-like interpreter. argv: sys.path entries (JSON), what to import (JSON list
# of module names, or "handler:<module.attribute>"), whether to list the modules it loaded.
# The parent times from spawn to the "imported" line: interpreter start-up plus imports, and
# not the teardown, which Lambda never pays (os._exit).
COLD_SCRIPT = """
import importlib, json, os, sys, time
before = set(sys.modules)
paths = json.loads(sys.argv[1])
sys.path[:0] = paths
target = sys.argv[2]
floor = None
if target.startswith("paired:"):
    for name in json.loads(target[len("paired:"):].partition("|")[0]):
        importlib.import_module(name)
    floor = time.process_time()
    target = "handler:" + target.partition("|")[2]
if target.startswith("handler:"):
    module_name, _, attribute = target[len("handler:"):].rpartition(".")
    getattr(importlib.import_module(module_name), attribute)
else:
    for name in json.loads(target):
        importlib.import_module(name)
sys.stdout.write("imported %r %r\\n" % (time.process_time(), floor))
sys.stdout.flush()
if sys.argv[3] == "list":
    roots = [os.path.abspath(p) + os.sep for p in paths]
    loaded = []
    for name in [n for n in sys.modules if n not in before]:
        module = sys.modules[name]
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), "")
        where = os.path.abspath(where) if where else ""
        root = next((i for i, r in enumerate(roots) if where.startswith(r)), None)
        loaded.append([name, root])
    sys.stdout.write(json.dumps(loaded) + "\\n")
    sys.stdout.flush()
os._exit(0)
"""


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str


@dataclass(frozen=True)
class Sandbox:
    """A read-only copy of the build, laid out the way Lambda mounts it."""

    layer: Path  # /opt/python
    runtime: Path  # the runtime's own packages (boto3...), linked from the venv
    functions: dict[str, Function]

    def paths(self, function: Function) -> list[str]:
        return [str(function.code_dir), str(self.layer), str(self.runtime)]

    def environment(self, function: Function) -> dict[str, str]:
        # -I ignores PYTHON* variables, so -B says the same as PYTHONDONTWRITEBYTECODE.
        return {
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "AWS_REGION": "eu-west-1",
            "PATH": "/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
        }


def _shipped_sources() -> Iterator[Path]:
    for source in BUILD_SOURCES:
        path = ROOT / source
        for f in [path] if path.is_file() else path.rglob("*"):
            relative = f.relative_to(ROOT).as_posix()
            if (
                f.is_file()
                and "__pycache__" not in f.parts
                and not relative.startswith(NOT_SHIPPED)
                and ".egg-info/" not in relative
            ):
                yield f


def build_is_stale() -> bool:
    """Missing, or older than a source it is built from (the local runtime is not shipped)."""
    built = BUILD_DIR / "template.yaml"
    if not built.is_file():
        return True
    built_at = built.stat().st_mtime
    return any(f.stat().st_mtime > built_at for f in _shipped_sources())


def ensure_build(allowed: bool) -> None:
    if not build_is_stale():
        note("sam build is up to date")
        return
    if not allowed:
        if not (BUILD_DIR / "template.yaml").is_file():
            raise BenchError("no sam build in .aws-sam/build: run `make build` first")
        note("sam build is older than its sources; measuring it anyway (build disabled)")
        return
    step("the sam build is missing or stale: make build")
    started = time.perf_counter()
    # Its output goes to stderr with the progress: stdout is the table.
    subprocess.run(["make", "build"], cwd=ROOT, check=True, stdout=sys.stderr)  # noqa: S607
    note(f"built in {_elapsed(started)}")


def built_functions() -> tuple[dict[str, tuple[Path, str]], Path]:
    import yaml

    resources = yaml.safe_load((BUILD_DIR / "template.yaml").read_text())["Resources"]
    functions = {
        logical_id: (BUILD_DIR / r["Properties"]["CodeUri"], str(r["Properties"]["Handler"]))
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    layer = BUILD_DIR / resources["SharedLayer"]["Properties"]["ContentUri"] / "python"
    return functions, layer


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


@contextlib.contextmanager
def sandbox(only: Sequence[str] | None = None) -> Iterator[Sandbox]:
    """Copy the build to a temporary directory and make the code read-only, as in Lambda."""
    built, layer = built_functions()
    if only is not None:
        unknown = sorted(set(only) - set(built))
        if unknown:
            raise BenchError(f"not functions of the built template: {', '.join(unknown)}")
        built = {k: v for k, v in built.items() if k in only}
    with tempfile.TemporaryDirectory(prefix="wellapi-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(layer, root / "opt" / "python", symlinks=True)
        functions = {}
        for logical_id, (code_dir, handler) in built.items():
            target = root / "task" / logical_id
            shutil.copytree(code_dir, target, symlinks=True)
            functions[logical_id] = Function(logical_id, target, handler)
        (root / "runtime").mkdir()
        link_installed(root / "runtime", RUNTIME_PACKAGES)
        for part in ("opt", "task"):
            _set_writable(root / part, False)
        try:
            yield Sandbox(root / "opt" / "python", root / "runtime", functions)
        finally:
            for part in ("opt", "task"):
                _set_writable(root / part, True)


@dataclass(frozen=True)
class ColdRun:
    wall_ms: float  # from spawn to the "imported" line
    cpu_ms: float  # the child's own CPU time at that line: start-up and imports
    rest: str  # what it printed after that line
    errors: str
    # A paired run: the CPU time once the floor's modules were imported, before the handler.
    floor_cpu_ms: float | None = None


def run_cold(
    box: Sandbox,
    function: Function,
    target: str,
    *,
    listing: bool = False,
    flags: Sequence[str] = (),
) -> ColdRun:
    command = [
        sys.executable,
        "-I",
        "-S",
        "-B",
        *flags,
        "-c",
        COLD_SCRIPT,
        json.dumps(box.paths(function)),
        target,
        "list" if listing else "-",
    ]
    # stderr to a file: -X importtime writes more than a pipe holds before "imported" is read.
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our interpreter and script
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=box.environment(function),
            cwd=function.code_dir,
        )
        assert process.stdout is not None
        watchdog = threading.Timer(300, process.kill)
        watchdog.start()
        try:
            first = process.stdout.readline()
            wall = time.perf_counter() - started
            # Not communicate(): it reads the pipe's descriptor and would miss what readline()
            # already buffered (the listing often arrives with the first line).
            rest = process.stdout.read()
            process.wait()
        finally:
            watchdog.cancel()
        stderr.seek(0)
        errors = stderr.read()
    word, cpu, floor = [*first.split(), "", "", ""][:3]
    if word != "imported" or process.returncode != 0:
        raise BenchError(f"{function.logical_id}: import failed: {(errors or first)[-2000:]}")
    floor_ms = None if floor == "None" else float(floor) * 1000
    return ColdRun(wall * 1000, float(cpu) * 1000, rest, errors, floor_ms)


@dataclass(frozen=True)
class Loaded:
    """What importing a handler loaded that is not its own or wellapi's, in import order."""

    packages: tuple[str, ...]  # top-level third-party packages
    modules: tuple[str, ...]  # every third-party module
    total: int


def third_party(listing: str, function: Function) -> Loaded:
    own = function.handler.split(".")[0]
    packages: list[str] = []
    modules: list[str] = []
    entries = json.loads(listing)
    for name, root in entries:
        top = name.split(".")[0]
        # root: 0 the code directory, 1 the layer, 2 the runtime; None the standard library.
        if root is None or top in ("wellapi", own):
            continue
        modules.append(name)
        if top not in packages:
            packages.append(top)
    return Loaded(tuple(packages), tuple(modules), len(entries))


@dataclass(frozen=True)
class ColdRuns:
    handler: list[ColdRun]  # a fresh interpreter importing the handler
    floor: list[ColdRun]  # a fresh interpreter importing the third-party modules it loads
    paired: list[ColdRun]  # the floor's modules, then the handler, in one fresh interpreter
    loaded: Loaded


def _cold_runs(box: Sandbox, function: Function, runs: int) -> ColdRuns:
    """The handler, its floor, and the two paired in one process, in turn, ``runs`` times each.

    Taking turns keeps a slow patch of the machine (other processes) from landing on one side.
    The first handler run also lists what it loaded: its third-party modules are the floor.
    """
    target = f"handler:{function.handler}"
    first = run_cold(box, function, target, listing=True)
    loaded = third_party(first.rest, function)
    floor_target = json.dumps(list(loaded.modules))
    paired_target = f"paired:{floor_target}|{function.handler}"
    result = ColdRuns([first], [], [], loaded)
    for run in range(runs):
        result.floor.append(run_cold(box, function, floor_target))
        result.paired.append(run_cold(box, function, paired_target))
        if run + 1 < runs:
            result.handler.append(run_cold(box, function, target))
    return result


def measure_cold(report: Report, box: Sandbox, runs: int) -> dict[str, Loaded]:
    """The import alone of every function against the third-party modules it loads.

    Reported, not a goal: the goal on cold start is phase ``first`` (import and first request
    against raw pg8000, ``welldev.bench_first``). This one shows what our own code costs
    to import beside the libraries it loads: its ratio was held to 1.15x while those libraries
    (SQLAlchemy, pydantic, a router) cost about 600 ms; without them the floor is about 116 ms,
    and the same bound would punish importing less.

    Judged on CPU time (the child's own, from exec to imported): a cold start is one
    single-threaded, CPU-bound process, and on a shared machine its wall time mostly measures
    the other processes. Wall times are reported beside it. The ratio is taken within paired
    runs: one fresh interpreter imports the floor's modules, notes its CPU time, then imports
    the handler (which now costs only its own code); two separate interpreters doing the same
    work differ by ±10-20 % of CPU time here. The separate ratio is in ``separate_ratio``.
    """
    loaded: dict[str, Loaded] = {}
    wall_ratios: dict[str, float] = {}
    separate_ratios: dict[str, float] = {}
    paired_ratios: dict[str, float] = {}
    for index, function in enumerate(box.functions.values(), start=1):
        runs_of = _cold_runs(box, function, runs)
        loaded[function.logical_id] = runs_of.loaded
        name = f"cold_start.{function.logical_id}"
        h = report.figure(name, [r.wall_ms for r in runs_of.handler], "ms")
        f = report.figure(f"{name}.floor", [r.wall_ms for r in runs_of.floor], "ms")
        hc = report.figure(f"{name}.cpu", [r.cpu_ms for r in runs_of.handler], "ms cpu")
        fc = report.figure(f"{name}.floor.cpu", [r.cpu_ms for r in runs_of.floor], "ms cpu")
        pairs = [(r.cpu_ms, r.floor_cpu_ms) for r in runs_of.paired if r.floor_cpu_ms]
        own = report.figure(f"{name}.own.cpu", [t - f for t, f in pairs], "ms cpu")
        paired = paired_ratios[function.logical_id] = statistics.median(t / f for t, f in pairs)
        wall_ratios[function.logical_id] = round(h.median / f.median, 3)
        separate_ratios[function.logical_id] = round(hc.median / fc.median, 3)
        note(
            f"[{index}/{len(box.functions)}] {function.logical_id}: {hc.median:.0f} ms cpu "
            f"({h.median:.0f} wall), floor {fc.median:.0f} ms cpu ({f.median:.0f} wall, "
            f"{len(runs_of.loaded.modules)} modules), own code {own.median:.0f} ms cpu: "
            f"{paired:.2f}x"
        )
    report.details["cold_start"] = {
        "paired_ratio": {k: round(v, 3) for k, v in paired_ratios.items()},
        "runs": runs,
        "method": (
            "`python -I -S -B` on a read-only copy of the build; the ratio is of CPU time, "
            "floor and handler paired in one interpreter (measure_cold)"
        ),
        "separate_ratio": separate_ratios,
        "wall_ratio": wall_ratios,
        "floor": "every third-party module the handler loads (its top-level packages: below)",
        "third_party_packages": {k: list(v.packages) for k, v in loaded.items()},
        "third_party_modules": {k: len(v.modules) for k, v in loaded.items()},
        "modules_loaded": {k: v.total for k, v in loaded.items()},
    }
    return loaded


def importtime_breakdown(box: Sandbox, function: Function, top: int = 12) -> dict[str, Any]:
    """``-X importtime`` of one handler import, self time summed by top-level package."""
    errors = run_cold(box, function, f"handler:{function.handler}", flags=("-X", "importtime"))
    by_package: dict[str, float] = {}
    modules: list[tuple[float, str]] = []
    for line in errors.errors.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line.replace("import time:", "").split("|"))
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
        modules.append((int(self_us) / 1000, name))
    modules.sort(reverse=True)
    return {
        "function": function.logical_id,
        "self_ms_by_package": dict(
            sorted(((k, round(v, 1)) for k, v in by_package.items()), key=lambda kv: -kv[1])[:top]
        ),
        "slowest_modules_ms": [[name, round(ms, 1)] for ms, name in modules[:top]],
        "note": "-X importtime inflates every import; compare shares, not absolute times",
    }


def diagnose_cold(report: Report, box: Sandbox, loaded: dict[str, Loaded], runs: int) -> None:
    """Split the worst function's cold start: top-level packages -> its floor -> it.

    The floor imports every third-party module the handler loads; importing only their
    top-level packages shows what the submodules (the postgresql dialects, Powertools' event
    handler...) cost. What is left above the floor is wellapi's own code and the entry point.
    """
    paired = report.details["cold_start"]["paired_ratio"]
    logical_id = max(box.functions, key=lambda f: paired[f])
    function = box.functions[logical_id]
    packages = json.dumps(list(loaded[logical_id].packages))
    samples = [run_cold(box, function, packages).cpu_ms for _ in range(max(runs, 3))]
    name = f"cold_start.{logical_id}"
    top = report.figure(f"{name}.top_level_packages.cpu", samples, "ms cpu")
    h = report.figures[f"{name}.cpu"].median
    f = report.figures[f"{name}.floor.cpu"].median
    report.details.setdefault("diagnostics", {})["cold_start"] = {
        "function": logical_id,
        "top_level_third_party_packages_cpu_ms": round(top.median, 1),
        "floor_every_third_party_module_it_loads_cpu_ms": round(f, 1),
        "handler_cpu_ms": round(h, 1),
        "third_party_submodules_ms": round(f - top.median, 1),
        "wellapi_and_entry_point_ms": round(h - f, 1),
        "importtime": importtime_breakdown(box, function),
    }


# =============================================================================================
# 2. Warm latency  /  3. Round trips
# =============================================================================================


def _interleaved(
    first: Callable[[], Any], second: Callable[[], Any], iterations: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of each call, alternating the two so that drift hits both alike."""
    for _ in range(warmup):
        first()
        second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(iterations):
        started = time.perf_counter()
        first()
        a.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        second()
        b.append((time.perf_counter() - started) * 1000)
    return a, b


@dataclass(frozen=True)
class WarmCase:
    name: str
    handler: Handler
    event: dict[str, Any]
    status: int
    skip: int  # leading statements whose rows are not the document (scope, write outcome)
    fresh_id: bool  # the SQL carries a new row id each time (Create)


def warm_cases(requests: Requests) -> list[WarmCase]:
    list_query = "page[size]=100&include=company,workspace_connector"
    return [
        WarmCase(
            "retrieve",
            handler_for("company_workspace_connectors", "retrieve"),
            requests.retrieve(),
            200,
            skip=1,
            fresh_id=False,
        ),
        WarmCase(
            "related",
            handler_for("company_workspace_connectors", "related"),
            requests.related(),
            200,
            skip=1,
            fresh_id=False,
        ),
        WarmCase(
            "list",
            handler_for("company_workspace_connectors", "list"),
            requests.collection(list_query),
            200,
            skip=1,
            fresh_id=False,
        ),
        WarmCase(
            "create",
            handler_for("company_workspace_connectors", "create"),
            requests.create(),
            201,
            skip=2,
            fresh_id=True,
        ),
    ]


def _raw_call(raw: RawClient, case: WarmCase, sql: str, row_id: str | None) -> Callable[[], Any]:
    if not case.fresh_id or row_id is None:
        return lambda: raw.document(sql, case.skip)
    # The handler makes a new id per Create; the raw floor must insert a new row too.
    return lambda: raw.document(sql.replace(row_id, str(uuid4())), case.skip)


def measure_warm(report: Report, bench: BenchDatabase, config: Config) -> list[WarmCase]:
    requests = Requests.signed(bench)
    cases = warm_cases(requests)
    # The floor runs the same SQL as a role row-level security does not apply to (the
    # administrator); the API role runs it too, so the policies' price shows on its own.
    raw = RawClient(bench.local.admin_url)
    raw_rls = RawClient(bench.api_url)
    # The API role's planner settings come from the server (revision 0013); the floor plans
    # with the same ones, so the two differ by the policies alone.
    raw.rows(f"SET random_page_cost = {raw_rls.rows('SHOW random_page_cost')[1][0][0]}")
    try:
        for case in cases:
            invoke(case.handler, case.event, case.status)  # connect, compile, cache
            sql = captured_sql(case.handler, case.event, case.status)
            row_id = _created_id(case, sql)
            handler_ms, raw_ms = _interleaved(
                functools.partial(invoke, case.handler, case.event, case.status),
                _raw_call(raw, case, sql, row_id),
                config.warm_iterations,
                config.warmup,
            )
            rls_ms, plain_ms = _interleaved(
                _raw_call(raw_rls, case, sql, row_id),
                _raw_call(raw, case, sql, row_id),
                config.warm_iterations,
                config.warmup,
            )
            h = report.figure(f"warm.{case.name}.handler", handler_ms, "ms")
            r = report.figure(f"warm.{case.name}.raw", raw_ms, "ms")
            with_rls = report.figure(f"warm.{case.name}.raw_rls", rls_ms, "ms")
            without = report.figure(f"warm.{case.name}.raw_no_rls", plain_ms, "ms")
            ratio = report.ratio(f"warm.{case.name}", h.median / r.median, 2.0)
            rls = report.ratio(f"warm.{case.name}.rls", with_rls.median / without.median, 1.2)
            note(
                f"{case.name}: handler {h.median:.2f} ms, raw {r.median:.2f} ms without "
                f"row-level security: {ratio.value:.2f}x; the policies cost {rls.value:.2f}x"
            )
    finally:
        raw.close()
        raw_rls.close()
        _remove_created_rows(bench)
    return cases


def _created_id(case: WarmCase, sql: str) -> str | None:
    if not case.fresh_id:
        return None
    # The one UUID literal of the script that is not in the request: the id the handler made.
    body = str(case.event.get("body") or "") + json.dumps(case.event["requestContext"])
    for token in sql.split("'"):
        if len(token) == 36 and token.count("-") == 4 and token not in body:
            return token
    raise BenchError("could not find the created row's id in the Create's SQL")


def _remove_created_rows(bench: BenchDatabase) -> None:
    """The write tenant's rows are the bench's own: rerun after rerun, start from none."""
    conn = bench.admin()
    try:
        conn.run(
            "DELETE FROM core_api.company_workspace_connectors WHERE workspace_connector_pk = :w",
            w=bench.dataset.write_connector_pk,
        )
        # The next run's plans then see the same table, not one with a growing dead tail.
        conn.run("VACUUM (ANALYZE) core_api.company_workspace_connectors")
    finally:
        conn.close()


def _count(report: Report, name: str, wire: Wire, *, read: bool) -> None:
    statements = len(wire.operation_statements)
    report.figure(f"round_trips.{name}", [wire.round_trips], "round trips")
    report.figure(f"statements.{name}", [statements], "statements")
    report.figure(f"transactions.{name}", [wire.transactions], "transactions")
    report.ratio(f"round_trips.{name}", wire.round_trips, 1)
    if read:
        report.ratio(f"statements.{name}", statements, 1)
    else:
        report.ratio(f"transactions.{name}", wire.transactions, 1)


def _wire_of(handler: Handler, event: dict[str, Any], status: int) -> tuple[Wire, dict[str, Any]]:
    with recording() as wire:
        response = invoke(handler, event, status)
    return wire, response


def measure_round_trips(report: Report, bench: BenchDatabase) -> None:
    requests = Requests.signed(bench)
    retrieve = handler_for("company_workspace_connectors", "retrieve")
    listing = handler_for("company_workspace_connectors", "list")
    both = "include=company,workspace_connector"
    reads = {
        "retrieve": (retrieve, requests.retrieve()),
        "retrieve_include": (retrieve, requests.retrieve(query=both)),
        "related": (handler_for("company_workspace_connectors", "related"), requests.related()),
        "list_size_1": (listing, requests.collection("page[size]=1")),
        "list_size_100_include": (listing, requests.collection(f"page[size]=100&{both}")),
        "list_deep_cursor": (
            handler_for("account_workspace_connectors", "list"),
            requests.deep_list(),
        ),
    }
    invoke(retrieve, requests.retrieve(), 200)  # connect before counting
    wires = {}
    for name, (handler, event) in reads.items():
        wires[name], _ = _wire_of(handler, event, 200)
        _count(report, name, wires[name], read=True)
    small, large = wires["list_size_1"], wires["list_size_100_include"]
    report.ratio(
        "round_trips.growth_with_page_size_and_include", large.round_trips / small.round_trips, 1.0
    )
    report.ratio(
        "statements.growth_with_page_size_and_include",
        len(large.statements) / len(small.statements),
        1.0,
    )
    try:
        _count_writes(report, requests)
    finally:
        _remove_created_rows(bench)
    note(
        ", ".join(
            f"{n}: {int(report.figures['round_trips.' + n].median)}"
            for n in [*reads, "create", "update", "delete"]
        )
        + " round trip(s)"
    )


def _count_writes(report: Report, requests: Requests) -> None:
    create = handler_for("company_workspace_connectors", "create")
    wire, response = _wire_of(create, requests.create(), 201)
    _count(report, "create", wire, read=False)
    row_id = json.loads(response["body"])["data"]["id"]
    update = handler_for("company_workspace_connectors", "update")
    wire, _ = _wire_of(update, requests.update(row_id), 200)
    _count(report, "update", wire, read=False)
    delete = handler_for("company_workspace_connectors", "delete")
    wire, _ = _wire_of(delete, requests.delete(row_id), 204)
    _count(report, "delete", wire, read=False)


def _wire_split(case: WarmCase, requests_count: int) -> tuple[float, float]:
    """Median ms of a request, and of its part spent in pg8000's query call.

    The query call holds the network, the server and pg8000's parsing of the rows, which the
    raw floor pays alike; the rest is the handler's own Python.
    """
    total: list[float] = []
    wire_ms: list[float] = []
    for _ in range(requests_count):
        with recording() as wire:
            started = time.perf_counter()
            invoke(case.handler, case.event, case.status)
            total.append((time.perf_counter() - started) * 1000)
        wire_ms.append(wire.seconds * 1000)
    return statistics.median(total), statistics.median(wire_ms)


def diagnose_warm(report: Report, cases: list[WarmCase], requests_count: int) -> None:
    """cProfile of the worst case's handler, and how much of a request is the database's."""
    worst = max(cases, key=lambda c: report.ratios[f"warm.{c.name}"].value)
    total, wire = _wire_split(worst, requests_count)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests_count):
        invoke(worst.handler, worst.event, worst.status)
    profiler.disable()
    report.details.setdefault("diagnostics", {})["warm"] = {
        "case": worst.name,
        "request_ms": round(total, 3),
        "query_call_ms": round(wire, 3),
        "handler_python_ms": round(total - wire, 3),
        "raw_median_ms": report.figures[f"warm.{worst.name}.raw"].median,
        "profile_top_by_own_time": _profile_lines(profiler, "tottime", requests_count),
        "profile_top_by_cumulative_time": _profile_lines(profiler, "cumulative", requests_count),
    }


def _profile_lines(profiler: cProfile.Profile, key: str, calls: int, top: int = 15) -> list[str]:
    """The top functions, as 'µs per request  function (file:line)'."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    stats.sort_stats(key)
    lines = []
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda kv: -kv[1][2 if key == "tottime" else 3])
    for (filename, line, name), (_, _, tottime, cumtime, _) in ranked[:top]:
        seconds = tottime if key == "tottime" else cumtime
        where = "/".join(Path(filename).parts[-2:])
        lines.append(f"{seconds / calls * 1e6:8.1f} us  {name} ({where}:{line})")
    return lines


# =============================================================================================
# 4. Scale: the sync-status query deep in 1,000,000 rows against the same in 10,000
# =============================================================================================


def _explain(bench: BenchDatabase, sql: str) -> list[str]:
    """EXPLAIN ANALYZE of the List's SELECT, as the API role with the request's scope."""
    scope, select = split_statements(sql)
    raw = RawClient(bench.api_url)
    try:
        _, rows = raw.rows(f"{scope};\nEXPLAIN (ANALYZE, BUFFERS) {select}")
    finally:
        raw.close()
    return [str(r[0]) for r in rows[1:]]


def _scale_samples(
    benches: dict[str, BenchDatabase], config: Config
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Milliseconds per request on each database, and the SQL each request sent.

    One process serves one database at a time (one engine per role), so the databases take
    turns in blocks, in alternating order; each block reconnects and warms up first.
    """
    handler = handler_for("account_workspace_connectors", "list")
    events = {which: Requests.signed(bench).deep_list() for which, bench in benches.items()}
    samples: dict[str, list[float]] = {which: [] for which in benches}
    sqls: dict[str, str] = {}
    blocks = 5
    per_block = max(1, config.scale_iterations // blocks)
    for block in range(blocks):
        order = list(benches) if block % 2 == 0 else list(reversed(benches))
        for which in order:
            with functions_connected_to(benches[which].local):
                for _ in range(max(2, config.warmup // 5)):
                    invoke(handler, events[which], 200)
                if which not in sqls:
                    sqls[which] = captured_sql(handler, events[which], 200)
                for _ in range(per_block):
                    started = time.perf_counter()
                    invoke(handler, events[which], 200)
                    samples[which].append((time.perf_counter() - started) * 1000)
    return samples, sqls


def measure_scale(
    report: Report, large: BenchDatabase, small: BenchDatabase, config: Config
) -> dict[str, str]:
    """The deep sync-status List through the handler on 1M rows against 10k; its plans."""
    benches = {"large": large, "small": small}
    samples, sqls = _scale_samples(benches, config)
    big = report.figure("scale.deep_cursor.large", samples["large"], "ms")
    little = report.figure("scale.deep_cursor.small", samples["small"], "ms")
    ratio = report.ratio("scale.deep_cursor", big.median / little.median, 1.5)
    report.details["scale"] = {
        which: {
            "ledger_rows": bench.sizes.ledger_rows,
            "window_rows": bench.dataset.window_rows,
            "rows_before_the_page": bench.dataset.cursor_depth,
            "pages_deep": bench.dataset.cursor_depth / PAGE_SIZE,
            "plan": _explain(bench, sqls[which]),
        }
        for which, bench in benches.items()
    }
    for which in benches:
        d = report.details["scale"][which]
        note(
            f"{which}: {d['ledger_rows']:,} rows, window {d['window_rows']:,}, cursor after "
            f"{d['rows_before_the_page']:,} rows (page {d['pages_deep'] + 1:g}): "
            f"{report.figures['scale.deep_cursor.' + which].median:.2f} ms"
        )
        for line in _plan_top(d["plan"]):
            note(f"  | {line}")
    note(f"large / small: {ratio.value:.2f}x")
    return sqls


def _plan_top(plan: list[str], lines: int = 14, width: int = 150) -> list[str]:
    """The plan's first lines, and how long it ran: enough to see the access path."""
    top = [line if len(line) <= width else line[: width - 3] + "..." for line in plan[:lines]]
    return top + [line for line in plan[lines:] if line.startswith("Execution Time")]


def _execution_ms(plan: list[str]) -> float | None:
    for line in plan:
        if line.startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return None


def diagnose_scale(report: Report, benches: dict[str, BenchDatabase], sqls: dict[str, str]) -> None:
    """Is the growth in the API's own SELECT or in row-level security?

    The same statement with the same scope, run by the administrator (row-level security
    does not apply to a superuser), against the API role's plan: and which parts of the API
    role's plan read a whole table (a hashed SubPlan reads all of its rows once).
    """
    found: dict[str, Any] = {}
    for which, bench in benches.items():
        scope, select = split_statements(sqls[which])
        conn = bench.admin()
        try:
            rows = conn.run(f"{scope};\nEXPLAIN (ANALYZE) {select}")
        finally:
            conn.close()
        api_plan = report.details["scale"][which]["plan"]
        found[which] = {
            "api_role_execution_ms": _execution_ms(api_plan),
            "without_row_level_security_execution_ms": _execution_ms([str(r[0]) for r in rows[1:]]),
            # A hashed SubPlan reads every row its subquery matches, once per execution.
            "hashed_subplans_in_the_api_plan": sum(
                line.count("hashed SubPlan") for line in api_plan
            ),
            "seq_scans_in_the_api_plan": [
                line.strip()[:160] for line in api_plan if "Seq Scan" in line
            ],
        }
    report.details.setdefault("diagnostics", {})["scale"] = found


# =============================================================================================
# 5. Sync throughput
# =============================================================================================

SYNC_LEDGER = "core_api.people_workspace_connectors"


def _truncate(conn: pg8000.native.Connection) -> None:
    conn.run(f"TRUNCATE {SYNC_LEDGER}, core_api.sync_receipts")


def _copy(conn: pg8000.native.Connection, pks: Sequence[int], connector_pk: int) -> None:
    """One COPY of the batch's rows, the text built here as part of the client's work."""
    data = "".join(f"{pk}\t{connector_pk}\tinput\n" for pk in pks).encode()
    conn.run(
        f"COPY {SYNC_LEDGER} (people_pk, workspace_connector_pk, direction) FROM STDIN",
        stream=io.BytesIO(data),
    )


@contextlib.contextmanager
def _copy_allowed(conn: pg8000.native.Connection) -> Iterator[None]:
    """COPY FROM refuses tables under row-level security; superusers are not under it.

    Another administrator owns the table (it ran the migrations): lifting FORCE for the
    measurement lets the owner COPY, as the policy for the sync role (USING true) would.
    """
    (bypass,) = _one(
        conn, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    if not bypass:
        conn.run(f"ALTER TABLE {SYNC_LEDGER} NO FORCE ROW LEVEL SECURITY")
    try:
        yield
    finally:
        if not bypass:
            conn.run(f"ALTER TABLE {SYNC_LEDGER} FORCE ROW LEVEL SECURITY")


def _sync_rep(
    handler: Handler, events: list[dict[str, Any]], conn: pg8000.native.Connection
) -> float:
    _truncate(conn)
    started = time.perf_counter()
    for event in events:
        response = handler(event, CONTEXT)
        if response["batchItemFailures"]:
            raise BenchError(f"the sync handler failed messages: {response}")
    return time.perf_counter() - started


def _copy_rep(conn: pg8000.native.Connection, batches: list[list[int]], connector_pk: int) -> float:
    _truncate(conn)
    started = time.perf_counter()
    for pks in batches:
        _copy(conn, pks, connector_pk)
    return time.perf_counter() - started


def _sync_records(
    conn: pg8000.native.Connection, d: Dataset, count: int
) -> tuple[list[str], list[int]]:
    """The public ids (for the messages) and keys (for COPY) of a batch's people."""
    people = conn.run(
        "SELECT pk, person_id FROM core_api.peoples WHERE workspace_pk = :w ORDER BY pk LIMIT :n",
        w=d.sync_workspace_pk,
        n=count,
    )
    if len(people) < count:
        raise BenchError(f"the sync workspace has {len(people)} people, a batch needs {count}")
    return [str(p[1]) for p in people], [int(p[0]) for p in people]


def _sync_reps(
    handler: Handler,
    conn: pg8000.native.Connection,
    d: Dataset,
    records: tuple[list[str], list[int]],
    config: Config,
) -> tuple[list[float], list[float]]:
    """Rows/s of the handler and of COPY, rep by rep, each side from an empty ledger.

    The sides alternate which goes first, so that neither always meets a just-vacuumed or a
    just-written table.
    """
    ids, pks = records
    rows = len(pks) * config.sync_batches
    # A warm environment: connected, with the statements' shapes seen once.
    _sync_rep(handler, sync_events(d.sync_connector_id, ids, 1, config.sync_ids, 1), conn)
    sync_rates: list[float] = []
    copy_rates: list[float] = []
    for rep in range(config.sync_reps):
        events = sync_events(
            d.sync_connector_id, ids, config.sync_messages, config.sync_ids, config.sync_batches
        )
        for side in ("sync", "copy") if rep % 2 == 0 else ("copy", "sync"):
            if side == "sync":
                sync_rates.append(rows / _sync_rep(handler, events, conn))
            else:
                copy_rates.append(
                    rows / _copy_rep(conn, [pks] * config.sync_batches, d.sync_connector_pk)
                )
            _check_rows(conn, rows)
    return sync_rates, copy_rates


def measure_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    from wellapi.sync.handler import sync_handler

    d = bench.dataset
    handler = sync_handler()
    conn = bench.admin()
    try:
        records = _sync_records(conn, d, config.sync_messages * config.sync_ids)
        with quiet_powertools(), _copy_allowed(conn):
            sync_rates, copy_rates = _sync_reps(handler, conn, d, records, config)
            _sync_round_trips(report, handler, d, records[0], config, conn)
    finally:
        _truncate(conn)
        conn.close()
    s = report.figure("sync.rows_per_second", sync_rates, "rows/s")
    c = report.figure("sync.copy_rows_per_second", copy_rates, "rows/s")
    ratio = report.ratio(
        "sync.throughput_vs_copy", s.median / c.median, 1 / 3, higher_is_better=True
    )
    report.details["sync"] = {
        "batch": f"{config.sync_messages} messages x {config.sync_ids} record ids",
        "batches_per_rep": config.sync_batches,
        "reps": config.sync_reps,
        "copy_role": "administrator (COPY FROM is refused under row-level security)",
    }
    note(f"sync {s.median:,.0f} rows/s, COPY {c.median:,.0f} rows/s: {ratio.value:.2f}")


def _check_rows(conn: pg8000.native.Connection, rows: int) -> None:
    (count,) = _one(conn, f"SELECT count(*) FROM {SYNC_LEDGER}")
    if count != rows:
        raise BenchError(f"expected {rows} ledger rows after a rep, found {count}")


def _sync_round_trips(
    report: Report,
    handler: Handler,
    d: Dataset,
    ids: Sequence[str],
    config: Config,
    conn: pg8000.native.Connection,
) -> None:
    """Round trips of a one-record batch and of a full batch: two each, whatever the size."""
    one = sync_events(d.sync_connector_id, ids, 1, 1, 1)[0]
    full = sync_events(d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1)[0]
    wires = {}
    for name, event in (("sync_batch_of_1", one), ("sync_batch_full", full)):
        _truncate(conn)
        with recording() as wire:
            handler(event, CONTEXT)
        wires[name] = wire
        report.figure(f"round_trips.{name}", [wire.round_trips], "round trips")
        report.figure(f"transactions.{name}", [wire.transactions], "transactions")
        report.ratio(f"round_trips.{name}", wire.round_trips, 2)
    full_wire = wires["sync_batch_full"]
    report.details["sync_wire"] = {
        "full_batch_database_ms": [round(c.seconds * 1000, 1) for c in full_wire.calls],
        "full_batch_statements": len(full_wire.statements),
    }


def diagnose_sync(report: Report, bench: BenchDatabase, config: Config) -> None:
    """Where a full batch's time goes: each round trip, the client's work, and its profile.

    One batch is timed with the wire recorded, another is profiled (cProfile slows the
    client's side several times over, so its times are only shares).
    """
    from wellapi.sync.handler import sync_handler

    d = bench.dataset
    handler = sync_handler()
    conn = bench.admin()
    try:
        ids, _ = _sync_records(conn, d, config.sync_messages * config.sync_ids)
        batch = functools.partial(
            sync_events, d.sync_connector_id, ids, config.sync_messages, config.sync_ids, 1
        )
        profiler = cProfile.Profile()
        with quiet_powertools():
            _truncate(conn)
            event = batch()[0]
            with recording() as wire:
                started = time.perf_counter()
                handler(event, CONTEXT)
                total = time.perf_counter() - started
            _truncate(conn)
            profiler.runcall(handler, batch()[0], CONTEXT)
        explain = _explain_sync_insert(conn, d, ids[: config.sync_ids])
    finally:
        _truncate(conn)
        conn.close()
    report.details.setdefault("diagnostics", {})["sync"] = {
        "batch_ms": round(total * 1000, 1),
        "round_trips_ms": [round(c.seconds * 1000, 1) for c in wire.calls],
        "client_ms": round((total - wire.seconds) * 1000, 1),
        "profile_top_by_own_time": _profile_lines(profiler, "tottime", 1),
        "one_message_insert_plan": explain,
    }


def _explain_sync_insert(
    conn: pg8000.native.Connection, d: Dataset, ids: Sequence[str]
) -> list[str]:
    """The plan of one message's INSERT ... SELECT, as the writer builds it (rolled back)."""
    from wellapi.sync.messages import ProvenanceLinked, parse_message
    from wellapi.sync.writer import Planned, statement

    event = sync_events(d.sync_connector_id, ids, 1, len(ids), 1)[0]
    message = parse_message(event["Records"][0]["body"])
    (workspace_pk,) = _one(
        conn,
        "SELECT workspace_pk FROM core_api.workspace_connectors WHERE pk = :p",
        p=d.sync_connector_pk,
    )
    if not isinstance(message, ProvenanceLinked):
        raise BenchError("the bench's sync messages are provenance.linked")
    planned = Planned(message, d.sync_connector_pk, workspace_pk, tuple(message.record_ids))
    sql = statement(0, planned)
    # _fresh() looks for this transaction's receipt: make one, so that the INSERT runs.
    conn.run("BEGIN")
    try:
        conn.run(
            "INSERT INTO core_api.sync_receipts (idempotency_key, message_type, "
            "workspace_connector_pk, occurred_at) VALUES (:k, 'provenance.linked', :w, now())",
            k=message.idempotency_key,
            w=d.sync_connector_pk,
        )
        rows = conn.run(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
    finally:
        conn.run("ROLLBACK")
    return [str(r[0]) for r in rows]


# =============================================================================================
# 6. Memory
# =============================================================================================

MEMORY_FUNCTION = "CompanyWorkspaceConnectorsRetrieveFunction"
MEMORY_SCRIPT = """
import importlib, json, os, sys
args = json.loads(sys.argv[1])
sys.path[:0] = args["paths"]
module_name, _, attribute = args["handler"].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)

def status():
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values

class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:bench"
    aws_request_id = "bench-request"
    def get_remaining_time_in_millis(self):
        return 15000

context = Context()
events = []
for row_id in args["ids"]:
    event = json.loads(json.dumps(args["event"]).replace(args["placeholder"], row_id))
    events.append(event)
samples = [[0, status()["VmRSS"]]]
statuses = {}
for i in range(1, args["requests"] + 1):
    response = handler(events[i % len(events)], context)
    statuses[response["statusCode"]] = statuses.get(response["statusCode"], 0) + 1
    if i % args["every"] == 0:
        samples.append([i, status()["VmRSS"]])
print(json.dumps({"samples": samples, "peak": status()["VmHWM"], "statuses": statuses}))
sys.stdout.flush()
os._exit(0)
"""


def measure_memory(report: Report, box: Sandbox, bench: BenchDatabase, config: Config) -> None:
    """A Lambda-like process (the built artifacts) serving Retrieve against the bench DB."""
    function = box.functions.get(MEMORY_FUNCTION)
    if function is None:
        raise BenchError(f"{MEMORY_FUNCTION} is not in the sandbox")
    placeholder = "00000000-0000-0000-0000-00000000beef"
    args = {
        "paths": box.paths(function),
        "handler": function.handler,
        "event": Requests.signed(bench).retrieve(placeholder),
        "placeholder": placeholder,
        "ids": list(bench.dataset.warm_row_ids),
        "requests": config.memory_requests,
        "every": config.memory_sample_every,
    }
    env = {
        **box.environment(function),
        "DATABASE_URL": bench.api_url,
        "DB_AUTH": "url",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    run = subprocess.run(  # noqa: S603 - our interpreter and script
        [sys.executable, "-I", "-S", "-B", "-c", MEMORY_SCRIPT, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=function.code_dir,
        timeout=900,
        check=False,
    )
    if run.returncode != 0:
        raise BenchError(f"the memory process failed: {run.stderr[-2000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    if set(result["statuses"]) != {"200"}:
        raise BenchError(f"the memory process got answers other than 200: {result['statuses']}")
    _memory_figures(report, result, config)


def _memory_figures(report: Report, result: dict[str, Any], config: Config) -> None:
    samples = [(int(i), rss / MB) for i, rss in result["samples"]]
    first = next(rss for i, rss in samples if i >= config.memory_sample_every)
    last = samples[-1][1]
    peak = result["peak"] / MB
    report.figure("memory.peak_rss", [peak], "MB")
    report.figure("memory.rss_after_import", [samples[0][1]], "MB")
    report.figure("memory.rss_after_first_thousand", [first], "MB")
    report.figure("memory.rss_after_last_thousand", [last], "MB")
    report.ratio("memory.peak_rss_mb", peak, 128)
    # "No growth": what a page or two of allocator noise may add, and not more.
    report.ratio("memory.growth_mb", last - first, 1.0)
    report.details["memory"] = {
        "requests": config.memory_requests,
        "rss_mb_by_request": [[i, round(rss, 2)] for i, rss in samples],
    }
    note(f"peak {peak:.1f} MB; after the first thousand {first:.1f} MB, at the end {last:.1f} MB")


# =============================================================================================
# Running it all
# =============================================================================================


def _elapsed(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def postgres_version(bench: BenchDatabase) -> str:
    conn = bench.admin()
    try:
        return str(conn.run("SHOW server_version")[0][0])
    finally:
        conn.close()


def run(
    config: Config,
    server: database.LocalDatabase,
    output: Path | None,
    *,
    server_kind: str = "embedded",
) -> Report:
    """Every phase of ``config``; the report, also written to ``output`` when given."""
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
            from welldev.bench_first import measure_first

            measure_first(report, box, server, config)
        needs_db = any(p not in ("cold", "first") for p in config.phases)
        if needs_db:
            _database_phases(report, config, server, box, server_kind)
    report.machine["load_average_at_end"] = list(os.getloadavg())
    report.machine["bench_seconds"] = round(time.perf_counter() - started, 1)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report.as_json(), indent=2) + "\n")
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
    step(f"1/7 cold start: {count} functions x {config.cold_runs} run(s), each with its floor")
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
    large = prepare_database(server, config.database_prefix, config.large)
    small = None
    if "scale" in config.phases:
        small = prepare_database(server, config.database_prefix + "_small", config.small)
    report.machine["postgres"] = postgres_version(large)
    report.machine["postgres_server"] = server_kind
    with functions_connected_to(large.local), quiet_powertools():
        if "warm" in config.phases:
            step(f"2/7 warm latency: {config.warm_iterations} iterations after {config.warmup}")
            cases = measure_warm(report, large, config)
            if _should_diagnose(config, report, "warm."):
                diagnose_warm(report, cases, config.profile_requests)
        if "round_trips" in config.phases:
            step("3/7 statements and round trips per request")
            measure_round_trips(report, large)
    if "scale" in config.phases and small is not None:
        step("4/7 scale: the sync-status List with a deep cursor, 1M rows against 10k")
        with quiet_powertools():
            sqls = measure_scale(report, large, small, config)
        if _should_diagnose(config, report, "scale."):
            diagnose_scale(report, {"large": large, "small": small}, sqls)
    if "sync" in config.phases:
        step(f"5/7 sync throughput: {config.sync_messages} x {config.sync_ids} per batch")
        with functions_connected_to(large.local):
            measure_sync(report, large, config)
            if _should_diagnose(config, report, "sync."):
                diagnose_sync(report, large, config)
    if "memory" in config.phases and box is not None:
        step(f"6/7 memory: one process serving {config.memory_requests:,} Retrieve requests")
        measure_memory(report, box, large, config)
    if "large" in config.phases:
        rows = config.large_tenants.rows
        step(f"7/7 large tenants: every read shape at {rows:,} ledger rows against 10,000")
        with quiet_powertools():
            measure_large(report, server, config.database_prefix, config.large_tenants)


def table(report: Report) -> str:
    """Cold starts one line per function, then every other figure, then every goal."""
    cold = [n for n in report.figures if n.startswith("cold_start.") and n.count(".") == 1]
    lines = [
        f"{'cold start, import only (ms; CPU time)':<50} {'cpu':>7} {'floor':>7} {'ratio':>6}"
        f" {'wall':>7} {'floor':>7}"
    ]
    paired = report.details.get("cold_start", {}).get("paired_ratio", {})
    for name in cold:
        f = report.figures
        function_id = name.removeprefix("cold_start.")
        lines.append(
            f"{function_id:<50} {f[name + '.cpu'].median:>7.0f}"
            f" {f[name + '.floor.cpu'].median:>7.0f} {paired[function_id]:>6.2f}"
            f" {f[name].median:>7.0f} {f[name + '.floor'].median:>7.0f}"
        )
    shown = {f"{n}{suffix}" for n in cold for suffix in ("", ".floor", ".cpu", ".floor.cpu")}
    from welldev.bench_first import table_lines

    first, first_shown = table_lines(report)
    lines += ["", *first] if first else []
    shown |= first_shown
    lines += ["", f"{'figure':<76} {'median':>10} {'min':>10} {'max':>10}  unit"]
    for name, s in report.figures.items():
        if name not in shown:
            lines.append(f"{name:<76} {s.median:>10.4g} {s.min:>10.4g} {s.max:>10.4g}  {s.unit}")
    lines += ["", f"{'goal':<76} {'value':>10} {'goal':>10}  met"]
    for name, r in report.ratios.items():
        compare = ">=" if r.higher_is_better else "<="
        mark = "yes" if r.met else "NO"
        lines.append(f"{name:<76} {r.value:>10.4g} {compare}{r.goal:>8.4g}  {mark}")
    missed = [n for n, r in report.ratios.items() if not r.met]
    lines += ["", f"{len(report.ratios) - len(missed)} of {len(report.ratios)} goals met"]
    return "\n".join(lines)


def diagnostics_text(report: Report) -> str:
    """The diagnostics, indented for reading; the JSON holds the same."""
    lines: list[str] = []
    for section, values in (report.details.get("diagnostics") or {}).items():
        lines.append(f"[{section}]")
        lines += _render(values, "  ")
    return "\n".join(lines)


def _render(values: dict[str, Any], indent: str) -> list[str]:
    lines: list[str] = []
    for key, item in values.items():
        if isinstance(item, dict):
            lines.append(f"{indent}{key}:")
            lines += _render(item, indent + "  ")
        elif isinstance(item, list):
            lines.append(f"{indent}{key}:")
            for entry in item:
                text = " ".join(map(str, entry)) if isinstance(entry, list) else str(entry)
                lines.append(f"{indent}  {text}")
        else:
            lines.append(f"{indent}{key}: {item}")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wellapi bench", description=(__doc__ or "").split("\n\n")[0]
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
    config = Config.quick() if args.quick else Config.full()
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
        changes["scale_iterations"] = args.iterations
    return replace(config, **changes)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    print(f"\nwrote {args.output} in {report.machine['bench_seconds']:.0f} s")
    missed = any(not r.met for r in report.ratios.values())
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
