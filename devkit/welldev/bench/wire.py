"""What reaches the database: statements, round trips and transactions at the pg8000 connection."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from wellapi.store import connections, driver
from wellapi.store.connections import COMMIT, OPENING, READ_ONLY_OPENING
from wellapi.store.sql import BoundStatement
from welldev.bench.report import Report

SCOPE_PREFIX = "SELECT workspace_pk, person_pk FROM core_api.set_scope("
# A request is a transaction of one message (``wellapi.store.connections.Pool.run_proven``),
# pipelined (``connections.send``): its opening, the proof's statement
# (``core_api.prove_scope`` or ``prove_key``), its statements and COMMIT.
OPENINGS = (OPENING, READ_ONLY_OPENING)
OPENING_TEXTS = frozenset(s.text for opening in OPENINGS for s in opening)
PROOF = re.compile(r"CALL core_api\.prove_(scope|key)\(")
# RDS Proxy pins a client's session to one backend when a statement's text is longer than this.
PINNING_BYTES = 16_384


def proof_of(statements: Sequence[BoundStatement]) -> str | None:
    """The kind of proof a request's message opens with, after its opening: "scope", "key" or
    None (a message that is no request's)."""
    opening = tuple(statements[:2])
    if opening not in OPENINGS or len(statements) < 4 or statements[-1] != COMMIT:
        return None
    proof = PROOF.match(statements[2].text)
    return proof.group(1) if proof else None


@dataclass
class Call:
    # simple (one Query message), pipelined (``connections.send``: every statement parsed and
    # bound, one Sync), unnamed or named (pg8000's own extended protocol calls)
    protocol: str
    sql: str  # a pipelined call's statements' texts joined by ";"
    round_trips: int = 0
    seconds: float = 0.0
    # A pipelined call's statements as sent, their values bound (what a replay sends again).
    statements: tuple[BoundStatement, ...] = ()

    @property
    def texts(self) -> list[str]:
        """Each statement's text as parsed (a simple call's is one text)."""
        return [s.text for s in self.statements] or [self.sql]


_OPENS = ("BEGIN", "START")
_CLOSES = ("COMMIT", "ROLLBACK", "END", "ABORT")


@dataclass
class Wire:
    calls: list[Call] = field(default_factory=list)
    # Waits for ReadyForQuery outside any execute (connecting, authentication).
    other_round_trips: int = 0
    # The driver's decoding of the rows (its handler of DataRow), in the seconds.
    decoding_seconds: float = 0.0

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
            for s in ([s.text for s in c.statements] or split_statements(c.sql))
            if not (
                s in OPENING_TEXTS or PROOF.match(s) or s == "COMMIT" or s.startswith(SCOPE_PREFIX)
            )
        ]

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def largest_message_bytes(self) -> int:
        """The longest statement text sent, a simple query's whole or a pipeline's one (values
        bound to parameters are not statement text)."""
        return max((len(t.encode()) for c in self.calls for t in c.texts), default=0)

    @property
    def transactions(self) -> int:
        """The transactions the calls ran (a request's message is one): outside a BEGIN
        block, each call is its own implicit one."""
        count = 0
        in_block = False
        for call in self.calls:
            heads = [s.split(None, 1)[0].upper() for s in split_statements(call.sql)]
            if not in_block and heads and heads[0] not in _CLOSES:
                count += 1
            for head in heads:
                if head in _OPENS:
                    in_block = True
                elif head in _CLOSES:
                    in_block = False
        return count


# A statement of a simple-protocol query: up to a ``;`` outside quoted text (the API's and the
# sync writer's SQL never use dollar quoting, so quotes suffice).
_STATEMENT = re.compile(r"""(?:'[^']*'|"[^"]*"|[^;'"])+""")


def split_statements(sql: str) -> list[str]:
    """The statements of a simple-protocol query: ``;`` outside quoted text splits them."""
    return [s.strip() for s in _STATEMENT.findall(sql) if s.strip()]


def timed(function: Callable[..., Any], spent: Callable[[float], object]) -> Callable[..., Any]:
    """``function``, telling ``spent`` the seconds each of its calls took."""

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent(time.perf_counter() - started)

    return timed_call


@contextlib.contextmanager
def recording() -> Iterator[Wire]:
    """Every query on every pg8000 connection, timed with the rows' decoding, and its round
    trips: each read until ReadyForQuery is one (``driver.READ_ANSWERS``), of the driver's own
    calls or of a pipelined message (``driver.round_trip``)."""
    core = driver.CoreConnection
    wire = Wire()
    current: list[Call] = []

    def traced(run: Callable[..., Any], call_of: Callable[..., Call]) -> Callable[..., Any]:
        def call_traced(*args: Any, **kwargs: Any) -> Any:
            call = call_of(*args, **kwargs)
            wire.calls.append(call)
            current.append(call)
            try:
                return timed(run, lambda seconds: setattr(call, "seconds", seconds))(
                    *args, **kwargs
                )
            finally:
                current.pop()

        return call_traced

    def decoded(seconds: float) -> None:
        wire.decoding_seconds += seconds

    def waiting(read: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def waited(self: Any, context: Any) -> Any:
            if current:
                current[-1].round_trips += 1
            else:
                wire.other_round_trips += 1
            # A connection dispatches on a table of its own bound methods, made when it opened.
            table = driver.handlers(self)
            decode = table[driver.DATA_ROW]
            table[driver.DATA_ROW] = timed(decode, decoded)
            try:
                return read(self, context)
            finally:
                table[driver.DATA_ROW] = decode

        return waited

    def plain(protocol: str) -> Callable[..., Call]:
        return lambda _, sql, *args, **kwargs: Call(protocol, sql)

    def named(_: Any, *args: Any, **kwargs: Any) -> Call:
        return Call("named", str(kwargs.get("statement", args[-1] if args else "")))

    def pipelined(_: Any, statements: Sequence[BoundStatement]) -> Call:
        texts = ";".join(s.text for s in statements)
        return Call("pipelined", texts, statements=tuple(statements))

    patches: list[tuple[Any, str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = [
        (core, driver.SIMPLE_QUERY, lambda run: traced(run, plain("simple"))),
        (core, driver.UNNAMED_QUERY, lambda run: traced(run, plain("unnamed"))),
        (core, driver.NAMED_QUERY, lambda run: traced(run, named)),
        (core, driver.READ_ANSWERS, waiting),
        (connections, "send", lambda run: traced(run, pipelined)),
    ]
    with contextlib.ExitStack() as stack:
        for owner, name, wrap in patches:
            stack.enter_context(mock.patch.object(owner, name, wrap(getattr(owner, name))))
        yield wire


def largest_message(report: Report, name: str, wire: Wire) -> None:
    """``wire.<name>``: the request's longest message against what pins an RDS Proxy session."""
    report.figure(f"wire.{name}.largest_message", [wire.largest_message_bytes], "bytes")
    report.ratio(f"wire.{name}", wire.largest_message_bytes / PINNING_BYTES, 1.0)
