"""``make preflight``, ``make deploy-database`` and ``make deploy`` (docs/deploy.md).
``preflight ENV [Name=value ...]``: whether the account's quotas hold what ``template.yaml`` makes
and reserves (exit 0) or what to raise (1); ``preflight-database ENV``, the same of
``database.yaml``. ``overrides ENV [ROLE]``: the API stack's parameters, on a line. Exit 2: AWS
unreadable."""

import argparse
import os
import sys
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from welldev.sam_local import SamFlagError, parameter_overrides

ROOT = Path(__file__).resolve().parents[2]
PRODUCER = "SyncProducerRoleArn"
UNRESERVED_MINIMUM = 100  # Lambda's (or the whole quota, when it is smaller)
# The quota each type of resource a stack makes counts against, as the API that reads it names it
# (docs/deploy.md, "Other quotas"). A VPC endpoint's type follows a slash.
QUOTAS = {
    "AWS::IAM::Role": "Roles",
    "AWS::IAM::ManagedPolicy": "Policies",
    "AWS::RDS::DBCluster": "DBClusters",
    "AWS::RDS::DBInstance": "DBInstances",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroups",
    "AWS::RDS::DBProxy": "RDS proxies",
    "AWS::EC2::VPC": "VPCs per Region",
    "AWS::EC2::VPCEndpoint/Gateway": "Gateway VPC endpoints per Region",
    "AWS::Events::EventBus": "Event buses",
}
# No API reads these two quotas: AWS's documented defaults, so a shortfall is a warning only.
DEFAULTS = {"RDS proxies": 20, "Event buses": 100}
WARNING, GATEWAY = "Warning: ", "Gateway"


class DeployError(Exception):
    """What stops a deploy before ``sam deploy`` runs."""


def resolver(template: Mapping[str, Any], given: Mapping[str, str]) -> Any:
    """A value under the parameters ``given`` (else the defaults), or a condition's (``{"Condition":
    name}``): ``Ref``, ``Fn::If`` and ``Fn::Equals``, all that the templates use where it reads."""
    values = {n: str(p.get("Default", "")) for n, p in template["Parameters"].items()} | dict(given)

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "Condition" in v:
            ((left, right),) = template["Conditions"][v["Condition"]].values()
            return value(left) == value(right)
        if isinstance(v, dict) and "Fn::If" in v:
            return value(v["Fn::If"][1 if value({"Condition": v["Fn::If"][0]}) else 2])
        if isinstance(v, dict):
            return None if v["Ref"] == "AWS::NoValue" else values[v["Ref"]]
        return v

    return value


def reservations(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, int]:
    """Each function's reserved concurrency under the parameters ``given`` (else the defaults)."""
    value = resolver(template, given)
    functions = [(k, r) for k, r in template["Resources"].items() if "Function" in r["Type"]]
    reserved = {k: value(r["Properties"].get("ReservedConcurrentExecutions")) for k, r in functions}
    return {k: int(v) for k, v in reserved.items() if v is not None}


@cache
def parsed(path: Path) -> dict[str, Any]:
    """The template at ``path``, as SAM reads it (its tags as intrinsic functions)."""
    from samtranslator.yaml_helper import yaml_parse

    return dict(yaml_parse(path.read_text()))


def made(path: Path, given: Mapping[str, str]) -> Counter[str]:
    """What the stack of the template at ``path`` (its nested stacks' included) makes, by quota."""
    template = parsed(path)
    holds, counts = resolver(template, given), Counter[str]()
    for resource in template["Resources"].values():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Serverless::Application":
            counts += made(path.parent / properties["Location"], {})
        if kind == "AWS::EC2::VPCEndpoint":
            kind += f"/{properties.get('VpcEndpointType', GATEWAY)}"
        condition = resource.get("Condition")
        if kind in QUOTAS and (condition is None or holds({"Condition": condition})):
            counts[QUOTAS[kind]] += 1
    return counts


def counted(client: Any, operation: str, key: str, **given: Any) -> int:
    """How many ``key`` items ``operation`` lists in the account, over all its pages."""
    if client.can_paginate(operation):
        return sum(len(p[key]) for p in client.get_paginator(operation).paginate(**given))
    total, token = 0, dict[str, str]()
    while True:
        page = getattr(client, operation)(**given, **token)
        total += len(page[key])
        if "NextToken" not in page:
            return total
        token = {"NextToken": page["NextToken"]}


