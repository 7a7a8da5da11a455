"""What a consumer of the change history knows of each row, against what the row is.

The consumer of docs/changes.md ("The order"): it applies a record to each of its rows only
when the record's ``sequence`` is larger than the last one it applied to that row. What it ends
with, for every row the records name, is compared with the rows themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pg8000.native

from wellapi.resources import RESOURCES

REMOVALS = {"unlinked", "unenrolled", "removed"}
# resource type -> its table (the changes feed's own resource has none of its rows).
TABLES = {r.type: r.table.name for r in RESOURCES.values() if r.type != "change"}
# A row as a reader sees it: gone, or live with what its records say of it.
GONE: tuple[Any, ...] = ("gone",)


@dataclass(frozen=True)
class Record:
    """A change record as the feed or an event tells it."""

    sequence: int
    resource_type: str
    change: str
    ids: tuple[str, ...]
    detail: Mapping[str, Any]


def state_of(record: Record) -> tuple[Any, ...]:
    """What a record says its rows are after it."""
    if record.change in REMOVALS:
        return GONE
    if record.resource_type == "workspace_provider":
        return ("live", record.detail["is_selected"], record.detail["is_matched"])
    return ("live",)


def replay(records: Iterable[Record]) -> dict[str, tuple[Any, ...]]:
    """Each row's state after applying the records in the order given, by the consumer's rule."""
    applied: dict[str, int] = {}
    states: dict[str, tuple[Any, ...]] = {}
    for record in records:
        if record.resource_type not in TABLES:
            continue  # a revocation's own record names the connector, not a row
        for row_id in record.ids:
            if record.sequence > applied.get(row_id, 0):
                applied[row_id] = record.sequence
                states[row_id] = state_of(record)
    return states


def from_feed(resource: Mapping[str, Any]) -> Record:
    """A record from a feed page's resource object."""
    a = resource["attributes"]
    return Record(a["sequence"], a["resource_type"], a["change"], tuple(a["ids"]), a["detail"])


def from_event(detail: Mapping[str, Any]) -> Record:
    """A record from an event's detail."""
    return Record(
        detail["sequence"],
        detail["resource_type"],
        detail["change"],
        tuple(detail["ids"]),
        detail["details"],
    )


def stored(admin: pg8000.native.Connection, workspace_pk: int) -> list[Record]:
    """A workspace's records, in the order readers walk them."""
    rows = admin.run(
        "SELECT pk, resource_type, change, ids::text[], detail FROM core_api.change_records "
        "WHERE workspace_pk = :w ORDER BY xid, pk",
        w=workspace_pk,
    )
    return [Record(int(pk), t, c, tuple(ids), detail) for pk, t, c, ids, detail in rows]


def rows_of(admin: pg8000.native.Connection, workspace_pk: int) -> dict[str, tuple[Any, ...]]:
    """Every junction row of a workspace as a reader sees it."""
    states: dict[str, tuple[Any, ...]] = {}
    for resource_type, table in TABLES.items():
        if table == "workspace_providers":
            where, flags = "t.workspace_pk = :w", ", t.is_selected, t.is_matched"
        elif table == "workspace_group_workspaces":
            where, flags = "t.workspace_pk = :w", ""
        else:
            where = (
                "t.workspace_connector_pk IN (SELECT pk FROM core_api.workspace_connectors "
                "WHERE workspace_pk = :w)"
            )
            flags = ""
        for row in admin.run(
            f"SELECT t.{resource_type}_id::text, t.deleted_at IS NULL{flags} "
            f"FROM core_api.{table} t WHERE {where}",
            w=workspace_pk,
        ):
            states[row[0]] = ("live", *row[2:]) if row[1] else GONE
    return states


def disagreements(
    replayed: Mapping[str, tuple[Any, ...]], rows: Mapping[str, tuple[Any, ...]]
) -> dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Each row whose replayed state is not its own: (replayed, row). A row no record names
    was never live; a row deleted for good is gone."""
    return {
        row_id: (replayed.get(row_id, GONE), rows.get(row_id, GONE))
        for row_id in {*rows, *replayed}
        if replayed.get(row_id, GONE) != rows.get(row_id, GONE)
    }
