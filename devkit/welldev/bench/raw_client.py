"""The raw floor: the same SQL text the handler sends, by hand with bare pg8000."""

from __future__ import annotations

import json
import socket
from typing import Any

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi import db as wellapi_db
from welldev.bench.errors import BenchError
from welldev.bench.harness import Handler, invoke
from welldev.bench.wire import recording


class RawClient:
    """A bare pg8000 connection, set up like the engine's (autocommit, TCP_NODELAY)."""

    def __init__(self, url: str) -> None:
        self.conn = pg8000.dbapi.connect(**wellapi_db.url_connect_kwargs(url))
        self.conn.autocommit = True
        sock = getattr(self.conn, "_usock", None)
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            # As the engine does: without it, pg8000 stalls on delayed ACKs over TCP.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def rows(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            names = [d[0] for d in cursor.description or []]
        finally:
            cursor.close()
        return names, [list(r) for r in rows]

    def document(self, sql: str, skip: int) -> str:
        """Run the script, turn the rows after the first ``skip`` into dicts, dump them."""
        names, rows = self.rows(sql)
        return json.dumps([dict(zip(names, r, strict=False)) for r in rows[skip:]], default=str)

    def close(self) -> None:
        self.conn.close()


def captured_sql(handler: Handler, event: dict[str, Any], status: int) -> str:
    """The one simple query a request sends (it must send exactly one)."""
    with recording() as wire:
        invoke(handler, event, status)
    if len(wire.calls) != 1 or wire.calls[0].protocol != "simple":
        raise BenchError(f"{event['routeKey']} sent {len(wire.calls)} queries, not one")
    return wire.calls[0].sql
