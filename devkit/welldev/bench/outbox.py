"""Phase ``outbox``: what recording a change (the ``<table>_recorded_<event>`` triggers) costs a
Create and a sync batch (#33, #42), each with its table's triggers enabled and disabled in the
same run. The Create is its raw SQL as the API role: the handler's Python, the same either way,
would only dilute the ratio; its time and its backend's CPU (``db_cpu`` counts a request's price
so) are taken from the same calls. The sync batch's figures come from the sync phase's batches
(``sync.SIDES``).
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable
from typing import Any

from welldev.bench.api_requests import warm_cases
from welldev.bench.config import OUTBOX_GOAL, Config
from welldev.bench.databases import BenchDatabase, remove_created_rows, triggers
from welldev.bench.harness import note, taking_turns, wall_and_backend_cpu_ms
from welldev.bench.raw_client import RawClient
from welldev.bench.report import Report

CREATE_LEDGER = "core_api.company_workspace_connectors"
# Calls per block of one side (the Create's): long enough that the untimed call after each
# toggle is a small part of the run, short enough that drift hits both sides alike.
BLOCK = 10


def in_blocks(
    bench: BenchDatabase, call: Any, iterations: int, measure: Callable[[Callable[[], Any]], Any]
) -> dict[bool, list[Any]]:
    """``measure`` of ``call`` with (True) and without the Create's recording, in alternating
    blocks, each after one call not measured (the ``ALTER`` invalidates cached descriptions)."""
    samples: dict[bool, list[Any]] = {True: [], False: []}
    try:
        for block in range(max(iterations // BLOCK, 2) * 2):
            on = block % 4 in (0, 3)  # on, off, off, on: each side first as often
            triggers(bench, CREATE_LEDGER, on)
            samples[on] += taking_turns({"create": call}, BLOCK, 1, measure)["create"]
    finally:
        triggers(bench, CREATE_LEDGER, True)
    return samples


def measure_outbox(report: Report, bench: BenchDatabase, config: Config) -> None:
    (create,) = warm_cases(bench, {"create"})
    api = RawClient(bench.api_url)

    def call() -> Any:
        # A new row each time, with a fresh proof as the function makes for each request.
        return api.proven_rows(create.sent, create.fresh())

    try:
        for _ in range(config.warmup):
            call()
        measured = functools.partial(wall_and_backend_cpu_ms, api.pid)
        samples = in_blocks(bench, call, config.warm_iterations, measured)
    finally:
        api.close()
        remove_created_rows(bench)
    ms = {on: [m for m, _ in s] for on, s in samples.items()}
    cpu = {on: [c for _, c in s] for on, s in samples.items()}
    w = report.figure("outbox.create.with_record", ms[True], "ms")
    wo = report.figure("outbox.create.without_record", ms[False], "ms")
    ratio = report.ratio("outbox.create", w.median / wo.median, OUTBOX_GOAL)
    # The record's price in the database's CPU, which db_cpu.create counts in the Create's own.
    price = statistics.fmean(cpu[True]) - statistics.fmean(cpu[False])
    report.figure("outbox.create.database.with_record", cpu[True], "ms")
    report.figure("outbox.create.database.without_record", cpu[False], "ms")
    report.figure("outbox.create.database.record", [price], "ms")
    note(
        f"outbox: a Create as the API role {w.median:.2f} ms, {wo.median:.2f} ms without its "
        f"record: {ratio.value:.2f}x; its database CPU {statistics.fmean(cpu[True]):.3f} ms, "
        f"the record {price:.3f} of it"
    )
