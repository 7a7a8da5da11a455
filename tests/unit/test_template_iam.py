"""Least privilege in every stack: no statement on every resource ("*") where an ARN can be
named, in the API's stacks as SAM makes them and in database.yaml; and no AWS managed policy in
the API's (database.yaml's enhanced monitoring role holds RDS's own, on RDS's log groups
alone).

Each function's role and CodeDeploy's are written (template/per-function/role.yaml), not
SAM's, which hold AWSLambdaBasicExecutionRole, AWSLambdaVPCAccessExecutionRole,
AWSXrayWriteOnlyAccess, AWSLambdaSQSQueueExecutionRole (a queue's consumer) and
AWSCodeDeployRoleForLambda, each on every resource."""

from __future__ import annotations

from tests.support.template import (
    DATABASE,
    FUNCTIONS,
    actions,
    on_every_resource,
    statements,
    transformed_stacks,
)

# The actions whose resource cannot be named: X-Ray's take none, and the network interfaces
# Lambda makes in the VPC are named by Lambda (the Describe actions take none).
UNNAMED = {
    *("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules"),
    *("xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"),
    *("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"),
    *("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses"),
    "ec2:UnassignPrivateIpAddresses",
}
IAM_TYPES = {"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"}


def test_no_statement_is_on_every_resource_but_those_whose_resource_has_no_name():
    found = []
    for name, document in {**transformed_stacks(), "database.yaml": DATABASE}.items():
        for resource_id, resource in document["Resources"].items():
            if resource["Type"] not in IAM_TYPES:
                continue
            for statement in statements(resource):
                if on_every_resource(statement) and not actions(statement) <= UNNAMED:
                    found.append(f"{name}: {resource_id} {sorted(actions(statement))}")
    assert found == []


def test_no_role_holds_an_aws_managed_policy():
    found = []
    for name, document in transformed_stacks().items():
        for resource_id, resource in document["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            arns = resource["Properties"].get("ManagedPolicyArns", [])
            found += [f"{name}: {resource_id} {a}" for a in arns if ":aws:policy/" in str(a)]
    assert found == []


def test_every_function_runs_as_its_own_role_writing_to_its_own_log_group_only():
    for name, document in transformed_stacks().items():
        resources = document["Resources"]
        for function_id in set(FUNCTIONS) & set(resources):
            role = resources[function_id]["Properties"]["Role"]
            assert role == {"Fn::GetAtt": [f"{function_id}Role", "Arn"]}, name
            (logs,) = [
                s
                for s in statements(resources[f"{function_id}Role"])
                if "logs:PutLogEvents" in actions(s)
            ]
            assert logs["Resource"] == {"Fn::GetAtt": [f"{function_id}LogGroup", "Arn"]}


def test_codedeploy_may_move_only_its_stacks_aliases_and_read_only_their_alarms():
    for name, document in transformed_stacks().items():
        resources = document["Resources"]
        (group,) = {
            str(r["Properties"]["ServiceRoleArn"])
            for r in resources.values()
            if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"
        }
        assert group == str({"Fn::GetAtt": ["DeployRole", "Arn"]}), name
        for function_id in set(FUNCTIONS) & set(resources):
            policy = resources[f"{function_id}DeployPolicy"]["Properties"]
            assert policy["Roles"] == [{"Ref": "DeployRole"}]
            alias, alarm = policy["PolicyDocument"]["Statement"]
            assert alias["Resource"][0] == {"Fn::GetAtt": [function_id, "Arn"]}
            assert alarm["Resource"] == {"Fn::GetAtt": [f"{function_id}FailingAlarm", "Arn"]}
