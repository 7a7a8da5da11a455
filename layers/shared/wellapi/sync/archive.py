"""The ledger archive: a period older than the retention horizon leaves the database for Parquet
files in S3, checked before its partition is dropped (docs/archive.md).

For each period that ended ``LEDGER_RETENTION_DAYS`` or more ago (none when that is 0, the
default: keep everything), oldest first:

1. ``detached_at`` is set on its row of ``core_api.ledger_periods``, then its partition is
   detached with ``DETACH PARTITION ... CONCURRENTLY``: no lock that waits for, or blocks, a
   request's read or write of the ledger. From then on no request reads or changes its rows.
2. Its rows are written in id order to Parquet files (``wellapi.sync.archive_files``), the keys
   of an earlier attempt deleted first.
3. The database counts the partition's rows and computes their digest; the files are read back
   from S3 and tallied the same way. Unequal, the period is not archived.
4. The manifest is written, then, in one transaction, the period's row records where its files
   are, its rows and digest, and its partition is dropped.

A failure at steps 1 to 4 attaches the partition back (its bounds are checked by the constraint
the detach left, so no scan) and clears ``detached_at``; the run reports it and goes on to the
next period. A run cut short between the steps (the function's timeout) leaves ``detached_at``
set: the next run starts that period again from its detach (or the detach's end, ``FINALIZE``).

The archive connects as the schema's owner (only the owner detaches and drops a partition), on
a connection of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wellapi.errors import sqlstate_of
from wellapi.resources.conditions import constant
from wellapi.store.connections import send
from wellapi.store.sql import BoundStatement, Statement
from wellapi.sync import archive_files as files
from wellapi.sync.ledgers import LEDGER_ID_COLUMNS, LEDGERS

# Rows a page of the export reads (keyset on the id).
PAGE_ROWS = 50_000
# A period is not started with less of the invocation left than this.
PERIOD_BUDGET_MS = 120_000
# ledger -> its id column
ID_COLUMNS = {LEDGERS[r][0]: column for r, column in LEDGER_ID_COLUMNS.items()}
LEAST_ID = "00000000-0000-0000-0000-000000000000"

DUE = Statement(
    """SELECT ledger, starts_at, ends_at, partition_name FROM core_api.ledger_periods
WHERE archived_at IS NULL AND ends_at <= now() - %(retention)s::interval
ORDER BY starts_at, ledger"""
)
MARK_DETACHED = Statement(
    "UPDATE core_api.ledger_periods SET detached_at = coalesce(detached_at, now()) "
    "WHERE partition_name = %(partition)s AND archived_at IS NULL"
)
MARK_ATTACHED = Statement(
    "UPDATE core_api.ledger_periods SET detached_at = NULL "
    "WHERE partition_name = %(partition)s AND archived_at IS NULL"
)
MARK_ARCHIVED = Statement(
    """UPDATE core_api.ledger_periods
SET archived_at = now(), archive_location = %(location)s, archive_rows = %(rows)s,
    archive_digest = %(digest)s
WHERE partition_name = %(partition)s AND detached_at IS NOT NULL AND archived_at IS NULL"""
)
# The partition's tie to its ledger: none once detached, pending while a detach is unfinished.
ATTACHMENT = Statement(
    """SELECT i.inhdetachpending FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE c.relname = %(partition)s AND c.relnamespace = 'core_api'::regnamespace"""
)
BOUNDS = Statement(
    "SELECT core_api.uuid_floor(starts_at)::text, core_api.uuid_floor(ends_at)::text "
    "FROM core_api.ledger_periods WHERE partition_name = %(partition)s"
)
COLUMNS = Statement(
    """SELECT a.attname, CASE WHEN t.typtype = 'e' THEN 'enum'
                          ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
WHERE c.relname = %(partition)s AND c.relnamespace = 'core_api'::regnamespace
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum"""
)


@dataclass(frozen=True)
class DuePeriod:
    ledger: str
    starts_at: datetime
    ends_at: datetime
    partition: str

    @property
    def table(self) -> str:
        return f"core_api.{ident(self.partition)}"

    @property
    def parent(self) -> str:
        return f"core_api.{ident(self.ledger)}"

    @property
    def id_column(self) -> str:
        return ID_COLUMNS[self.ledger]


@dataclass
class ArchiveReport:
    """What a run archived, what failed (the partition attached back) and whether it stopped
    for lack of time with periods still due."""

    archived: list[tuple[DuePeriod, files.Tally, str]] = field(default_factory=list)
    failures: list[tuple[DuePeriod, str]] = field(default_factory=list)
    unfinished: bool = False


class FilesDiffer(Exception):
    """The files read back do not hold the partition's rows."""


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _one(conn: Any, statement: Statement, **params: Any) -> list[Any]:
    return send(conn, [statement.bind(params)])


