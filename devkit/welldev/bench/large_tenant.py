"""The tenants of the large-tenant, revocation and feed databases (``databases.make_tenant``
builds them), the read shapes the bench's large-tenant and periods phases and the plan test read
from a big and a small one, and those phases' calls of them and of the sync writer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.resources import resource_named
from welldev import database
from welldev.bench.databases import BUILT_UNTIL, LEDGERS, first_records, one, public_id_column
from welldev.bench.harness import (
    Handler,
    alternating,
    api_event,
    handler_for,
    invoke,
    sync_events,
    synced,
)
from welldev.claims import claims


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
    first_record = ", ".join(
        f"(SELECT {public_id_column(table)} FROM core_api.{table} "
        "WHERE workspace_pk = w.pk ORDER BY pk LIMIT 1)"
        for table, _ in LEDGERS.values()
    )
    pk, workspace_id, person_id, connector_ids, connector_pks, groups, *records = one(
        conn,
        "SELECT w.pk, w.workspace_id, p.person_id, "
        "ARRAY(SELECT workspace_connector_id FROM core_api.workspace_connectors "
        "WHERE workspace_pk = w.pk ORDER BY pk), "
        "ARRAY(SELECT pk FROM core_api.workspace_connectors "
        "WHERE workspace_pk = w.pk ORDER BY pk), "
        "ARRAY(SELECT g.workspace_group_id FROM core_api.workspace_groups g "
        "JOIN core_api.workspace_group_workspaces e ON e.workspace_group_pk = g.pk "
        f"WHERE e.workspace_pk = w.pk ORDER BY g.pk), {first_record} FROM core_api.workspaces w "
        "JOIN core_api.peoples p ON p.workspace_pk = w.pk AND p.full_name = 'Owner ' || w.name "
        "WHERE w.name = :n",
        n=name,
    )
    connectors = (tuple(connector_ids), tuple(connector_pks))
    record_ids = dict(zip(LEDGERS, records, strict=True))
    return Tenant(name, pk, workspace_id, person_id, *connectors, record_ids, tuple(groups))


# --- the read shapes measured on both tenants -------------------------------------------------

QUARTER = "filter[created_at][gte]=2026-03-01T00:00:00Z&filter[created_at][lt]=2026-06-01T00:00:00Z"
SINCE = "filter[created_at][gte]=2026-06-01T00:00:00Z"
DEEP_ROWS = 20_000  # 1,000 pages of the default 20


@dataclass(frozen=True)
class Shape:
    """One request: a List (``query``) or a Retrieve (``single``) of ``resource``, its query's
    placeholders filled per tenant: ``{connector}`` (syncs both ways), ``{export}`` (only carries
    records out), ``{record}``, ``{cursor}`` (1,000 pages deep in the order ``cursor``),
    ``{group}``, ``{workspace}``."""

    resource: str
    name: str
    query: str = ""
    single: bool = False
    cursor: str = ""


# Every ledger's cursors 1,000 pages deep: name, query, the cursor's order (a ledger sorts by
# created_at only).
CURSORS = (
    ("cursor_deep", "page[after]={cursor}", "-created_at"),
    ("cursor_deep_before", "page[before]={cursor}", "-created_at"),
)


def _shapes(resource: str, lists: dict[str, str], retrieve: str) -> list[Shape]:
    """``resource``'s Lists (name: query), a ledger's deep cursors, its Retrieve's query."""
    deep = CURSORS if resource in LEDGERS else ()
    return [
        *(Shape(resource, name, query) for name, query in lists.items()),
        *(Shape(resource, name, query, cursor=order) for name, query, order in deep),
        Shape(resource, "retrieve_include", retrieve, single=True),
    ]


def _ledger_shapes(ledger: str) -> list[Shape]:
    record = LEDGERS[ledger][1]
    every = f"include={record},workspace_connector"
    lists = {
        "default": "",
        "sort_created_at": "sort=created_at",
        "connector": "filter[workspace_connector]={connector}",
        "connectors_two": "filter[workspace_connector]={connector},{export}",
        "direction_input": "filter[direction]=input",
        "direction_output": "filter[direction]=output",
        "record": f"filter[{record}]={{record}}",
        "range": QUARTER,
        "connector_direction": "filter[workspace_connector]={connector}&filter[direction]=output",
        "export_input": "filter[workspace_connector]={export}&filter[direction]=input",
        "connector_range": f"filter[workspace_connector]={{connector}}&{QUARTER}",
        "record_range": f"filter[{record}]={{record}}&{SINCE}",
        "direction_range": f"filter[direction]=output&{QUARTER}",
        "include": every,
        "include_page_100": f"{every}&page[size]=100",
    }
    return _shapes(ledger, lists, every)


