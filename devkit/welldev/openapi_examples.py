"""The OpenAPI document's examples: requests that work on the demo ``make run`` seeds.

Every id is the demo's (``welldev.seed.seed_id``: the same in every seeded database), so
an example pasted into Swagger UI reaches real rows: Acme Finance's, as its demo user Ada, who
owns the demo workspace group. A test posts the Create and Update examples to the handlers on
a freshly seeded database and gets 2xx.
"""

from __future__ import annotations

from typing import Any

from wellapi.resources import Resource
from wellapi.resources.ledgers import record_relationship
from welldev.openapi_text import words
from welldev.seed import generated_links, seed_id

# The demo rows the examples name: the seed's (table, key).
ACME = str(seed_id("workspaces", "acme"))
GLOBEX = str(seed_id("workspaces", "globex"))
GROUP = str(seed_id("workspace_groups", "consolidation"))
CONNECTOR = str(seed_id("workspace_connectors", "acme/plaid_eu"))
# A provider Acme has no row for: creating or selecting it succeeds on the fresh demo.
NEW_PROVIDER = str(seed_id("providers", "notion"))
REMOVED_PROVIDER = str(seed_id("providers", "qonto"))
# A record of Acme each ledger may link, by the record's type: its seed key.
_RECORDS = {"account": "acme/operating", "company": "acme/initech", "people": "acme/charles"}
# A live row of each resource in Acme (the seed's ledger rows are keyed by their parts).
_ROWS = {
    "account_workspace_connectors": "acme/operating/acme/plaid_eu/input/72",
    "company_workspace_connectors": "acme/initech/acme/apideck/input/50",
    "people_workspace_connectors": "acme/charles/acme/apideck/input/40",
    "workspace_group_workspaces": "consolidation/globex",
    "workspace_providers": "acme/xero",
}
# The relationship the related-resource and relationship examples follow from that row: one
# whose record Acme's member key may see (Ada owns the demo group), so `data` is a record; of
# a ledger, its record.
_RELATIONSHIPS = {
    "workspace_group_workspaces": "workspace_group",
    "workspace_providers": "provider",
}


def row_id(resource: Resource, n: int = 0) -> str:
    """A live row of ``resource`` on the demo (Acme's, or Globex's enrolment in the group); of
    a ledger the seed generated rows for, its ``n``-th."""
    if resource.key in _ROWS and n == 0:
        return str(seed_id(resource.table.name, _ROWS[resource.key]))
    key, connector, direction, hours, _ = generated_links(record_relationship(resource).parent)[n]
    return str(seed_id(resource.table.name, f"{key}/{connector}/{direction}/{hours}"))


def _record(resource: Resource) -> str:
    """A record of Acme the ledger ``resource`` may link (a generated one, if nobody named it)."""
    parent = record_relationship(resource).parent
    key = _RECORDS.get(parent.type) or generated_links(parent)[0][0]
    return str(seed_id(parent.table.name, key))


def _linkage(type_name: str, id_: str) -> dict[str, Any]:
    return {"data": {"type": type_name, "id": id_}}


def path_parameters(resource: Resource, operation: str) -> dict[str, str]:
    """An example value for each path parameter of ``operation`` on ``resource``."""
    if operation in ("catalog", "select", "remove"):
        values = {"workspace_id": ACME, "provider_id": REMOVED_PROVIDER}
    elif operation in ("enrol", "unenrol"):
        values = {"workspace_group_id": GROUP, "workspace_id": GLOBEX}
    else:
        values = {"id": row_id(resource)}
    if operation in ("related", "relationship"):
        values["relationship"] = _RELATIONSHIPS.get(resource.key) or resource.scope_relationships[0]
    return values


def request_example(resource: Resource, operation: str) -> tuple[str, dict[str, Any]]:
    """The summary (``openapi_text.yaml``, under ``examples``) and the body of ``operation``'s
    request example."""
    data: dict[str, Any] = {"type": resource.type}
    provider, globex = _linkage("provider", NEW_PROVIDER), _linkage("workspace", GLOBEX)
    update = operation == "update"
    key = operation if operation in ("select", "enrol") else f"{resource.scope}/{operation}"
    record = resource.scope_relationships[0]
    if update:
        data["id"] = row_id(resource)
    if operation == "select":
        data["relationships"] = {"provider": provider}
    elif operation == "enrol":
        data["relationships"] = {"workspace": globex}
    elif resource.scope == "provenance":
        data["attributes"] = {"direction": "input" if update else "output"}
        if not update:
            data["relationships"] = {
                record: _linkage(record, _record(resource)),
                "workspace_connector": _linkage("workspace_connector", CONNECTOR),
            }
    elif resource.scope == "group_enrolment" and not update:
        group = _linkage("workspace_group", GROUP)
        data["relationships"] = {"workspace_group": group, "workspace": globex}
    elif resource.scope == "workspace":
        data["attributes"] = {"is_selected": True}
        if not update:
            data["relationships"] = {"workspace": _linkage("workspace", ACME), "provider": provider}
    return words("examples", key, record=record), {"data": data}
