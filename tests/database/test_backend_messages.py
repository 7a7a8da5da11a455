"""A message's answers from a real server read whole through ``connections.send``
(``wellapi.store.driver.round_trip``): rows of any size, many or none, as the driver's own
calls read them; an error amid the rows raised once they are read, the connection ready for
the next; a notice amid them heard; the bench's recording sees each as one round trip."""

from __future__ import annotations

import pg8000.dbapi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wellapi.store import connections as db
from wellapi.store.sql import Statement, fixed
from welldev.bench.wire import recording

# Rows of text of these lengths, in order: around and across the socket buffer's 8 KB.
ROWS = Statement(
    "SELECT n, pg_catalog.repeat(pg_catalog.chr(65 + pg_catalog.mod(n, 26)), n) "
    "FROM pg_catalog.unnest(%(lengths)s::int[]) WITH ORDINALITY AS r(n, i) ORDER BY i"
)
DRIVERS = (
    "SELECT n, repeat(chr(65 + mod(n, 26)), n) FROM unnest(CAST(:lengths AS int[])) "
    "WITH ORDINALITY AS r(n, i) ORDER BY i"
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lengths=st.lists(st.integers(min_value=0, max_value=40_000), max_size=30))
def test_rows_of_any_size_read_as_the_driver_reads_them(admin, lengths):
    bound = ROWS.bind({"lengths": lengths})

    ours = db.send(admin, [bound, bound])

    drivers = admin.run(DRIVERS, lengths=lengths)
    assert ours == drivers + drivers
    assert [len(text) for _, text in ours] == lengths + lengths


def test_an_error_amid_the_rows_is_raised_after_them_and_the_connection_goes_on(admin):
    failing = fixed("SELECT 1 / (3 - n) FROM pg_catalog.generate_series(1, 5) AS n")
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        db.send(admin, [fixed("SELECT 1"), failing, fixed("SELECT 2")])
    assert raised.value.args[0]["C"] == "22012"  # division_by_zero
    assert db.send(admin, [fixed("SELECT 'next'")]) == [["next"]]


def test_a_notice_amid_the_rows_reaches_the_connection(admin, caplog):
    # The notice by which a transaction's settings procedure names what it set again.
    notice = fixed(
        "DO $$ BEGIN RAISE NOTICE USING MESSAGE = 'between the rows', ERRCODE = 'WS001'; END $$"
    )

    rows = db.send(admin, [fixed("SELECT 1"), notice, fixed("SELECT 2")])

    assert rows == [[1], [2]]
    told = [r for r in caplog.records if r.message.startswith("a transaction found settings")]
    assert [r.settings for r in told] == ["between the rows"]


def test_the_bench_counts_a_pipelined_message_as_one_round_trip_and_times_its_rows(admin):
    with recording() as wire:
        rows = db.send(admin, [fixed("SELECT 1"), fixed("SELECT 2")])
        admin.run("SELECT 3")  # the driver's own loop, outside any pipelined call

    assert rows == [[1], [2]]
    assert [call.round_trips for call in wire.calls] == [1, 1]
    assert wire.round_trips == 2
    assert wire.decoding_seconds > 0