def service_quota(session: Any, service: str, code: str) -> int:
    """A quota's value in the account, as Service Quotas says it (AWS's default if unchanged)."""
    client, named = session.client("service-quotas"), {"ServiceCode": service, "QuotaCode": code}
    try:
        return int(client.get_service_quota(**named)["Quota"]["Value"])
    except client.exceptions.NoSuchResourceException:  # AWS keeps no applied value for it
        return int(client.get_aws_default_service_quota(**named)["Quota"]["Value"])


def in_account(session: Any, quotas: Counter[str]) -> dict[str, tuple[int, int]]:
    """Each of ``quotas``' use and limit in the account, from the API that says them."""
    found, wanted = dict[str, tuple[int, int]](), set(quotas)
    if wanted & {"Roles", "Policies"}:
        summary = session.client("iam").get_account_summary()["SummaryMap"]
        found |= {n: (summary[n], summary[f"{n}Quota"]) for n in ("Roles", "Policies")}
    if wanted & {"DBClusters", "DBInstances", "DBSubnetGroups", "RDS proxies"}:
        rds = session.client("rds")
        answer = rds.describe_account_attributes()["AccountQuotas"]
        found |= {q["AccountQuotaName"]: (q["Used"], q["Max"]) for q in answer}
        proxies = counted(rds, "describe_db_proxies", "DBProxies")
        found["RDS proxies"] = (proxies, DEFAULTS["RDS proxies"])
    if wanted & {"VPCs per Region", "Gateway VPC endpoints per Region"}:
        ec2, gateways = session.client("ec2"), [{"Name": "vpc-endpoint-type", "Values": [GATEWAY]}]
        found["VPCs per Region"] = (
            counted(ec2, "describe_vpcs", "Vpcs"),
            service_quota(session, "vpc", "L-F678F1CE"),
        )
        found["Gateway VPC endpoints per Region"] = (
            counted(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=gateways),
            service_quota(session, "vpc", "L-1B52E74A"),
        )
    if "Event buses" in wanted:
        buses = counted(session.client("events"), "list_event_buses", "EventBuses")
        found["Event buses"] = (buses, DEFAULTS["Event buses"])
    return found


def shortfalls(quotas: Counter[str], found: Mapping[str, tuple[int, int]]) -> list[str]:
    """What the account lacks for the resources ``quotas`` counts; a warning where its limit is
    only AWS's documented default."""
    lines = []
    for name, n in sorted(quotas.items()):
        if name not in found:  # an API that answers no such quota (a region without it)
            lines.append(f"{WARNING}{name}: the stack makes {n}; the account says no limit.")
            continue
        (used, most), default = found[name], name in DEFAULTS
        if used + n > most:
            said = f"AWS's default quota is {most}" if default else f"the quota is {most}"
            lines.append(
                f"{WARNING if default else ''}{name}: the stack makes {n}, the account has {used} "
                f"and {said}; ask Service Quotas for {used + n}"
                f'{" unless it is raised" if default else ""} (docs/deploy.md, "Other quotas").'
            )
    return lines


def verdict(limit: Mapping[str, int], reserved: Mapping[str, int], held: int) -> list[str]:
    """What the account lacks for the reservations (``held``: the deployed stack's already)."""
    quota, needed = limit["ConcurrentExecutions"], sum(reserved.values())
    others = quota - limit["UnreservedConcurrentExecutions"] - held
    wanted = others + needed + UNRESERVED_MINIMUM if needed else 0
    if quota >= wanted:
        return []
    parts = ", ".join(f"{name} {n}" for name, n in sorted(reserved.items()))
    return [
        f"Lambda concurrency: the stack reserves {needed} ({parts}), other functions {others}; "
        f"the quota is {quota}, {min(UNRESERVED_MINIMUM, quota)} of it kept unreserved.",
        f"  Raise it to {wanted} (aws service-quotas request-service-quota-increase --service-code "
        f"lambda --quota-code L-B99A9384 --desired-value {wanted}), lower the reservations or "
        'deploy with ConcurrencyReservations=None (docs/deploy.md, "Lambda concurrency").',
    ]


