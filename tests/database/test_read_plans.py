"""Every read shape reads rows bounded by the page, not by the tenant.

A database of its own holds a big tenant (300,000 account ledger rows and 60,000 in each other
ledger, over 20 connectors) and a small one (10,000 per ledger, 3 connectors) on the same tables
(``welldev.bench.databases.build``), analysed. For every shape ``make bench`` measures, the API's
own statement runs under ``EXPLAIN (ANALYZE, BUFFERS)``, logged in as the API role, in the
tenant's scope, and the rows it reads from each table are counted: every row a scan node
returned or filtered away, times its loops. A ledger may be read at most
``(page + 1) x connectors x directions`` rows; every other table at most a handful per row of
the page. A plan that starts scanning the tenant reads thousands and fails here; so does a List
filtered by record that reads all of the record's rows (the busiest record holds 1,000 at any
size) instead of a page of them.

Each shape is held to the bound twice: planned for its values, as a statement's first five uses
on a connection are, and as the generic plan PostgreSQL keeps for a named statement after them
(``wellapi.store.sql`` names them), made without any tenant's values and then used for every
tenant's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pg8000.native
import pytest

from tests.support import plans
from tests.support.proven import SignedScope
from wellapi.jsonapi.query import DEFAULT_PAGE_SIZE, MAX_PAGE_DEPTH, parse_read_query
from wellapi.resources import resource_named
from wellapi.roles import API_ROLE
from wellapi.sqltext.statements import read_template
from wellapi.store.shapes import ReadShape, read_params
from wellapi.store.sql import BoundStatement
from welldev import database as local_db
from welldev.bench import databases as seed
from welldev.bench import large_tenant as lt
from welldev.claims import claims

BIG_ROWS = 300_000
SMALL_ROWS = 10_000
DIRECTIONS = 2
# Per row of the page, rows another table may be read: the parents joined for ids and
# includes, the row-level security sub-selects of included parents.
PER_PAGE_ROW = 12
SLACK = 50  # the scope functions' own reads, catalog lookups of a filter's ids


@pytest.fixture(scope="module")
def tenants(server: local_db.LocalDatabase) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    name = f"wellapi_plans_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    conn = local_db.admin_connection(db.admin_url)
    try:
        seed.build(conn, big_rows=BIG_ROWS, small_rows=SMALL_ROWS)
        conn.run("VACUUM (ANALYZE)")
        found = {}
        for tenant_name in ("big", "small"):
            t = lt.tenant(conn, tenant_name)
            signed = {
                kind: claims(conn, t.person_id, t.workspace_id, kind)["scope_token"]
                for kind in ("member", "service")
            }
            found[tenant_name] = (t, {r.shape: r for r in lt.requests(conn, t)}, signed)
        # Logged in as the API role, as the functions are: its own settings apply.
        api = local_db.admin_connection(db.url_for(API_ROLE))
        try:
            yield conn, api, found
        finally:
            api.close()
    finally:
        conn.close()
        local_db.drop_database(server, name)


def statement(request: lt.ShapeRequest, kind: str = "member") -> tuple[BoundStatement, int]:
    """The statement the API sends for ``request`` (as operations.read builds it), bound to its
    values, and its page size."""
    resource = resource_named(request.shape.resource)
    operation = "retrieve" if request.shape.single else "list"
    query = parse_read_query(resource, request.query, operation)
    shape = ReadShape.of(resource, query, single=request.shape.single, service=kind == "service")
    template, _ = read_template(shape)
    return template.bind(read_params(query, row_id=request.row_id)), query.page_size


def explain(
    conn: pg8000.native.Connection,
    t: lt.Tenant,
    token: str,
    sql: BoundStatement,
    form: str = "JSON",
    plan: str = "custom",
) -> Any:
    """The plan of ``sql`` in the tenant's scope (``tests.support.plans.explain``)."""
    return plans.explain(conn, SignedScope(token, t.workspace_id), sql, form, plan)


def shown(sql: BoundStatement) -> str:
    """A statement and its bound values, for a failure's message."""
    return f"{sql.text}\nbound: {sql.values}"


