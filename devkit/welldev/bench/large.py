"""``make bench``, large tenants: every read shape on a 10,000,000-row tenant, against 10,000.

Two databases, built once and kept between runs (``welldev.bench.large_tenant``; the big
tenant's rows are written set-based inside PostgreSQL): in each, a big tenant (20 connectors)
and a small one (3 connectors, 10,000 rows a ledger) on the same tables. In the first the big
tenant holds 10,000 account ledger rows, in the second 10,000,000 (and a fifth of that in each
other ledger). Every shape of ``large_tenant.SHAPES`` is answered by the API handler for both
tenants in both databases; the goal is each shape's median on the big database within 1.5x of
its median on the 10,000-row one, for each tenant. The worst ratio is printed and recorded.
Beside them, what the deepest numbered page costs against the first page (``numbered_pages``).

The sync writer's rows/s is measured the same way: provenance.linked batches for the accounts
of a third workspace, written into each database's ledger and removed after.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wellapi.handlers.migration import migrations_dir
from wellapi.jsonapi.query import DEFAULT_PAGE_SIZE, MAX_PAGE_DEPTH
from wellapi.resources import resource_named
from wellapi.roles import API_ROLE
from welldev import database
from welldev.bench import large_tenant
from welldev.bench.config import LargeSizes
from welldev.bench.errors import BenchError
from welldev.bench.harness import (
    CONTEXT,
    api_event,
    handler_for,
    invoke,
    note,
    sync_events,
    taking_turns,
)
from welldev.bench.report import Report
from welldev.bench.split import report_split, split_samples
from welldev.claims import claims
from welldev.function_roles import functions_connected_as

SEED_VERSION = 1
GOAL = 1.5
SYNC_MESSAGES = 10


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
        # Written out now, not by a checkpoint in the middle of the measurements.
        conn.run("CHECKPOINT")
        conn.run("CREATE TABLE public.large_tenant_seed (fingerprint text NOT NULL)")
        conn.run("INSERT INTO public.large_tenant_seed VALUES (:f)", f=wanted)
    finally:
        conn.close()
    note(f"{name}: built {big_rows:,} rows in {time.perf_counter() - started:.0f} s")
    return local


def event_for(request: large_tenant.ShapeRequest, who: dict[str, str]) -> dict[str, Any]:
    resource = resource_named(request.shape.resource)
    base = f"/v1/{resource.path}"
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


def _requests(local: database.LocalDatabase) -> list[tuple[large_tenant.Tenant, list[Any]]]:
    conn = database.admin_connection(local.admin_url)
    try:
        tenants = [large_tenant.tenant(conn, name) for name in ("big", "small")]
        return [(t, large_tenant.requests(conn, t)) for t in tenants]
    finally:
        conn.close()


def _calls(
    local: database.LocalDatabase, tenants: list[tuple[large_tenant.Tenant, list[Any]]]
) -> dict[tuple[str, str, str], Callable[[], Any]]:
    """A call of the handler per (tenant, resource, shape), with the tenant's fresh claims."""
    conn = database.admin_connection(local.admin_url)
    try:
        who = {t.name: claims(conn, t.person_id, t.workspace_id, "member") for t, _ in tenants}
    finally:
        conn.close()
    calls: dict[tuple[str, str, str], Callable[[], Any]] = {}
    for t, tenant_requests in tenants:
        for request in tenant_requests:
            shape = request.shape
            operation = "retrieve" if shape.single else "list"
            calls[(t.name, shape.resource, shape.name)] = functools.partial(
                invoke, handler_for(shape.resource, operation), event_for(request, who[t.name]), 200
            )
    return calls


