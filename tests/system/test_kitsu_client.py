"""kitsu, a maintained JSON:API client from npm, against the local server, through Node.

``tests/system/clients/kitsu/`` holds the client's pinned install (``package.json`` and
``package-lock.json``, every package with its integrity hash; ``npm ci`` installs it into the
git-ignored ``node_modules`` there) and ``scenario.mjs``, which performs every operation a
client may do here against the server this module starts (as ``make run`` builds it) and
prints each result as JSON. Node and npm are required: without them the tests fail, saying so.

kitsu builds a collection's path from a model name (``workspaceProviders`` becomes
``/workspace-providers``) and a written type from the same name, camel-cased and pluralised
(``workspaceProviders``). Everything works with its defaults: a write takes every spelling of
the resource's type a client derives from a name. With ``camelCaseTypes: false`` and the model
named in kebab case (``post('workspace-provider', ...)``) it sends the platform's canonical
type, ``workspace-providers``, which the scenario writes with too. A resource fetched with
``include`` is sent back with the included record's attributes inside the linkage, which the
server ignores (JSON:API 1.1's "MUST ignore"). docs/generic-client.md says all of this for a
client's developer.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import factories as f
from tests.support.generic_clients import npm_installed
from welldev import api_keys
from welldev.database import admin_connection
from welldev.serving import Served, serving

CLIENT = Path(__file__).resolve().parent / "clients" / "kitsu"
PAGE_ROWS = 23
CLIENTS = ("defaults", "kebab_types", "legacy_request")
ROW_PURPOSES = ("update", "round_trip", "round_trip_with_include", "delete")


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with kitsu installed from the lock file (``npm ci``, once per lock file)."""
    return npm_installed(CLIENT)


@pytest.fixture(scope="module")
def running(api_database) -> Iterator[Served]:
    with serving(api_database, processes=0, log=io.StringIO()) as served:
        yield served


@pytest.fixture(scope="module")
def made(api_database) -> dict[str, Any]:
    """A tenant of its own, its member key, and the rows and providers the scenario uses."""
    admin = admin_connection(api_database.admin_url)
    try:
        t = f.tenant(admin)
        key = api_keys.create_key(
            admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="kitsu"
        )[1]
        rows: dict[str, dict[str, str]] = {}
        listed: list[str] = []
        for client in CLIENTS:
            rows[client] = {}
            for purpose in ROW_PURPOSES:
                provider = f.provider(admin)
                row = f.workspace_provider(admin, t.workspace_pk, provider[0], selected=True)
                rows[client][purpose] = str(row)
                listed.append(str(row))
        for _ in range(PAGE_ROWS - len(listed)):
            provider = f.provider(admin)
            listed.append(str(f.workspace_provider(admin, t.workspace_pk, provider[0])))
        providers = {client: str(f.provider(admin)[1]) for client in CLIENTS}
    finally:
        admin.close()
    return {
        "key": key,
        "ids": {"workspace": str(t.workspace_id), "providers": providers, "rows": rows},
        "listed": listed,
    }


