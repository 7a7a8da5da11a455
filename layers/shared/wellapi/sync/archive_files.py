"""An archived ledger period's files: Parquet in S3, a manifest, and the digest that checks them
(docs/archive.md, "The files").

A period is written under ``<prefix>ledger=<ledger>/period=<YYYY-MM-DD>/`` (the keys Athena's
partition projection reads): ``part-00000.parquet`` and on, each up to ``ROWS_PER_FILE`` rows in
id order, then ``_manifest.json`` once the files are checked. The columns are the partition's
own, as the catalog lists them: a UUID and an enum as text, an instant as a UTC timestamp to the
microsecond, a number as a 64-bit integer (a ``*_pk`` is the database's key of a parent, which
the archive never removes).

The digest is order-independent: the sum, modulo 2^64, of the first 64 bits (signed) of each
row's MD5, the row written as its columns' texts joined by ``|`` (``\\N`` for NULL; an instant
as its Unix microseconds). The database computes it over the partition
(``wellapi.sync.archive``), this module over the files read back from S3: equal counts and
digests, or the partition is not dropped.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROWS_PER_FILE = 1_000_000
MANIFEST = "_manifest.json"  # "_": Athena reads no file named so
NULL = "\\N"
MODULUS = 1 << 64

# A column's kind, by its type as the catalog names it (format_type; an enum's typtype 'e').
KINDS = {
    "uuid": "text",
    "text": "text",
    "enum": "text",
    "bigint": "integer",
    "integer": "integer",
    "boolean": "boolean",
    "timestamp with time zone": "instant",
}
ARROW_TYPES = {
    "text": pa.string(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "instant": pa.timestamp("us", tz="UTC"),
}


class FilesChanged(Exception):
    """An archived period's files no longer hold what its manifest says."""


class UnarchivableColumn(Exception):
    """A column of a type the archive does not know how to write and check."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text, integer, boolean or instant

    @classmethod
    def of(cls, name: str, type_name: str) -> Column:
        kind = KINDS.get(type_name)
        if kind is None:
            raise UnarchivableColumn(
                f"column {name} is a {type_name}, which the archive cannot write"
            )
        return cls(name, kind)


def schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in columns])


@dataclass(frozen=True)
class Place:
    """Where one period's files are: a bucket and the period's prefix in it."""

    bucket: str
    prefix: str  # ends with "/"

    @classmethod
    def of(cls, bucket: str, root: str, ledger: str, starts_at: datetime) -> Place:
        return cls(bucket, f"{root}ledger={ledger}/period={starts_at:%Y-%m-%d}/")

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def part(self, n: int) -> str:
        return f"{self.prefix}part-{n:05d}.parquet"


@dataclass(frozen=True)
class Tally:
    """A count of rows and their digest."""

    rows: int
    digest: str

    @classmethod
    def of_lines(cls, lines: Iterable[str]) -> Tally:
        rows = total = 0
        for line in lines:
            head = hashlib.md5(line.encode(), usedforsecurity=False).digest()[:8]
            total += int.from_bytes(head, "big", signed=True)
            rows += 1
        return cls(rows, str(total % MODULUS))


def to_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Rows as the export selects them (an instant as its Unix microseconds) -> an Arrow table."""
    arrays = []
    for i, column in enumerate(columns):
        values = [row[i] for row in rows]
        if column.kind == "instant":
            arrays.append(pa.array(values, pa.int64()).cast(ARROW_TYPES["instant"]))
        else:
            arrays.append(pa.array(values, ARROW_TYPES[column.kind]))
    return pa.Table.from_arrays(arrays, schema=schema(columns))


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def lines(columns: Sequence[Column], table: pa.Table) -> Iterator[str]:
    """Each row of ``table`` as the digest writes it."""
    texts = []
    for column in columns:
        array = table.column(column.name)
        if column.kind == "instant":
            array = pc.cast(array, pa.int64())
        texts.append([_line_text(v, column.kind) for v in array.to_pylist()])
    return ("|".join(row) for row in zip(*texts, strict=True))


def _line_text(value: Any, kind: str) -> str:
    if value is None:
        return NULL
    if kind == "boolean":
        return "true" if value else "false"
    return str(value)


class Bucket:
    """The S3 calls of the archive, on one bucket (a boto3 client's)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})


def read_tables(bucket: Bucket, place: Place) -> Iterator[pa.Table]:
    """The period's Parquet files as written, in order."""
    for key in bucket.keys(place.prefix):
        if key.endswith(".parquet"):
            yield pq.read_table(io.BytesIO(bucket.get(key)))


def tally_files(bucket: Bucket, place: Place, columns: Sequence[Column]) -> Tally:
    """The count and digest of the rows in the period's files, read back from S3."""
    rows = 0
    total = 0
    for table in read_tables(bucket, place):
        tally = Tally.of_lines(lines(columns, table))
        rows += tally.rows
        total += int(tally.digest)
    return Tally(rows, str(total % MODULUS))


def write_manifest(bucket: Bucket, place: Place, manifest: dict[str, Any]) -> None:
    bucket.put(place.prefix + MANIFEST, json.dumps(manifest, indent=2).encode())


def read_manifest(bucket: Bucket, place: Place) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(bucket.get(place.prefix + MANIFEST))
    return manifest


def read_back(bucket: Bucket, place: Place) -> Iterator[dict[str, Any]]:
    """An archived period's rows, in id order, once its files are checked against its manifest
    (``FilesChanged`` otherwise): an instant as a UTC datetime, a UUID as its text."""
    manifest = read_manifest(bucket, place)
    columns = [Column(c["name"], c["kind"]) for c in manifest["columns"]]
    found = tally_files(bucket, place, columns)
    if found != Tally(manifest["rows"], manifest["digest"]):
        raise FilesChanged(
            f"{place.location} holds {found.rows} rows (digest {found.digest}), its manifest "
            f"says {manifest['rows']} (digest {manifest['digest']})"
        )
    for table in read_tables(bucket, place):
        yield from table.to_pylist()


__all__ = [
    "MANIFEST",
    "ROWS_PER_FILE",
    "Bucket",
    "Column",
    "FilesChanged",
    "Place",
    "Tally",
    "UnarchivableColumn",
    "lines",
    "parquet_bytes",
    "read_back",
    "read_manifest",
    "read_tables",
    "schema",
    "tally_files",
    "to_table",
    "write_manifest",
]
