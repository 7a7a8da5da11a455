"""Every bench database, seeded inside PostgreSQL (``INSERT ... SELECT ... FROM generate_series``)
and kept between runs while its fingerprint holds: the bench database, which most phases read,
the large-tenant databases (``build``, which the plan test builds too), the revocation and feed
seeds.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.handlers.migration import migrations_dir
from wellapi.resources import tables as schema
from wellapi.roles import API_ROLE
from wellapi.store import connections
from wellapi.store.sql import BoundStatement
from welldev import database
from welldev.bench.config import PAGE_SIZE, Sizes
from welldev.bench.errors import BenchError
from welldev.bench.harness import elapsed, note

LEDGERS = {
    "account_workspace_connectors": ("accounts", "account"),
    "company_workspace_connectors": ("companies", "company"),
    "people_workspace_connectors": ("peoples", "people"),
}
BULK_ROWS = 1_000_000  # from this many rows a table's indexes are built after its rows


def public_id_column(table: str) -> str:
    """The public id column of a table of ``core_api``, as the schema names it."""
    return schema.public_id_column(schema.metadata.tables[f"core_api.{table}"])


def behind_horizon(conn: pg8000.native.Connection, records: str, missing: str) -> None:
    """Wait until the change records ``records`` (a condition) names are behind the horizon the
    feed and the drainer read up to: a transaction open anywhere on the server (another
    database's, a test worker's) holds it back, and a read then finds none of them (``missing``
    says what that would break)."""
    deadline = time.monotonic() + 120
    while one(
        conn,
        f"SELECT EXISTS (SELECT 1 FROM core_api.change_records WHERE {records} "
        "AND xid >= pg_snapshot_xmin(pg_current_snapshot()))",
    )[0]:
        if time.monotonic() > deadline:
            raise BenchError(f"a transaction held the horizon back: {missing}")
        time.sleep(0.05)


def one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    """The first row ``sql`` answers."""
    return list(conn.run(sql, **params)[0])


def explain(conn: pg8000.native.Connection, statement: BoundStatement) -> list[str]:
    """The lines of ``EXPLAIN (ANALYZE, BUFFERS)`` of ``statement``, bound to its values."""
    text = f"EXPLAIN (ANALYZE, BUFFERS) {statement.text}"
    return [str(r[0]) for r in connections.send(conn, [BoundStatement(text, statement.values)])]


def seeded(
    server: database.LocalDatabase,
    name: str,
    what: str,
    build: Callable[[pg8000.native.Connection], Any],
    *parts: object,
) -> tuple[database.LocalDatabase, Any]:
    """Database ``name`` as ``build`` seeds it, vacuumed, analysed and checkpointed, and what
    ``build`` answered (stored as JSON beside its fingerprint: ``name``, ``parts``, this module
    and the migrations); reused while the fingerprint holds."""
    digest = hashlib.sha256(":".join(map(str, (name, *parts))).encode())
    digest.update(Path(__file__).read_bytes())
    schema = migrations_dir()  # the baseline's SQL files and the revisions
    for path in sorted([*schema.rglob("*.sql"), *(schema / "versions").glob("*.py")]):
        digest.update(path.relative_to(schema).as_posix().encode() + path.read_bytes())
    wanted = digest.hexdigest()
    with database.admin_connection(database.create_database(server, name).admin_url) as conn:
        found = conn.run("SELECT to_regclass('public.seeded') IS NOT NULL")[0][0] and conn.run(
            "SELECT fingerprint, data FROM public.seeded"
        )
    if found and found[0][0] == wanted:
        local = server.with_database(name)
        database.ensure_roles(local)
        note(f"{name}: reusing {what}")
        return local, found[0][1]
    started = time.perf_counter()
    local = database.prepare(server, name, replace=True)
    with database.admin_connection(local.admin_url) as conn:
        database.make_ledger_periods(conn, since=T0)
        data = build(conn)
        # Hint bits, the visibility map and statistics set now, and the pages written out: not
        # by autovacuum or a checkpoint in the middle of the measurements.
        conn.run("VACUUM (ANALYZE)")
        conn.run("CHECKPOINT")
        conn.run("CREATE TABLE public.seeded (fingerprint text NOT NULL, data jsonb)")
        conn.run(
            "INSERT INTO public.seeded VALUES (:f, CAST(:d AS jsonb))",
            f=wanted,
            d=json.dumps(data),
        )
    note(f"{name}: built {what} in {elapsed(started)}")
    return local, data


@contextlib.contextmanager
def bulk(conn: pg8000.native.Connection, table: str, rows: int) -> Iterator[None]:
    """Rows written into ``table`` without its triggers (``touch_row``, the foreign-key checks,
    the change records) where the administrator is a superuser, and from ``BULK_ROWS`` rows with
    its secondary indexes, as the migrations made them, built after: one sort each, instead of
    updates page by random page as keys arrive out of order (public ids, connector walks)."""
    bypass = conn.run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]
    found = conn.run(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, "
        "pg_get_constraintdef(c.oid) FROM pg_index i "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u' "
        "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary AND :bulk",
        t=f"core_api.{table}",
        bulk=rows >= BULK_ROWS,
    )
    for name, _, constraint, _ in found:
        drop = f"ALTER TABLE core_api.{table} DROP CONSTRAINT {constraint}"
        conn.run(drop if constraint else f"DROP INDEX {name}")
    if bypass:
        conn.run("SET session_replication_role = replica")
    try:
        yield
    finally:
        if bypass:
            conn.run("SET session_replication_role = DEFAULT")
    conn.run("SET maintenance_work_mem = '512MB'")
    for _, definition, constraint, constraint_definition in found:
        add = f"ALTER TABLE core_api.{table} ADD CONSTRAINT {constraint} {constraint_definition}"
        # A partitioned table's index is defined ON ONLY it; made again, it is made on all.
        conn.run(add if constraint else definition.replace(" ON ONLY ", " ON "))


# --- the bench database -----------------------------------------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)
LEDGER = "core_api.account_workspace_connectors"
WORKSPACES = 5  # the member's and four more, each with its owner (the drainer spreads over them)
CONNECTORS = 20  # theirs in turn: X, the member's first, holds the account ledger
DEEP_PAGES = 10  # the deep List's cursor: this many pages of PAGE_SIZE rows lie before its page


@dataclass(frozen=True)
class Dataset:
    """The identities the measurements need, stored with the seed (the ids are seeded)."""

    member_person_id: str
    member_workspace_id: str
    scale_connector_id: str  # X
    window_start: str
    window_end: str
    cursor: str
    warm_row_ids: tuple[str, ...]
    service_person_id: str
    write_workspace_id: str
    write_company_id: str
    write_connector_id: str
    write_connector_pk: int
    sync_connector_id: str
    sync_connector_pk: int
    sync_workspace_pk: int


@dataclass(frozen=True)
class BenchDatabase:
    local: database.LocalDatabase
    dataset: Dataset

    @property
    def api_url(self) -> str:
        return self.local.url_for(API_ROLE)

    def admin(self) -> pg8000.native.Connection:
        return database.admin_connection(self.local.admin_url)


def prepare_database(server: database.LocalDatabase, name: str, sizes: Sizes) -> BenchDatabase:
    """The seeded bench database ``name``: reused while its fingerprint holds."""
    what = f"{sizes.ledger_rows:,} ledger rows"
    local, data = seeded(server, name, what, functools.partial(_bench, sizes=sizes), asdict(sizes))
    data["warm_row_ids"] = tuple(data["warm_row_ids"])
    return BenchDatabase(local, Dataset(**data))


def _bench(conn: pg8000.native.Connection, sizes: Sizes) -> dict[str, Any]:
    """Workspaces ``bench 0..`` (each with its owner; the first's is the member), ``bench
    write`` (a service person, a company) and ``bench sync`` (the people the sync batches link),
    their connectors; the member's company ledger (the warm requests read it) and X's account
    ledger (a List deep in it)."""
    workspaces = sorted(
        conn.run(
            "INSERT INTO core_api.workspaces (name) SELECT unnest(CAST(:n AS text[])) "
            "RETURNING pk, workspace_id::text",
            n=[*(f"bench {i}" for i in range(WORKSPACES)), "bench write", "bench sync"],
        )
    )
    (*owned, write_pk, sync_pk) = [pk for pk, _ in workspaces]
    people = dict(
        conn.run(
            "WITH p AS (INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, "
            "full_name) SELECT unnest(CAST(:w AS bigint[])), 'Bench', 'Person', 'Bench Person' "
            "RETURNING pk, workspace_pk, person_id), "
            "m AS (INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
            "SELECT workspace_pk, pk, 'owner', 'active' FROM p WHERE workspace_pk <> :write) "
            "SELECT workspace_pk, person_id::text FROM p",
            w=[*owned, write_pk],
            write=write_pk,
        )
    )
    # The i-th connector is in workspace i % WORKSPACES; the write and sync workspaces' follow.
    connectors = sorted(
        conn.run(
            "WITH c AS (INSERT INTO core_api.connectors (name, provider) "
            "VALUES ('bench', 'plaid_eu') RETURNING pk) "
            "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status, "
            "config) SELECT w.pk, c.pk, 'enabled', "
            'CAST(\'{"api_secret": "sk_bench"}\' AS jsonb) '
            "FROM c, unnest(CAST(:w AS bigint[])) WITH ORDINALITY w(pk, i) ORDER BY w.i "
            "RETURNING pk, workspace_connector_id::text",
            w=[owned[i % WORKSPACES] for i in range(CONNECTORS)] + [write_pk, sync_pk],
        )
    )
    x, write, sync = connectors[0], connectors[-2], connectors[-1]
    member = {"w": owned[0], "x": x[0], "t0": T0}  # the member's workspace, X, the first row's
    # X's account ledger: row g of the member's account g % 100, created g minutes after T0;
    # one in 97 is soft-deleted, a third go out.
    with bulk(conn, LEDGER.split(".")[1], sizes.ledger_rows):
        conn.run(
            "WITH a AS (INSERT INTO core_api.accounts (workspace_pk, account_name, type) "
            "SELECT :w, 'Account ' || i, 'deposit' FROM generate_series(1, 100) i RETURNING pk), "
            "p AS (SELECT array_agg(pk) AS pks FROM a) "
            f"INSERT INTO {LEDGER} (account_pk, workspace_connector_pk, direction, "
            "account_workspace_connector_id, created_at, updated_at, deleted_at) "
            "SELECT p.pks[1 + g % 100], :x, CAST(CASE WHEN g % 3 = 2 THEN 'output' ELSE 'input' "
            "END AS core_api.direction_enum), core_api.uuid_v7_at(at), at, at, "
            "CASE WHEN g % 97 = 13 THEN at + interval '1 day' END "
            "FROM p, generate_series(0, :n - 1) g, "
            "LATERAL (SELECT CAST(:t0 AS timestamptz) + g * interval '1 minute' AS at) t",
            n=sizes.ledger_rows,
            **member,
        )
    # The member's company ledger: small, so warm latency measures the code, not a scan.
    warm = conn.run(
        "WITH c AS (INSERT INTO core_api.companies (workspace_pk, name, domain) "
        "SELECT :w, 'Company ' || i, 'example.com' FROM generate_series(1, :n) i "
        "RETURNING pk) "
        "INSERT INTO core_api.company_workspace_connectors (company_pk, workspace_connector_pk, "
        "direction, company_workspace_connector_id) "
        "SELECT pk, :x, 'input', "
        "core_api.uuid_v7_at(CAST(:t0 AS timestamptz) + pk * interval '1 minute') FROM c "
        "RETURNING company_workspace_connector_id::text",
        n=sizes.warm_rows,
        **member,
    )
    (write_company,) = one(
        conn,
        "WITH p AS (INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
        "SELECT :s, 'Ada', 'Lovelace', 'Person ' || i FROM generate_series(1, :n) i) "
        "INSERT INTO core_api.companies (workspace_pk, name, domain) "
        "VALUES (:w, 'Bench Company', 'example.com') RETURNING company_id::text",
        w=write_pk,
        s=sync_pk,
        n=sizes.sync_records,
    )
    window_start, window_end, cursor = _deep_cursor(conn, sizes.ledger_rows, x[0])
    return asdict(
        Dataset(
            member_person_id=people[owned[0]],
            member_workspace_id=workspaces[0][1],
            scale_connector_id=x[1],
            window_start=window_start.isoformat(),
            window_end=window_end.isoformat(),
            cursor=cursor,
            warm_row_ids=tuple(r[0] for r in warm),
            service_person_id=people[write_pk],
            write_workspace_id=workspaces[-2][1],
            write_company_id=write_company,
            write_connector_id=write[1],
            write_connector_pk=write[0],
            sync_connector_id=sync[1],
            sync_connector_pk=sync[0],
            sync_workspace_pk=sync_pk,
        )
    )


def _deep_cursor(
    conn: pg8000.native.Connection, rows: int, x: int
) -> tuple[datetime, datetime, str]:
    """X's window [t1, t2) (the middle 80% of its rows) and a cursor ``DEEP_PAGES`` deep in it:
    the exact (created_at, id) of the row before the page, in the order the API reads
    (created_at DESC, id DESC, live rows only)."""
    from wellapi.jsonapi.cursor import Cursor

    t1 = T0 + timedelta(minutes=rows // 10)
    t2 = T0 + timedelta(minutes=rows * 9 // 10)
    created_at, row_id = one(
        conn,
        f"SELECT created_at, account_workspace_connector_id FROM {LEDGER} "
        "WHERE workspace_connector_pk = :x AND created_at >= :t1 AND created_at < :t2 "
        "AND deleted_at IS NULL ORDER BY created_at DESC, account_workspace_connector_id DESC "
        "OFFSET :o LIMIT 1",
        x=x,
        t1=t1,
        t2=t2,
        o=DEEP_PAGES * PAGE_SIZE - 1,
    )
    return t1, t2, Cursor("-created_at", created_at, UUID(str(row_id))).encode()


def first_records(
    conn: pg8000.native.Connection, table: str, workspace_pk: int, count: int
) -> tuple[list[str], list[int]]:
    """The public ids and keys of the workspace's first ``count`` records of ``table`` (the
    ones a sync batch links)."""
    rows = conn.run(
        f"SELECT {public_id_column(table)}::text, pk FROM core_api.{table} "
        "WHERE workspace_pk = :w ORDER BY pk LIMIT :n",
        w=workspace_pk,
        n=count,
    )
    if len(rows) < count:
        raise BenchError(f"the workspace has {len(rows)} {table}, a batch needs {count}")
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def remove_created_rows(bench: BenchDatabase) -> None:
    """The write tenant's rows and the change records of the API's writes are the bench's own:
    rerun after rerun, and phase after phase, start from none."""
    with bench.admin() as conn:
        conn.run(
            "DELETE FROM core_api.company_workspace_connectors WHERE workspace_connector_pk = :w",
            w=bench.dataset.write_connector_pk,
        )
        conn.run("DELETE FROM core_api.change_records WHERE actor_kind IN ('member', 'service')")
        # The next run's plans then see the same table, not one with a growing dead tail.
        conn.run("VACUUM (ANALYZE) core_api.company_workspace_connectors")


def triggers(bench: BenchDatabase, table: str, on: bool) -> None:
    """Enable or disable ``table``'s recording triggers (``<table>_recorded_<event>``)."""
    name = table.split(".")[1]
    action = "ENABLE" if on else "DISABLE"
    with bench.admin() as conn:
        for event in ("insert", "update", "delete"):
            conn.run(f"ALTER TABLE {table} {action} TRIGGER {name}_recorded_{event}")