def over_bounds(
    plan: dict[str, Any], resource: str, limit: int, connectors: int
) -> dict[str, tuple[float, int]]:
    """The tables ``plan`` read more rows of than a read of ``limit`` rows per walked parent
    may: (rows read, bound) by table."""
    read = plans.rows_read(plan)
    bounds = dict.fromkeys(read, limit * PER_PAGE_ROW + connectors + SLACK)
    if resource in seed.LEDGERS:
        bounds[resource] = limit * connectors * DIRECTIONS
    else:
        # A workspace holds at most one live row per provider of the catalog, and its
        # enrolments are as few as its groups: bounded, but not by the page.
        bounds[resource] = limit * PER_PAGE_ROW + seed.PROVIDERS
    return {table: (read[table], bounds[table]) for table in read if read[table] > bounds[table]}


def table_rows(conn: pg8000.native.Connection) -> dict[str, float]:
    """Each table's rows, as the planner knows them."""
    rows = conn.run(
        "SELECT relname, reltuples FROM pg_class "
        "WHERE relnamespace = CAST('core_api' AS regnamespace) AND relkind = 'r'"
    )
    return {name: float(n) for name, n in rows}


# Every shape for a member of each tenant; a service key's Lists without a filter too (they
# read the key's workspace, never every tenant: ``ReadShape.across_workspaces``).
CASES = [
    *((tenant, shape, "member") for tenant in ("big", "small") for shape in lt.SHAPES),
    *(
        (tenant, shape, "service")
        for tenant in ("big", "small")
        for shape in lt.SHAPES
        if shape.name in ("default", "sort_created_at", "sort_-updated_at")
    ),
]


@pytest.mark.parametrize("plan_kind", ["custom", "generic"])
@pytest.mark.parametrize(
    ("tenant", "shape", "kind"),
    CASES,
    ids=[f"{t}-{s.resource}-{s.name}{'-service' if k == 'service' else ''}" for t, s, k in CASES],
)
def test_a_read_shape_reads_rows_bounded_by_the_page_not_by_the_tenant(
    tenants, tenant, shape, kind, plan_kind
):
    # ``generic``: the plan every tenant's request gets once a connection's named statement
    # has been planned five times, whoever's values those were.
    _, conn, found = tenants
    t, requests, signed = found[tenant]
    sql, page = statement(requests[shape], kind)
    limit = 1 if shape.single else page + 1
    connectors = len(t.connector_ids)

    plan = explain(conn, t, signed[kind], sql, plan=plan_kind)

    over = over_bounds(plan, shape.resource, limit, connectors)
    if plan_kind == "generic":
        # Planned without values, a generic plan may read a table of fewer rows than its bound
        # (the fixture's workspace connectors, a few dozen) whole for each row of the page where
        # that is cheapest: it cannot grow with a tenant, and a platform's full table has the
        # costs that choose its index.
        sizes = table_rows(conn)
        over = {table: o for table, o in over.items() if sizes.get(table, 0) >= o[1]}
    if over:
        text = explain(conn, t, signed[kind], sql, "TEXT", plan_kind)
        pytest.fail(f"{over}\n{shown(sql)}\n{text}")
    # The answer itself is a page (a plan that reads little because it finds nothing proves
    # nothing, except where the shape asks for nothing: the export connector's input rows).
    expected = 0 if shape.name == "export_input" else 1
    assert plan["Actual Rows"] >= expected, shown(sql)


