"""The change drainer in template.yaml: its function, schedule, role, event bus and alarms."""

from __future__ import annotations

import json

from tests.support.template import FUNCTIONS, HEALER, managed_policies, transformed_template
from wellapi.handlers import drain as drain_handler
from wellapi.sync.drainer import CYCLE_BUDGET_MS, SEND_BUDGET_MS

SCHEDULE = "rate(1 minute)"
PERIOD_SECONDS = 60


def test_the_drain_function_runs_every_minute_as_the_drainers_role_one_at_a_time():
    drain = FUNCTIONS["DrainFunction"]
    assert drain["Handler"] == "drain.handler"
    (event,) = drain["Events"].values()
    assert (event["Type"], event["Properties"]["Schedule"]) == ("Schedule", SCHEDULE)
    assert drain["Environment"]["Variables"] == {
        "DB_USER": {"Ref": "DrainDbUser"},
        **HEALER,
        "EVENT_BUS_NAME": {
            "Fn::If": [
                "CreateChangeEventBus",
                {"Ref": "ChangeEventBus"},
                {"Ref": "ChangeEventBusName"},
            ]
        },
    }
    # One at a time, unless ConcurrencyReservations=None lifts every reservation.
    assert drain["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservesConcurrency", 1, {"Ref": "AWS::NoValue"}]
    }
    resources = transformed_template()["Resources"]
    (rule,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Events::Rule" and "Drain" in json.dumps(r["Properties"]["Targets"])
    ]
    assert rule["ScheduleExpression"] == SCHEDULE
    assert [target["Arn"] for target in rule["Targets"]] == [{"Ref": "DrainFunctionAliaslive"}]


def test_a_drain_run_ends_before_the_next_one_starts():
    timeout = FUNCTIONS["DrainFunction"]["Timeout"]
    assert SEND_BUDGET_MS < CYCLE_BUDGET_MS
    assert CYCLE_BUDGET_MS / 1000 < timeout <= PERIOD_SECONDS
    invoke_config = FUNCTIONS["DrainFunction"]["EventInvokeConfig"]
    assert invoke_config == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}


def test_the_drainer_may_connect_as_its_role_and_the_healers_and_put_events_on_the_bus_only():
    resources = transformed_template()["Resources"]
    policies = managed_policies("DrainFunction")
    assert policies == {
        "DrainDatabaseConnectPolicy",
        "HealDatabaseConnectPolicy",
        "ChangeEventsPutPolicy",
    }
    assert policies <= set(resources["DrainFunction"]["DependsOn"])
    connect = resources["DrainDatabaseConnectPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = connect["Statement"]
    assert statement["Action"] == "rds-db:connect"
    assert statement["Resource"]["Fn::Sub"].endswith("/${DrainDbUser}")
    statements = resources["ChangeEventsPutPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": {
                "Fn::If": [
                    "CreateChangeEventBus",
                    {"Fn::GetAtt": ["ChangeEventBus", "Arn"]},
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:"
                        "${AWS::AccountId}:event-bus/${ChangeEventBusName}"
                    },
                ]
            },
        }
    ]


def test_the_stack_creates_its_bus_unless_a_parameter_names_one():
    template = transformed_template()
    assert template["Parameters"]["ChangeEventBusName"]["Default"] == ""
    assert template["Conditions"]["CreateChangeEventBus"] == {
        "Fn::Equals": [{"Ref": "ChangeEventBusName"}, ""]
    }
    bus = template["Resources"]["ChangeEventBus"]
    assert (bus["Type"], bus["Condition"]) == ("AWS::Events::EventBus", "CreateChangeEventBus")
    assert template["Parameters"]["DrainDbUser"]["Default"] == "well_drain"


def _alarm(name: str) -> dict[str, object]:
    alarm: dict[str, object] = transformed_template()["Resources"][name]["Properties"]
    assert alarm["Namespace"] == drain_handler.metrics.namespace
    assert alarm["Dimensions"] == [{"Name": "service", "Value": drain_handler.metrics.service}]
    return alarm


def test_changes_left_unsent_page_and_so_does_a_drainer_that_stops_reporting():
    alarm = _alarm("ChangeEventsDelayedAlarm")
    assert alarm["MetricName"] == "OldestUnsentChangeSeconds"
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Maximum", 300, 900)
    assert alarm["TreatMissingData"] == "breaching"


def test_refused_change_events_page_and_a_failed_run_pages_and_rolls_back():
    alarm = _alarm("ChangeEventsRefusedAlarm")
    assert alarm["MetricName"] == "ChangeSendFailures"
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
    assert FUNCTIONS["DrainFunction"]["DeploymentPreference"]["Alarms"] == [
        {"Ref": "DrainFunctionFailingAlarm"}
    ]
