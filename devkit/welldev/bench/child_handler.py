"""A function in a fresh Lambda-like interpreter: its handler imported, serving, or in the client.

Run by path by ``Sandbox.run`` (and ``runtime_api``) as ``python -I -S -B child_handler.py
ARGS``, ARGS a JSON object: ``paths`` (put first on ``sys.path``: -I ignores PYTHONPATH),
``out`` (the file its result goes to, as JSON: stdout is the function's log, as in Lambda) and:

- ``modules``, then ``handler``: what it imports (phase ``cold``; ``list`` adds every module
  loaded, with the index of the path it came from, None for the standard library);
- ``event``: served once after the import (phase ``first``); with ``requests`` and ``every``,
  served that many times, each with its ``placeholder`` replaced by one of ``ids``, sampling
  the RSS every so many (phase ``memory``);
- ``runtime``: the runtime client's directory (appended to ``sys.path``, as ``/var/runtime``):
  awslambdaric runs the handler; the result is written once the handler is imported.

The result holds the CPU time since exec (``time.process_time``: the process's utime+stime)
once the modules were imported (``modules``), once the handler was (``import``) and at the end
(``cpu``, at the answer), and CLOCK_MONOTONIC, the parent's clock too, once the modules were
imported (``modules_at``) and at the end (``at``).
What this process imports is what is measured: the standard library modules below and nothing
else (no typing, no welldev), so every annotation here is a builtin type.
"""

import importlib
import json
import os
import sys
import time

# Loaded before the target: the listing names only what the target brought in.
BEFORE = set(sys.modules)


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:bench"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self) -> int:
        return 15000


def write(out: str, result: dict[str, object]) -> None:
    with open(out, "w") as f:
        json.dump(result, f)


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


def runtime(handler: str, runtime_dir: str, out: str) -> None:
    """The handler under awslambdaric, the handler's import timed in the client's _get_handler."""
    sys.path.append(runtime_dir)
    from awslambdaric import __main__ as ric  # type: ignore[import-untyped]
    from awslambdaric import bootstrap

    get_handler = bootstrap._get_handler

    def timed(name: str) -> object:
        start = time.perf_counter()
        try:
            return get_handler(name)
        finally:
            write(out, {"handler_init": time.perf_counter() - start})

    bootstrap._get_handler = timed
    ric.main(["awslambdaric", handler])


def main(argv: list[str]) -> None:
    args = json.loads(argv[0])
    sys.path[:0] = args["paths"]
    if "runtime" in args:
        runtime(args["handler"], args["runtime"], args["out"])
        return
    for name in args.get("modules", ()):
        importlib.import_module(name)
    result: dict[str, object] = {"modules": time.process_time(), "modules_at": time.perf_counter()}
    if args.get("handler"):
        module_name, _, attribute = args["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        result["import"] = time.process_time()
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
    result.update(cpu=time.process_time(), at=time.perf_counter())
    if args.get("list"):
        result["loaded"] = loaded_modules(args["paths"])
    write(args["out"], result)


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
