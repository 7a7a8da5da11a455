"""``make bench``, large tenants: every read shape on a 10,000,000-row tenant, against 10,000.

Two databases, built once and kept between runs (``wellapi.local.large_tenant``; the big
tenant's rows are written set-based inside PostgreSQL): in each, a big tenant (20 connectors)
and a small one (3 connectors, 10,000 rows a ledger) on the same tables. In the first the big
tenant holds 10,000 account ledger rows, in the second 10,000,000 (and a fifth of that in each
other ledger). Every shape of ``large_tenant.SHAPES`` is answered by the API handler for both
tenants in both databases; the goal is each shape's median on the big database within 1.5x of
its median on the 10,000-row one, for each tenant. The worst ratio is printed and recorded.

The sync writer's rows/s is measured the same way: provenance.linked batches for the big
tenant's accounts, written into each database and removed after.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wellapi.local import database, large_tenant
from wellapi.local.bench_harness import (
    CONTEXT,
    BenchError,
    Report,
    api_event,
    claims,
    functions_connected_to,
    handler_for,
    invoke,
    note,
    sync_events,
)
from wellapi.migrate import migrations_dir
from wellapi.resources import resource_named

SEED_VERSION = 1
BASE_ROWS = 10_000
SMALL_ROWS = 10_000
GOAL = 1.5
SYNC_IDS = 100  # record ids per message: the base database's big tenant has 100 accounts
SYNC_MESSAGES = 20


@dataclass(frozen=True)
class LargeSizes:
    rows: int  # the big tenant's account ledger rows in the large database
    base_rows: int = BASE_ROWS
    small_rows: int = SMALL_ROWS
    iterations: int = 30
    warmup: int = 5
    sync_batches: int = 3


def fingerprint(big_rows: int, small_rows: int) -> str:
    digest = hashlib.sha256(f"{SEED_VERSION}:{big_rows}:{small_rows}".encode())
    digest.update(Path(large_tenant.__file__).read_bytes())
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare(
    server: database.LocalDatabase, name: str, big_rows: int, small_rows: int
) -> database.LocalDatabase:
    """Database ``name`` with both tenants, reused while its fingerprint matches."""
    wanted = fingerprint(big_rows, small_rows)
    local = database.create_database(server, name)
    conn = database.admin_connection(local.admin_url)
    try:
        seeded = conn.run("SELECT to_regclass('public.large_tenant_seed')")[0][0] is not None
        if seeded and conn.run("SELECT fingerprint FROM public.large_tenant_seed") == [[wanted]]:
            database.ensure_roles(local)
            note(f"{name}: reusing {big_rows:,} rows")
            return local
    finally:
        conn.close()
    started = time.perf_counter()
    local = database.prepare(server, name, replace=True)
    conn = database.admin_connection(local.admin_url)
    try:
        large_tenant.build(conn, big_rows=big_rows, small_rows=small_rows)
        conn.run("CREATE TABLE public.large_tenant_seed (fingerprint text NOT NULL)")
        conn.run("INSERT INTO public.large_tenant_seed VALUES (:f)", f=wanted)
    finally:
        conn.close()
    note(f"{name}: built {big_rows:,} rows in {time.perf_counter() - started:.0f} s")
    return local


def event_for(request: large_tenant.Request, t: large_tenant.Tenant) -> dict[str, Any]:
    resource = resource_named(request.shape.resource)
    base = f"/v1/{resource.path}"
    who = claims(str(t.person_id), str(t.workspace_id), "member")
    if request.shape.single:
        row = str(request.row_id)
        return api_event(
            "GET",
            f"{base}/{row}",
            route=base + "/{id}",
            claims=who,
            query=request.query,
            path_parameters={"id": row},
        )
    return api_event("GET", base, route=base, claims=who, query=request.query)


def _samples_ms(call: Callable[[], Any], iterations: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure_database(
    local: database.LocalDatabase, sizes: LargeSizes
) -> dict[tuple[str, str, str], list[float]]:
    """Milliseconds per (tenant, resource, shape) of the handler's answer."""
    conn = database.admin_connection(local.admin_url)
    try:
        tenants = [large_tenant.tenant(conn, name) for name in ("big", "small")]
        requests = {t.name: large_tenant.requests(conn, t) for t in tenants}
    finally:
        conn.close()
    samples: dict[tuple[str, str, str], list[float]] = {}
    with functions_connected_to(local):
        for t in tenants:
            for request in requests[t.name]:
                shape = request.shape
                handler = handler_for(shape.resource, "retrieve" if shape.single else "list")
                event = event_for(request, t)
                samples[(t.name, shape.resource, shape.name)] = _samples_ms(
                    functools.partial(invoke, handler, event, 200),
                    sizes.iterations,
                    sizes.warmup,
                )
    return samples


