"""What every phase uses to call the functions in this process: events, handlers, turns, CPU.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import operator
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import uuid4

from wellapi.roles import API_ROLE
from welldev import database, local_aws
from welldev.bench.child_handler import Context
from welldev.bench.errors import BenchError
from welldev.function_roles import functions_connected_as
from welldev.payload import HttpRequest, build_event

JSONAPI = "application/vnd.api+json"
# What the bench times, by name, and what times one (``wall_ms``, ``returned``, ``backend_cpu``).
Call = Callable[[], Any]
Calls = Mapping[str, Call]
Measure = Callable[[Call], Any]


def link_installed(directory: Path, names: Sequence[str]) -> None:
    """Symlink the installed modules ``names`` into ``directory``: a Lambda-like sys.path entry
    holding only them (the runtime's boto3, or the runtime client), never the whole venv."""
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise BenchError(f"{name} is not installed in the venv (make install)")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (directory / source.name).symlink_to(source)


def note(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def elapsed(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


# What Powertools reads from the Lambda context object: the one the fresh interpreters pass.
CONTEXT = Context()
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def api_event(
    method: str,
    path: str,
    *,
    route: str,
    claims: dict[str, str],
    query: str = "",
    path_parameters: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API event as the local gateway builds it, the authorizer's ``claims``."""
    headers = [("host", "api.bench"), ("accept", JSONAPI)]
    if body is not None:
        headers.append(("content-type", JSONAPI))
    target = f"{path}?{query}" if query else path
    request = HttpRequest(method, target, headers, (body or "").encode(), "127.0.0.1", 443)
    event = build_event(
        request,
        route_key=f"{method} {route}",
        path_parameters=path_parameters or {},
        api_id="bench",
        request_id="bench-request",
        now=time.time(),
    )
    event["requestContext"]["authorizer"] = {"lambda": claims}
    return event


def handler_for(resource: str, operation: str) -> Handler:
    from wellapi.handlers.api import api_handler
    from wellapi.operations.registry import OPERATIONS

    return api_handler(resource, OPERATIONS[operation])


def invoke(handler: Handler, event: dict[str, Any], status: int) -> dict[str, Any]:
    """Call a handler and insist on the status a correct answer has (200, 201, 204)."""
    response = handler(event, CONTEXT)
    if response.get("statusCode") != status:
        raise BenchError(
            f"{event['routeKey']} answered {response.get('statusCode')}, not {status}: "
            f"{str(response.get('body'))[:500]}"
        )
    return response


def synced(handler: Handler, event: dict[str, Any]) -> None:
    """Call the sync handler with an SQS event and insist that it failed no message."""
    response = handler(event, CONTEXT)
    if response["batchItemFailures"]:
        raise BenchError(f"the sync handler failed messages: {response}")


@contextlib.contextmanager
def quiet_powertools() -> Iterator[None]:
    """The functions' log lines and EMF metrics, still formatted and written as Lambda pays,
    sent to /dev/null meanwhile (each logger's stream too: bound to the stdout of import)."""
    from wellapi.handlers import api as http_handler
    from wellapi.handlers import sync as sync_handler

    with open(os.devnull, "w") as sink, contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(sink))
        for module in (http_handler, sync_handler):
            stack.enter_context(mock.patch.object(module.logger.registered_handler, "stream", sink))
        yield


def sync_events(
    connector_id: str,
    record_ids: Sequence[str],
    messages: int,
    ids: int,
    batches: int,
    record_type: str = "people",
) -> list[dict[str, Any]]:
    """``batches`` SQS events of ``messages`` provenance.linked messages of ``ids`` records,
    each the one the local event source mapping makes (``local_aws.sqs_event``)."""
    # Recent: the writer refuses links older than 35 days.
    occurred_at = datetime.now(UTC).isoformat(timespec="seconds")

    def linked(m: int) -> str:
        body = {
            "type": "provenance.linked",
            "version": 1,
            "workspace_connector_id": connector_id,
            "direction": "input",
            "record_type": record_type,
            "record_ids": list(record_ids[m * ids : (m + 1) * ids]),
            "sync_run_id": "bench",
            "occurred_at": occurred_at,
            "idempotency_key": f"bench-{uuid4()}",
        }
        return json.dumps(body)

    return [
        local_aws.event_of([linked(m) for m in range(messages)], "sync") for _ in range(batches)
    ]


def wall_ms(call: Call) -> float:
    """The milliseconds ``call`` takes."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def wall_and_backend_cpu_ms(pid: int, call: Call) -> tuple[float, float]:
    """The call's milliseconds, and the CPU milliseconds of the backend ``pid`` meanwhile, read
    outside the time measured (a request's backend is done with it when its answer arrived)."""
    before = backend_cpu_ms(pid)
    ms = wall_ms(call)
    return ms, backend_cpu_ms(pid) - before


# What ``call`` answers: the measure of a call that measures itself (the database's time, CPU).
returned: Measure = operator.call


def taking_turns(
    calls: Calls, iterations: int, warmup: int, measure: Measure = wall_ms, run: int = 1
) -> dict[str, list[Any]]:
    """``measure`` of each call (by default its milliseconds), by name, ``iterations`` times
    after ``warmup`` rounds unmeasured, the calls taking turns so that drift hits all alike:
    ``run`` measures of one call back to back a turn (the last turn shorter)."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    samples: dict[str, list[Any]] = {name: [] for name in calls}
    for start in range(0, iterations, run):
        for name, call in calls.items():
            samples[name] += [measure(call) for _ in range(min(run, iterations - start))]
    return samples


def fairly(
    calls: Calls, iterations: int, warmup: int, measure: Measure = wall_ms, run: int = 1
) -> dict[str, list[Any]]:
    """``taking_turns``, each call paying for its own garbage alone, as a Lambda process of its
    own would: what exists now is never collected (``gc.freeze``), and the young garbage of the
    calls before is collected before each measure, unmeasured."""

    def collected_first(call: Call) -> Any:
        gc.collect(1)
        return measure(call)

    gc.collect()
    gc.freeze()
    try:
        return taking_turns(calls, iterations, warmup, collected_first, run)
    finally:
        gc.unfreeze()


def alternating(
    dbs: dict[str, database.LocalDatabase],
    calls_of: Callable[[], dict[str, dict[Any, Call]]],
    rounds: int,
    iterations: int,
    warmup: int,
) -> dict[str, dict[Any, list[float]]]:
    """Milliseconds of each call on each database, by database and key: key by key, a block of
    ``iterations`` (after ``warmup``) on each database in turn, the first alternating, in
    ``rounds``, so that what the machine does meanwhile weighs on both alike. Each block
    connects the functions to its database; ``calls_of`` makes each round's calls, by database
    and key (a scope token expires)."""
    samples: dict[str, dict[Any, list[float]]] = {size: {} for size in dbs}
    for round_ in range(rounds):
        calls = calls_of()
        # A key one database lacks is timed on the others alone.
        keys = dict.fromkeys(key for size in dbs for key in calls[size])
        for n, key in enumerate(keys):
            for size in list(dbs)[:: 1 if (round_ + n) % 2 == 0 else -1]:
                if key not in calls[size]:
                    continue
                with functions_connected_as(dbs[size], API_ROLE):
                    timed = taking_turns({size: calls[size][key]}, iterations, warmup)
                samples[size].setdefault(key, []).extend(timed[size])
    return samples


def backend_cpu(pid: int, call: Call) -> float:
    """The CPU milliseconds the backend ``pid`` spends while ``call`` runs."""
    return wall_and_backend_cpu_ms(pid, call)[1]


# The kernel's clock ticks a second, for a process's user and system time in /proc.
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def backend_cpu_ms(pid: int) -> float:
    """The CPU a backend process has used so far, in milliseconds: the scheduler's count in
    nanoseconds (``/proc/<pid>/schedstat``), else user and system time in clock ticks."""
    schedstat = Path(f"/proc/{pid}/schedstat")
    if schedstat.exists():
        return int(schedstat.read_text().split()[0]) / 1_000_000
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command's closing parenthesis: state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS_PER_SECOND


def last_backend(conn: Any, query_like: str) -> int:
    """The other backend of this database whose last query is ``LIKE query_like``, the most
    recent first: the connection of a handler under measurement, read from another one."""
    rows = conn.run(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND query LIKE :q ORDER BY state_change DESC LIMIT 1",
        q=query_like,
    )
    if not rows:
        raise BenchError(f"no backend of this database last ran {query_like!r}")
    return int(rows[0][0])
