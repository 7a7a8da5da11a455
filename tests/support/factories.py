"""Arrange data the way the platform would have it, through the admin connection.

Every test builds its own tenants (fresh UUIDs), so tests never see each other's rows and need
no cleanup.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pg8000.native

from wellapi.jsonapi.ids import id_at
from wellapi.resources.description import Parent
from wellapi.resources.ledgers import LEDGER_RESOURCES, record_relationship
from welldev import api_keys
from welldev.claims import claims

_counter = itertools.count(1)


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    rows = conn.run(sql, **params)
    return list(rows[0])


@dataclass
class Tenant:
    """A workspace with a person who is an active owner there, and a workspace connector."""

    conn: pg8000.native.Connection
    workspace_pk: int
    workspace_id: UUID
    person_pk: int
    person_id: UUID
    name: str
    workspace_connector_pk: int = 0
    workspace_connector_id: UUID = field(default_factory=uuid4)

    def claims(self, kind: str = "member") -> dict[str, str]:
        """What the authorizer answers for a key of this person (``scope_token`` included)."""
        return claims(self.conn, self.person_id, self.workspace_id, kind)

    def account(self, **columns: Any) -> tuple[int, UUID]:
        pk, pid = _one(
            self.conn,
            "INSERT INTO core_api.accounts (workspace_pk, account_name, type) "
            "VALUES (:w, :n, :t) RETURNING pk, account_id",
            w=self.workspace_pk,
            n=columns.get("account_name", f"Account {next(_counter)}"),
            t=columns.get("type", "deposit"),
        )
        return pk, pid

    def company(self, name: str | None = None) -> tuple[int, UUID]:
        pk, pid = _one(
            self.conn,
            "INSERT INTO core_api.companies (workspace_pk, name, domain) "
            "VALUES (:w, :n, 'example.com') RETURNING pk, company_id",
            w=self.workspace_pk,
            n=name or f"Company {next(_counter)}",
        )
        return pk, pid

    def people(self, full_name: str | None = None) -> tuple[int, UUID]:
        pk, pid = _one(
            self.conn,
            "INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
            "VALUES (:w, 'Ada', 'Lovelace', :n) RETURNING pk, person_id",
            w=self.workspace_pk,
            n=full_name or f"Person {next(_counter)}",
        )
        return pk, pid

    def workspace_connector(self, status: str = "enabled") -> tuple[int, UUID]:
        connector_pk = connector(self.conn)
        pk, pid = _one(
            self.conn,
            "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status, "
            "config) "
            "VALUES (:w, :c, :s, CAST(:cfg AS jsonb)) RETURNING pk, workspace_connector_id",
            w=self.workspace_pk,
            c=connector_pk,
            s=status,
            cfg='{"api_secret": "sk_live_never_returned"}',
        )
        return pk, pid

    def member(self, role: str = "member", status: str = "active") -> tuple[int, UUID]:
        """Another person with a membership in this workspace."""
        pk, pid = self.people()
        self.conn.run(
            "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
            "VALUES (:w, :p, :r, :s)",
            w=self.workspace_pk,
            p=pk,
            r=role,
            s=status,
        )
        return pk, pid


def connector(conn: pg8000.native.Connection, provider: str = "plaid_eu") -> int:
    return int(
        _one(
            conn,
            "INSERT INTO core_api.connectors (name, provider) VALUES (:n, :p) RETURNING pk",
            n=f"Connector {next(_counter)}",
            p=provider,
        )[0]
    )


def member_key(conn: pg8000.native.Connection, t: Tenant, name: str = "test") -> tuple[UUID, str]:
    """A new member API key of the tenant's person, for its workspace: (key id, key)."""
    return api_keys.create_key(
        conn, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name=name
    )


def tenant(conn: pg8000.native.Connection, name: str | None = None) -> Tenant:
    name = name or f"Workspace {next(_counter)}"
    ws_pk, ws_id = _one(
        conn,
        "INSERT INTO core_api.workspaces (name) VALUES (:n) RETURNING pk, workspace_id",
        n=name,
    )
    p_pk, p_id = _one(
        conn,
        "INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
        "VALUES (:w, 'Grace', 'Hopper', 'Grace Hopper') RETURNING pk, person_id",
        w=ws_pk,
    )
    conn.run(
        "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
        "VALUES (:w, :p, 'owner', 'active')",
        w=ws_pk,
        p=p_pk,
    )
    t = Tenant(conn, ws_pk, ws_id, p_pk, p_id, name)
    t.workspace_connector_pk, t.workspace_connector_id = t.workspace_connector()
    return t


def join_workspace(
    conn: pg8000.native.Connection, person_pk: int, other: Tenant, status: str = "active"
) -> None:
    conn.run(
        "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) VALUES (:w, "
        ":p, 'member', :s)",
        w=other.workspace_pk,
        p=person_pk,
        s=status,
    )


# ledger table -> the parent its rows bring in (a relationship of the same name)
LEDGER_PARENT = {r.table.name: record_relationship(r).parent for r in LEDGER_RESOURCES}
PROVENANCE_RECORD = {table: parent.type for table, parent in LEDGER_PARENT.items()}
# record type -> its table
RECORD_TABLE = {parent.type: parent.table.name for parent in LEDGER_PARENT.values()}


