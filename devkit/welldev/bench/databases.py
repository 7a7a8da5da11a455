"""Bench databases: seeded set-based, cached by fingerprint."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pg8000.core
import pg8000.dbapi
import pg8000.native

from wellapi.handlers.migration import migrations_dir
from wellapi.roles import API_ROLE
from welldev import database
from welldev.bench.config import PAGE_SIZE, Config, Sizes
from welldev.bench.errors import BenchError
from welldev.bench.harness import elapsed, note

SEED_VERSION = 6
T0 = datetime(2024, 1, 1, tzinfo=UTC)
LEDGER = "core_api.account_workspace_connectors"


@dataclass(frozen=True)
class Dataset:
    """The identities the measurements need, stored with the seed (the ids are seeded)."""

    member_person_id: str
    member_workspace_id: str
    scale_connector_id: str
    window_start: str
    window_end: str
    window_rows: int
    cursor: str
    cursor_depth: int  # rows of the window that lie before the measured page
    warm_row_ids: tuple[str, ...]
    service_person_id: str
    write_workspace_id: str
    write_company_id: str
    write_connector_id: str
    write_connector_pk: int
    sync_connector_id: str
    sync_connector_pk: int
    sync_workspace_pk: int

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Dataset:
        raw = dict(raw)
        raw["warm_row_ids"] = tuple(raw["warm_row_ids"])
        return cls(**raw)


@dataclass(frozen=True)
class BenchDatabase:
    local: database.LocalDatabase
    sizes: Sizes
    dataset: Dataset

    @property
    def api_url(self) -> str:
        return self.local.url_for(API_ROLE)

    def admin(self) -> pg8000.native.Connection:
        return database.admin_connection(self.local.admin_url)


def fingerprint(sizes: Sizes) -> str:
    """What the seeded data depends on: a change in any of it means seeding again."""
    digest = hashlib.sha256(f"{SEED_VERSION}:{asdict(sizes)}".encode())
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_database(server: database.LocalDatabase, name: str, sizes: Sizes) -> BenchDatabase:
    """The seeded bench database ``name``: reused when its fingerprint and rows still match."""
    local = database.create_database(server, name)
    wanted = fingerprint(sizes)
    dataset = _cached_dataset(local, wanted, sizes)
    if dataset is not None:
        database.ensure_roles(local)
        note(f"{name}: reusing the seeded data ({sizes.ledger_rows:,} ledger rows)")
        return BenchDatabase(local, sizes, dataset)
    started = time.perf_counter()
    local = database.prepare(server, name, replace=True)
    conn = database.admin_connection(local.admin_url)
    try:
        dataset = seed(conn, sizes, wanted)
    finally:
        conn.close()
    note(f"{name}: seeded {sizes.ledger_rows:,} ledger rows in {elapsed(started)}")
    return BenchDatabase(local, sizes, dataset)


def _cached_dataset(local: database.LocalDatabase, wanted: str, sizes: Sizes) -> Dataset | None:
    conn = database.admin_connection(local.admin_url)
    try:
        if conn.run("SELECT to_regclass('public.bench_seed')")[0][0] is None:
            return None
        stored = dict(conn.run("SELECT key, value FROM public.bench_seed"))
        if stored.get("fingerprint") != wanted:
            return None
        # A run that died half-way, or someone's experiment, leaves other counts.
        if conn.run(f"SELECT count(*) FROM {LEDGER}")[0][0] != sizes.ledger_rows:
            return None
        return Dataset.from_json(json.loads(stored["dataset"]))
    finally:
        conn.close()


def drop_databases(server: database.LocalDatabase, config: Config) -> None:
    for suffix in (
        "",
        "_small",
        "_tenants_base",
        "_tenants_large",
        "_revocation_seed",
        "_revocation",
        "_feed",
    ):
        database.drop_database(server, config.database_prefix + suffix)


@dataclass(frozen=True)
class _Tenants:
    scale_workspaces: list[int]  # pks, workspace 0 is the member's
    member_workspace_id: str
    member_person_id: str
    connector_lo: int  # the scale connectors' pks are contiguous: lo .. lo + connectors - 1
    scale_connector_id: str
    write_workspace: tuple[int, str]
    service_person_id: str
    write_connector: tuple[int, str]
    sync_workspace: int
    sync_connector: tuple[int, str]


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.run(sql, **params)[0])


def _workspace(conn: pg8000.native.Connection, name: str) -> tuple[int, str]:
    pk, public_id = _one(
        conn,
        "INSERT INTO core_api.workspaces (name) VALUES (:n) RETURNING pk, workspace_id",
        n=name,
    )
    return int(pk), str(public_id)


def _person(conn: pg8000.native.Connection, workspace_pk: int, *, owner: bool) -> str:
    pk, public_id = _one(
        conn,
        "INSERT INTO core_api.peoples (workspace_pk, first_name, last_name, full_name) "
        "VALUES (:w, 'Bench', 'Person', 'Bench Person') RETURNING pk, person_id",
        w=workspace_pk,
    )
    if owner:
        conn.run(
            "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
            "VALUES (:w, :p, 'owner', 'active')",
            w=workspace_pk,
            p=pk,
        )
    return str(public_id)


def _connectors(
    conn: pg8000.native.Connection, connector_pk: int, workspaces: Sequence[int], count: int
) -> list[tuple[int, str]]:
    """``count`` workspace connectors, the i-th in ``workspaces[i % len]``, in pk order."""
    rows = conn.run(
        "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status, config) "
        "SELECT (CAST(:ws AS bigint[]))[1 + i % cardinality(CAST(:ws AS bigint[]))], :c, "
        "'enabled', CAST('{\"api_secret\": \"sk_bench\"}' AS jsonb) "
        "FROM generate_series(0, :n - 1) i ORDER BY i RETURNING pk, workspace_connector_id",
        ws=list(workspaces),
        c=connector_pk,
        n=count,
    )
    return sorted((int(pk), str(public_id)) for pk, public_id in rows)


def _tenants(conn: pg8000.native.Connection, sizes: Sizes) -> _Tenants:
    scale = [_workspace(conn, f"bench scale {i}") for i in range(sizes.workspaces)]
    member = _person(conn, scale[0][0], owner=True)
    for pk, _ in scale[1:]:
        _person(conn, pk, owner=True)
    write = _workspace(conn, "bench write")
    service = _person(conn, write[0], owner=False)
    sync = _workspace(conn, "bench sync")
    (connector_pk,) = _one(
        conn,
        "INSERT INTO core_api.connectors (name, provider) VALUES ('bench', 'plaid_eu') "
        "RETURNING pk",
    )
    scale_connectors = _connectors(conn, connector_pk, [pk for pk, _ in scale], sizes.connectors)
    lo = scale_connectors[0][0]
    if scale_connectors[-1][0] != lo + sizes.connectors - 1:
        raise BenchError("the scale connectors' keys are not contiguous")
    return _Tenants(
        scale_workspaces=[pk for pk, _ in scale],
        member_workspace_id=scale[0][1],
        member_person_id=member,
        connector_lo=lo,
        scale_connector_id=scale_connectors[0][1],
        write_workspace=write,
        service_person_id=service,
        write_connector=_connectors(conn, connector_pk, [write[0]], 1)[0],
        sync_workspace=sync[0],
        sync_connector=_connectors(conn, connector_pk, [sync[0]], 1)[0],
    )


def _accounts(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants) -> int:
    """Accounts of every scale workspace, workspace by workspace; the first one's pk.

    Public ids come from md5: ``gen_random_uuid()`` costs ~9 µs a row on this kind of machine,
    which alone would be 9 s of the 1M-row seed.
    """
    per_workspace = _accounts_per_workspace(sizes)
    conn.run(
        "INSERT INTO core_api.accounts (account_id, workspace_pk, account_name, type, "
        "created_at, updated_at) "
        "SELECT CAST(md5('bench-account-' || w || '-' || i) AS uuid), "
        "(CAST(:ws AS bigint[]))[1 + w], 'Account ' || i, 'deposit', :t0, :t0 "
        "FROM generate_series(0, :w_count - 1) w, generate_series(0, :a - 1) i ORDER BY w, i",
        ws=tenants.scale_workspaces,
        w_count=sizes.workspaces,
        a=per_workspace,
        t0=T0,
    )
    lo, hi = _one(
        conn,
        "SELECT min(pk), max(pk) FROM core_api.accounts WHERE workspace_pk = ANY(CAST(:ws AS "
        "bigint[]))",
        ws=tenants.scale_workspaces,
    )
    if hi - lo + 1 != per_workspace * sizes.workspaces:
        raise BenchError("the accounts' keys are not contiguous")
    return int(lo)


def _accounts_per_workspace(sizes: Sizes) -> int:
    return max(1, sizes.ledger_rows // (sizes.rows_per_account * sizes.workspaces))


def _ledger_indexes(conn: pg8000.native.Connection) -> tuple[list[list[str]], list[list[str]]]:
    """The ledger's plain indexes and its key constraints, as SQL to create them again."""
    indexes = conn.run(
        "SELECT pg_get_indexdef(indexrelid), indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = CAST(:t AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
        t=LEDGER,
    )
    constraints = conn.run(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u')",
        t=LEDGER,
    )
    return indexes, constraints