def _sync_rate(local: database.LocalDatabase, sizes: LargeSizes) -> list[float]:
    """Rows/s of the sync handler writing the big tenant's account links, then removed."""
    from wellapi.sync.handler import sync_handler

    conn = database.admin_connection(local.admin_url)
    try:
        t = large_tenant.tenant(conn, "big")
        accounts = [
            str(r[0])
            for r in conn.run(
                "SELECT account_id FROM core_api.accounts WHERE workspace_pk = :w "
                "ORDER BY pk LIMIT :n",
                w=t.workspace_pk,
                n=SYNC_IDS,
            )
        ]
        (connector_pk,) = conn.run(
            "SELECT pk FROM core_api.workspace_connectors WHERE workspace_connector_id = :c",
            c=t.connector_ids[1],
        )[0]
        handler = sync_handler()
        rates = []
        with functions_connected_to(local):
            for batch in range(sizes.sync_batches + 1):
                events = sync_events(
                    str(t.connector_ids[1]),
                    accounts * SYNC_MESSAGES,
                    SYNC_MESSAGES,
                    SYNC_IDS,
                    1,
                    record_type="account",
                )
                rows = SYNC_MESSAGES * SYNC_IDS
                started = time.perf_counter()
                for event in events:
                    response = handler(event, CONTEXT)
                    if response["batchItemFailures"]:
                        raise BenchError(f"the sync handler failed messages: {response}")
                elapsed = time.perf_counter() - started
                if batch:  # the first one connects and warms up
                    rates.append(rows / elapsed)
        return rates
    finally:
        # Only the bench's own rows: the built ones end at the build's fixed last day.
        conn.run(
            "DELETE FROM core_api.account_workspace_connectors WHERE workspace_connector_pk = :c "
            "AND created_at > :end",
            c=connector_pk,
            end=large_tenant.BUILT_UNTIL,
        )
        conn.run("DELETE FROM core_api.sync_receipts WHERE sync_run_id = 'bench'")
        conn.close()


def measure_large(
    report: Report, server: database.LocalDatabase, prefix: str, sizes: LargeSizes
) -> None:
    dbs = {
        "base": prepare(server, f"{prefix}_tenants_base", sizes.base_rows, sizes.small_rows),
        "large": prepare(server, f"{prefix}_tenants_large", sizes.rows, sizes.small_rows),
    }
    measured = {size: measure_database(local, sizes) for size, local in dbs.items()}
    ratios: dict[str, float] = {}
    for key, base_samples in measured["base"].items():
        tenant, resource, shape = key
        name = f"large.{tenant}.{resource}.{shape}"
        b = report.figure(f"{name}.base", base_samples, "ms")
        big = report.figure(name, measured["large"][key], "ms")
        ratios[name] = report.ratio(name, big.median / b.median, GOAL).value
    worst = max(ratios, key=lambda n: ratios[n])
    report.ratio("large.worst", ratios[worst], GOAL)
    rates = {size: _sync_rate(local, sizes) for size, local in dbs.items()}
    base_rate = report.figure("large.sync.rows_per_second.base", rates["base"], "rows/s")
    large_rate = report.figure("large.sync.rows_per_second", rates["large"], "rows/s")
    sync = report.ratio("large.sync.slowdown", base_rate.median / large_rate.median, GOAL)
    report.details["large"] = {
        "rows": {"base": sizes.base_rows, "large": sizes.rows, "small_tenant": sizes.small_rows},
        "shapes": len(large_tenant.SHAPES),
        "worst": {"shape": worst, "ratio": round(ratios[worst], 3)},
        "iterations": sizes.iterations,
    }
    note(
        f"large tenants: {len(ratios)} shape x tenant ratios, worst {worst} "
        f"{ratios[worst]:.2f}x; sync {large_rate.median:,.0f} rows/s at {sizes.rows:,} rows "
        f"against {base_rate.median:,.0f} ({sync.value:.2f}x)"
    )
