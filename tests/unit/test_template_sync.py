"""The connector sync pipeline in template.yaml: the queue, its dead-letter queue, the sync
function reading it in batches, and the sweep function its schedule runs every minute."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from tests.support.template import (
    FUNCTIONS,
    HEALER,
    RESOURCES,
    managed_policies,
    transformed_template,
)
from wellapi.handlers import sweep as sweep_handler
from wellapi.sync.messages import MAX_RECORD_IDS, ProvenanceLinked
from wellapi.sync.sweeper import STEP_BUDGET_MS

# AWS's guidance for an SQS event source: visibility timeout >= 6 x the function's timeout.
VISIBILITY_FACTOR = 6
SQS_MAX_MESSAGE_BYTES = 256 * 1024
LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# The sweep's schedule, and the period it stands for.
SWEEP_SCHEDULE = "rate(1 minute)"
SWEEP_PERIOD_SECONDS = 60


# --- The sync pipeline -----------------------------------------------------------------------


def _queue(logical_id: str) -> dict[str, Any]:
    queue = RESOURCES[logical_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    return dict(queue.get("Properties", {}))


@pytest.mark.parametrize("logical_id", ["SyncQueue", "SyncDeadLetterQueue"])
def test_the_queues_outlive_the_stack_and_a_replacement(logical_id):
    # Deleting the stack, or a change that replaces a queue, must not delete unapplied or
    # poison messages with it.
    resource = transformed_template()["Resources"][logical_id]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def _sync_event() -> dict[str, Any]:
    (event,) = FUNCTIONS["SyncFunction"]["Events"].values()
    assert event["Type"] == "SQS"
    return dict(event["Properties"])


def test_sync_queues_are_standard_queues():
    for logical_id in ("SyncQueue", "SyncDeadLetterQueue"):
        assert not _queue(logical_id).get("FifoQueue", False), logical_id


def test_poison_messages_reach_the_dead_letter_queue_after_five_receives():
    redrive = _queue("SyncQueue")["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }


def test_dead_letter_queue_keeps_messages_14_days_and_longer_than_the_queue():
    dlq = _queue("SyncDeadLetterQueue")["MessageRetentionPeriod"]
    assert dlq == 14 * 24 * 3600
    # A message keeps its enqueue time when it moves to a standard queue's DLQ.
    assert _queue("SyncQueue")["MessageRetentionPeriod"] < dlq


def test_sync_queue_visibility_timeout_is_at_least_six_times_the_function_timeout():
    timeout = FUNCTIONS["SyncFunction"]["Timeout"]
    assert timeout == 120
    assert _queue("SyncQueue")["VisibilityTimeout"] >= VISIBILITY_FACTOR * timeout


def test_sync_function_reads_the_queue_in_batches_and_reports_partial_failures():
    event = _sync_event()
    assert event["Queue"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= event["BatchSize"] <= 10
    assert 1 <= event["MaximumBatchingWindowInSeconds"] <= 5

    (mapping,) = [
        r["Properties"]
        for r in transformed_template()["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert mapping["FunctionName"] == {"Ref": "SyncFunctionAliaslive"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_a_full_batch_of_the_largest_messages_fits_sqs_and_lambda_limits():
    message = ProvenanceLinked.model_validate(
        {
            "type": "provenance.linked",
            "version": 1,
            "workspace_connector_id": str(uuid4()),
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "idempotency_key": "k" * 200,
            "direction": "input",
            "record_type": "account",
            "record_ids": [str(uuid4()) for _ in range(MAX_RECORD_IDS)],
            "sync_run_id": "r" * 200,
        }
    )
    size = len(message.model_dump_json().encode())
    assert size < SQS_MAX_MESSAGE_BYTES
    # Each record of the event carries its body plus ~1 KB of attributes, as JSON.
    record = len(json.dumps({"body": message.model_dump_json()})) + 1024
    assert _sync_event()["BatchSize"] * record < LAMBDA_MAX_PAYLOAD_BYTES


# --- The revocation sweep --------------------------------------------------------------------


def test_the_sweep_function_runs_every_minute_as_the_sync_role_one_at_a_time():
    sweep = FUNCTIONS["SweepFunction"]
    assert sweep["Handler"] == "sweep.handler"
    (event,) = sweep["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == SWEEP_SCHEDULE
    # The sync writer's role: the revocations and their sweep cursors are its own; beside it, the
    # healer's (wellapi.sync.role_defaults).
    assert sweep["Environment"]["Variables"] == {
        "DB_USER": {"Ref": "SyncDbUser"},
        **HEALER,
        # It makes the ledgers' periods ahead, of the stack's length (wellapi.sync.periods).
        "LEDGER_PERIOD": {"Ref": "LedgerPeriod"},
        "LEDGER_PERIODS_AHEAD": "1",
    }
    assert managed_policies("SweepFunction") == {
        "SyncDatabaseConnectPolicy",
        "HealDatabaseConnectPolicy",
    }
    assert sweep["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservesConcurrency", 1, {"Ref": "AWS::NoValue"}]
    }

    resources = transformed_template()["Resources"]
    reserved = resources["SweepFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == {"Fn::If": ["ReservesConcurrency", 1, {"Ref": "AWS::NoValue"}]}
    (rule,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Events::Rule" and "Sweep" in json.dumps(r["Properties"]["Targets"])
    ]
    assert rule["ScheduleExpression"] == SWEEP_SCHEDULE
    # Through the alias, like every event source: CodeDeploy shifts and rolls it back.
    assert [target["Arn"] for target in rule["Targets"]] == [{"Ref": "SweepFunctionAliaslive"}]


def test_the_healers_login_is_the_scheduled_functions_alone_after_the_migration():
    """Both scheduled functions log in as the healer beside their own role: either keeps the
    application roles' own defaults set back, and no other function may log in as it."""
    policy = RESOURCES["HealDatabaseConnectPolicy"]
    assert policy["DependsOn"] == "MigrationRun"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    assert statement["Resource"]["Fn::Sub"].endswith("/${HealDbUser}")
    healers = {f for f in FUNCTIONS if "HealDatabaseConnectPolicy" in managed_policies(f)}
    assert healers == {"SweepFunction", "DrainFunction"}
    for function_id in healers:
        assert FUNCTIONS[function_id]["Environment"]["Variables"].items() >= HEALER.items()
    assert transformed_template()["Parameters"]["HealDbUser"]["Default"] == "well_heal"


