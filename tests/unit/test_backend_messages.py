"""A message's answers are read as the driver reads them (``wellapi.store.protocol``): the same
messages, in the same order, to the same handlers, up to ReadyForQuery and nothing beyond it,
wherever the socket's buffer cuts the stream."""

from __future__ import annotations

import io
import struct
from types import SimpleNamespace
from typing import Any

import pg8000.core
import pg8000.exceptions
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wellapi.store.protocol import READY_FOR_QUERY, read_until_ready

# Types of the backend's messages (DataRow, CommandComplete, ParseComplete, NoticeResponse...).
CODES = [b"D", b"C", b"1", b"2", b"T", b"N", b"S", b"n", b"s"]
ERROR = b"E"
messages = st.lists(st.tuples(st.sampled_from(CODES), st.binary(max_size=300)), max_size=40)


def framed(parts: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(code + struct.pack("!i", len(body) + 4) + body for code, body in parts)


class Server:
    """A connection reading ``stream`` through a buffer of ``buffer_size`` bytes, its handlers
    recording each message; an ErrorResponse's handler sets the context's error, as pg8000's."""

    def __init__(self, stream: bytes, buffer_size: int) -> None:
        self._sock = io.BufferedReader(io.BytesIO(stream), buffer_size=buffer_size)
        self.seen: list[tuple[bytes, bytes]] = []
        self.message_types = {code: self._recorder(code) for code in [*CODES, READY_FOR_QUERY]}
        self.message_types[ERROR] = self._error

    def _recorder(self, code: bytes) -> Any:
        return lambda data, context: self.seen.append((code, bytes(data)))

    def _error(self, data: bytes, context: Any) -> None:
        self.seen.append((ERROR, bytes(data)))
        context.error = context.error or ValueError(bytes(data))


def read_by(reader: Any, server: Server) -> tuple[Any, list[tuple[bytes, bytes]], bytes]:
    """What ``reader`` raised (or None), the messages handled, and what it left unread."""
    raised = None
    try:
        reader(server, SimpleNamespace(error=None))
    except (ValueError, pg8000.exceptions.InterfaceError) as error:
        raised = (type(error), error.args)
    return raised, server.seen, server._sock.read()


@given(
    answers=messages,
    after=messages,
    error=st.one_of(st.none(), st.binary(max_size=50)),
    buffer_size=st.integers(min_value=1, max_value=600),
)
def test_the_same_messages_reach_the_same_handlers_as_the_drivers_loop(
    answers, after, error, buffer_size
):
    parts = answers + ([] if error is None else [(ERROR, error)])
    stream = framed([*parts, (READY_FOR_QUERY, b"I"), *after])

    ours = read_by(read_until_ready, Server(stream, buffer_size))
    drivers = read_by(pg8000.core.CoreConnection.handle_messages, Server(stream, buffer_size))

    assert ours == drivers
    assert ours[1] == [*parts, (READY_FOR_QUERY, b"I")]
    assert ours[2] == framed(after)  # whatever follows ReadyForQuery is the driver's next read


WHOLE = framed([(b"D", b"x" * 20), (READY_FOR_QUERY, b"I")])


@given(cut=st.integers(min_value=0, max_value=len(WHOLE) - 1), buffer_size=st.integers(1, 64))
def test_a_stream_that_ends_before_ready_for_query_is_a_network_error(cut, buffer_size):
    with pytest.raises(pg8000.exceptions.InterfaceError, match="network error"):
        read_until_ready(Server(WHOLE[:cut], buffer_size), SimpleNamespace(error=None))


def test_a_handler_that_raises_has_consumed_its_message_and_no_other():
    server = Server(framed([(b"D", b"1"), (b"X", b"boom"), (b"D", b"2")]), 4096)

    def raising(data: bytes, context: Any) -> None:
        raise RuntimeError(data)

    server.message_types[b"X"] = raising
    with pytest.raises(RuntimeError):
        read_until_ready(server, SimpleNamespace(error=None))
    assert server.seen == [(b"D", b"1")]
    assert server._sock.read() == framed([(b"D", b"2")])
