"""The demo put back as seeded: what ``wellapi seed --reset`` (``make demo-reset``) does.

The Swagger UI examples and the events in ``events/`` name demo rows by their fixed ids
(``seed.seed_id``); a Delete example soft-deletes its row for good, so the Retrieve, PATCH,
related and relationship examples of that row answer 404 afterwards, and a Create example
leaves a live row that makes the next one 409. ``reset`` undoes all of it, in one transaction,
so a server that is serving meanwhile sees the demo before or after, never half of it:

- every seeded row is back with the seed's values: re-inserted with its id when it is gone,
  undeleted when the seed has it live, its columns (``is_selected``, a connector's
  ``status``...) set back; a row the seed has soft-deleted stays so (its ``deleted_at`` kept).
  ``created_at`` is the row's own (the database keeps it on update), ``updated_at`` moves
  forward on the rows put back only;
- the rows the demo never had are removed (deleted, not soft-deleted): in the five resources,
  those of the demo workspaces and of the demo group whose id is not the seed's (what a
  Create, select or enrol example, or a sync message, added); and the sync pipeline's state
  of the demo workspace connectors (receipts, unlink tombstones, revocations and their sweeps),
  which a fresh seed has none of. Removing them is what makes every example answer as
  designed again: a live selection of Notion, or a second live enrolment of Globex, would
  make the Create and enrol examples 409, and the seeded enrolment could not be live beside
  it; a receipt would make a resent sync message a no-op;
- the database records each row the reset puts back or removes, as every change (revision
  0025, actor ``system``): the feed and the events tell of the reset, and a consumer of them
  ends where the demo is;
- the stored responses of creates retried with an ``Idempotency-Key`` by the demo keys' persons
  are cleared, so a replayed select no longer answers with a row the reset removed. The reset
  says how many;
- nothing else is touched: rows of any other workspace, the catalogs' other rows, API keys
  other than the demo's (``seed.IssuedKeys``: the keys ``.local/demo.json`` holds are kept
  while they authenticate, else new ones are issued and written there).

Which database it may run on is the command's concern (``welldev.commands.seed``): the local
embedded one, or the one ``DATABASE_URL`` names when it already holds the demo.
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
from welldev.seed import Demo, IssuedKeys, SeedRow

# The resources' tables, children of the demo's workspaces (ledgers through their connector).
LEDGERS = tuple(schema.table(ledger.table.name) for ledger in LEDGER_RESOURCES)
# The sync pipeline's state, one row per workspace connector (and more).
SYNC_STATE = (
    schema.sync_receipts,
    schema.sync_tombstones,
    schema.revocation_sweeps,
    schema.connector_revocations,
)
# SQLSTATE undefined_table: a database without the schema holds no demo.
UNDEFINED_TABLE = "42P01"


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


def holds_demo(conn: pg8000.native.Connection) -> bool:
    """Whether the database holds the demo: its workspaces, with the seed's ids."""
    ids = [str(member.workspace_id) for member in seed.demo_members()]
    try:
        rows = conn.run(
            f"SELECT count(*) FROM {SCHEMA}.workspaces "
            "WHERE workspace_id = ANY(CAST(:ids AS uuid[]))",
            ids=ids,
        )
    except pg8000.exceptions.DatabaseError as error:
        if sqlstate_of(error) == UNDEFINED_TABLE:
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
        cleared = _clear_kept_answers(conn)
        for row in rows:
            restored[row.table.name] += _restore(conn, row)
        demo = seed.issue(conn, keys)
    return demo, Reset(dict(restored), removed, cleared)


def _remove_what_the_demo_never_had(
    conn: pg8000.native.Connection, seeded: dict[str, list[str]]
) -> dict[str, int]:
    workspaces = (
        f"(SELECT pk FROM {SCHEMA}.workspaces "
        "WHERE workspace_id = ANY(CAST(:workspaces AS uuid[])))"
    )
    connectors = (
        f"(SELECT pk FROM {SCHEMA}.workspace_connectors WHERE workspace_pk IN {workspaces})"
    )
    groups = (
        f"(SELECT pk FROM {SCHEMA}.workspace_groups "
        "WHERE workspace_group_id = ANY(CAST(:groups AS uuid[])))"
    )
    scope = {
        "workspaces": seeded[schema.workspaces.name],
        "groups": seeded[schema.workspace_groups.name],
    }
    # Children first: the sweeps before the revocations they belong to.
    removals: list[tuple[Any, str]] = [
        *((ledger, f"workspace_connector_pk IN {connectors}") for ledger in LEDGERS),
        (
            schema.workspace_group_workspaces,
            f"(workspace_group_pk IN {groups} OR workspace_pk IN {workspaces})",
        ),
        (schema.workspace_providers, f"workspace_pk IN {workspaces}"),
    ]
    removed: dict[str, int] = {}
    for table, condition in removals:
        id_column = schema.public_id_column(table)
        found = conn.run(
            f"WITH gone AS (DELETE FROM {SCHEMA}.{table.name} WHERE {condition} "
            f"AND NOT {id_column} = ANY(CAST(:seeded AS uuid[])) RETURNING 1) "
            "SELECT count(*) FROM gone",
            seeded=seeded[table.name],
            **scope,
        )
        removed[table.name] = int(found[0][0])
    for table in SYNC_STATE:
        found = conn.run(
            f"WITH gone AS (DELETE FROM {SCHEMA}.{table.name} "
            f"WHERE workspace_connector_pk IN {connectors} RETURNING 1) SELECT count(*) FROM gone",
            workspaces=scope["workspaces"],
        )
        removed[table.name] = int(found[0][0])
    return removed


# The answers kept for creates the demo keys' persons retried (revision 0018; the owner's).
KEPT_ANSWERS = (
    "well_private.idempotency_keys WHERE person_pk IN "
    f"(SELECT person_pk FROM {SCHEMA}.api_keys WHERE name LIKE 'demo:%')"
)


def _clear_kept_answers(conn: pg8000.native.Connection) -> dict[str, int]:
    found = conn.run(
        f"WITH gone AS (DELETE FROM {KEPT_ANSWERS} RETURNING 1) SELECT count(*) FROM gone"
    )
    return {"idempotency_keys": int(found[0][0])}


def _restore(conn: pg8000.native.Connection, row: SeedRow) -> int:
    """Insert ``row``, or set an existing one back to it; 1 when anything changed, else 0."""
    id_column, columns, values, params = seed.insert_parts(row)
    # created_at is the row's own: the touch_row trigger keeps it on update.
    kept = [c for c in columns[1:] if c not in ("created_at", "deleted_at")]
    assignments = [f"{c} = EXCLUDED.{c}" for c in kept]
    # Live as seeded, or soft-deleted as seeded (keeping the time it was deleted at).
    assignments.append(
        "deleted_at = CASE WHEN EXCLUDED.deleted_at IS NULL THEN NULL "
        "ELSE coalesce(target.deleted_at, EXCLUDED.deleted_at) END"
    )
    now = ", ".join([*(f"target.{c}" for c in kept), "target.deleted_at IS NULL"])
    seeded = ", ".join([*(f"EXCLUDED.{c}" for c in kept), "EXCLUDED.deleted_at IS NULL"])
    changed = conn.run(
        f"INSERT INTO {SCHEMA}.{row.table.name} AS target ({', '.join(columns)}) "
        f"VALUES ({', '.join(values)}) ON CONFLICT ({id_column}) DO UPDATE SET "
        f"{', '.join(assignments)} WHERE ROW({now}) IS DISTINCT FROM ROW({seeded}) RETURNING 1",
        **params,
    )
    return len(changed)
