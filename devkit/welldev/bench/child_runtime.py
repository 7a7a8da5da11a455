"""Phase ``first``, in the child: the function under the real runtime client, awslambdaric.

Run by path by ``runtime_client.measure_runtime`` as ``python -I -S -B child_runtime.py HANDLER
FD COUNT PATH... RUNTIME``: COUNT paths (code, layer...) go before the standard library and the
runtime client's directory after it (-I ignores PYTHONPATH, hence the arguments). The client's
import and the handler's are timed inside the client's own ``_get_handler`` and written to the
pipe FD rather than to the Runtime API, so measuring them adds no round trip to init.

Only the standard library and the runtime client: what this process imports is what is measured.
"""

import os
import sys
import time

STARTED = time.perf_counter()


def main(argv: list[str]) -> None:
    handler, fd, count = argv[0], int(argv[1]), int(argv[2])
    sys.path[:0] = argv[3 : 3 + count]
    sys.path.append(argv[3 + count])
    # Only now: the client is the one on the paths just given, as /var/runtime on Lambda.
    from awslambdaric import __main__ as ric  # type: ignore[import-untyped]
    from awslambdaric import bootstrap

    imported = time.perf_counter()
    get_handler = bootstrap._get_handler

    def timed(name: str) -> object:
        start = time.perf_counter()
        try:
            return get_handler(name)
        finally:
            os.write(fd, b"%f %f" % (imported - STARTED, time.perf_counter() - start))
            os.close(fd)

    bootstrap._get_handler = timed
    ric.main(["awslambdaric", handler])


if __name__ == "__main__":
    main(sys.argv[1:])
