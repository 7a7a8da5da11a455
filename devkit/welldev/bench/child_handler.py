"""A function in a fresh Lambda-like interpreter: its handler imported, serving, or in the client.

Run by path (``Sandbox.command``) as ``python -I -S -B child_handler.py ARGS``, ARGS a JSON
object: ``paths`` (first on ``sys.path``: -I ignores PYTHONPATH), then ``modules`` and
``handler`` to import (phase ``cold``; ``list``: every module loaded, with the index of its
path, None for the standard library); ``event`` to serve once (phase ``first``, whose floor is
``__main__.floor``), or with ``requests``, ``every``, ``placeholder`` and ``ids`` many times,
sampling the RSS (phase ``memory``); or ``runtime``, a handler for awslambdaric. Its result, the
last line of its stderr (stdout is the function's log), holds (``time.process_time`` in ms,
CLOCK_MONOTONIC) once the modules, the handler and the answer are done. What this process
imports is measured: the standard library modules below and nothing else (not even typing).
"""

import importlib
import json
import os
import sys
import time

# Loaded before the target: the listing names only what the target brought in.
BEFORE = set(sys.modules)
TYPE_CHECKING = False  # typing is never imported here, but mypy reads it (as typing's)
if TYPE_CHECKING:
    from typing import Any


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:bench"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self) -> int:
        return 15000


def floor(event: "dict[str, Any]", context: object) -> "dict[str, int]":
    """Phase ``first``'s floor: the function's SQL sent by hand with pg8000, the rows dumped.

    ``event``: pg8000's ``connect`` arguments and the ``requests`` (each
    ``raw_client.Captured.floor_request``), proven afresh when they carry a credential. It
    connects as the pool would (autocommit, TCP_NODELAY), never without SQL (a request refused
    before any), and pipelines each message and reads its answers as the function does
    (``wellapi.store.sql.pipeline``, ``wellapi.store.driver.round_trip``).
    """
    # Only now: pg8000 and the layer's statements and proofs (hashlib) are what is measured.
    import socket

    import pg8000.dbapi

    from wellapi.store.driver import round_trip, socket_of
    from wellapi.store.sql import BoundStatement, pipeline

    if event["requests"]:
        conn = pg8000.dbapi.connect(**event["connect"])
        conn.autocommit = True
        sock = socket_of(conn)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    documents = []
    for request in event["requests"]:
        statements = [BoundStatement(t, tuple(map(value, v))) for t, v in request["statements"]]
        if "opening" in request:
            from wellapi.http.proofs import key_opening, scope_opening

            if "scope_token" in request:
                proof = scope_opening(request["scope_token"])
            else:
                proof = key_opening(request["key"][0], bytes.fromhex(request["key"][1]))
            opening = [BoundStatement(text) for text in request["opening"]]
            statements = [*opening, proof, *statements, BoundStatement("COMMIT")]
        answer = round_trip(conn, pipeline(conn, statements), statements[0].text)
        names = [c["name"] for c in answer.columns or ()]
        documents.append([dict(zip(names, row, strict=False)) for row in answer.rows or ()])
    return {"bytes": len(json.dumps(documents, default=str))}


def value(sent: object) -> object:
    """A bound value as the parent sent it (``raw_client.jsonable``)."""
    if isinstance(sent, dict):
        if "bytes" in sent:
            return bytes.fromhex(sent["bytes"])
        from decimal import Decimal

        return Decimal(sent["decimal"])
    return sent


def loaded_modules(paths: list[str]) -> list[tuple[str, int | None]]:
    roots = [os.path.abspath(p) + os.sep for p in paths]
    loaded: list[tuple[str, int | None]] = []
    for name in [n for n in sys.modules if n not in BEFORE]:
        module = sys.modules[name]
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), "")
        where = os.path.abspath(where) if where else ""
        loaded.append((name, next((i for i, r in enumerate(roots) if where.startswith(r)), None)))
    return loaded


def vm(key: str) -> int:
    """VmRSS or VmHWM of this process, in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))


def runtime(handler: str) -> None:
    """The handler under awslambdaric, its import timed in the client's _get_handler."""
    from awslambdaric import __main__ as ric  # type: ignore[import-untyped]
    from awslambdaric import bootstrap

    get_handler = bootstrap._get_handler

    def timed(name: str) -> object:
        start = time.perf_counter()
        try:
            return get_handler(name)
        finally:
            print(f"bench handler_init: {(time.perf_counter() - start) * 1000}", flush=True)

    bootstrap._get_handler = timed
    ric.main(["awslambdaric", handler])


def main(argv: list[str]) -> None:
    args = json.loads(argv[0])
    sys.path[:0] = args["paths"]
    if "runtime" in args:
        runtime(args["runtime"])
        return
    for name in args.get("modules", ()):
        importlib.import_module(name)
    result: dict[str, object] = {"modules": [time.process_time() * 1000, time.perf_counter()]}
    if args.get("handler"):
        module_name, _, attribute = args["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        result["import"] = [time.process_time() * 1000, time.perf_counter()]
    if "requests" in args:
        text, placeholder = json.dumps(args["event"]), args["placeholder"]
        events = [json.loads(text.replace(placeholder, row_id)) for row_id in args["ids"]]
        samples = [[0, vm("VmRSS")]]
        statuses: dict[int, int] = {}
        for i in range(1, args["requests"] + 1):
            status = handler(events[i % len(events)], Context())["statusCode"]
            statuses[status] = statuses.get(status, 0) + 1
            if i % args["every"] == 0:
                samples.append([i, vm("VmRSS")])
        result.update(samples=samples, peak=vm("VmHWM"), statuses=statuses)
    elif "event" in args:
        result["response"] = handler(args["event"], Context())
    result["answer"] = [time.process_time() * 1000, time.perf_counter()]
    if args.get("list"):
        result["loaded"] = loaded_modules(args["paths"])
    print(json.dumps(result), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
