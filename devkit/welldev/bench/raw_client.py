"""The raw floor: the same SQL the handler sends, by hand with bare pg8000.

A request is a transaction of two messages: its opening, which asks the context of its proof,
then the proof, its statements and COMMIT (``wellapi.store.connections.Pool.run_proven``).
Each replay makes a fresh proof for its own transaction, as the function does for each
request: the floor pays for its proof as the handler does."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi.http.keys import ParsedKey, parse_authorization
from wellapi.http.principal import SCOPE_TOKEN_CLAIM
from wellapi.http.proofs import is_scope_token, key_opening, scope_opening
from wellapi.store import connections as wellapi_db
from wellapi.store.connections import OPENING, READ_ONLY_OPENING
from welldev.bench.errors import BenchError
from welldev.bench.harness import Handler, invoke
from welldev.bench.wire import OPENINGS, Call, proof_of, recording

Rows = list[list[Any]]


class RawClient:
    """A bare pg8000 connection, set up like the engine's (autocommit, TCP_NODELAY)."""

    def __init__(self, url: str) -> None:
        self.conn = pg8000.dbapi.connect(**wellapi_db.url_connect_kwargs(url))
        self.conn.autocommit = True
        sock = getattr(self.conn, "_usock", None)
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            # As the engine does: without it, pg8000 stalls on delayed ACKs over TCP.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def rows(self, sql: str) -> tuple[list[str], Rows]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            names = [d[0] for d in cursor.description or []]
        finally:
            cursor.close()
        return names, [list(r) for r in rows]

    def proven_rows(
        self, sent: Captured, sql: str | None = None, opening: str | None = None
    ) -> tuple[list[str], Rows]:
        """``sql`` (by default the captured statements) sent as the function sends it (after
        ``opening``, by default the function's own)."""
        names: list[str] = []

        def run(text: str) -> Rows:
            found, rows = self.rows(text)
            names[:] = found
            return rows

        return names, proven(run, sent, sql, opening)

    def document(self, sent: Captured, skip: int, sql: str | None = None) -> str:
        """Run the request, turn the rows after the first ``skip`` into dicts, dump them."""
        names, rows = self.proven_rows(sent, sql)
        return json.dumps([dict(zip(names, r, strict=False)) for r in rows[skip:]], default=str)

    def close(self) -> None:
        self.conn.close()


@dataclass(frozen=True, eq=False)
class Captured:
    """A request the function sent: its statements, without the proof they opened with
    (``proof``: its kind, or None for SQL sent as it is), and whether its transaction was
    read-only. Each replay makes a fresh proof of the credential the request's ``event``
    carries, for the replay's own transaction (``proven``)."""

    proof: str | None
    read_only: bool
    sql: str
    event: dict[str, Any]

    @property
    def token(self) -> str:
        """The scope token the request's event carries (its authorizer's claims)."""
        claims = ((self.event.get("requestContext") or {}).get("authorizer") or {}).get("lambda")
        token = (claims or {}).get(SCOPE_TOKEN_CLAIM)
        if not isinstance(token, str) or not is_scope_token(token):
            raise BenchError("the request was proven, and its event carries no scope token")
        return token

    @property
    def key(self) -> ParsedKey:
        """The API key the request's event carries (its Authorization header)."""
        headers = {str(k).lower(): v for k, v in (self.event.get("headers") or {}).items()}
        key = parse_authorization(headers.get("authorization"))
        if key is None:
            raise BenchError("the request was proven with a key, and its event carries none")
        return key

    @property
    def opening(self) -> str:
        return READ_ONLY_OPENING if self.read_only else OPENING

    def prover(self) -> Callable[[str], str] | None:
        """How the function opens this request's statements for a transaction's context."""
        if self.proof is None:
            return None
        if self.proof == "scope":
            token = self.token
            return lambda context: scope_opening(token, context)
        key = self.key
        return lambda context: key_opening(key.prefix, key.secret_hash, context)

    def floor_request(self, sql: str) -> dict[str, Any]:
        """``sql`` as the floor child sends it (``child_first_floor.proven``)."""
        if self.proof is None:
            return {"sql": sql}
        if self.proof == "scope":
            return {"sql": sql, "opening": self.opening, "scope_token": self.token}
        key = self.key
        return {"sql": sql, "opening": self.opening, "key": [key.prefix, key.secret_hash.hex()]}


def proven(
    run: Callable[[str], Rows], sent: Captured, sql: str | None = None, opening: str | None = None
) -> Rows:
    """``sql`` (by default the captured statements) through ``run`` (one message, its rows)
    as the function sends the request: in a transaction of its own, opened by a fresh proof
    (after ``opening``, by default the function's own)."""
    text = sent.sql if sql is None else sql
    prove = sent.prover()
    if prove is None:
        return run(text)
    context = str(run(opening or sent.opening)[0][0])
    try:
        return run(f"{prove(context)}{text};COMMIT")
    except pg8000.dbapi.DatabaseError:
        run("ROLLBACK")
        raise


def captured_requests(calls: list[Call], event: dict[str, Any]) -> list[Captured]:
    """The requests among a function's messages: an opening and the message after it are one
    request; any other message is sent as it is."""
    requests: list[Captured] = []
    remaining = iter(calls)
    for call in remaining:
        if call.protocol != "simple":
            raise BenchError(f"{event.get('routeKey')} sent a parameterised statement")
        if call.sql not in OPENINGS:
            requests.append(Captured(None, False, call.sql, event))
            continue
        message = next(remaining, None)
        if message is None:
            raise BenchError(f"{event.get('routeKey')} opened a transaction and sent nothing")
        proof, statements = proof_of(message.sql)
        requests.append(Captured(proof, call.sql == READ_ONLY_OPENING, statements, event))
    return requests


def captured_sql(handler: Handler, event: dict[str, Any], status: int) -> Captured:
    """The one request a handler's answer sends (it must send exactly one)."""
    with recording() as wire:
        invoke(handler, event, status)
    requests = captured_requests(wire.calls, event)
    if len(requests) != 1 or requests[0].proof is None:
        raise BenchError(f"{event['routeKey']} sent {len(requests)} requests, not one")
    return requests[0]
