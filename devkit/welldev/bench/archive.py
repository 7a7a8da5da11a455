"""Phase ``archive``: what removing an old ledger period costs the database, the archive's
way (detach the partition concurrently, then drop it) against deleting the same number of
rows (docs/archive.md).

Two yearly periods of the account ledger, 2020 and 2021, hold ``archive_rows`` rows each (one
tenant, both directions). The rows of 2020 are deleted with one ``DELETE`` through the ledger,
as an operator without the archive would (its triggers record the change, as for any delete);
the partition of 2021 is detached with ``DETACH PARTITION ... CONCURRENTLY`` and dropped, the
statements ``wellapi.sync.archive`` sends. Each side's time and the WAL it wrote
(``pg_current_wal_insert_lsn`` before and after) are compared: goal, under ``GOAL`` of the
delete's in both (``archive.detach_drop.time``, ``archive.detach_drop.wal``). The files the
archive writes to S3 are not the database's cost, and not timed here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pg8000.native

from welldev import database
from welldev.bench.config import Config
from welldev.bench.databases import bulk, make_tenant, one
from welldev.bench.harness import note
from welldev.bench.report import Report

GOAL = 0.01
LEDGER = "account_workspace_connectors"
YEARS = (2020, 2021)
FILL = f"""INSERT INTO core_api.{LEDGER}
  (account_workspace_connector_id, created_at, account_pk, workspace_connector_pk, direction)
SELECT id, core_api.uuid_time(id), :r, :w,
       CAST(CASE WHEN g % 2 = 0 THEN 'input' ELSE 'output' END AS core_api.direction_enum)
FROM generate_series(0, :n - 1) g,
     core_api.uuid_v7_at(make_timestamptz(:y, 1, 1, 0, 0, 0, 'UTC')
                         + g * (interval '364 days' / :n)) id"""


def _build(server: database.LocalDatabase, name: str, rows: int) -> database.LocalDatabase:
    """A database with the two periods filled, vacuumed and analysed."""
    db = database.prepare(server, name, replace=True)
    with database.admin_connection(db.admin_url) as conn:
        database.make_ledger_periods(conn, since=datetime(YEARS[0], 1, 1, tzinfo=UTC))
        make_tenant(conn, "archive", 100)
        record, connector = one(
            conn,
            f"SELECT account_pk, workspace_connector_pk FROM core_api.{LEDGER} LIMIT 1",
        )
        with bulk(conn, LEDGER, rows * len(YEARS)):
            for year in YEARS:
                conn.run(FILL, y=year, n=rows, r=record, w=connector)
        conn.run(f"VACUUM ANALYZE core_api.{LEDGER}")
    return db


def _costs(
    conn: pg8000.native.Connection, statements: list[str], each: list[float] | None = None
) -> tuple[float, float]:
    """Seconds and WAL bytes of ``statements``, each sent on its own (autocommit); each one's
    seconds appended to ``each``."""
    (start,) = one(conn, "SELECT pg_current_wal_insert_lsn()")
    began = time.perf_counter()
    for statement in statements:
        sent = time.perf_counter()
        conn.run(statement)
        if each is not None:
            each.append(time.perf_counter() - sent)
    seconds = time.perf_counter() - began
    (wal,) = one(conn, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :s)", s=start)
    return seconds, float(wal)


def _period(conn: pg8000.native.Connection, year: int) -> tuple[str, str, str]:
    """The period's partition and its ids' bounds."""
    name, low, high = one(
        conn,
        "SELECT partition_name, core_api.uuid_floor(starts_at)::text, "
        "core_api.uuid_floor(ends_at)::text FROM core_api.ledger_periods "
        "WHERE ledger = :l AND starts_at = make_timestamptz(:y, 1, 1, 0, 0, 0, 'UTC')",
        l=LEDGER,
        y=year,
    )
    return str(name), str(low), str(high)


def measure_archive(report: Report, server: database.LocalDatabase, config: Config) -> None:
    rows = config.archive_rows
    db = _build(server, f"{config.database_prefix}_archive", rows)
    with database.admin_connection(db.admin_url) as conn:
        _, low, high = _period(conn, YEARS[0])
        (deleted,) = one(
            conn,
            f"SELECT count(*) FROM core_api.{LEDGER} WHERE account_workspace_connector_id "
            f">= '{low}' AND account_workspace_connector_id < '{high}'",
        )
        delete = _costs(
            conn,
            [
                f"DELETE FROM core_api.{LEDGER} WHERE account_workspace_connector_id >= '{low}' "
                f"AND account_workspace_connector_id < '{high}'"
            ],
        )
        partition, _, _ = _period(conn, YEARS[1])
        (size,) = one(conn, f"SELECT pg_total_relation_size('core_api.{partition}')")
        steps: list[float] = []
        archive = _costs(
            conn,
            [
                f"ALTER TABLE core_api.{LEDGER} DETACH PARTITION core_api.{partition} CONCURRENTLY",
                f"DROP TABLE core_api.{partition}",
            ],
            steps,
        )
    _report(report, rows, int(deleted), delete, archive)
    report.details["archive"] |= {
        "detach_seconds": round(steps[0], 4),
        "drop_seconds": round(steps[1], 4),
        "partition_bytes": int(size),
    }
    database.drop_database(server, db.name)


def _report(
    report: Report,
    rows: int,
    deleted: int,
    delete: tuple[float, float],
    archive: tuple[float, float],
) -> None:
    time_ratio, wal_ratio = (
        report.ratio(f"archive.detach_drop.{name}", archive[i] / delete[i], GOAL).value
        for i, name in enumerate(("time", "wal"))
    )
    report.details["archive"] = {
        "rows": rows,
        "deleted_rows": deleted,
        "delete": {"seconds": round(delete[0], 3), "wal_bytes": int(delete[1])},
        "detach_drop": {"seconds": round(archive[0], 4), "wal_bytes": int(archive[1])},
    }
    note(
        f"archive: a period of {rows:,} rows detached and dropped in {archive[0] * 1000:.0f} ms "
        f"and {archive[1] / 1024:.0f} KiB of WAL, against {delete[0]:.1f} s and "
        f"{delete[1] / 2**20:.0f} MiB to delete as many: {time_ratio:.4f}x and {wal_ratio:.5f}x"
    )
