"""``wellapi archive run`` and ``wellapi archive read``: the ledger archive (docs/archive.md).

``run`` archives every ledger period that ended ``--retention-days`` or more ago to
``s3://<bucket>/<root>`` (``wellapi.sync.archive``), as the schema's owner: the database is
``DATABASE_URL`` (its owner's or an administrator's URL), else the embedded one. ``read``
prints an archived period's rows as JSON lines, once its files are checked against their
manifest. S3 is boto3's (its credentials, region and ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from welldev import database
from welldev.commands import local_database
from welldev.commands.local_database import admin_connection

# The database's refusals (another major serving, a revision unknown), and a bad period.
USAGE_ERRORS = (*local_database.USAGE_ERRORS, ValueError)


def _bucket(name: str) -> Any:
    from wellapi.sync.archive_files import Bucket

    return Bucket(boto3.client("s3"), name)


def run(args: argparse.Namespace) -> int:
    from wellapi.sync.archive import archive_due_periods

    with admin_connection() as (db, _):
        report = archive_due_periods(
            lambda: database.admin_connection(db.admin_url),
            _bucket(args.bucket),
            root=args.root,
            retention_days=args.retention_days,
        )
    for period, tally, location in report.archived:
        print(f"archived {period.partition}: {tally.rows} rows to {location}")
    for period, reason in report.failures:
        print(f"not archived {period.partition} (attached again): {reason}", file=sys.stderr)
    if not report.archived and not report.failures:
        print("no period is past the horizon")
    return 1 if report.failures else 0


def read(args: argparse.Namespace) -> int:
    from wellapi.sync.archive_files import FilesChanged, Place, read_back

    starts_at = datetime.strptime(args.period, "%Y-%m-%d").replace(tzinfo=UTC)
    place = Place.of(args.bucket, args.root, args.ledger, starts_at)
    try:
        for row in read_back(_bucket(args.bucket), place):
            print(json.dumps(row, default=_text))
    except (FilesChanged, ClientError) as error:
        print(f"wellapi: {place.location}: {error}", file=sys.stderr)
        return 1
    return 0


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def main(args: argparse.Namespace) -> int:
    return run(args) if args.step == "run" else read(args)
