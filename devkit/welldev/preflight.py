"""``make preflight``: what the account must grant before ``sam deploy`` of an environment, read
from the account, with what to raise when it falls short (docs/deploy.md, "Lambda concurrency").

Lambda grants a function's reserved concurrency only while the account keeps its unreserved
minimum (100, or the whole quota when that is smaller: a new account's can be 10), and refuses
the whole deploy otherwise. The check adds up the reservations ``template.yaml`` makes with the
environment's parameters (``samconfig.toml``, then ``--parameter-overrides``), counts back what
the environment's stack already reserves, and compares them with
``lambda:GetAccountSettings``. It also counts the account's EventBridge event buses when the
stack would make one.

Exit 0 when the deploy fits, 1 when it does not (each shortfall and its remedy printed), 2 when
the account cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Lambda keeps this much of the account's concurrency unreserved, or all of it when the quota is
# smaller (docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
UNRESERVED_MINIMUM = 100
CONCURRENCY_QUOTA_CODE = "L-B99A9384"  # Lambda "Concurrent executions", in Service Quotas
# EventBridge's default quota of event buses per account and region.
EVENT_BUSES_DEFAULT_QUOTA = 100


@dataclass(frozen=True)
class Concurrency:
    """The account's Lambda concurrency (``GetAccountSettings``'s ``AccountLimit``)."""

    quota: int  # ConcurrentExecutions
    unreserved: int  # UnreservedConcurrentExecutions


def parameter_values(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, str]:
    """Every parameter of ``template``: its declared default, else the value given."""
    declared = template.get("Parameters", {})
    return {name: str(p.get("Default", "")) for name, p in declared.items()} | dict(parameters)


def template_reservations(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, int]:
    """Each function's reserved concurrency in ``template`` under the parameter ``values``, by
    logical id; a function without one is left out."""
    reserved = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        value = resource.get("Properties", {}).get("ReservedConcurrentExecutions")
        resolved = _resolve(value, values, template.get("Conditions", {}))
        if resolved is not None:
            reserved[logical_id] = int(resolved)
    return reserved


def _condition(body: Any, values: Mapping[str, str]) -> bool:
    """A condition of the forms the template uses: ``Fn::Equals`` of a parameter and a string,
    ``Fn::Not`` of one."""
    ((function, arguments),) = body.items()
    if function == "Fn::Not":
        return not _condition(arguments[0], values)
    if function == "Fn::Equals":
        left, right = (_resolve(a, values, {}) for a in arguments)
        return str(left) == str(right)
    raise ValueError(f"a condition preflight cannot evaluate: {function}")


def _resolve(value: Any, values: Mapping[str, str], conditions: Mapping[str, Any]) -> Any:
    """``value`` with its ``Ref`` and ``Fn::If`` resolved (``None`` for ``AWS::NoValue``)."""
    if isinstance(value, dict) and "Ref" in value:
        return None if value["Ref"] == "AWS::NoValue" else values[value["Ref"]]
    if isinstance(value, dict) and "Fn::If" in value:
        name, then, otherwise = value["Fn::If"]
        chosen = then if _condition(conditions[name], values) else otherwise
        return _resolve(chosen, values, conditions)
    return value


def required_quota(account: Concurrency, needed: int, held: int) -> int:
    """The smallest concurrency quota under which the stack may reserve ``needed``, ``held`` of
    which its functions reserve already: what the account's other functions reserve, plus
    ``needed``, plus the unreserved minimum (0 when it reserves nothing)."""
    if needed == 0:
        return 0
    others = account.quota - account.unreserved - held
    return others + needed + UNRESERVED_MINIMUM


def concurrency_verdict(account: Concurrency, reserved: Mapping[str, int], held: int) -> list[str]:
    """The lines that say why the deploy's reservations do not fit, and what to do (none: they
    fit)."""
    needed = sum(reserved.values())
    wanted = required_quota(account, needed, held)
    if account.quota >= wanted:
        return []
    parts = ", ".join(f"{name} {n}" for name, n in sorted(reserved.items()))
    return [
        f"Lambda concurrency: the stack reserves {needed} ({parts}); the account's quota is "
        f"{account.quota}, of which {account.quota - account.unreserved - held} other functions "
        f"reserve and Lambda keeps {min(UNRESERVED_MINIMUM, account.quota)} unreserved.",
        f"  Raise the quota (Service Quotas, AWS Lambda, Concurrent executions) to at least "
        f"{wanted}: aws service-quotas request-service-quota-increase --service-code lambda "
        f"--quota-code {CONCURRENCY_QUOTA_CODE} --desired-value {wanted}",
        "  or lower AuthorizerReservedConcurrency and SyncReservedConcurrency, or deploy with "
        'ConcurrencyReservations=None (docs/deploy.md, "Lambda concurrency", says what each '
        "costs).",
    ]


def event_bus_verdict(buses: int, makes_one: bool) -> list[str]:
    """Whether the account has room for the event bus the stack makes (none: it does)."""
    if not makes_one or buses < EVENT_BUSES_DEFAULT_QUOTA:
        return []
    return [
        f"EventBridge: the account has {buses} event buses, EventBridge's default quota is "
        f"{EVENT_BUSES_DEFAULT_QUOTA}, and the stack makes one more (ChangeEventBusName is empty).",
        "  Name an existing bus in ChangeEventBusName, or raise the quota (Service Quotas, "
        "Amazon EventBridge, Event buses) if it has not been raised already.",
    ]


def environment_parameters(config_env: str, overrides: Sequence[str]) -> dict[str, str]:
    """The environment's parameter overrides in ``samconfig.toml``, then ``overrides``
    (``Name=value``, as ``sam deploy --parameter-overrides`` takes them)."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    if config_env not in config:
        raise SystemExit(f"preflight: samconfig.toml has no environment {config_env!r}")
    deploy = config[config_env].get("deploy", {}).get("parameters", {})
    text = deploy.get("parameter_overrides", "")
    parameters = dict(re.findall(r'(\w+)="([^"]*)"', text))
    for override in overrides:
        name, _, value = override.partition("=")
        parameters[name] = value.strip('"')
    return parameters


