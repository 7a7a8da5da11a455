"""The ``wellapi`` command: the whole stack on one machine, without AWS and without Docker.

    wellapi run [--port P] [--host H]    database, migrations, demo data, then every HttpApi route
    wellapi invoke <LogicalId> <event>   one function on one event file, like ``sam local invoke``
    wellapi migrate                      ``alembic upgrade head`` on the local database
    wellapi seed                         the demo data, and ``.local/demo.json``

The database is ``DATABASE_URL`` (an administrative connection) when it is set, otherwise an
embedded PostgreSQL in ``.local/pg``; every command works in a database named ``well`` on that
server, created when missing and migrated to head, so each one works from a fresh clone.
Functions then connect as their own role (``well_api``...), never as the administrator.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from wellapi import db as wellapi_db
from wellapi.local import database, seed
from wellapi.local import template as sam_template
from wellapi.local.gateway import Gateway, LocalRoute
from wellapi.local.invoke import invoke
from wellapi.local.lambda_runtime import (
    EnvironmentReport,
    HandlerImportError,
    LambdaRuntime,
    apply_template_environment,
)
from wellapi.local.server import LocalServer
from wellapi.roles import API_ROLE, APP_ROLES, SYNC_ROLE

LOCAL_DIR = Path(".local")
EMBEDDED_DATA_DIR = LOCAL_DIR / "pg"
DEMO_FILE = LOCAL_DIR / "demo.json"
DATABASE_NAME = "well"
DEFAULT_PORT = 3000


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _environment_restored():
            return int(args.command(args))
    except (sam_template.TemplateError, HandlerImportError, OSError) as error:
        print(f"wellapi: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


@contextmanager
def _environment_restored() -> Iterator[None]:
    """A command points DATABASE_URL (its own input) at a function role; undo it afterwards.

    Only matters when ``main`` runs more than once in a process (tests, scripts).
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)
        wellapi_db.reset_engines()


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser = argparse.ArgumentParser(prog="wellapi", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    run = commands.add_parser("run", parents=[common], help="serve every HttpApi route")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    run.add_argument("--host", default="127.0.0.1")
    run.set_defaults(command=run_command)

    call = commands.add_parser("invoke", parents=[common], help="run one function on one event")
    call.add_argument("function", metavar="LogicalId")
    call.add_argument("event", metavar="event-file", help="a JSON event file, or - for stdin")
    call.set_defaults(command=invoke_command)

    migrate = commands.add_parser("migrate", help="upgrade the local database to head")
    migrate.set_defaults(command=migrate_command)
    demo = commands.add_parser("seed", help="insert the demo data, write .local/demo.json")
    demo.set_defaults(command=seed_command)
    return parser


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    # Template and routes first: what cannot be served fails before any database work.
    template = sam_template.load(args.template)
    gateway = Gateway(template, LambdaRuntime(template), local_routes=local_routes())
    db = prepare_database()
    demo = seed_demo(db)
    connect_functions_as(db, API_ROLE)
    served = [template.function(function_id) for function_id in gateway.function_ids]
    report_environment(apply_template_environment(template, served))
    server = LocalServer(gateway, args.host, args.port)
    seed.write_demo(DEMO_FILE, demo, server.url)
    step(f"demo workspaces and keys in {DEMO_FILE}")
    for line in gateway.describe_routes():
        print(f"    {line}", file=sys.stderr)
    step(f"serving {len(gateway.route_keys)} routes on {server.url} (Ctrl-C stops)")
    if threading.current_thread() is threading.main_thread():
        # A process manager's SIGTERM stops like Ctrl-C, so the embedded database stops too.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        step("stopped")
    finally:
        server.server_close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def invoke_command(args: argparse.Namespace) -> int:
    template = sam_template.load(args.template)
    function = template.function(args.function)
    if args.event != "-" and not Path(args.event).is_file():
        raise FileNotFoundError(f"event file {args.event} not found")
    db = prepare_database()
    seed_demo(db)  # events may name the demo rows
    connect_functions_as(db, _role_of(template, function))
    try:
        invoke(args.function, args.event, runtime=LambdaRuntime(template))
    except Exception:
        traceback.print_exc()  # the error payload is on stdout, the traceback here
        return 1
    return 0


def migrate_command(args: argparse.Namespace) -> int:
    prepare_database()
    step("at head")
    return 0


def seed_command(args: argparse.Namespace) -> int:
    demo = seed_demo(prepare_database())
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    seed.write_demo(DEMO_FILE, demo, f"http://127.0.0.1:{port}")
    step(f"demo workspaces and keys in {DEMO_FILE}")
    return 0


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------


def prepare_database() -> database.LocalDatabase:
    """The ``well`` database on the resolved server, migrated, with the roles' local passwords."""
    url = os.environ.get("DATABASE_URL")
    if url:
        step(f"using DATABASE_URL {redact(url)}")
    else:
        step(f"starting embedded PostgreSQL in {EMBEDDED_DATA_DIR}")
    db = database.create_database(database.resolve(EMBEDDED_DATA_DIR), DATABASE_NAME)
    step(f"migrating {redact(db.admin_url)}")
    database.migrate_to_head(db)
    database.ensure_roles(db)
    return db


def seed_demo(db: database.LocalDatabase) -> seed.Demo:
    step("seeding demo data")
    conn = database.admin_connection(db.admin_url)
    try:
        return seed.seed(conn, demo_keys())
    finally:
        conn.close()


def demo_keys() -> seed.DemoKeys:
    """Where the demo's API keys come from (none until API keys exist)."""
    return seed.NoKeys()


def local_routes() -> list[LocalRoute]:
    """Routes only the local server has (the OpenAPI document, its viewer...)."""
    return []


def connect_functions_as(db: database.LocalDatabase, role: str | None) -> None:
    """Point the functions of this process at the local database, as ``role`` (None: admin).

    The sync writer, which may share the process, gets its own role's URL. Set before the
    template's environment is applied, so these win over ``DB_AUTH=iam``.
    """
    os.environ["DATABASE_URL"] = db.url_for(role) if role else db.admin_url
    os.environ["SYNC_DATABASE_URL"] = db.url_for(SYNC_ROLE)
    os.environ["DB_AUTH"] = "url"
    wellapi_db.reset_engines()


def _role_of(template: sam_template.Template, function: sam_template.Function) -> str | None:
    """The role a function logs in as in AWS (its ``DB_USER``): an application role, else admin.

    So ``invoke`` of the sync function writes as ``well_sync``, and the migration function,
    whose user owns the schema, runs as the local administrator.
    """
    if "DB_USER" not in function.environment:
        return API_ROLE  # what Settings assumes when DB_USER is not set
    user = sam_template.resolve_environment(template, function).values.get("DB_USER")
    return user if user in APP_ROLES else None


def report_environment(report: EnvironmentReport) -> None:
    if report.applied:
        step(f"template environment: {', '.join(report.applied)}")
    if report.kept:
        step(f"kept the local values of: {', '.join(report.kept)}")
    if report.unresolved:
        step(f"left unset (they need deployed resources): {', '.join(report.unresolved)}")
    for conflict in report.conflicts:
        step(f"warning: functions disagree on {conflict}; one process holds one value")


def step(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def redact(url: str) -> str:
    """The URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)