# --- tenants on the same tables: the large-tenant, revocation and feed databases -------------

# The built rows' created_at runs from BUILT_FROM to BUILT_UNTIL; rows written later are not
# the build's.
SPAN_DAYS = 365
BUILT_FROM = datetime(2025, 11, 22, tzinfo=UTC)
BUILT_UNTIL = BUILT_FROM + timedelta(days=SPAN_DAYS)
PROVIDERS = 300
NEIGHBOURS = 40
RECORDS = 1_000  # of each kind, at least: a sync message may name a thousand
# The first record of each kind is touched by this many of its ledger's rows at any size (the
# others share the rest): a List filtered by record reads that record's rows, so the measured
# record must hold the same number at 10,000 rows and at 10 million.
BUSY_RECORD_ROWS = 1_000
# Of the big tenant's rows per ledger, relative to the account ledger (1 where not given).
LARGE_SHARE = {"company_workspace_connectors": 0.2, "people_workspace_connectors": 0.2}
# The revocation's tenants: their rows in the account ledger (one in each other).
ONLY_ACCOUNTS = {"company_workspace_connectors": 0.0, "people_workspace_connectors": 0.0}

RECORD_COLUMNS = {
    "accounts": (
        "type, account_name, account_external_id",
        "'deposit', 'Account ' || g, 'ext-' || g",
    ),
    "companies": ("name, domain", "'Company ' || g, 'c' || g || '.example'"),
    "peoples": ("first_name, last_name, full_name", "'Ada', 'N' || g, 'Ada N' || g"),
}
# Filled per ledger: {ledger}, {record_table} and {record}.
LEDGER_ROWS = f"""
WITH r AS (SELECT array_agg(pk ORDER BY pk) AS pks FROM core_api.{{record_table}}
            WHERE workspace_pk = :w),
     c AS (SELECT array_agg(pk ORDER BY pk) AS pks FROM core_api.workspace_connectors
            WHERE workspace_pk = :w)
INSERT INTO core_api.{{ledger}}
       ({{record}}_pk, workspace_connector_pk, direction, {{record}}_workspace_connector_id,
        created_at, updated_at, deleted_at)
SELECT r.pks[CASE WHEN g % greatest(1, :n / {BUSY_RECORD_ROWS}) = 0 THEN 1
                 ELSE (1 + (g * 7919) % cardinality(r.pks))::int END],
       c.pks[(1 + g % cardinality(c.pks))::int],
       CASE WHEN g % cardinality(c.pks) = 0 OR g % 3 = 1 THEN 'output' ELSE 'input' END
         ::core_api.direction_enum,
       core_api.uuid_v7_at(s.at),
       s.at,
       s.at + CASE WHEN g % 10 = 3 THEN interval '9 days' ELSE interval '0' END,
       CASE WHEN g % 33 = 5 THEN s.at + interval '2 days' END
  FROM generate_series(1::bigint, :n) g, r, c,
       LATERAL (SELECT date_trunc('milliseconds',
                :start::timestamptz + (g::float8 / :n) * CAST(:span AS interval)) AS at) s
"""