def _raw(conn: Any, text: str, *values: Any) -> list[Any]:
    return send(conn, [BoundStatement(text, values)])


def due_periods(conn: Any, retention_days: int) -> list[DuePeriod]:
    """The periods past the horizon and not archived, oldest first; none when it is 0."""
    if retention_days <= 0:
        return []
    return [DuePeriod(*row) for row in _one(conn, DUE, retention=f"{retention_days} days")]


def detach(conn: Any, period: DuePeriod) -> None:
    """Step 1: detach the partition, or finish a detach an earlier run began."""
    _one(conn, MARK_DETACHED, partition=period.partition)
    attachment = _one(conn, ATTACHMENT, partition=period.partition)
    if not attachment:
        return
    how = "FINALIZE" if attachment[0][0] else "CONCURRENTLY"
    _raw(conn, f"ALTER TABLE {period.parent} DETACH PARTITION {period.table} {how}")


def attach_back(conn: Any, period: DuePeriod) -> None:
    """The partition attached again as it was, and the period marked so."""
    attachment = _one(conn, ATTACHMENT, partition=period.partition)
    if attachment and attachment[0][0]:
        _raw(conn, f"ALTER TABLE {period.parent} DETACH PARTITION {period.table} FINALIZE")
        attachment = []
    if not attachment:
        ((low, high),) = _one(conn, BOUNDS, partition=period.partition)
        # Owner-written bounds, checked as UUIDs: a partition's bounds are constants of its
        # statement (no parameter there).
        low, high = (constant(str(uuid.UUID(bound))) for bound in (low, high))
        _raw(
            conn,
            f"ALTER TABLE {period.parent} ATTACH PARTITION {period.table} "
            f"FOR VALUES FROM ({low}) TO ({high})",
        )
    _one(conn, MARK_ATTACHED, partition=period.partition)


Columns = list[files.Column]


def columns_of(conn: Any, period: DuePeriod) -> Columns:
    rows = _one(conn, COLUMNS, partition=period.partition)
    return [files.Column.of(name, type_name) for name, type_name in rows]


def _exported(column: files.Column) -> str:
    """A column as the export selects it (an instant as its Unix microseconds)."""
    name = ident(column.name)
    if column.kind == "instant":
        return f"(EXTRACT(epoch FROM {name}) * 1000000)::bigint"
    return f"{name}::text" if column.kind == "text" else name


def _digest_text(column: files.Column) -> str:
    """A column as the digest writes it (``archive_files.lines``)."""
    value = _exported(column)
    return f"coalesce(({value})::text, {constant(files.NULL)})"


def database_tally(
    conn: Any, period: DuePeriod, columns: list[files.Column], relation: str | None = None
) -> files.Tally:
    """Step 3, the database's side: the partition's rows (or ``relation``'s) and their
    digest."""
    line = "concat_ws('|', " + ", ".join(_digest_text(c) for c in columns) + ")"
    modulus = files.MODULUS
    ((rows, digest),) = _raw(
        conn,
        f"SELECT count(*), (mod(mod(coalesce(sum(('x' || left(md5({line}), 16))::bit(64)"
        f"::bigint::numeric), 0), {modulus}) + {modulus}, {modulus}))::text "
        f"FROM {relation or period.table}",
    )
    return files.Tally(int(rows), str(digest))


def _pages(conn: Any, period: DuePeriod, columns: list[files.Column]) -> Iterator[list[Any]]:
    """The partition's rows in id order, a page at a time."""
    select = ", ".join(_exported(c) for c in columns)
    key = ident(period.id_column)
    at = [c.name for c in columns].index(period.id_column)
    after = LEAST_ID
    text = f"SELECT {select} FROM {period.table} WHERE {key} > $1::uuid ORDER BY {key} LIMIT $2"
    while True:
        page = _raw(conn, text, after, PAGE_ROWS)
        if not page:
            return
        yield page
        after = page[-1][at]


