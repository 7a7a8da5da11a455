"""``make preflight``: the reservations template.yaml makes under an environment's parameters,
against what an account grants (``welldev.deploy``; docs/deploy.md, "Lambda concurrency").

The account is ``tests.support.deploy_account``'s.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.support.deploy_account import Account, limit, stack
from tests.support.template import TEMPLATE, transformed_template
from welldev import deploy

RESERVING = ("AuthorizerFunction", "SyncFunction", "SweepFunction", "DrainFunction")
DEFAULTS = {"AuthorizerFunction": 300, "SyncFunction": 10, "SweepFunction": 1, "DrainFunction": 1}


def test_the_template_reserves_for_four_functions_from_its_parameters():
    parameters = TEMPLATE["Parameters"]
    assert deploy.reservations(TEMPLATE, {}) == {
        "AuthorizerFunction": parameters["AuthorizerReservedConcurrency"]["Default"],
        "SyncFunction": parameters["SyncReservedConcurrency"]["Default"],
        "SweepFunction": 1,
        "DrainFunction": 1,
    }
    given = {"AuthorizerReservedConcurrency": "120"}
    assert deploy.reservations(TEMPLATE, given)["AuthorizerFunction"] == 120


def test_concurrency_reservations_none_reserves_nothing():
    assert deploy.reservations(TEMPLATE, {"ConcurrencyReservations": "None"}) == {}
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
    reserved = deploy.reservations(TEMPLATE, {})
    assert deploy.verdict(limit(1000, 1000), reserved, held=0) == []
    # An update: the stack's own reservations count as free to take again.
    held = sum(reserved.values())
    assert deploy.verdict(limit(1000, 1000 - held), reserved, held) == []


@pytest.mark.parametrize(
    ("account", "held", "wanted"),
    [
        (limit(10, 10), 0, 412),  # a new account: nothing can be reserved
        (limit(400, 400), 0, 412),  # 400 - 100 unreserved leaves 300
        (limit(1000, 350), 0, 1062),  # other functions reserve 650
        (limit(1000, 100), 300, 1012),  # an update: the stack holds 300, others 600
    ],
)
def test_an_account_short_of_concurrency_is_told_the_quota_to_ask_for(account, held, wanted):
    lines = deploy.verdict(account, DEFAULTS, held)
    assert len(lines) == 2
    assert f"--desired-value {wanted})" in lines[1]
    assert "ConcurrencyReservations=None" in lines[1]
    # And the quota it names is exactly enough: one less is still short.
    for quota, fits in ((wanted, True), (wanted - 1, False)):
        unreserved = (
            account["UnreservedConcurrentExecutions"] + quota - account["ConcurrentExecutions"]
        )
        assert (deploy.verdict(limit(quota, unreserved), DEFAULTS, held) == []) is fits, quota


def test_lambda_keeps_the_whole_of_a_quota_under_100_unreserved():
    assert "--desired-value 101)" in deploy.verdict(limit(50, 50), {"SweepFunction": 1}, 0)[1]
    assert deploy.verdict(limit(50, 50), {}, 0) == []


def test_an_environment_takes_samconfig_then_the_overrides():
    parameters = deploy.overrides("staging", ["ConcurrencyReservations=None"])
    assert parameters["DeploymentType"] == "Canary10Percent5Minutes"
    assert parameters["ConcurrencyReservations"] == "None"
    with pytest.raises(deploy.DeployError, match="has no environment 'nowhere'"):
        deploy.overrides("nowhere")
    # As sam deploy reads them: CloudFormation's form too, and never a word without a value.
    cloudformation = ["ParameterKey=LogLevel,ParameterValue=INFO"]
    assert deploy.overrides("staging", cloudformation)["LogLevel"] == "INFO"
    with pytest.raises(deploy.SamFlagError, match="not Key=Value: 'LogLevel'"):
        deploy.overrides("staging", ["LogLevel"])


@mock_aws  # a first deploy reads the other quotas too (test_preflight_quotas.py)
def test_a_first_deploy_is_checked_against_the_account():
    fits = Account(limit(1000, 1000), {})
    fits.expect_check("wellapi-staging")
    assert deploy.check(fits, "staging") == []
    short = Account(limit(10, 10), {})
    short.expect_check("wellapi-staging")
    assert deploy.check(short, "staging")[0].startswith(
        "Lambda concurrency: the stack reserves 312"
    )
    none = Account(limit(10, 10), {})
    none.expect_check("wellapi-staging")
    assert deploy.check(none, "staging", ["ConcurrencyReservations=None"]) == []


def test_an_update_counts_what_the_deployed_stack_reserves_as_free():
    deployed = [{"ParameterKey": "AuthorizerReservedConcurrency", "ParameterValue": "300"}]
    stacks = {"wellapi-staging": stack("wellapi-staging", "UPDATE_COMPLETE", Parameters=deployed)}
    # 500 quota: the stack holds 312, so 188 are unreserved; 312 + 100 <= 500 fits.
    session = Account(limit(500, 188), stacks)
    session.expect_check("wellapi-staging")
    assert deploy.check(session, "staging") == []


def test_preflight_exits_2_when_aws_cannot_be_read(monkeypatch, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert deploy.main(["preflight", "staging"]) == 2
    assert capsys.readouterr().err.startswith("preflight: You must specify a region")
