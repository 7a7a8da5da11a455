"""No statement the application sends is long enough to pin an RDS Proxy session.

RDS Proxy pins a client's session to one backend for good when a statement's text is longer
than 16,384 bytes. Every value is bound to a parameter and travels in a Bind message
(``wellapi.store.connections.send``), so a statement's text depends on its shape alone. These
tests read every statement text pg8000 writes to the socket (a simple query's Query message,
each Parse of a pipeline) while the largest inputs go through: a sync batch of ten messages of
5,000 record ids each (the message format's and the event source mapping's maxima), and the
API's largest List (every id filter at its maximum, the largest page, every include).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda, get
from wellapi.handlers.sync import sync_handler
from wellapi.jsonapi.query import MAX_FILTER_VALUES, MAX_PAGE_SIZE
from wellapi.store import driver
from wellapi.store.connections import reset_pools
from wellapi.sync.messages import MAX_RECORD_IDS
from welldev.bench.wire import PINNING_BYTES
from welldev.database import LocalDatabase

# The sync function's event source mapping delivers at most this many messages (template.yaml).
BATCH_SIZE = 10
# Frontend messages pg8000 or the pipeline write after the startup packet.
_FRONTEND = frozenset(b"QPBDESHCFXpd")
_LENGTH = struct.Struct("!i")


def statement_texts(data: bytes) -> list[bytes]:
    """The statement texts in one write: each Query's and each Parse's. A write that is not a
    run of whole frontend messages (the startup packet) holds none."""
    texts: list[bytes] = []
    at = 0
    while at < len(data):
        if data[at] not in _FRONTEND or at + 5 > len(data):
            return []
        (length,) = _LENGTH.unpack_from(data, at + 1)
        body = data[at + 5 : at + 1 + length]
        if data[at] == ord("Q"):
            texts.append(body[:-1])
        elif data[at] == ord("P"):
            _name, rest = body.split(b"\x00", 1)
            texts.append(rest.split(b"\x00", 1)[0])
        at += 1 + length
    return texts if at == len(data) else []


@contextmanager
def on_the_wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every statement text written to any pg8000 connection meanwhile."""
    texts: list[bytes] = []
    write: Callable[[Any, bytes], None] = getattr(driver.WRITER, driver.WRITE)

    def recording(sock: Any, data: bytes) -> None:
        texts.extend(statement_texts(bytes(data)))
        write(sock, data)

    with monkeypatch.context() as patched:
        patched.setattr(driver.WRITER, driver.WRITE, recording)
        yield texts


def test_the_wire_reader_finds_the_texts_of_queries_and_parses():
    query = b"Q" + _LENGTH.pack(4 + 9) + b"SELECT 1\x00"
    parse_body = b"\x00SELECT $1\x00" + struct.pack("!h", 0)
    parse = b"P" + _LENGTH.pack(4 + len(parse_body)) + parse_body
    sync = b"S" + _LENGTH.pack(4)
    assert statement_texts(query) == [b"SELECT 1"]
    assert statement_texts(parse + sync) == [b"SELECT $1"]
    assert statement_texts(_LENGTH.pack(8) + _LENGTH.pack(80877103)) == []


def _deliver(connector_id: Any, id_sets: list[list[Any]]) -> list[str]:
    """The batch, served by a new environment: on its new connections every statement is parsed
    (a warm one only binds the statements it keeps prepared, and sends no text)."""
    reset_pools()
    handler = sync_handler()
    event = sqs.event(*(s.linked(connector_id, ids) for ids in id_sets))
    return sqs.failed_ids(handler(event, Lambda(remaining_ms=120_000)))


def test_a_batch_of_the_largest_messages_sends_no_statement_longer_than_a_small_one(
    api_database: LocalDatabase, admin: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, tenant, "account", BATCH_SIZE * MAX_RECORD_IDS)]
    largest = [accounts[i::BATCH_SIZE] for i in range(BATCH_SIZE)]
    assert {len(ids) for ids in largest} == {MAX_RECORD_IDS}
    small = f.tenant(admin)
    few = [pid for _, pid in s.records(admin, small, "account", BATCH_SIZE)]

    with on_the_wire(monkeypatch) as large_texts:
        assert _deliver(tenant.workspace_connector_id, largest) == []
    with on_the_wire(monkeypatch) as small_texts:
        assert _deliver(small.workspace_connector_id, [[pid] for pid in few]) == []

    assert len(s.live(admin, tenant.workspace_connector_pk)) == BATCH_SIZE * MAX_RECORD_IDS
    longest = max(map(len, large_texts))
    assert longest <= PINNING_BYTES, longest
    # The text does not grow with the ids: 50,000 ids send what ten do.
    assert longest == max(map(len, small_texts))


def test_the_largest_list_the_api_takes_sends_no_statement_longer_than_16_kb(
    api_database: LocalDatabase, admin: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", MAX_FILTER_VALUES)
    connectors = [str(tenant.workspace_connector_id)] + [
        str(tenant.workspace_connector()[1]) for _ in range(MAX_FILTER_VALUES - 1)
    ]
    query = "&".join(
        (
            "filter[account]=" + ",".join(str(pid) for _, pid in accounts),
            "filter[workspace_connector]=" + ",".join(connectors),
            "filter[direction]=input,output",
            "include=account,workspace_connector",
            f"page[size]={MAX_PAGE_SIZE}",
        )
    )

    reset_pools()  # a new connection's: every statement parsed, its text on the wire
    with on_the_wire(monkeypatch) as texts:
        reply = get("account_workspace_connectors", tenant.claims(), query=query)

    assert reply.status == 200, reply.body
    assert texts
    assert max(map(len, texts)) <= PINNING_BYTES, max(map(len, texts))
