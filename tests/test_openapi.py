"""The committed OpenAPI document: generated from the descriptions, and true to the API."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from tests.conftest import ROOT
from tests.support import factories as f
from tests.support.api import get
from wellapi import openapi
from wellapi.operations import OPERATIONS


def test_committed_document_matches_the_resource_descriptions():
    committed = (ROOT / "openapi.json").read_text()
    assert committed == openapi.render(), "openapi.json is stale: run `make openapi`"


def test_document_is_openapi_3_1_with_jsonapi_media_types():
    document = openapi.build_document()
    assert document["openapi"] == "3.1.0"
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            body = spec.get("requestBody")
            if body:
                assert list(body["content"]) == ["application/vnd.api+json"], (path, method)
            for status, response in spec["responses"].items():
                content = dict(response.get("content", {}))
                # API Gateway's own answers (no Authorization header, no route, a body over
                # 10 MB, throttling) are {"message": ...} as application/json, never ours.
                gateway = content.pop("application/json", None)
                if gateway is not None:
                    assert int(status) in openapi.GATEWAY_STATUSES, (path, method, status)
                    assert gateway["schema"] == {"$ref": "#/components/schemas/GatewayMessage"}
                assert list(content) in (["application/vnd.api+json"], []), (path, status)


def test_every_route_has_one_operation():
    document = openapi.build_document()
    declared = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert len(declared) == len(openapi.ROUTES) == 30
    for _resource, operation in openapi.ROUTES:
        assert OPERATIONS[operation].method in {m for m, _ in declared}


def _validator(name: str):
    document = openapi.build_document()
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


@pytest.mark.parametrize(
    "resource",
    ["account_workspace_connectors", "workspace_group_workspaces", "workspace_providers"],
)
def test_responses_conform_to_the_document(resource, api_database, admin):
    a = f.tenant(admin)
    if resource == "account_workspace_connectors":
        pk, _ = a.account()
        row = f.provenance(admin, resource, pk, a.workspace_connector_pk)
    elif resource == "workspace_group_workspaces":
        g, _ = f.group(admin)
        row = f.enrol(admin, g, a.workspace_pk, a.person_pk)
    else:
        p, _ = f.provider(admin)
        row = f.workspace_provider(admin, a.workspace_pk, p)
    includes = ",".join(r.name for r in openapi.RESOURCES[resource].relationships)
    listed = get(resource, a.claims(), query=f"include={includes}")
    name = openapi._pascal(resource)
    errors = list(_validator(f"{name}Collection").iter_errors(listed.json))
    assert not errors, [e.message for e in errors[:3]]
    one = get(resource, a.claims(), row_id=str(row), query=f"include={includes}")
    errors = list(_validator(f"{name}Document").iter_errors(one.json))
    assert not errors, [e.message for e in errors[:3]]
    bad = get(resource, a.claims(), query="bogus=1")
    assert not list(_validator("ErrorDocument").iter_errors(bad.json))
    assert json.loads(bad.body)["errors"][0]["source"] == {"parameter": "bogus"}
