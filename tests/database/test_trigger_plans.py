"""A junction write's triggers probe each parent by its key, whatever the session planned them at.

PL/pgSQL keeps a trigger's statement for the session, planned at the number of rows its
transition table held the first time it ran. A ledger's recorder
(``core_api.record_<ledger>()``) and its parents' check (``core_api.<ledger>_parents_agree()``)
look up the rows' parents; planned at a sync message's 5,000 rows, a join to a parent reads the
parent table whole and hashes it, and the session's later writes of one row read it whole again:
26 to 42 ms a write at 300,000 companies, against 0.5 to 1.2 ms. So each lookup probes the
parent's primary key, row by row, a plan that is the same at any count.

Each test writes many rows first, on a fresh connection, as a sync writer's session may, then
one row, and counts the sequential scans the one row's statement made of the parent tables in
its transaction (``pg_stat_xact_user_tables``): none. Lookups written as joins fail the
ledgers' cases and the enrolments'; the selections' pass even so (its record groups, counted
at 2,000 rows, are planned as probes either way).
"""

from __future__ import annotations

from collections.abc import Callable

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import sync as s

pytestmark = pytest.mark.usefixtures("api_database")

# More records than the first write links: a plan for that many rows reads the whole table.
RECORDS = 3_000
FIRST_ROWS = 2_000
PARENTS = ("workspace_connectors", "accounts", "companies", "peoples")


def parent_scans(
    admin: pg8000.native.Connection, parents: tuple[str, ...] = PARENTS
) -> dict[str, int]:
    """The sequential scans of each of ``parents`` in the current transaction."""
    rows = admin.run(
        "SELECT relname, seq_scan FROM pg_catalog.pg_stat_xact_user_tables "
        "WHERE schemaname = 'core_api' AND relname = ANY(CAST(:names AS text[]))",
        names=list(parents),
    )
    return {name: int(scans) for name, scans in rows if scans}


def scans_of_one_write(
    admin: pg8000.native.Connection, write: Callable[[], object], parents: tuple[str, ...] = PARENTS
) -> dict[str, int]:
    """``parent_scans`` of ``write``, made in a transaction of its own, rolled back."""
    admin.run("BEGIN")
    try:
        write()
        return parent_scans(admin, parents)
    finally:
        admin.run("ROLLBACK")


def big_tenant(admin: pg8000.native.Connection, ledger: str) -> tuple[f.Tenant, list[int]]:
    """A tenant with ``RECORDS`` records and as many more workspace connectors: a plan that
    reads either whole reads thousands of rows."""
    t = f.tenant(admin)
    admin.run(
        "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status) "
        "SELECT workspace_pk, connector_pk, 'disabled' FROM core_api.workspace_connectors, "
        "generate_series(1, :n) WHERE pk = :c",
        n=RECORDS,
        c=t.workspace_connector_pk,
    )
    return t, [pk for pk, _ in s.records(admin, t, ledger, RECORDS)]


def link(admin: pg8000.native.Connection, ledger: str, connector_pk: int, pks: list[int]) -> None:
    table, _, column, _ = s.LEDGERS[ledger]
    admin.run(
        f"INSERT INTO core_api.{table} ({column}, workspace_connector_pk, direction) "
        "SELECT pk, :c, 'input' FROM unnest(CAST(:pks AS bigint[])) AS pk",
        c=connector_pk,
        pks=pks,
    )


@pytest.mark.parametrize("ledger", s.RECORD_TYPES)
def test_an_insert_of_one_row_probes_the_parents_after_a_first_insert_of_many(admin, ledger):
    t, pks = big_tenant(admin, ledger)
    link(admin, ledger, t.workspace_connector_pk, pks[:FIRST_ROWS])

    scans = scans_of_one_write(
        admin, lambda: link(admin, ledger, t.workspace_connector_pk, pks[-1:])
    )

    assert scans == {}


@pytest.mark.parametrize("ledger", s.RECORD_TYPES)
def test_a_delete_of_one_row_probes_the_parents_after_a_first_delete_of_many(admin, ledger):
    t, pks = big_tenant(admin, ledger)
    link(admin, ledger, t.workspace_connector_pk, pks)
    table, _, column, _ = s.LEDGERS[ledger]
    delete = f"DELETE FROM core_api.{table} WHERE {column} = ANY(CAST(:pks AS bigint[]))"
    admin.run(delete, pks=pks[:FIRST_ROWS])

    scans = scans_of_one_write(admin, lambda: admin.run(delete, pks=pks[-1:]))

    assert scans == {}


def many(admin: pg8000.native.Connection, table: str, columns: str, values: str) -> list[int]:
    """``RECORDS`` new rows of ``table``, their pks in order."""
    rows = admin.run(
        f"INSERT INTO core_api.{table} ({columns}) SELECT {values} "
        "FROM generate_series(1, :n) AS n RETURNING pk",
        n=RECORDS,
    )
    return [int(pk) for (pk,) in rows]


# Each other junction: its parents, made ``RECORDS`` at a time, and how its rows pair them.
JUNCTIONS = {
    "workspace_group_workspaces": (
        ("workspace_groups", "name", "'Group ' || n"),
        ("workspaces", "name", "'Workspace ' || n"),
        "workspace_group_pk, workspace_pk",
    ),
    "workspace_providers": (
        ("workspaces", "name", "'Workspace ' || n"),
        (
            "providers",
            "name, slug, url, category, popularity_score",
            "'Provider ' || n, 'plan-' || n || '-' || md5(random()::text), "
            "'https://example.com', 'Finance', 1",
        ),
        "workspace_pk, provider_pk",
    ),
}


@pytest.mark.parametrize("junction", JUNCTIONS)
def test_an_insert_of_one_row_probes_the_parents_of_its_record_after_a_first_of_many(
    admin, junction
):
    first, second, columns = JUNCTIONS[junction]
    pairs = list(zip(*(many(admin, *parent) for parent in (first, second)), strict=True))
    insert = (
        f"INSERT INTO core_api.{junction} ({columns}) "
        "SELECT a, b FROM unnest(CAST(:a AS bigint[]), CAST(:b AS bigint[])) AS t(a, b)"
    )

    def pair(rows: list[tuple[int, int]]) -> None:
        admin.run(insert, a=[a for a, _ in rows], b=[b for _, b in rows])

    pair(pairs[:FIRST_ROWS])

    scans = scans_of_one_write(admin, lambda: pair(pairs[-1:]), (first[0], second[0]))

    assert scans == {}