def make_tenant(
    conn: pg8000.native.Connection,
    name: str,
    rows: int,
    connectors: int = 1,
    share: dict[str, float] | None = None,
    span_days: int = SPAN_DAYS,
) -> None:
    """A workspace, its owner, connectors, records (``RECORDS`` of each kind, or one per 100
    rows), three groups, provider selections, and ``rows`` x ``share`` (1 where not given) rows
    in each ledger over the ``span_days`` before ``BUILT_UNTIL``, with what makes plans go
    wrong: the first connector only carries records out, some rows are deleted or updated later,
    one record of each kind is busy."""
    workspace_pk, person_pk = one(
        conn,
        "WITH w AS (INSERT INTO core_api.workspaces (name) VALUES (:n) RETURNING pk), "
        "p AS (INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
        "SELECT pk, 'Owner', :n, 'Owner ' || :n FROM w RETURNING pk, workspace_pk), "
        "m AS (INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
        "SELECT workspace_pk, pk, 'owner', 'active' FROM p), "
        "c AS (INSERT INTO core_api.connectors (name, provider) "
        "VALUES (:n || ' connector', 'plaid_eu') RETURNING pk), "
        "wc AS (INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status) "
        "SELECT w.pk, c.pk, 'enabled' FROM w, c, generate_series(1, :k)) "
        "SELECT workspace_pk, pk FROM p",
        n=name,
        k=connectors,
    )
    for table, (columns, values) in RECORD_COLUMNS.items():
        conn.run(
            f"INSERT INTO core_api.{table} (workspace_pk, {columns}) "
            f"SELECT :w, {values} FROM generate_series(1, :n) g",
            w=workspace_pk,
            n=max(RECORDS, rows // 100),
        )
    conn.run(
        "WITH g AS (INSERT INTO core_api.workspace_groups (name, created_by_pk) "
        "SELECT :n || ' group ' || g, :p FROM generate_series(0, 2) g RETURNING pk), "
        "m AS (INSERT INTO core_api.workspace_group_memberships (workspace_group_pk, person_pk, "
        "role) SELECT pk, :p, 'owner' FROM g) "
        "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk, "
        "created_by_pk) SELECT pk, :w, :p FROM g",
        n=name,
        p=person_pk,
        w=workspace_pk,
    )
    conn.run(
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched) SELECT :w, pk, pk % 3 = 0, pk % 3 = 0 OR pk % 2 = 0 FROM core_api.providers",
        w=workspace_pk,
    )
    for ledger, (record_table, record) in LEDGERS.items():
        count = max(1, int(rows * (share or {}).get(ledger, 1.0)))
        sql = LEDGER_ROWS.format(ledger=ledger, record_table=record_table, record=record)
        with bulk(conn, ledger, count):
            start = BUILT_UNTIL - timedelta(days=span_days)
            conn.run(sql, w=workspace_pk, n=count, start=start, span=f"{span_days} days")


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
    span_days: int = SPAN_DAYS,
    period: str = "year",
) -> None:
    """The large-tenant databases' tenants: ``big`` (20 connectors, ``LARGE_SHARE``), ``small``
    (3 connectors), ``sync`` and the neighbours, their ledgers' rows over ``span_days`` in
    periods of ``period`` (``lay_out_periods``). ``seeded`` analyses them after."""
    lay_out_periods(conn, period, since=BUILT_UNTIL - timedelta(days=span_days))
    make_providers(conn, PROVIDERS)
    make_tenant(conn, "big", big_rows, connectors=20, share=LARGE_SHARE, span_days=span_days)
    make_tenant(conn, "small", small_rows, connectors=3, span_days=span_days)
    # Where the bench's sync writer writes (and removes what it wrote): the rows it leaves
    # dead until a vacuum are then on no index the two tenants' Lists walk.
    make_tenant(conn, "sync", RECORDS)
    # Other workspaces with their own provider selections and a group each, as a platform has:
    # a plan that reads those tables whole instead of by workspace reads theirs too.
    conn.run(
        "WITH w AS (INSERT INTO core_api.workspaces (name) "
        "SELECT 'neighbour ' || g FROM generate_series(1, :n) g RETURNING pk), "
        "g AS (INSERT INTO core_api.workspace_groups (name) "
        "SELECT 'neighbours ' || g FROM generate_series(1, 3) g RETURNING pk), "
        "e AS (INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk) "
        "SELECT g.pk, w.pk FROM w, g) "
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched) SELECT w.pk, p.pk, true, true FROM w, core_api.providers p",
        n=NEIGHBOURS,
    )


