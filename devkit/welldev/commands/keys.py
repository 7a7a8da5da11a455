"""``wellapi keys``: every API key of the local database, never a secret (``wellapi operator``
issues, revokes and rotates them)."""

from __future__ import annotations

import argparse
from dataclasses import astuple
from datetime import datetime
from typing import Any

from welldev import api_keys
from welldev.commands.local_database import USAGE_ERRORS as USAGE_ERRORS
from welldev.commands.local_database import admin_connection
from welldev.console import print_table, step

# The columns of ``wellapi keys``: ``api_keys.KeyRecord``'s fields, as the table heads them.
KEY_COLUMNS = (
    *("id", "name", "prefix", "kind", "person", "workspace"),
    *("created", "last used", "revoked", "expires"),
)


def listing(args: argparse.Namespace) -> int:
    with admin_connection() as (_, conn):
        records = api_keys.list_keys(conn)
    rows = [[_cell(value) for value in astuple(record)] for record in records]
    print_table(KEY_COLUMNS, rows)
    step(f"{len(rows)} keys, {sum(1 for r in records if r.revoked_at is None)} not revoked")
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "-" if value is None else str(value)
