"""The raw floor: the SQL the handler sends, captured, and sent again by hand with bare pg8000.

A request is a transaction of one message (``wellapi.store.connections.Pool.run_proven``): its
opening, a proof, its statements and COMMIT. Each replay makes a fresh proof, as the function
does for each request: the floor pays for its proof as the handler does."""

from __future__ import annotations

import datetime
import decimal
import functools
import re
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pg8000.dbapi
import pg8000.native

from wellapi.http.keys import ParsedKey, parse_authorization
from wellapi.http.principal import SCOPE_TOKEN_CLAIM
from wellapi.http.proofs import is_scope_token, key_opening, scope_opening
from wellapi.store import connections as wellapi_db
from wellapi.store import driver
from wellapi.store.connections import COMMIT, OPENING, READ_ONLY_OPENING
from wellapi.store.sql import BoundStatement
from welldev.bench.errors import BenchError
from welldev.bench.harness import Handler, invoke
from welldev.bench.wire import Call, proof_of, recording, split_statements

Rows = list[list[Any]]
Statements = Sequence[BoundStatement]


class RawClient(pg8000.native.Connection):  # type: ignore[misc]  # pg8000 is untyped
    """A bare pg8000 connection, set up like the engine's (autocommit, TCP_NODELAY), keeping
    its last answer's context (a pipeline's column names)."""

    last: driver.Answer | None = None

    def __init__(self, url: str) -> None:
        super().__init__(**wellapi_db.url_connect_kwargs(url))
        sock = driver.socket_of(self)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # As the engine does: without it, pg8000 stalls on delayed ACKs over TCP.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Every answer ends with ReadyForQuery, whichever call reads it.
        handlers = driver.handlers(self)
        ready = handlers[driver.READY_FOR_QUERY]

        def kept(data: bytes, answer: driver.Answer) -> None:
            self.last = answer
            ready(data, answer)

        handlers[driver.READY_FOR_QUERY] = kept

    @functools.cached_property
    def pid(self) -> int:
        """Its backend's process."""
        return int(self.run("SELECT pg_backend_pid()")[0][0])

    def proven_rows(
        self, sent: Captured, statements: Statements | None = None, end: BoundStatement = COMMIT
    ) -> tuple[list[str], Rows]:
        """``proven`` on this connection: the columns' names, the rows."""
        rows = proven(self, sent, statements, end=end)
        return [c["name"] for c in (self.last and self.last.columns) or ()], rows


def replaced(statements: Statements, old: Any, new: Any) -> tuple[BoundStatement, ...]:
    """``statements`` with every bound value equal to ``old`` (a created row's id, as text or
    UUID) bound to ``new`` instead, in the value's own type."""
    made = str(old).lower()

    def one(value: Any) -> Any:
        if isinstance(value, uuid.UUID) and str(value) == made:
            return uuid.UUID(str(new))
        if isinstance(value, str) and value.lower() == made:
            return str(new)
        if isinstance(value, list):
            return [one(v) for v in value]
        return value

    return tuple(BoundStatement(s.text, tuple(one(v) for v in s.values)) for s in statements)


def literal(value: Any) -> str:
    """A bound value as an SQL literal of the same type (what the function once rendered)."""
    text = str(pg8000.native.literal(value))
    oid = BoundStatement("", (value,)).oids[0]
    return f"{text}::{_ARRAY_TYPES[oid]}" if oid in _ARRAY_TYPES else text


_ARRAY_TYPES = {1007: "int4[]", 1016: "int8[]", 1009: "text[]"}


def prepared(
    conn: pg8000.native.Connection, name: str, statement: BoundStatement
) -> BoundStatement:
    """``statement`` prepared on ``conn`` under ``name`` (``PREPARE``, its parameters of the
    types the function binds them as), and the ``EXECUTE`` of it with its values."""
    ((types,),) = conn.run(
        # Unspecified (0, "-"): unknown, typed from where it stands, as the function's are.
        "SELECT string_agg(coalesce(nullif(format_type(o, NULL), '-'), 'unknown'), ', ' "
        "ORDER BY n) FROM unnest(CAST(:oids AS oid[])) WITH ORDINALITY AS t(o, n)",
        oids=list(statement.oids),
    )
    conn.run(f"PREPARE {name}{f'({types})' if types else ''} AS {statement.text}")
    values = ", ".join(literal(v) for v in statement.values)
    return BoundStatement(f"EXECUTE {name}" + (f"({values})" if values else ""))


_PARAMETER = re.compile(r"\$(\d+)")


def rendered(statement: BoundStatement) -> str:
    """The statement's text with its values written in as literals (outside quoted text the
    API's statements hold no ``$`` but their parameters)."""
    parts = re.split(r"('(?:[^']|'')*')", statement.text)
    for i in range(0, len(parts), 2):
        parts[i] = _PARAMETER.sub(lambda m: literal(statement.values[int(m[1]) - 1]), parts[i])
    return "".join(parts)


