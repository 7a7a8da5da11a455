"""The SQS-triggered sync function: Powertools batch processing around a set-based writer.

Every record is parsed and checked first (a bad one fails alone, is logged with its reason
and reported in ``batchItemFailures``, and reaches the DLQ after its retries); then all good
records are written together in one transaction. If that write fails, each good record is
written again in a transaction of its own, so only the records that fail alone are reported
and the rest of the batch is applied in this invocation. A record the writer refuses (a link
older than what is accepted, a link after its connector's revocation, an idempotency key
another message of the connector used) fails alone with its reason. Nothing is acknowledged
that was not applied, or applied before.

Logs are Powertools JSON lines carrying ``workspace_connector_id``, ``sync_run_id`` and, for a
rejection, its ``reason``; the metrics (EMF) are RowsLinked, RowsSuperseded (links written
already removed), RowsUnlinked, ConnectorsRevoked, MessagesFailed, MessagesDuplicate, one per
kind of refusal (MessagesStale, MessagesAfterRevocation, MessagesKeyReused) and BatchesSplit.
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

from wellapi.errors import DatabaseUnavailable, logged_failure, outside_periods
from wellapi.store import connections
from wellapi.sync.batches import (
    AnyMessage,
    Applied,
    Planned,
    Rejected,
    Resolution,
    Verdict,
    apply,
    check,
    resolve,
)
from wellapi.sync.messages import (
    ConnectorRevoked,
    ProvenanceLinked,
    ProvenanceUnlinked,
    parse_message,
    sync_run_of,
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
        logged: printable(raw[member][:_MAX_LOGGED])
        for member, logged in names.items()
        if isinstance(raw.get(member), str)
    }


def printable(text: str) -> str:
    """``text`` as UTF-8 can carry it: JSON may escape a lone surrogate (``\\udcff``), which
    Python decodes into a string no UTF-8 stream accepts, and a log line holding one would
    fail the whole batch's output; it is written escaped instead."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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


# Metric of each refusal, so an operator sees what kind of message the DLQ is collecting.
REFUSAL_METRICS = {
    Verdict.STALE: "MessagesStale",
    Verdict.AFTER_REVOCATION: "MessagesAfterRevocation",
    Verdict.KEY_REUSED: "MessagesKeyReused",
}
# The batch's one transaction is the fast path (a full batch takes ~2 s): past this, it is
# cancelled and its messages are written one at a time under the role's own timeout (60 s).
BATCH_STATEMENT_TIMEOUT_MS = 15_000
# What a message written alone may take (the role's statement timeout, and the socket's read
# bound above it): one is not started with less of the invocation left.
MESSAGE_BUDGET_MS = 75_000


class NotAttempted(Exception):
    """The invocation had no time left to write this message alone; it is retried."""


def _record_metrics(results: list[Applied], failed: int, *, split: bool = False) -> None:
    def total(kinds: tuple[type, ...], attribute: str = "rows") -> int:
        return sum(getattr(r, attribute) for r in results if isinstance(r.message, kinds))

    metrics.add_metric(name="RowsLinked", unit=MetricUnit.Count, value=total((ProvenanceLinked,)))
    metrics.add_metric(
        name="RowsSuperseded",
        unit=MetricUnit.Count,
        value=total((ProvenanceLinked,), "superseded"),
    )
    metrics.add_metric(
        name="RowsUnlinked", unit=MetricUnit.Count, value=total((ProvenanceUnlinked,))
    )
    metrics.add_metric(
        name="ConnectorsRevoked",
        unit=MetricUnit.Count,
        value=sum(
            1
            for r in results
            if isinstance(r.message, ConnectorRevoked) and r.verdict is Verdict.APPLIED
        ),
    )
    metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=failed)
    metrics.add_metric(
        name="MessagesDuplicate",
        unit=MetricUnit.Count,
        value=sum(1 for r in results if r.verdict is Verdict.DUPLICATE),
    )
    for verdict, name in REFUSAL_METRICS.items():
        metrics.add_metric(
            name=name,
            unit=MetricUnit.Count,
            value=sum(1 for r in results if r.verdict is verdict),
        )
    metrics.add_metric(name="BatchesSplit", unit=MetricUnit.Count, value=int(split))


def _retry_everything(
    what: str, error: Exception, records: list[dict[str, Any]], messages: list[AnyMessage]
) -> dict[str, Any]:
    """Log ``error`` and send every record of the batch back to the queue."""
    logger.error(
        f"{what}; the whole batch will be retried",
        **logged_failure(error, messages=len(records), **_batch_log_keys(messages)),
    )
    _record_metrics([], len(records))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}


MessageResult = Applied | Exception


