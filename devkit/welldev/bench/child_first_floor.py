"""Phase ``first``, in the child: the floor, the function's SQL sent by hand with pg8000.

Run by path by ``first_request.measure_one`` as ``python -I -S -B child_first_floor.py ARGS``,
ARGS a JSON object: ``paths`` (the layer, where pg8000 comes from), ``connect`` (pg8000's
connection arguments), ``requests`` (in order, each ``{"sql": ...}`` sent as it is, or with
``opening`` and ``scope_token`` or ``key`` (prefix, secret hash in hex): a transaction opened
by ``opening``, then a proof of the credential for it, ``sql`` and COMMIT, as the function
sends a request) and ``out``, the file it writes its result to (JSON: ``cpu``, the CPU time
since exec; ``at``, CLOCK_MONOTONIC; ``bytes``, the size of the rows dumped as JSON). It
connects as the pool would (autocommit, TCP_NODELAY); a request refused before any SQL (an
immutable field) never connects, nor does its floor.

Only the standard library, pg8000 and the layer's proofs (hashlib): what this process imports
is what is measured.
"""

import json
import os
import socket
import sys
import time
from typing import Any


def main(argv: list[str]) -> None:
    args = json.loads(argv[0])
    sys.path[:0] = args["paths"]
    # Only now: pg8000 is the layer's, on the paths just given.
    import pg8000.dbapi

    if args["requests"]:
        conn = pg8000.dbapi.connect(**args["connect"])
        conn.autocommit = True
        if conn._usock.family in (socket.AF_INET, socket.AF_INET6):
            conn._usock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    documents = []
    for request in args["requests"]:
        cursor = conn.cursor()
        cursor.execute(proven(cursor, request))
        names = [d[0] for d in cursor.description or ()]
        documents.append(
            [dict(zip(names, row, strict=False)) for row in (cursor.fetchall() if names else ())]
        )
    body = json.dumps(documents, default=str)
    done, finished = time.process_time(), time.perf_counter()
    with open(args["out"], "w") as out:
        json.dump({"cpu": done, "at": finished, "bytes": len(body)}, out)


def proven(cursor: Any, request: dict[str, Any]) -> str:
    """The request's text: as it is, or after its opening, proven for that transaction."""
    if "opening" not in request:
        return str(request["sql"])
    from wellapi.http.proofs import key_opening, scope_opening

    cursor.execute(request["opening"])
    context = str(cursor.fetchall()[0][0])
    if "scope_token" in request:
        proof = scope_opening(request["scope_token"], context)
    else:
        prefix, secret_hash = request["key"]
        proof = key_opening(prefix, bytes.fromhex(secret_hash), context)
    return f"{proof}{request['sql']};COMMIT"


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
