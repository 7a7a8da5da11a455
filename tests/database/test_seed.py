"""The demo data: complete, consistent with the platform's rules, and idempotent.

It is seeded into a migrated database of its own (on the session's server), not into the
shared ``database`` fixture: other tests count rows there and must not see the demo.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support.proven import run_with_key_proof
from wellapi.domain import SCHEMA
from wellapi.http import keys
from wellapi.resources.tables import metadata
from welldev import database as local_db
from welldev import demo_file, seed

TABLES = sorted(table.name for table in metadata.sorted_tables)
# The five junctions and every parent they point at: the demo fills each of them.
DEMO_TABLES = (
    "workspaces",
    "peoples",
    "memberships",
    "connectors",
    "workspace_connectors",
    "accounts",
    "companies",
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
    "workspace_groups",
    "workspace_group_memberships",
    "workspace_group_workspaces",
    "providers",
    "workspace_providers",
)
LEDGERS = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)


@pytest.fixture(scope="module")
def seed_database(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    name = f"wellapi_seed_{os.getpid()}"
    db = local_db.create_database(server, name, replace=True)
    local_db.migrate_to_head(db)
    yield db
    local_db.drop_database(server, name)


@pytest.fixture(scope="module")
def conn(seed_database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    connection = local_db.admin_connection(seed_database.admin_url)
    seed.seed(connection)
    try:
        yield connection
    finally:
        connection.close()


def snapshot(conn: pg8000.native.Connection) -> dict[str, list[list[Any]]]:
    """Every row of every table of the schema, in a stable order."""
    return {
        table: sorted(conn.run(f"SELECT * FROM {SCHEMA}.{table}"), key=repr) for table in TABLES
    }


def scalar(conn: pg8000.native.Connection, sql: str, **params: Any) -> Any:
    return conn.run(sql, **params)[0][0]


def test_seeding_twice_leaves_exactly_the_same_rows(conn: pg8000.native.Connection) -> None:
    before = snapshot(conn)
    assert all(before[table] for table in DEMO_TABLES)
    seed.seed(conn)
    assert snapshot(conn) == before


def test_every_table_the_junctions_need_has_demo_rows(conn: pg8000.native.Connection) -> None:
    counts = {t: scalar(conn, f"SELECT count(*) FROM {SCHEMA}.{t}") for t in DEMO_TABLES}
    assert all(counts.values()), counts
    assert counts["workspaces"] == 2
    assert counts["providers"] >= 8


def test_each_demo_user_is_an_active_owner_of_their_workspace(
    conn: pg8000.native.Connection,
) -> None:
    members = seed.demo_members()
    assert [m.name for m in members] == ["Acme Finance", "Globex Holdings"]
    for member in members:
        rows = conn.run(
            f"SELECT m.role::text, m.status::text FROM {SCHEMA}.memberships m "
            f"JOIN {SCHEMA}.peoples p ON p.pk = m.person_pk "
            f"JOIN {SCHEMA}.workspaces w ON w.pk = m.workspace_pk "
            "WHERE p.person_id = :person AND w.workspace_id = :workspace AND p.workspace_pk = w.pk",
            person=member.person_id,
            workspace=member.workspace_id,
        )
        assert rows == [["owner", "active"]]


def test_the_ledgers_hold_both_directions_and_soft_deleted_rows(
    conn: pg8000.native.Connection,
) -> None:
    for ledger in LEDGERS:
        directions = conn.run(f"SELECT DISTINCT direction::text FROM {SCHEMA}.{ledger} ORDER BY 1")
        assert directions == [["input"], ["output"]], ledger
        assert scalar(conn, f"SELECT count(*) FROM {SCHEMA}.{ledger} WHERE deleted_at IS NOT NULL")
    # A record and its connector always belong to the same workspace.
    mismatched = scalar(
        conn,
        f"SELECT count(*) FROM {SCHEMA}.account_workspace_connectors l "
        f"JOIN {SCHEMA}.accounts a ON a.pk = l.account_pk "
        f"JOIN {SCHEMA}.workspace_connectors wc ON wc.pk = l.workspace_connector_pk "
        "WHERE a.workspace_pk <> wc.workspace_pk",
    )
    assert mismatched == 0


def test_workspace_connectors_carry_a_fake_credential(conn: pg8000.native.Connection) -> None:
    configs = conn.run(f"SELECT config FROM {SCHEMA}.workspace_connectors")
    assert all("never-returned" in config["secret"] for (config,) in configs)


def test_both_workspaces_are_enrolled_in_a_group_owned_by_the_acme_demo_user(
    conn: pg8000.native.Connection,
) -> None:
    enrolled = conn.run(
        f"SELECT w.name FROM {SCHEMA}.workspace_group_workspaces gw "
        f"JOIN {SCHEMA}.workspaces w ON w.pk = gw.workspace_pk "
        "WHERE gw.deleted_at IS NULL AND gw.created_by_pk IS NOT NULL ORDER BY w.name"
    )
    assert enrolled == [["Acme Finance"], ["Globex Holdings"]]
    owner = seed.demo_members()[0].person_id
    role = conn.run(
        f"SELECT gm.role::text FROM {SCHEMA}.workspace_group_memberships gm "
        f"JOIN {SCHEMA}.peoples p ON p.pk = gm.person_pk WHERE p.person_id = :person",
        person=owner,
    )
    assert role == [["owner"]]


def test_workspace_providers_follow_the_selection_rules(conn: pg8000.native.Connection) -> None:
    rows = conn.run(
        f"SELECT is_selected, is_matched, deleted_at IS NOT NULL FROM {SCHEMA}.workspace_providers"
    )
    assert all(matched for selected, matched, _ in rows if selected)
    removed = [row for row in rows if row[2]]
    assert removed
    assert all(not selected for selected, _, _ in removed)


def test_demo_json_lists_both_workspaces(conn: pg8000.native.Connection, tmp_path: Path) -> None:
    path = tmp_path / ".local" / "demo.json"
    demo_file.write_demo(path, seed.seed(conn).document("http://127.0.0.1:3000"))
    document = json.loads(path.read_text())
    assert document["base_url"] == "http://127.0.0.1:3000"
    assert document["service_key"] is None
    assert [w["name"] for w in document["workspaces"]] == ["Acme Finance", "Globex Holdings"]
    for workspace in document["workspaces"]:
        assert workspace["api_key"] is None
        uuid.UUID(workspace["workspace_id"])
        uuid.UUID(workspace["person_id"])


def test_a_key_provider_plugs_into_the_demo(conn: pg8000.native.Connection) -> None:
    class Keys:
        def member_key(self, c: pg8000.native.Connection, member: seed.DemoMember) -> str:
            return f"key-{member.name}"

        def service_key(self, c: pg8000.native.Connection) -> str:
            return "service-key"

    document = seed.seed(conn, Keys()).document("http://x")
    assert [w["api_key"] for w in document["workspaces"]] == [
        "key-Acme Finance",
        "key-Globex Holdings",
    ]
    assert document["service_key"] == "service-key"


def test_seed_ids_are_stable() -> None:
    assert seed.seed_id("workspaces", "acme") == uuid.UUID("b167f3b1-8778-5df1-bfdb-765877ddf240")


# ---- demo API keys -----------------------------------------------------------------------------
# Compared by prefix, never by value: a failing assertion prints its operands.


def prefix(key: str | None) -> str | None:
    parsed = keys.parse_key(key) if key else None
    return parsed.prefix if parsed else None


def prefixes(document: dict[str, Any]) -> list[str | None]:
    return [prefix(w["api_key"]) for w in document["workspaces"]] + [
        prefix(document["service_key"])
    ]


def identity(conn: pg8000.native.Connection, key: str) -> list[Any] | None:
    """Who the key authenticates as (person, workspace, kind), as the authorizer sees it."""
    parsed = keys.parse_key(key)
    assert parsed is not None
    # The authorizer's own check: opened by a proof of the key for its transaction.
    rows = run_with_key_proof(
        conn,
        parsed.prefix,
        parsed.secret_hash,
        "SELECT person_id::text, workspace_id::text, kind FROM core_api.authenticate_key()",
    )
    return rows[0] if rows else None


def live_demo_keys(conn: pg8000.native.Connection) -> dict[str, int]:
    rows = conn.run(
        f"SELECT name, count(*) FROM {SCHEMA}.api_keys WHERE name LIKE 'demo:%' "
        "AND revoked_at IS NULL AND deleted_at IS NULL GROUP BY name"
    )
    return {str(name): int(count) for name, count in rows}


def seed_keys(
    conn: pg8000.native.Connection, previous: dict[str, Any] | None = None
) -> tuple[dict[str, Any], seed.IssuedKeys]:
    provider = seed.IssuedKeys(previous)
    return seed.seed(conn, provider).document("http://127.0.0.1:3000"), provider


def test_each_demo_user_gets_a_member_key_and_the_first_a_service_key(
    conn: pg8000.native.Connection,
) -> None:
    document, _ = seed_keys(conn)
    for workspace in document["workspaces"]:
        assert identity(conn, workspace["api_key"]) == [
            workspace["person_id"],
            workspace["workspace_id"],
            "member",
        ]
    ada = document["workspaces"][0]
    assert identity(conn, document["service_key"]) == [
        ada["person_id"],
        ada["workspace_id"],
        "service",
    ]
    assert live_demo_keys(conn) == {"demo:acme": 1, "demo:globex": 1, "demo:service": 1}


def test_seeding_again_with_the_previous_demo_json_keeps_the_same_keys(
    conn: pg8000.native.Connection,
) -> None:
    first, _ = seed_keys(conn)
    second, provider = seed_keys(conn, first)
    assert prefixes(second) == prefixes(first)
    assert second == first
    assert provider.reused == ["demo:acme", "demo:globex", "demo:service"]
    assert provider.issued == []
    assert live_demo_keys(conn) == {"demo:acme": 1, "demo:globex": 1, "demo:service": 1}


def test_a_revoked_demo_key_is_replaced_and_the_others_kept(
    conn: pg8000.native.Connection,
) -> None:
    first, _ = seed_keys(conn)
    acme = first["workspaces"][0]
    assert f.revoke_key(conn, str(prefix(acme["api_key"])))
    second, provider = seed_keys(conn, first)
    assert provider.issued == ["demo:acme"]
    assert provider.reused == ["demo:globex", "demo:service"]
    assert prefixes(second)[0] != prefixes(first)[0]
    assert prefixes(second)[1:] == prefixes(first)[1:]
    assert identity(conn, second["workspaces"][0]["api_key"]) == [
        acme["person_id"],
        acme["workspace_id"],
        "member",
    ]
    assert identity(conn, acme["api_key"]) is None  # still revoked
    assert live_demo_keys(conn)["demo:acme"] == 1


def test_without_the_previous_keys_new_ones_are_issued_and_the_lost_ones_revoked(
    conn: pg8000.native.Connection,
) -> None:
    first, _ = seed_keys(conn)
    second, provider = seed_keys(conn, None)  # .local/demo.json was deleted
    assert provider.issued == ["demo:acme", "demo:globex", "demo:service"]
    assert not set(prefixes(first)) & set(prefixes(second))
    assert identity(conn, first["service_key"]) is None
    assert all(identity(conn, w["api_key"]) is None for w in first["workspaces"])
    assert live_demo_keys(conn) == {"demo:acme": 1, "demo:globex": 1, "demo:service": 1}


def test_a_key_that_is_not_this_demo_users_own_is_not_reused(
    conn: pg8000.native.Connection,
) -> None:
    first, _ = seed_keys(conn)
    tampered = json.loads(json.dumps(first))
    acme, globex = tampered["workspaces"]
    acme["api_key"] = globex["api_key"]  # a working key, but Globex's
    globex["api_key"] = "not-a-key"
    tampered["service_key"] = None
    second, provider = seed_keys(conn, tampered)
    assert provider.issued == ["demo:acme", "demo:globex", "demo:service"]
    assert len(set(prefixes(second)) | set(prefixes(first))) == 6


def test_demo_json_is_private_and_a_missing_or_broken_one_reads_as_none(
    conn: pg8000.native.Connection, tmp_path: Path
) -> None:
    path = tmp_path / ".local" / "demo.json"
    assert demo_file.read_demo(path) is None
    document, _ = seed_keys(conn)
    demo = seed.seed(conn, seed.IssuedKeys(document))
    demo_file.write_demo(path, demo.document("http://127.0.0.1:3000"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert prefixes(demo_file.read_demo(path) or {}) == prefixes(document)
    path.write_text("{broken")
    assert demo_file.read_demo(path) is None
    path.write_text("[]")
    assert demo_file.read_demo(path) is None
