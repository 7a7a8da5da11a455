"""Statements and the values bound to them: what a request sends the database.

A statement's text is fixed by its shape and holds ``%(name)s`` slots; a request binds its
values to them as the parameters ``$1, $2, ...`` of the extended query protocol, and the
connection sends all of a message's statements pipelined, before one Sync: one network round
trip (``wellapi.store.connections``). So no value is ever written into SQL text: the text the
database keeps and shows (``pg_stat_activity``, ``pg_stat_statements``) holds ``$1`` where a
proof or an id went, and a statement is no longer for holding more values: a batch of
thousands of record ids is one array parameter, and no statement's text comes near the 16 KB
past which RDS Proxy pins a session.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, Literal, NamedTuple
from uuid import UUID

from wellapi.store import driver
from wellapi.store.rows import DocumentWriter, ReadColumns, ReadRow

# The type a parameter is declared with: its value's type where a literal of it would have one
# (a number, a boolean, bytes, an array of numbers or of text), otherwise ``unknown`` (0), so
# the server types it from where it stands, as it types a quoted literal.
UNKNOWN = 0
_SCALAR_OIDS: dict[type, int] = {bool: 16, bytes: 17, Decimal: 1700, float: 701}
INT4, INT8, INT4_ARRAY, INT8_ARRAY, TEXT_ARRAY = 23, 20, 1007, 1016, 1009
INT4_RANGE = range(-(2**31), 2**31)


def oid_of(value: Any) -> int:
    """The type ``value`` is declared with when it is bound."""
    if isinstance(value, bool):
        return _SCALAR_OIDS[bool]
    if isinstance(value, int):
        return INT4 if value in INT4_RANGE else INT8
    if isinstance(value, list | tuple) and value:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return INT4_ARRAY if all(v in INT4_RANGE for v in value) else INT8_ARRAY
        if all(isinstance(v, str) for v in value):
            return TEXT_ARRAY
        return UNKNOWN
    if isinstance(value, UUID | str | datetime) or value is None:
        return UNKNOWN
    return _SCALAR_OIDS.get(type(value), UNKNOWN)


@dataclass(frozen=True)
class BoundStatement:
    """One statement and the values of its parameters ``$1, $2, ...``, in order."""

    text: str
    values: tuple[Any, ...] = ()

    @cached_property
    def oids(self) -> tuple[int, ...]:
        # Asked for its name, its check and its Parse: worked out once a statement.
        return tuple(oid_of(v) for v in self.values)


class _Numbering(dict[str, str]):
    """Each slot's parameter, numbered in the order the text first names it."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__()
        self.given = values
        self.bound: list[Any] = []

    def __missing__(self, name: str) -> str:
        value = self.given[name]  # a slot without a value is a KeyError, as it always was
        if isinstance(value, tuple):
            value = list(value)
        self.bound.append(value)
        self[name] = placeholder = f"${len(self.bound)}"
        return placeholder


@dataclass(frozen=True)
class Statement:
    """A composed statement with ``%(name)s`` slots and the values a request may leave unset."""

    text: str
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def bind(self, params: Mapping[str, Any] | None = None) -> BoundStatement:
        """The statement with its slots as parameters, and their values."""
        values = dict(self.defaults)
        if params:
            values.update(params)
        numbering = _Numbering(values)
        return BoundStatement(self.text % numbering, tuple(numbering.bound))

    def __add__(self, other: Statement) -> Statement:
        """The two texts as one statement (a statement that wraps another), both slots'."""
        return Statement(self.text + other.text, {**self.defaults, **other.defaults})


def fixed(text: str) -> BoundStatement:
    """A statement without values."""
    return BoundStatement(text)


_INT16 = struct.Struct("!h")
_INT32 = struct.Struct("!i")


def _message(code: bytes, body: bytes) -> bytes:
    return code + _INT32.pack(len(body) + 4) + body


