import json

from tests.support import factories as f
from tests.support.api import JSONAPI, call, event


def post(resource, claims, doc):
    path = "/v1/" + resource.replace("_", "-")
    return call(resource, "create", event("POST", path, claims=claims, body=json.dumps(doc), headers={"content-type": JSONAPI}))


def test_service_creates_provenance_and_member_is_forbidden(api_database, admin):
    a = f.tenant(admin)
    acc_pk, acc_id = a.account()
    doc = {"data": {"type": "account_workspace_connector", "attributes": {"direction": "input"},
           "relationships": {"account": {"data": {"type": "account", "id": str(acc_id)}},
                             "workspace_connector": {"data": {"type": "workspace_connector", "id": str(a.workspace_connector_id)}}}}}
    r = post("account_workspace_connectors", a.claims("service"), doc)
    assert r.status == 201, r.body
    assert r.headers["Location"] == r.json["data"]["links"]["self"]
    r = post("account_workspace_connectors", a.claims("member"), doc)
    assert r.status == 403, r.body
    b = f.tenant(admin)
    doc["data"]["relationships"]["workspace_connector"]["data"]["id"] = str(b.workspace_connector_id)
    r = post("account_workspace_connectors", a.claims("service"), doc)
    assert r.status == 422, r.body
    print(r.json)


def test_group_enrolment(api_database, admin):
    a = f.tenant(admin)
    g_pk, g_id = f.group(admin, created_by_pk=a.person_pk)
    f.group_member(admin, g_pk, a.person_pk, "owner")
    doc = {"data": {"type": "workspace_group_workspace", "relationships": {
        "workspace_group": {"data": {"type": "workspace_group", "id": str(g_id)}},
        "workspace": {"data": {"type": "workspace", "id": str(a.workspace_id)}}}}}
    r = post("workspace_group_workspaces", a.claims(), doc)
    assert r.status == 201, r.body
    assert r.json["data"]["relationships"]["created_by"]["data"]["id"] == str(a.person_id)
    r = post("workspace_group_workspaces", a.claims(), doc)
    assert r.status == 409, r.body
    assert r.error_codes() == ["WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS"]
    row_id = admin.run("select workspace_group_workspace_id from core_api.workspace_group_workspaces where workspace_group_pk=:g", g=g_pk)[0][0]
    path = f"/v1/workspace-group-workspaces/{row_id}"
    r = call("workspace_group_workspaces", "delete", event("DELETE", path, claims=a.claims(), path_parameters={"id": str(row_id)}))
    assert r.status == 204, r.body
    r = call("workspace_group_workspaces", "delete", event("DELETE", path, claims=a.claims(), path_parameters={"id": str(row_id)}))
    assert r.status == 404, r.body
    r = post("workspace_group_workspaces", a.claims(), doc)
    assert r.status == 201, r.body


def test_provider_patch(api_database, admin):
    a = f.tenant(admin)
    p_pk, p_id = f.provider(admin)
    wp = f.workspace_provider(admin, a.workspace_pk, p_pk, selected=True, matched=True)
    path = f"/v1/workspace-providers/{wp}"
    def patch(attrs):
        doc = {"data": {"type": "workspace_provider", "id": str(wp), "attributes": attrs}}
        return call("workspace_providers", "update", event("PATCH", path, claims=a.claims(), path_parameters={"id": str(wp)}, body=json.dumps(doc), headers={"content-type": JSONAPI}))
    r = patch({"is_matched": False})
    assert r.status == 422, r.body
    r = patch({"is_selected": True, "is_matched": False})
    assert r.status == 422, r.body
    r = patch({"is_selected": False})
    assert r.status == 200, r.body
    r = patch({"is_matched": False})
    assert r.status == 200, r.body
    assert r.json["data"]["attributes"]["is_matched"] is False
    r = patch({"created_at": "2020-01-01T00:00:00Z"})
    assert r.status == 403, r.body


def test_nested_provider_routes(api_database, admin):
    a = f.tenant(admin)
    p_pk, p_id = f.provider(admin)
    ws = str(a.workspace_id)
    base = f"/v1/workspaces/{ws}/providers"
    doc = {"data": {"type": "workspace_provider", "relationships": {"provider": {"data": {"type": "provider", "id": str(p_id)}}}}}
    ev = lambda: event("POST", base, claims=a.claims(), body=json.dumps(doc), headers={"content-type": JSONAPI}, path_parameters={"workspace_id": ws}, route="/v1/workspaces/{workspace_id}/providers")
    r = call("workspace_providers", "select", ev())
    assert r.status == 201, r.body
    assert r.json["data"]["attributes"]["is_selected"] is True
    r = call("workspace_providers", "select", ev())
    assert r.status == 200, r.body
    r = call("workspace_providers", "catalog", event("GET", base, claims=a.claims(), query="filter[is_selected]=true&include=workspace_provider", path_parameters={"workspace_id": ws}, route="/v1/workspaces/{workspace_id}/providers"))
    assert r.status == 200, r.body
    assert [d["id"] for d in r.json["data"]] == [str(p_id)]
    print(r.json)
    r = call("workspace_providers", "remove", event("DELETE", f"{base}/{p_id}", claims=a.claims(), path_parameters={"workspace_id": ws, "provider_id": str(p_id)}, route="/v1/workspaces/{workspace_id}/providers/{provider_id}"))
    assert r.status == 204, r.body
    r = call("workspace_providers", "remove", event("DELETE", f"{base}/{p_id}", claims=a.claims(), path_parameters={"workspace_id": ws, "provider_id": str(p_id)}, route="/v1/workspaces/{workspace_id}/providers/{provider_id}"))
    assert r.status == 404, r.body
    b = f.tenant(admin)
    r = call("workspace_providers", "catalog", event("GET", base, claims=b.claims(), path_parameters={"workspace_id": ws}, route="/v1/workspaces/{workspace_id}/providers"))
    assert r.status == 404, r.body