# The partition a ledger keeps every row in, under ``lay_out_periods``'s "one" (the name of a
# period's partition, of no day).
ONE_PERIOD = "{ledger}_p00000000"


def lay_out_periods(conn: pg8000.native.Connection, period: str, *, since: datetime) -> None:
    """The ledgers' periods from ``since`` to a period after now: a ``year`` each (the default,
    beside the ones the migrations made), another length (``quarter``, ``month``: the periods
    the migrations made are dropped first, empty), or ``one`` period for all time, as the
    ledger's one partition (what the ``periods`` phase compares the others with)."""
    if period == "year":
        database.make_ledger_periods(conn, since=since)
        return
    for (name,) in conn.run("SELECT partition_name FROM core_api.ledger_periods"):
        conn.run(f"DROP TABLE core_api.{name}")
    conn.run("DELETE FROM core_api.ledger_periods")
    if period != "one":
        database.make_ledger_periods(conn, since=since, period=period)
        return
    for ledger, (_, record) in LEDGERS.items():
        name = ONE_PERIOD.format(ledger=ledger)
        conn.run(
            f"CREATE TABLE core_api.{name} PARTITION OF core_api.{ledger} "
            "FOR VALUES FROM (MINVALUE) TO (MAXVALUE)"
        )
        # As every period is made (well_private.make_ledger_period()).
        conn.run(f"ALTER TABLE core_api.{name} ALTER COLUMN {record}_pk SET (n_distinct = -0.001)")
        conn.run(
            "INSERT INTO core_api.ledger_periods (ledger, starts_at, ends_at, partition_name) "
            "VALUES (:l, '-infinity', 'infinity', :n)",
            l=ledger,
            n=name,
        )


