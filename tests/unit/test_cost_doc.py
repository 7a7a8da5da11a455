"""docs/cost.md's quantities, counted from the templates (database.yaml, and template.yaml with its
nested stacks as SAM transforms them): a change that changes what an idle environment bills
fails here until the page says it, and a type of resource neither priced nor known to be free
fails until it is one or the other."""

from __future__ import annotations

import json
from typing import Any

from tests.support.template import DATABASE, ROOT, transformed_stacks

LINES = (ROOT / "docs/cost.md").read_text(encoding="utf-8").splitlines()
PAGE = " ".join(" ".join(LINES).split())
HOURS = 730  # a month's, as AWS prices a month
VCPUS = {"db.t4g.medium": 2}  # Aurora's DB instance classes table
X = "\N{MULTIPLICATION SIGN}"  # as the page writes a product

# What the page says each type of resource bills by, or where it names it; "Custom::" stands
# for every custom resource, whose function CloudFormation invokes at a deploy.
PRICED = {
    "AWS::RDS::DBInstance": "instance-hours of `InstanceClass`",
    "AWS::RDS::DBCluster": "Aurora storage",
    "AWS::RDS::DBProxy": "vCPU-hours",
    "AWS::RDS::DBProxyEndpoint": "The proxy's read-only endpoint",
    "AWS::EC2::VPCEndpoint": "endpoint-hours",
    "AWS::EC2::FlowLog": "flow log",
    "AWS::Logs::LogGroup": "log groups, kept `LogRetentionDays`",
    "AWS::CloudWatch::Alarm": "alarms of standard resolution",
    "AWS::CloudWatch::Dashboard": "The dashboard",
    "AWS::Lambda::Function": "invocations",
    "AWS::Events::Rule": "once a minute",
    "AWS::Lambda::EventSourceMapping": "The sync queue's pollers",
    "AWS::SQS::Queue": "SQS requests",
    "AWS::Events::EventBus": "one EventBridge event",
    "AWS::SNS::Topic": "a notification of the alarm topic",
    "AWS::KMS::Key": "customer managed key",
    "AWS::ApiGatewayV2::Api": "an API Gateway HTTP API request",
    "AWS::ApiGatewayV2::Stage": "its access log line",
    "Custom::": "at a deploy",
}
# What AWS bills nothing for (the page's "Nothing else of either stack bills").
FREE = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::DBProxyTargetGroup",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Permission",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::CloudFormation::Stack",
        "AWS::SQS::QueuePolicy",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::RDS::DBClusterParameterGroup",
    }
)


def _documents(database: bool = True) -> list[dict[str, Any]]:
    return [*transformed_stacks().values(), *([DATABASE] if database else [])]


def _resources(kind: str, *, database: bool = True) -> list[dict[str, Any]]:
    return [
        r.get("Properties", {})
        for d in _documents(database)
        for r in d["Resources"].values()
        if r["Type"] == kind
    ]


def _default(name: str) -> Any:
    return DATABASE["Parameters"][name]["Default"]


def _row(what: str) -> str:
    """The table's row that begins with ``what``, its spaces as the page's."""
    (row,) = [line for line in LINES if line.startswith(f"| {what}")]
    return " ".join(row.split())


def _kind(kind: str) -> str:
    # AWS::CloudFormation::CustomResource is a custom resource as Custom::<name> is.
    custom = kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"
    return "Custom::" if custom else kind


def test_every_type_of_resource_of_either_stack_is_priced_or_free():
    kinds = {_kind(r["Type"]) for d in _documents() for r in d["Resources"].values()}
    unknown = sorted(kinds - PRICED.keys() - FREE)
    assert unknown == [], f"say in docs/cost.md what these bill, and in PRICED or FREE: {unknown}"
    assert [kind for kind in PRICED if kind in kinds and PRICED[kind] not in PAGE] == []
    assert PRICED.keys() <= kinds, "PRICED names a type neither stack makes"