def jsonable(value: Any) -> Any:
    """A bound value as the floor child receives it (``child_handler.value``)."""
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, uuid.UUID | datetime.datetime | datetime.date):
        return str(value)  # bound as unknown-typed text either way
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class Captured:
    """A request the function sent: its statements, values bound, without the proof they opened
    with (``proof``: its kind, or None), which each replay makes afresh from its ``event``."""

    proof: str | None
    read_only: bool
    statements: tuple[BoundStatement, ...]
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
        if (key := parse_authorization(headers.get("authorization"))) is None:
            raise BenchError("the request was proven with a key, and its event carries none")
        return key

    @property
    def opening(self) -> Statements:
        return READ_ONLY_OPENING if self.read_only else OPENING

    def credential(self) -> dict[str, Any]:
        """What proves the request again, as the floor child takes it: its opening's texts and
        the scope token or the key its event carries."""
        if self.proof is None:
            return {}
        opening = [s.text for s in self.opening]
        if self.proof == "scope":
            return {"opening": opening, "scope_token": self.token}
        return {"opening": opening, "key": [self.key.prefix, self.key.secret_hash.hex()]}

    def fresh_proof(self) -> BoundStatement | None:
        """A proof of the request's credential made now, as the function makes one to send it."""
        if self.proof == "scope":
            return scope_opening(self.token)
        if self.proof == "key":
            key = self.key
            return key_opening(key.prefix, key.secret_hash)
        return None

    def floor_request(self, statements: Statements) -> dict[str, Any]:
        """``statements`` as the floor child sends them (``child_handler.floor``): each
        its text and its values, and the credential that proves them."""
        sent = [[s.text, [jsonable(v) for v in s.values]] for s in statements]
        return {"statements": sent, **self.credential()}


def proven(
    conn: Any,
    sent: Captured,
    statements: Statements | None = None,
    opening: Statements = (),
    first: Statements = (),
    end: BoundStatement = wellapi_db.COMMIT,
) -> Rows:
    """``statements`` (by default the captured ones) on ``conn`` (any pg8000 connection, in
    autocommit) as the function sends them: one message of ``opening`` (by default the
    function's own), a fresh proof, the statements and ``end``, after a measurement's ``first``."""
    body = tuple(sent.statements if statements is None else statements)
    proof = sent.fresh_proof()
    if proof is None:
        return wellapi_db.send(conn, (*first, *body))
    message = (*first, *(opening or sent.opening), proof, *body, end)
    try:
        return wellapi_db.send(conn, message)
    except pg8000.dbapi.DatabaseError:
        driver.simple_query(conn, "ROLLBACK")
        raise


def in_two_messages(
    raw: RawClient,
    sent: Captured,
    statements: Statements,
    first: Statements = (),
    opened: Callable[[], object] = lambda: None,
) -> list[list[Any]]:
    """``statements`` in two messages: the transaction's opening (its ``BEGIN`` and settings)
    alone (then ``opened`` is called), then a fresh proof, the statements and COMMIT: the round
    trip the function's one message spares."""
    proof = sent.fresh_proof()
    if proof is None:
        raise ValueError("a request without a proof is one message already")
    wellapi_db.send(raw, sent.opening)
    opened()
    return wellapi_db.send(raw, (*first, proof, *statements, wellapi_db.COMMIT))


def captured_requests(calls: list[Call], event: dict[str, Any]) -> list[Captured]:
    """The requests among a function's messages: an opening, a proof, statements and COMMIT are
    one (its statements captured without the rest); any other message is sent as it is."""
    requests: list[Captured] = []
    for call in calls:
        proof = proof_of(call.statements) if call.protocol == "pipelined" else None
        if proof is not None:
            read_only = tuple(call.statements[:2]) == READ_ONLY_OPENING
            requests.append(Captured(proof, read_only, call.statements[3:-1], event))
        elif call.protocol == "pipelined":
            requests.append(Captured(None, False, call.statements, event))
        elif call.protocol == "simple":
            plain = tuple(BoundStatement(s) for s in split_statements(call.sql))
            requests.append(Captured(None, False, plain, event))
        else:
            raise BenchError(f"{event.get('routeKey')} sent a statement through pg8000's own")
    return requests


def captured_sql(
    handler: Handler, event: dict[str, Any], status: int
) -> tuple[Captured, dict[str, Any]]:
    """The one request a handler's answer sends (it must send exactly one), and the answer."""
    with recording() as wire:
        answer = invoke(handler, event, status)
    requests = captured_requests(wire.calls, event)
    if len(requests) != 1 or requests[0].proof is None:
        raise BenchError(f"{event['routeKey']} sent {len(requests)} requests, not one")
    return requests[0], answer
