"""database.yaml's two functions that CloudFormation alone should run, as the template holds
them: MigrationUserFunction (the migration user, as the master user, through the Data API) and
DefaultSecurityGroupFunction (the VPC's default group left without rules).

Neither can tell who invoked it: CloudFormation invokes a custom resource's function with the
deployer's credentials (or the stack's service role), so anyone else allowed
``lambda:InvokeFunction`` on it looks the same. Each therefore reads every name and ARN from its
environment, never from the event, and answers only a request of its own stack for its own
resource at CloudFormation's bucket of responses; the migration user's function also asks
CloudFormation whether the stack is working on the resource. A request refused is logged in
one line and answered nothing. ``tests/database/test_migration_user.py`` runs the statements on
PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.bootstrap import (
    CLUSTER_ARN,
    MIGRATION_USER_VALUES,
    REGION,
    RESPONSE_URL,
    SECRET_ARN,
    STACK_ID,
    Aws,
    Function,
    error,
    loaded,
    request,
)

BOOTSTRAP = dict(MIGRATION_USER_VALUES)
USER, DATABASE = BOOTSTRAP["MIGRATION_USER"], BOOTSTRAP["DATABASE"]
GROUP = "sg-0a1b2c3d4e5f60718"
DEFAULT_GROUP = {"GROUP_ID": GROUP, "STACK_ID": STACK_ID, "URL_SUFFIX": "amazonaws.com"}
IN_PROGRESS = {"StackResourceDetail": {"ResourceStatus": "CREATE_IN_PROGRESS"}}
BUCKET = f"cloudformation-custom-resource-response-{REGION.replace('-', '')}"
# What a caller other than CloudFormation might send, each refused.
NOT_CLOUDFORMATIONS = {
    "another stack's": {"StackId": STACK_ID.replace("wellapi-database", "other")},
    "another resource's": {"LogicalResourceId": "Other"},
    "no request type": {"RequestType": "Drop"},
    "plain http": {"ResponseURL": RESPONSE_URL.replace("https://", "http://")},
    "another host": {"ResponseURL": "https://collector.example/response"},
    "the bucket's name as a login": {"ResponseURL": f"https://{BUCKET}.s3.amazonaws.com@x.ex/"},
    "another region's bucket": {"ResponseURL": RESPONSE_URL.replace("euwest1", "useast1")},
    "another port": {"ResponseURL": f"https://{BUCKET}.s3.amazonaws.com:8443/key"},
    "no response URL": {"ResponseURL": None},
}


def bootstrap(monkeypatch: pytest.MonkeyPatch, **answers: Any) -> Function:
    aws = Aws({("cloudformation", "describe_stack_resource"): IN_PROGRESS})
    aws.answers |= {tuple(k.split(".")): v for k, v in answers.items()}  # type: ignore[misc]
    return loaded("MigrationUserFunction", BOOTSTRAP, monkeypatch, aws)


def default_group(monkeypatch: pytest.MonkeyPatch, **answers: Any) -> Function:
    aws = Aws({tuple(k.split(".")): v for k, v in answers.items()})  # type: ignore[misc]
    return loaded("DefaultSecurityGroupFunction", DEFAULT_GROUP, monkeypatch, aws)


def _sent(function: Function) -> list[str]:
    return [arguments["sql"] for _, arguments in function.aws.called("rds-data")]


def _refused(function: Function, capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a refusal logs; nothing was answered, nothing changed."""
    (line,) = capsys.readouterr().out.splitlines()
    assert function.answers == []
    assert [s for s, _, _ in function.aws.calls if s != "cloudformation"] == []
    return str(json.loads(line)["refused"])


def test_every_name_and_arn_is_the_environments_and_none_the_events(monkeypatch):
    function = bootstrap(monkeypatch)
    forged = {"User": "well_api", "Database": "postgres", "ClusterArn": "x", "SecretArn": "y"}

    function.invoke(request("Create", "MigrationUser", ResourceProperties=forged))

    sent = function.aws.called("rds-data")
    assert {(a["resourceArn"], a["secretArn"], a["database"]) for _, a in sent} == {
        (CLUSTER_ARN, SECRET_ARN, DATABASE)
    }
    assert _sent(function) == function.module.statements(USER, DATABASE)
    assert not [sql for sql in _sent(function) if "well_api" in sql or "postgres" in sql]
    assert [a[:3] for a in function.answers] == [("SUCCESS", {}, USER)]


def test_the_data_api_is_on_only_while_the_statements_run(monkeypatch):
    function = bootstrap(monkeypatch)

    function.invoke(request("Update", "MigrationUser"))

    services = [(s, operation) for s, operation, _ in function.aws.calls]
    statements = len(function.module.STATEMENTS)
    assert services == [
        ("cloudformation", "describe_stack_resource"),
        ("rds", "enable_http_endpoint"),
        *[("rds-data", "execute_statement")] * statements,
        ("rds", "disable_http_endpoint"),
    ]
    assert {a["ResourceArn"] for _, a in function.aws.called("rds")} == {CLUSTER_ARN}
    (_, _, asked), *_ = function.aws.calls
    assert asked == {"StackName": STACK_ID, "LogicalResourceId": "MigrationUser"}


def test_a_failed_statement_fails_the_deploy_with_the_data_api_off(monkeypatch):
    refused = error("DatabaseErrorException")
    function = bootstrap(monkeypatch, **{"rds-data.execute_statement": refused})

    function.invoke(request("Create", "MigrationUser"))

    assert [op for op, _ in function.aws.called("rds")][-1] == "disable_http_endpoint"
    ((status, _data, _physical, keywords),) = function.answers
    assert status == "FAILED"
    assert keywords["reason"].startswith("ClientError: An error occurred (DatabaseErrorException)")


