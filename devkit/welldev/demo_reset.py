"""The demo put back as seeded: what ``wellapi seed --reset`` (``make demo-reset``) does.

The Swagger UI examples and the events in ``events/`` name demo rows by their fixed ids
(``seed.seed_id``); a Delete example soft-deletes its row for good, and a Create example leaves
a live row that makes the next one 409. ``reset`` undoes all of it in one transaction, so a
server serving meanwhile sees the demo before or after, never half of it:

- every seeded row is back with the seed's values (re-inserted with its id, undeleted, its
  columns set back); a row the seed has soft-deleted stays so. ``created_at`` is the row's own,
  ``updated_at`` moves forward on the rows put back only;
- the rows the demo never had are deleted (not soft-deleted): in the five resources, those of
  the demo workspaces and group whose id is not the seed's (what a Create, select or enrol
  example, or a sync message, added), and the sync pipeline's state of the demo workspace
  connectors (receipts, tombstones, revocations and their sweeps). Otherwise a live selection
  of Notion would make the Create example 409, and a receipt a resent sync message a no-op;
- the database records each row put back or removed, as every change (the
  ``<table>_recorded_<event>`` triggers, actor ``system``): the feed and the events tell of the
  reset;
- the stored responses of creates the demo keys' persons retried with an ``Idempotency-Key``
  are cleared, so a replayed select no longer answers with a row the reset removed;
- nothing else is touched: other workspaces' rows, the catalogs' other rows, API keys other
  than the demo's (``seed.IssuedKeys``).

Which database it may run on is the command's concern (``welldev.commands.seed``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pg8000.exceptions
import pg8000.native

from wellapi.domain import SCHEMA
from wellapi.errors import sqlstate_of
from wellapi.resources import tables as schema
from wellapi.resources.ledgers import LEDGER_RESOURCES
from welldev import seed
from welldev.database import LocalDatabase, connect_unless_missing
from welldev.revisions import NEVER_MIGRATED
from welldev.seed import Demo, IssuedKeys

# The resources' tables, children of the demo's workspaces (ledgers through their connector).
LEDGERS = tuple(schema.table(ledger.table.name) for ledger in LEDGER_RESOURCES)
# The sync pipeline's state, one row per workspace connector (and more).
SYNC_STATE = (
    schema.sync_receipts,
    schema.sync_tombstones,
    schema.revocation_sweeps,
    schema.connector_revocations,
)


@dataclass(frozen=True)
class Reset:
    """What a reset did, by table: seeded rows put back, rows the demo never had removed, and
    the stored responses it cleared."""

    restored: dict[str, int]
    removed: dict[str, int]
    cleared: dict[str, int]

    def describe(self) -> str:
        def counts(by_table: dict[str, int]) -> str:
            found = [f"{n} {table}" for table, n in sorted(by_table.items()) if n]
            return ", ".join(found) or "none"

        return (
            f"put back: {counts(self.restored)}; removed: {counts(self.removed)}; "
            f"stored responses cleared: {counts(self.cleared)}"
        )


def holds_demo(db: LocalDatabase) -> bool:
    """Whether ``db`` exists and holds the demo: its workspaces, with the seed's ids."""
    ids = [str(member.workspace_id) for member in seed.demo_members()]
    if (conn := connect_unless_missing(db)) is None:
        return False
    try:
        with conn:
            rows = conn.run(
                f"SELECT count(*) FROM {SCHEMA}.workspaces "
                "WHERE workspace_id = ANY(CAST(:ids AS uuid[]))",
                ids=ids,
            )
    except pg8000.exceptions.DatabaseError as error:
        if sqlstate_of(error) in NEVER_MIGRATED:  # a database never migrated holds no demo
            return False
        raise
    return bool(rows[0][0] == len(ids))


def reset(conn: pg8000.native.Connection, keys: IssuedKeys | None = None) -> tuple[Demo, Reset]:
    """Put every demo row back as seeded and remove what the demo never had (one transaction)."""
    rows = list(seed.demo_rows(datetime.now(UTC)))
    seeded: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        seeded[row.table.name].append(str(row.public_id))
    restored: dict[str, int] = defaultdict(int)
    with seed.transaction(conn):
        removed = _remove_what_the_demo_never_had(conn, seeded)
        cleared = {"idempotency_keys": _delete(conn, KEPT_ANSWERS)}
        for row in rows:
            restored[row.table.name] += seed.write_row(conn, row, restore=True)
        demo = seed.issue(conn, keys)
    return demo, Reset(dict(restored), removed, cleared)


def _remove_what_the_demo_never_had(
    conn: pg8000.native.Connection, seeded: dict[str, list[str]]
) -> dict[str, int]:
    workspaces = _pks("workspaces", "workspace_id = ANY(CAST(:workspaces AS uuid[]))")
    connectors = _pks("workspace_connectors", f"workspace_pk IN {workspaces}")
    of_connectors = f"workspace_connector_pk IN {connectors}"  # ledger rows and sync state
    groups = _pks("workspace_groups", "workspace_group_id = ANY(CAST(:groups AS uuid[]))")
    scope = {
        "workspaces": seeded[schema.workspaces.name],
        "groups": seeded[schema.workspace_groups.name],
    }
    # Children first: the sweeps before the revocations they belong to.
    removals: list[tuple[Any, str]] = [
        *((ledger, of_connectors) for ledger in LEDGERS),
        (
            schema.workspace_group_workspaces,
            f"(workspace_group_pk IN {groups} OR workspace_pk IN {workspaces})",
        ),
        (schema.workspace_providers, f"workspace_pk IN {workspaces}"),
    ]
    removed: dict[str, int] = {}
    for table, condition in removals:
        not_seeded = f"NOT {schema.public_id_column(table)} = ANY(CAST(:seeded AS uuid[]))"
        rows = f"{SCHEMA}.{table.name} WHERE {condition} AND {not_seeded}"
        removed[table.name] = _delete(conn, rows, seeded=seeded[table.name], **scope)
    for table in SYNC_STATE:
        removed[table.name] = _delete(conn, f"{SCHEMA}.{table.name} WHERE {of_connectors}", **scope)
    return removed


def _pks(table: str, condition: str) -> str:
    return f"(SELECT pk FROM {SCHEMA}.{table} WHERE {condition})"


def _delete(conn: pg8000.native.Connection, rows: str, **params: Any) -> int:
    """Delete ``rows`` (a table and a WHERE clause); how many."""
    found = conn.run(
        f"WITH gone AS (DELETE FROM {rows} RETURNING 1) SELECT count(*) FROM gone", **params
    )
    return int(found[0][0])


# The answers kept for creates the demo keys' persons retried (the owner's table of them).
KEPT_ANSWERS = (
    "well_private.idempotency_keys WHERE person_pk IN "
    f"(SELECT person_pk FROM {SCHEMA}.api_keys WHERE name LIKE 'demo:%')"
)
