"""``wellapi operator [--config-env ENV] <action> ...``: one action of the operator function
(``wellapi.handlers.operator``), its event read from the arguments (``welldev.cli``): run here on
the local database as its role, as ``wellapi invoke`` runs a function, or invoked in the
environment's deployed stack. Its JSON answer alone on stdout (an issued key in it, once); exit 1
on an error answer."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from typing import Any

from welldev.commands import local_database
from welldev.commands.options import OPERATOR_ACTIONS, operator_options, operator_parser

FUNCTION = "OperatorFunction"
OUTPUT = "OperatorFunctionName"
ALIAS = "live"


class OperatorFailed(RuntimeError):
    """The deployed function failed (Lambda's error), or its stack is not there."""


USAGE_ERRORS = (OperatorFailed, *local_database.USAGE_ERRORS)


def event_of(args: argparse.Namespace) -> dict[str, Any]:
    """The action's event: the options given, each as its member."""
    given = {member: getattr(args, member) for _, member, _ in operator_options(args.action)}
    action = OPERATOR_ACTIONS[args.action].split()[0]
    return {"action": action, **{k: v for k, v in given.items() if v}}


def typed(command: str) -> dict[str, Any]:
    """The event of an action typed as ``wellapi operator`` takes it."""
    parser = operator_parser(argparse.ArgumentParser().add_subparsers())
    return event_of(parser.parse_args(shlex.split(command)))


def main(args: argparse.Namespace) -> int:
    event = event_of(args)
    (answer,) = deployed(args.config_env, [event]) if args.config_env else local([event])
    print(json.dumps(answer, indent=2))
    return 1 if "error" in answer else 0


def local(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The template's function run in this process as its role on each event, in turn; what it
    printed on stderr."""
    from welldev import stack as local_stack
    from welldev.function_roles import functions_connected_as, role_of
    from welldev.lambda_runtime import LambdaRuntime, apply_template_environment

    template = local_stack.load()
    function = template.function(FUNCTION)
    with (
        local_database.admin_connection(roles=True) as (db, _),
        functions_connected_as(db, role_of(template, function)),
        contextlib.redirect_stdout(sys.stderr),
    ):
        apply_template_environment(template, [function])
        runtime = LambdaRuntime(template)
        return [runtime.invoke(FUNCTION, event) for event in events]


def deployed(config_env: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The environment's deployed function invoked through its alias on each event, in turn."""
    from welldev import deploy

    session = deploy.session()
    try:
        name = deploy.stack_outputs(session, config_env)[OUTPUT]
    except (deploy.DeployError, KeyError) as error:
        raise OperatorFailed(f"no {OUTPUT} of {config_env}'s stack: {error}") from error
    client = session.client("lambda")
    return [_invoked(client, name, event) for event in events]


def _invoked(client: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    reply = client.invoke(FunctionName=name, Qualifier=ALIAS, Payload=json.dumps(event).encode())
    answer: dict[str, Any] = json.loads(reply["Payload"].read())
    if "FunctionError" in reply:
        failure = f"{answer.get('errorType')}: {answer.get('errorMessage')}"
        raise OperatorFailed(f"{name} failed: {failure}")
    return answer
