"""Phase ``first``, in the child: the floor, the function's SQL sent by hand with pg8000.

Run by path by ``Sandbox.run`` as ``python -I -S -B child_first_floor.py ARGS``, ARGS a JSON
object: ``paths`` (the layer, where pg8000 comes from), ``connect`` (pg8000's
connection arguments), ``requests`` (in order, each ``{"statements": [[text, values], ...]}``
sent as it is, or with ``opening`` and ``scope_token`` or ``key`` (prefix, secret hash in hex):
a transaction opened by ``opening``, then a proof of the credential for it, the statements and
COMMIT, as the function sends a request; values as JSON, bytes as ``{"bytes": hex}`` and
decimals as ``{"decimal": text}``) and ``out``, the file it writes its result to (JSON:
``cpu``, the CPU time since exec; ``at``, CLOCK_MONOTONIC; ``bytes``, the size of the rows
dumped as JSON). It connects as the pool would (autocommit, TCP_NODELAY); a request refused
before any SQL (an immutable field) never connects, nor does its floor. Each message is sent
as the function sends it: every statement parsed and bound (its values as text, typed as the
function types them: ``wellapi.store.sql.BoundStatement.oids``), all pipelined before one Sync
(the same messages as ``wellapi.store.connections.send``, written here).

Only the standard library, pg8000 and the layer's statements and proofs (hashlib): what this
process imports is what is measured.
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
        context = proven(conn, request)
        names = [c["name"] for c in context.columns or ()]
        documents.append([dict(zip(names, row, strict=False)) for row in context.rows or ()])
    body = json.dumps(documents, default=str)
    done, finished = time.process_time(), time.perf_counter()
    with open(args["out"], "w") as out:
        json.dump({"cpu": done, "at": finished, "bytes": len(body)}, out)


def value(sent: Any) -> Any:
    """A bound value as the parent sent it (``raw_client.jsonable``)."""
    if isinstance(sent, dict):
        if "bytes" in sent:
            return bytes.fromhex(sent["bytes"])
        from decimal import Decimal

        return Decimal(sent["decimal"])
    return sent


def proven(conn: Any, request: dict[str, Any]) -> Any:
    """The request's message (its answer's context): as it is, or after its opening, proven
    for that transaction and committed."""
    from wellapi.store.sql import BoundStatement

    statements = [
        BoundStatement(text, tuple(value(v) for v in values))
        for text, values in request["statements"]
    ]
    if "opening" not in request:
        return send(conn, statements)
    from wellapi.http.proofs import key_opening, scope_opening

    context = str(conn.execute_simple(request["opening"]).rows[0][0])
    if "scope_token" in request:
        proof = scope_opening(request["scope_token"], context)
    else:
        prefix, secret_hash = request["key"]
        proof = key_opening(prefix, bytes.fromhex(secret_hash), context)
    return send(conn, [proof, *statements, BoundStatement("COMMIT")])


def send(conn: Any, statements: list[Any]) -> Any:
    """The statements pipelined as ``wellapi.store.connections.send`` sends them (the same
    messages, ``wellapi.store.sql.pipeline``): one round trip."""
    import pg8000.core

    from wellapi.store.sql import pipeline

    pg8000.core._write(conn._sock, pipeline(conn, statements))
    pg8000.core._flush(conn._sock)
    context = pg8000.core.Context(statements[0].text)
    conn.handle_messages(context)
    return context


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