def _ledger(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants, lo: int) -> None:
    """The ledger rows, set-based: one INSERT ... SELECT over generate_series.

    Row g belongs to connector g % C (its workspace is that connector's) and to an account of
    the same workspace; it was created g minutes after T0; one in 97 is soft-deleted, a third
    go out. Indexes are dropped and built again after the insert (4 s against 18 s of index
    maintenance for 1M rows), inside the seed's one transaction.
    """
    indexes, constraints = _ledger_indexes(conn)
    for _, name in indexes:
        conn.run(f"DROP INDEX {name}")
    for name, _ in constraints:
        conn.run(f"ALTER TABLE {LEDGER} DROP CONSTRAINT {pg8000.native.identifier(name)}")
    conn.run(
        f"INSERT INTO {LEDGER} (account_workspace_connector_id, account_pk, "
        "workspace_connector_pk, direction, created_at, updated_at, deleted_at) "
        "SELECT CAST(md5('bench-awc-' || g) AS uuid), "
        ":lo + ((g % :c) % :w) * :a + (g / :c) % :a, :wc + g % :c, "
        "CAST(CASE WHEN (g / :c) % 3 = 2 THEN 'output' ELSE 'input' END "
        "AS core_api.direction_enum), at, at, "
        "CASE WHEN g % 97 = 13 THEN at + interval '1 day' END "
        "FROM generate_series(0, :n - 1) g, "
        "LATERAL (SELECT CAST(:t0 AS timestamptz) + g * interval '1 minute' AS at) a",
        lo=lo,
        c=sizes.connectors,
        w=sizes.workspaces,
        a=_accounts_per_workspace(sizes),
        wc=tenants.connector_lo,
        t0=T0,
        n=sizes.ledger_rows,
    )
    for name, definition in constraints:
        conn.run(
            f"ALTER TABLE {LEDGER} ADD CONSTRAINT {pg8000.native.identifier(name)} {definition}"
        )
    for definition, _ in indexes:
        conn.run(definition)


