"""``make preflight`` and ``make deploy-database``'s check: the quotas other than Lambda's that a
first deploy of each stack counts against, read from the account (``welldev.deploy``;
docs/deploy.md, "Other quotas"). The account is ``tests.support.deploy_account``'s, on moto."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.support.deploy_account import SESSION, Account, limit, stack
from tests.support.template import transformed_stacks
from welldev import deploy

DATABASE_STACK = "wellapi-staging-database"
S3 = "com.amazonaws.eu-west-1.s3"


@pytest.fixture(autouse=True)
def account_on_moto():
    with mock_aws():
        yield


def _database_account(**used: int) -> Account:
    account = Account(limit(1000, 1000), {})
    account.expect_stack(DATABASE_STACK)
    account.expect_rds(used)
    return account


def test_what_preflight_counts_is_what_sam_makes():
    # Of every type QUOTAS counts, template.yaml's and its nested stacks' resources after SAM's
    # transform: SAM adds no role or policy that preflight would miss.
    types = {kind.split("/")[0] for kind in deploy.QUOTAS}
    made = Counter(
        deploy.QUOTAS[r["Type"]]
        for document in transformed_stacks().values()
        for r in document["Resources"].values()
        if r["Type"] in types
    )
    assert deploy.made(deploy.ROOT / "template.yaml", {}) == made
    assert made["Roles"] > 50
    assert made["Event buses"] == 1
    # A bus the environment names is not made.
    named = deploy.made(deploy.ROOT / "template.yaml", {"ChangeEventBusName": "platform"})
    assert named == made - Counter({"Event buses": 1})
    assert deploy.made(deploy.ROOT / "database.yaml", {}) == {
        "Roles": 5,
        "DBClusters": 1,
        "DBInstances": 2,
        "DBSubnetGroups": 1,
        "RDS proxies": 1,
        "VPCs per Region": 1,
        "Gateway VPC endpoints per Region": 1,
    }


def test_a_new_account_fits_both_stacks():
    assert deploy.check_database(_database_account(), "staging") == []
    api = Account(limit(1000, 1000), {})
    api.expect_check("wellapi-staging")
    assert deploy.check(api, "staging") == []


def test_a_database_deploy_is_told_each_quota_to_ask_for():
    ec2 = SESSION.client("ec2")
    for n in range(4):  # with the account's default VPC, the quota's 5
        vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=S3, VpcEndpointType="Gateway")
    lines = deploy.check_database(_database_account(DBInstances=39), "staging")
    assert lines == [
        "DBInstances: the stack makes 2, the account has 39 and the quota is 40; ask Service "
        'Quotas for 41 (docs/deploy.md, "Other quotas").',
        "VPCs per Region: the stack makes 1, the account has 5 and the quota is 5; ask Service "
        'Quotas for 6 (docs/deploy.md, "Other quotas").',
    ]


def test_the_account_says_its_use_of_each_quota():
    iam, ec2 = SESSION.client("iam"), SESSION.client("ec2")
    for n in range(3):
        iam.create_role(RoleName=f"other-{n}", AssumeRolePolicyDocument="{}")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=S3, VpcEndpointType="Gateway")
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.eu-west-1.events", VpcEndpointType="Interface"
    )
    account = Account(limit(1000, 1000), {})
    account.expect_rds({"DBClusters": 7}, proxies=2)
    found = deploy.in_account(account, deploy.made(deploy.ROOT / "database.yaml", {}))
    assert found == {
        "Roles": (3, 1000),
        "Policies": (0, 1500),
        "DBClusters": (7, 40),
        "DBInstances": (0, 40),
        "DBSubnetGroups": (0, 50),
        "RDS proxies": (2, 20),
        "VPCs per Region": (1, 5),
        "Gateway VPC endpoints per Region": (1, 20),  # the interface endpoint is not one
    }


def test_a_quota_known_only_by_its_default_warns_and_the_deploy_goes_on(monkeypatch, capsys):
    events = SESSION.client("events")
    for n in range(99):  # with the default bus, 100: more than one page of ListEventBuses
        events.create_event_bus(Name=f"other-{n}")
    account = Account(limit(1000, 1000), {})
    account.expect_check("wellapi-staging")
    monkeypatch.setattr(deploy, "boto3", SimpleNamespace(Session=lambda **_: account))
    assert deploy.main(["preflight", "staging"]) == 0
    assert capsys.readouterr().err == (
        "Warning: Event buses: the stack makes 1, the account has 100 and AWS's default quota is "
        '100; ask Service Quotas for 101 unless it is raised (docs/deploy.md, "Other quotas").\n'
    )


def test_a_shortfall_stops_the_deploy(monkeypatch, capsys):
    account = _database_account(DBClusters=40)
    monkeypatch.setattr(deploy, "boto3", SimpleNamespace(Session=lambda **_: account))
    assert deploy.main(["preflight-database", "staging"]) == 1
    assert capsys.readouterr().err.startswith("DBClusters: the stack makes 1, the account has 40")


def test_a_shortfall_names_the_count_to_ask_for():
    wanted = Counter({"Roles": 54, "RDS proxies": 1})
    assert deploy.shortfalls(wanted, {"Roles": (946, 1000), "RDS proxies": (19, 20)}) == []
    assert deploy.shortfalls(wanted, {"Roles": (947, 1000), "RDS proxies": (20, 20)}) == [
        "Warning: RDS proxies: the stack makes 1, the account has 20 and AWS's default quota is "
        '20; ask Service Quotas for 21 unless it is raised (docs/deploy.md, "Other quotas").',
        "Roles: the stack makes 54, the account has 947 and the quota is 1000; ask Service "
        'Quotas for 1001 (docs/deploy.md, "Other quotas").',
    ]


def test_a_quota_the_account_does_not_say_is_a_warning():
    lines = deploy.shortfalls(Counter({"DBSubnetGroups": 1}), {})
    assert lines == ["Warning: DBSubnetGroups: the stack makes 1; the account says no limit."]


def test_an_existing_stack_reads_no_quota():
    # Its resources count already: only the stack is read (any other call fails the Stubber).
    database = Account(
        limit(1000, 1000), {DATABASE_STACK: stack(DATABASE_STACK, "CREATE_COMPLETE")}
    )
    database.expect_stack(DATABASE_STACK)
    assert deploy.check_database(database, "staging") == []
    database.stubs["rds"].assert_no_pending_responses()


class QuotasOnly:
    """A session of one client: Service Quotas', stubbed."""

    def __init__(self) -> None:
        self.quotas = SESSION.client("service-quotas")

    def client(self, name: str) -> object:
        assert name == "service-quotas"
        return self.quotas


def test_a_quota_service_quotas_keeps_no_value_for_is_its_default():
    session, named = QuotasOnly(), {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"}
    default = {"Quota": {"QuotaCode": "L-F678F1CE", "Value": 5.0}}
    with Stubber(session.quotas) as stubber:
        stubber.add_client_error("get_service_quota", "NoSuchResourceException", "", 400, named)
        stubber.add_response("get_aws_default_service_quota", default, named)
        assert deploy.service_quota(session, "vpc", "L-F678F1CE") == 5