def _write(
    planned: dict[str, Planned], pool: connections.Pool, time_left_ms: Callable[[], int]
) -> tuple[dict[str, MessageResult], bool]:
    """Each planned record's outcome (by message id), and whether the batch had to be split.

    The batch is one transaction; if it fails for any reason but an unreachable database,
    each message is written in one of its own, so a failure stays with its message.
    """
    if not planned:
        return {}, False
    try:
        results = apply(
            list(planned.values()), pool=pool, statement_timeout_ms=BATCH_STATEMENT_TIMEOUT_MS
        )
        return dict(zip(planned, results, strict=True)), False
    except DatabaseUnavailable:
        raise
    except Exception as error:
        logger.warning(
            "the batch write failed; writing its messages one at a time",
            **logged_failure(
                error,
                messages=len(planned),
                **_batch_log_keys([p.message for p in planned.values()]),
            ),
        )
    outcomes: dict[str, MessageResult] = {}
    for message_id, one in planned.items():
        if time_left_ms() < MESSAGE_BUDGET_MS:
            outcomes[message_id] = NotAttempted(
                "not written: too little of the invocation was left after the batch failed"
            )
            continue
        try:
            outcomes[message_id] = apply([one], pool=pool)[0]
        except Exception as error:
            outcomes[message_id] = error
    return outcomes, True


def _failure_reason(error: Exception) -> str:
    """What the log says of a write that failed: the error's kind and, from the server, its
    SQLSTATE; never its text (it may quote the statement)."""
    if outside_periods(error):
        return (
            "the write failed: no period of the ledger holds the rows' time (the sweep function "
            "makes them ahead: docs/operations.md, LedgerPeriodsAlarm)"
        )
    code = error.args[0].get("C") if error.args and isinstance(error.args[0], dict) else None
    return f"the write failed: {type(error).__name__}" + (f" (SQLSTATE {code})" if code else "")


def process(
    event: dict[str, Any],
    *,
    pool: connections.Pool | None = None,
    time_left_ms: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Validate every record, then write the good ones together; returns the SQS response.

    ``pool`` defaults to the execution environment's sync pool; ``time_left_ms`` says how much
    of the invocation is left (the Lambda context's, or unbounded).
    """
    records = list(event.get("Records") or [])
    parsed = _parse_all(records)
    messages = [m for m in parsed.values() if not isinstance(m, str)]
    pool = pool or connections.get_pool("sync")
    try:
        resolution = resolve(messages, pool=pool) if messages else Resolution()
    except Exception as error:
        return _retry_everything("could not resolve the batch's ids", error, records, messages)
    rejected: dict[str, str] = {}
    planned: dict[str, Planned] = {}
    for record in records:
        message_id = record["messageId"]
        message = parsed[message_id]
        if isinstance(message, str):
            rejected[message_id] = message
            continue
        try:
            planned[message_id] = check(message, resolution)
        except Rejected as rejection:
            rejected[message_id] = str(rejection)
    try:
        outcomes, split = _write(planned, pool, time_left_ms or (lambda: 1 << 62))
    except DatabaseUnavailable as error:
        return _retry_everything(
            "the database is unavailable", error, records, [p.message for p in planned.values()]
        )

    def record_handler(record: SQSRecord) -> None:
        """Logs what became of one message; raises when it failed, for ``batchItemFailures``."""
        message = parsed[record.message_id]
        if isinstance(message, str) or record.message_id in rejected:
            reason = rejected[record.message_id]
            keys = _raw_log_keys(record.body) if isinstance(message, str) else _log_keys(message)
            logger.warning(
                "message rejected",
                extra={**keys, "reason": reason, "message_id": record.message_id},
            )
            raise Rejected(reason)
        outcome = outcomes[record.message_id]
        keys = {"message_id": record.message_id, **_log_keys(message)}
        if isinstance(outcome, Exception):
            reason = str(outcome) if isinstance(outcome, NotAttempted) else _failure_reason(outcome)
            logger.error("message not applied", extra={**keys, "reason": reason})
            raise Rejected(reason)
        if outcome.refused:
            logger.warning(
                "message refused",
                extra={**keys, "reason": outcome.refused, "verdict": str(outcome.verdict)},
            )
            raise Rejected(outcome.refused)
        logger.info(
            "message applied" if outcome.verdict is Verdict.APPLIED else "message already applied",
            extra={**keys, "rows": outcome.rows, "superseded": outcome.superseded},
        )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    with processor(records, handler=record_handler):
        processor.process()
    response = processor.response()
    results = [o for o in outcomes.values() if isinstance(o, Applied)]
    _record_metrics(results, len(response["batchItemFailures"]), split=split)
    # A message no period could take: a person must make the period (LedgerPeriodsAlarm).
    metrics.add_metric(
        name="WritesOutsidePeriods",
        unit=MetricUnit.Count,
        value=sum(1 for o in outcomes.values() if isinstance(o, Exception) and outside_periods(o)),
    )
    return dict(response)


def sync_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    connections.prepare_at_init("sync")

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process(event, time_left_ms=context.get_remaining_time_in_millis)

    return handler


__all__ = ["ConnectorRevoked", "sync_handler"]