def _warm_rows(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants) -> list[str]:
    """The member's company ledger: small, so warm latency measures the code, not a scan."""
    rows = conn.run(
        "WITH c AS (INSERT INTO core_api.companies (workspace_pk, name, domain) "
        "SELECT :w, 'Company ' || i, 'example.com' FROM generate_series(1, :n) i "
        "RETURNING pk) "
        "INSERT INTO core_api.company_workspace_connectors (company_pk, workspace_connector_pk, "
        "direction, created_at) "
        "SELECT pk, :wc, 'input', CAST(:t0 AS timestamptz) + pk * interval '1 minute' FROM c "
        "RETURNING company_workspace_connector_id",
        w=tenants.scale_workspaces[0],
        wc=tenants.connector_lo,
        n=sizes.warm_rows,
        t0=T0,
    )
    return [str(r[0]) for r in rows]


def _write_company(conn: pg8000.native.Connection, tenants: _Tenants) -> str:
    (company_id,) = _one(
        conn,
        "INSERT INTO core_api.companies (workspace_pk, name, domain) "
        "VALUES (:w, 'Bench Company', 'example.com') RETURNING company_id",
        w=tenants.write_workspace[0],
    )
    return str(company_id)


def _sync_people(conn: pg8000.native.Connection, sizes: Sizes, tenants: _Tenants) -> None:
    conn.run(
        "INSERT INTO core_api.peoples (person_id, workspace_pk, first_name, last_name, "
        "full_name) SELECT CAST(md5('bench-person-' || i) AS uuid), :w, 'Ada', 'Lovelace', "
        "'Person ' || i FROM generate_series(1, :n) i",
        w=tenants.sync_workspace,
        n=sizes.sync_records,
    )


