"""``wellapi run``: every HttpApi route of the template, the documentation, the queues and the
change bus on moto's server, and the schedules, on a database at head seeded with the demo."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from wellapi.roles import API_ROLE
from welldev import demo_file, docs, embedded_server, local_aws, sam_local, schedules
from welldev import stack as local_stack
from welldev.commands import local_database
from welldev.commands.local_database import EMBEDDED_DATA_DIR, admin_connection
from welldev.commands.options import CORS_ORIGINS_VARIABLE, CORS_PARAMETER
from welldev.commands.seed import write_demo
from welldev.console import step
from welldev.function_roles import connect_functions_as
from welldev.gateway import Gateway
from welldev.lambda_runtime import (
    IDLE_SECONDS_VARIABLE,
    HandlerImportError,
    IdleSecondsError,
    LambdaRuntime,
    apply_template_environment,
    idle_seconds_from_environment,
)
from welldev.server import LocalServer

USAGE_ERRORS = (
    local_stack.StackError,
    HandlerImportError,
    IdleSecondsError,
    *local_database.USAGE_ERRORS,
)
# Execution environments per function (each a process serving one request at a time, holding
# one connection per database role): how many requests to one function run at once.
LOCAL_ENVIRONMENTS = 8


def main(args: argparse.Namespace) -> int:
    # Stack, routes and the port first: what cannot be served fails before any database work.
    overrides = {} if args.cors_origins is None else {CORS_PARAMETER: args.cors_origins.strip()}
    local_stack.check_template(args.template)
    template = local_stack.load(overrides)
    idle_seconds = idle_seconds_from_environment()
    runtime = LambdaRuntime(template, processes=LOCAL_ENVIRONMENTS, idle_seconds=idle_seconds)
    period = args.schedule_period or schedules.DEFAULT_SCHEDULE_PERIOD_SECONDS
    invokers = schedules.schedules_of(template, runtime, period)
    gateway = Gateway(template, runtime, local_routes=docs.doc_routes())
    port = args.port if args.port is not None else os.environ.get("PORT", demo_file.DEFAULT_PORT)
    server = LocalServer(gateway, args.host, int(port))
    aws: local_aws.LocalAws | None = None
    mappings: list[local_aws.EventSourceMapping] = []
    try:
        aws = local_aws.LocalAws.start(template, args.visibility_timeout)
        mappings = local_aws.mappings_of(template, runtime, aws)
        # The functions' boto3 (and this process's) reach moto, never a real account.
        os.environ.update(aws.environment())
        os.environ.pop("AWS_SESSION_TOKEN", None)
        embedded = not os.environ.get("DATABASE_URL")
        tcp = (args.db_listen, args.db_port) if embedded else None
        with admin_connection(roles=True, keep_server=True, tcp=tcp) as (db, conn):
            write_demo(conn, server.url)
            listening = embedded_server.tcp_address(EMBEDDED_DATA_DIR) if embedded else None
            # Beside .local/demo.json: .local/sam-env.json.
            env_vars = demo_file.DEMO_FILE.with_name(sam_local.ENV_VARS_FILE.name)
            step(sam_local.write_for_containers(template, db, conn, listening, env_vars))
        demo_file.record_aws(aws.record())
        step(f"local AWS (moto) on {aws.endpoint_url}, recorded in {demo_file.DEMO_FILE}")
        connect_functions_as(db, API_ROLE)
        step(
            f"execution environments: up to {LOCAL_ENVIRONMENTS} per function, each a process "
            f"serving one request at a time, started on first use, stopped after {idle_seconds:g} "
            f"s idle ({IDLE_SECONDS_VARIABLE})"
        )
        # Each function logs in as its own role through its URL (connect_functions_as).
        applied = apply_template_environment(template, template.functions.values())
        step(f"template environment: {', '.join(applied) or 'nothing unset'}")
        for line in gateway.describe_routes():
            print(f"    {line}", file=sys.stderr)
        for mapping in mappings:
            mapping.start()
            queue, event = mapping.queue, mapping.event
            step(
                f"queue {queue.name} -> {event.function_id}: batches of up to {event.batch_size}, "
                f"window {event.batching_window_seconds} s, visibility timeout "
                f"{queue.visibility_timeout} s, to {queue.dead_letter_queue} after "
                f"{queue.max_receive_count} receives; `wellapi enqueue <file>` sends, "
                f"`wellapi queue {queue.name}` shows"
            )
        for invoker in invokers:
            invoker.start()
            step(
                f"schedule {invoker.function_id}: every {invoker.period:g} s (template: "
                f"{invoker.event.expression}), a line for each invocation that did something"
            )
        step(
            f"event bus {local_aws.BUS}: the drain function publishes the changes there, and a "
            f"rule delivers each to the log group {local_aws.DELIVERED_LOG_GROUP}, which "
            "`wellapi events` (make events) reads"
        )
        cors = gateway.cors
        step(
            f"CORS: {', '.join(cors.allow_origins)} ({CORS_PARAMETER}; --cors-origins to change)"
            if cors is not None
            else f"CORS: none (--cors-origins or {CORS_ORIGINS_VARIABLE} to allow a browser app)"
        )
        step(f"serving {len(gateway.router.targets)} routes on {server.url} (Ctrl-C stops)")
        step(f"OpenAPI: {server.url}/v1/openapi.json, Swagger UI: {server.url}/docs")
        if threading.current_thread() is threading.main_thread():
            # A process manager's SIGTERM stops like Ctrl-C, so the embedded database stops too.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            step("stopped")
    finally:
        for poller in [*mappings, *invokers]:
            if not poller.stop():
                step(f"warning: [{poller.prefix}] {poller.function_id} did not stop in time")
        if aws is not None:
            aws.stop()
        server.server_close()
        runtime.close()
    return 0
