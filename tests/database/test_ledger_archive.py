"""The ledger archive: a period past the retention horizon is detached, written to Parquet in S3
(moto's), checked (count and digest, the files read back) and only then dropped; a failure at
any step leaves the partition attached and is reported; the files read back give the rows.

Each test has a database of its own (a copy of one migrated for this module, with yearly
periods from 2020): an archive drops partitions the other tests of a worker read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import boto3
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.api import related
from wellapi.roles import API_ROLE
from wellapi.settings import get_settings
from wellapi.sync import archive
from wellapi.sync import archive_files as files
from welldev import cli
from welldev import database as local_db
from welldev.function_roles import functions_connected_as

BUCKET = "well-ledger-archive"
ROOT = "ledgers/"
SINCE = datetime(2020, 1, 1, tzinfo=UTC)
LEDGERS = sorted(archive.ID_COLUMNS)


def horizon_after(year_end: datetime) -> int:
    """A retention, in days, under which the periods that end by ``year_end`` are due."""
    return (datetime.now(UTC) - year_end).days


RETENTION = horizon_after(datetime(2021, 1, 1, tzinfo=UTC))  # the periods of 2020 only


@pytest.fixture(scope="module")
def template(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    name = f"wellapi_archive_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    with local_db.admin_connection(db.admin_url) as conn:
        local_db.make_ledger_periods(conn, since=SINCE)
    yield db
    local_db.drop_database(server, name)


@pytest.fixture
def db(
    server: local_db.LocalDatabase, template: local_db.LocalDatabase
) -> Iterator[local_db.LocalDatabase]:
    name = f"{template.name}_t"
    with local_db.maintenance_connection(server) as conn:
        conn.run(f'DROP DATABASE IF EXISTS "{name}"')
        conn.run(f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
    yield template.with_database(name)
    local_db.drop_database(server, name)


@pytest.fixture
def conn(db: local_db.LocalDatabase) -> Iterator[Connection]:
    conn = local_db.admin_connection(db.admin_url)
    yield conn
    conn.close()


@pytest.fixture
def bucket() -> Iterator[files.Bucket]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield files.Bucket(client, BUCKET)


def fill(conn: Connection, ledger: str, year: int, rows: int) -> f.Tenant:
    """``rows`` rows of one tenant in ``ledger``'s period of ``year``, a third soft-deleted."""
    t = f.tenant(conn)
    record_pk, _ = f.record_of(t, ledger)
    record = ledger.replace("_workspace_connectors", "_pk")
    conn.run(
        f"INSERT INTO core_api.{ledger} ({archive.ID_COLUMNS[ledger]}, {record}, "
        "workspace_connector_pk, direction, deleted_at, occurred_at) "
        "SELECT core_api.uuid_v7_at(make_timestamptz(:y, 3, 1, 0, 0, 0, 'UTC') "
        "  + g * interval '1 hour 0.123457 second'), :r, :w, "
        "  CAST(CASE WHEN g % 2 = 0 THEN 'input' ELSE 'output' END AS core_api.direction_enum), "
        "  CASE WHEN g % 3 = 0 THEN make_timestamptz(:y, 9, 1, 0, 0, 0.5, 'UTC') END, "
        "  CASE WHEN g % 5 = 0 THEN make_timestamptz(:y, 2, 1, 0, 0, 0, 'UTC') END "
        "FROM generate_series(1, :n) g",
        y=year,
        r=record_pk,
        w=t.workspace_connector_pk,
        n=rows,
    )
    return t


def rows_of(conn: Connection, ledger: str, year: int) -> list[dict[str, Any]]:
    """The ledger's rows of ``year``, in id order, as the files give them back."""
    id_column = archive.ID_COLUMNS[ledger]
    rows = conn.run(
        f"SELECT * FROM core_api.{ledger} "
        f"WHERE created_at >= make_timestamptz(:y, 1, 1, 0, 0, 0, 'UTC') "
        f"AND created_at < make_timestamptz(:y + 1, 1, 1, 0, 0, 0, 'UTC') ORDER BY {id_column}",
        y=year,
    )
    names = [c["name"] for c in conn.columns]
    return [
        {
            n: (str(v) if n == id_column or n == "direction" else v)
            for n, v in zip(names, row, strict=True)
        }
        for row in rows
    ]


def period(conn: Connection, ledger: str, year: int) -> dict[str, Any]:
    rows = conn.run(
        "SELECT p.*, to_regclass('core_api.' || p.partition_name) IS NOT NULL AS present, "
        "EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = "
        "        to_regclass('core_api.' || p.partition_name)) AS attached "
        "FROM core_api.ledger_periods p WHERE p.ledger = :l "
        "AND p.starts_at = make_timestamptz(:y, 1, 1, 0, 0, 0, 'UTC')",
        l=ledger,
        y=year,
    )
    return dict(zip([c["name"] for c in conn.columns], rows[0], strict=True))


