"""``make deploy``: the API stack's ``--parameter-overrides``, from the database stack's outputs
(``welldev.deploy``; docs/deploy.md, "The first deploy"). The account is
``tests.support.deploy_account``'s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.deploy_account import Account, limit, stack
from tests.support.template import DATABASE, TEMPLATE
from welldev import deploy

OUTPUTS = {
    "SubnetIds": "subnet-0a,subnet-0b",
    "SecurityGroupIds": "sg-0f",
    "DbProxyEndpoint": "wellapi-staging-database-proxy.proxy-x.eu-west-1.rds.amazonaws.com",
    "DbProxyReaderEndpoint": (
        "wellapi-staging-database-reader.endpoint.proxy-x.eu-west-1.rds.amazonaws.com"
    ),
    "DbProxyResourceId": "prx-0123456789abcdef0",
    "DbProxyName": "wellapi-staging-database-proxy",
    "DbName": "well",
    "MigrationDbUser": "well_migrator",
}
PRODUCER = "arn:aws:iam::123456789012:role/connector-sync"
DATABASE_STACK = "wellapi-staging-database"


def _database(status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    outputs = [{"OutputKey": k, "OutputValue": v} for k, v in OUTPUTS.items()]
    return stack(DATABASE_STACK, status, Outputs=outputs)


def _account(**stacks: dict[str, Any]) -> Account:
    account = Account(limit(1000, 1000), {s["StackName"]: s for s in stacks.values()})
    account.expect_stack(DATABASE_STACK)
    return account


def test_the_database_stack_outputs_what_the_api_stack_takes():
    assert set(OUTPUTS) == set(DATABASE["Outputs"])
    assert set(OUTPUTS) <= set(TEMPLATE["Parameters"])


def test_a_first_deploy_takes_the_outputs_the_environment_and_the_producer():
    found = deploy.parameters(_account(database=_database()), "staging", PRODUCER)

    assert found == {
        **OUTPUTS,
        "DeploymentType": "Canary10Percent5Minutes",
        "LogRetentionDays": "30",
        "SyncProducerRoleArn": PRODUCER,
    }


@pytest.mark.parametrize(
    ("stacks", "producer", "said"),
    [
        ({}, PRODUCER, "is absent: run `make deploy-database` first"),
        ({"database": _database("ROLLBACK_COMPLETE")}, PRODUCER, "is ROLLBACK_COMPLETE"),
        ({"database": _database("CREATE_IN_PROGRESS")}, PRODUCER, "is CREATE_IN_PROGRESS"),
        ({"database": _database()}, None, "no SyncProducerRoleArn: give SYNC_PRODUCER_ROLE_ARN"),
    ],
)
def test_a_deploy_that_cannot_be_made_says_what_is_missing(stacks, producer, said):
    with pytest.raises(deploy.DeployError) as refused:
        deploy.parameters(_account(**stacks), "staging", producer)
    assert said in str(refused.value)


def test_every_environment_has_its_database_stack():
    for environment in ("default", "staging", "production"):
        api = deploy.settings(environment)["stack_name"]
        assert deploy.settings(environment, database=True)["stack_name"] == f"{api}-database"
    with pytest.raises(deploy.DeployError, match=r"samconfig-database\.toml has no environment"):
        deploy.settings("nowhere", database=True)
