"""Phase ``outbox``: what recording a change (revision 0025's triggers) costs a Create and a sync
batch (#33, #42), each with its table's triggers enabled and disabled in the same run. The
Create is its raw SQL as the API role: the handler's Python, the same either way, would only
dilute the ratio. The sync batch's figures come from the sync phase's batches (``sync.SIDES``).
"""

from __future__ import annotations

from typing import Any

from welldev.bench.api_requests import warm_cases
from welldev.bench.config import OUTBOX_GOAL, Config
from welldev.bench.databases import BenchDatabase, remove_created_rows, triggers
from welldev.bench.harness import note, taking_turns
from welldev.bench.raw_client import RawClient
from welldev.bench.report import Report

CREATE_LEDGER = "core_api.company_workspace_connectors"
# Calls per block of one side (the Create's): long enough that the untimed call after each
# toggle is a small part of the run, short enough that drift hits both sides alike.
BLOCK = 10


def in_blocks(bench: BenchDatabase, call: Any, iterations: int) -> dict[bool, list[float]]:
    """Milliseconds of ``call`` with (True) and without the Create's recording, in alternating
    blocks, each after one call not timed (the ``ALTER`` invalidates cached descriptions)."""
    samples: dict[bool, list[float]] = {True: [], False: []}
    try:
        for block in range(max(iterations // BLOCK, 2) * 2):
            on = block % 4 in (0, 3)  # on, off, off, on: each side first as often
            triggers(bench, CREATE_LEDGER, on)
            samples[on] += taking_turns({"create": call}, BLOCK, 1)["create"]
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
        ms = in_blocks(bench, call, config.warm_iterations)
    finally:
        api.close()
        remove_created_rows(bench)
    w = report.figure("outbox.create.with_record", ms[True], "ms")
    wo = report.figure("outbox.create.without_record", ms[False], "ms")
    ratio = report.ratio("outbox.create", w.median / wo.median, OUTBOX_GOAL)
    note(
        f"outbox: a Create as the API role {w.median:.2f} ms, {wo.median:.2f} ms without its "
        f"record: {ratio.value:.2f}x"
    )
