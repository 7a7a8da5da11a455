"""``wellapi invoke``: one function of the template on one event, as ``sam local invoke`` runs it.

It reads the database as it is: it migrates a database behind the head, and never seeds (the
events of ``events/`` name the demo's rows: ``wellapi seed`` or ``make run`` inserts them).
"""

from __future__ import annotations

import argparse
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pg8000.native

from welldev import claims
from welldev import template as sam_template
from welldev.commands.local_database import admin_connection
from welldev.function_roles import connect_functions_as, role_of
from welldev.invoke import invoke
from welldev.lambda_runtime import HandlerImportError, LambdaRuntime
from welldev.queue_messages import with_recent_times


class DemoMissing(LookupError):
    """The event's claims name a person the database does not have."""


USAGE_ERRORS = (sam_template.TemplateError, HandlerImportError, DemoMissing)


def main(args: argparse.Namespace) -> int:
    template = sam_template.load(args.template)
    function = template.function(args.function)
    if args.event != "-" and not Path(args.event).is_file():
        raise FileNotFoundError(f"event file {args.event} not found")
    with admin_connection(roles=True) as (db, admin):
        connect_functions_as(db, role_of(template, function))

        def signed(event: Any) -> Any:
            # The examples' sync messages have fixed times; move old ones within reach.
            recent, _ = with_recent_times(event, datetime.now(UTC))
            return _signed(admin, recent)

        try:
            invoke(args.function, args.event, runtime=LambdaRuntime(template), prepare=signed)
        except DemoMissing:
            raise
        except Exception:
            traceback.print_exc()  # the error payload is on stdout, the traceback here
            return 1
    return 0


def _signed(admin: pg8000.native.Connection, event: Any) -> Any:
    """As the authorizer would have: the events' claims carry no token (tokens expire)."""
    try:
        return claims.sign_event(admin, event)
    except LookupError as error:
        raise DemoMissing(
            f"{error}: the event's claims name the demo's rows, which this database does not "
            "have; `wellapi seed` (or `make run`) inserts them"
        ) from error
