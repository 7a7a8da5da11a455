"""``wellapi run``: every HttpApi route of the template, the documentation, the local queues and
the schedules, on a database migrated when behind and seeded with the demo and its keys."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Mapping

from wellapi.roles import API_ROLE
from welldev import demo_file, docs, local_bus, queues, schedules
from welldev import template as sam_template
from welldev.commands.local_database import admin_connection
from welldev.commands.options import CORS_ORIGINS_VARIABLE, CORS_PARAMETER
from welldev.commands.seed import write_demo
from welldev.console import step
from welldev.function_roles import connect_functions_as
from welldev.gateway import Gateway, LocalRoute
from welldev.lambda_runtime import (
    EnvironmentReport,
    HandlerImportError,
    LambdaRuntime,
    apply_template_environment,
)
from welldev.queue_messages import QUEUES_PATH, NotAMessage
from welldev.server import LocalServer

USAGE_ERRORS = (sam_template.TemplateError, HandlerImportError, NotAMessage)
# Execution environments per function (each a process serving one request at a time, holding
# one connection per database role): how many requests to one function run at once.
LOCAL_ENVIRONMENTS = 8


def main(args: argparse.Namespace) -> int:
    # Template, routes and the port first: what cannot be served fails before any database work.
    overrides = {} if args.cors_origins is None else {CORS_PARAMETER: args.cors_origins.strip()}
    template = sam_template.load(args.template, overrides)
    runtime = LambdaRuntime(template, processes=LOCAL_ENVIRONMENTS)
    visibility_timeout = args.visibility_timeout
    if visibility_timeout is None:
        visibility_timeout = queues.DEFAULT_VISIBILITY_TIMEOUT_SECONDS
    mappings = queues.mappings_of(template, runtime, visibility_timeout=visibility_timeout)
    schedule_period = args.schedule_period
    if schedule_period is None:
        schedule_period = schedules.DEFAULT_SCHEDULE_PERIOD_SECONDS
    invokers = schedules.schedules_of(template, runtime, period=schedule_period)
    local_queues = {mapping.queue.name: mapping.queue for mapping in mappings}
    bus = local_bus.bus_for(template)
    gateway = Gateway(template, runtime, local_routes=local_routes(local_queues, bus))
    port = args.port
    if port is None:
        port = int(os.environ.get("PORT", demo_file.DEFAULT_PORT))
    server = LocalServer(gateway, args.host, port)
    held = contextlib.ExitStack()
    try:
        with admin_connection(roles=True, keep_server=True) as (db, conn):
            write_demo(conn, server.url)
        connect_functions_as(db, API_ROLE)
        if bus is not None:
            publish_to_local_bus(bus, server.url)
        step(
            f"execution environments: up to {LOCAL_ENVIRONMENTS} per function, each a process "
            "serving one request at a time, started on first use"
        )
        # The SQS consumers and the scheduled functions share the API functions' environment;
        # they log in as their own role through SYNC_DATABASE_URL (connect_functions_as).
        served = [template.function(function_id) for function_id in gateway.function_ids]
        report_environment(apply_template_environment(template, served))
        for line in gateway.describe_routes():
            print(f"    {line}", file=sys.stderr)
        for mapping in mappings:
            mapping.start()
            step(describe_mapping(template, mapping))
        if invokers:
            # A scheduled invocation that did nothing prints nothing (schedules.held_output).
            held.enter_context(schedules.output_held_per_thread())
        for invoker in invokers:
            invoker.start()
            step(describe_schedule(invoker))
        if bus is not None:
            step(
                f"event bus {bus.name}: the drain function publishes the changes there; "
                f"GET {local_bus.EVENTS_PATH} shows them (make events)"
            )
        for event in schedules.disabled_schedules(template):
            step(
                f"schedule {event.rule_name} -> {event.function_id}: {event.expression}, "
                "disabled in the template: not run"
            )
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
        for invoker in invokers:
            if not invoker.stop():
                step(f"warning: the schedule of {invoker.function_id} did not stop in time")
        held.close()
        server.server_close()
        runtime.close()
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


def describe_schedule(invoker: schedules.ScheduledInvoker) -> str:
    event = invoker.event
    return (
        f"schedule {event.rule_name} -> {event.function_id}: every {invoker.period:g} s "
        f"(template: {event.expression}), one invocation at a time; a line for each that did "
        "something"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def publish_to_local_bus(bus: local_bus.LocalBus, server_url: str) -> None:
    """Point the functions' EventBridge client at the local bus (boto3 reads
    ``AWS_ENDPOINT_URL_EVENTBRIDGE``), with the bus's name and stand-in credentials, which the local
    bus does not check, where none are set: nothing else of ``wellapi run`` calls AWS."""
    os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] = server_url + local_bus.EVENTS_PATH
    os.environ["EVENT_BUS_NAME"] = bus.name
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        os.environ["AWS_ACCESS_KEY_ID"] = "local"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 (not a secret: unchecked)


def local_routes(
    local_queues: Mapping[str, queues.LocalQueue], bus: local_bus.LocalBus | None = None
) -> list[LocalRoute]:
    """Routes only the local server has: the documentation, the local queues (by name) if any,
    and the local event bus if any.

    None of them is behind the authorizer.
    """
    routes = docs.doc_routes()
    if bus is not None:
        handler_of_bus = local_bus.bus_routes_handler(bus)
        routes += [
            LocalRoute("GET", local_bus.EVENTS_PATH, handler_of_bus),
            LocalRoute("POST", local_bus.EVENTS_PATH, handler_of_bus),
            # boto3 posts to the endpoint's path with a slash after it.
            LocalRoute("POST", local_bus.EVENTS_PATH + "/", handler_of_bus),
        ]
    if local_queues:
        handler = queues.queue_routes_handler(local_queues)
        routes += [
            LocalRoute("GET", QUEUES_PATH + "/{queue}", handler),
            LocalRoute("POST", QUEUES_PATH + "/{queue}", handler),
        ]
    return routes


def report_environment(report: EnvironmentReport) -> None:
    if report.applied:
        step(f"template environment: {', '.join(report.applied)}")
    if report.kept:
        step(f"kept the local values of: {', '.join(report.kept)}")
    if report.unresolved:
        step(f"left unset (they need deployed resources): {', '.join(report.unresolved)}")
    for conflict in report.conflicts:
        step(f"warning: functions disagree on {conflict}; one process holds one value")
