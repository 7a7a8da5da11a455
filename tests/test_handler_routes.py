"""The function serves the route API Gateway chose for it, whatever its path segments hold.

API Gateway's ``{name}`` takes any character but ``/``; Powertools' path patterns refuse some
(``"``, ``\\``, ``?``, NUL, most non-word unicode). A request API Gateway routed to a function is
that function's to answer: a precise 400 for a bad id, never "No such route".
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import factories as f
from tests.support.api import call, event
from wellapi.http import handler as http_handler

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
