"""The tenants of the large-tenant, revocation and feed databases (``databases.make_tenant``
builds them), and the read shapes the bench's large-tenant section and the plan test read from
a big and a small one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.resources import resource_named
from welldev.bench.databases import LEDGERS, one, public_id_column
from welldev.bench.harness import api_event


@dataclass(frozen=True)
class Tenant:
    name: str
    workspace_pk: int
    workspace_id: UUID
    person_id: UUID
    connector_ids: tuple[UUID, ...]
    connector_pks: tuple[int, ...]
    # ledger -> public id of a record that the tenant's sync runs touched many times
    record_ids: dict[str, UUID]
    group_ids: tuple[UUID, ...]


def tenant(conn: pg8000.native.Connection, name: str) -> Tenant:
    """The ids of tenant ``name`` (``databases.make_tenant``)."""
    workspace_pk, workspace_id, person_id = one(
        conn,
        "SELECT w.pk, w.workspace_id, p.person_id FROM core_api.workspaces w "
        "JOIN core_api.peoples p ON p.workspace_pk = w.pk AND p.full_name = 'Owner ' || w.name "
        "WHERE w.name = :n",
        n=name,
    )
    connectors = conn.run(
        "SELECT workspace_connector_id, pk FROM core_api.workspace_connectors "
        "WHERE workspace_pk = :w ORDER BY pk",
        w=workspace_pk,
    )
    record_ids = {
        ledger: one(
            conn,
            f"SELECT {public_id_column(record_table)} FROM core_api.{record_table} "
            "WHERE workspace_pk = :w ORDER BY pk LIMIT 1",
            w=workspace_pk,
        )[0]
        for ledger, (record_table, _) in LEDGERS.items()
    }
    group_ids = tuple(
        row[0]
        for row in conn.run(
            "SELECT g.workspace_group_id FROM core_api.workspace_groups g "
            "JOIN core_api.workspace_group_workspaces e ON e.workspace_group_pk = g.pk "
            "WHERE e.workspace_pk = :w ORDER BY g.pk",
            w=workspace_pk,
        )
    )
    return Tenant(
        name,
        workspace_pk,
        workspace_id,
        person_id,
        tuple(c[0] for c in connectors),
        tuple(c[1] for c in connectors),
        record_ids,
        group_ids,
    )


# --- the read shapes measured on both tenants -------------------------------------------------

RECORD_RELATIONSHIP = {ledger: record for ledger, (_, record) in LEDGERS.items()}
QUARTER = "filter[created_at][gte]=2026-03-01T00:00:00Z&filter[created_at][lt]=2026-06-01T00:00:00Z"
SINCE = "filter[created_at][gte]=2026-06-01T00:00:00Z"
DEEP_ROWS = 20_000  # 1,000 pages of the default 20


@dataclass(frozen=True)
class Shape:
    """One request: a List (``query``) or a Retrieve (``single``) of ``resource``.

    Placeholders filled per tenant: ``{connector}`` (a connector that syncs both ways),
    ``{export}`` (one that only carries records out), ``{record}``, ``{cursor}`` (a cursor
    1,000 pages deep in the order ``cursor``), ``{group}``, ``{workspace}``.
    """

    resource: str
    name: str
    query: str = ""
    single: bool = False
    cursor: str = ""


def _ledger_shapes(ledger: str) -> list[Shape]:
    record = RECORD_RELATIONSHIP[ledger]
    every = f"include={record},workspace_connector"
    return [
        Shape(ledger, name, query)
        for name, query in (
            ("default", ""),
            ("sort_created_at", "sort=created_at"),
            ("sort_-updated_at", "sort=-updated_at"),
            ("sort_updated_at", "sort=updated_at"),
            ("connector", "filter[workspace_connector]={connector}"),
            ("connectors_two", "filter[workspace_connector]={connector},{export}"),
            ("direction_input", "filter[direction]=input"),
            ("direction_output", "filter[direction]=output"),
            ("record", f"filter[{record}]={{record}}"),
            ("range", QUARTER),
            (
                "connector_direction",
                "filter[workspace_connector]={connector}&filter[direction]=output",
            ),
            ("export_input", "filter[workspace_connector]={export}&filter[direction]=input"),
            ("connector_range", f"filter[workspace_connector]={{connector}}&{QUARTER}"),
            ("record_range", f"filter[{record}]={{record}}&{SINCE}"),
            ("direction_range", f"filter[direction]=output&{QUARTER}"),
            ("include", every),
            ("include_page_100", f"{every}&page[size]=100"),
        )
    ] + [
        Shape(ledger, "cursor_deep", "page[after]={cursor}", cursor="-created_at"),
        Shape(
            ledger,
            "cursor_deep_updated_at",
            "sort=updated_at&page[after]={cursor}",
            cursor="updated_at",
        ),
        Shape(ledger, "cursor_deep_before", "page[before]={cursor}", cursor="-created_at"),
        Shape(ledger, "retrieve_include", every, single=True),
    ]


SHAPES: tuple[Shape, ...] = (
    *(shape for ledger in LEDGERS for shape in _ledger_shapes(ledger)),
    *(
        Shape("workspace_group_workspaces", name, query)
        for name, query in (
            ("default", ""),
            ("sort_-updated_at", "sort=-updated_at"),
            ("group", "filter[workspace_group]={group}"),
            ("workspace", "filter[workspace]={workspace}"),
            ("since", SINCE),
            ("include", "include=workspace_group,workspace,created_by"),
        )
    ),
    Shape(
        "workspace_group_workspaces",
        "retrieve_include",
        "include=workspace_group,workspace,created_by",
        single=True,
    ),
    *(
        Shape("workspace_providers", name, query)
        for name, query in (
            ("default", ""),
            ("sort_-updated_at", "sort=-updated_at"),
            ("selected", "filter[is_selected]=true"),
            ("matched_range", f"filter[is_matched]=true&{SINCE}"),
            ("include", "include=workspace,provider&page[size]=100"),
        )
    ),
    Shape("workspace_providers", "retrieve_include", "include=workspace,provider", single=True),
)


def deep_cursor(conn: pg8000.native.Connection, t: Tenant, ledger: str, sort: str) -> str:
    """The cursor of the row 1,000 pages deep in ``sort`` order (or 90% down a smaller ledger)."""
    from wellapi.jsonapi.cursor import Cursor

    column = sort.lstrip("-")
    order = "DESC" if sort.startswith("-") else "ASC"
    public = public_id_column(ledger)
    live = conn.run(
        f"SELECT count(*) FROM core_api.{ledger} l JOIN core_api.workspace_connectors c "
        "ON c.pk = l.workspace_connector_pk WHERE c.workspace_pk = :w AND l.deleted_at IS NULL",
        w=t.workspace_pk,
    )[0][0]
    depth = min(DEEP_ROWS, int(live * 0.9))
    # Per connector, at most `depth` rows in order (the List's own walk), then the one at depth.
    value, row_id = one(
        conn,
        f"SELECT p.{column}, p.{public} FROM core_api.workspace_connectors c "
        f"CROSS JOIN LATERAL (SELECT l.{column}, l.{public} FROM core_api.{ledger} l "
        "WHERE l.workspace_connector_pk = c.pk AND l.deleted_at IS NULL "
        f"ORDER BY l.{column} {order}, l.{public} {order} LIMIT :d) p "
        f"WHERE c.workspace_pk = :w ORDER BY 1 {order}, 2 {order} OFFSET :d - 1 LIMIT 1",
        w=t.workspace_pk,
        d=depth,
    )
    return Cursor(sort, value, row_id).encode()


@dataclass(frozen=True)
class ShapeRequest:
    shape: Shape
    query: str
    row_id: UUID | None

    def event(self, who: dict[str, str]) -> dict[str, Any]:
        """The API Gateway event of this request, as ``who``."""
        base = f"/v1/{resource_named(self.shape.resource).path}"
        if not self.shape.single:
            return api_event("GET", base, route=base, claims=who, query=self.query)
        row = str(self.row_id)
        return api_event(
            "GET",
            f"{base}/{row}",
            route=base + "/{id}",
            claims=who,
            query=self.query,
            path_parameters={"id": row},
        )


def requests(conn: pg8000.native.Connection, t: Tenant) -> list[ShapeRequest]:
    """Every shape with ``t``'s ids filled in."""
    cursor = functools.cache(lambda ledger, sort: deep_cursor(conn, t, ledger, sort))
    return [
        ShapeRequest(
            shape,
            shape.query.format(
                connector=t.connector_ids[1],
                export=t.connector_ids[0],
                record=t.record_ids.get(shape.resource, ""),
                group=t.group_ids[0],
                workspace=t.workspace_id,
                cursor=shape.cursor and cursor(shape.resource, shape.cursor),
            ),
            _some_row(conn, t, shape.resource) if shape.single else None,
        )
        for shape in SHAPES
    ]


def _some_row(conn: pg8000.native.Connection, t: Tenant, resource: str) -> UUID:
    public = public_id_column(resource)
    if resource in LEDGERS:
        # The second connector's: the first only carries records out.
        sql = (
            f"SELECT {public} FROM core_api.{resource} WHERE workspace_connector_pk = :c "
            "AND deleted_at IS NULL ORDER BY created_at LIMIT 1"
        )
    else:
        sql = (
            f"SELECT {public} FROM core_api.{resource} WHERE workspace_pk = :w "
            "AND deleted_at IS NULL ORDER BY pk LIMIT 1"
        )
    return UUID(str(one(conn, sql, w=t.workspace_pk, c=t.connector_pks[1])[0]))
