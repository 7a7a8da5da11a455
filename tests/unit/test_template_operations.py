"""What an on-call engineer has from template.yaml: a log group per function, the API's access
log, an alarm for whatever fails, and the dashboard (docs/operations.md)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.template import (
    FUNCTIONS,
    NESTED,
    TEMPLATE,
    transformed_resources,
    transformed_template,
)
from wellapi.resources import RESOURCES

# --- Logs ------------------------------------------------------------------------------------


def test_every_function_logs_to_its_own_group_kept_for_the_retention_parameter():
    # Named by its stack: template.yaml's, or its resource's nested stack's.
    resources = transformed_resources()
    functions = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    # One per route (seven per resource, six of their own), the $default route's, the
    # authorizer, the sync writer, the sweeper, the drainer, the operator and the migration.
    assert len(functions) == len(FUNCTIONS) == 7 * len(RESOURCES) + 6 + 7
    for function_id in functions:
        config = resources[function_id]["Properties"]["LoggingConfig"]
        assert config == {"LogGroup": {"Ref": f"{function_id}LogGroup"}}, function_id
        group = resources[f"{function_id}LogGroup"]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        name = group["Properties"]["LogGroupName"]
        assert name == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}/{function_id}"}
    assert TEMPLATE["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_the_api_writes_a_json_access_log_line_per_request():
    resources = transformed_template()["Resources"]
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    settings = stage["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    line = json.loads(settings["Format"])
    assert {
        "requestId": "$context.requestId",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "authorizerError": "$context.authorizer.error",
        "principalId": "$context.authorizer.person_id",
        # Why a request had no principal (missing, unsupported, malformed, invalid).
        "credentials": "$context.authorizer.credentials",
    }.items() <= line.items()
    assert not [v for v in line.values() if "header" in v.lower() or "token" in v.lower()]
    group = resources["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# --- Alarms: nothing fails without a page ---------------------------------------------------

TOPIC = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}
NAMED_ALARMS = {
    "SyncDeadLetterQueueNotEmptyAlarm": "ApproximateNumberOfMessagesVisible",
    "SyncQueueOldestMessageAlarm": "ApproximateAgeOfOldestMessage",
    "RevocationSweepStalledAlarm": "OldestPendingRevocationSeconds",
    "LedgerPeriodsAlarm": "LedgerPeriodSecondsAhead",
    "ChangeEventsDelayedAlarm": "OldestUnsentChangeSeconds",
    "ChangeEventsRefusedAlarm": "ChangeSendFailures",
    "RoleDefaultsChangedAlarm": "RoleDefaultsSetBack",
    "RoleDefaultsNotSetBackAlarm": "RoleDefaultsNotSetBack",
    "Api5xxRateAlarm": "5xx",
    "ApiLatencyP99Alarm": "Latency",
    "DbProxyBorrowLatencyAlarm": "DatabaseConnectionsBorrowLatency",
}


# The alarms whose metric is reported by every run of a scheduled function: silence means the
# function stopped.
BREACHING_WHEN_SILENT = {"ChangeEventsDelayedAlarm"}


def _alarm_metrics(alarm: dict[str, Any]) -> list[str]:
    if "MetricName" in alarm:
        return [alarm["MetricName"]]
    return [m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m]


def test_every_alarm_has_a_reason_and_notifies_the_alarm_topic():
    resources = transformed_resources()
    alarms = {
        k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert len(alarms) == len(NAMED_ALARMS) + len(FUNCTIONS)
    # A nested stack's alarms notify the topic template.yaml passes down.
    for stack_id in NESTED:
        parameters = resources[stack_id]["Properties"]["Parameters"]
        assert parameters["AlarmTopic"] == TOPIC, stack_id
    nested_alarms = {k for document in NESTED.values() for k in document["Resources"]}
    for name, alarm in alarms.items():
        topic = {"Ref": "AlarmTopic"} if name in nested_alarms else TOPIC
        assert alarm["AlarmActions"] == [topic], name
        assert "docs/operations.md" in alarm["AlarmDescription"], name
        # No traffic is no incident; but a drainer that stops reporting is one.
        missing = "breaching" if name in BREACHING_WHEN_SILENT else "notBreaching"
        assert alarm["TreatMissingData"] == missing, name
    for name, metric in NAMED_ALARMS.items():
        assert metric in _alarm_metrics(alarms[name]), name
    assert resources["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    assert transformed_template()["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC


def test_every_function_pages_when_it_fails_or_is_throttled():
    resources = transformed_resources()
    for function_id in FUNCTIONS:
        alarm = resources[f"{function_id}FailingAlarm"]["Properties"]
        assert sorted(_alarm_metrics(alarm)) == ["Errors", "Throttles"], function_id
        for query in [m for m in alarm["Metrics"] if "MetricStat" in m]:
            dimensions = query["MetricStat"]["Metric"]["Dimensions"]
            assert dimensions == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )


def test_a_single_poison_message_pages():
    alarm = transformed_template()["Resources"]["SyncDeadLetterQueueNotEmptyAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["Period"], alarm["EvaluationPeriods"]) == (1, 60, 1)


def test_the_healers_alarms_add_up_both_scheduled_functions():
    """Either function heals alone: an alarm on one would miss what the other set back or
    could not, and a run that does not report (its own role's failure) hides nothing."""
    resources = transformed_template()["Resources"]
    for name, metric in (
        ("RoleDefaultsChangedAlarm", "RoleDefaultsSetBack"),
        ("RoleDefaultsNotSetBackAlarm", "RoleDefaultsNotSetBack"),
    ):
        alarm = resources[name]["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert {s["MetricName"] for s in stats} == {metric}, name
        assert {d["Value"] for s in stats for d in s["Dimensions"]} == {
            "wellapi-sweep",
            "wellapi-drain",
        }, name
        (total,) = [m for m in alarm["Metrics"] if "Expression" in m]
        assert total["Expression"] == "FILL(sweep, 0) + FILL(drain, 0)", name
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        ), name


def test_the_ledger_periods_alarm_fires_a_week_before_a_write_can_fail_and_on_any_that_did():
    """The sweep's reach (the least over the ledgers), and the writes refused for want of a
    period, counted by the API (over every route) and by the sync function."""
    alarm = transformed_template()["Resources"]["LedgerPeriodsAlarm"]["Properties"]
    stats = {m["Id"]: m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert {k: (s["MetricName"], s["Dimensions"][0]["Value"]) for k, s in stats.items()} == {
        "ahead": ("LedgerPeriodSecondsAhead", "wellapi-sweep"),
        "api": ("WritesOutsidePeriods", "wellapi"),
        "sync": ("WritesOutsidePeriods", "wellapi-sync"),
    }
    assert all(len(s["Dimensions"]) == 1 for s in stats.values())
    (fired,) = [m for m in alarm["Metrics"] if "Expression" in m]
    week = 7 * 24 * 3600
    assert fired["Expression"] == (
        f"IF(FILL(ahead, {week}) < {week} OR FILL(api, 0) + FILL(sync, 0) > 0, 1, 0)"
    )
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_the_dashboard_shows_traffic_errors_latency_the_queues_sync_and_the_sweep():
    dashboard = transformed_template()["Resources"]["Dashboard"]["Properties"]
    body = dashboard["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    shown = json.dumps(widgets)
    for metric in (
        "Count",
        "5xx",
        "Latency",
        "Requests",
        "Errors",
        "Throttles",
        "ApproximateAgeOfOldestMessage",
        "${SyncDeadLetterQueue.QueueName}",
        "RowsLinked",
        "RowsRevoked",
        "OldestPendingRevocationSeconds",
        "RoleDefaultsSetBack",
        "RoleDefaultsNotSetBack",
        "DatabaseConnectionsBorrowLatency",
    ):
        assert metric in shown, metric
    titles = [w["properties"]["title"] for w in widgets]
    assert len(titles) == len(set(titles)) == 10
