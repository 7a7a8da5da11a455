"""``wellapi invoke``: one function of the template on one event, as ``sam local invoke`` runs
it, with its flags; ``wellapi event``: a function's event signed now, for ``sam local invoke -e
-``. Both migrate a database behind the head and never seed (``events/`` names the demo's rows).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pg8000.native

from wellapi.store import connections as wellapi_db
from welldev import claims, event_kinds, sam_local
from welldev import stack as local_stack
from welldev.commands import local_database
from welldev.commands.local_database import admin_connection
from welldev.function_roles import connect_functions_as, role_of
from welldev.lambda_runtime import (
    HandlerImportError,
    LambdaRuntime,
    apply_template_environment,
    error_payload,
)
from welldev.queue_messages import with_recent_times


class DemoMissing(LookupError):
    """The event's claims name a person the database does not have."""


class UsageMistake(ValueError):
    """What to invoke is not said, or said twice, or the event is not JSON."""


USAGE_ERRORS = (
    local_stack.StackError,
    HandlerImportError,
    DemoMissing,
    UsageMistake,
    event_kinds.WrongEventKind,
    sam_local.SamFlagError,
    *local_database.USAGE_ERRORS,
)


def main(args: argparse.Namespace) -> int:
    template = _template(args)
    function = _function(args, template)
    source = _event_source(args)
    event = {} if source is None else read_event(source)  # no event: {}, as SAM sends
    event_kinds.check(template, function.logical_id, event)
    env_vars = {} if args.env_vars is None else sam_local.read_env_vars(args.env_vars)
    with admin_connection(roles=True) as (db, admin):
        connect_functions_as(db, role_of(template, function))
        runtime = LambdaRuntime(template)
        # The --env-vars values win over the local ones, as over the template's in SAM.
        overrides = sam_local.env_var_overrides(env_vars, function)
        os.environ.update({k: sam_local.seen_from_the_host(v) for k, v in overrides.items()})
        wellapi_db.reset_pools()
        result_out = sys.stdout
        try:
            # As `sam local invoke`: the function's log lines on stderr, its result alone on
            # stdout, so that `| jq` reads it.
            with contextlib.redirect_stdout(sys.stderr):
                invoke_event(
                    function.logical_id, _prepared(admin, event), runtime=runtime, out=result_out
                )
        except DemoMissing:
            raise
        except Exception:
            traceback.print_exc()  # the error payload is on stdout, the traceback here
            return 1
    return 0


def read_event(event_file: str | Path) -> Any:
    """The event from a JSON file, or from standard input when the file is ``-``."""
    text = sys.stdin.read() if str(event_file) == "-" else Path(event_file).read_text("utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageMistake(f"{event_file}: not a JSON event: {error}") from error


def invoke_event(
    function_logical_id: str, event: Any, *, runtime: LambdaRuntime, out: TextIO | None = None
) -> Any:
    """The template's variables set where nothing set them, the function run on ``event``, its
    result (or Lambda's error payload, then the error) printed as JSON."""
    out = out or sys.stdout
    apply_template_environment(runtime.template, [runtime.template.function(function_logical_id)])
    try:
        result = runtime.invoke(function_logical_id, event)
    except Exception as error:
        print(json.dumps(error_payload(error), indent=2), file=out)
        raise
    print(json.dumps(result, indent=2), file=out)
    return result


def event(args: argparse.Namespace) -> int:
    """Print the event, prepared as ``main`` prepares it, for ``sam local invoke -e -``."""
    template = _template(args)
    function_id = _function(args, template).logical_id
    if (source := args.event or event_kinds.first_event(function_id)) is None:
        raise UsageMistake(f"events/index.json lists no event of {function_id}: give one with -e")
    found = read_event(source)
    event_kinds.check(template, function_id, found)
    if event_kinds.kind_of(found) == event_kinds.API:
        with admin_connection() as (_, admin):
            found = _prepared(admin, found)
    else:
        found = _prepared(None, found)
    print(json.dumps(found, indent=2))
    return 0


def _template(args: argparse.Namespace) -> local_stack.Stack:
    overrides = sam_local.parameter_overrides(args.parameter_overrides)
    local_stack.check_template(args.template)
    return local_stack.load(overrides)


def _function(args: argparse.Namespace, template: local_stack.Stack) -> local_stack.Function:
    if not args.function:
        raise UsageMistake(f"name the function: {', '.join(sorted(template.functions))}")
    return template.function(args.function)  # an unknown one is named, with the known ones


def _event_source(args: argparse.Namespace) -> str | None:
    if args.event is not None and args.event_file is not None:
        raise UsageMistake(f"two events: -e {args.event} and {args.event_file}; give one")
    source = args.event if args.event is not None else args.event_file
    if source is not None and source != "-" and not Path(source).is_file():
        raise FileNotFoundError(f"event file {source} not found")
    return None if source is None else str(source)


def _prepared(admin: pg8000.native.Connection | None, event: Any) -> Any:
    """The event as AWS would send it now: the examples' sync messages (fixed times) moved within
    the writer's reach, API claims given a scope token signed now, as the authorizer would."""
    recent, _ = with_recent_times(event, datetime.now(UTC))
    if admin is None:
        return recent
    try:
        return claims.sign_event(admin, recent)
    except LookupError as error:
        raise DemoMissing(
            f"{error}: the event's claims name the demo's rows, which this database does not "
            "have; `wellapi seed` (or `make run`) inserts them"
        ) from error
