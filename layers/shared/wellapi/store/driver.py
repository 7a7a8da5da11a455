"""pg8000 beyond its documented API: every such name the project uses, here and nowhere else.

pg8000 documents (its README) ``pg8000.native.Connection``, ``pg8000.dbapi.connect`` with its
connection and cursor, ``pg8000.exceptions`` (an error's fields in its first argument) and a
connection's ``notices``, ``notifications`` and ``parameter_statuses``; those are used where
they serve. Every other name of pg8000 that the functions, the bench (``welldev.bench``) or the
tests use is reached through this module, and listed in ``PRIVATE_NAMES`` with the shape used:
``tests/unit/test_driver_private_names.py`` checks each against the installed pg8000, so an
upgrade that renames one, drops it or changes its parameters fails there, naming it.

What each buys, against a warm Retrieve's 1.45 ms (docs/performance.md), and why no documented
call serves instead:

- ``CoreConnection._usock``, the socket: its read bound (a dead network fails a request in
  seconds, not at the function's timeout); TCP_NODELAY, which pg8000 leaves off (a large answer
  then stalls some 40 ms on a delayed ACK); a hung-up idle connection seen without a round trip.
  A socket given to ``connect`` (its documented ``sock``) does not serve: pg8000 wraps it in TLS,
  and the bound is set once connected, on the socket pg8000 keeps.
- ``CoreConnection._sock`` with ``pg8000.core._write`` and ``_flush``, then
  ``CoreConnection.handle_messages`` into a ``pg8000.core.Context`` (its ``rows``, ``columns``,
  ``error``): a transaction's statements written as one pipelined message, its answers read by
  pg8000's own handlers. One round trip where pg8000's own calls make several a statement: most
  of a request. No documented call sends or reads a message the caller made.
- ``CoreConnection._client_encoding``: the encoding a message is written and its rows read in,
  UTF-8 throughout a message that sets its transaction's settings
  (``wellapi.store.connections.send``). Correctness, not time.
- ``CoreConnection.py_types`` with ``pg8000.converters.make_param`` (``PY_TYPES`` where no
  connection is at hand): each bound value's text, as pg8000 sends it. Correctness.
- ``pg8000.converters.PG_TYPES`` and ``string_in``: a replayed create's stored rows decoded as
  pg8000 decodes the first answer's, byte for byte (``wellapi.store.idempotency``).
- ``CoreConnection._transaction_status`` (the last ReadyForQuery's): whether a kept connection's
  reported settings are its session's, or an open transaction's. Correctness.
- The bench and the tests only, to see what reaches the server: ``CoreConnection`` and its
  methods that send a message of their own (``execute_simple``, ``execute_unnamed``,
  ``prepare_statement``, ``execute_named``) or read answers (``handle_messages``), wrapped;
  ``_write``, wrapped; its table of handlers (``message_types``, by ``DATA_ROW`` and
  ``READY_FOR_QUERY``), to time the rows' decoding and keep an answer's columns; a simple query
  sent by ``execute_simple`` (several statements in one message, as no documented call sends).

pg8000's own loop (``handle_messages``) reads a message's answers: a reader of our own, cutting
them from what the socket's buffer holds, would spare a Retrieve some 25 us of its 1.45 ms, under
a tenth of it, for more of pg8000's insides (``_read``, its table of handlers, its buffered
reader's ``peek``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pg8000.converters
import pg8000.core


class Answer(Protocol):
    """What pg8000's handlers leave of a message's answers (a ``pg8000.core.Context``)."""

    statement: str | None
    rows: list[list[Any]] | None
    columns: list[dict[str, Any]] | None
    error: Exception | None


# A handler of one type of backend message: its body, the answer being read.
MessageHandler = Callable[[bytes, Answer], None]

# The class of every pg8000 connection, native and DB-API alike.
CoreConnection = pg8000.core.CoreConnection
# Its methods that send a message of their own (a simple query; an unnamed statement's; a named
# statement's Parse, then its Bind and Execute), and the one that reads answers up to
# ReadyForQuery: what the bench and the tests wrap, by these names, to see each message.
SIMPLE_QUERY = "execute_simple"
UNNAMED_QUERY = "execute_unnamed"
NAMED_PARSE = "prepare_statement"
NAMED_QUERY = "execute_named"
READ_ANSWERS = "handle_messages"
# The module whose function writes every message of every connection, and that function's name.
WRITER = pg8000.core
WRITE = "_write"
# The backend messages whose handlers the bench wraps: a row, the end of an answer.
DATA_ROW: bytes = pg8000.core.DATA_ROW
READY_FOR_QUERY: bytes = pg8000.core.READY_FOR_QUERY
# The conversions of a value sent on no connection in particular (pg8000's defaults).
DEFAULT_CONVERSIONS: Mapping[type, Any] = pg8000.converters.PY_TYPES


def socket_of(connection: Any) -> socket.socket | None:
    """The connection's socket (a TLS one is an ``ssl.SSLSocket``), None if it has none."""
    sock = getattr(connection, "_usock", None)
    return sock if isinstance(sock, socket.socket) else None


