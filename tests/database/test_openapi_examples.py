"""The OpenAPI document's request examples work: sent to the real handlers on a freshly seeded
demo database (what ``make run`` serves), with the demo key the operation's description names,
each gets the answer its example says.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import JSONAPI, Reply, event, invoke
from wellapi.handlers.api import api_handler
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import RESOURCES
from wellapi.roles import API_ROLE
from welldev import database as local_db
from welldev import demo_reset, openapi, seed
from welldev.claims import claims
from welldev.function_roles import functions_connected_as

DOCUMENT = openapi.build_document()


@pytest.fixture(scope="module")
def demo_database(
    server: local_db.LocalDatabase,
) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A migrated and seeded database of its own (its admin URL), and the claims of the demo's
    two keys."""
    name = f"wellapi_examples_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    admin = local_db.admin_connection(db.admin_url)
    try:
        seed.seed(admin)
        ada = seed.demo_members()[0]
        keys = {
            kind: claims(admin, ada.person_id, ada.workspace_id, kind)
            for kind in ("member", "service")
        }
    finally:
        admin.close()
    with functions_connected_as(db, API_ROLE):
        yield db.admin_url, keys
    local_db.drop_database(server, name)


@pytest.fixture
def demo(demo_database: tuple[str, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    """The demo as ``make run`` seeds it (``make demo-reset``), whatever a test before did."""
    admin_url, keys = demo_database
    admin = local_db.admin_connection(admin_url)
    try:
        demo_reset.reset(admin)
    finally:
        admin.close()
    return keys


def send(keys: dict[str, dict[str, str]], resource: str, operation: str) -> Reply:
    """The operation's documented request, its examples filled in, with the key it names."""
    op = OPERATIONS[operation]
    path = op.path(RESOURCES[resource])
    spec = DOCUMENT["paths"][path][op.method.lower()]
    parameters = {p["name"]: p["example"] for p in spec["parameters"] if p["in"] == "path"}
    body: Any = None
    if "requestBody" in spec:
        (example,) = spec["requestBody"]["content"][JSONAPI]["examples"].values()
        body = json.dumps(example["value"])
    kind = "service" if "`service_key`" in spec["description"] else "member"
    # As Swagger UI sends it: every header parameter that has an example, with that example.
    headers = {
        p["name"]: p["example"]
        for p in spec["parameters"]
        if p["in"] == "header" and "example" in p
    }
    if body is not None:
        headers["content-type"] = JSONAPI
    return invoke(
        api_handler(resource, OPERATIONS[operation]),
        event(
            op.method,
            path.format(**parameters),
            claims=keys[kind],
            path_parameters=parameters or None,
            body=body,
            headers=headers or None,
            route=path,
        ),
    )


def test_the_read_examples_reach_demo_rows(demo):
    for resource in RESOURCES:
        assert send(demo, resource, "retrieve").status == 200, resource
        # The relationship the examples follow leads to a record the demo key may see.
        record = send(demo, resource, "related")
        assert record.status == 200, (resource, record.body)
        assert record.json["data"] is not None, resource
        linkage = send(demo, resource, "relationship")
        assert linkage.status == 200, (resource, linkage.body)
        assert linkage.json["data"] == {
            "type": record.json["data"]["type"],
            "id": record.json["data"]["id"],
        }
        assert linkage.json["links"]["related"] == record.json["links"]["self"]
    assert send(demo, "workspace_providers", "catalog").status == 200


def test_the_create_and_update_examples_succeed_on_the_demo(demo):
    for ledger in ("account", "company", "people"):
        resource = f"{ledger}_workspace_connectors"
        assert send(demo, resource, "create").status == 201, resource
        updated = send(demo, resource, "update")
        assert updated.status == 200, updated.errors
        assert updated.json["data"]["attributes"]["direction"] == "input"
    created = send(demo, "workspace_providers", "create")
    assert created.status == 201, created.errors
    assert created.json["data"]["attributes"]["is_matched"] is True
    assert send(demo, "workspace_providers", "update").status == 200
    # Already selected by the create: the upsert answers 200.
    assert send(demo, "workspace_providers", "select").status == 200
    assert send(demo, "workspace_providers", "remove").status == 204
    assert send(demo, "account_workspace_connectors", "delete").status == 204


def test_the_enrolment_examples_do_what_they_say(demo):
    # Both demo workspaces are enrolled: the examples say 409 until Globex's is removed.
    refused = send(demo, "workspace_group_workspaces", "create")
    assert refused.error_codes() == ["WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS"]
    assert send(demo, "workspace_group_workspaces", "delete").status == 204
    assert send(demo, "workspace_group_workspaces", "create").status == 201
    assert send(demo, "workspace_group_workspaces", "unenrol").status == 204
    assert send(demo, "workspace_group_workspaces", "enrol").status == 201
    # Valid against the schema, and still refused: an enrolment is never modified.
    assert send(demo, "workspace_group_workspaces", "update").error_codes() == ["FORBIDDEN"]


def test_the_select_example_sent_twice_answers_201_then_200_as_its_summary_says(demo):
    """Swagger UI sends a parameter's example with every Execute: an example Idempotency-Key
    would make the second answer the first's, replayed (201), never the promised 200."""
    path = OPERATIONS["select"].path(RESOURCES["workspace_providers"])
    (example,) = DOCUMENT["paths"][path]["post"]["requestBody"]["content"][JSONAPI][
        "examples"
    ].values()
    assert "201 the first time, then 200" in example["summary"]

    first, second = (send(demo, "workspace_providers", "select") for _ in range(2))

    assert (first.status, second.status) == (201, 200)
    assert "Idempotent-Replayed" not in second.headers
