"""Values bound to statements read back exactly, whatever ``standard_conforming_strings`` says.

Every request binds its values to its statements' parameters (``wellapi.store.sql.Statement.
bind``) and sends them pipelined over the extended query protocol (``wellapi.store.connections.
send``). With ``standard_conforming_strings`` off (an RDS parameter group can set it) a
backslash in an ordinary ``'...'`` literal escapes the next character, so a free-text value
such as a sync message's ``idempotency_key`` written into SQL text could close its quote and run
SQL of its own; a bound value is never SQL text, and reads back alike under either setting.
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.handlers.sync import sync_handler
from wellapi.roles import SYNC_ROLE
from wellapi.store import connections as db
from wellapi.store.sql import Statement, fixed
from welldev.database import LocalDatabase

HOSTILE = [
    "plain",
    "it's",
    "back\\slash",
    "trailing\\",
    "\\'); DELETE FROM core_api.sync_receipts; --",
    "\\\\'",
    "E'\\x41'",
    "$$ dollar $$",
    "ünïcödé ✓",
]


def _read_back(admin: Connection, text: str, value: object) -> list[list[object]]:
    """What ``text`` answers with ``value`` bound to its one slot, sent as requests send."""
    return db.send(admin, [Statement(text).bind({"v": value})])


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_every_string_reads_back_as_written_under_either_setting(admin, conforming):
    admin.run(f"SET standard_conforming_strings = {conforming}")
    try:
        assert admin.run("SHOW standard_conforming_strings") == [[conforming]]
        for value in HOSTILE:
            assert _read_back(admin, "SELECT %(v)s::text", value) == [[value]], value
            # Typed from where it stands, as a literal would be, not cast by the statement.
            assert _read_back(admin, "SELECT pg_catalog.length(%(v)s)", value) == [[len(value)]], (
                value
            )
    finally:
        admin.run("RESET standard_conforming_strings")


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_bytes_and_uuid_lists_read_back_as_bytea_and_uuid_arrays(admin, conforming):
    fingerprint = bytes(range(256))
    ids = [uuid4(), uuid4(), uuid4()]
    admin.run(f"SET standard_conforming_strings = {conforming}")
    try:
        assert admin.run("SHOW standard_conforming_strings") == [[conforming]]
        assert _read_back(admin, "SELECT %(v)s", fingerprint) == [[fingerprint]]
        assert _read_back(admin, "SELECT %(v)s::uuid[]", ids) == [[ids]]
        assert _read_back(admin, "SELECT %(v)s::uuid[]", tuple(ids[:1])) == [[ids[:1]]]
    finally:
        admin.run("RESET standard_conforming_strings")


def test_a_list_of_strings_reads_back_element_for_element(admin):
    # Bare in an array's text form, ``null`` in any case would read as NULL.
    words = ["null", "NULL", "Null", 'say "hi"', "a,b", "{}", "", *HOSTILE, None]
    assert _read_back(admin, "SELECT %(v)s::text[]", words) == [[words]]
    assert _read_back(admin, "SELECT %(v)s::bigint[]", [1, 2**40, None]) == [[[1, 2**40, None]]]


@pytest.fixture
def nonconforming_sync_role(api_database: LocalDatabase, admin: Connection):
    """The sync writer's sessions start with standard_conforming_strings off."""
    database = api_database.name
    admin.run(
        f'ALTER ROLE {SYNC_ROLE} IN DATABASE "{database}" SET standard_conforming_strings = off'
    )
    db.reset_pools()
    try:
        yield
    finally:
        admin.run(
            f'ALTER ROLE {SYNC_ROLE} IN DATABASE "{database}" RESET standard_conforming_strings'
        )
        db.reset_pools()


def test_the_sync_writer_stores_hostile_text_exactly_on_a_nonconforming_server(
    admin, api_database, nonconforming_sync_role
):
    tenant = f.tenant(admin)
    (account,) = s.records(admin, tenant, "account", 1)
    key = f"\\'); DELETE FROM core_api.sync_receipts; -- {uuid4()}"
    run = "run\\'); SELECT pg_sleep(5); --"
    before = admin.run("SELECT count(*) FROM core_api.sync_receipts")[0][0]
    assert db.execute([fixed("SHOW standard_conforming_strings")], pool=db.get_pool("sync")) == [
        ["off"]
    ]

    event = sqs.event(
        s.linked(tenant.workspace_connector_id, [account[1]], idempotency_key=key, sync_run_id=run)
    )
    failed = sqs.failed_ids(sync_handler()(event, Lambda()))

    assert failed == []
    assert admin.run(
        "SELECT sync_run_id FROM core_api.sync_receipts WHERE idempotency_key = :k", k=key
    ) == [[run]]
    assert admin.run("SELECT count(*) FROM core_api.sync_receipts")[0][0] == before + 1
