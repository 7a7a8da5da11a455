"""Two tenants side by side on the same tables: a big one and a small one.

The bench's large-tenant section and the plan test read the same shapes from both. The big
workspace holds ``rows`` rows in the account ledger and a fifth of that in each of the other
two; the small one ``small_rows`` in each. Rows are made set-based inside PostgreSQL (one
``INSERT ... SELECT`` per ledger) with the triggers off, so their timestamps can be spread over
a year, as a real ledger's are; every row still points at a record and a connector of one
workspace.

The data has what makes plans go wrong: one connector of each tenant that only carries records
out (``filter[direction]=input`` finds nothing there), a share of deleted rows, rows updated
after they were made, and a record that a thousand sync runs touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.handlers.migration import migrations_dir
from wellapi.resources import tables as schema
from welldev import database
from welldev.bench.harness import elapsed, note

LEDGERS = {
    "account_workspace_connectors": ("accounts", "account"),
    "company_workspace_connectors": ("companies", "company"),
    "people_workspace_connectors": ("peoples", "people"),
}
# Of the big tenant's rows per ledger, relative to the account ledger.
LEDGER_SHARE = {
    "account_workspace_connectors": 1.0,
    "company_workspace_connectors": 0.2,
    "people_workspace_connectors": 0.2,
}
SPAN_DAYS = 365


def public_id_column(table: str) -> str:
    """The public id column of a table of ``core_api``, as the schema names it."""
    return schema.public_id_column(schema.metadata.tables[f"core_api.{table}"])


# The built rows' created_at runs from BUILT_FROM to BUILT_UNTIL; rows written later are not
# the build's.
BUILT_FROM = datetime(2025, 11, 22, tzinfo=UTC)
BUILT_UNTIL = BUILT_FROM + timedelta(days=SPAN_DAYS)
PROVIDERS = 300
BULK_ROWS = 1_000_000  # from this many rows a ledger's indexes are built after its rows
NEIGHBOURS = 40
RECORDS = 1_000  # of each kind, at least: a sync message may name a thousand
# The first record of each kind is touched by this many of its ledger's rows at any size (the
# others share the rest): a List filtered by record reads that record's rows, so the measured
# record must hold the same number at 10,000 rows and at 10 million.
BUSY_RECORD_ROWS = 1_000


@dataclass(frozen=True)
class Tenant:
    name: str
    workspace_pk: int
    workspace_id: UUID
    person_id: UUID
    connector_ids: tuple[UUID, ...]
    # ledger -> public id of a record that the tenant's sync runs touched many times
    record_ids: dict[str, UUID]
    group_ids: tuple[UUID, ...]


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    rows = conn.run(sql, **params)
    return list(rows[0])


def _records(conn: pg8000.native.Connection, table: str, workspace_pk: int, count: int) -> None:
    columns = {
        "accounts": (
            "type, account_name, account_external_id",
            "'deposit', 'Account ' || g, 'ext-' || g",
        ),
        "companies": ("name, domain", "'Company ' || g, 'c' || g || '.example'"),
        "peoples": ("first_name, last_name, full_name", "'Ada', 'N' || g, 'Ada N' || g"),
    }[table]
    conn.run(
        f"INSERT INTO core_api.{table} (workspace_pk, {columns[0]}) "
        f"SELECT :w, {columns[1]} FROM generate_series(1, :n) g",
        w=workspace_pk,
        n=count,
    )


LEDGER_ROWS = """
WITH r AS (SELECT array_agg(pk ORDER BY pk) AS pks FROM core_api.{record_table}
            WHERE workspace_pk = :w),
     c AS (SELECT array_agg(pk ORDER BY pk) AS pks FROM core_api.workspace_connectors
            WHERE workspace_pk = :w)
INSERT INTO core_api.{ledger}
       ({record}_pk, workspace_connector_pk, direction, created_at, updated_at, deleted_at)
