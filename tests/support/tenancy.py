"""Two tenants with a row of every kind, and a byte-level snapshot of the whole schema.

Used by the row-level security tests and the cross-tenant matrix. Everything is inserted
through the admin connection (it owns the tables, so row-level security does not apply to it).
Each side is a workspace whose person is its active owner, with records, a workspace
connector, a provenance row in each of the three ledgers, a group the person owns with the
workspace enrolled, a second workspace the person belongs to (not enrolled anywhere), and two
provider selections: one of a provider only this side selected, one of a provider both did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from tests.support import factories as f
from wellapi.resources import RESOURCES

PROVENANCE = f.PROVENANCE_RECORD
JUNCTIONS = tuple(RESOURCES)

Ref = tuple[int, UUID]  # (internal pk, public id)


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> Ref:
    row = conn.run(sql, **params)[0]
    return int(row[0]), UUID(str(row[1]))


def provenance_row(
    conn: pg8000.native.Connection, table: str, record_pk: int, workspace_connector_pk: int
) -> Ref:
    record = PROVENANCE[table]
    return _one(
        conn,
        f"INSERT INTO core_api.{table} ({record}_pk, workspace_connector_pk, direction) "
        f"VALUES (:r, :w, 'input') RETURNING pk, {table[:-1]}_id",
        r=record_pk,
        w=workspace_connector_pk,
    )


def enrolment_row(
    conn: pg8000.native.Connection, group_pk: int, workspace_pk: int, created_by_pk: int | None
) -> Ref:
    return _one(
        conn,
        "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk, "
        "created_by_pk) VALUES (:g, :w, :c) RETURNING pk, workspace_group_workspace_id",
        g=group_pk,
        w=workspace_pk,
        c=created_by_pk,
    )


def selection_row(conn: pg8000.native.Connection, workspace_pk: int, provider_pk: int) -> Ref:
    return _one(
        conn,
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched) VALUES (:w, :p, true, true) RETURNING pk, workspace_provider_id",
        w=workspace_pk,
        p=provider_pk,
    )


def spare_workspace(conn: pg8000.native.Connection, person_pk: int) -> Ref:
    """Another workspace where ``person_pk`` is an active member."""
    ref = _one(
        conn,
        "INSERT INTO core_api.workspaces (name) VALUES ('Spare') RETURNING pk, workspace_id",
    )
    conn.run(
        "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
        "VALUES (:w, :p, 'member', 'active')",
        w=ref[0],
        p=person_pk,
    )
    return ref


@dataclass(frozen=True)
class Side:
    tenant: f.Tenant
    records: dict[str, Ref]  # "account" | "company" | "people" -> the record
    provenance: dict[str, Ref]  # ledger table -> its row (this side's record and connector)
    group: Ref  # owned by this side's person, with this side's workspace enrolled
    enrolment: Ref
    spare_workspace: Ref  # the person is an active member; enrolled nowhere
    provider: Ref  # selected by this side only
    selection: Ref  # this side's workspace_provider of ``provider``
    shared_selection: Ref  # this side's workspace_provider of the world's shared provider
    change: str  # the feed id of a change record of this side's workspace (its selection's)

    @property
    def workspace(self) -> Ref:
        return self.tenant.workspace_pk, self.tenant.workspace_id

    @property
    def person(self) -> Ref:
        return self.tenant.person_pk, self.tenant.person_id

    @property
    def workspace_connector(self) -> Ref:
        return self.tenant.workspace_connector_pk, self.tenant.workspace_connector_id

    def row(self, resource: str) -> Ref:
        """This side's row of a junction resource (its own provider's selection for providers)."""
        if resource in self.provenance:
            return self.provenance[resource]
        if resource == "workspace_group_workspaces":
            return self.enrolment
        return self.selection

    def rows(self, resource: str) -> set[UUID]:
        if resource == "workspace_providers":
            return {self.selection[1], self.shared_selection[1]}
        return {self.row(resource)[1]}

    def parent(self, resource: str, relationship: str) -> UUID:
        """The public id this side's row of ``resource`` points at through ``relationship``."""
        if relationship in self.records:
            return self.records[relationship][1]
        return {
            "workspace_connector": self.workspace_connector[1],
            "workspace": self.workspace[1],
            "workspace_group": self.group[1],
            "created_by": self.person[1],
            "provider": self.provider[1],
        }[relationship]

    def private_ids(self) -> set[str]:
        """Every public id of this side that no other tenant's member may ever be shown."""
        refs = [
            self.workspace,
            self.person,
            self.workspace_connector,
            self.group,
            self.enrolment,
            self.spare_workspace,
            self.selection,
            self.shared_selection,
            *self.records.values(),
            *self.provenance.values(),
        ]
        return {str(ref[1]) for ref in refs}


