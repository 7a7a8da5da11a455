"""What reaches the database: statements, round trips and transactions at the pg8000 connection."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi.store import connections
from wellapi.store.connections import OPENING, READ_ONLY_OPENING
from wellapi.store.sql import BoundStatement
from welldev.bench.report import Report

SCOPE_PREFIX = "SELECT workspace_pk, person_pk FROM core_api.set_scope("
# A request is a transaction of two messages (``wellapi.store.connections.Pool.run_proven``):
# its opening, then the proof's statement (revision 0023), its statements and COMMIT, the
# second pipelined (``connections.send``) and recorded as its statements' texts joined by ";".
OPENINGS = (OPENING, READ_ONLY_OPENING)
PROOF = re.compile(r"CALL core_api\.prove_(scope|key)\((?:'[^']*'|\$1)\);")
COMMIT = ";COMMIT"
# RDS Proxy pins a client's session to one backend when a statement's text is longer than this.
PINNING_BYTES = 16_384


def proof_of(sql: str) -> tuple[str | None, str]:
    """The kind of proof a request's second message opens with ("scope", "key" or None), and
    its statements: what the request itself runs, without the proof and the COMMIT."""
    proof = PROOF.match(sql)
    if proof is None:
        return None, sql
    return proof.group(1), sql[proof.end() :].removesuffix(COMMIT)


def unproven(sql: str) -> str:
    """A message without the proof it opens with and its COMMIT, if it is a request's."""
    return proof_of(sql)[1]


@dataclass
class Call:
    # simple (one Query message), pipelined (``connections.send``: every statement parsed and
    # bound, one Sync), unnamed or named (pg8000's own extended protocol calls)
    protocol: str
    sql: str
    round_trips: int = 0
    seconds: float = 0.0
    # Each statement's text as parsed (a pipelined call's; a simple call is one text).
    texts: tuple[str, ...] = ()
    # A pipelined call's statements as sent, their values bound (what a replay sends again).
    statements: tuple[BoundStatement, ...] = ()

    @property
    def longest_statement_bytes(self) -> int:
        return max((len(t.encode()) for t in self.texts or (self.sql,)), default=0)


@dataclass
class Wire:
    calls: list[Call] = field(default_factory=list)
    # Waits for ReadyForQuery outside any execute (connecting, authentication).
    other_round_trips: int = 0

    @property
    def round_trips(self) -> int:
        return sum(c.round_trips for c in self.calls) + self.other_round_trips

    @property
    def statements(self) -> list[str]:
        """Every statement sent, the transactions' openings and the proofs included."""
        return [s for c in self.calls for s in split_statements(c.sql)]

    @property
    def operation_statements(self) -> list[str]:
        """Every statement of the requests themselves: not their openings, proofs, scope
        statements and COMMITs."""
        return [
            s
            for c in self.calls
            if c.sql not in OPENINGS
            for s in split_statements(unproven(c.sql))
            if not s.startswith(SCOPE_PREFIX)
        ]

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def largest_message_bytes(self) -> int:
        """The longest statement text sent, a simple query's whole text or one parsed statement
        of a pipeline (RDS Proxy pins a session to its backend for one over 16 KB:
        ``PINNING_BYTES``); values bound to parameters are not statement text."""
        return max((c.longest_statement_bytes for c in self.calls), default=0)

    @property
    def transactions(self) -> int:
        """The transactions the calls ran (a request's two messages are one)."""
        return count_transactions(self.calls)


def split_statements(sql: str) -> list[str]:
    """The statements of a simple-protocol query: ``;`` outside quoted text splits them.

    The API's and the sync writer's SQL never use dollar quoting, so quotes suffice.
    """
    parts: list[str] = []
    current: list[str] = []
    quote_char: str | None = None
    for char in sql:
        if quote_char is not None:
            if char == quote_char:
                quote_char = None
        elif char in "'\"":
            quote_char = char
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_OPENS = ("BEGIN", "START")
_CLOSES = ("COMMIT", "ROLLBACK", "END", "ABORT")


def count_transactions(calls: Sequence[Call]) -> int:
    """Transactions the calls ran: outside a BEGIN block, each call is its own implicit one."""
    count = 0
    in_block = False
    for call in calls:
        heads = [s.split(None, 1)[0].upper() for s in split_statements(call.sql)]
        if not in_block and heads and heads[0] not in _CLOSES:
            count += 1
        for head in heads:
            if head in _OPENS:
                in_block = True
            elif head in _CLOSES:
                in_block = False
    return count


@contextlib.contextmanager
def recording() -> Iterator[Wire]:
    """Count every query and every wait for the server on every pg8000 connection.

    ``handle_messages`` reads until ReadyForQuery: each call is one network round trip (a
    simple query costs one, a parameterised statement three: Parse, Describe, Bind+Execute).
    """
    core = pg8000.core.CoreConnection
    originals = {
        name: getattr(core, name)
        for name in ("execute_simple", "execute_unnamed", "execute_named", "handle_messages")
    }
    wire = Wire()
    current: list[Call] = []
    pipelined = connections.send

    def traced(
        protocol: str,
        sql: str,
        run: Callable[[], Any],
        texts: tuple[str, ...] = (),
        statements: tuple[BoundStatement, ...] = (),
    ) -> Any:
        call = Call(protocol, sql, texts=texts, statements=statements)
        wire.calls.append(call)
        current.append(call)
        started = time.perf_counter()
        try:
            return run()
        finally:
            call.seconds = time.perf_counter() - started
            current.pop()

    def send(connection: Any, statements: Sequence[BoundStatement]) -> Any:
        sent = tuple(statements)
        texts = tuple(s.text for s in sent)
        return traced(
            "pipelined", ";".join(texts), lambda: pipelined(connection, sent), texts, sent
        )

    def execute_simple(self: Any, statement: str) -> Any:
        return traced("simple", statement, lambda: originals["execute_simple"](self, statement))

    def execute_unnamed(self: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        return traced(
            "unnamed",
            statement,
            lambda: originals["execute_unnamed"](self, statement, *args, **kwargs),
        )

    def execute_named(self: Any, *args: Any, **kwargs: Any) -> Any:
        statement = str(kwargs.get("statement", args[-1] if args else ""))
        return traced("named", statement, lambda: originals["execute_named"](self, *args, **kwargs))

    def handle_messages(self: Any, context: Any) -> Any:
        if current:
            current[-1].round_trips += 1
        else:
            wire.other_round_trips += 1
        return originals["handle_messages"](self, context)

    patches = {
        "execute_simple": execute_simple,
        "execute_unnamed": execute_unnamed,
        "execute_named": execute_named,
        "handle_messages": handle_messages,
    }
    for name, function in patches.items():
        setattr(core, name, function)
    connections.send = send
    try:
        yield wire
    finally:
        for name, function in originals.items():
            setattr(core, name, function)
        connections.send = pipelined


def largest_message(report: Report, name: str, wire: Wire) -> None:
    """``wire.<name>``: the request's longest message against what pins an RDS Proxy session."""
    report.figure(f"wire.{name}.largest_message", [wire.largest_message_bytes], "bytes")
    report.ratio(f"wire.{name}", wire.largest_message_bytes / PINNING_BYTES, 1.0)