def test_a_sweep_run_ends_before_the_next_one_starts():
    # A run starts no step with less than STEP_BUDGET_MS left, so it sweeps for at most
    # Timeout - STEP_BUDGET_MS; with one environment reserved, a run still going when the next
    # minute's starts would have that one throttled (a page: SweepFunctionFailingAlarm).
    timeout = FUNCTIONS["SweepFunction"]["Timeout"]
    assert STEP_BUDGET_MS / 1000 < timeout <= SWEEP_PERIOD_SECONDS
    # The next minute's run is the retry: Lambda retries nothing and keeps no event a minute.
    invoke_config = FUNCTIONS["SweepFunction"]["EventInvokeConfig"]
    assert invoke_config == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}


def test_a_sweep_that_stops_making_progress_pages():
    resources = transformed_template()["Resources"]
    alarm = resources["RevocationSweepStalledAlarm"]["Properties"]
    # The metric the sweep function emits (EMF), under the service dimension Powertools adds.
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        sweep_handler.metrics.namespace,
        "OldestPendingRevocationSeconds",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": sweep_handler.metrics.service}]
    # The oldest revocation not yet swept has waited over an hour, for 3 periods of 5 minutes.
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Maximum", 300, 3600)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 3)
    assert alarm["TreatMissingData"] == "notBreaching"
    # A run that fails or is throttled pages too, and rolls a deployment of it back.
    failing = resources["SweepFunctionFailingAlarm"]["Properties"]
    assert {"Name": "FunctionName", "Value": {"Ref": "SweepFunction"}} in (
        failing["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"]
    )