def _deep_cursor(
    conn: pg8000.native.Connection, sizes: Sizes, connector_pk: int
) -> tuple[datetime, datetime, int, int, str]:
    """The window [t1, t2) of connector X (80% of its rows) and a cursor ``deep_pages`` deep.

    The cursor is the exact (created_at, id) of the last row before the measured page, found
    in the order the API reads (created_at DESC, id DESC, live rows only).
    """
    from wellapi.jsonapi.cursor import Cursor

    t1 = T0 + timedelta(minutes=sizes.ledger_rows // 10)
    t2 = T0 + timedelta(minutes=sizes.ledger_rows * 9 // 10)
    live_window = (
        f"FROM {LEDGER} WHERE workspace_connector_pk = :x AND created_at >= :t1 "
        "AND created_at < :t2 AND deleted_at IS NULL"
    )
    (rows,) = _one(conn, f"SELECT count(*) {live_window}", x=connector_pk, t1=t1, t2=t2)
    # Tiny databases (the smoke test) have fewer rows than pages ask for: stay inside.
    depth = max(1, min(sizes.deep_pages * PAGE_SIZE, rows - 1))
    created_at, row_id = _one(
        conn,
        f"SELECT created_at, account_workspace_connector_id {live_window} "
        "ORDER BY created_at DESC, account_workspace_connector_id DESC OFFSET :o LIMIT 1",
        x=connector_pk,
        t1=t1,
        t2=t2,
        o=depth - 1,
    )
    cursor = Cursor("-created_at", created_at, UUID(str(row_id))).encode()
    return t1, t2, int(rows), depth, cursor


def seed(conn: pg8000.native.Connection, sizes: Sizes, wanted: str) -> Dataset:
    """Everything in one transaction, as the administrator; then VACUUM ANALYZE."""
    conn.run("BEGIN")
    try:
        tenants = _tenants(conn, sizes)
        # Bulk rows bypass the triggers (touch_row and the foreign-key checks): they are built
        # consistent, updated_at is set as touch_row would, and a superuser may skip them.
        # Another administrator keeps them and seeds more slowly.
        bypass = bool(conn.run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0])
        if bypass:
            conn.run("SET LOCAL session_replication_role = replica")
        conn.run("SET LOCAL maintenance_work_mem = '512MB'")
        lo = _accounts(conn, sizes, tenants)
        _ledger(conn, sizes, tenants, lo)
        if bypass:
            conn.run("SET LOCAL session_replication_role = origin")
        warm = _warm_rows(conn, sizes, tenants)
        write_company = _write_company(conn, tenants)
        _sync_people(conn, sizes, tenants)
        t1, t2, rows, depth, cursor = _deep_cursor(conn, sizes, tenants.connector_lo)
        dataset = Dataset(
            member_person_id=tenants.member_person_id,
            member_workspace_id=tenants.member_workspace_id,
            scale_connector_id=tenants.scale_connector_id,
            window_start=t1.isoformat(),
            window_end=t2.isoformat(),
            window_rows=rows,
            cursor=cursor,
            cursor_depth=depth,
            warm_row_ids=tuple(warm),
            service_person_id=tenants.service_person_id,
            write_workspace_id=tenants.write_workspace[1],
            write_company_id=write_company,
            write_connector_id=tenants.write_connector[1],
            write_connector_pk=tenants.write_connector[0],
            sync_connector_id=tenants.sync_connector[1],
            sync_connector_pk=tenants.sync_connector[0],
            sync_workspace_pk=tenants.sync_workspace,
        )
        conn.run("CREATE TABLE public.bench_seed (key text PRIMARY KEY, value text NOT NULL)")
        conn.run(
            "INSERT INTO public.bench_seed VALUES ('fingerprint', :f), ('dataset', :d)",
            f=wanted,
            d=json.dumps(asdict(dataset)),
        )
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise
    # Hint bits and the visibility map set now, not by the first measured reads.
    conn.run("VACUUM (ANALYZE)")
    return dataset


def remove_created_rows(bench: BenchDatabase) -> None:
    """The write tenant's rows are the bench's own: rerun after rerun, start from none."""
    conn = bench.admin()
    try:
        conn.run(
            "DELETE FROM core_api.company_workspace_connectors WHERE workspace_connector_pk = :w",
            w=bench.dataset.write_connector_pk,
        )
        # The next run's plans then see the same table, not one with a growing dead tail.
        conn.run("VACUUM (ANALYZE) core_api.company_workspace_connectors")
    finally:
        conn.close()