def large_tenants(
    server: database.LocalDatabase,
    name: str,
    big_rows: int,
    small_rows: int,
    *,
    span_days: int = SPAN_DAYS,
    period: str = "year",
) -> database.LocalDatabase:
    parts = (big_rows, small_rows, span_days, period)
    seed = functools.partial(
        build, big_rows=big_rows, small_rows=small_rows, span_days=span_days, period=period
    )
    what = f"{big_rows:,} rows" + ("" if period == "year" else f" in {period} period(s)")
    return seeded(server, name, what, seed, *parts)[0]


def revocation_seed(server: database.LocalDatabase, name: str, rows: int) -> None:
    """Tenant ``revoked`` with ``rows`` account ledger rows on one connector, and tenant
    ``other`` whose connector the traffic links."""

    def seed(conn: pg8000.native.Connection) -> None:
        make_providers(conn, 10)
        make_tenant(conn, "revoked", rows, share=ONLY_ACCOUNTS)
        make_tenant(conn, "other", RECORDS, share=ONLY_ACCOUNTS)

    seeded(server, name, f"{rows:,} rows", seed, rows)


# One transaction per this many change records: distinct xids, as many writers' commits make.
RECORDS_PER_XID = 1_000_000
RECORDS_PER_RUN = 1_000
CHANGE_RECORDS = """
INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail,
       occurred_at, actor_kind, sync_run_id, message_key, sent_at)
SELECT w, k.t, k.c, ARRAY[md5(g || '-' || w)::uuid],
       CASE WHEN position('_workspace_connector' IN k.t) > 0
            THEN ARRAY[md5('r' || g || '-' || w)::uuid] END,
       '{{}}'::jsonb, now() - interval '45 days' + g * interval '1 ms',
       CASE WHEN k.c IN ('linked', 'unlinked') THEN 'sync' ELSE 'sweep' END,
       CASE WHEN k.c IN ('linked', 'unlinked') THEN 'run-' || (g / {run}) END,
       CASE WHEN k.c IN ('linked', 'unlinked') THEN 'key-' || g END,
       now() - CASE WHEN g < :old THEN interval '40 days' ELSE interval '10 days' END
  FROM (SELECT pk FROM core_api.workspaces WHERE name = :tenant) AS t(w),
       generate_series(:start, :end - 1) g
  JOIN (VALUES {pairs}) AS k(i, t, c) ON k.i = g % {count}
"""


