"""Numbered pages (``page[number]``, ``page[size]``), as page-number clients send them: each is
the slice of the List's cursor order it names, its links are numbered (first, prev, next,
last), and past ``MAX_PAGE_DEPTH`` the next page is a cursor page."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.api import Reply
from tests.support.read_factories import ALL, at, ids, read

pytestmark = pytest.mark.usefixtures("api_database")

DEPTH_SETTINGS = ("wellapi.jsonapi.query.MAX_PAGE_DEPTH", "wellapi.operations.read.MAX_PAGE_DEPTH")


def links(reply: Reply) -> dict[str, str | None]:
    assert reply.status == 200, reply.body
    return reply.json["links"]


def parameters(link: str | None) -> dict[str, str]:
    assert link is not None
    return dict(parse_qsl(rf.follow(link), keep_blank_values=True))


def seed(admin, t: f.Tenant, resource: str, count: int) -> None:
    """``count`` rows, several sharing one created_at, so page edges fall inside ties."""
    for minute in range(count):
        rf.make_row(admin, t, resource, created_at=at(minute // 3))


def cursor_order(resource: str, t: f.Tenant, query: str) -> list[str]:
    """Every row of the List, in order, by following its cursor links."""
    seen: list[str] = []
    reply = read(resource, t.claims(), query=f"page[size]=500&{query}")
    while True:
        seen += ids(reply)
        link = links(reply)["next"]
        if link is None:
            return seen
        reply = read(resource, t.claims(), query=rf.follow(link))


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize("sort", ["-created_at", "created_at"])
def test_a_numbered_page_is_the_slice_of_the_cursor_order_it_names(admin, resource, sort):
    t = f.tenant(admin)
    seed(admin, t, resource, 11)
    order = cursor_order(resource, t, f"sort={sort}")
    assert len(order) == 11

    for number in range(1, 6):
        reply = read(resource, t.claims(), query=f"page[number]={number}&page[size]=3&sort={sort}")
        assert ids(reply) == order[(number - 1) * 3 : number * 3], number
        assert reply.json["meta"] == rf.list_meta(resource, total=11, count=len(ids(reply)))


def test_a_filtered_ledger_pages_by_number_within_the_filter(admin):
    t = f.tenant(admin)
    resource = "account_workspace_connectors"
    seed(admin, t, resource, 10)
    query = f"filter[direction]=input&filter[workspace_connector]={t.workspace_connector_id}"
    order = cursor_order(resource, t, query)

    pages = [
        ids(read(resource, t.claims(), query=f"{query}&page[size]=2&page[number]={n}"))
        for n in range(1, len(order) // 2 + 2)
    ]

    assert [row for page in pages for row in page] == order


def test_the_links_of_a_numbered_page_are_numbered_and_keep_the_other_parameters(admin):
    t = f.tenant(admin)
    resource = "people_workspace_connectors"
    seed(admin, t, resource, 7)
    query = "sort=created_at&include=workspace_connector&page[size]=3"

    first = links(read(resource, t.claims(), query=f"{query}&page[number]=1"))
    middle = links(read(resource, t.claims(), query=f"{query}&page[number]=2"))
    last = links(read(resource, t.claims(), query=f"{query}&page[number]=3"))

    assert first["prev"] is None
    assert parameters(first["next"])["page[number]"] == "2"
    assert parameters(middle["prev"])["page[number]"] == "1"
    assert parameters(middle["next"])["page[number]"] == "3"
    assert last["next"] is None
    for page in (first, middle, last):
        assert parameters(page["first"])["page[number]"] == "1"
        assert parameters(page["last"])["page[number]"] == "3"
    kept = parameters(middle["next"])
    assert kept.pop("page[number]") == "3"
    assert kept == dict(parse_qsl(query))


def test_a_page_past_the_last_is_empty_with_its_way_back(admin):
    t = f.tenant(admin)
    seed(admin, t, "workspace_providers", 4)

    reply = read("workspace_providers", t.claims(), query="page[number]=9&page[size]=2")

    assert ids(reply) == []
    assert parameters(links(reply)["prev"])["page[number]"] == "8"
    assert parameters(links(reply)["last"])["page[number]"] == "2"
    assert links(reply)["next"] is None
    assert reply.json["meta"] == {"total": 4, "count": 0}


def test_an_empty_list_has_one_page_its_first_and_last(admin):
    t = f.tenant(admin)

    reply = read("workspace_group_workspaces", t.claims(), query="page[number]=1")

    assert ids(reply) == []
    assert parameters(links(reply)["first"])["page[number]"] == "1"
    assert parameters(links(reply)["last"])["page[number]"] == "1"
    assert (links(reply)["prev"], links(reply)["next"]) == (None, None)


def test_a_list_over_the_total_bound_has_no_last_link(admin, monkeypatch):
    monkeypatch.setattr("wellapi.operations.read.TOTAL_BOUND", 5)
    t = f.tenant(admin)
    seed(admin, t, "company_workspace_connectors", 7)

    reply = read("company_workspace_connectors", t.claims(), query="page[number]=1&page[size]=2")

    assert links(reply)["last"] is None
    assert reply.json["meta"]["total_is_lower_bound"] is True
    assert parameters(links(reply)["next"])["page[number]"] == "2"


@pytest.mark.parametrize("resource", ALL)
def test_past_the_deepest_numbered_page_next_is_a_cursor_that_reads_on(
    admin, resource, monkeypatch
):
    for setting in DEPTH_SETTINGS:
        monkeypatch.setattr(setting, 7)
    t = f.tenant(admin)
    seed(admin, t, resource, 12)
    order = cursor_order(resource, t, "sort=created_at")

    pages, query = [], "sort=created_at&page[size]=3&page[number]=1"
    while True:
        reply = read(resource, t.claims(), query=query)
        pages.append(ids(reply))
        link = links(reply)["next"]
        if link is None:
            break
        query = rf.follow(link)
        # Pages 2 and 3 start within the depth of 7 rows; page 4 would start 9 rows deep.
        step = parameters(link)
        assert ("page[number]" in step) == (len(pages) < 3), (len(pages), step)
        assert ("page[after]" in step) == (len(pages) >= 3)

    assert [row for page in pages for row in page] == order
    # Page 3 is the deepest: its last link would be page 4, out of reach.
    deepest = read(resource, t.claims(), query="sort=created_at&page[size]=3&page[number]=3")
    assert links(deepest)["last"] is None
    too_deep = read(resource, t.claims(), query="sort=created_at&page[size]=3&page[number]=4")
    assert too_deep.status == 400
    error = too_deep.json["errors"][0]
    assert (error["code"], error["source"]) == (
        "PAGE_NUMBER_TOO_DEEP",
        {"parameter": "page[number]"},
    )
    assert error["meta"]["page"] == {"maxDepth": 7}


def test_page_number_with_a_cursor_is_refused_and_names_the_clash(admin):
    t = f.tenant(admin)
    seed(admin, t, "account_workspace_connectors", 3)
    first = read("account_workspace_connectors", t.claims(), query="page[size]=1")
    after = rf.cursor_of(links(first)["next"], "page[after]")

    reply = read(
        "account_workspace_connectors", t.claims(), query=f"page[after]={after}&page[number]=2"
    )

    assert reply.status == 400
    error = reply.json["errors"][0]
    assert (error["code"], error["source"]) == ("MIXED_PAGINATION", {"parameter": "page[number]"})