def run(db: local_db.LocalDatabase, bucket: files.Bucket, **kw: Any) -> archive.ArchiveReport:
    kw.setdefault("retention_days", RETENTION)
    return archive.archive_due_periods(
        lambda: local_db.admin_connection(db.admin_url), bucket, root=ROOT, **kw
    )


def read_back(bucket: files.Bucket, ledger: str, year: int) -> list[dict[str, Any]]:
    place = files.Place.of(BUCKET, ROOT, ledger, datetime(year, 1, 1, tzinfo=UTC))
    return list(files.read_back(bucket, place))


# --- the round trip ---------------------------------------------------------------------------


def test_a_period_past_the_horizon_is_archived_checked_dropped_and_read_back(db, conn, bucket):
    for ledger in LEDGERS:
        fill(conn, ledger, 2020, 120)
        fill(conn, ledger, 2021, 30)
    before = {ledger: rows_of(conn, ledger, 2020) for ledger in LEDGERS}
    kept = {ledger: rows_of(conn, ledger, 2021) for ledger in LEDGERS}

    report = run(db, bucket)

    assert report.failures == []
    assert sorted(p.ledger for p, _, _ in report.archived) == LEDGERS
    for ledger in LEDGERS:
        archived = period(conn, ledger, 2020)
        assert not archived["present"]
        assert archived["archived_at"] is not None
        assert archived["archive_rows"] == 120
        assert archived["archive_location"] == (
            f"s3://{BUCKET}/{ROOT}ledger={ledger}/period=2020-01-01/"
        )
        assert rows_of(conn, ledger, 2020) == []
        assert read_back(bucket, ledger, 2020) == before[ledger]
        # The next period is not due: attached, its rows where they were.
        assert period(conn, ledger, 2021)["attached"]
        assert rows_of(conn, ledger, 2021) == kept[ledger]


def test_the_manifest_says_what_the_files_hold(db, conn, bucket):
    fill(conn, LEDGERS[0], 2020, 10)

    run(db, bucket)

    place = files.Place.of(BUCKET, ROOT, LEDGERS[0], SINCE)
    manifest = files.read_manifest(bucket, place)
    recorded = period(conn, LEDGERS[0], 2020)
    assert manifest["rows"] == 10 == recorded["archive_rows"]
    assert manifest["digest"] == recorded["archive_digest"]
    assert set(bucket.keys(place.prefix)) == {place.part(0), place.prefix + files.MANIFEST}


def test_an_empty_period_is_archived_as_one_empty_file(db, conn, bucket):
    report = run(db, bucket)

    assert len(report.archived) == len(LEDGERS)
    assert read_back(bucket, LEDGERS[0], 2020) == []
    assert period(conn, LEDGERS[0], 2020)["archive_rows"] == 0


@pytest.mark.parametrize("retention_days", [0, horizon_after(datetime(2019, 1, 1, tzinfo=UTC))])
def test_no_period_is_archived_before_the_horizon_nor_without_one(db, conn, bucket, retention_days):
    fill(conn, LEDGERS[0], 2020, 5)

    report = run(db, bucket, retention_days=retention_days)

    assert report.archived == report.failures == []
    assert period(conn, LEDGERS[0], 2020)["attached"]
    assert bucket.keys(ROOT) == []


# --- failures leave the partition attached -----------------------------------------------------


def assert_attached_as_before(conn: Connection, ledger: str, rows: list[dict[str, Any]]) -> None:
    kept = period(conn, ledger, 2020)
    assert kept["attached"]
    assert kept["detached_at"] is None
    assert kept["archived_at"] is None
    assert rows_of(conn, ledger, 2020) == rows


def test_files_that_lose_a_row_leave_the_period_attached_and_said(db, conn, bucket, monkeypatch):
    fill(conn, LEDGERS[0], 2020, 40)
    before = rows_of(conn, LEDGERS[0], 2020)
    written = files.parquet_bytes
    monkeypatch.setattr(files, "parquet_bytes", lambda table: written(table.slice(1)))

    report = run(db, bucket)

    failed = {p.ledger: why for p, why in report.failures}
    assert failed[LEDGERS[0]] == (
        f"the files hold 39 rows (digest {files_digest(before[1:])}), "
        f"the period 40 (digest {files_digest(before)})"
    )
    assert_attached_as_before(conn, LEDGERS[0], before)


def files_digest(rows: list[dict[str, Any]]) -> str:
    columns = [files.Column.of(n, t) for n, t in COLUMN_TYPES.items()]
    table = pa.Table.from_pylist(rows, schema=files.schema(columns))
    return files.Tally.of_lines(files.lines(columns, table)).digest


