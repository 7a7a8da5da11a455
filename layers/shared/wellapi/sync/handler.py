"""The SQS-triggered sync function: Powertools batch processing around a set-based writer.

Every record is parsed and checked first (a bad one fails alone, is logged with its reason
and reported in ``batchItemFailures``, and reaches the DLQ after its retries); then all good
records are written together in one transaction. If that write fails (or the ids cannot be
resolved), nothing is written and every record of the batch is reported failed, so SQS
redelivers them all; their idempotency keys make that safe.

Logs are Powertools JSON lines carrying ``workspace_connector_id``, ``sync_run_id`` and, for a
rejection, its ``reason``; the metrics (EMF) are RowsLinked, RowsUnlinked (removed links and
revocations), MessagesFailed and MessagesDuplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from wellapi import db
from wellapi.sync.messages import ConnectorRevoked, ProvenanceLinked, parse_message, sync_run_of
from wellapi.sync.writer import (
    AnyMessage,
    Applied,
    Planned,
    Rejected,
    Resolution,
    apply,
    check,
    resolve,
)

logger = Logger(service="wellapi-sync", use_rfc3339=True)
metrics = Metrics(namespace="Well", service="wellapi-sync")
_MAX_LOGGED = 200


def _parse_all(records: list[dict[str, Any]]) -> dict[str, AnyMessage | str]:
    parsed: dict[str, AnyMessage | str] = {}
    for record in records:
        try:
            parsed[record["messageId"]] = parse_message(record.get("body") or "")
        except ValidationError as error:
            # The reason names the members at fault and what is wrong, never their values.
            where = ", ".join(
                (".".join(str(p) for p in e["loc"]) or "body") + f" ({e['type']})"
                for e in error.errors()[:5]
            )
            parsed[record["messageId"]] = f"invalid message: {where}"
    return parsed


def _raw_log_keys(body: str | None) -> dict[str, Any]:
    """What an invalid message says about itself, for the log: short strings only."""
    try:
        raw = json.loads(body or "")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    names = {
        "type": "message_type",
        "idempotency_key": "idempotency_key",
        "workspace_connector_id": "workspace_connector_id",
        "sync_run_id": "sync_run_id",
    }
    return {
        logged: raw[member][:_MAX_LOGGED]
        for member, logged in names.items()
        if isinstance(raw.get(member), str)
    }


def _log_keys(message: AnyMessage) -> dict[str, Any]:
    return {
        "message_type": message.type,
        "idempotency_key": message.idempotency_key,
        "workspace_connector_id": str(message.workspace_connector_id),
        "sync_run_id": sync_run_of(message),
    }


def _batch_log_keys(messages: list[AnyMessage]) -> dict[str, Any]:
    """The connectors and sync runs of a batch that fails as a whole."""
    return {
        "workspace_connector_ids": sorted({str(m.workspace_connector_id) for m in messages}),
        "sync_run_ids": sorted({run for m in messages if (run := sync_run_of(m))}),
    }


def _record_metrics(results: list[Applied], failed: int) -> None:
    linked = sum(r.rows for r in results if isinstance(r.message, ProvenanceLinked))
    unlinked = sum(r.rows for r in results if not isinstance(r.message, ProvenanceLinked))
    metrics.add_metric(name="RowsLinked", unit=MetricUnit.Count, value=linked)
    metrics.add_metric(name="RowsUnlinked", unit=MetricUnit.Count, value=unlinked)
    metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=failed)
    metrics.add_metric(
        name="MessagesDuplicate",
        unit=MetricUnit.Count,
        value=sum(1 for r in results if not r.applied),
    )


def _retry_everything(
    what: str, records: list[dict[str, Any]], messages: list[AnyMessage]
) -> dict[str, Any]:
    """Log the error being handled and send every record of the batch back to the queue."""
    logger.exception(
        f"{what}; the whole batch will be retried",
        extra={"messages": len(records), **_batch_log_keys(messages)},
    )
    _record_metrics([], len(records))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}


def process(event: dict[str, Any], *, pool: db.Pool | None = None) -> dict[str, Any]:
    """Validate every record, then write the good ones together; returns the SQS response.

    ``pool`` defaults to the execution environment's sync pool.
    """
    records = list(event.get("Records") or [])
    parsed = _parse_all(records)
    messages = [m for m in parsed.values() if not isinstance(m, str)]
    pool = pool or db.get_pool("sync")
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        resolution = resolve(messages, pool=pool) if messages else Resolution()
    except Exception:
        return _retry_everything("could not resolve the batch's ids", records, messages)
    planned: dict[str, Planned] = {}

    def validate(record: SQSRecord) -> None:
        message = parsed[record.message_id]
        if isinstance(message, str):
            logger.warning(
                "message rejected",
                extra={
                    **_raw_log_keys(record.body),
                    "reason": message,
                    "message_id": record.message_id,
                },
            )
            raise Rejected(message)
        try:
            planned[record.message_id] = check(message, resolution)
        except Rejected as rejection:
            logger.warning(
                "message rejected",
                extra={
                    "reason": str(rejection),
                    "message_id": record.message_id,
                    **_log_keys(message),
                },
            )
            raise

    with processor(records, handler=validate):
        processor.process()
    response = processor.response()
    good = [planned[r["messageId"]] for r in records if r["messageId"] in planned]
    try:
        results = apply(good, pool=pool)
    except Exception:
        # Nothing of the batch was written (one transaction): every record goes back to the
        # queue, the rejected ones included, and the receipts make the redelivery safe.
        return _retry_everything("the batch write failed", records, [p.message for p in good])
    for result in results:
        logger.info(
            "message applied" if result.applied else "message already applied",
            extra={"rows": result.rows, **_log_keys(result.message)},
        )
    _record_metrics(results, len(response["batchItemFailures"]))
    return dict(response)


def sync_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    db.prepare_at_init("sync")

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process(event)

    return handler


__all__ = ["ConnectorRevoked", "sync_handler"]