def export(
    conn: Any, bucket: files.Bucket, place: files.Place, period: DuePeriod, columns: Columns
) -> int:
    """Step 2: the files written, those of an earlier attempt deleted first. Answers how many."""
    bucket.delete(bucket.keys(place.prefix))
    held: list[Any] = []
    written = 0
    for page in _pages(conn, period, columns):
        held.extend(page)
        while len(held) >= files.ROWS_PER_FILE:
            chunk, held = held[: files.ROWS_PER_FILE], held[files.ROWS_PER_FILE :]
            bucket.put(place.part(written), files.parquet_bytes(files.to_table(columns, chunk)))
            written += 1
    if held or not written:
        bucket.put(place.part(written), files.parquet_bytes(files.to_table(columns, held)))
        written += 1
    return written


def check_files(
    conn: Any, bucket: files.Bucket, place: files.Place, period: DuePeriod, columns: Columns
) -> files.Tally:
    """Step 3: the files' tally, equal to the partition's or ``FilesDiffer``."""
    kept = database_tally(conn, period, columns)
    written = files.tally_files(bucket, place, columns)
    if written != kept:
        raise FilesDiffer(
            f"the files hold {written.rows} rows (digest {written.digest}), the period "
            f"{kept.rows} (digest {kept.digest})"
        )
    return kept


def drop(
    conn: Any,
    bucket: files.Bucket,
    place: files.Place,
    period: DuePeriod,
    columns: Columns,
    tally: files.Tally,
) -> None:
    """Step 4: the manifest, then the period marked archived and its partition dropped."""
    files.write_manifest(
        bucket,
        place,
        {
            "ledger": period.ledger,
            "partition": period.partition,
            "starts_at": period.starts_at.isoformat(),
            "ends_at": period.ends_at.isoformat(),
            "rows": tally.rows,
            "digest": tally.digest,
            "columns": [{"name": c.name, "kind": c.kind} for c in columns],
            "archived_at": datetime.now(UTC).isoformat(),
        },
    )
    params = {"partition": period.partition, "location": place.location}
    mark = MARK_ARCHIVED.bind({**params, "rows": tally.rows, "digest": tally.digest})
    send(conn, [mark, BoundStatement(f"DROP TABLE {period.table}")])


def archive_period(conn: Any, bucket: files.Bucket, root: str, period: DuePeriod) -> files.Tally:
    """Steps 1 to 4 for one period; a failure attaches it back and is raised."""
    place = files.Place.of(bucket.bucket, root, period.ledger, period.starts_at)
    try:
        detach(conn, period)
        columns = columns_of(conn, period)  # read once, for every step
        export(conn, bucket, place, period, columns)
        tally = check_files(conn, bucket, place, period, columns)
        drop(conn, bucket, place, period, columns, tally)
    except BaseException:
        attach_back(conn, period)
        raise
    return tally


def reason(error: BaseException) -> str:
    """A failure as a person is told it: no driver message, which may quote values."""
    if isinstance(error, FilesDiffer | files.UnarchivableColumn):
        return str(error)
    state = sqlstate_of(error)
    return type(error).__name__ + (f" (SQLSTATE {state})" if state else "")


def archive_due_periods(
    connect: Callable[[], Any],
    bucket: files.Bucket,
    *,
    root: str,
    retention_days: int,
    time_left_ms: Callable[[], int] = lambda: 1 << 62,
) -> ArchiveReport:
    """Every due period archived, oldest first, while the invocation has time."""
    report = ArchiveReport()
    conn = connect()
    try:
        for period in due_periods(conn, retention_days):
            if time_left_ms() < PERIOD_BUDGET_MS:
                report.unfinished = True
                break
            try:
                tally = archive_period(conn, bucket, root, period)
            except Exception as error:
                report.failures.append((period, reason(error)))
                continue
            place = files.Place.of(bucket.bucket, root, period.ledger, period.starts_at)
            report.archived.append((period, tally, place.location))
    finally:
        conn.close()
    return report


__all__ = [
    "ArchiveReport",
    "DuePeriod",
    "FilesDiffer",
    "archive_due_periods",
    "archive_period",
    "attach_back",
    "database_tally",
    "detach",
    "due_periods",
]