COLUMN_TYPES = {
    "account_workspace_connector_id": "uuid",
    "account_pk": "bigint",
    "direction": "enum",
    "workspace_connector_pk": "bigint",
    "pk": "bigint",
    "created_at": "timestamp with time zone",
    "updated_at": "timestamp with time zone",
    "deleted_at": "timestamp with time zone",
    "occurred_at": "timestamp with time zone",
}


def test_a_bucket_that_refuses_leaves_every_period_attached_and_said(db, conn, bucket):
    fill(conn, LEDGERS[0], 2020, 10)
    before = rows_of(conn, LEDGERS[0], 2020)

    report = run(db, files.Bucket(bucket.client, "no-such-bucket"))

    assert report.archived == []
    assert {p.ledger: why for p, why in report.failures} == dict.fromkeys(LEDGERS, "NoSuchBucket")
    assert_attached_as_before(conn, LEDGERS[0], before)


def test_a_run_cut_short_after_its_detach_is_finished_by_the_next(db, conn, bucket):
    fill(conn, LEDGERS[0], 2020, 10)
    before = rows_of(conn, LEDGERS[0], 2020)
    due = archive.due_periods(conn, RETENTION)
    archive.detach(conn, due[0])  # then the function's timeout
    assert not period(conn, LEDGERS[0], 2020)["attached"]

    report = run(db, bucket)

    assert report.failures == []
    assert period(conn, LEDGERS[0], 2020)["archive_rows"] == 10
    assert read_back(bucket, LEDGERS[0], 2020) == before


def test_a_run_stops_before_a_period_it_has_no_time_for(db, conn, bucket):
    report = run(db, bucket, time_left_ms=lambda: archive.PERIOD_BUDGET_MS - 1)

    assert report.unfinished
    assert report.archived == []
    assert period(conn, LEDGERS[0], 2020)["attached"]


def test_files_changed_after_the_archive_are_refused_when_read_back(db, conn, bucket):
    fill(conn, LEDGERS[0], 2020, 10)
    run(db, bucket)
    place = files.Place.of(BUCKET, ROOT, LEDGERS[0], SINCE)
    table = next(files.read_tables(bucket, place))
    bucket.put(place.part(0), files.parquet_bytes(table.slice(0, 9)))

    with pytest.raises(files.FilesChanged, match="9 rows"):
        read_back(bucket, LEDGERS[0], 2020)


# --- the digest is the same on both sides -----------------------------------------------------

instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.booleans(), st.one_of(st.none(), instants), st.integers(1, 2**63 - 1)),
        min_size=0,
        max_size=20,
    )
)
def test_the_database_and_the_files_compute_one_digest(conn, rows):
    """Whatever the values (NULLs, microseconds, the extremes of a bigint), the digest the
    database computes over a table is the one the files give, in any order."""
    conn.run(
        "CREATE TEMPORARY TABLE IF NOT EXISTS digested (flag boolean, at timestamptz, n bigint)"
    )
    conn.run("TRUNCATE digested")
    for flag, at, n in rows:
        conn.run("INSERT INTO digested VALUES (:f, :a, :n)", f=flag, a=at, n=n)
    columns = [
        files.Column("flag", "boolean"),
        files.Column("at", "instant"),
        files.Column("n", "integer"),
    ]
    table = archive.DuePeriod("digested", SINCE, SINCE, "digested")
    database = archive.database_tally(conn, table, columns, relation="pg_temp.digested")
    selected = conn.run("SELECT flag, (EXTRACT(epoch FROM at) * 1000000)::bigint, n FROM digested")

    mine = files.Tally.of_lines(files.lines(columns, files.to_table(columns, selected[::-1])))

    assert database == mine
    assert database.rows == len(rows)


# --- the API says what it no longer keeps ------------------------------------------------------

GONE_PERIOD = {"starts_at": "2020-01-01T00:00:00Z", "ends_at": "2021-01-01T00:00:00Z"}


def archived(reply: Any) -> None:
    error = w.error(reply, 410)
    assert error["code"] == "PERIOD_ARCHIVED"
    assert error["meta"]["period"] == GONE_PERIOD
    assert "2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z" in error["detail"]