# The unnamed portal described (its rows' types) and run to its end; the pipeline's end.
_DESCRIBE_AND_EXECUTE = _message(b"D", b"P\x00") + _message(b"E", b"\x00" + _INT32.pack(0))
_SYNC = _message(b"S", b"")


class _Sending(NamedTuple):
    """What a message's bytes take of the connection it is sent on: the encoding of its text, and
    how its values become text (``driver.conversions``)."""

    encoding: str
    conversions: Mapping[type, Any] = driver.DEFAULT_CONVERSIONS


def _sending(connection: Any) -> _Sending:
    return _Sending(driver.client_encoding(connection), driver.conversions(connection))


def _parse_message(name: bytes, sending: _Sending, statement: BoundStatement) -> bytes:
    """Parse ``statement`` under ``name`` (empty: the unnamed statement, which the next Parse
    replaces, so nothing of it outlives the message)."""
    oids = statement.oids
    parse = bytearray(name + b"\x00" + statement.text.encode(sending.encoding) + b"\x00")
    parse += _INT16.pack(len(oids))
    for oid in oids:
        parse += _INT32.pack(oid)
    return _message(b"P", bytes(parse))


def _bind(name: bytes, sending: _Sending, statement: BoundStatement) -> bytes:
    """Bind the values (as text) of the statement prepared as ``name`` to the unnamed portal,
    then describe and run it."""
    encoding, conversions = sending
    bind = bytearray(b"\x00" + name + b"\x00" + _INT16.pack(0) + _INT16.pack(len(statement.values)))
    for value in statement.values:
        text = None if value is None else _text_of(conversions, value)
        if text is None:
            bind += _INT32.pack(-1)
        else:
            data = text.encode(encoding)
            bind += _INT32.pack(len(data)) + data
    bind += _INT16.pack(0)
    return _message(b"B", bytes(bind)) + _DESCRIBE_AND_EXECUTE


