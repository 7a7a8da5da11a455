"""The provenance ledgers' periods: a ledger is partitioned on its time-ordered id, a period a
partition, made ahead by the sweep function; a row whose id has no period is refused, and said.

- A row's ``created_at`` is its id's time, whoever inserts it (a trigger sets it; a check holds).
- A client's id on a ledger must be a version 7 UUID made now: 422 ``ID_OUTSIDE_PERIODS`` at
  ``/data/id`` otherwise, and nothing written.
- With the period of now gone, a create is 422 ``ID_OUTSIDE_PERIODS`` counted as
  ``WritesOutsidePeriods`` (alarmed on), and a sync message fails with a reason that says so.
- The sweep function's job makes the missing periods, never one in the past, and reports how
  long from now the ledgers are covered; a period is read through its ledger only.
- A List reads across periods in id order, newest first, a cursor and a ``created_at`` range as
  bounds on the id (exact to the microsecond of the bound).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import uuid4

import pg8000.exceptions
import pytest
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import sqs
from tests.support import sync as s
from tests.support import writes as w
from tests.support.api import Lambda
from wellapi.handlers import sync as sync_module
from wellapi.handlers.sweep import sweep_once
from wellapi.jsonapi.ids import new_id
from wellapi.roles import API_ROLE, SYNC_ROLE
from wellapi.settings import get_settings
from wellapi.store import connections as db
from welldev import database as local_db
from welldev.database import LocalDatabase

pytestmark = pytest.mark.usefixtures("api_database")

LEDGER = "account_workspace_connectors"
SYNC_TIMEOUT_MS = 120_000


def with_id(document: w.Json, row_id: Any) -> w.Json:
    return {**document, "data": {**document["data"], "id": row_id}}


def refused_outside(reply: Any, pointer: str) -> w.Json:
    error = w.error(reply, 422)
    assert error["code"] == "ID_OUTSIDE_PERIODS"
    assert error["source"] == {"pointer": pointer}
    return error


@contextmanager
def period_of_now_gone(admin: Connection) -> Iterator[None]:
    """The account ledger without the period that holds now, for the length of the block
    (detached, then attached again: the rows in it are kept)."""
    ((name, bound),) = admin.run(
        "SELECT p.partition_name, pg_get_expr(c.relpartbound, c.oid) "
        "FROM core_api.ledger_periods p JOIN pg_class c ON c.relname = p.partition_name "
        "WHERE p.ledger = :l AND p.starts_at <= now() AND now() < p.ends_at",
        l=LEDGER,
    )
    admin.run(f"ALTER TABLE core_api.{LEDGER} DETACH PARTITION core_api.{name}")
    try:
        yield
    finally:
        admin.run(f"ALTER TABLE core_api.{LEDGER} ATTACH PARTITION core_api.{name} {bound}")


# --- a row's time is its id's ---------------------------------------------------------------


@pytest.mark.parametrize("ledger", rf.PROVENANCE)
def test_created_at_is_the_time_the_id_carries_whatever_the_insert_says(admin, ledger):
    t = f.tenant(admin)
    record_pk, _ = f.record_of(t, ledger)
    record = f.PROVENANCE_RECORD[ledger]
    row_id = f.v7_at(datetime(2024, 7, 1, 12, 0, 0, 123000, tzinfo=UTC))

    ((created_at,),) = admin.run(
        f"INSERT INTO core_api.{ledger} ({record}_pk, workspace_connector_pk, direction, "
        f"{ledger[:-1]}_id, created_at) VALUES (:r, :w, 'input', :i, now()) RETURNING created_at",
        r=record_pk,
        w=t.workspace_connector_pk,
        i=row_id,
    )

    assert created_at == datetime(2024, 7, 1, 12, 0, 0, 123000, tzinfo=UTC)


def test_a_created_at_apart_from_the_id_is_refused_by_the_check(admin):
    t = f.tenant(admin)
    record_pk, _ = f.record_of(t, LEDGER)
    admin.run("SET session_replication_role = replica")  # no trigger: the check alone
    try:
        with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
            admin.run(
                f"INSERT INTO core_api.{LEDGER} (account_pk, workspace_connector_pk, direction, "
                "created_at) VALUES (:r, :w, 'input', now() - interval '1 day')",
                r=record_pk,
                w=t.workspace_connector_pk,
            )
    finally:
        admin.run("SET session_replication_role = DEFAULT")
    assert raised.value.args[0]["n"] == f"{LEDGER}_created_at_is_the_id_time"


# --- a client's id --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row_id",
    [
        pytest.param(lambda: uuid4(), id="version-4"),
        pytest.param(lambda: f.v7_at(datetime.now(UTC) - timedelta(hours=1)), id="an-hour-ago"),
        pytest.param(lambda: f.v7_at(datetime.now(UTC) + timedelta(minutes=5)), id="ahead"),
        pytest.param(lambda: f.v7_at(datetime(2024, 5, 10, tzinfo=UTC)), id="a-kept-period"),
    ],
)
@pytest.mark.parametrize("ledger", rf.PROVENANCE)
def test_a_client_id_not_made_now_is_422_and_writes_nothing(admin, ledger, row_id):
    send, doc, _, _ = w.arrange_route(admin, ledger)

    with w.writes_nothing(admin):
        error = refused_outside(send({}, with_id(doc, str(row_id()))), "/data/id")
    assert "version 7" in error["detail"]


@pytest.mark.parametrize("ledger", rf.PROVENANCE)
def test_a_client_id_made_now_names_the_row_and_its_time(admin, ledger):
    send, doc, _, _ = w.arrange_route(admin, ledger)
    row_id = new_id()

    data = w.created(send({}, with_id(doc, str(row_id))))

    assert data["id"] == str(row_id)
    stamp = datetime.fromisoformat(data["attributes"]["created_at"].replace("Z", "+00:00"))
    assert stamp == datetime.fromtimestamp((row_id.int >> 80) / 1000, tz=UTC)


def test_other_resources_take_any_uuid_as_their_id(admin):
    send, doc, _, _ = w.arrange_route(admin, "workspace_providers")

    assert w.created(send({}, with_id(doc, str(uuid4()))))


# --- no period ------------------------------------------------------------------------------


def test_a_create_with_no_period_for_now_is_422_counted_and_writes_nothing(
    admin, capsys, monkeypatch
):
    send, doc, _, _ = w.arrange_route(admin, LEDGER)
    s.follow_stdout(monkeypatch)
    capsys.readouterr()

    with period_of_now_gone(admin), w.writes_nothing(admin):
        error = refused_outside(send({}, doc), "/data")

    assert "period" in error["detail"]
    assert s.metric_values(capsys.readouterr().out).get("WritesOutsidePeriods") == 1


def test_a_client_error_of_the_id_is_not_counted(admin, capsys, monkeypatch):
    send, doc, _, _ = w.arrange_route(admin, LEDGER)
    s.follow_stdout(monkeypatch)
    capsys.readouterr()

    refused_outside(send({}, with_id(doc, str(uuid4()))), "/data/id")

    assert "WritesOutsidePeriods" not in s.metric_values(capsys.readouterr().out)


def test_a_sync_message_with_no_period_fails_saying_why_and_is_counted(admin, capsys, monkeypatch):
    t = f.tenant(admin)
    accounts = s.records(admin, t, "account", 2)
    message = s.linked(t.workspace_connector_id, [a[1] for a in accounts])
    event = sqs.event(message)
    handler = sync_module.sync_handler()
    s.follow_stdout(monkeypatch)
    capsys.readouterr()

    with period_of_now_gone(admin):
        failed = sqs.failed_ids(handler(event, Lambda(remaining_ms=SYNC_TIMEOUT_MS)))
    printed = capsys.readouterr().out

    assert failed == [event["Records"][0]["messageId"]]
    (line,) = s.log_lines(printed, "message not applied")
    assert "no period of the ledger" in line["reason"]
    assert s.metric_values(printed).get("WritesOutsidePeriods") == 1
    assert s.ledger(admin, t.workspace_connector_pk) == []
    # Once the period is back, the message's redelivery is applied.
    assert sqs.failed_ids(handler(event, Lambda(remaining_ms=SYNC_TIMEOUT_MS))) == []
    assert len(s.ledger(admin, t.workspace_connector_pk)) == 2


# --- periods made ahead ---------------------------------------------------------------------


def periods(admin: Connection, ledger: str = LEDGER) -> list[tuple[datetime, datetime]]:
    rows = admin.run(
        "SELECT starts_at, ends_at FROM core_api.ledger_periods WHERE ledger = :l "
        "ORDER BY starts_at",
        l=ledger,
    )
    return [(a, b) for a, b in rows]


def test_every_ledger_is_covered_from_its_first_period_to_a_year_ahead_without_a_gap(admin):
    for ledger in rf.PROVENANCE:
        made = periods(admin, ledger)
        assert all(a[1] == b[0] for a, b in pairwise(made))
        assert made[-1][1] > datetime.now(UTC) + timedelta(days=364)
        (bound,) = admin.run(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = CAST(:t AS regclass)",
            t=f"core_api.{ledger}",
        )[0]
        assert bound == len(made)


@contextmanager
def periods_ahead(monkeypatch: pytest.MonkeyPatch, ahead: int) -> Iterator[None]:
    monkeypatch.setenv("LEDGER_PERIODS_AHEAD", str(ahead))
    get_settings.cache_clear()
    try:
        yield
    finally:
        monkeypatch.delenv("LEDGER_PERIODS_AHEAD")
        get_settings.cache_clear()


@pytest.fixture
def two_periods_ahead(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with periods_ahead(monkeypatch, 2):
        yield


@pytest.mark.usefixtures("two_periods_ahead")
def test_the_sweep_makes_the_periods_ahead_and_says_how_far_they_reach(admin):
    done = sweep_once(pool=db.get_pool("sync"), time_left_ms=lambda: 60_000)
    again = sweep_once(pool=db.get_pool("sync"), time_left_ms=lambda: 60_000)

    last = periods(admin)[-1][1]
    assert last > datetime.now(UTC) + timedelta(days=2 * 365 - 1)
    assert again["ledger_periods_made"] == 0
    reach = (last - datetime.now(UTC)).total_seconds()
    assert abs(again["ledger_period_seconds_ahead"] - reach) < 60
    assert done["ledger_periods_made"] in (0, 3)


def test_a_period_not_made_for_a_held_lock_is_said_and_the_sweep_goes_on(
    admin, database, monkeypatch, capsys
):
    holder = local_db.admin_connection(database.admin_url)
    s.follow_stdout(monkeypatch)
    capsys.readouterr()
    try:
        holder.run("BEGIN")
        holder.run(f"LOCK TABLE core_api.{LEDGER} IN ACCESS SHARE MODE")
        with periods_ahead(monkeypatch, 3):
            held = sweep_once(pool=db.get_pool("sync"), time_left_ms=lambda: 60_000)
    finally:
        holder.run("ROLLBACK")
        holder.close()
    printed = capsys.readouterr().out

    (line,) = s.log_lines(printed, "ledger periods could not be made")
    assert line["sqlstate"] == "55P03"  # lock_not_available: the two seconds ran out
    assert held["ledger_periods_made"] == 0
    assert held["ledger_period_seconds_ahead"] > 0
    assert "oldest_pending_revocation_seconds" in held  # the sweep ran all the same
    with periods_ahead(monkeypatch, 3):
        freed = sweep_once(pool=db.get_pool("sync"), time_left_ms=lambda: 60_000)
    # The next run makes them: each ledger's, through three years from now (fewer to make when
    # another test of this database made some beyond the migrations' already).
    assert freed["ledger_periods_made"] >= 3
    for ledger in rf.PROVENANCE:
        assert periods(admin, ledger)[-1][1] > datetime.now(UTC) + timedelta(days=3 * 365 - 1)


def test_periods_of_another_length_follow_the_last_one_aligned_to_their_own(admin):
    # After the years: two quarters, then a month (the lengths a deployment may change to).
    (last,) = admin.run(
        "SELECT max(ends_at) FROM core_api.ledger_periods WHERE ledger = :l", l=LEDGER
    )[0]
    made = admin.run(
        "SELECT starts_at, ends_at FROM well_private.make_ledger_periods('quarter', :a, :b) "
        "WHERE ledger = :l ORDER BY 1",
        a=last,
        b=last + timedelta(days=100),
        l=LEDGER,
    )
    made += admin.run(
        "SELECT starts_at, ends_at FROM well_private.make_ledger_periods('month', :a, :b) "
        "WHERE ledger = :l ORDER BY 1",
        a=last,
        b=made[-1][1] + timedelta(days=1),
        l=LEDGER,
    )

    quarter, month = timedelta(days=92), timedelta(days=31)
    assert [b - a <= (quarter if i < 2 else month) for i, (a, b) in enumerate(made)] == [True] * 3
    assert [a for a, _ in made] == [last, made[0][1], made[1][1]]
    assert made[-1][1].day == 1
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        admin.run("SELECT * FROM well_private.make_ledger_periods('week', now(), now())")
    assert raised.value.args[0]["C"] == "22023"


def test_the_sync_role_makes_no_period_in_the_past_nor_more_than_three_ahead(sync_conn):
    for ahead in (0, 4):
        with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
            sync_conn.run("SELECT * FROM core_api.make_ledger_periods_ahead('year', :a)", a=ahead)
        assert raised.value.args[0]["C"] == "22023"
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        sync_conn.run(
            "SELECT * FROM well_private.make_ledger_periods('year', "
            "now() - interval '30 years', now())"
        )
    assert raised.value.args[0]["C"] == "42501"


@pytest.mark.parametrize("ledger", rf.PROVENANCE)
def test_every_period_is_vacuumed_after_one_percent_and_plans_a_record_as_a_busy_one(admin, ledger):
    # A partitioned table has no storage of its own: each period has the ledger's settings.
    found = admin.run(
        "SELECT c.reloptions, a.attoptions FROM core_api.ledger_periods p "
        "JOIN pg_class c ON c.oid = CAST('core_api.' || p.partition_name AS regclass) "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = :r "
        "WHERE p.ledger = :t",
        t=ledger,
        r=f"{f.PROVENANCE_RECORD[ledger]}_pk",
    )
    assert len(found) >= 4  # 2024 to next year's
    for options, record_options in found:
        assert sorted(options) == [
            "autovacuum_vacuum_insert_scale_factor=0.01",
            "autovacuum_vacuum_scale_factor=0.01",
        ]
        assert record_options == ["n_distinct=-0.001"]


def test_a_period_is_read_through_its_ledger_only(admin, database: LocalDatabase):
    (name,) = admin.run(
        "SELECT partition_name FROM core_api.ledger_periods WHERE ledger = :l LIMIT 1", l=LEDGER
    )[0]
    for role in (API_ROLE, SYNC_ROLE):
        conn = local_db.admin_connection(database.url_for(role))
        try:
            with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
                conn.run(f"SELECT count(*) FROM core_api.{name}")
            assert raised.value.args[0]["C"] == "42501"
        finally:
            conn.close()
    (enabled,) = admin.run(
        "SELECT relrowsecurity FROM pg_class WHERE oid = CAST(:t AS regclass)",
        t=f"core_api.{name}",
    )[0]
    assert enabled


# --- reads across periods -------------------------------------------------------------------

# One row in each of three periods, and two in one millisecond apart.
TIMES = [
    datetime(2024, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2025, 1, 1, 0, 0, 0, 0, tzinfo=UTC),
    datetime(2025, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
    datetime(2026, 3, 1, tzinfo=UTC),
]


@pytest.fixture
def across(admin: Connection) -> tuple[f.Tenant, list[rf.Row]]:
    t = f.tenant(admin)
    return t, [rf.provenance(admin, t, LEDGER, created_at=at) for at in TIMES]


def listed(t: f.Tenant, query: str) -> list[str]:
    reply = rf.read(LEDGER, t.claims(), query=query)
    assert reply.status == 200, reply.body
    return [d["id"] for d in reply.json["data"]]


def test_a_list_reads_across_periods_newest_first_page_by_page(across):
    t, rows = across
    ids = [str(r.id) for r in reversed(rows)]
    seen: list[str] = []
    query = "page[size]=1"
    while query:
        reply = rf.read(LEDGER, t.claims(), query=query)
        seen += [d["id"] for d in reply.json["data"]]
        following = reply.json["links"].get("next")
        query = following.split("?", 1)[1] if following else ""

    assert seen == ids
    assert listed(t, "sort=created_at") == ids[::-1]


@pytest.mark.parametrize(
    ("operator", "bound", "kept"),
    [
        ("gte", "2025-01-01T00:00:00Z", [1, 2, 3]),
        ("gte", "2025-01-01T00:00:00.000001Z", [2, 3]),
        ("gt", "2025-01-01T00:00:00Z", [2, 3]),
        ("gt", "2024-12-31T23:59:59.9995Z", [1, 2, 3]),
        ("lt", "2025-01-01T00:00:00.001Z", [0, 1]),
        ("lt", "2025-01-01T00:00:00.0005Z", [0, 1]),
        ("lte", "2025-01-01T00:00:00.001Z", [0, 1, 2]),
        ("lte", "2025-01-01T00:00:00.000999Z", [0, 1]),
        # Times no id carries: before 1970, every row is after; in the year 9999, none is.
        ("gte", "0001-01-01T00:00:00Z", [0, 1, 2, 3]),
        ("lt", "1960-01-01T00:00:00Z", []),
        ("lte", "9999-12-31T23:59:59.999999Z", [0, 1, 2, 3]),
        ("gt", "9999-12-31T23:59:59.999999Z", []),
    ],
)
def test_a_created_at_range_is_exact_to_the_microsecond(across, operator, bound, kept):
    t, rows = across

    found = listed(t, f"sort=created_at&filter[created_at][{operator}]={bound}")

    assert found == [str(rows[i].id) for i in kept]
