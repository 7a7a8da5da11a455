"""What the generic clients' system tests share: the plan each client runs, and running it.

A plan is one tenant of a client's own, its service and member keys, and for each of three
resources (a ledger, written with the service key; the providers and the enrolments, with the
member key) the rows a scenario lists, pages through, fetches, updates and deletes, and what
it creates. Every client, from npm or PyPI, runs the same plan in its default configuration
and reports one entry per resource and operation: ``{"ok": true, "value": ...}`` or
``{"ok": false, "status": ..., "codes": [...]}``. ``tests/system/test_generic_clients.py``
asserts the entries, the same way for every client.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from tests.support import factories as f
from welldev import api_keys

CLIENTS = Path(__file__).resolve().parents[1] / "system" / "clients"
# Rows listed per resource: three pages of PAGE_SIZE, the last one short.
LISTED = 7
PAGE_SIZE = 3
# What the line of a scenario's results starts with (common.mjs): a client may log to stdout.
RESULTS = "WELLAPI_RESULTS "
OPERATIONS = ("list", "pages", "fetch", "create", "update", "delete")


@dataclass(frozen=True)
class Plan:
    """What a scenario is given (``document``) and what the test expects of it."""

    document: dict[str, Any]
    # Per resource name: every live row's id a List of the tenant shows before the writes.
    listed: dict[str, list[str]]
    # Per resource name: the type every read emits and the type of its include.
    types: dict[str, tuple[str, str]]


def _key(admin: pg8000.native.Connection, t: f.Tenant, kind: str) -> str:
    return api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind=kind, name=kind
    )[1]


def _resource(
    name: str, path: str, type_name: str, key: str, include: str, rows: list[str]
) -> dict[str, Any]:
    # rows: the listed rows; the first is fetched, the second updated, the last deleted.
    return {
        "name": name,
        "path": path,
        "type": type_name,
        "key": key,
        "include": include,
        "page_size": PAGE_SIZE,
        "fetch_id": rows[0],
        "update_id": rows[1],
        "delete_id": rows[-1],
    }


def _linkage(type_name: str, row_id: Any) -> dict[str, str]:
    return {"type": type_name, "id": str(row_id)}


def _ledger(
    admin: pg8000.native.Connection, t: f.Tenant, key: str
) -> tuple[dict[str, Any], list[str]]:
    table = "account_workspace_connectors"
    rows = [
        str(f.provenance(admin, table, t.account()[0], t.workspace_connector_pk))
        for _ in range(LISTED)
    ]
    resource = _resource(
        "ledger",
        "account-workspace-connectors",
        "account_workspace_connector",
        key,
        "account",
        rows,
    )
    resource["create"] = {
        "attributes": {"direction": "input"},
        "relationships": {
            "account": _linkage("account", t.account()[1]),
            "workspace_connector": _linkage("workspace_connector", t.workspace_connector_id),
        },
    }
    # A ledger row's only attribute is create-only: its current value is what a PATCH may send.
    resource["update"] = {"attributes": {"direction": "input"}}
    return resource, rows


def _providers(
    admin: pg8000.native.Connection, t: f.Tenant, key: str
) -> tuple[dict[str, Any], list[str]]:
    rows = [
        str(f.workspace_provider(admin, t.workspace_pk, f.provider(admin)[0], selected=True))
        for _ in range(LISTED)
    ]
    resource = _resource(
        "providers", "workspace-providers", "workspace_provider", key, "provider", rows
    )
    resource["create"] = {
        "attributes": {"is_selected": True},
        "relationships": {
            "workspace": _linkage("workspace", t.workspace_id),
            "provider": _linkage("provider", f.provider(admin)[1]),
        },
    }
    resource["update"] = {"attributes": {"is_selected": False}}
    return resource, rows


def _owned_group(admin: pg8000.native.Connection, t: f.Tenant) -> tuple[int, Any]:
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    return group_pk, group_id


def _enrolments(
    admin: pg8000.native.Connection, t: f.Tenant, key: str
) -> tuple[dict[str, Any], list[str]]:
    rows = [
        str(f.enrol(admin, _owned_group(admin, t)[0], t.workspace_pk, t.person_pk))
        for _ in range(LISTED)
    ]
    resource = _resource(
        "enrolments",
        "workspace-group-workspaces",
        "workspace_group_workspace",
        key,
        "workspace_group",
        rows,
    )
    resource["create"] = {
        "attributes": {},
        "relationships": {
            "workspace_group": _linkage("workspace_group", _owned_group(admin, t)[1]),
            "workspace": _linkage("workspace", t.workspace_id),
        },
    }
    # An enrolment has nothing to change: its PATCH is 403 FORBIDDEN for every key.
    resource["update"] = {"attributes": {}}
    return resource, rows


def make_plan(admin: pg8000.native.Connection, base_url: str) -> Plan:
    """A tenant of its own and every row one client's scenario reads and writes."""
    t = f.tenant(admin)
    service, member = _key(admin, t, "service"), _key(admin, t, "member")
    made = [_ledger(admin, t, service), _providers(admin, t, member), _enrolments(admin, t, member)]
    return Plan(
        {"base": base_url, "resources": [resource for resource, _ in made]},
        {resource["name"]: rows for resource, rows in made},
        {resource["name"]: (resource["type"], resource["include"]) for resource, _ in made},
    )


