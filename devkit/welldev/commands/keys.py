"""``wellapi keys create|list|revoke``: the action's statement on the local database."""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import astuple
from datetime import datetime
from typing import Any

import pg8000.native

from wellapi.http import keys
from welldev import api_keys
from welldev.commands.local_database import USAGE_ERRORS as USAGE_ERRORS
from welldev.commands.local_database import admin_connection
from welldev.console import print_table, step

# The columns of ``wellapi keys list``: ``api_keys.KeyRecord``'s fields, as the table heads them.
KEY_COLUMNS = (
    *("id", "name", "prefix", "kind", "person", "workspace"),
    *("created", "last used", "revoked"),
)


def create(args: argparse.Namespace) -> int:
    with admin_connection() as (_, conn):
        try:
            key_id, key = api_keys.create_key(
                conn,
                person_id=args.person,
                workspace_id=args.workspace,
                kind=args.kind,
                name=args.name,
            )
        except LookupError as error:
            print(f"wellapi: {error}", file=sys.stderr)
            return 1
        member = args.kind == "member" and _is_active_member(conn, args.person, args.workspace)
    parsed = keys.parse_key(key)
    assert parsed is not None
    # The key alone on stdout (KEY=$(wellapi keys create ...)); it is never shown again.
    print(key, flush=True)
    print(f"api_key_id: {key_id}\nprefix:     {parsed.prefix}", file=sys.stderr)
    step("the key is printed above, once: only its prefix and hash are stored")
    if args.kind == "member" and not member:
        step("warning: the person has no active membership in that workspace; the key gets 403")
    return 0


def _is_active_member(
    conn: pg8000.native.Connection, person: uuid.UUID, workspace: uuid.UUID
) -> bool:
    rows = conn.run(
        "SELECT 1 FROM core_api.memberships m "
        "JOIN core_api.peoples p ON p.pk = m.person_pk "
        "JOIN core_api.workspaces w ON w.pk = m.workspace_pk "
        "WHERE p.person_id = CAST(:person AS uuid) AND w.workspace_id = CAST(:workspace AS uuid) "
        "AND m.status = 'active' AND m.deleted_at IS NULL",
        person=str(person),
        workspace=str(workspace),
    )
    return bool(rows)


def listing(args: argparse.Namespace) -> int:
    with admin_connection() as (_, conn):
        records = api_keys.list_keys(conn)
    rows = [[_cell(value) for value in astuple(record)] for record in records]
    print_table(KEY_COLUMNS, rows)
    step(f"{len(rows)} keys, {sum(1 for r in records if r.revoked_at is None)} not revoked")
    return 0


def revoke(args: argparse.Namespace) -> int:
    wanted = args.key.strip()
    parsed = keys.parse_key(wanted)
    if parsed is not None:  # a whole key was given: its prefix finds it (never echo the key)
        wanted = parsed.prefix
    with admin_connection() as (_, conn):
        revoked = api_keys.revoke_key(conn, wanted)
    if not revoked:
        print(f"wellapi: no live API key with id or prefix {wanted}", file=sys.stderr)
        return 1
    step(f"revoked {wanted}")
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "-" if value is None else str(value)
