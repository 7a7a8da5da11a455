"""``make preflight``: the reservations template.yaml makes under an environment's parameters,
against what an account grants (``welldev.preflight``; docs/deploy.md, "Lambda concurrency").

The AWS reads run against moto, except ``lambda:GetAccountSettings``, which moto does not
implement ("Not yet implemented"): its answer comes from botocore's own Stubber, in the shape
the Lambda API documents.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.support.template import TEMPLATE, transformed_template
from welldev import preflight
from welldev.preflight import Concurrency

REGION = "eu-west-1"
RESERVING = ("AuthorizerFunction", "SyncFunction", "SweepFunction", "DrainFunction")


def _default(name: str) -> int:
    return int(TEMPLATE["Parameters"][name]["Default"])


def _reservations(**parameters: str) -> dict[str, int]:
    values = preflight.parameter_values(TEMPLATE, parameters)
    return preflight.template_reservations(TEMPLATE, values)


def test_the_template_reserves_for_four_functions_from_its_parameters():
    assert _reservations() == {
        "AuthorizerFunction": _default("AuthorizerReservedConcurrency"),
        "SyncFunction": _default("SyncReservedConcurrency"),
        "SweepFunction": 1,
        "DrainFunction": 1,
    }
    assert _reservations(AuthorizerReservedConcurrency="120")["AuthorizerFunction"] == 120


def test_concurrency_reservations_none_reserves_nothing():
    assert _reservations(ConcurrencyReservations="None") == {}
    resources = transformed_template()["Resources"]
    for function_id in RESERVING:
        reserved = resources[function_id]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved["Fn::If"][0] == "ReservesConcurrency"
        assert reserved["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    # The nested stacks' functions reserve nothing, so the root template's are all there are.
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::Function":
            reserves = "ReservedConcurrentExecutions" in resource["Properties"]
            assert reserves == (logical_id in RESERVING), logical_id


def test_an_account_of_the_default_quota_fits_the_default_reservations():
    reserved = _reservations()
    assert preflight.concurrency_verdict(Concurrency(1000, 1000), reserved, held=0) == []
    # An update: the stack's own reservations count as free to take again.
    held = sum(reserved.values())
    assert preflight.concurrency_verdict(Concurrency(1000, 1000 - held), reserved, held) == []


@pytest.mark.parametrize(
    ("account", "held", "wanted"),
    [
        (Concurrency(10, 10), 0, 412),  # a new account: nothing can be reserved
        (Concurrency(400, 400), 0, 412),  # 400 - 100 unreserved leaves 300
        (Concurrency(1000, 350), 0, 1062),  # other functions reserve 650
        (Concurrency(1000, 100), 300, 1012),  # an update: the stack holds 300, others 600
    ],
)
def test_an_account_short_of_concurrency_is_told_the_quota_to_ask_for(account, held, wanted):
    reserved = {
        "AuthorizerFunction": 300,
        "SyncFunction": 10,
        "SweepFunction": 1,
        "DrainFunction": 1,
    }
    lines = preflight.concurrency_verdict(account, reserved, held)
    assert lines, account
    assert f"--desired-value {wanted}" in lines[1]
    assert "ConcurrencyReservations=None" in lines[2]
    # And the quota it names is exactly enough: one less is still short.
    raised = Concurrency(wanted, account.unreserved + wanted - account.quota)
    assert preflight.concurrency_verdict(raised, reserved, held) == []
    lower = Concurrency(wanted - 1, account.unreserved + wanted - 1 - account.quota)
    assert preflight.concurrency_verdict(lower, reserved, held) != []


def test_lambda_keeps_the_whole_of_a_quota_under_100_unreserved():
    account = Concurrency(50, 50)
    assert preflight.required_quota(account, 1, 0) == 101
    assert preflight.concurrency_verdict(account, {"SweepFunction": 1}, 0) != []
    assert preflight.concurrency_verdict(account, {}, 0) == []


def test_the_event_bus_the_stack_makes_needs_room_under_the_quota():
    assert preflight.event_bus_verdict(99, makes_one=True) == []
    assert "ChangeEventBusName" in preflight.event_bus_verdict(100, makes_one=True)[0]
    assert preflight.event_bus_verdict(100, makes_one=False) == []


def test_an_environment_takes_samconfig_then_the_overrides():
    parameters = preflight.environment_parameters("staging", ["ConcurrencyReservations=None"])
    assert parameters["DeploymentType"] == "Canary10Percent5Minutes"
    assert parameters["ConcurrencyReservations"] == "None"
    with pytest.raises(SystemExit, match="no environment 'nowhere'"):
        preflight.environment_parameters("nowhere", [])


class _Session:
    """A boto3 session whose CloudFormation and Lambda clients answer from botocore's Stubber
    (``stacks``: each stack's functions and their reservations; absent, it does not exist),
    and whose EventBridge client is moto's."""

    def __init__(self, quota: int, unreserved: int, stacks: dict[str, dict[str, int]]) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.clients = {n: self.session.client(n) for n in ("lambda", "cloudformation")}
        self.stubs = {n: Stubber(c) for n, c in self.clients.items()}
        for name, functions in stacks.items():
            summaries = [
                {
                    "LogicalResourceId": f"F{n}",
                    "PhysicalResourceId": function,
                    "ResourceType": "AWS::Lambda::Function",
                    "LastUpdatedTimestamp": "2026-11-28T00:00:00Z",
                    "ResourceStatus": "UPDATE_COMPLETE",
                }
                for n, function in enumerate(functions)
            ]
            self.stubs["cloudformation"].add_response(
                "list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": name}
            )
            for function, reserved in functions.items():
                self.stubs["lambda"].add_response(
                    "get_function_concurrency",
                    {"ReservedConcurrentExecutions": reserved},
                    {"FunctionName": function},
                )
        self.stubs["cloudformation"].add_client_error(
            "list_stack_resources",
            "ValidationError",
            "Stack with id wellapi-production does not exist",
        )
        limit = {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": quota,
            "UnreservedConcurrentExecutions": unreserved,
        }
        self.stubs["lambda"].add_response("get_account_settings", {"AccountLimit": limit})
        for stub in self.stubs.values():
            stub.activate()

    def client(self, name: str) -> Any:
        return self.clients.get(name) or self.session.client(name)


