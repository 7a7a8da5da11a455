"""The raw floor: the same SQL text the handler sends, by hand with bare pg8000.

The text is sealed anew for each run, as the handler seals each of its own (a proof is
spent once, ``wellapi.http.proofs``): the floor pays for its proof as the handler does."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi.http.keys import parse_authorization
from wellapi.http.principal import SCOPE_TOKEN_CLAIM
from wellapi.http.proofs import is_scope_token, seal_with_key, seal_with_token
from wellapi.store import connections as wellapi_db
from welldev.bench.errors import BenchError
from welldev.bench.harness import Handler, invoke
from welldev.bench.wire import proof_of, recording


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


@dataclass(frozen=True, eq=False)
class Captured:
    """A query a request sent, without the single-use proof it opened with (``proof``: its
    kind, or None). The proof is spent: each replay is sealed anew (``sealed``) with the
    credential the request's ``event`` carries, as the function seals each attempt."""

    proof: str | None
    sql: str
    event: dict[str, Any]

    @classmethod
    def of(cls, sent: str, event: dict[str, Any]) -> Captured:
        proof, sql = proof_of(sent)
        return cls(proof, sql, event)

    def sealed(self, sql: str | None = None) -> str:
        """``sql`` (by default the captured text) as the function would send it now."""
        return reseal(self.proof, self.sql if sql is None else sql, self.event)


def reseal(proof: str | None, sql: str, event: dict[str, Any]) -> str:
    """``sql`` opened by a fresh proof of the kind given, of the event's credential: the scope
    token of its claims, or the API key of its Authorization header."""
    if proof is None:
        return sql
    if proof == "scope":
        claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda")
        token = (claims or {}).get(SCOPE_TOKEN_CLAIM)
        if not isinstance(token, str) or not is_scope_token(token):
            raise BenchError("the request was sealed, and its event carries no scope token")
        return seal_with_token(sql, token)
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    key = parse_authorization(headers.get("authorization"))
    if key is None:
        raise BenchError("the request was sealed with a key, and its event carries none")
    return seal_with_key(sql, key.prefix, key.secret_hash)


def captured_sql(handler: Handler, event: dict[str, Any], status: int) -> Captured:
    """The one simple query a request sends (it must send exactly one)."""
    with recording() as wire:
        invoke(handler, event, status)
    if len(wire.calls) != 1 or wire.calls[0].protocol != "simple":
        raise BenchError(f"{event['routeKey']} sent {len(wire.calls)} queries, not one")
    return Captured.of(wire.calls[0].sql, event)
