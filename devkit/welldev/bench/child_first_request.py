"""Phase ``first``, in the child: the function as Lambda runs it, import and one request.

Run by path by ``first_request.measure_one`` as ``python -I -S -B child_first_request.py
ARGS``, ARGS a JSON object: ``paths`` (``sys.path`` entries), ``handler``, ``event`` and
``out``, the file it writes its result to (JSON: ``cpu`` and ``import``, the CPU time since
exec at the answer and once imported; ``at``, CLOCK_MONOTONIC at the answer, the clock the
parent shares; ``response``).

Only the standard library modules below: what this process imports is what is measured.
"""

import importlib
import json
import os
import sys
import time


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:bench"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self) -> int:
        return 15000


def main(argv: list[str]) -> None:
    args = json.loads(argv[0])
    sys.path[:0] = args["paths"]
    module, _, attribute = args["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module), attribute)
    imported = time.process_time()
    response = handler(args["event"], Context())
    done, finished = time.process_time(), time.perf_counter()
    with open(args["out"], "w") as out:
        json.dump({"cpu": done, "import": imported, "at": finished, "response": response}, out)


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
