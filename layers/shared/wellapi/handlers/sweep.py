"""The scheduled sweep function: makes the ledgers' periods ahead of their time, soft-deletes
revoked connectors' rows in bounded steps, and prunes the change records retention no longer
keeps.

Run every minute by its schedule, it makes the missing periods (``wellapi.sync.periods``), sweeps
while its invocation has time (``wellapi.sync.sweeper``), then prunes the sent change records
older than the retention (``wellapi.sync.retention``), then reports what it did and how long the
oldest revocation still being swept has waited. Metrics (EMF): LedgerPeriodSecondsAhead (alarmed
on), RowsRevoked, RevocationsSwept, SweepSteps, OldestPendingRevocationSeconds (alarmed on,
so a sweep that stops making progress is seen), ChangeRecordsPruned, ChangePruneSteps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from wellapi.errors import failure_fields
from wellapi.handlers.scheduled import scheduled_handler
from wellapi.store import connections
from wellapi.sync.periods import make_periods_ahead
from wellapi.sync.retention import prune_change_records
from wellapi.sync.sweeper import pending_age_seconds, sweep

logger = Logger(service="wellapi-sweep", use_rfc3339=True)
metrics = Metrics(namespace="Well", service="wellapi-sweep")


def sweep_once(
    *, pool: connections.Pool | None = None, time_left_ms: Callable[[], int]
) -> dict[str, Any]:
    pool = pool or connections.get_pool("sync")
    periods = make_periods_ahead(pool=pool)
    report = sweep(pool=pool, time_left_ms=time_left_ms)
    pruned = prune_change_records(pool=pool, time_left_ms=time_left_ms)
    age = pending_age_seconds(pool=pool)
    metrics.add_metric(name="RowsRevoked", unit=MetricUnit.Count, value=report.rows)
    metrics.add_metric(
        name="RevocationsSwept", unit=MetricUnit.Count, value=report.revocations_done
    )
    metrics.add_metric(name="SweepSteps", unit=MetricUnit.Count, value=report.steps)
    metrics.add_metric(name="OldestPendingRevocationSeconds", unit=MetricUnit.Seconds, value=age)
    metrics.add_metric(name="ChangeRecordsPruned", unit=MetricUnit.Count, value=pruned.records)
    metrics.add_metric(name="ChangePruneSteps", unit=MetricUnit.Count, value=pruned.steps)
    metrics.add_metric(
        name="LedgerPeriodSecondsAhead", unit=MetricUnit.Seconds, value=periods.seconds_ahead
    )
    if periods.failure is not None:
        logger.error("ledger periods could not be made", extra=failure_fields(periods.failure))
    for period in periods.made:
        logger.info(
            "ledger period made",
            extra={
                "ledger": period.ledger,
                "starts_at": period.starts_at.isoformat(),
                "ends_at": period.ends_at.isoformat(),
            },
        )
    summary = {
        "rows": report.rows,
        "steps": report.steps,
        "revocations_swept": report.revocations_done,
        "parts_left": report.parts_left,
        "oldest_pending_revocation_seconds": round(age, 1),
    }
    if report.steps:
        logger.info("revocations swept", extra=summary)
    if pruned.records:
        logger.info(
            "change records pruned",
            extra={
                "records": pruned.records,
                "steps": pruned.steps,
                "unfinished": pruned.unfinished,
            },
        )
    return summary | {
        "change_records_pruned": pruned.records,
        "ledger_periods_made": len(periods.made),
        "ledger_period_seconds_ahead": round(periods.seconds_ahead),
    }


def sweep_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    return scheduled_handler("sync", logger, metrics, sweep_once)


__all__ = ["sweep_handler"]