def feed_seed(
    server: database.LocalDatabase, name: str, big: int, small: int
) -> database.LocalDatabase:
    """Workspaces ``big`` and ``small`` with ``big`` and ``small`` change records, alike in every
    other way: cycling through ``CHANGE_PAIRS``, a sync run every ``RECORDS_PER_RUN``, a
    transaction per ``RECORDS_PER_XID``, sent ten days ago (the oldest 1% forty)."""
    from wellapi.resources import CHANGE_PAIRS

    pairs = ", ".join(f"({i}, '{t}', '{c}')" for i, (t, c) in enumerate(CHANGE_PAIRS))
    records = CHANGE_RECORDS.format(pairs=pairs, count=len(CHANGE_PAIRS), run=RECORDS_PER_RUN)

    def seed(conn: pg8000.native.Connection) -> None:
        make_providers(conn, 10)
        make_tenant(conn, "big", 100)
        make_tenant(conn, "small", 100)
        with bulk(conn, "change_records", big + small):
            for tenant, count in (("big", big), ("small", small)):
                for start in range(0, count, RECORDS_PER_XID):
                    end = min(count, start + RECORDS_PER_XID)
                    conn.run(records, tenant=tenant, old=count // 100, start=start, end=end)

    return seeded(server, name, f"{big:,} and {small:,} change records", seed, big, small)[0]
