"""database.yaml's inline functions (MigrationUserFunction, DefaultSecurityGroupFunction) as
Lambda runs them, their code read from the template: in an environment of the variables the
template gives them, with stand-ins for the AWS clients they make and for CloudFormation's
``cfnresponse``, which record every call and every answer.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.template import DATABASE

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/wellapi-database/5e2c1f10-0a7e-11f0-9d3b"
)
CLUSTER_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:wellapi-database-dbcluster-1x2y3z"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-8f6e-AbCdEf"
# MigrationUserFunction's variables resolved at deploy, as they might be.
MIGRATION_USER_VALUES = {
    "CLUSTER_ARN": CLUSTER_ARN,
    "SECRET_ARN": SECRET_ARN,
    "DATABASE": "well",
    "MIGRATION_USER": "well_migrator",
    "STACK_ID": STACK_ID,
    "URL_SUFFIX": "amazonaws.com",
}
# As CloudFormation writes it: its bucket of responses (the region without dashes), a key
# naming the stack and the resource, and the pre-signed query.
RESPONSE_URL = (
    f"https://cloudformation-custom-resource-response-{REGION.replace('-', '')}.s3.{REGION}"
    ".amazonaws.com/arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/"
    "wellapi-database/5e2c1f10%7CMigrationUser%7C7d9b?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Signature=0f3e"
)


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Operation")


@dataclass
class Aws:
    """Every client the function makes, by service: each call recorded as (service, operation,
    arguments) and answered by ``answers[(service, operation)]``: a value, an exception to
    raise, or a function of the arguments (none: an empty answer)."""

    answers: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        aws = self

        class Client:
            def __getattr__(self, operation: str) -> Callable[..., Any]:
                def call(**arguments: Any) -> Any:
                    aws.calls.append((service, operation, arguments))
                    answer = aws.answers.get((service, operation), {})
                    if isinstance(answer, BaseException):
                        raise answer
                    return answer(**arguments) if callable(answer) else answer

                return call

        return Client()

    def called(self, service: str) -> list[tuple[str, dict[str, Any]]]:
        return [(operation, arguments) for s, operation, arguments in self.calls if s == service]


@dataclass
class Function:
    """A function's module, the AWS it calls and what it answered CloudFormation."""

    module: types.ModuleType
    aws: Aws
    answers: list[tuple[Any, ...]]

    def invoke(self, event: Any) -> None:
        self.module.handler(event, Context())


class Context:
    """Lambda's context object: the time left, ten minutes."""

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def environment(function_id: str, values: dict[str, str]) -> dict[str, str]:
    """The function's environment: the template's constants as written, ``values`` for exactly
    the variables it resolves at deploy (``!Ref``, ``!GetAtt``), and the region Lambda adds."""
    template = DATABASE["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    constants = {k: v for k, v in template.items() if isinstance(v, str)}
    assert set(values) == set(template) - set(constants), sorted(template)
    return {**constants, **values, "AWS_REGION": REGION}


def request(kind: str, logical_id: str, **changes: Any) -> dict[str, Any]:
    """A request of CloudFormation's for ``logical_id``, as it sends one, with ``changes``."""
    event = {
        "RequestType": kind,
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:wellapi-database-f",
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": "b3e6c1d2-5f4a-4c1e-9d2b-7a6f5e4d3c2b",
        "LogicalResourceId": logical_id,
        "ResourceType": f"Custom::{logical_id}",
        "ResourceProperties": {},
    }
    if kind != "Create":
        event["PhysicalResourceId"] = "well_migrator"
    return {**event, **changes}


def loaded(
    function_id: str, values: dict[str, str], monkeypatch: pytest.MonkeyPatch, aws: Aws
) -> Function:
    """The template's code of ``function_id`` as a module, as Lambda loads it, in its
    environment, its ``cfnresponse`` recording what it would send, its pauses none."""
    for name, value in environment(function_id, values).items():
        monkeypatch.setenv(name, value)
    answers: list[tuple[Any, ...]] = []
    cfnresponse = types.ModuleType("cfnresponse")
    cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]
    cfnresponse.send = lambda *a, **k: answers.append((*a[2:], k))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cfnresponse", cfnresponse)
    module = types.ModuleType(function_id)
    code = DATABASE["Resources"][function_id]["Properties"]["Code"]["ZipFile"]
    exec(compile(code, f"database.yaml:{function_id}", "exec"), module.__dict__)  # noqa: S102
    module.boto3 = types.SimpleNamespace(client=aws.client)  # type: ignore[attr-defined]
    module.PAUSE = 0  # type: ignore[attr-defined]
    return Function(module, aws, answers)
