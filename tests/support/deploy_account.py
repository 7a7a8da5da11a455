"""An AWS account for ``welldev.deploy``'s tests: CloudFormation's, Lambda's and RDS's answers
from botocore's Stubber, in the shapes the APIs document; every other service's from moto, which
the test starts. moto does not implement ``lambda:GetAccountSettings`` ("Not yet implemented")
nor ``rds:DescribeAccountAttributes``, and its CloudFormation needs openapi-spec-validator, which
nothing else here needs."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

REGION = "eu-west-1"
# One session for every account: its clients are each account's own.
SESSION = boto3.Session(region_name=REGION)


def limit(quota: int, unreserved: int) -> dict[str, int]:
    """``GetAccountSettings``'s ``AccountLimit``, of its concurrency."""
    return {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}


def stack(name: str, status: str, **more: Any) -> dict[str, Any]:
    """A stack as ``DescribeStacks`` answers it."""
    return {
        "StackName": name,
        "StackStatus": status,
        "CreationTime": "2026-11-28T00:00:00Z",
        **more,
    }


class Account:
    """A session whose clients answer from Stubbers: the account's ``concurrency`` (an
    ``AccountLimit``) and ``stacks`` by name (absent: none), each call expected in turn."""

    def __init__(self, concurrency: dict[str, int], stacks: dict[str, dict[str, Any]]) -> None:
        self.clients = {n: SESSION.client(n) for n in ("cloudformation", "lambda", "rds")}
        self.stubs = {n: Stubber(c) for n, c in self.clients.items()}
        self.stacks, self.concurrency = stacks, concurrency

    def expect_stack(self, name: str) -> None:
        stubber = self.stubs["cloudformation"]
        if name in self.stacks:
            answer = {"Stacks": [self.stacks[name]]}
            stubber.add_response("describe_stacks", answer, {"StackName": name})
        else:
            message = f"Stack with id {name} does not exist"
            stubber.add_client_error("describe_stacks", "ValidationError", message)

    def expect_check(self, api_stack: str) -> None:
        """What ``deploy.check`` reads: the account's concurrency, then the deployed stack."""
        answer = {"AccountLimit": self.concurrency}
        self.stubs["lambda"].add_response("get_account_settings", answer)
        self.expect_stack(api_stack)

    def expect_rds(self, used: dict[str, int], proxies: int = 0) -> None:
        """What RDS says of its quotas (AWS's defaults, of which ``used``) and its proxies."""
        limits = {"DBClusters": 40, "DBInstances": 40, "DBSubnetGroups": 50}
        quotas = [
            {"AccountQuotaName": n, "Used": used.get(n, 0), "Max": most}
            for n, most in limits.items()
        ]
        stubber = self.stubs["rds"]
        stubber.add_response("describe_account_attributes", {"AccountQuotas": quotas})
        answer = {"DBProxies": [{"DBProxyName": f"proxy-{n}"} for n in range(proxies)]}
        stubber.add_response("describe_db_proxies", answer)

    def client(self, name: str) -> Any:
        for stub in self.stubs.values():
            stub.activate()
        return self.clients[name] if name in self.clients else SESSION.client(name)
