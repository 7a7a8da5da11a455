"""The ``wellapi`` command: the whole stack on one machine, without AWS and without Docker.

The database is ``DATABASE_URL`` (an administrative connection) when set, else ``well`` on an
embedded PostgreSQL in ``.local/pg``, created when missing and migrated when behind the head,
so each command works from a fresh clone. Functions connect as their own role (``well_api``...).
"""

# Only argparse and the standard library here: ``--help`` answers at once, and each command's
# module (``COMMANDS``) is imported when that command runs, with what it alone needs.

from __future__ import annotations

import argparse
import importlib
import ipaddress
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from welldev.commands.options import (
    CORS_ORIGINS_VARIABLE,
    CORS_PARAMETER,
    DB_LISTEN_VARIABLE,
    DB_PORT_VARIABLE,
    DEFAULT_DB_LISTEN,
    DEFAULT_DB_PORT,
    archive_parser,
    operator_parser,
)

# The module of each command, and its function when the module holds several.
COMMANDS = {
    "run": "welldev.commands.run:main",
    "invoke": "welldev.commands.invoke:main",
    "event": "welldev.commands.invoke:event",
    "migrate": "welldev.commands.local_database:migrate",
    "seed": "welldev.commands.seed:main",
    "keys": "welldev.commands.keys:listing",
    "operator": "welldev.commands.operator:main",
    "enqueue": "welldev.commands.aws:enqueue",
    "queue": "welldev.commands.aws:queue",
    "events": "welldev.commands.aws:events",
    "archive": "welldev.commands.archive:main",
}
# The commands that end with the time they took (their own measure, from here to the end).
TIMED = frozenset({"invoke", "keys", "operator", "enqueue"})
# What a command's module may raise for a mistake of its user: printed in a line, exit 2.
USAGE_ERRORS = "USAGE_ERRORS"


def script() -> int:
    """The ``wellapi`` console script: ``main``, with the bytecode of what it imports kept."""
    _keep_bytecode()
    return main()


