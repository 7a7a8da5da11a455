"""Retention of the change records: a sent record is deleted ``CHANGE_RETENTION_DAYS`` after
the drainer sent it, in bounded steps; an unsent one never is (docs/changes.md, "Retention").

Run by the sweep function every minute, after the revocation sweep, as the sync role, whose
policies (``change_records_sync_prune`` and ``change_records_sync_prune_read``) let it read and
delete only records sent longer ago than that: the database holds the promise, whatever SQL
runs. Each step is one statement in one round trip: up to ``STEP_RECORDS`` of the oldest sent
records, found on ``idx_change_records_sent``, are deleted, and each workspace's pruned position
(``change_feed_pruned``) is raised to the largest ``(xid, pk)`` the step deleted there, in the
same transaction. The feed answers a cursor below that position 410 ``CURSOR_EXPIRED`` rather
than skip a record it never showed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wellapi.domain import CHANGE_RETENTION_DAYS
from wellapi.store import connections
from wellapi.store.sql import BoundStatement, Statement

# Records per step: a page of the sent index and as many deletions (~20 ms on this project's
# bench machine; docs/performance.md), far from the sync role's statement timeout.
STEP_RECORDS = 10_000
# A step is not started with less of the invocation left than this.
PRUNE_BUDGET_MS = 5_000


# How long a sent record is kept.
RETAINED = f"{CHANGE_RETENTION_DAYS} days"

# One step: delete up to ``records`` records sent more than ``retained`` ago, raise each
# workspace's pruned position, and answer (records deleted, workspaces marked).
PRUNE = Statement(
    """WITH doomed AS (
  SELECT pk FROM core_api.change_records
  WHERE sent_at < now() - %(retained)s::interval
  ORDER BY sent_at
  LIMIT %(records)s
), gone AS (
  DELETE FROM core_api.change_records c USING doomed d
  WHERE c.pk = d.pk
  RETURNING c.workspace_pk, c.xid, c.pk
), last AS (
  SELECT DISTINCT ON (workspace_pk) workspace_pk, xid, pk FROM gone
  ORDER BY workspace_pk, xid DESC, pk DESC
), marked AS (
  INSERT INTO core_api.change_feed_pruned AS p (workspace_pk, xid, pk)
  SELECT workspace_pk, xid, pk FROM last
  ON CONFLICT (workspace_pk) DO UPDATE
  SET xid = excluded.xid, pk = excluded.pk, pruned_at = now()
  WHERE (excluded.xid, excluded.pk) > (p.xid, p.pk)
  RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM marked)"""
)


def prune_statement(records: int = STEP_RECORDS) -> BoundStatement:
    """One step (``PRUNE``) of up to ``records`` records."""
    return PRUNE.bind({"retained": RETAINED, "records": records})


@dataclass
class PruneReport:
    """What a run of the pruner did."""

    records: int = 0
    steps: int = 0
    # Whether it stopped for lack of time with records still to prune.
    unfinished: bool = False


def prune_change_records(
    *,
    pool: Any = None,
    time_left_ms: Callable[[], int] = lambda: 1 << 62,
    records: int = STEP_RECORDS,
) -> PruneReport:
    """Prune while a step finds a full batch and the invocation has time."""
    report = PruneReport()
    while True:
        if time_left_ms() < PRUNE_BUDGET_MS:
            report.unfinished = True
            return report
        ((deleted, _marked),) = connections.in_transaction(
            [prune_statement(records)], retry=False, pool=pool
        )
        report.steps += 1
        report.records += int(deleted)
        if int(deleted) < records:
            return report


__all__ = ["STEP_RECORDS", "PruneReport", "prune_change_records", "prune_statement"]