def _with_parents(node: dict[str, Any], parent: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield parent, node
    for child in node.get("Plans", []):
        yield from _with_parents(child, node["Node Type"])


def _reads_a_period(node: dict[str, Any]) -> bool:
    return bool(plans.PERIOD.search(node.get("Relation Name", "")))


LEDGER_SHAPES = [s for s in lt.SHAPES if s.resource in seed.LEDGERS]


@pytest.mark.parametrize(
    "shape", LEDGER_SHAPES, ids=[f"{s.resource}-{s.name}" for s in LEDGER_SHAPES]
)
def test_a_ledger_read_takes_its_periods_in_id_order_and_a_retrieve_reads_one(tenants, shape):
    """In its generic plan, a List reads a ledger's periods as an ordered Append (never a Merge
    Append, never sorted after), and a Retrieve by id reads the one period its id names."""
    _, conn, found = tenants
    t, requests, signed = found["big"]
    sql, _ = statement(requests[shape])

    plan = explain(conn, t, signed["member"], sql, plan="generic")

    nodes = list(_with_parents(plan))
    assert len(nodes) > 1
    assert not [n for _, n in nodes if n["Node Type"] == "Merge Append"], shown(sql)
    appends = [(p, n) for p, n in nodes if n["Node Type"] == "Append"]
    over_periods = [(p, n) for p, n in appends if any(map(_reads_a_period, n.get("Plans", [])))]
    assert all(p != "Sort" for p, _ in over_periods), shown(sql)
    if shape.single:
        read = [n for _, n in nodes if _reads_a_period(n) and n.get("Actual Loops", 0) > 0]
        assert len(read) == 1, shown(sql)


def test_the_big_tenant_is_big_and_the_small_one_small(tenants):
    conn, _, found = tenants
    counts = {
        name: conn.run(
            "SELECT count(*) FROM core_api.account_workspace_connectors l "
            "JOIN core_api.workspace_connectors c ON c.pk = l.workspace_connector_pk "
            "WHERE c.workspace_pk = :w",
            w=t.workspace_pk,
        )[0][0]
        for name, (t, _, _) in found.items()
    }
    assert counts == {"big": BIG_ROWS, "small": SMALL_ROWS}
    # A page of every ledger shape is smaller than a hundredth of the big tenant: a shape that
    # scanned the tenant could not pass the bound above.
    page = DEFAULT_PAGE_SIZE + 1
    assert page * len(found["big"][0].connector_ids) * DIRECTIONS * 100 < BIG_ROWS


def test_a_ledger_built_in_bulk_gets_back_exactly_the_indexes_the_migrations_made(tenants):
    conn, _, _ = tenants
    # A period's (a partition's) indexes are its ledger's, made again under names of their own:
    # counted, by period.
    catalog = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'core_api' "
        "AND tablename NOT IN (SELECT partition_name FROM core_api.ledger_periods) "
        "UNION ALL SELECT tablename, count(*)::text FROM pg_indexes "
        "WHERE tablename IN (SELECT partition_name FROM core_api.ledger_periods) GROUP BY 1 "
        "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = CAST('core_api' AS regnamespace) ORDER BY 1, 2"
    )
    before = conn.run(catalog)

    with seed.bulk(conn, "people_workspace_connectors", seed.BULK_ROWS):
        during = conn.run(catalog)

    assert conn.run(catalog) == before
    assert len(during) < len(before)


# Every List shape but the deep cursors, at its deepest numbered page (page[number]).
NUMBERED = [
    (tenant, shape)
    for tenant in ("big", "small")
    for shape in lt.SHAPES
    if not shape.single and not shape.cursor
]


@pytest.mark.parametrize(
    ("tenant", "shape"), NUMBERED, ids=[f"{t}-{s.resource}-{s.name}" for t, s in NUMBERED]
)
def test_the_deepest_numbered_page_reads_rows_bounded_by_its_depth_not_by_the_tenant(
    tenants, tenant, shape
):
    _, conn, found = tenants
    t, requests, signed = found[tenant]
    request = requests[shape]
    resource = resource_named(shape.resource)
    size = parse_read_query(resource, request.query, "list").page_size
    deepest = (MAX_PAGE_DEPTH - 1) // size + 1
    query = "&".join(p for p in (request.query, f"page[number]={deepest}") if p)
    sql, _ = statement(replace(request, query=query))
    # The rows skipped and the page: what each walked parent may give.
    depth = (deepest - 1) * size + size + 1
    connectors = len(t.connector_ids)

    plan = explain(conn, t, signed["member"], sql)

    over = over_bounds(plan, shape.resource, depth, connectors)
    assert not over, f"{over}\n{shown(sql)}\n{explain(conn, t, signed['member'], sql, 'TEXT')}"