SELECT r.pks[CASE WHEN g % greatest(1, :n / {busy}) = 0 THEN 1
                 ELSE (1 + (g * 7919) % cardinality(r.pks))::int END],
       c.pks[(1 + g % cardinality(c.pks))::int],
       CASE WHEN g % cardinality(c.pks) = 0 OR g % 3 = 1 THEN 'output' ELSE 'input' END
         ::core_api.direction_enum,
       s.at,
       s.at + CASE WHEN g % 10 = 3 THEN interval '9 days' ELSE interval '0' END,
       CASE WHEN g % 33 = 5 THEN s.at + interval '2 days' END
  FROM generate_series(1::bigint, :n) g, r, c,
       LATERAL (SELECT :start::timestamptz + (g::float8 / :n) * interval '{span} days' AS at) s
"""


def make_tenant(
    conn: pg8000.native.Connection,
    name: str,
    *,
    rows: int,
    connectors: int,
    records: int,
    share: dict[str, float] | None = None,
) -> None:
    """A workspace, its owner, connectors, records, groups, providers and ledger rows."""
    workspace_pk, _ = _one(
        conn,
        "INSERT INTO core_api.workspaces (name) VALUES (:n) RETURNING pk, workspace_id",
        n=name,
    )
    person_pk, _ = _one(
        conn,
        "INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
        "VALUES (:w, 'Owner', :n, 'Owner ' || :n) RETURNING pk, person_id",
        w=workspace_pk,
        n=name,
    )
    conn.run(
        "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
        "VALUES (:w, :p, 'owner', 'active')",
        w=workspace_pk,
        p=person_pk,
    )
    (connector_pk,) = _one(
        conn,
        "INSERT INTO core_api.connectors (name, provider) VALUES (:n, 'plaid_eu') RETURNING pk",
        n=f"{name} connector",
    )
    conn.run(
        "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status) "
        "SELECT :w, :c, 'enabled' FROM generate_series(1, :k)",
        w=workspace_pk,
        c=connector_pk,
        k=connectors,
    )
    for table in ("accounts", "companies", "peoples"):
        _records(conn, table, workspace_pk, records)
    for g in range(3):
        (group_pk,) = _one(
            conn,
            "INSERT INTO core_api.workspace_groups (name, created_by_pk) VALUES (:n, :p) "
            "RETURNING pk",
            n=f"{name} group {g}",
            p=person_pk,
        )
        conn.run(
            "INSERT INTO core_api.workspace_group_memberships (workspace_group_pk, person_pk, "
            "role) VALUES (:g, :p, 'owner')",
            g=group_pk,
            p=person_pk,
        )
        conn.run(
            "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk, "
            "created_by_pk) VALUES (:g, :w, :p)",
            g=group_pk,
            w=workspace_pk,
            p=person_pk,
        )
    conn.run(
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched) SELECT :w, pk, pk % 3 = 0, pk % 3 = 0 OR pk % 2 = 0 FROM core_api.providers",
        w=workspace_pk,
    )
    conn.run("SET session_replication_role = replica")
    try:
        for ledger, (record_table, record) in LEDGERS.items():
            count = max(1, int(rows * (share or {}).get(ledger, 1.0)))
            with indexes_built_after(conn, ledger, count):
                conn.run(
                    LEDGER_ROWS.format(
                        ledger=ledger,
                        record_table=record_table,
                        record=record,
                        span=SPAN_DAYS,
                        busy=BUSY_RECORD_ROWS,
                    ),
                    w=workspace_pk,
                    n=count,
                    start=BUILT_FROM,
                )
    finally:
        conn.run("SET session_replication_role = DEFAULT")


@contextlib.contextmanager
def indexes_built_after(conn: pg8000.native.Connection, ledger: str, rows: int) -> Iterator[None]:
    """For millions of rows, drop the ledger's secondary indexes and build them again after.

    Kept while rows go in, indexes whose keys arrive out of order (the public ids, the
    connector walks) are updated page by random page; built after, each is one sort. The
    definitions are read from the catalog, so what is rebuilt is what the migrations made.
    """
    if rows < BULK_ROWS:
        yield
        return
    found = conn.run(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, "
        "pg_get_constraintdef(c.oid) FROM pg_index i "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u' "
        "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary",
        t=f"core_api.{ledger}",
    )
    for name, _, constraint, _ in found:
        if constraint:
            conn.run(f"ALTER TABLE core_api.{ledger} DROP CONSTRAINT {constraint}")
        else:
            conn.run(f"DROP INDEX {name}")
    yield
    conn.run("SET maintenance_work_mem = '512MB'")
    for _, definition, constraint, constraint_definition in found:
        if constraint:
            conn.run(
                f"ALTER TABLE core_api.{ledger} ADD CONSTRAINT {constraint} {constraint_definition}"
            )
        else:
            conn.run(definition)


def seed_is_current(server: database.LocalDatabase, name: str, table: str, wanted: str) -> bool:
    """Whether database ``name`` (made if missing) holds a seed marked ``wanted`` in
    ``public.<table>`` (``mark_seed``): a phase's data, reused while its fingerprint holds."""
    local = database.create_database(server, name)
    conn = database.admin_connection(local.admin_url)
    try:
        seeded = conn.run("SELECT to_regclass(:t)", t=f"public.{table}")[0][0] is not None
        return seeded and conn.run(f"SELECT fingerprint FROM public.{table}") == [[wanted]]
    finally:
        conn.close()