def record_rows(parent: Parent) -> str:
    """An INSERT of ``:n`` rows of a workspace's records (``:w``), returning their pks: each
    string attribute says which (``Account 3``), each required enum its first value."""
    label = parent.type.replace("_", " ").capitalize()
    values = {
        a.column: f"'{label} ' || g" if a.kind == "string" else f"'{a.enum[0]}'"
        for a in parent.attributes
        if a.kind == "string" or (a.kind == "enum" and not a.nullable)
    }
    return (
        f"INSERT INTO core_api.{parent.table.name} (workspace_pk, {', '.join(values)}) "
        f"SELECT :w, {', '.join(values.values())} FROM generate_series(1, :n) g "
        f"RETURNING pk, {parent.id_column}"
    )


def v7_at(at: datetime) -> UUID:
    """A version 7 UUID of ``at``'s millisecond: a ledger row's id of that time."""
    return id_at(int(at.timestamp() * 1000))


# A ledger row's id, of the time ``:c`` when one is given: its created_at is its id's time.
ID_AT = "COALESCE(core_api.uuid_v7_at(CAST(:c AS timestamptz)), core_api.uuid_v7())"


def provenance(
    conn: pg8000.native.Connection,
    table: str,
    record_pk: int,
    workspace_connector_pk: int,
    direction: str = "input",
    *,
    created_at: datetime | None = None,
    deleted: bool = False,
) -> UUID:
    record = PROVENANCE_RECORD[table]
    row = _one(
        conn,
        f"INSERT INTO core_api.{table} ({record}_pk, workspace_connector_pk, direction, "
        f"{table[:-1]}_id, deleted_at) "
        f"VALUES (:r, :w, CAST(:d AS core_api.direction_enum), {ID_AT}, "
        f"CASE WHEN :del THEN now() END) RETURNING {table[:-1]}_id",
        r=record_pk,
        w=workspace_connector_pk,
        d=direction,
        c=created_at,
        **{"del": deleted},
    )
    return UUID(str(row[0]))


def record_of(t: Tenant, table: str) -> tuple[int, UUID]:
    """A new record of the kind the ledger ``table`` brings in, in ``t``'s workspace."""
    pk, pid = _one(t.conn, record_rows(LEDGER_PARENT[table]), w=t.workspace_pk, n=1)
    return pk, pid


def group(
    conn: pg8000.native.Connection, name: str | None = None, created_by_pk: int | None = None
) -> tuple[int, UUID]:
    pk, pid = _one(
        conn,
        "INSERT INTO core_api.workspace_groups (name, created_by_pk) VALUES (:n, :c) RETURNING "
        "pk, workspace_group_id",
        n=name or f"Group {next(_counter)}",
        c=created_by_pk,
    )
    return pk, pid


def group_member(
    conn: pg8000.native.Connection, group_pk: int, person_pk: int, role: str = "member"
) -> None:
    conn.run(
        "INSERT INTO core_api.workspace_group_memberships (workspace_group_pk, person_pk, "
        "role) VALUES (:g, :p, :r)",
        g=group_pk,
        p=person_pk,
        r=role,
    )


def enrol(
    conn: pg8000.native.Connection,
    group_pk: int,
    workspace_pk: int,
    created_by_pk: int | None = None,
    *,
    deleted: bool = False,
) -> UUID:
    row = _one(
        conn,
        "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk, "
        "created_by_pk, deleted_at) "
        "VALUES (:g, :w, :c, CASE WHEN :del THEN now() END) RETURNING workspace_group_workspace_id",
        g=group_pk,
        w=workspace_pk,
        c=created_by_pk,
        **{"del": deleted},
    )
    return UUID(str(row[0]))


def provider(conn: pg8000.native.Connection, category: str = "Finance") -> tuple[int, UUID]:
    n = next(_counter)
    pk, pid = _one(
        conn,
        "INSERT INTO core_api.providers (name, slug, url, category, popularity_score) "
        "VALUES (:n, :s, 'https://example.com', :c, 42) RETURNING pk, provider_id",
        n=f"Provider {n}",
        s=f"provider-{n}-{uuid4().hex[:8]}",
        c=category,
    )
    return pk, pid


def workspace_provider(
    conn: pg8000.native.Connection,
    workspace_pk: int,
    provider_pk: int,
    *,
    selected: bool = True,
    matched: bool = True,
    deleted: bool = False,
) -> UUID:
    row = _one(
        conn,
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched, deleted_at) "
        "VALUES (:w, :p, :s, :m, CASE WHEN :del THEN now() END) RETURNING workspace_provider_id",
        w=workspace_pk,
        p=provider_pk,
        s=selected,
        m=matched,
        **{"del": deleted},
    )
    return UUID(str(row[0]))


def revoke_key(conn: pg8000.native.Connection, key: str) -> bool:
    """Revoke a key by id or prefix, as its administrator would; True when a live key was
    revoked (the operator function revokes them: wellapi.handlers.operator)."""
    try:
        condition, value = "api_key_id = CAST(:v AS uuid)", str(UUID(key))
    except ValueError:
        condition, value = "prefix = :v", key
    rows = conn.run(
        f"UPDATE core_api.api_keys SET revoked_at = now() WHERE {condition} "
        "AND revoked_at IS NULL RETURNING 1",
        v=value,
    )
    return bool(rows)
