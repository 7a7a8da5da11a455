"""The function serves the route API Gateway chose for it, whatever its path segments hold.

API Gateway's ``{name}`` takes any character but ``/``; Powertools' path patterns refuse some
(``"``, ``\\``, ``?``, NUL, most non-word unicode). A request API Gateway routed to a function is
that function's to answer: a precise 400 for a bad id, never "No such route".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import factories as f
from tests.support.api import Lambda, call, event
from wellapi.handlers import api as http_handler

pytestmark = pytest.mark.usefixtures("api_database")
ITEM = "/v1/workspace-providers/{id}"


@pytest.mark.parametrize("segment", ['"', "\\", "\x00", "?", "#", "\u202e", "🙂", "a b"])
def test_a_segment_powertools_would_not_match_is_still_this_routes_400(admin, segment):
    t = f.tenant(admin)
    ev = event(
        "GET",
        f"/v1/workspace-providers/{segment}",
        claims=t.claims(),
        path_parameters={"id": segment},
        route=ITEM,
    )

    reply = call("workspace_providers", "retrieve", ev)

    assert reply.status == 400, reply.body
    (error,) = reply.errors
    assert error["code"] == "INVALID_ID"
    assert error["meta"]["path_parameter"] == "id"


def test_a_request_for_another_route_is_404_no_such_route(admin):
    t = f.tenant(admin)
    ev = event("GET", "/v1/elsewhere/x", claims=t.claims(), route="/v1/elsewhere/{id}")

    reply = call("workspace_providers", "retrieve", ev)

    assert reply.status == 404
    assert reply.errors[0]["detail"] == "No such route."


def test_an_unexpected_failure_on_such_a_segment_is_a_jsonapi_500(admin, monkeypatch):
    t = f.tenant(admin)

    def broken(_event: Any) -> Any:
        raise RuntimeError("the request could not be read")

    monkeypatch.setattr(http_handler, "request_from_event", broken)
    ev = event(
        "GET",
        '/v1/workspace-providers/"',
        claims=t.claims(),
        path_parameters={"id": '"'},
        route=ITEM,
    )

    reply = call("workspace_providers", "retrieve", ev)

    assert reply.status == 500
    assert reply.error_codes() == ["INTERNAL_ERROR"]
    assert "could not be read" not in reply.body


def test_requests_one_environment_serves_in_turn_each_run_with_their_own_event(admin):
    # An execution environment serves one request at a time, but one after another through the
    # same handlers (Lambda reuses a warm environment; the local runtime too). Two functions
    # of one environment, two tenants, interleaved: each request runs with its own event, its
    # claims, its path, its id, and nothing of the one before it.
    from tests.support import read_factories as rf
    from wellapi.handlers.api import api_handler
    from wellapi.operations.read import LIST, RETRIEVE

    a, b = f.tenant(admin), f.tenant(admin)
    row = rf.make_row(admin, a, "workspace_providers")
    retrieve = api_handler("workspace_providers", RETRIEVE)
    listing = api_handler("account_workspace_connectors", LIST)
    ev = event(
        "GET",
        f"/v1/workspace-providers/{row.id}",
        claims=a.claims(),
        path_parameters={"id": str(row.id)},
        route=ITEM,
    )
    first = retrieve(ev, Lambda())
    other = listing(event("GET", "/v1/account-workspace-connectors", claims=b.claims()), Lambda())
    result = retrieve(ev, Lambda())
    # Tenant b's claims, last used by this environment, do not reach tenant a's row.
    stranger = retrieve(
        {**ev, "requestContext": event("GET", "/", claims=b.claims())["requestContext"]}, Lambda()
    )

    assert other["statusCode"] == 200
    assert json.loads(other["body"])["data"] == []
    for reply in (first, result):
        assert reply["statusCode"] == 200, reply["body"]
        assert json.loads(reply["body"])["data"]["id"] == str(row.id)
    assert stranger["statusCode"] == 404, stranger["body"]
