"""The ``wellapi`` command: the whole stack on one machine, without AWS and without Docker.

    wellapi run [--port P] [--host H]    database, migrations, demo data and keys, then every
          [--cors-origins ORIGINS]       HttpApi route, the documentation and the local queues
    wellapi invoke <LogicalId> <event>   one function on one event file, like ``sam local invoke``
    wellapi migrate                      ``alembic upgrade head`` on the local database
    wellapi seed                         the demo data and keys, and ``.local/demo.json``
    wellapi keys create|list|revoke      manage API keys
    wellapi enqueue <file>               send messages to a queue of the running ``wellapi run``

The database is ``DATABASE_URL`` (an administrative connection) when it is set, otherwise an
embedded PostgreSQL in ``.local/pg``; every command works in a database named ``well`` on that
server, created when missing and migrated to head, so each one works from a fresh clone.
Functions then connect as their own role (``well_api``...), never as the administrator.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import threading
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pg8000.native
from sqlalchemy.engine import make_url

from wellapi import db as wellapi_db
from wellapi import keys
from wellapi.roles import API_ROLE, APP_ROLES, AUTH_ROLE, SYNC_ROLE
from welldev import claims, database, docs, queues, seed
from welldev import template as sam_template
from welldev.gateway import Gateway, LocalRoute
from welldev.invoke import invoke
from welldev.lambda_runtime import (
    EnvironmentReport,
    HandlerImportError,
    LambdaRuntime,
    apply_template_environment,
)
from welldev.server import LocalServer

LOCAL_DIR = Path(".local")
EMBEDDED_DATA_DIR = LOCAL_DIR / "pg"
DEMO_FILE = LOCAL_DIR / "demo.json"
DEFAULT_PORT = 3000
# Connections per role for the functions ``wellapi run`` serves: one process serves concurrent
# requests on many threads, where a Lambda environment serves one at a time (pool of one).
LOCAL_DB_POOL_SIZE = 8
QUEUES_PATH = "/_local/queues"
# The template parameter of the HTTP API's allowed origins, and its local override.
CORS_PARAMETER = "CorsOrigins"
CORS_ORIGINS_VARIABLE = "WELLAPI_CORS_ORIGINS"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _environment_restored():
            return int(args.command(args))
    except (sam_template.TemplateError, HandlerImportError, OSError, queues.NotAMessage) as error:
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
        wellapi_db.reset_pools()


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser = argparse.ArgumentParser(prog="wellapi", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    run = commands.add_parser("run", parents=[common], help="serve every HttpApi route")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument(
        "--visibility-timeout",
        type=float,
        default=queues.DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="of the local queues, instead of the template's (default: %(default)s)",
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
    run.set_defaults(command=run_command)

    call = commands.add_parser("invoke", parents=[common], help="run one function on one event")
    call.add_argument("function", metavar="LogicalId")
    call.add_argument("event", metavar="event-file", help="a JSON event file, or - for stdin")
    call.set_defaults(command=invoke_command)

    migrate = commands.add_parser("migrate", help="upgrade the local database to head")
    migrate.set_defaults(command=migrate_command)
    demo = commands.add_parser("seed", help="insert the demo data, write .local/demo.json")
    demo.set_defaults(command=seed_command)

    api_keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = api_keys.add_subparsers(required=True, metavar="action")
    create = key_commands.add_parser(
        "create", help="issue a key: printed once on stdout, never again"
    )
    create.add_argument("--person", type=uuid.UUID, required=True, help="person id")
    create.add_argument(
        "--workspace", type=uuid.UUID, required=True, help="the key's default workspace id"
    )
    create.add_argument("--kind", choices=("member", "service"), required=True)
    create.add_argument("--name", required=True, help="what the key is for")
    create.set_defaults(command=keys_create_command)
    listing = key_commands.add_parser("list", help="every key (never a secret)")
    listing.set_defaults(command=keys_list_command)
    revoke = key_commands.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key", metavar="id-or-prefix")
    revoke.set_defaults(command=keys_revoke_command)

    enqueue = commands.add_parser(
        "enqueue", help="send messages to a local queue of the running server"
    )
    enqueue.add_argument(
        "file",
        help="an SQS event (each record's body is sent) or a bare message body; - for stdin",
    )
    enqueue.add_argument("--queue", default="sync", help="local queue name (default: sync)")
    enqueue.add_argument(
        "--url", help="the running server (default: $PORT, else .local/demo.json's base_url)"
    )
    enqueue.set_defaults(command=enqueue_command)
    return parser


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    # Template, routes and the port first: what cannot be served fails before any database work.
    overrides = {} if args.cors_origins is None else {CORS_PARAMETER: args.cors_origins.strip()}
    template = sam_template.load(args.template, overrides)
    runtime = LambdaRuntime(template)
    mappings = queues.mappings_of(template, runtime, visibility_timeout=args.visibility_timeout)
    local_queues = {mapping.queue.name: mapping.queue for mapping in mappings}
    gateway = Gateway(template, runtime, local_routes=local_routes(local_queues))
    server = LocalServer(gateway, args.host, args.port)
    try:
        db = prepare_database()
        write_demo(db, server.url)
        connect_functions_as(db, API_ROLE)
        os.environ.setdefault("DB_POOL_SIZE", str(LOCAL_DB_POOL_SIZE))
        step(f"database pool: {os.environ['DB_POOL_SIZE']} connections per role (DB_POOL_SIZE)")
        # The SQS consumers share the API functions' environment; they log in as their own
        # role through SYNC_DATABASE_URL (connect_functions_as).
        served = [template.function(function_id) for function_id in gateway.function_ids]
        report_environment(apply_template_environment(template, served))
        for line in gateway.describe_routes():
            print(f"    {line}", file=sys.stderr)
        for mapping in mappings:
            mapping.start()
            step(describe_mapping(template, mapping))
        cors = gateway.cors_of()
        step(
            f"CORS: {', '.join(cors.allow_origins)} ({CORS_PARAMETER}; --cors-origins to change)"
            if cors is not None
            else f"CORS: none (--cors-origins or {CORS_ORIGINS_VARIABLE} to allow a browser app)"
        )
        step(f"serving {len(gateway.route_keys)} routes on {server.url} (Ctrl-C stops)")
        step(f"OpenAPI: {server.url}/v1/openapi.json, Swagger UI: {server.url}/docs")
        if threading.current_thread() is threading.main_thread():
            # A process manager's SIGTERM stops like Ctrl-C, so the embedded database stops too.
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            step("stopped")
    finally:
        for mapping in mappings:
            if not mapping.stop():
                step(f"warning: the poller of {mapping.queue.name} did not stop in time")
        server.server_close()
    return 0


def describe_mapping(template: sam_template.Template, mapping: queues.EventSourceMapping) -> str:
    queue, event = mapping.queue, mapping.event
    declared = template.queues[queue.logical_id].visibility_timeout_seconds
    limit = (
        f"to the dead-letter list after {queue.max_receive_count} receives"
        if queue.max_receive_count
        else "no dead-letter queue"
    )
    return (
        f"queue {queue.name} ({queue.logical_id}) -> {event.function_id}: batches of up to "
        f"{event.batch_size}, window {event.batching_window_seconds} s, visibility timeout "
        f"{queue.visibility_timeout:g} s (template: {declared} s), {limit}; "
        f"`wellapi enqueue <file>` sends, GET {QUEUES_PATH}/{queue.name} shows"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def invoke_command(args: argparse.Namespace) -> int:
    template = sam_template.load(args.template)
    function = template.function(args.function)
    if args.event != "-" and not Path(args.event).is_file():
        raise FileNotFoundError(f"event file {args.event} not found")
    db = prepare_database()
    seed_demo(db, seed.NoKeys())  # events may name the demo rows; the keys are run's business
    connect_functions_as(db, _role_of(template, function))
    admin = database.admin_connection(db.admin_url)
    try:
        # As the authorizer would have: the events' claims carry no token (tokens expire).
        invoke(
            args.function,
            args.event,
            runtime=LambdaRuntime(template),
            prepare=functools.partial(claims.sign_event, admin),
        )
    except Exception:
        traceback.print_exc()  # the error payload is on stdout, the traceback here
        return 1
    finally:
        admin.close()
    return 0


def migrate_command(args: argparse.Namespace) -> int:
    prepare_database()
    step("at head")
    return 0


def seed_command(args: argparse.Namespace) -> int:
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    write_demo(prepare_database(), f"http://127.0.0.1:{port}")
    return 0


def keys_create_command(args: argparse.Namespace) -> int:
    with admin_connection() as conn:
        try:
            key_id, key = keys.create_key(
                conn,
                person_id=args.person,
                workspace_id=args.workspace,
                kind=args.kind,
                name=args.name,
            )
        except LookupError as error:
            print(f"wellapi: {error}", file=sys.stderr)
            return 1
        member = args.kind == "member" and _is_active_member(conn, args.person, args.workspace)
    parsed = keys.parse_key(key)
    assert parsed is not None
    # The key alone on stdout (KEY=$(wellapi keys create ...)); it is never shown again.
    print(key, flush=True)
    print(f"api_key_id: {key_id}\nprefix:     {parsed.prefix}", file=sys.stderr)
    step("the key is printed above, once: only its prefix and hash are stored")
    if args.kind == "member" and not member:
        step("warning: the person has no active membership in that workspace; the key gets 403")
    return 0


def _is_active_member(
    conn: pg8000.native.Connection, person: uuid.UUID, workspace: uuid.UUID
) -> bool:
    rows = conn.run(
        "SELECT 1 FROM core_api.memberships m "
        "JOIN core_api.peoples p ON p.pk = m.person_pk "
        "JOIN core_api.workspaces w ON w.pk = m.workspace_pk "
        "WHERE p.person_id = CAST(:person AS uuid) AND w.workspace_id = CAST(:workspace AS uuid) "
        "AND m.status = 'active' AND m.deleted_at IS NULL",
        person=str(person),
        workspace=str(workspace),
    )
    return bool(rows)


KEY_COLUMNS = (
    "id",
    "name",
    "prefix",
    "kind",
    "person",
    "workspace",
    "created",
    "last used",
    "revoked",
)


def keys_list_command(args: argparse.Namespace) -> int:
    with admin_connection() as conn:
        records = keys.list_keys(conn)
    rows = [
        (
            str(r.api_key_id),
            r.name,
            r.prefix,
            r.kind,
            str(r.person_id),
            str(r.workspace_id),
            _when(r.created_at),
            _when(r.last_used_at),
            _when(r.revoked_at),
        )
        for r in records
    ]
    print_table(KEY_COLUMNS, rows)
    step(f"{len(rows)} keys, {sum(1 for r in records if r.revoked_at is None)} not revoked")
    return 0


def keys_revoke_command(args: argparse.Namespace) -> int:
    wanted = args.key.strip()
    parsed = keys.parse_key(wanted)
    if parsed is not None:  # a whole key was given: its prefix finds it (never echo the key)
        wanted = parsed.prefix
    with admin_connection() as conn:
        revoked = keys.revoke_key(conn, wanted)
    if not revoked:
        print(f"wellapi: no live API key with id or prefix {wanted}", file=sys.stderr)
        return 1
    step(f"revoked {wanted}")
    return 0


def enqueue_command(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    bodies = queues.bodies_of(text)  # refuse an empty file before sending anything
    base_url = (args.url or default_base_url()).rstrip("/")
    url = f"{base_url}{QUEUES_PATH}/{args.queue}"
    request = urllib.request.Request(  # noqa: S310 (a local http:// URL)
        url, data=text.encode("utf-8"), method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        print(f"wellapi: {url} answered {error.code}: {_message_of(error)}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(
            f"wellapi: no local server at {base_url} ({error.reason}); start it with `make run`",
            file=sys.stderr,
        )
        return 1
    for entry, body in zip(answer["enqueued"], bodies, strict=False):
        print(f"enqueued {entry['messageId']}  {queues.describe_body(body)}")
    print(
        f"queue {answer['queue']}: {answer['visible']} visible, {answer['in_flight']} in flight, "
        f"{answer['dead_lettered']} dead-lettered, {answer['processed']} processed"
        f" (GET {url})"
    )
    return 0


def _message_of(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("message"))
    except (ValueError, AttributeError):
        return error.reason


def default_base_url() -> str:
    """``$PORT`` when set, else the base URL the last ``wellapi run`` wrote, else port 3000."""
    if "PORT" in os.environ:
        return f"http://127.0.0.1:{int(os.environ['PORT'])}"
    demo = seed.read_demo(DEMO_FILE) or {}
    base_url = demo.get("base_url")
    return base_url if isinstance(base_url, str) else f"http://127.0.0.1:{DEFAULT_PORT}"


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
    for row in [tuple(columns), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------


def prepare_database() -> database.LocalDatabase:
    """The database resolved (DATABASE_URL's, or the embedded ``well``), created if missing,
    migrated, with the roles' local passwords."""
    url = os.environ.get("DATABASE_URL")
    if url:
        step(f"using DATABASE_URL {redact(url)}")
    else:
        step(f"starting embedded PostgreSQL in {EMBEDDED_DATA_DIR}")
    target = database.resolve(EMBEDDED_DATA_DIR)
    step(f"migrating {redact(target.admin_url)}")
    return database.prepare(target, target.name)


def seed_demo(db: database.LocalDatabase, keys_provider: seed.DemoKeys) -> seed.Demo:
    step("seeding demo data")
    conn = database.admin_connection(db.admin_url)
    try:
        return seed.seed(conn, keys_provider)
    finally:
        conn.close()


def write_demo(db: database.LocalDatabase, base_url: str) -> seed.Demo:
    """Seed with real keys (the previous ones while they still work), write ``.local/demo.json``."""
    provider = demo_keys()
    demo = seed_demo(db, provider)
    seed.write_demo(DEMO_FILE, demo, base_url)
    if provider.reused:
        step(f"kept the demo keys of the last run: {', '.join(provider.reused)}")
    if provider.issued:
        step(f"issued new demo keys: {', '.join(provider.issued)}")
    step(f"demo workspaces and keys in {DEMO_FILE}")
    return demo


def demo_keys() -> seed.IssuedKeys:
    """Where the demo's API keys come from: those in ``.local/demo.json`` while they work."""
    return seed.IssuedKeys(seed.read_demo(DEMO_FILE))


@contextmanager
def admin_connection() -> Iterator[pg8000.native.Connection]:
    """An administrative connection to the resolved, migrated local database."""
    conn = database.admin_connection(prepare_database().admin_url)
    try:
        yield conn
    finally:
        conn.close()


def local_routes(local_queues: Mapping[str, queues.LocalQueue]) -> list[LocalRoute]:
    """Routes only the local server has: the documentation, and the local queues (by name) if any.

    None of them is behind the authorizer.
    """
    routes = docs.doc_routes()
    if local_queues:
        handler = queues.queue_routes_handler(local_queues)
        routes += [
            LocalRoute("GET", QUEUES_PATH + "/{queue}", handler),
            LocalRoute("POST", QUEUES_PATH + "/{queue}", handler),
        ]
    return routes


def connect_functions_as(db: database.LocalDatabase, role: str | None) -> None:
    """Point the functions of this process at the local database, as ``role`` (None: admin).

    The sync writer and the authorizer, which may share the process, get their own roles' URLs.
    Set before the template's environment is applied, so these win over ``DB_AUTH=iam``.
    """
    os.environ["DATABASE_URL"] = db.url_for(role) if role else db.admin_url
    os.environ["SYNC_DATABASE_URL"] = db.url_for(SYNC_ROLE)
    os.environ["AUTH_DATABASE_URL"] = db.url_for(AUTH_ROLE)
    os.environ["DB_AUTH"] = "url"
    wellapi_db.reset_pools()


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
