"""Phase ``outbox``: what recording a change costs a Create and a sync batch (issues #33, #42).

The database records every change of a junction row itself (revision 0025: statement-level
triggers that read the statement's transition tables). Each side runs with its table's
recording triggers enabled and disabled (``ALTER TABLE ... DISABLE TRIGGER``, as the owner), in
the same run, in alternating blocks:

- **Create**: the warm Create's SQL as the API role (its policies and verified scope
  included), in blocks of ``BLOCK`` with and without the triggers, each block after one call
  that is not timed (the ``ALTER`` invalidates the table's cached descriptions). Raw SQL, not
  the handler: the handler's own Python is the same either way and would only dilute the ratio.
- **Sync batch**: the sync handler on a full batch of ``provenance.linked`` messages, the
  triggers toggled between batches, outside the timing: the sync phase's batches
  (``sync.SIDES``), which write both phases' figures.
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


def in_blocks(
    bench: BenchDatabase, table: str, call: Any, iterations: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of ``call`` with and without ``table``'s recording, in alternating blocks."""
    samples: dict[bool, list[float]] = {True: [], False: []}
    try:
        for block in range(max(iterations // BLOCK, 2) * 2):
            on = block % 4 in (0, 3)  # on, off, off, on: each side first as often
            triggers(bench, table, on)
            samples[on] += taking_turns({"create": call}, BLOCK, 1)["create"]
    finally:
        triggers(bench, table, True)
    return samples[True], samples[False]


def measure_outbox(report: Report, bench: BenchDatabase, config: Config) -> None:
    (create,) = warm_cases(bench, {"create"})
    api = RawClient(bench.api_url)

    def call() -> Any:
        # A new row each time, with a fresh proof as the function makes for each request.
        return api.proven_rows(create.sent, create.fresh())

    try:
        for _ in range(config.warmup):
            call()
        with_ms, without_ms = in_blocks(bench, CREATE_LEDGER, call, config.warm_iterations)
    finally:
        api.close()
        remove_created_rows(bench)
    w = report.figure("outbox.create.with_record", with_ms, "ms")
    wo = report.figure("outbox.create.without_record", without_ms, "ms")
    ratio = report.ratio("outbox.create", w.median / wo.median, OUTBOX_GOAL)
    note(
        f"outbox: a Create as the API role {w.median:.2f} ms, {wo.median:.2f} ms without its "
        f"record: {ratio.value:.2f}x"
    )
