"""Every name of pg8000 used beyond its documented API (``wellapi.store.driver.PRIVATE_NAMES``)
is in the installed pg8000 with the shape used, and no module but ``driver`` names one.

A pg8000 upgrade that renames one of them, drops it, or changes its parameters or its type fails
here, naming it. No database: a connection is opened on one end of a socket pair whose other end
answers as a server would.
"""

from __future__ import annotations

import inspect
import re
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg8000.converters
import pg8000.core
import pg8000.dbapi
import pytest

from wellapi.store import driver
from wellapi.store.driver import Private

ROOT = Path(__file__).resolve().parents[2]
# Where the functions, the bench and the tests are; the vendored code is not the project's.
TREES = (ROOT / "layers" / "shared" / "wellapi", ROOT / "devkit" / "welldev", ROOT / "tests")
OUTSIDE = (ROOT / "tests" / "vendor",)
ALLOWED = {Path(driver.__file__).resolve(), Path(__file__).resolve()}


def message(code: bytes, body: bytes = b"") -> bytes:
    return code + struct.pack("!i", len(body) + 4) + body


READY = message(b"Z", b"I")
# A server's answer to a startup: authenticated, its encoding, its key, ready.
STARTUP = (
    message(b"R", struct.pack("!i", 0))
    + message(b"S", b"client_encoding\x00UTF8\x00")
    + message(b"K", struct.pack("!ii", 1, 2))
    + READY
)
# A query's answers: one text column named "x", one row "y", its completion.
ROWS = (
    message(b"T", struct.pack("!h", 1) + b"x\x00" + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0))
    + message(b"D", struct.pack("!hi", 1, 1) + b"y")
    + message(b"C", b"SELECT 1\x00")
)
SYNC = message(b"S")


@pytest.fixture
def served() -> Iterator[tuple[Any, socket.socket]]:
    """A pg8000 connection, and the socket the server's answers are written to."""
    ours, server = socket.socketpair()
    server.sendall(STARTUP)
    connection = pg8000.dbapi.connect(user="u", sock=ours, ssl_context=False)
    try:
        yield connection, server
    finally:
        connection.close()
        server.close()


def owner_of(private: Private, connection: Any) -> Any:
    return {
        driver.CORE: pg8000.core,
        driver.CONVERTERS: pg8000.converters,
        driver.CLASS: pg8000.core.CoreConnection,
        driver.CONNECTION: connection,
        driver.CONTEXT: pg8000.core.Context("SELECT 1"),
    }[private.owner]


def changed(private: Private, owner: Any) -> str | None:
    """How the name differs from the shape ``private`` says, None if it does not."""
    if not hasattr(owner, private.name):
        return "gone"
    found = getattr(owner, private.name)
    if private.parameters is not None:
        if not callable(found):
            return f"not callable: a {type(found).__name__}"
        names = tuple(inspect.signature(found).parameters)
        if private.owner == driver.CLASS:
            names = names[1:]  # self
        if names != private.parameters:
            return f"its parameters are {names}, not {private.parameters}"
    if private.kind is not None and not isinstance(found, private.kind):
        return f"a {type(found).__name__}, not a {private.kind.__name__}"
    return None


@pytest.mark.parametrize("private", driver.PRIVATE_NAMES, ids=lambda p: f"{p.owner}.{p.name}")
def test_each_private_name_is_in_the_installed_pg8000_as_used(private, served):
    connection, _ = served
    difference = changed(private, owner_of(private, connection))
    where = f"pg8000 {pg8000.__version__}: {private.owner}.{private.name}"
    assert difference is None, f"{where} {difference}"


def test_a_name_gone_or_changed_is_told(monkeypatch):
    write = Private(driver.CORE, driver.WRITE, parameters=("sock", "d"))
    assert changed(write, pg8000.core) is None
    monkeypatch.setattr(pg8000.core, driver.WRITE, lambda sock, data, flush: None)
    assert changed(write, pg8000.core) == (
        "its parameters are ('sock', 'data', 'flush'), not ('sock', 'd')"
    )
    monkeypatch.delattr(pg8000.core, driver.WRITE)
    assert changed(write, pg8000.core) == "gone"
    assert changed(Private(driver.CORE, "DATA_ROW", kind=str), pg8000.core) == (
        "a bytes, not a str"
    )


def test_a_message_goes_out_and_its_answers_are_read_by_pg8000s_handlers(served):
    connection, server = served
    assert driver.socket_of(connection) is not None
    assert driver.client_encoding(connection) == "utf8"
    assert driver.transaction_status(connection) is None
    assert {driver.DATA_ROW, driver.READY_FOR_QUERY} <= set(driver.handlers(connection))

    server.sendall(ROWS + READY)
    answer = driver.round_trip(connection, SYNC, "SELECT 'y' AS x")

    assert server.recv(65536).endswith(SYNC)
    assert answer.rows == [["y"]]
    assert [column["name"] for column in answer.columns or ()] == ["x"]
    assert answer.error is None
    assert driver.transaction_status(connection) == b"I"
    server.sendall(ROWS + READY)
    assert driver.simple_query(connection, "SELECT 'y' AS x").rows == [["y"]]


def test_an_error_is_raised_once_every_answer_is_read(served):
    connection, server = served
    error = message(b"E", b"SERROR\x00C22012\x00Mdivision by zero\x00\x00")
    server.sendall(error + ROWS + READY + ROWS + READY)

    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        driver.round_trip(connection, SYNC, "SELECT 1 / 0")

    assert raised.value.args[0]["C"] == "22012"
    assert driver.round_trip(connection, SYNC, "SELECT 'y' AS x").rows == [["y"]]


def test_values_go_out_and_come_back_as_pg8000_converts_them(served):
    connection, _ = served
    conversions = driver.conversions(connection)
    assert driver.text_of(conversions, 5) == "5"
    assert driver.text_of(driver.DEFAULT_CONVERSIONS, True) == "true"
    assert driver.decoded_value(23, "5") == 5
    assert driver.decoded_value(0, "as sent") == "as sent"  # a type pg8000 does not know: its text


# Where a private name shows: pg8000's modules that hold them, and the names of a connection's
# (its attributes and methods), as attributes or in quotes.
MODULES = re.compile(r"\bpg8000\.(?:core|converters)\b|\bfrom pg8000 import\b")
ON_A_CONNECTION = re.compile(
    r"""[.'"](?:"""
    + "|".join(
        re.escape(p.name)
        for p in driver.PRIVATE_NAMES
        if p.owner in (driver.CLASS, driver.CONNECTION)
    )
    + r""")\b"""
)


def named_elsewhere() -> list[str]:
    found = []
    for tree in TREES:
        for path in sorted(tree.rglob("*.py")):
            if path.resolve() in ALLOWED or any(path.is_relative_to(o) for o in OUTSIDE):
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if MODULES.search(line) or ON_A_CONNECTION.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_no_module_but_the_driver_names_a_private_name():
    assert named_elsewhere() == []


def test_the_search_finds_a_private_name():
    assert MODULES.search("pg8000.core._write(sock, data)")
    assert ON_A_CONNECTION.search("sock = connection._usock")
    assert ON_A_CONNECTION.search('getattr(pg8000.dbapi.Connection, "execute_simple")')
    assert not ON_A_CONNECTION.search("self._socket.close()")