def _keep_bytecode() -> None:
    # With PYTHONDONTWRITEBYTECODE (common, to keep __pycache__ out of the sources) each command
    # compiled its few hundred modules again (1 to 2 s): their bytecode is kept under the
    # virtualenv, as the Makefile does; outside a virtualenv, Python's own settings stand.
    if sys.prefix != sys.base_prefix and sys.pycache_prefix is None:
        sys.pycache_prefix = str(Path(sys.prefix) / "pycache")
        sys.dont_write_bytecode = False


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parser().parse_args(argv)
    module_name, _, function_name = COMMANDS[args.command].partition(":")
    module = importlib.import_module(module_name)
    usage_errors: tuple[type[BaseException], ...] = (OSError, *getattr(module, USAGE_ERRORS, ()))
    try:
        with _environment_restored():
            code = int(getattr(module, function_name)(args))
    except KeyboardInterrupt:
        return 130
    except usage_errors as error:
        print(f"wellapi: {error}", file=sys.stderr)
        return 2
    if args.command in TIMED:
        print(f"==> done in {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)
    return code


@contextmanager
def _environment_restored() -> Iterator[None]:
    """A command points DATABASE_URL (its own input) at a function role: undone afterwards, for
    a process that runs ``main`` again (tests, scripts)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        # The functions' pools exist only if the command imported them: drop them with the URLs.
        if (pools := sys.modules.get("wellapi.store.connections")) is not None:
            pools.reset_pools()


def _whole(maximum: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) > maximum:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}")
        return int(text)

    return parse


def _listen_addresses(text: str) -> str:
    """IP addresses of this machine, comma-separated; never one that means every interface."""
    addresses = [part.strip() for part in text.split(",")]
    for address in addresses:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an IP address: {address!r}") from None
        if parsed.is_unspecified:
            raise argparse.ArgumentTypeError(
                f"{address} listens on every interface, other machines' included: name this "
                "machine's own addresses (127.0.0.1, the Docker bridge's)"
            )
    return ",".join(addresses)


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return seconds


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-t", "--template", "--template-file", type=Path, default=Path("template.yaml")
    )
    # What `wellapi invoke` and `wellapi event` share with `sam local invoke`.
    sam_invoke = argparse.ArgumentParser(add_help=False)
    sam_invoke.add_argument("function", nargs="?", metavar="LogicalId")
    sam_invoke.add_argument(
        "-e", "--event", metavar="PATH", help="JSON file of the event, - for standard input"
    )
    sam_invoke.add_argument(
        "--parameter-overrides",
        action="append",
        default=[],
        metavar="OVERRIDES",
        help="template parameters, as SAM takes them: 'Key=Value Key2=Value2' or "
        "'ParameterKey=Key,ParameterValue=Value ...'",
    )
    parser = argparse.ArgumentParser(prog="wellapi", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    run = commands.add_parser("run", parents=[common], help="serve every HttpApi route")
    run.add_argument("--port", type=int, help="default: $PORT, else 3000")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument(
        "--db-port",
        type=_whole(65535, "a TCP port (0 to 65535)"),
        default=os.environ.get(DB_PORT_VARIABLE) or str(DEFAULT_DB_PORT),
        metavar="PORT",
        help=f"the TCP port the embedded database listens on for `sam local`'s containers, "
        f"every login with a password (default: ${DB_PORT_VARIABLE}, else {DEFAULT_DB_PORT}, "
        "else a free one; 0: a free one)",
    )
    run.add_argument(
        "--db-listen",
        type=_listen_addresses,
        default=os.environ.get(DB_LISTEN_VARIABLE) or DEFAULT_DB_LISTEN,
        metavar="ADDRESSES",
        help=f"the addresses of this machine it listens on, comma-separated (default: "
        f"${DB_LISTEN_VARIABLE}, else {DEFAULT_DB_LISTEN}; on Linux, add the Docker bridge's "
        "own address, e.g. 127.0.0.1,172.17.0.1)",
    )
    run.add_argument(
        "--visibility-timeout",
        type=_whole(43200, "a whole number of seconds up to 43200"),
        metavar="SECONDS",
        help="of the local queues, in whole seconds, instead of the template's (printed)",
    )
    run.add_argument(
        "--schedule-period",
        type=_positive_seconds,
        metavar="SECONDS",
        help="how often each Schedule event invokes its function, instead of its rate (printed)",
    )
    run.add_argument(
        "--cors-origins",
        default=os.environ.get(CORS_ORIGINS_VARIABLE),
        metavar="ORIGINS",
        help=(
            f"browser origins allowed by CORS, comma-separated (e.g. http://localhost:5173): the "
            f"template's {CORS_PARAMETER} parameter, as in a deploy (default: "
            f"${CORS_ORIGINS_VARIABLE}, else the parameter's default)"
        ),
    )

    call = commands.add_parser(
        "invoke",
        parents=[common, sam_invoke],
        help="run one function on one event, as `sam local invoke` does",
        description="Run one function of the template on one event in this process, with the "
        "flags of `sam local invoke`; the event must be of the kind the function is invoked "
        "with (an API request for a route's function, an SQS batch for the sync function...). "
        "Without -e, the event is {}, as SAM's.",
    )
    call.add_argument(
        "event_file", nargs="?", metavar="event-file", help="the event file, as -e gives it"
    )
    call.add_argument(
        "-n",
        "--env-vars",
        type=Path,
        metavar="PATH",
        help="JSON file of environment variables, as `sam local invoke --env-vars` reads it "
        '({"Parameters": {...}, "<LogicalId>": {...}}; only variables the template declares '
        "for the function; host.docker.internal, the host as a container sees it, is 127.0.0.1 "
        "here)",
    )

    commands.add_parser(
        "event",
        parents=[common, sam_invoke],
        help="print a function's event, signed now: pipe it to `sam local invoke <LogicalId> -e - "
        "--env-vars .local/sam-env.json`",
        description="Print one event of a function, ready to invoke: its claims' scope token "
        "signed now (it expires in ten minutes), its sync messages' times moved within reach. "
        "Without -e, the function's first event in events/index.json.",
    )

    commands.add_parser("migrate", help="upgrade the local database to head")
    demo = commands.add_parser("seed", help="insert the demo data, write .local/demo.json")
    demo.add_argument(
        "--url",
        help="the server's URL to record in .local/demo.json (default: $PORT, else the one "
        "recorded there, else http://127.0.0.1:3000)",
    )
    demo.add_argument(
        "--reset",
        action="store_true",
        help="put the demo back as seeded (deleted or changed demo rows restored, rows added "
        "to the demo removed, the demo keys kept or renewed), while `wellapi run` serves or "
        "not; only the embedded database, or a DATABASE_URL one that holds the demo",
    )

    commands.add_parser(
        "keys", help="list every API key (never a secret); `wellapi operator` issues and revokes"
    )
    operator_parser(commands)
    archive_parser(commands)

    enqueue = commands.add_parser(
        "enqueue", help="send messages to a local queue of the running server"
    )
    enqueue.add_argument(
        "file",
        help="an SQS event (each record's body is sent) or a bare message body; - for stdin",
    )
    enqueue.add_argument("--queue", default="sync", help="local queue name (default: sync)")
    enqueue.add_argument(
        "--as-written",
        action="store_true",
        help="send the messages' occurred_at unchanged (by default, messages over 28 days old "
        "are moved forward by whole 28-day periods: the writer refuses links over 35 days old)",
    )

    shown = commands.add_parser(
        "queue", help="a local queue's counts and dead letters, of the running server"
    )
    shown.add_argument("queue", nargs="?", default="sync", help="local queue name (default: sync)")

    delivered = commands.add_parser(
        "events", help="the events the rule on the running server's bus delivered"
    )
    delivered.add_argument(
        "--last", type=int, default=100, metavar="N", help="show the last N (default 100; 0: all)"
    )
    return parser
