"""docs/cost.md's quantities, counted from the templates (database.yaml, and template.yaml with its
nested stacks as SAM transforms them): a change that changes what an idle environment bills
fails here until the page says it."""

from __future__ import annotations

from typing import Any

from tests.support.template import DATABASE, ROOT, transformed_stacks

PAGE = " ".join((ROOT / "docs/cost.md").read_text(encoding="utf-8").split())
HOURS = 730  # a month's, as AWS prices a month
VCPUS = {"db.t4g.medium": 2}  # Aurora's DB instance classes table
X = "\N{MULTIPLICATION SIGN}"  # as the page writes a product


def _resources(kind: str, *, database: bool = True) -> list[dict[str, Any]]:
    documents = [*transformed_stacks().values(), *([DATABASE] if database else [])]
    return [
        r["Properties"] for d in documents for r in d["Resources"].values() if r["Type"] == kind
    ]


def _default(name: str) -> Any:
    return DATABASE["Parameters"][name]["Default"]


def test_the_instances_and_the_proxy_on_their_vcpus():
    instances = len(_resources("AWS::RDS::DBInstance"))
    vcpus = VCPUS[_default("InstanceClass")]
    assert f"`db.t4g.medium`, {vcpus} vCPUs" in PAGE
    assert f"{instances} {X} {HOURS} = {instances * HOURS:,} instance-hours" in PAGE
    assert f"{instances} {X} {vcpus} {X} {HOURS} = {instances * vcpus * HOURS:,} vCPU-hours" in PAGE
    assert f"`BackupRetentionDays` ({_default('BackupRetentionDays')})" in PAGE
    (cluster,) = _resources("AWS::RDS::DBCluster")
    assert "StorageType" not in cluster  # Aurora Standard: I/O billed by the request
    assert cluster["ManageMasterUserPassword"] is True  # the secret RDS keeps
    assert {i["MonitoringInterval"] for i in _resources("AWS::RDS::DBInstance")} == {60}


def test_the_endpoints():
    endpoints = {e["VpcEndpointType"]: e for e in _resources("AWS::EC2::VPCEndpoint")}
    assert set(endpoints) == {"Interface", "Gateway"}
    subnets = len(endpoints["Interface"]["SubnetIds"])
    assert f"interface endpoint, in {subnets} subnets" in PAGE
    assert f"{subnets} {X} {HOURS} = {subnets * HOURS:,} endpoint-hours" in PAGE


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
    assert f"{len(alarms)} alarms of standard resolution, on {metrics} metrics" in PAGE
    assert f"| The dashboard | {len(_resources('AWS::CloudWatch::Dashboard'))} |" in PAGE


def test_the_scheduled_functions_and_their_memory():
    every_minute = [r for r in _resources("AWS::Events::Rule") if r.get("ScheduleExpression")]
    assert {r["ScheduleExpression"] for r in every_minute} == {"rate(1 minute)"}
    n, month = len(every_minute), HOURS * 60
    assert f"{n} {X} {month:,} = {n * month:,} invocations" in PAGE
    functions = _resources("AWS::Lambda::Function", database=False)  # the API stack's
    assert {f["MemorySize"] for f in functions} == {512}
    assert "(512 MB each)" in PAGE


def test_the_keys_and_the_flow_log():
    keys = _resources("AWS::KMS::Key")
    assert all(k["EnableKeyRotation"] for k in keys)
    assert f"| {len(keys)} customer managed key, and a request per read | AWS KMS |" in PAGE
    assert {f["TrafficType"] for f in _resources("AWS::EC2::FlowLog")} == {"ALL"}
    assert "the VPC's flow log of every flow" in PAGE
