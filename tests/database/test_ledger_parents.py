"""A ledger row's record and connector always sit in one workspace.

Row-level security lets the API role read a ledger row when its connector is in scope; the
platform's rule is that both parents must be. The database makes the two the same by refusing
every write that would part them (``core_api.<ledger>_parents_agree()``,
``core_api.linked_parent_stays_in_its_workspace()``), whoever writes: the owner, the sync
role, the API role.
"""

from __future__ import annotations

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.read_factories import PROVENANCE, RECORD
from wellapi.errors import sqlstate_of

CHECK_VIOLATION = "23514"
RECORD_TABLE = {table: parent.table.name for table, parent in f.LEDGER_PARENT.items()}


def refused(conn: pg8000.native.Connection, sql: str, **params: object) -> str:
    conn.run("BEGIN")
    try:
        with pytest.raises(pg8000.native.DatabaseError) as caught:
            conn.run(sql, **params)
    finally:
        conn.run("ROLLBACK")
    assert sqlstate_of(caught.value) == CHECK_VIOLATION
    return str(caught.value)


def insert(table: str) -> str:
    return (
        f"INSERT INTO core_api.{table} ({RECORD[table]}_pk, workspace_connector_pk, direction) "
        "VALUES (:r, :w, 'input')"
    )


@pytest.mark.parametrize("table", PROVENANCE)
@pytest.mark.parametrize("writer", ["owner", "sync"])
def test_a_row_pointing_at_a_record_and_a_connector_of_two_workspaces_is_refused(
    admin, sync_conn, table, writer
):
    a, b = f.tenant(admin), f.tenant(admin)
    conn = admin if writer == "owner" else sync_conn

    message = refused(conn, insert(table), r=f.record_of(a, table)[0], w=b.workspace_connector_pk)

    assert f"{table}_parents_share_a_workspace" in message


@pytest.mark.parametrize("table", PROVENANCE)
def test_one_crossed_row_among_many_refuses_the_whole_statement(admin, table):
    a, b = f.tenant(admin), f.tenant(admin)
    record = f.record_of(a, table)[0]
    rows = [(record, a.workspace_connector_pk)] * 3 + [(record, b.workspace_connector_pk)]
    values = ", ".join(f"({r}, {w}, 'input')" for r, w in rows)
    before = admin.run(f"SELECT count(*) FROM core_api.{table}")[0][0]

    refused(
        admin,
        f"INSERT INTO core_api.{table} ({RECORD[table]}_pk, workspace_connector_pk, direction) "
        f"VALUES {values}",
    )

    assert admin.run(f"SELECT count(*) FROM core_api.{table}")[0][0] == before


@pytest.mark.parametrize("table", PROVENANCE)
def test_rows_of_one_workspace_are_written_in_bulk(admin, table):
    a = f.tenant(admin)
    record = f.record_of(a, table)[0]

    admin.run(
        f"INSERT INTO core_api.{table} ({RECORD[table]}_pk, workspace_connector_pk, direction) "
        "SELECT :r, :w, 'input' FROM generate_series(1, 500)",
        r=record,
        w=a.workspace_connector_pk,
    )

    count = admin.run(
        f"SELECT count(*) FROM core_api.{table} WHERE workspace_connector_pk = :w",
        w=a.workspace_connector_pk,
    )
    assert count[0][0] == 500


@pytest.mark.parametrize("table", PROVENANCE)
@pytest.mark.parametrize("column", ["record", "workspace_connector_pk"])
def test_an_update_that_points_a_row_into_another_workspace_is_refused(admin, table, column):
    a, b = f.tenant(admin), f.tenant(admin)
    row = rf.provenance(admin, a, table)
    target = f.record_of(b, table)[0] if column == "record" else b.workspace_connector_pk
    name = f"{RECORD[table]}_pk" if column == "record" else column

    refused(admin, f"UPDATE core_api.{table} SET {name} = :v WHERE pk = :pk", v=target, pk=row.pk)


@pytest.mark.parametrize("table", PROVENANCE)
def test_a_row_may_be_pointed_at_another_record_of_its_workspace(admin, table):
    a = f.tenant(admin)
    row = rf.provenance(admin, a, table)
    other = f.record_of(a, table)[0]
    name = f"{RECORD[table]}_pk"

    admin.run(f"UPDATE core_api.{table} SET {name} = :v WHERE pk = :pk", v=other, pk=row.pk)

    assert admin.run(f"SELECT {name} FROM core_api.{table} WHERE pk = :pk", pk=row.pk) == [[other]]


@pytest.mark.parametrize("table", PROVENANCE)
@pytest.mark.parametrize("parent", ["record", "workspace_connectors"])
def test_a_parent_that_ledger_rows_point_at_cannot_move_to_another_workspace(admin, table, parent):
    a, b = f.tenant(admin), f.tenant(admin)
    record = f.record_of(a, table)
    rf.provenance(admin, a, table, record=record)
    parent_table = RECORD_TABLE[table] if parent == "record" else parent
    pk = record[0] if parent == "record" else a.workspace_connector_pk

    message = refused(
        admin,
        f"UPDATE core_api.{parent_table} SET workspace_pk = :w WHERE pk = :pk",
        w=b.workspace_pk,
        pk=pk,
    )

    assert f"{parent_table}_linked_stays_in_workspace" in message


@pytest.mark.parametrize("table", RECORD_TABLE.values())
def test_a_record_no_ledger_row_points_at_may_move(admin, table):
    a, b = f.tenant(admin), f.tenant(admin)
    record = f.record_of(a, next(k for k, v in RECORD_TABLE.items() if v == table))[0]

    admin.run(
        f"UPDATE core_api.{table} SET workspace_pk = :w WHERE pk = :pk", w=b.workspace_pk, pk=record
    )

    assert admin.run(f"SELECT workspace_pk FROM core_api.{table} WHERE pk = :pk", pk=record) == [
        [b.workspace_pk]
    ]


@pytest.mark.parametrize("table", PROVENANCE)
def test_a_parents_new_key_cascades_to_its_ledger_rows(admin, table):
    a = f.tenant(admin)
    row = rf.provenance(admin, a, table)
    new_pk = -a.workspace_connector_pk  # never a key the identity will hand out

    admin.run(
        "UPDATE core_api.workspace_connectors SET pk = :n WHERE pk = :o",
        n=new_pk,
        o=a.workspace_connector_pk,
    )

    found = admin.run(
        f"SELECT workspace_connector_pk FROM core_api.{table} WHERE pk = :pk", pk=row.pk
    )
    assert found == [[new_pk]]


@pytest.mark.parametrize("table", PROVENANCE)
def test_a_ledger_row_gets_a_time_ordered_version_7_id(admin, table):
    a = f.tenant(admin)
    first = rf.provenance(admin, a, table)
    second = rf.provenance(admin, a, table)

    assert first.id.version == 7
    assert second.id.version == 7
    # The first 48 bits are milliseconds: a later row's id never sorts before an earlier one's.
    assert first.id.int >> 80 <= second.id.int >> 80
