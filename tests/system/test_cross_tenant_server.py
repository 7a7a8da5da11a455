"""The cross-tenant matrix again, over HTTP, against the local server ``make run`` starts.

The server is built the way ``wellapi run`` builds it (the project's ``template.yaml``, the
local gateway with the API-key authorizer, the functions connecting as ``well_api``) and runs
in this process on an ephemeral port. Callers are real API keys made with
``wellapi.http.keys.create_key``: every request goes through the authorizer, as in AWS. The cases
and their expected answers are those of ``tests/database/test_cross_tenant_matrix.py``.

The authorizer records each successful use of a key (``api_keys.last_used_at``, which moves
``updated_at``), so those two columns of ``api_keys`` are left out of the byte-for-byte
comparison here; everything else is compared.
"""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support import cross_tenant as ct
from tests.support import factories as f
from tests.support import tenancy as tn
from tests.support.api import assert_valid_document
from wellapi.operations.registry import ROUTES
from welldev import api_keys
from welldev.gateway import Gateway
from welldev.server import LocalServer
from welldev.serving import serving

AUTHENTICATION_COLUMNS = {"api_keys": ("last_used_at", "updated_at")}


@dataclass
class Running:
    server: LocalServer
    gateway: Gateway
    log: io.StringIO


@pytest.fixture(scope="module")
def running(api_database) -> Iterator[Running]:
    log = io.StringIO()
    with serving(api_database, processes=0, log=log) as served:
        yield Running(served.server, served.gateway, log)


@pytest.fixture
def world(admin) -> tn.World:
    return tn.world(admin)


@pytest.fixture
def client(running, world, admin) -> ct.HttpClient:
    def key(side: tn.Side, kind: str) -> str:
        t = side.tenant
        return api_keys.create_key(
            admin, person_id=t.person_id, workspace_id=t.workspace_id, kind=kind, name="matrix"
        )[1]

    revoked_id, revoked = api_keys.create_key(
        admin,
        person_id=world.b.tenant.person_id,
        workspace_id=world.b.tenant.workspace_id,
        kind="member",
        name="revoked",
    )
    assert f.revoke_key(admin, str(revoked_id))
    return ct.HttpClient(
        running.server.url,
        {
            ct.MEMBER_B: key(world.b, "member"),
            ct.REVOKED_B: revoked,
            ct.MEMBER_A: key(world.a, "member"),
            ct.SERVICE_A: key(world.a, "service"),
        },
    )


def test_the_local_server_serves_every_route_behind_the_key_authorizer(running):
    served = {}
    for line in running.gateway.describe_routes():
        route_key, _, target = line.partition(" -> ")
        served[route_key] = target
    for method, path in ct.served_routes():
        assert f"{method} {path}" in served, f"{method} {path} is not served"
        assert served[f"{method} {path}"].endswith("[authorizer ApiKeyAuthorizer]")


@pytest.mark.parametrize("route", ROUTES, ids=ct.route_id)
def test_another_tenants_member_gets_nothing_of_a_over_http(route, running, world, client, admin):
    failures = ct.run_route(
        route, world, client, lambda: tn.snapshot(admin, ignore=AUTHENTICATION_COLUMNS)
    )
    assert failures == [], running.log.getvalue()[-3000:]


CHALLENGE = 'Bearer realm="wellapi"'
# What each Authorization header is answered with: (code, WWW-Authenticate).
MISSING = ("CREDENTIALS_MISSING", CHALLENGE)
MALFORMED = ("CREDENTIALS_MALFORMED", CHALLENGE + ', error="invalid_request"')
INVALID = ("CREDENTIALS_INVALID", CHALLENGE + ', error="invalid_token"')
UNKNOWN = "wk_aaaaaaaaaaaa_" + "A" * 43


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/account-workspace-connectors"),
        ("GET", "/v1/workspace-providers/00000000-0000-4000-8000-000000000000"),
        ("POST", "/v1/workspace-group-workspaces"),
        ("DELETE", "/v1/company-workspace-connectors/00000000-0000-4000-8000-000000000000"),
        ("GET", "/v1/no-such-route"),
    ],
)
def test_each_failed_authentication_gets_its_json_api_401_over_http(
    method, path, client, world, admin
):
    revoked = client.keys[ct.REVOKED_B]
    member = client.keys[ct.MEMBER_B]
    deleted_id, deleted = api_keys.create_key(
        admin,
        person_id=world.b.tenant.person_id,
        workspace_id=world.b.tenant.workspace_id,
        kind="member",
        name="deleted",
    )
    admin.run(
        "UPDATE core_api.api_keys SET deleted_at = now() WHERE api_key_id = :i", i=str(deleted_id)
    )
    headers_by_case = {
        "missing": ({}, MISSING),
        "empty": ({"Authorization": ""}, MISSING),
        "another scheme": ({"Authorization": "Basic dXNlcjpwYXNz"}, MISSING),
        "malformed": ({"Authorization": "Bearer wk_nope_xxx"}, MALFORMED),
        "not a key": ({"Authorization": "Bearer hello"}, MALFORMED),
        "unknown": ({"Authorization": f"Bearer {UNKNOWN}"}, INVALID),
        "unknown, as Token": ({"Authorization": f'Token token="{UNKNOWN}"'}, INVALID),
        "revoked": ({"Authorization": f"Bearer {revoked}"}, INVALID),
        "deleted": ({"Authorization": f"Bearer {deleted}"}, INVALID),
        "wrong secret": ({"Authorization": f"Bearer {member[:16]}{'B' * 43}"}, INVALID),
    }
    answers = {}
    for case, (headers, (code, challenge)) in headers_by_case.items():
        status, got, body = _sent(client, method, path, headers)
        assert (case, status) == (case, 401), body
        assert (case, got["www-authenticate"]) == (case, challenge)
        assert got["content-type"].startswith("application/vnd.api+json")
        assert_valid_document(body)
        (error,) = body["errors"]
        assert (case, error["code"]) == (case, code)
        # The only difference between two answers: the request's id (meta.trace_id and its
        # header), and the Date.
        assert error["meta"].pop("trace_id") == got.pop("apigw-requestid")
        got.pop("date", None)
        answers[case] = (got, body)
    assert answers["empty"] == answers["missing"]
    assert answers["not a key"] == answers["malformed"]
    for case in ("unknown, as Token", "revoked", "deleted", "wrong secret"):
        assert answers[case] == answers["unknown"], case


def _sent(client, method, path, headers):
    """(status, lower-cased headers, JSON body) of one request to the running server."""
    connection = http.client.HTTPConnection("127.0.0.1", client.base.port, timeout=30)
    try:
        connection.request(method, path, body=b"{}", headers=headers)
        response = connection.getresponse()
        got = {name.lower(): value for name, value in response.getheaders()}
        return response.status, got, json.loads(response.read())
    finally:
        connection.close()


def test_a_key_sent_as_rails_token_is_the_same_key_as_bearer_over_http(client):
    # spraypaint's default header: `Token token="<key>"`.
    key = client.keys[ct.MEMBER_B]
    path = "/v1/workspace-providers?page[size]=2"
    bearer = _sent(client, "GET", path, {"Authorization": f"Bearer {key}"})
    token = _sent(client, "GET", path, {"Authorization": f'Token token="{key}"'})
    assert bearer[0] == token[0] == 200
    assert [r["id"] for r in token[2]["data"]] == [r["id"] for r in bearer[2]["data"]]