GROUP_LISTS = {
    "default": "",
    "sort_-updated_at": "sort=-updated_at",
    "group": "filter[workspace_group]={group}",
    "workspace": "filter[workspace]={workspace}",
    "since": SINCE,
    "include": "include=workspace_group,workspace,created_by",
}
PROVIDER_LISTS = {
    "default": "",
    "sort_-updated_at": "sort=-updated_at",
    "selected": "filter[is_selected]=true",
    "matched_range": f"filter[is_matched]=true&{SINCE}",
    "include": "include=workspace,provider&page[size]=100",
}
SHAPES: tuple[Shape, ...] = (
    *(shape for ledger in LEDGERS for shape in _ledger_shapes(ledger)),
    *_shapes("workspace_group_workspaces", GROUP_LISTS, GROUP_LISTS["include"]),
    *_shapes("workspace_providers", PROVIDER_LISTS, "include=workspace,provider"),
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
        row = {"id": str(self.row_id)} if self.shape.single else {}
        path, route = (f"{base}/{self.row_id}", base + "/{id}") if row else (base, base)
        return api_event(
            "GET", path, route=route, claims=who, query=self.query, path_parameters=row
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
    """A live row of ``t``'s: a ledger's first on the second connector (the first only carries
    records out), another resource's first."""
    ledger = resource in LEDGERS
    where = "workspace_connector_pk = :c" if ledger else "workspace_pk = :w"
    row = one(
        conn,
        f"SELECT {public_id_column(resource)} FROM core_api.{resource} WHERE {where} "
        f"AND deleted_at IS NULL ORDER BY {'created_at' if ledger else 'pk'} LIMIT 1",
        w=t.workspace_pk,
        c=t.connector_pks[1],
    )
    return UUID(str(row[0]))


# --- the shapes and the sync writer as the phases call them -----------------------------------

Requests = list[tuple[Tenant, list[ShapeRequest]]]
SYNC_MESSAGES = 10  # a sync batch's messages


def tenant_requests(local: database.LocalDatabase) -> Requests:
    """The big and the small tenant of a large-tenant database, each with its requests."""
    with database.admin_connection(local.admin_url) as conn:
        tenants = [tenant(conn, name) for name in ("big", "small")]
        return [(t, requests(conn, t)) for t in tenants]


def shape_calls(
    local: database.LocalDatabase, tenants: Requests
) -> dict[tuple[str, str, str], Callable[[], Any]]:
    """A call of the handler per (tenant, resource, shape), with the tenant's fresh claims."""
    with database.admin_connection(local.admin_url) as conn:
        who = {t.name: claims(conn, t.person_id, t.workspace_id, "member") for t, _ in tenants}
    calls: dict[tuple[str, str, str], Callable[[], Any]] = {}
    for t, tenant_requests in tenants:
        for request in tenant_requests:
            shape = request.shape
            operation = "retrieve" if shape.single else "list"
            calls[(t.name, shape.resource, shape.name)] = functools.partial(
                invoke, handler_for(shape.resource, operation), request.event(who[t.name]), 200
            )
    return calls


def _sync_batches(
    local: database.LocalDatabase, handler: Handler, ids: int, batches: int
) -> Callable[[], None]:
    """Batches of ``SYNC_MESSAGES`` messages linking the sync tenant's accounts, one a call."""
    with database.admin_connection(local.admin_url) as conn:
        t = tenant(conn, "sync")
        accounts, _ = first_records(conn, "accounts", t.workspace_pk, ids)
    linked = accounts * SYNC_MESSAGES
    events = iter(
        sync_events(str(t.connector_ids[0]), linked, SYNC_MESSAGES, ids, batches, "account")
    )
    return lambda: synced(handler, next(events))


def _remove_sync_rows(local: database.LocalDatabase) -> None:
    """Only the bench's own rows: the built ones end at the build's fixed last day."""
    with database.admin_connection(local.admin_url) as conn:
        conn.run(
            "DELETE FROM core_api.account_workspace_connectors WHERE workspace_connector_pk = "
            "(SELECT c.pk FROM core_api.workspace_connectors c JOIN core_api.workspaces w "
            "ON w.pk = c.workspace_pk WHERE w.name = 'sync') AND created_at > :end",
            end=BUILT_UNTIL,
        )
        conn.run("DELETE FROM core_api.sync_receipts WHERE sync_run_id = 'bench'")


def sync_rates(
    dbs: dict[str, database.LocalDatabase], ids: int, batches: int
) -> dict[str, list[float]]:
    """The sync handler's rows/s on each database (``batches`` of ``SYNC_MESSAGES`` messages of
    ``ids`` records), one batch on each in turn, each on a fresh connection (``alternating``);
    the first batch on each connects and warms up."""
    from wellapi.handlers.sync import sync_handler

    handler, count = sync_handler(), batches + 1
    made = {size: _sync_batches(db, handler, ids, count) for size, db in dbs.items()}
    try:
        ms = alternating(dbs, lambda: {s: {"batch": b} for s, b in made.items()}, count, 1, 0)
    finally:
        for local in dbs.values():
            _remove_sync_rows(local)
    rows = SYNC_MESSAGES * ids
    return {size: [rows * 1000 / m for m in ms[size]["batch"][1:]] for size in dbs}
