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
from welldev.seed import generated_links, seed_id

# The demo rows the examples name, by (resource key, purpose): the seed's (table, key).
_RECORDS = {
    "account": ("accounts", "acme/operating"),
    "company": ("companies", "acme/initech"),
    "people": ("peoples", "acme/charles"),
}
# A live row of each resource in Acme (the seed's ledger rows are keyed by their parts).
_ROWS = {
    "account_workspace_connectors": "acme/operating/acme/plaid_eu/input/72",
    "company_workspace_connectors": "acme/initech/acme/apideck/input/50",
    "people_workspace_connectors": "acme/charles/acme/apideck/input/40",
    "workspace_group_workspaces": "consolidation/globex",
    "workspace_providers": "acme/xero",
}
_CONNECTOR = ("workspace_connectors", "acme/plaid_eu")
# The relationship the related-resource and relationship examples follow from that row: one
# whose record Acme's member key may see (Ada owns the demo group), so `data` is a record; of
# a ledger, its record.
_RELATIONSHIPS = {
    "workspace_group_workspaces": "workspace_group",
    "workspace_providers": "provider",
}
# A provider Acme has no row for: creating or selecting it succeeds on the fresh demo.
_NEW_PROVIDER = ("providers", "notion")
_REMOVED_PROVIDER = ("providers", "qonto")


def _seed_id(table: str, key: str) -> str:
    return str(seed_id(table, key))


def acme() -> str:
    return _seed_id("workspaces", "acme")


def globex() -> str:
    return _seed_id("workspaces", "globex")


def group() -> str:
    return _seed_id("workspace_groups", "consolidation")


def row_id(resource: Resource, n: int = 0) -> str:
    """A live row of ``resource`` on the demo (Acme's, or Globex's enrolment in the group); of
    a ledger the seed generated rows for, its ``n``-th."""
    if resource.key in _ROWS and n == 0:
        return _seed_id(resource.table.name, _ROWS[resource.key])
    key, connector, direction, hours, _ = generated_links(record_relationship(resource).parent)[n]
    return _seed_id(resource.table.name, f"{key}/{connector}/{direction}/{hours}")


def _record(resource: Resource) -> str:
    """A record of Acme the ledger ``resource`` may link (a generated one, if nobody named it)."""
    parent = record_relationship(resource).parent
    if parent.type in _RECORDS:
        return _seed_id(*_RECORDS[parent.type])
    return _seed_id(parent.table.name, generated_links(parent)[0][0])


def _linkage(type_name: str, id_: str) -> dict[str, Any]:
    return {"data": {"type": type_name, "id": id_}}


def path_parameters(resource: Resource, operation: str) -> dict[str, str]:
    """An example value for each path parameter of ``operation`` on ``resource``."""
    if operation in ("catalog", "select", "remove"):
        values = {"workspace_id": acme(), "provider_id": _seed_id(*_REMOVED_PROVIDER)}
    elif operation in ("enrol", "unenrol"):
        values = {"workspace_group_id": group(), "workspace_id": globex()}
    else:
        values = {"id": row_id(resource)}
    if operation in ("related", "relationship"):
        values["relationship"] = _RELATIONSHIPS.get(resource.key) or resource.scope_relationships[0]
    return values


def request_example(resource: Resource, operation: str) -> tuple[str, dict[str, Any]]:
    """The description and the body of ``operation``'s request example."""
    if operation == "select":
        body = {"data": {"type": resource.type, "relationships": {"provider": _provider()}}}
        return "Select Notion for Acme Finance (201 the first time, then 200).", body
    if operation == "enrol":
        body = {"data": {"type": resource.type, "relationships": {"workspace": _workspace()}}}
        return _ENROL_NOTE, body
    if operation == "update":
        return _update_example(resource)
    return _create_example(resource)


_ENROL_NOTE = (
    "Enrol Globex Holdings in the demo group. Both demo workspaces are enrolled when `make "
    "run` seeds, so this is 409 until Globex's enrolment is removed (the DELETE examples)."
)


def _provider() -> dict[str, Any]:
    return _linkage("provider", _seed_id(*_NEW_PROVIDER))


def _workspace() -> dict[str, Any]:
    return _linkage("workspace", globex())


def _create_example(resource: Resource) -> tuple[str, dict[str, Any]]:
    if resource.scope == "provenance":
        record = resource.scope_relationships[0]
        body = {
            "data": {
                "type": resource.type,
                "attributes": {"direction": "output"},
                "relationships": {
                    record: _linkage(record, _record(resource)),
                    "workspace_connector": _linkage("workspace_connector", _seed_id(*_CONNECTOR)),
                },
            }
        }
        return f"Acme's {record} record was carried out by Acme's Plaid (EU) connector.", body
    if resource.scope == "group_enrolment":
        relationships = {
            "workspace_group": _linkage("workspace_group", group()),
            "workspace": _workspace(),
        }
        return _ENROL_NOTE, {"data": {"type": resource.type, "relationships": relationships}}
    relationships = {"workspace": _linkage("workspace", acme()), "provider": _provider()}
    body = {
        "data": {
            "type": resource.type,
            "attributes": {"is_selected": True},
            "relationships": relationships,
        }
    }
    return "Acme Finance selects Notion (201; 409 once Acme has a live row for it).", body


def _update_example(resource: Resource) -> tuple[str, dict[str, Any]]:
    data: dict[str, Any] = {"type": resource.type, "id": row_id(resource)}
    if resource.scope == "provenance":
        data["attributes"] = {"direction": "input"}
        return (
            "Sends the row's direction back at its current value: accepted, and only "
            "`updated_at` moves (another direction is 403 `IMMUTABLE_FIELD`).",
            {"data": data},
        )
    if resource.scope == "group_enrolment":
        return "Valid, and still 403 `FORBIDDEN`: an enrolment is never modified.", {"data": data}
    data["attributes"] = {"is_selected": True}
    return "Acme Finance selects Xero, which it had matched (is_matched stays true).", {
        "data": data
    }