def mark_seed(conn: pg8000.native.Connection, table: str, wanted: str) -> None:
    """Mark a seed built: ``seed_is_current`` finds it while ``wanted`` is its fingerprint."""
    conn.run(f"CREATE TABLE public.{table} (fingerprint text NOT NULL)")
    conn.run(f"INSERT INTO public.{table} VALUES (:f)", f=wanted)


def seed_fingerprint(*parts: object) -> str:
    """A seed's fingerprint: what it is made of (``parts``) and the migrations' text, so that a
    change of the schema builds it again."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode())
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_seed(
    server: database.LocalDatabase,
    name: str,
    table: str,
    wanted: str,
    what: str,
    build: Callable[[pg8000.native.Connection], None],
) -> None:
    """Database ``name`` as ``build`` seeds it (on ten providers), vacuumed, analysed and marked
    ``wanted`` in ``public.<table>``; reused as it is while that mark holds."""
    if seed_is_current(server, name, table, wanted):
        note(f"{name}: reusing {what}")
        return
    started = time.perf_counter()
    local = database.prepare(server, name, replace=True)
    conn = database.admin_connection(local.admin_url)
    try:
        make_providers(conn, 10)
        build(conn)
        conn.run("VACUUM (ANALYZE)")
        conn.run("CHECKPOINT")
        mark_seed(conn, table, wanted)
    finally:
        conn.close()
    note(f"{name}: built {what} in {elapsed(started)}")


def make_providers(conn: pg8000.native.Connection, count: int) -> None:
    conn.run(
        "INSERT INTO core_api.providers (name, slug, url, category, popularity_score) "
        "SELECT 'Provider ' || g, 'provider-' || g, 'https://p' || g || '.example', "
        "'Finance', g FROM generate_series(1, :n) g",
        n=count,
    )


def build(
    conn: pg8000.native.Connection,
    *,
    big_rows: int,
    small_rows: int,
    big_connectors: int = 20,
    small_connectors: int = 3,
) -> None:
    """Both tenants, then ``VACUUM (ANALYZE)`` (plans depend on statistics)."""
    make_providers(conn, PROVIDERS)
    make_tenant(
        conn,
        "big",
        rows=big_rows,
        connectors=big_connectors,
        records=max(RECORDS, big_rows // 100),
        share=LEDGER_SHARE,
    )
    make_tenant(
        conn,
        "small",
        rows=small_rows,
        connectors=small_connectors,
        records=max(RECORDS, small_rows // 100),
    )
    # Where the bench's sync writer writes (and removes what it wrote): the rows it leaves
    # dead until a vacuum are then on no index the two tenants' Lists walk.
    make_tenant(conn, "sync", rows=RECORDS, connectors=1, records=RECORDS)
    make_neighbours(conn, NEIGHBOURS)
    # VACUUM as well: it sets the visibility map of the rows just written, which autovacuum
    # would otherwise do later, in the background of whatever is measured next.
    conn.run("VACUUM (ANALYZE)")


def make_neighbours(conn: pg8000.native.Connection, count: int) -> None:
    """Other workspaces with their own provider selections and a group each, as a platform has:
    a plan that reads those tables whole instead of by workspace reads theirs too."""
    conn.run(
        "WITH w AS (INSERT INTO core_api.workspaces (name) "
        "SELECT 'neighbour ' || g FROM generate_series(1, :n) g RETURNING pk), "
        "g AS (INSERT INTO core_api.workspace_groups (name) "
        "SELECT 'neighbours ' || g FROM generate_series(1, 3) g RETURNING pk), "
        "e AS (INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk) "
        "SELECT g.pk, w.pk FROM w, g) "
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched) SELECT w.pk, p.pk, true, true FROM w, core_api.providers p",
        n=count,
    )


def tenant(conn: pg8000.native.Connection, name: str) -> Tenant:
    """The ids of tenant ``name`` of a database ``build`` made."""
    workspace_pk, workspace_id, person_id = _one(
        conn,
        "SELECT w.pk, w.workspace_id, p.person_id FROM core_api.workspaces w "
        "JOIN core_api.peoples p ON p.workspace_pk = w.pk AND p.full_name = 'Owner ' || w.name "
        "WHERE w.name = :n",
        n=name,
    )
    connector_ids = tuple(
        row[0]
        for row in conn.run(
            "SELECT workspace_connector_id FROM core_api.workspace_connectors "
            "WHERE workspace_pk = :w ORDER BY pk",
            w=workspace_pk,
        )
    )
    record_ids = {
        ledger: _one(
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
    return Tenant(name, workspace_pk, workspace_id, person_id, connector_ids, record_ids, group_ids)


# --- the read shapes measured on both tenants -------------------------------------------------

RECORD_RELATIONSHIP = {ledger: record for ledger, (_, record) in LEDGERS.items()}
QUARTER = "filter[created_at][gte]=2026-03-01T00:00:00Z&filter[created_at][lt]=2026-06-01T00:00:00Z"
SINCE = "filter[created_at][gte]=2026-06-01T00:00:00Z"
DEEP_ROWS = 20_000  # 1,000 pages of the default 20


@dataclass(frozen=True)
class Shape:
    """One request: a List (``query``) or a Retrieve (``single``) of ``resource``.

    Placeholders filled per tenant: ``{connector}`` (a connector that syncs both ways),
    ``{export}`` (one that only carries records out), ``{record}``, ``{cursor:<sort>}`` (a
    cursor 1,000 pages deep), ``{group}``, ``{workspace}``.
    """

    resource: str
    name: str
    query: str = ""
    single: bool = False


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
            ("cursor_deep", "page[after]={cursor:-created_at}"),
            ("cursor_deep_updated_at", "sort=updated_at&page[after]={cursor:updated_at}"),
            ("cursor_deep_before", "page[before]={cursor:-created_at}"),
        )
    ] + [Shape(ledger, "retrieve_include", every, single=True)]


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
    value, row_id = _one(
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


def requests(conn: pg8000.native.Connection, t: Tenant) -> list[ShapeRequest]:
    """Every shape with ``t``'s ids filled in."""
    cursors: dict[tuple[str, str], str] = {}
    out = []
    for shape in SHAPES:
        query = shape.query
        for sort in ("-created_at", "updated_at"):
            token = "{cursor:" + sort + "}"
            if token in query:
                key = (shape.resource, sort)
                if key not in cursors:
                    cursors[key] = deep_cursor(conn, t, shape.resource, sort)
                query = query.replace(token, cursors[key])
        query = query.format(
            connector=t.connector_ids[1],
            export=t.connector_ids[0],
            record=t.record_ids.get(shape.resource, ""),
            group=t.group_ids[0],
            workspace=t.workspace_id,
        )
        row_id = _some_row(conn, t, shape.resource) if shape.single else None
        out.append(ShapeRequest(shape, query, row_id))
    return out


def _some_row(conn: pg8000.native.Connection, t: Tenant, resource: str) -> UUID:
    public = public_id_column(resource)
    if resource in LEDGERS:
        sql = (
            f"SELECT l.{public} FROM core_api.{resource} l WHERE l.workspace_connector_pk = "
            "(SELECT pk FROM core_api.workspace_connectors WHERE workspace_pk = :w "
            "ORDER BY pk OFFSET 1 LIMIT 1) AND l.deleted_at IS NULL "
            "ORDER BY l.created_at LIMIT 1"
        )
    else:
        sql = (
            f"SELECT {public} FROM core_api.{resource} WHERE workspace_pk = :w "
            "AND deleted_at IS NULL ORDER BY pk LIMIT 1"
        )
    return UUID(str(_one(conn, sql, w=t.workspace_pk)[0]))
