"""Phase ``large``: every read shape of a big and a small tenant, on a database where the big one
holds 10,000,000 account ledger rows within ``GOAL`` x of one where it holds 10,000; beside them
the deepest numbered page, the cursor 1,000 pages deep (``scale.*``) and the sync writer's rows/s.
"""

from __future__ import annotations

from typing import Any

from wellapi.jsonapi.query import DEFAULT_PAGE_SIZE, MAX_PAGE_DEPTH
from wellapi.roles import API_ROLE
from welldev import database
from welldev.bench import large_tenant
from welldev.bench.config import Config, LargeSizes
from welldev.bench.databases import large_tenants
from welldev.bench.harness import (
    alternating,
    note,
)
from welldev.bench.large_tenant import Requests, shape_calls, sync_rates, tenant_requests
from welldev.bench.report import Report
from welldev.bench.split import parts, report_split
from welldev.function_roles import functions_connected_as

GOAL = 1.5


# The big tenant's shapes whose time is split at 10,000,000 rows as at the warm bench's size.
SPLIT_AT_SIZE = ("include_page_100", "default")
SPLIT_RESOURCE = "account_workspace_connectors"


def split_at_size(
    report: Report, local: database.LocalDatabase, requests: Requests, sizes: LargeSizes
) -> None:
    """Where the big tenant's time goes at the large size (``split.large.<shape>``)."""
    calls = shape_calls(local, [(t, r) for t, r in requests if t.name == "big"])
    with functions_connected_as(local, API_ROLE):
        for shape in SPLIT_AT_SIZE:
            call = calls[("big", SPLIT_RESOURCE, shape)]
            for _ in range(sizes.warmup):
                call()
            samples = [parts(call) for _ in range(sizes.iterations)]
            report_split(report, f"large.{shape}", samples)


# The deepest numbered page at the default size (980 rows deep) of the big tenant's account
# ledger, timed beside its first page and the cursor 1,000 pages deep (``large.pages.*``): never
# dearer than following links.next to it (docs/performance.md, "Numbered pages").
DEEPEST_NUMBER = (MAX_PAGE_DEPTH - 1) // DEFAULT_PAGE_SIZE + 1
PAGES = {"first": "default", "cursor_deep": "cursor_deep", "number_deep": "number_deep"}


def with_numbered_page(requests: Requests) -> Requests:
    """The big tenant's requests and its deepest numbered page (only the large database's)."""
    shape = large_tenant.Shape(SPLIT_RESOURCE, "number_deep")
    deepest = large_tenant.ShapeRequest(shape, f"page[number]={DEEPEST_NUMBER}", None)
    return [(t, [*r, deepest] if t.name == "big" else r) for t, r in requests]


def numbered_pages(report: Report, measured: dict[str, dict[Any, list[float]]]) -> None:
    """``large.pages.*``, and ``scale.deep_cursor``: the cursor 1,000 pages deep at 10,000,000
    rows against 10,000."""
    pages = {page: measured["large"][("big", SPLIT_RESOURCE, s)] for page, s in PAGES.items()}
    ms = {page: report.figure(f"large.pages.{page}", m, "ms") for page, m in pages.items()}
    first, deep = ms["first"].median, ms["number_deep"].median
    ratio = report.ratio("large.pages.number_deep", deep / first, float(DEEPEST_NUMBER))
    cursor = ("big", SPLIT_RESOURCE, "cursor_deep")
    large = report.figure("scale.deep_cursor.large", measured["large"][cursor], "ms")
    small = report.figure("scale.deep_cursor.small", measured["base"][cursor], "ms")
    report.ratio("scale.deep_cursor", large.median / small.median, GOAL)
    note(
        f"numbered pages: page[number]={DEEPEST_NUMBER} {deep:.2f} ms, the first page "
        f"{first:.2f} ms ({ratio.value:.1f}x), the cursor 1,000 pages deep {large.median:.2f} "
        f"ms ({small.median:.2f} ms on the 10,000-row database)"
    )


def measure_large(report: Report, server: database.LocalDatabase, config: Config) -> None:
    sizes, prefix = config.large_tenants, config.database_prefix
    dbs = {
        size: large_tenants(server, f"{prefix}_tenants_{size}", rows, sizes.small_rows)
        for size, rows in (("base", sizes.base_rows), ("large", sizes.rows))
    }
    requests = {size: tenant_requests(local) for size, local in dbs.items()}
    requests["large"] = with_numbered_page(requests["large"])
    measured = alternating(  # ms by database, then (tenant, resource, shape)
        dbs,
        lambda: {size: shape_calls(dbs[size], tenants) for size, tenants in requests.items()},
        sizes.rounds,
        max(1, sizes.iterations // sizes.rounds),
        sizes.warmup,
    )
    ratios: dict[str, float] = {}
    for key, base_samples in measured["base"].items():  # number_deep is the large one's
        name = "large." + ".".join(key)
        b = report.figure(f"{name}.base", base_samples, "ms")
        big = report.figure(name, measured["large"][key], "ms")
        ratios[name] = report.ratio(name, big.median / b.median, GOAL).value
    worst = max(ratios, key=lambda n: ratios[n])
    report.ratio("large.worst", ratios[worst], GOAL)
    split_at_size(report, dbs["large"], requests["large"], sizes)
    numbered_pages(report, measured)
    rates = sync_rates(dbs, sizes.sync_ids, sizes.sync_batches)
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