# --- npm ----------------------------------------------------------------------------------


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not on PATH: the npm clients' tests run them through Node. Install "
            "Node.js 18 or later with npm (e.g. apt-get install nodejs npm) and run the tests "
            "again.",
            pytrace=False,
        )
    return found


def npm_installed(directory: Path) -> str:
    """Node, with ``directory``'s lock file installed (``npm ci``, once per lock file)."""
    node, npm = tool("node"), tool("npm")
    wanted = hashlib.sha256((directory / "package-lock.json").read_bytes()).hexdigest()
    # Written into node_modules after `npm ci` succeeds: the lock file it installed.
    installed = directory / "node_modules" / ".installed-lock-sha256"
    if not installed.exists() or installed.read_text().strip() != wanted:
        ran = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if ran.returncode != 0:
            pytest.fail(
                f"npm ci in {directory} failed ({ran.returncode}):\n{ran.stderr}", pytrace=False
            )
        installed.write_text(wanted + "\n")
    return node


def run_node(
    node: str, directory: Path, script: str, environment: dict[str, str]
) -> dict[str, Any]:
    """What ``script`` printed: one entry per step."""
    ran = subprocess.run(
        [node, script],
        cwd=directory,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    lines = [line for line in ran.stdout.splitlines() if line.startswith(RESULTS)]
    assert len(lines) == 1, f"{script} printed no results:\n{ran.stdout}\n{ran.stderr}"
    found: dict[str, Any] = json.loads(lines[0].removeprefix(RESULTS))
    return found


# --- PyPI ---------------------------------------------------------------------------------


class ClientFailure(Exception):
    """What a Python scenario raises for an answer its client refused: the status, the codes."""

    def __init__(self, status: int | None, codes: list[str], message: str) -> None:
        super().__init__(message)
        self.status, self.codes = status, codes


def run_python(client: Any, document: dict[str, Any]) -> dict[str, Any]:
    """Each operation ``client`` has a method for, on each resource, as common.mjs runs them."""
    results: dict[str, Any] = {}
    for resource in document["resources"]:
        for operation in OPERATIONS:
            method = getattr(client, operation, None)
            if method is None:
                continue
            name = f"{resource['name']}:{operation}"
            try:
                results[name] = {"ok": True, "value": method(resource)}
            except ClientFailure as failure:
                results[name] = {
                    "ok": False,
                    "status": failure.status,
                    "codes": failure.codes,
                    "message": str(failure),
                }
    return results