def side(conn: pg8000.native.Connection, shared_provider: Ref, name: str) -> Side:
    t = f.tenant(conn, name)
    records = {record: f.record_of(t, table) for table, record in PROVENANCE.items()}
    ledgers = {
        table: provenance_row(conn, table, records[record][0], t.workspace_connector_pk)
        for table, record in PROVENANCE.items()
    }
    group = f.group(conn, f"{name} group", created_by_pk=t.person_pk)
    f.group_member(conn, group[0], t.person_pk, "owner")
    provider = f.provider(conn)
    selection = selection_row(conn, t.workspace_pk, provider[0])
    return Side(
        tenant=t,
        records=records,
        provenance=ledgers,
        group=group,
        enrolment=enrolment_row(conn, group[0], t.workspace_pk, t.person_pk),
        spare_workspace=spare_workspace(conn, t.person_pk),
        provider=provider,
        selection=selection,
        shared_selection=selection_row(conn, t.workspace_pk, shared_provider[0]),
        change=change_record(conn, t.workspace_pk, selection[1]),
    )


def change_record(conn: pg8000.native.Connection, workspace_pk: int, selection_id: UUID) -> str:
    """A change record of the workspace (its selection's), as the owner writes it: its feed id."""
    rows = conn.run(
        "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
        "occurred_at, actor_kind) VALUES (:w, 'workspace_provider', 'selected', "
        "ARRAY[CAST(:id AS uuid)], now(), 'sweep') RETURNING xid::text || '-' || pk",
        w=workspace_pk,
        id=str(selection_id),
    )
    return str(rows[0][0])


def settled(conn: pg8000.native.Connection, timeout: float = 120.0) -> None:
    """Wait until every change record written so far is behind the horizon the changes feed
    reads up to. The horizon is the server's: a transaction open in any database of it (another
    test worker's migration) holds every reader back until it ends (docs/changes.md)."""
    deadline = time.monotonic() + timeout
    while conn.run(
        "SELECT EXISTS (SELECT 1 FROM core_api.change_records "
        "WHERE xid >= pg_snapshot_xmin(pg_current_snapshot()))"
    )[0][0]:
        assert time.monotonic() < deadline, "a transaction held the horizon back"
        time.sleep(0.05)


@dataclass(frozen=True)
class World:
    a: Side  # the victim
    b: Side  # the other tenant
    shared_provider: Ref  # selected by both
    free_provider: Ref  # selected by nobody: what create attempts point at


def world(conn: pg8000.native.Connection) -> World:
    shared = f.provider(conn)
    made = World(
        a=side(conn, shared, "Tenant A"),
        b=side(conn, shared, "Tenant B"),
        shared_provider=shared,
        free_provider=f.provider(conn),
    )
    settled(conn)
    return made


# ---- the whole schema, byte for byte -----------------------------------------------------------

Snapshot = dict[str, tuple[int, str]]


def core_api_tables(conn: pg8000.native.Connection) -> list[str]:
    # A ledger's periods (its partitions) are read through it: not tables of their own here.
    rows = conn.run(
        "SELECT relname FROM pg_class WHERE relnamespace = CAST('core_api' AS regnamespace) "
        "AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1"
    )
    return [str(r[0]) for r in rows]


def snapshot(
    conn: pg8000.native.Connection, ignore: dict[str, tuple[str, ...]] | None = None
) -> Snapshot:
    """Per core_api table: its row count and the md5 of every row's JSON text, sorted.

    ``ignore`` names columns left out per table (the API-key columns the authorizer moves on
    every successful authentication, when a test goes through it).
    """
    ignore = ignore or {}
    parts = []
    for table in core_api_tables(conn):
        row = "row_to_json(t)::jsonb" + "".join(
            f" - {pg8000.native.literal(c)}" for c in ignore.get(table, ())
        )
        parts.append(
            f"SELECT {pg8000.native.literal(table)}, count(*), "
            f"coalesce(md5(string_agg(({row})::text, E'\\n' ORDER BY ({row})::text)), '') "
            f"FROM core_api.{pg8000.native.identifier(table)} t"
        )
    rows = conn.run(" UNION ALL ".join(parts))
    return {str(name): (int(count), str(digest)) for name, count, digest in rows}


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