def stack_name(config_env: str) -> str:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    return str(config[config_env]["deploy"]["parameters"]["stack_name"])


def held_by_stack(session: Any, name: str) -> int:
    """What the functions of stack ``name`` reserve now (0 before its first deploy)."""
    from botocore.exceptions import ClientError

    cloudformation, lambda_ = session.client("cloudformation"), session.client("lambda")
    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=name)
        functions = [
            r["PhysicalResourceId"]
            for page in pages
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::Lambda::Function" and r.get("PhysicalResourceId")
        ]
    except ClientError as error:
        if "does not exist" in str(error):
            return 0
        raise
    held = 0
    for function in functions:
        answer = lambda_.get_function_concurrency(FunctionName=function)
        held += int(answer.get("ReservedConcurrentExecutions", 0))
    return held


def account_concurrency(session: Any) -> Concurrency:
    limit = session.client("lambda").get_account_settings()["AccountLimit"]
    return Concurrency(
        int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])
    )


def event_buses(session: Any) -> int:
    events = session.client("events")
    count, token = 0, None
    while True:
        page = events.list_event_buses(**({"NextToken": token} if token else {}))
        count += len(page["EventBuses"])
        token = page.get("NextToken")
        if not token:
            return count


def check(session: Any, config_env: str, overrides: Sequence[str]) -> list[str]:
    """Every shortfall of the account for the environment's deploy (none: it fits)."""
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((ROOT / "template.yaml").read_text())
    values = parameter_values(template, environment_parameters(config_env, overrides))
    reserved = template_reservations(template, values)
    held = held_by_stack(session, stack_name(config_env))
    lines = concurrency_verdict(account_concurrency(session), reserved, held)
    makes_bus = _condition(template["Conditions"]["CreateChangeEventBus"], values)
    return lines + event_bus_verdict(event_buses(session), makes_bus)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-env", default="default", help="samconfig.toml's environment")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--region", help="the deploy's region (else the shell's)")
    args = parser.parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        lines = check(
            boto3.Session(region_name=args.region), args.config_env, args.parameter_overrides
        )
    except (BotoCoreError, ClientError) as error:
        print(f"preflight: the account could not be read: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    if not lines:
        print(f"preflight: {stack_name(args.config_env)} fits the account")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
