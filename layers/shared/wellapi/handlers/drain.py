"""The scheduled drain function: publishes the change records to EventBridge, once, in order.

Run every minute by its schedule, it drains while its invocation has time and records wait
behind the horizon (``wellapi.sync.drainer``), then reports what it sent and how long the first
unsent record has waited. Metrics (EMF): ChangesSent, ChangeSendFailures (entries EventBridge
refused, and calls that failed), OldestUnsentChangeSeconds (alarmed on, missing data breaching,
so a drainer that stops running is seen too), DrainCalls.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from wellapi.handlers.scheduled import scheduled_handler
from wellapi.settings import SettingsError, get_settings
from wellapi.store import connections
from wellapi.sync.drainer import DrainReport, EventsClient, drain, oldest_unsent_seconds

logger = Logger(service="wellapi-drain", use_rfc3339=True)
metrics = Metrics(namespace="Well", service="wellapi-drain")


@cache
def events_client() -> EventsClient:
    """The environment's EventBridge client (boto3 reads ``AWS_ENDPOINT_URL_EVENTBRIDGE``, which is
    how ``make run`` points it at its local bus)."""
    import boto3  # only the drain function pays for importing boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
    )
    client: EventsClient = boto3.client(
        "events", region_name=get_settings().aws_region, config=config
    )
    return client


def bus_name() -> str:
    name = get_settings().event_bus_name
    if not name:
        raise SettingsError("Invalid settings: EVENT_BUS_NAME is required by the drainer")
    return name


def drain_once(
    *,
    pool: connections.Pool | None = None,
    client: EventsClient | None = None,
    bus: str | None = None,
    time_left_ms: Callable[[], int],
) -> dict[str, Any]:
    pool = pool or connections.get_pool("drain")
    report = DrainReport()
    try:
        report = drain(
            pool=pool,
            client=client or events_client(),
            bus=bus or bus_name(),
            time_left_ms=time_left_ms,
        )
    except Exception as error:
        # A call EventBridge did not answer (what it accepted before is marked): the run fails.
        metrics.add_metric(name="ChangeSendFailures", unit=MetricUnit.Count, value=1)
        logger.error("the drain failed", extra={"error_type": type(error).__name__})
        raise
    finally:
        age = oldest_unsent_seconds(pool=pool)
        metrics.add_metric(name="OldestUnsentChangeSeconds", unit=MetricUnit.Seconds, value=age)
    metrics.add_metric(name="ChangesSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="ChangeSendFailures", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="DrainCalls", unit=MetricUnit.Count, value=report.calls)
    summary = {
        "sent": report.sent,
        "failed": report.failed,
        "calls": report.calls,
        "busy": report.busy,
        "workspaces_stopped": len(report.stopped),
        "oldest_unsent_seconds": round(age, 1),
    }
    if report.failed:
        logger.error("EventBridge refused changes", extra={**summary, "errors": report.errors})
    elif report.sent:
        logger.info("changes sent", extra=summary)
    return summary


def drain_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    return scheduled_handler("drain", logger, metrics, drain_once)


__all__ = ["drain_handler", "drain_once", "events_client"]
