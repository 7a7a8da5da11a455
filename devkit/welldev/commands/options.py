"""What the command line and the commands both name: the template parameter and the environment
variable an option stands for, and the operator's actions. Standard library only, as the command
line imports it."""

from __future__ import annotations

import argparse
from typing import Any

CORS_PARAMETER = "CorsOrigins"
CORS_ORIGINS_VARIABLE = "WELLAPI_CORS_ORIGINS"
# The loopback port the embedded database listens on for containers (`sam local invoke`).
DB_PORT_VARIABLE = "WELLAPI_DB_PORT"
DEFAULT_DB_PORT = 55432
# The addresses it listens on: loopback by default; on Linux, add the Docker bridge's own.
DB_LISTEN_VARIABLE = "WELLAPI_DB_LISTEN"
DEFAULT_DB_LISTEN = "127.0.0.1"


# The operator's actions (wellapi.handlers.operator): each command's event action and options
# ("--flag=member", the event's member it sets; "!": required), and its help. The function
# validates the values, here and in AWS alike.
OPERATOR_ACTIONS = {
    "make-workspace": "make_workspace --name=name! --id=workspace_id",
    "add-person": "add_person --workspace=workspace_id! --name=full_name! --role=role "
    "--id=person_id",
    "add-connector": "add_workspace_connector --workspace=workspace_id! "
    "--connector=connector_name! --provider=provider! --status=status --id=workspace_connector_id",
    "issue-key": "issue_key --workspace=workspace_id! --person=person_id! --kind=kind! "
    "--name=name! --expires-in=expires_in_seconds",
    "revoke-key": "revoke_key --key=key!",
    "rotate-key": "rotate_key --key=key! --expires-in=expires_in_seconds",
}
OPERATOR_HELP = {
    "make-workspace": "make a workspace (or answer the live one --id names)",
    "add-person": "add a person (or the live one --id names) as an active member of --role",
    "add-connector": "add a workspace connector of the catalog's --connector of --provider",
    "issue-key": "issue an API key of --person for --workspace: answered once, never again",
    "revoke-key": "revoke the key --key names by its id or prefix (or itself)",
    "rotate-key": "issue a key like --key's (person, workspace, kind, name) and revoke that one",
}


def operator_options(action: str) -> list[tuple[str, str, bool]]:
    """(flag, member, required) of each option of the action."""
    options = OPERATOR_ACTIONS[action].split()[1:]
    return [(f, m, o.endswith("!")) for o in options for f, _, m in [o.rstrip("!").partition("=")]]


def operator_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``wellapi operator``'s parser, a command of ``commands``."""
    operator = commands.add_parser(
        "operator",
        help="one action of the operator function: workspaces, people, connectors, API keys",
        description="Run one action of the operator function, here on the local database as its "
        "role, or with --config-env in that environment's deployed stack (AWS credentials in "
        "the shell); its JSON answer on standard output.",
    )
    operator.add_argument(
        "--config-env",
        metavar="ENV",
        help="invoke the OperatorFunction of samconfig.toml's environment ENV in AWS",
    )
    actions = operator.add_subparsers(dest="action", required=True, metavar="action")
    for name, said in OPERATOR_HELP.items():
        action = actions.add_parser(name, help=said, description=said[0].upper() + said[1:])
        for flag, member, required in operator_options(name):
            action.add_argument(flag, dest=member, required=required, metavar=member.upper())
    return operator


def archive_parser(commands: Any) -> None:
    """The ``archive`` command and its two."""
    archive = commands.add_parser("archive", help="the ledger archive: run it, read a period back")
    steps = archive.add_subparsers(dest="step", required=True, metavar="step")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bucket", required=True, help="the archive's S3 bucket")
    common.add_argument("--root", default="ledgers/", help="its key prefix (default: ledgers/)")
    run_step = steps.add_parser(
        "run", parents=[common], help="archive the periods past the horizon, as the owner"
    )
    run_step.add_argument(
        "--retention-days",
        type=int,
        required=True,
        metavar="DAYS",
        help="archive the periods that ended at least DAYS ago (0: none)",
    )
    read_step = steps.add_parser(
        "read", parents=[common], help="print an archived period's rows, as JSON lines"
    )
    read_step.add_argument("ledger", help="e.g. account_workspace_connectors")
    read_step.add_argument("period", metavar="YYYY-MM-DD", help="the day the period starts")