@pytest.fixture(scope="module")
def results(node: str, running: Served, made: dict[str, Any]) -> dict[str, Any]:
    """What ``scenario.mjs`` printed: one entry per operation."""
    environment = {
        **os.environ,
        "WELLAPI_BASE_URL": f"{running.server.url}/v1",
        "WELLAPI_KEY": made["key"],
        "WELLAPI_IDS": json.dumps(made["ids"]),
    }
    ran = subprocess.run(
        [node, "scenario.mjs"],
        cwd=CLIENT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    found: dict[str, Any] = json.loads(ran.stdout)
    return found


def value(results: dict[str, Any], name: str) -> Any:
    entry = results[name]
    assert entry["ok"], entry
    return entry["value"]


# --- Reads, with kitsu's defaults ------------------------------------------------------------


def test_kitsu_reads_a_list_and_a_resource(results, made):
    listed = value(results, "read")
    assert listed["status"] == 200
    assert sorted(row["id"] for row in listed["rows"]) == sorted(made["listed"])
    row = value(results, "retrieve")["row"]
    assert row["id"] == made["ids"]["rows"]["defaults"]["update"]
    assert row["type"] == "workspace_provider"
    assert row["is_selected"] is True
    assert row["self"].endswith(f"/v1/workspace-providers/{row['id']}")


def test_kitsu_reads_an_include_into_the_relationship(results):
    row = value(results, "include")
    assert row["provider"]["type"] == "provider"
    assert row["provider"]["name"].startswith("Provider ")


def test_kitsu_reads_sparse_fieldsets(results):
    found = value(results, "sparse_fieldsets")
    assert "is_selected" in found["keys"]
    assert "is_matched" not in found["keys"]
    assert set(found["provider"]) == {"id", "type", "name", "slug"}


def test_kitsu_pages_to_the_end_by_the_next_links(results, made):
    found = value(results, "page_to_the_end")
    assert found["pages"] == 5
    assert sorted(found["ids"]) == sorted(made["listed"])


def test_kitsu_follows_the_related_and_relationship_links(results):
    found = value(results, "related_and_relationship_links")
    assert found["related"]["type"] == "provider"
    assert found["relationship"] == {"id": found["related"]["id"], "type": "provider"}
    assert found["relationship_links"]["related"].endswith("/provider")


# --- Writes ----------------------------------------------------------------------------------


def test_kitsu_writes_with_its_defaults(results, made):
    # kitsu writes the camel-cased plural `workspaceProviders`: a spelling of the resource's
    # type, taken like the legacy and the canonical one (docs/generic-client.md), and answered
    # in the type every read emits.
    rows = made["ids"]["rows"]["defaults"]
    created = value(results, "defaults:create")
    assert (created["status"], created["row"]["type"]) == (201, "workspace_provider")
    assert created["row"]["provider"]["id"] == made["ids"]["providers"]["defaults"]
    updated = value(results, "defaults:update")
    assert (updated["status"], updated["row"]["is_selected"]) == (200, False)
    for sent_back in ("round_trip", "round_trip_with_include"):
        found = value(results, f"defaults:{sent_back}")
        assert (found["status"], found["row"]["id"]) == (200, rows[sent_back])


@pytest.mark.parametrize("client", CLIENTS)
def test_kitsu_deletes_with_its_defaults(results, client):
    # Its DELETE carries a body ({"data": {"type": "workspaceProviders", "id": ...}}): the
    # server reads no body on a DELETE.
    assert value(results, f"{client}:delete") == {"status": 204, "status_after": 404}


def test_kitsu_writes_with_the_legacy_type_through_request(results, made):
    # The legacy type is still taken: request() sends `workspace_provider`
    # to the collection's path (docs/generic-client.md), for a create, an update and a fetched
    # resource sent back as kitsu holds it (its links and relationships' links included).
    rows = made["ids"]["rows"]["legacy_request"]
    created = value(results, "legacy_request:create")
    assert created["status"] == 201
    assert created["row"]["provider"]["id"] == made["ids"]["providers"]["legacy_request"]
    updated = value(results, "legacy_request:update")
    assert (updated["status"], updated["row"]["is_selected"]) == (200, False)
    sent_back = value(results, "legacy_request:round_trip")
    assert (sent_back["status"], sent_back["row"]["id"]) == (200, rows["round_trip"])


def test_kitsu_sends_back_with_the_legacy_type_a_resource_fetched_with_an_include(results):
    # The included provider's attributes sit in the relationship's linkage: the server ignores
    # them (JSON:API 1.1's "MUST ignore non-compliant members").
    found = value(results, "legacy_request:round_trip_with_include")
    assert found["status"] == 200


def test_kitsu_creates_with_the_canonical_type(results, made):
    found = value(results, "kebab_types:create")
    assert found["status"] == 201
    assert found["row"]["type"] == "workspace_provider"
    assert found["row"]["provider"]["id"] == made["ids"]["providers"]["kebab_types"]


def test_kitsu_updates_with_the_canonical_type(results):
    found = value(results, "kebab_types:update")
    assert found["status"] == 200
    assert found["row"]["is_selected"] is False


def test_kitsu_sends_back_a_resource_it_fetched(results, made):
    found = value(results, "kebab_types:round_trip")
    assert found["status"] == 200
    assert found["row"]["id"] == made["ids"]["rows"]["kebab_types"]["round_trip"]


def test_kitsu_sends_back_a_resource_it_fetched_with_an_include(results, made):
    found = value(results, "kebab_types:round_trip_with_include")
    assert found["status"] == 200
    assert found["row"]["id"] == made["ids"]["rows"]["kebab_types"]["round_trip_with_include"]