def _text_of(conversions: Mapping[type, Any], value: Any) -> str:
    """A value in PostgreSQL's text form. An array's elements are each quoted: pg8000 leaves
    ``null`` (any case but upper) bare, which PostgreSQL reads as NULL."""
    if not isinstance(value, list | tuple):
        return driver.text_of(conversions, value)
    elements = (
        "NULL"
        if v is None
        else '"' + _text_of(conversions, v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in value
    )
    return "{" + ",".join(elements) + "}"


def _unnamed(sending: _Sending, statement: BoundStatement) -> bytes:
    """``statement`` parsed unnamed, bound, described and run; of a fixed command (no values),
    the same bytes every time, kept."""
    if not statement.values:
        return _kept_unnamed(statement, sending.encoding)
    return _parse_message(b"", sending, statement) + _bind(b"", sending, statement)


# Bounded: a function sends a few fixed commands and checks a few dozen sets of our names
# (``check_statement``: values of text alone, which convert alike on every connection and no
# request gives).
@lru_cache(maxsize=256)
def _kept_unnamed(statement: BoundStatement, encoding: str) -> bytes:
    sending = _Sending(encoding)
    return _parse_message(b"", sending, statement) + _bind(b"", sending, statement)


def pipeline(connection: Any, statements: Sequence[BoundStatement]) -> bytes:
    """The messages that send ``statements`` over the extended query protocol, pipelined: each
    parsed unnamed, bound, described and executed, then one Sync. ``connection`` is a pg8000
    connection: its encoding and its conversions."""
    sending = _sending(connection)
    buffer = bytearray()
    for statement in statements:
        buffer += _unnamed(sending, statement)
    return bytes(buffer + _SYNC)


# ---- statements kept prepared under a name ----------------------------------------------------

# What a session holds under one of our names must be what we parsed under it: a name is the
# hash of its text and declared types, and every message that binds a name an earlier message
# parsed first calls ``core_api.check_prepared``, which fails the message (the server skips the
# rest, up to the Sync) unless each such name holds that text, those types, and was made by a
# Parse message (``from_sql`` false), which SQL cannot make: a session's own ``PREPARE`` under
# our name, after a ``DEALLOCATE`` of ours, never serves a request.
CHECK_PREPARED = "CALL core_api.check_prepared($1, $2, $3)"
SUBVERTED_SQLSTATE = "WP001"


# Bounded: a function composes a few dozen shapes, the sync writer a handful.
@lru_cache(maxsize=1024)
def name_of(text: str, oids: tuple[int, ...]) -> str:
    """The name ``text`` is prepared under with parameters of types ``oids``."""
    signature = text.encode("utf-8") + b"\x00" + ",".join(map(str, oids)).encode("ascii")
    return "w_" + hashlib.sha256(signature).hexdigest()[:40]


@lru_cache(maxsize=1024)
def _digest(text: str) -> str:
    """What ``pg_prepared_statements`` shows of ``text``, as the check compares it. md5 tells
    our own texts apart; what SQL cannot forge is ``from_sql`` false, not a digest."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _kept_prepared(statement: BoundStatement) -> bool:
    """Whether ``statement`` is worth keeping prepared: one with values is a request's (the
    proof, the scope, an operation's), run again and again; one without is a fixed command
    (``BEGIN``, ``COMMIT``, ``CALL``) that costs nothing to parse."""
    return bool(statement.values)


# The most names one connection keeps. ``core_api.check_prepared`` reads every statement its
# session holds (``pg_prepared_statements`` lists them all, a few microseconds each), and each
# name keeps its plans in the backend's memory: past this, the names bound least recently are
# closed, so a function that serves many shapes pays the same check as one that serves few.
MAX_NAMES = 16


@dataclass
class Prepared:
    """The names the session of one connection holds our statements under, as far as its
    messages that succeeded say (``wellapi.store.connections.send``), least recently bound
    first."""

    held: dict[str, None] = field(default_factory=dict)
    # How many of its messages found a name not holding ours: past ``NAMES_LOST_LIMIT`` the
    # connection stops naming (``wellapi.store.connections.send``).
    lost: int = 0

    def settle(self, framed: Framed, *, succeeded: bool) -> None:
        """What the session holds once ``framed`` was answered. Its Close messages come first,
        so they took effect even when a statement after them failed."""
        for name in framed.closed:
            self.held.pop(name, None)
        if succeeded:
            for name in framed.bound:
                self.held.pop(name, None)
                self.held[name] = None


@dataclass(frozen=True)
class Framed:
    """One message's bytes; the names it closes, and those it binds (parsed or held), in the
    order it binds them."""

    data: bytes
    closed: frozenset[str] = frozenset()
    bound: tuple[str, ...] = ()


def check_statement(
    statements: Sequence[BoundStatement], held: Collection[str]
) -> BoundStatement | None:
    """The check of every name that ``statements`` bind and an earlier message parsed (None when
    there is none: a name parsed in the message itself holds what it parsed, since no SQL but
    the message's own runs between its Parse and its Bind)."""
    checked: dict[str, BoundStatement] = {}
    for statement in statements:
        if _kept_prepared(statement):
            name = name_of(statement.text, statement.oids)
            if name in held:
                checked[name] = statement
    if not checked:
        return None
    digests = tuple(_digest(s.text) for s in checked.values())
    types = tuple("{" + ",".join(map(str, s.oids)) + "}" for s in checked.values())
    return BoundStatement(CHECK_PREPARED, (tuple(checked), digests, types))


def named_pipeline(
    connection: Any, statements: Sequence[BoundStatement], prepared: Prepared
) -> Framed:
    """``statements`` as ``pipeline`` sends them, each one worth it (``_kept_prepared``)
    prepared under its name: closed and parsed the first time the session sees it, only bound
    after; the names an earlier message parsed checked (``check_statement``) before the first
    of them is bound; first, the names that would keep the session past ``MAX_NAMES``
    closed."""
    names = [name_of(s.text, s.oids) if _kept_prepared(s) else None for s in statements]
    bound = tuple(dict.fromkeys(n for n in names if n is not None))
    closed = _least_recent(prepared, bound)
    buffer = bytearray(b"".join(_close_message(name) for name in closed))
    check = check_statement(statements, prepared.held)
    sending = _sending(connection)
    parsed: set[str] = set()
    for statement, name in zip(statements, names, strict=True):
        if name is None:
            buffer += _unnamed(sending, statement)
            continue
        encoded = name.encode("ascii")
        if name in prepared.held and check is not None:
            # Before the first Bind of a name an earlier message parsed: only this message's
            # own statements ran since the last check.
            buffer += _kept_unnamed(check, sending.encoding)
            check = None
        elif name not in prepared.held and name not in parsed:
            # A Close of a name the session does not hold is no error; of one it holds, SQL's
            # own PREPARE included, it makes room for ours.
            buffer += _close_message(name) + _parse_message(encoded, sending, statement)
            parsed.add(name)
        buffer += _bind(encoded, sending, statement)
    return Framed(bytes(buffer + _SYNC), closed, bound)


def _least_recent(prepared: Prepared, bound: Sequence[str]) -> frozenset[str]:
    """The held names to close so that the session keeps at most ``MAX_NAMES`` once ``bound``
    are parsed: those bound least recently, none of ``bound``."""
    fresh = sum(name not in prepared.held for name in bound)
    over = len(prepared.held) + fresh - MAX_NAMES
    if over <= 0:
        return frozenset()
    idle = (name for name in prepared.held if name not in bound)
    return frozenset(name for name, _ in zip(idle, range(over), strict=False))


def _close_message(name: str) -> bytes:
    return _message(b"C", b"S" + name.encode("ascii") + b"\x00")


@dataclass(frozen=True)
class Layout:
    """Where each value sits in a result row, by label (``wellapi.store.rows``): the labels of a
    ``Statement``'s columns, in the order the statement emits them."""

    labels: tuple[str, ...]

    @cached_property
    def columns(self) -> ReadColumns:
        # A layout lives as long as its composed statement (statements.read_template's cache),
        # so each label is looked up once per environment, not once per row.
        return ReadColumns(self.labels)

    def rows(self, values: list[list[Any]], writer: DocumentWriter | None = None) -> list[ReadRow]:
        """The rows, each written by ``writer`` where the statement wrote no document."""
        columns = self.columns
        return [ReadRow(row, columns, writer) for row in values]


# How many rows a statement of a script answers with.
Returns = Literal["nothing", "one", "rows"]


@dataclass(frozen=True)
class ScriptPart:
    """One statement of a script, named, with the number of rows it answers with."""

    name: str
    statement: BoundStatement
    returns: Returns


@dataclass(frozen=True)
class Script:
    """Statements sent as one message, whose answer is taken apart again by name.

    The connection gathers the rows of every statement of a message one after another, with
    nothing to tell where one statement's end; each part says how many it gives, and one
    part may give any number, so the parts that build the script also split its answer.
    """

    parts: tuple[ScriptPart, ...]

    def __post_init__(self) -> None:
        names = [p.name for p in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"parts named twice: {names}")
        if sum(p.returns == "rows" for p in self.parts) > 1:
            raise ValueError("only one part may answer with any number of rows")

    @property
    def statements(self) -> tuple[BoundStatement, ...]:
        return tuple(p.statement for p in self.parts)

    def split(self, rows: Sequence[list[Any]]) -> dict[str, list[list[Any]]]:
        """Each part's rows, by name."""
        fixed = sum(p.returns == "one" for p in self.parts)
        spare = len(rows) - fixed
        open_ended = any(p.returns == "rows" for p in self.parts)
        if spare < 0 or (spare and not open_ended):
            raise RuntimeError(f"expected {fixed} rows besides a read's, got {len(rows)}")
        answer: dict[str, list[list[Any]]] = {}
        at = 0
        for part in self.parts:
            count = {"nothing": 0, "one": 1, "rows": spare}[part.returns]
            answer[part.name] = list(rows[at : at + count])
            at += count
        return answer