def settings(config_env: str, database: bool = False) -> dict[str, Any]:
    """The environment's ``sam deploy`` settings in ``samconfig.toml`` (or the database's)."""
    path = ROOT / ("samconfig-database.toml" if database else "samconfig.toml")
    if config_env not in (environments := tomllib.loads(path.read_text())):
        raise DeployError(f"{path.name} has no environment {config_env!r}")
    return dict(environments[config_env]["deploy"]["parameters"])


def session() -> Any:
    """AWS in the deploy's region: ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the AWS
    profile's, as the AWS SDKs read them; botocore, like SAM CLI, ignores ``AWS_REGION``."""
    return boto3.Session(region_name=os.environ.get("AWS_REGION") or None)


def overrides(config_env: str, given: Sequence[str] = ()) -> dict[str, str]:
    """The environment's ``parameter_overrides``, then ``given``, as ``sam deploy`` reads them."""
    text = settings(config_env).get("parameter_overrides", "")
    return {k: v.strip('"') for k, v in parameter_overrides([text, *given]).items()}


def described(session: Any, name: str) -> dict[str, Any]:
    """Stack ``name`` as CloudFormation describes it ({} when there is none)."""
    try:
        return dict(session.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0])
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        return {}


def quotas(session: Any, path: Path, given: Mapping[str, str]) -> list[str]:
    """The account's shortfalls for what a first deploy of the template at ``path`` makes (an
    update's resources count already)."""
    wanted = made(path, given)
    return shortfalls(wanted, in_account(session, wanted))


def check(session: Any, config_env: str, given: Sequence[str] = ()) -> list[str]:
    """The account's shortfalls for the environment's deploy (none: it fits), the deployed
    stack's own reservations (under its parameters) counted as free to take again."""
    template = parsed(ROOT / "template.yaml")
    limit = session.client("lambda").get_account_settings()["AccountLimit"]
    deployed = described(session, settings(config_env)["stack_name"])
    kept = {p["ParameterKey"]: p["ParameterValue"] for p in deployed.get("Parameters", [])}
    held = sum(reservations(template, kept).values()) if deployed else 0
    parameters = overrides(config_env, given)
    lines = verdict(limit, reservations(template, parameters), held)
    return lines + ([] if deployed else quotas(session, ROOT / "template.yaml", parameters))


def check_database(session: Any, config_env: str) -> list[str]:
    """The account's shortfalls for the environment's database stack (none once it exists)."""
    deployed = described(session, settings(config_env, database=True)["stack_name"])
    return [] if deployed else quotas(session, ROOT / "database.yaml", {})


def parameters(session: Any, config_env: str, producer: str | None) -> dict[str, str]:
    """The database stack's outputs, the environment's overrides, the producer's role."""
    database = described(session, name := settings(config_env, database=True)["stack_name"])
    status = database.get("StackStatus", "absent: run `make deploy-database` first")
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"):
        raise DeployError(f"the database stack {name} is {status}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in database.get("Outputs", [])}
    found = {**outputs, **overrides(config_env)} | ({PRODUCER: producer} if producer else {})
    if PRODUCER not in found:
        raise DeployError(f"no {PRODUCER}: give SYNC_PRODUCER_ROLE_ARN=<the pipeline's role>")
    return found


def stack_outputs(session: Any, config_env: str) -> dict[str, str]:
    """The outputs of the environment's deployed API stack."""
    name = settings(config_env)["stack_name"]
    if not (found := described(session, name)):
        raise DeployError(f"no stack {name}: `make deploy CONFIG_ENV={config_env}` makes it")
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m welldev.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("preflight", "preflight-database", "overrides"))
    parser.add_argument("config_env", metavar="ENV", help="an environment of samconfig.toml")
    parser.add_argument("rest", nargs="*", metavar="ARG", help="Name=value ..., or ROLE")
    args = parser.parse_args(argv)
    try:
        if args.action == "overrides":
            found = parameters(session(), args.config_env, args.rest[0] if args.rest else None)
            print(" ".join(f"{k}={v}" for k, v in found.items()))
            return 0
        if args.action == "preflight-database":
            lines = check_database(session(), args.config_env)
        else:
            lines = check(session(), args.config_env, args.rest)
    except (BotoCoreError, ClientError, DeployError, SamFlagError) as error:
        print(f"{args.action}: {error}", file=sys.stderr)
        return 2 if isinstance(error, BotoCoreError | ClientError) else 1
    print("\n".join(lines) or f"{args.action}: the deploy fits the account", file=sys.stderr)
    return 1 if any(not line.startswith(WARNING) for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