def measure(
    dbs: dict[str, database.LocalDatabase], sizes: LargeSizes
) -> dict[str, dict[tuple[str, str, str], list[float]]]:
    """Milliseconds per (tenant, resource, shape) of the handler's answer, per database.

    Shape by shape, a block of iterations on one database and then on the other (the first
    one alternating), in several rounds: whatever the machine does meanwhile weighs on both
    figures of a shape alike.
    """
    requests = {size: _requests(local) for size, local in dbs.items()}
    keys = [
        (t.name, r.shape.resource, r.shape.name)
        for t, tenant_requests in next(iter(requests.values()))
        for r in tenant_requests
    ]
    samples: dict[str, dict[tuple[str, str, str], list[float]]] = {size: {} for size in dbs}
    per_round = max(1, sizes.iterations // sizes.rounds)
    for round_ in range(sizes.rounds):
        # Each round signs its own scope tokens: they expire (revision 0014).
        calls = {size: _calls(dbs[size], tenants) for size, tenants in requests.items()}
        for n, key in enumerate(keys):
            order = list(dbs) if (round_ + n) % 2 == 0 else list(reversed(dbs))
            for size in order:
                with functions_connected_as(dbs[size], API_ROLE):
                    samples[size].setdefault(key, []).extend(
                        taking_turns({size: calls[size][key]}, per_round, sizes.warmup)[size]
                    )
    return samples


# The big tenant's shapes whose handler is held to its database time at 10,000,000 rows as at
# the warm bench's size (``welldev.bench.split.GOALS``): the List of 100 with both includes
# at most 2x, the default List at most 1.5x.
SPLIT_AT_SIZE = {"include_page_100": 2.0, "default": 1.5}
SPLIT_RESOURCE = "account_workspace_connectors"


def split_at_size(report: Report, local: database.LocalDatabase, sizes: LargeSizes) -> None:
    """Where the big tenant's time goes at the large size (``split.large.<shape>``)."""
    calls = _calls(local, [(t, r) for t, r in _requests(local) if t.name == "big"])
    with functions_connected_as(local, API_ROLE):
        for shape, goal in SPLIT_AT_SIZE.items():
            call = calls[("big", SPLIT_RESOURCE, shape)]
            for _ in range(sizes.warmup):
                call()
            samples = split_samples(call, sizes.iterations)
            report_split(report, f"large.{shape}", samples, goal)


# What a numbered page pays for its depth: the deepest one at the default size (980 rows deep)
# of the big tenant's account ledger at 10,000,000 rows, beside its first page and the cursor
# 1,000 pages deep, in one run. The goal: never dearer than following links.next from the first
# page to it (docs/performance.md, "Numbered pages").
DEEPEST_NUMBER = (MAX_PAGE_DEPTH - 1) // DEFAULT_PAGE_SIZE + 1


def numbered_pages(report: Report, local: database.LocalDatabase, sizes: LargeSizes) -> None:
    big, requests = next((t, r) for t, r in _requests(local) if t.name == "big")
    by_name = {r.shape.name: r for r in requests if r.shape.resource == SPLIT_RESOURCE}
    deepest = replace(by_name["default"], query=f"page[number]={DEEPEST_NUMBER}")
    conn = database.admin_connection(local.admin_url)
    try:
        who = claims(conn, big.person_id, big.workspace_id, "member")
    finally:
        conn.close()
    handler = handler_for(SPLIT_RESOURCE, "list")
    pages = {"first": by_name["default"], "cursor_deep": by_name["cursor_deep"]}
    calls: dict[str, Callable[[], Any]] = {
        name: functools.partial(invoke, handler, event_for(request, who), 200)
        for name, request in {**pages, "number_deep": deepest}.items()
    }
    with functions_connected_as(local, API_ROLE):
        samples = taking_turns(calls, sizes.iterations, sizes.warmup)
    ms = {name: report.figure(f"large.pages.{name}", v, "ms").median for name, v in samples.items()}
    ratio = report.ratio(
        "large.pages.number_deep", ms["number_deep"] / ms["first"], float(DEEPEST_NUMBER)
    )
    note(
        f"numbered pages: page[number]={DEEPEST_NUMBER} {ms['number_deep']:.2f} ms, the first "
        f"page {ms['first']:.2f} ms ({ratio.value:.1f}x), the cursor 1,000 pages deep "
        f"{ms['cursor_deep']:.2f} ms"
    )


@dataclass
class _SyncTarget:
    local: database.LocalDatabase
    connector_id: str
    connector_pk: int
    accounts: list[str]


def _sync_target(local: database.LocalDatabase, ids: int) -> _SyncTarget:
    conn = database.admin_connection(local.admin_url)
    try:
        t = large_tenant.tenant(conn, "sync")
        accounts = [
            str(r[0])
            for r in conn.run(
                "SELECT account_id FROM core_api.accounts WHERE workspace_pk = :w "
                "ORDER BY pk LIMIT :n",
                w=t.workspace_pk,
                n=ids,
            )
        ]
        (connector_pk,) = conn.run(
            "SELECT pk FROM core_api.workspace_connectors WHERE workspace_connector_id = :c",
            c=t.connector_ids[0],
        )[0]
        return _SyncTarget(local, str(t.connector_ids[0]), connector_pk, accounts)
    finally:
        conn.close()


def _sync_rep(handler: Any, target: _SyncTarget, ids: int) -> float:
    """Rows/s of one batch of SYNC_MESSAGES messages linking accounts, on the big tables."""
    events = sync_events(
        target.connector_id,
        target.accounts * SYNC_MESSAGES,
        SYNC_MESSAGES,
        ids,
        1,
        record_type="account",
    )
    with functions_connected_as(target.local, API_ROLE):
        started = time.perf_counter()
        for event in events:
            response = handler(event, CONTEXT)
            if response["batchItemFailures"]:
                raise BenchError(f"the sync handler failed messages: {response}")
        return SYNC_MESSAGES * ids / (time.perf_counter() - started)


def _remove_sync_rows(target: _SyncTarget) -> None:
    """Only the bench's own rows: the built ones end at the build's fixed last day."""
    conn = database.admin_connection(target.local.admin_url)
    try:
        conn.run(
            "DELETE FROM core_api.account_workspace_connectors WHERE workspace_connector_pk = :c "
            "AND created_at > :end",
            c=target.connector_pk,
            end=large_tenant.BUILT_UNTIL,
        )
        conn.run("DELETE FROM core_api.sync_receipts WHERE sync_run_id = 'bench'")
    finally:
        conn.close()


def sync_rates(dbs: dict[str, database.LocalDatabase], sizes: LargeSizes) -> dict[str, list[float]]:
    """The sync handler's rows/s on each database, one batch on each in turn."""
    from wellapi.handlers.sync import sync_handler

    handler = sync_handler()
    targets = {size: _sync_target(local, sizes.sync_ids) for size, local in dbs.items()}
    ids = min(sizes.sync_ids, *(len(t.accounts) for t in targets.values()))
    rates: dict[str, list[float]] = {size: [] for size in dbs}
    try:
        for rep in range(sizes.sync_batches + 1):
            order = list(dbs) if rep % 2 == 0 else list(reversed(dbs))
            for size in order:
                rate = _sync_rep(handler, targets[size], ids)
                if rep:  # the first connects and warms up
                    rates[size].append(rate)
    finally:
        for target in targets.values():
            _remove_sync_rows(target)
    return rates


def measure_large(
    report: Report, server: database.LocalDatabase, prefix: str, sizes: LargeSizes
) -> None:
    dbs = {
        "base": prepare(server, f"{prefix}_tenants_base", sizes.base_rows, sizes.small_rows),
        "large": prepare(server, f"{prefix}_tenants_large", sizes.rows, sizes.small_rows),
    }
    measured = measure(dbs, sizes)
    ratios: dict[str, float] = {}
    for key, base_samples in measured["base"].items():
        tenant, resource, shape = key
        name = f"large.{tenant}.{resource}.{shape}"
        b = report.figure(f"{name}.base", base_samples, "ms")
        big = report.figure(name, measured["large"][key], "ms")
        ratios[name] = report.ratio(name, big.median / b.median, GOAL).value
    worst = max(ratios, key=lambda n: ratios[n])
    report.ratio("large.worst", ratios[worst], GOAL)
    split_at_size(report, dbs["large"], sizes)
    numbered_pages(report, dbs["large"], sizes)
    rates = sync_rates(dbs, sizes)
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
