"""``make preflight`` and ``make deploy`` (docs/deploy.md). ``preflight ENV [Name=value ...]``:
whether the account's Lambda quota holds what ``template.yaml`` reserves (exit 0) or what to raise
(1). ``overrides ENV [ROLE]``: the API stack's parameters, on a line. Exit 2: AWS unreadable."""

import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from welldev.sam_local import SamFlagError, parameter_overrides

ROOT = Path(__file__).resolve().parents[2]
PRODUCER = "SyncProducerRoleArn"
UNRESERVED_MINIMUM = 100  # Lambda's (or the whole quota, when it is smaller)


class DeployError(Exception):
    """What stops a deploy before ``sam deploy`` runs."""


def reservations(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, int]:
    """Each function's reserved concurrency under the parameters ``given`` (else the defaults)."""
    values = {n: str(p.get("Default", "")) for n, p in template["Parameters"].items()} | dict(given)

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "Fn::If" in v:
            ((left, right),) = template["Conditions"][v["Fn::If"][0]].values()
            return value(v["Fn::If"][1 if value(left) == value(right) else 2])
        if isinstance(v, dict):
            return None if v["Ref"] == "AWS::NoValue" else values[v["Ref"]]
        return v

    functions = [(k, r) for k, r in template["Resources"].items() if "Function" in r["Type"]]
    reserved = {k: value(r["Properties"].get("ReservedConcurrentExecutions")) for k, r in functions}
    return {k: int(v) for k, v in reserved.items() if v is not None}


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


def check(session: Any, config_env: str, given: Sequence[str] = ()) -> list[str]:
    """The account's shortfalls for the environment's deploy (none: it fits), the deployed
    stack's own reservations (under its parameters) counted as free to take again."""
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((ROOT / "template.yaml").read_text())
    limit = session.client("lambda").get_account_settings()["AccountLimit"]
    deployed = described(session, settings(config_env)["stack_name"]).get("Parameters")
    kept = {p["ParameterKey"]: p["ParameterValue"] for p in deployed or []}
    held = sum(reservations(template, kept).values()) if deployed else 0
    return verdict(limit, reservations(template, overrides(config_env, given)), held)


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


def main(argv: Sequence[str] | None = None) -> int:
    action, config_env, *rest = argv if argv is not None else sys.argv[1:]
    try:
        if action == "overrides":
            found = parameters(boto3.Session(), config_env, rest[0] if rest else None)
            print(" ".join(f"{k}={v}" for k, v in found.items()))
            return 0
        lines = check(boto3.Session(), config_env, rest)
    except (BotoCoreError, ClientError, DeployError, SamFlagError) as error:
        print(f"{action}: {error}", file=sys.stderr)
        return 2 if isinstance(error, BotoCoreError | ClientError) else 1
    print("\n".join(lines) or "preflight: the deploy fits the account", file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