def test_a_busy_cluster_and_a_data_api_not_yet_on_are_waited_for(monkeypatch):
    def once(code: str) -> Any:
        failures = [error(code)]

        def answer(**_: Any) -> dict[str, Any]:
            if failures:
                raise failures.pop()
            return {}

        return answer

    function = bootstrap(
        monkeypatch,
        **{
            "rds.enable_http_endpoint": once("InvalidResourceStateFault"),
            "rds.disable_http_endpoint": once("InvalidDBClusterStateFault"),
            "rds-data.execute_statement": once("BadRequestException"),
        },
    )

    function.invoke(request("Create", "MigrationUser"))

    operations = [op for _, op, _ in function.aws.calls]
    assert (
        operations.count("enable_http_endpoint") == operations.count("disable_http_endpoint") == 2
    )
    assert len(_sent(function)) == len(function.module.STATEMENTS) + 1
    assert [a[0] for a in function.answers] == ["SUCCESS"]


def test_a_name_outside_the_pattern_fails_the_deploy_and_calls_nothing(monkeypatch):
    monkeypatch.setitem(BOOTSTRAP, "MIGRATION_USER", 'x"; DROP ROLE y; --')
    function = bootstrap(monkeypatch)

    function.invoke(request("Create", "MigrationUser"))

    assert [s for s, _, _ in function.aws.calls] == ["cloudformation"]
    ((status, _data, _physical, keywords),) = function.answers
    assert status == "FAILED"
    assert keywords["reason"].startswith("ValueError: a user or database name outside")


@pytest.mark.parametrize("make", [bootstrap, default_group], ids=["bootstrap", "default group"])
def test_deleting_the_stack_leaves_the_user_and_the_group(monkeypatch, make):
    function = make(monkeypatch)

    function.invoke(request("Delete", _logical(function), PhysicalResourceId="made"))

    assert [s for s, _, _ in function.aws.calls if s != "cloudformation"] == []
    assert [a[:3] for a in function.answers] == [("SUCCESS", {}, "made")]


def _logical(function: Function) -> str:
    return str(function.module.os.environ["LOGICAL_ID"])


@pytest.mark.parametrize("changes", NOT_CLOUDFORMATIONS.values(), ids=NOT_CLOUDFORMATIONS)
@pytest.mark.parametrize("make", [bootstrap, default_group], ids=["bootstrap", "default group"])
def test_a_request_not_cloudformations_is_refused_in_one_line(monkeypatch, capsys, make, changes):
    function = make(monkeypatch)

    function.invoke(request("Create", _logical(function), **changes))

    assert _refused(function, capsys)


@pytest.mark.parametrize("make", [bootstrap, default_group], ids=["bootstrap", "default group"])
def test_an_event_that_is_no_request_is_refused_in_one_line(monkeypatch, capsys, make):
    function = make(monkeypatch)

    function.invoke(["Create"])

    assert _refused(function, capsys) == "not a CloudFormation request"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"StackResourceDetail": {"ResourceStatus": "CREATE_COMPLETE"}}, "(CREATE_COMPLETE)"),
        (error("AccessDenied"), "(AccessDenied)"),
    ],
    ids=["done", "unreadable"],
)
def test_a_request_while_the_stack_is_not_working_on_the_resource_is_refused(
    monkeypatch, capsys, answer, said
):
    function = bootstrap(monkeypatch, **{"cloudformation.describe_stack_resource": answer})

    function.invoke(request("Update", "MigrationUser"))

    assert _refused(function, capsys).endswith(said)


HOSTS = [f"{BUCKET}.s3.amazonaws.com", f"{BUCKET}.s3.{REGION}.amazonaws.com"]


@pytest.mark.parametrize("host", [*HOSTS, f"{BUCKET}.s3-{REGION}.amazonaws.com"])
@pytest.mark.parametrize("make", [bootstrap, default_group], ids=["bootstrap", "default group"])
def test_each_host_of_cloudformations_bucket_is_answered(monkeypatch, make, host):
    function = make(monkeypatch)
    url = f"https://{host}/arn%3Aaws%3Acloudformation/key?X-Amz-Signature=0f3e"

    function.invoke(request("Delete", _logical(function), ResponseURL=url))

    assert [a[0] for a in function.answers] == ["SUCCESS"]


def test_the_default_groups_two_rules_are_revoked_and_nothing_else(monkeypatch):
    function = default_group(monkeypatch)
    forged = {"GroupId": "sg-0ffffffffffffffff"}

    function.invoke(request("Create", "DefaultSecurityGroupRules", ResourceProperties=forged))

    assert function.aws.called("ec2") == [
        (
            "revoke_security_group_ingress",
            {
                "GroupId": GROUP,
                "IpPermissions": [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": GROUP}]}],
            },
        ),
        (
            "revoke_security_group_egress",
            {
                "GroupId": GROUP,
                "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            },
        ),
    ]
    assert [a[:3] for a in function.answers] == [("SUCCESS", {}, GROUP)]


def test_rules_revoked_already_are_no_failure_and_any_other_refusal_is(monkeypatch):
    gone = default_group(
        monkeypatch, **{"ec2.revoke_security_group_egress": error("InvalidPermission.NotFound")}
    )
    denied = default_group(
        monkeypatch, **{"ec2.revoke_security_group_ingress": error("UnauthorizedOperation")}
    )

    for function in (gone, denied):
        function.invoke(request("Update", "DefaultSecurityGroupRules"))

    assert [a[0] for a in gone.answers] == ["SUCCESS"]
    ((status, _data, _physical, keywords),) = denied.answers
    assert (status, keywords["reason"].split(":")[0]) == ("FAILED", "ClientError")