@pytest.fixture
def retention(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API told the deployment's retention, as the stack tells its functions."""
    monkeypatch.setenv("LEDGER_RETENTION_DAYS", str(RETENTION))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("LEDGER_RETENTION_DAYS")
    get_settings.cache_clear()


@pytest.mark.usefixtures("retention")
def test_an_archived_id_is_410_on_every_route_for_every_caller(db, conn, bucket):
    ledger = LEDGERS[0]
    t = fill(conn, ledger, 2020, 3)
    other = f.tenant(conn)
    kept = fill(conn, ledger, 2021, 1)
    (row, *_) = rows_of(conn, ledger, 2020)
    ((never,),) = conn.run("SELECT core_api.uuid_v7_at('2020-06-01T00:00:00Z')::text")
    run(db, bucket)
    record = rf.RECORD[ledger]
    doc = w.document(w.type_of(ledger), row_id=row["account_workspace_connector_id"])

    with functions_connected_as(db, API_ROLE):
        for claims in (t.claims("member"), t.claims("service"), other.claims("member")):
            for row_id in (row["account_workspace_connector_id"], never):
                archived(rf.read(ledger, claims, row_id=row_id))
                archived(related(ledger, claims, row_id, record))
                archived(related(ledger, claims, row_id, record, linkage=True))
        service = t.claims("service")
        archived(w.patch(ledger, service, row["account_workspace_connector_id"], doc))
        archived(w.delete(ledger, service, never))
        # An id of no archived period: 404 as ever (a version 4 id names no time).
        assert w.error(rf.read(ledger, service, row_id=uuid4()), 404)["code"] == "NOT_FOUND"
        assert (
            rf.read(
                ledger,
                kept.claims("member"),
                row_id=rows_of(conn, ledger, 2021)[0]["account_workspace_connector_id"],
            ).status
            == 200
        )


@pytest.mark.usefixtures("retention")
def test_a_list_says_where_the_rows_it_keeps_begin(db, conn, bucket):
    t = fill(conn, LEDGERS[0], 2021, 2)

    with functions_connected_as(db, API_ROLE):
        before = rf.read(LEDGERS[0], t.claims("member"))
        run(db, bucket)
        after = rf.read(LEDGERS[0], t.claims("member"))
        other = rf.read("workspace_providers", t.claims("member"))

    assert before.json["meta"]["archived_before"] is None
    assert after.json["meta"] == {"total": 2, "count": 2, "archived_before": "2021-01-01T00:00:00Z"}
    assert rf.ids(after) == rf.ids(before)
    assert "archived_before" not in other.json["meta"]


def one_row_archived(db: Any, conn: Connection, bucket: files.Bucket) -> tuple[f.Tenant, str]:
    """A tenant and the id of its one row of 2020, that period archived."""
    t = fill(conn, LEDGERS[0], 2020, 1)
    (row,) = rows_of(conn, LEDGERS[0], 2020)
    run(db, bucket)
    return t, row[archive.ID_COLUMNS[LEDGERS[0]]]


def test_an_id_younger_than_the_retention_is_not_asked_about(db, conn, bucket, monkeypatch):
    """Without a retention (the default) no id can be archived: the API never asks, and a
    missing id is 404 in one message of its usual statements."""
    ledger = LEDGERS[0]
    t, row_id = one_row_archived(db, conn, bucket)
    queries = rf.record_queries(monkeypatch)

    with functions_connected_as(db, API_ROLE):
        reply = rf.read(ledger, t.claims("member"), row_id=row_id)

    assert w.error(reply, 404)["code"] == "NOT_FOUND"
    (request,) = rf.requests_of(queries)
    assert "archived_period_of" not in request.statements

    with functions_connected_as(db, API_ROLE):
        listed = rf.read(ledger, t.claims("member"))
    assert listed.json["meta"]["archived_before"] is None
    assert "archived_before" not in rf.requests_of(queries)[-1].statements


@pytest.mark.usefixtures("retention")
def test_the_archived_check_rides_in_the_requests_one_message(db, conn, bucket, monkeypatch):
    t, row_id = one_row_archived(db, conn, bucket)
    queries = rf.record_queries(monkeypatch)

    with functions_connected_as(db, API_ROLE):
        archived(rf.read(LEDGERS[0], t.claims("member"), row_id=row_id))

    (request,) = rf.requests_of(queries)
    assert "archived_period_of" in request.statements


# --- the commands --------------------------------------------------------------------------------


def test_the_commands_archive_and_read_a_period_back(db, conn, bucket, monkeypatch, capsys):
    fill(conn, LEDGERS[0], 2020, 3)
    before = rows_of(conn, LEDGERS[0], 2020)
    monkeypatch.setenv("DATABASE_URL", db.admin_url)
    given = ["--bucket", BUCKET, "--root", ROOT]

    assert cli.main(["archive", "run", *given, "--retention-days", str(RETENTION)]) == 0
    said = capsys.readouterr().out
    assert f"archived {LEDGERS[0]}_p20200101: 3 rows to s3://{BUCKET}/{ROOT}" in said

    assert cli.main(["archive", "read", *given, LEDGERS[0], "2020-01-01"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == [json.loads(json.dumps(row, default=jsonable)) for row in before]


def test_reading_a_period_never_archived_says_so(bucket, capsys):
    code = cli.main(["archive", "read", "--bucket", BUCKET, LEDGERS[0], "2020-01-01"])

    assert code == 1
    assert "NoSuchKey" in capsys.readouterr().err


def jsonable(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
