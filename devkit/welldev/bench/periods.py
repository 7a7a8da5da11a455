"""Phase ``periods``: what a ledger's periods cost a request (docs/design.md, "Ledger periods").

The same rows, ``years`` of them (the big tenant's ``rows`` in its account ledger, a fifth in
each other ledger, as the ``large`` phase builds them), are built three times: in one period for
all time (the ledger's one partition), in a year each (the default: the years the rows fall in,
and the next), and in a quarter each (24 and more). Every read shape of the big tenant is called
on each database, the three taking turns, and each call's time and the CPU of the database
backend that served it are measured. Goals: at a year a period, every shape within ``GOAL`` of
one period in both (``periods.<resource>.<shape>`` and ``.cpu``), and the sync writer at least
as fast (``periods.sync``). The quarters' ratios are reported beside, without a goal: what more
periods cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from wellapi.roles import API_ROLE
from welldev import database
from welldev.bench.config import Config, PeriodSizes
from welldev.bench.databases import large_tenants
from welldev.bench.harness import last_backend, note, wall_and_backend_cpu_ms
from welldev.bench.large_tenant import shape_calls, sync_rates, tenant_requests
from welldev.bench.report import Report
from welldev.function_roles import functions_connected_as

GOAL = 1.2
# The databases, by the length of their periods: the baseline first.
LAYOUTS = ("one", "year", "quarter")
Key = tuple[str, str, str]
# (milliseconds, the backend's CPU milliseconds) of each call, by layout and key.
Samples = dict[str, dict[Key, list[tuple[float, float]]]]


def _period_count(local: database.LocalDatabase) -> int:
    with database.admin_connection(local.admin_url) as conn:
        return int(
            conn.run(
                "SELECT count(*) FROM core_api.ledger_periods "
                "WHERE ledger = 'account_workspace_connectors'"
            )[0][0]
        )


def _measured(
    local: database.LocalDatabase, calls: dict[Key, Callable[[], Any]], key: Key, sizes: PeriodSizes
) -> list[tuple[float, float]]:
    """``sizes.iterations`` calls of ``key`` on ``local``'s API connection, after the warm-up
    (the statement's generic plan then, as the API runs it), each with the CPU of the backend
    that served it."""
    call = calls[key]
    with functions_connected_as(local, API_ROLE):
        for _ in range(sizes.warmup + 1):
            call()
        with database.admin_connection(local.admin_url) as conn:
            pid = last_backend(conn, "COMMIT")  # the request ends its transaction
        return [wall_and_backend_cpu_ms(pid, call) for _ in range(sizes.iterations)]


def _samples(dbs: dict[str, database.LocalDatabase], sizes: PeriodSizes) -> Samples:
    """Every shape of the big tenant on every database, key by key, the databases taking turns
    (the first alternating) in ``sizes.rounds``, so that the machine weighs on all alike."""
    requests = {
        p: [(t, r) for t, r in tenant_requests(db) if t.name == "big"] for p, db in dbs.items()
    }
    samples: Samples = {p: {} for p in dbs}
    per_round = max(1, sizes.iterations // sizes.rounds)
    rounded = replace(sizes, iterations=per_round)
    for round_ in range(sizes.rounds):
        calls = {p: shape_calls(db, requests[p]) for p, db in dbs.items()}
        for n, key in enumerate(calls[LAYOUTS[0]]):
            for p in list(dbs)[:: 1 if (round_ + n) % 2 == 0 else -1]:
                samples[p].setdefault(key, []).extend(_measured(dbs[p], calls[p], key, rounded))
    return samples


def _median(samples: list[tuple[float, float]], part: int) -> float:
    return statistics.median(s[part] for s in samples)


def measure_periods(report: Report, server: database.LocalDatabase, config: Config) -> None:
    sizes, prefix = config.periods, config.database_prefix
    span = sizes.years * 365
    dbs = {
        p: large_tenants(
            server, f"{prefix}_periods_{p}", sizes.rows, sizes.small_rows, span_days=span, period=p
        )
        for p in LAYOUTS
    }
    counts = {p: _period_count(db) for p, db in dbs.items()}
    samples = _samples(dbs, sizes)
    worst: dict[str, tuple[str, float]] = {}
    quarters: dict[str, dict[str, float]] = {}
    for key, one in samples["one"].items():
        name = "periods." + ".".join(key[1:])
        for part, suffix in ((0, ""), (1, ".cpu")):
            base = _median(one, part)
            year = report.ratio(name + suffix, _median(samples["year"][key], part) / base, GOAL)
            if year.value > worst.get(suffix, ("", 0.0))[1]:
                worst[suffix] = (name, year.value)
            quarter = _median(samples["quarter"][key], part) / base
            quarters.setdefault(name, {})["ms" if part == 0 else "cpu"] = round(quarter, 3)
        report.figure(name + ".one", [s[0] for s in one], "ms")
        report.figure(name, [s[0] for s in samples["year"][key]], "ms")
    rates = sync_rates(dbs, sizes.sync_ids, sizes.sync_batches)
    medians = {
        p: report.figure(f"periods.sync.rows_per_second.{p}", r, "rows/s").median
        for p, r in rates.items()
    }
    sync = report.ratio("periods.sync", medians["one"] / medians["year"], 1.0)
    report.details["periods"] = {
        "rows": sizes.rows,
        "years": sizes.years,
        "periods": counts,
        "worst": {
            suffix or "ms": {"shape": n, "ratio": round(v, 3)} for suffix, (n, v) in worst.items()
        },
        "quarters_against_one": quarters,
        "sync_rows_per_second": {p: round(m) for p, m in medians.items()},
    }
    note(
        f"periods: {sizes.rows:,} rows over {sizes.years} years in {counts['year']} periods of a "
        f"year against one: worst {worst[''][0]} {worst[''][1]:.2f}x in time, "
        f"{worst['.cpu'][0]} {worst['.cpu'][1]:.2f}x in database CPU; sync {sync.value:.2f}x; "
        f"{counts['quarter']} quarters beside"
    )