def test_the_instances_and_the_proxy_on_their_vcpus():
    instances = len(_resources("AWS::RDS::DBInstance"))
    vcpus = VCPUS[_default("InstanceClass")]
    assert f"`db.t4g.medium`, {vcpus} vCPUs" in PAGE
    assert f"{instances} {X} {HOURS} = {instances * HOURS:,} instance-hours" in PAGE
    assert len(_resources("AWS::RDS::DBProxy")) == 1
    assert f"{instances} {X} {vcpus} {X} {HOURS} = {instances * vcpus * HOURS:,} vCPU-hours" in PAGE
    assert f"`BackupRetentionDays` ({_default('BackupRetentionDays')})" in PAGE
    (cluster,) = _resources("AWS::RDS::DBCluster")
    assert "StorageType" not in cluster  # Aurora Standard: I/O billed by the request
    assert cluster["ManageMasterUserPassword"] is True  # the secret RDS keeps
    assert {i["MonitoringInterval"] for i in _resources("AWS::RDS::DBInstance")} == {60}


def test_what_the_cluster_turns_on_is_priced():
    (cluster,) = _resources("AWS::RDS::DBCluster")
    # Each log the cluster exports, into a log group RDS makes.
    for log in cluster.get("EnableCloudwatchLogsExports", []):
        assert f"| The `{log}` log, exported |" in PAGE, log
    # The Data API bills its requests wherever the stack sends any, on for a bootstrap or not.
    sends = "rds-data:ExecuteStatement" in json.dumps(DATABASE)
    assert ("The Data API" in PAGE) is (cluster.get("EnableHttpEndpoint", False) or sends)
    assert not any(i.get("EnablePerformanceInsights") for i in _resources("AWS::RDS::DBInstance"))


def test_the_endpoints_the_proxys_read_only_one_among_them():
    endpoints = {e["VpcEndpointType"]: e for e in _resources("AWS::EC2::VPCEndpoint")}
    assert set(endpoints) == {"Interface", "Gateway"}
    for row, subnets in [
        ("EventBridge's interface endpoint", endpoints["Interface"]["SubnetIds"]),
        *[
            ("The proxy's read-only endpoint", e["VpcSubnetIds"])
            for e in _resources("AWS::RDS::DBProxyEndpoint")
            if e["TargetRole"] == "READ_ONLY"
        ],
    ]:
        n = len(subnets)
        assert f"{row}, in {n} subnets | {n} {X} {HOURS} = {n * HOURS:,} endpoint-hours" in (
            _row(row)
        )
    assert len(_resources("AWS::RDS::DBProxyEndpoint")) == 1


def test_the_alarms_their_metrics_and_the_dashboard():
    alarms = _resources("AWS::CloudWatch::Alarm")
    metrics = sum(
        sum("MetricStat" in m for m in a["Metrics"]) if "Metrics" in a else 1 for a in alarms
    )
    assert all(a.get("Period", 60) >= 60 for a in alarms)  # standard resolution
    assert all(
        m["MetricStat"]["Period"] >= 60
        for a in alarms
        for m in a.get("Metrics", [])
        if "MetricStat" in m
    )
    counted = f"{len(alarms)} alarms of standard resolution, on {metrics} metrics"
    assert counted in _row("CloudWatch alarms"), f"make generate writes it: {counted}"
    assert f"| The dashboard | {len(_resources('AWS::CloudWatch::Dashboard'))} |" in PAGE


def test_the_scheduled_functions_and_their_memory():
    every_minute = [r for r in _resources("AWS::Events::Rule") if r.get("ScheduleExpression")]
    assert {r["ScheduleExpression"] for r in every_minute} == {"rate(1 minute)"}
    n, month = len(every_minute), HOURS * 60
    assert f"{n} {X} {month:,} = {n * month:,} invocations" in PAGE
    functions = _resources("AWS::Lambda::Function", database=False)  # the API stack's
    assert {f["MemorySize"] for f in functions} == {512}
    assert "(512 MB each)" in PAGE


def test_every_log_group_of_the_stacks_is_kept_log_retention_days():
    groups = _resources("AWS::Logs::LogGroup")
    assert {str(g.get("RetentionInDays")) for g in groups} == {str({"Ref": "LogRetentionDays"})}


def test_the_keys_and_the_flow_log():
    keys = _resources("AWS::KMS::Key")
    assert all(k["EnableKeyRotation"] for k in keys)
    assert f"| {len(keys)} customer managed key, and a request per read | AWS KMS |" in PAGE
    assert {f["TrafficType"] for f in _resources("AWS::EC2::FlowLog")} == {"ALL"}
    assert "the VPC's flow log of every flow" in PAGE