def client_encoding(connection: Any) -> str:
    """The encoding the connection writes its messages and reads their rows in."""
    return str(connection._client_encoding)


def set_client_encoding(connection: Any, encoding: str) -> None:
    connection._client_encoding = encoding


def transaction_status(connection: Any) -> bytes | None:
    """The status of the server's last ReadyForQuery (``b"I"`` idle, ``b"T"`` in a transaction,
    ``b"E"`` in a failed one); None before the first query."""
    status: bytes | None = getattr(connection, "_transaction_status", None)
    return status


def conversions(connection: Any) -> Mapping[type, Any]:
    """How the connection turns a Python value into the text it sends."""
    converting: Mapping[type, Any] = connection.py_types
    return converting


def text_of(converting: Mapping[type, Any], value: Any) -> str:
    """``value`` as pg8000 sends it, by ``converting`` (``conversions``)."""
    return str(pg8000.converters.make_param(converting, value))


def decoded_value(oid: int, text: str) -> Any:
    """A value the server sent as ``text``, of the type ``oid``, as pg8000 reads a row's (an
    unknown type's as text)."""
    return pg8000.converters.PG_TYPES.get(oid, pg8000.converters.string_in)(text)


def round_trip(connection: Any, message: bytes, statement: str) -> Answer:
    """``message`` (frontend messages, the last a Sync) written to the connection, then the
    server's answers read by pg8000's own handlers up to ReadyForQuery; the first error the
    server reported raised once they are all read. ``statement`` names the answer."""
    pg8000.core._write(connection._sock, message)
    pg8000.core._flush(connection._sock)
    answer: Answer = pg8000.core.Context(statement)
    connection.handle_messages(answer)
    return answer


def simple_query(connection: Any, sql: str) -> Answer:
    """``sql`` as one simple query (any number of statements), its answer read."""
    answer: Answer = getattr(connection, SIMPLE_QUERY)(sql)
    return answer


def handlers(connection: Any) -> dict[bytes, MessageHandler]:
    """The connection's handlers, by the type of message: pg8000's loop dispatches on this very
    table, so a handler replaced in it is the one called."""
    table: dict[bytes, MessageHandler] = connection.message_types
    return table


@dataclass(frozen=True)
class Private:
    """A name of pg8000 outside its documented API, and the shape the project relies on.

    ``owner`` is where it lives: a module (``pg8000.core``, ``pg8000.converters``), the class
    ``CoreConnection`` (a method), ``connection`` (an attribute of an open connection) or
    ``context`` (an attribute of a ``Context``). ``parameters`` are a callable's parameters,
    all of them, in order (a method's after ``self``); ``kind`` is a value's type (None: only
    that it is there).
    """

    owner: str
    name: str
    parameters: tuple[str, ...] | None = None
    kind: type | None = None


CORE, CONVERTERS, CLASS, CONNECTION, CONTEXT = (
    "pg8000.core",
    "pg8000.converters",
    "CoreConnection",
    "connection",
    "context",
)
PRIVATE_NAMES: tuple[Private, ...] = (
    Private(CORE, "CoreConnection", kind=type),
    Private(CORE, "Context", parameters=("statement", "stream", "columns", "input_funcs")),
    Private(CORE, WRITE, parameters=("sock", "d")),
    Private(CORE, "_flush", parameters=("sock",)),
    Private(CORE, "DATA_ROW", kind=bytes),
    Private(CORE, "READY_FOR_QUERY", kind=bytes),
    Private(CONVERTERS, "make_param", parameters=("py_types", "value")),
    Private(CONVERTERS, "PY_TYPES", kind=dict),
    Private(CONVERTERS, "PG_TYPES", kind=dict),
    Private(CONVERTERS, "string_in", parameters=("data",)),
    Private(CLASS, READ_ANSWERS, parameters=("context",)),
    Private(CLASS, SIMPLE_QUERY, parameters=("statement",)),
    Private(CLASS, UNNAMED_QUERY, parameters=("statement", "vals", "oids", "stream")),
    Private(CLASS, NAMED_PARSE, parameters=("statement", "oids")),
    Private(
        CLASS,
        NAMED_QUERY,
        parameters=("statement_name_bin", "params", "columns", "input_funcs", "statement"),
    ),
    Private(CONNECTION, "_usock", kind=socket.socket),
    Private(CONNECTION, "_sock"),
    Private(CONNECTION, "_client_encoding", kind=str),
    Private(CONNECTION, "_transaction_status"),
    Private(CONNECTION, "py_types", kind=dict),
    Private(CONNECTION, "message_types", kind=dict),
    Private(CONTEXT, "statement"),
    Private(CONTEXT, "rows"),
    Private(CONTEXT, "columns"),
    Private(CONTEXT, "error"),
)
