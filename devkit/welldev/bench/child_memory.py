"""Phase ``memory``, in the child: a Lambda-like process serving Retrieve, sampling its RSS.

Run by path by ``memory.measure_memory`` as ``python -I -S -B child_memory.py ARGS``, ARGS a
JSON object: ``paths`` (``sys.path`` entries), ``handler``, ``event`` (whose ``placeholder``
is replaced by each of ``ids`` in turn), ``requests`` and ``every`` (a sample every so many
requests). It prints one JSON line: ``samples`` ([request, VmRSS]), ``peak`` (VmHWM) and
``statuses`` (answers by status code).

Only the standard library modules below: what this process holds is what is measured.
"""

import importlib
import json
import os
import sys


def status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:bench"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self) -> int:
        return 15000


def main(argv: list[str]) -> None:
    args = json.loads(argv[0])
    sys.path[:0] = args["paths"]
    module_name, _, attribute = args["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    context = Context()
    events = []
    for row_id in args["ids"]:
        event = json.loads(json.dumps(args["event"]).replace(args["placeholder"], row_id))
        events.append(event)
    samples = [[0, status()["VmRSS"]]]
    statuses: dict[int, int] = {}
    for i in range(1, args["requests"] + 1):
        response = handler(events[i % len(events)], context)
        statuses[response["statusCode"]] = statuses.get(response["statusCode"], 0) + 1
        if i % args["every"] == 0:
            samples.append([i, status()["VmRSS"]])
    print(json.dumps({"samples": samples, "peak": status()["VmHWM"], "statuses": statuses}))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
