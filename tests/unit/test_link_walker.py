"""The link walker (``tests.support.links``) finds every link and fails on one that breaks."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.support.api import Reply
from tests.support.links import LinkWalker, links_of, route_of

BASE = "https://api.test/v1/account-workspace-connectors"
ROW = "0b8b3f39-0c9f-4f7e-9c43-0d5f2a3c9a11"
DOCUMENT = {
    "data": [
        {
            "type": "account_workspace_connector",
            "id": ROW,
            "relationships": {
                "account": {
                    "data": None,
                    "links": {
                        "self": f"{BASE}/{ROW}/relationships/account",
                        "related": f"{BASE}/{ROW}/account",
                    },
                }
            },
            "links": {"self": f"{BASE}/{ROW}"},
        }
    ],
    "included": [
        {
            "type": "workspace_provider",
            "id": ROW,
            "links": {"self": f"https://api.test/v1/workspace-providers/{ROW}"},
        }
    ],
    "links": {"self": BASE, "next": f"{BASE}?page[after]=x", "prev": None},
}
JSONAPI_HEADERS = {"Content-Type": "application/vnd.api+json"}


def reply(status: int = 200, document: Any = DOCUMENT, headers: Any = None) -> Reply:
    return Reply(status, headers or JSONAPI_HEADERS, json.dumps(document))


def test_every_link_of_a_document_is_found_where_it_is():
    found = dict(links_of(DOCUMENT))
    assert found == {
        "/links/self": BASE,
        "/links/next": f"{BASE}?page[after]=x",
        "/data/0/links/self": f"{BASE}/{ROW}",
        "/data/0/relationships/account/links/self": f"{BASE}/{ROW}/relationships/account",
        "/data/0/relationships/account/links/related": f"{BASE}/{ROW}/account",
        "/included/0/links/self": f"https://api.test/v1/workspace-providers/{ROW}",
    }


def test_a_literal_segment_wins_over_a_variable_and_unknown_paths_resolve_to_nothing():
    route, parameters = route_of(f"/v1/account-workspace-connectors/{ROW}/relationships/account")
    assert route.operation == "relationship"
    assert parameters == {"id": ROW, "relationship": "account"}
    assert route_of(f"/v1/account-workspace-connectors/{ROW}/account")[0].operation == "related"
    assert route_of(f"/v1/workspaces/{ROW}/providers")[0].operation == "catalog"
    assert route_of(f"/v1/accounts/{ROW}") is None


def test_a_link_that_does_not_answer_200_fails_naming_it_and_its_origin():
    walker = LinkWalker()
    with pytest.raises(
        AssertionError,
        match=f"GET /v1/x /links/self: GET {BASE} answered 404",
    ):
        walker.walk("GET /v1/x", reply(), "me", lambda link: reply(404, {"errors": []}))


def test_a_link_to_a_route_this_api_does_not_serve_fails():
    walker = LinkWalker()
    document = {"data": None, "links": {"self": "https://api.test/v1/accounts/1"}}
    with pytest.raises(AssertionError, match="no route this API serves"):
        walker.walk("GET /v1/y", reply(document=document), "me", lambda link: reply())


def test_an_answer_that_is_not_json_api_fails():
    walker = LinkWalker()
    with pytest.raises(AssertionError):
        walker.walk("GET /v1/x", reply(), "me", lambda link: reply(headers={"Content-Type": "x"}))


def test_each_link_is_followed_once_per_caller_and_the_request_itself_is_not_asked_again():
    walker = LinkWalker()
    asked: list[str] = []

    def follow(link: str) -> Reply:
        asked.append(link)
        return reply()

    walker.walk(f"GET {BASE.removeprefix('https://api.test')}", reply(), "me", follow)
    assert len(asked) == 5
    walker.walk("GET /v1/other", reply(), "me", follow)
    assert len(asked) == 6  # only the collection's own self link is new
    walker.walk("GET /v1/other", reply(), "someone else", follow)
    assert len(asked) == 12


def test_errors_and_answers_on_other_threads_are_not_walked():
    walker = LinkWalker()

    def follow(link: str) -> Reply:
        raise AssertionError("followed")

    walker.walk("GET /v1/x", reply(404), "me", follow)
    thread = threading.Thread(target=walker.walk, args=("GET /v1/x", reply(), "me", follow))
    thread.start()
    thread.join()
    assert walker.followed == 0
    # The location of a created resource is followed like any link.
    created = reply(201, {"data": None}, {**JSONAPI_HEADERS, "Location": f"{BASE}/{ROW}"})
    walker.walk("POST /v1/x", created, "me", lambda link: reply())
    assert walker.followed == 1