@mock_aws
def test_a_first_deploy_is_checked_against_the_account():
    assert preflight.check(_Session(1000, 1000, {}), "staging", []) == []
    short = preflight.check(_Session(10, 10, {}), "staging", [])
    assert short[0].startswith("Lambda concurrency: the stack reserves 312")
    none = ["ConcurrencyReservations=None"]
    assert preflight.check(_Session(10, 10, {}), "staging", none) == []


@mock_aws
def test_a_stacks_own_reservations_count_as_free_on_an_update():
    stacks = {"wellapi-staging": {"wellapi-staging-Authorizer": 300, "wellapi-staging-Sync": 10}}
    session = _Session(400, 90, stacks)
    assert preflight.held_by_stack(session, "wellapi-staging") == 310
    assert preflight.held_by_stack(session, "wellapi-production") == 0  # never deployed


@mock_aws
def test_a_full_account_of_event_buses_is_told_before_the_stack_makes_one():
    events = boto3.client("events", region_name=REGION)
    for n in range(preflight.EVENT_BUSES_DEFAULT_QUOTA - 1):  # and the default bus
        events.create_event_bus(Name=f"bus-{n}")
    lines = preflight.check(_Session(1000, 1000, {}), "staging", [])
    assert len(lines) == 2
    assert lines[0].startswith("EventBridge: the account has 100 event buses")
    named = ["ChangeEventBusName=bus-1"]
    assert preflight.check(_Session(1000, 1000, {}), "staging", named) == []
