"""Cursor pagination as the JSON:API cursor pagination profile describes it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl
from uuid import uuid4

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.api import Reply
from tests.support.read_factories import ALL, PROVENANCE, at, ids, read
from wellapi.resources import RESOURCES

pytestmark = pytest.mark.usefixtures("api_database")

PROFILE = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination"


def token(parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def links(reply: Reply) -> dict[str, str | None]:
    assert reply.status == 200, reply.body
    return reply.json["links"]


def walk(
    resource: str,
    claims: dict[str, str],
    query: str,
    direction: str,
    between_pages: Callable[[], None] = lambda: None,
) -> list[list[str]]:
    """Follow links[direction] from ``query`` until it is null; the ids of every page."""
    pages: list[list[str]] = []
    for _ in range(100):
        reply = read(resource, claims, query=query)
        pages.append(ids(reply))
        link = links(reply)[direction]
        if link is None:
            return pages
        between_pages()
        query = rf.follow(link)
    raise AssertionError("the walk did not end")


def seed(admin, t: f.Tenant, resource: str, count: int) -> list[rf.Row]:
    """``count`` rows, several sharing one created_at, so page edges fall inside ties."""
    return [rf.make_row(admin, t, resource, created_at=at(minute // 3)) for minute in range(count)]


def expected_order(rows: list[rf.Row], admin, resource: str, *, descending: bool) -> list[str]:
    stamps = dict(
        admin.run(
            f"SELECT {resource[:-1]}_id, created_at FROM core_api.{resource} "
            "WHERE pk = ANY(CAST(:pks AS bigint[]))",
            pks=[r.pk for r in rows],
        )
    )
    ordered = sorted(rows, key=lambda r: (stamps[r.id], r.id), reverse=descending)
    return [str(r.id) for r in ordered]


# --- page[size] --------------------------------------------------------------------------------


def test_the_default_page_size_is_twenty(admin):
    t = f.tenant(admin)
    seed(admin, t, "account_workspace_connectors", 21)

    first = read("account_workspace_connectors", t.claims())
    second = read("account_workspace_connectors", t.claims(), query=rf.follow(links(first)["next"]))

    assert len(ids(first)) == 20
    assert len(ids(second)) == 1
    assert links(second)["next"] is None


def test_a_page_holds_exactly_page_size_rows_up_to_the_maximum_of_500(admin):
    t = f.tenant(admin)
    rows = seed(admin, t, "workspace_providers", 7)

    assert len(ids(read("workspace_providers", t.claims(), query="page[size]=3"))) == 3
    assert len(ids(read("workspace_providers", t.claims(), query="page[size]=1"))) == 1
    everything = read("workspace_providers", t.claims(), query="page[size]=500")
    assert len(ids(everything)) == len(rows)
    assert links(everything) | {"self": None} == {"self": None, "prev": None, "next": None}
    # Leading zeros are still a base-10 whole number.
    assert len(ids(read("workspace_providers", t.claims(), query="page[size]=003"))) == 3


@pytest.mark.parametrize(
    "value", ["501", "1000", "1000000000", "99999999999999999999999999999999", "0501"]
)
def test_a_page_size_over_500_is_the_profiles_max_size_error(admin, value):
    t = f.tenant(admin)

    reply = read("company_workspace_connectors", t.claims(), query=f"page[size]={value}")

    obj = rf.error(reply, 400, "page[size]")
    assert obj["links"]["type"].endswith("/max-size-exceeded")
    assert obj["links"]["type"] == f"{PROFILE}/max-size-exceeded"
    assert obj["meta"]["page"] == {"maxSize": 500}


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "000",
        "-1",
        "-500",
        "abc",
        "1.5",
        "1e3",
        "0x10",
        "",
        "%205",
        "%2B5",
        "5%20",
        "%C2%B2",
        "%D9%A3",
        "%EF%BC%95",
    ],
)
def test_a_page_size_that_is_not_a_positive_integer_is_rejected(admin, value):
    t = f.tenant(admin)

    reply = read("people_workspace_connectors", t.claims(), query=f"page[size]={value}")

    obj = rf.error(reply, 400, "page[size]")
    assert "max-size-exceeded" not in json.dumps(obj)


# --- links and cursors -------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
def test_prev_and_next_are_null_exactly_at_the_ends(admin, resource):
    t = f.tenant(admin)
    seed(admin, t, resource, 6)

    first = read(resource, t.claims(), query="page[size]=2")
    middle = read(resource, t.claims(), query=rf.follow(links(first)["next"]))
    last = read(resource, t.claims(), query=rf.follow(links(middle)["next"]))
    back_to_middle = read(resource, t.claims(), query=rf.follow(links(last)["prev"]))
    back_to_first = read(resource, t.claims(), query=rf.follow(links(back_to_middle)["prev"]))

    assert links(first)["prev"] is None
    assert links(first)["next"] is not None
    assert links(middle)["prev"] is not None
    assert links(middle)["next"] is not None
    assert links(last)["next"] is None
    assert ids(back_to_middle) == ids(middle)
    assert ids(back_to_first) == ids(first)
    # Walking backwards, the server knows when no earlier page exists.
    assert links(back_to_first)["prev"] is None


def test_an_empty_collection_has_null_prev_and_next(admin):
    t = f.tenant(admin)

    reply = read("workspace_group_workspaces", t.claims())

    assert ids(reply) == []
    assert links(reply)["prev"] is None
    assert links(reply)["next"] is None


def test_page_after_starts_right_after_the_cursor_and_page_before_ends_right_before_it(admin):
    t = f.tenant(admin)
    rows = seed(admin, t, "account_workspace_connectors", 9)
    order = expected_order(rows, admin, "account_workspace_connectors", descending=True)
    page = read("account_workspace_connectors", t.claims(), query="page[size]=4")
    after = rf.cursor_of(links(page)["next"], "page[after]")  # falls on order[3]
    before = rf.cursor_of(
        links(
            read("account_workspace_connectors", t.claims(), query=rf.follow(links(page)["next"]))
        )["prev"],
        "page[before]",
    )  # falls on order[4]

    forward = read(
        "account_workspace_connectors", t.claims(), query=f"page[size]=3&page[after]={after}"
    )
    backward = read(
        "account_workspace_connectors", t.claims(), query=f"page[size]=3&page[before]={before}"
    )

    assert ids(page) == order[:4]
    assert ids(forward) == order[4:7]
    assert ids(backward) == order[1:4]


def test_pagination_links_keep_the_other_parameters(admin):
    t = f.tenant(admin)
    seed(admin, t, "account_workspace_connectors", 5)
    query = (
        f"filter[workspace_connector]={t.workspace_connector_id}&filter[direction]=input"
        "&include=account&fields[account]=account_name&sort=created_at&page[size]=2"
        f"&workspace_id={t.workspace_id}"
    )

    reply = read("account_workspace_connectors", t.claims(), query=query)

    next_link = links(reply)["next"]
    assert next_link is not None
    assert next_link.startswith("https://api.test/v1/account-workspace-connectors?")
    kept = dict(p.split("=", 1) for p in rf.follow(next_link).split("&"))
    assert kept.pop("page[after]")
    assert kept == dict(p.split("=", 1) for p in query.split("&"))


@pytest.mark.parametrize("resource", ALL)
def test_cursors_are_opaque_and_hold_no_internal_key(admin, resource):
    t = f.tenant(admin)
    rows = seed(admin, t, resource, 3)

    sort = RESOURCES[resource].sorts[-1]  # updated_at, but for a ledger's created_at
    reply = read(resource, t.claims(), query=f"page[size]=1&sort={sort}")
    cursor = rf.cursor_of(links(reply)["next"], "page[after]")

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    decoded = rf.decode_cursor(cursor)
    assert decoded[0] == sort
    assert decoded[2] in {str(r.id) for r in rows}
    assert all(isinstance(part, str) for part in decoded)
    assert not any(str(r.pk) == part for r in rows for part in decoded)


# --- walking a whole collection --------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize("sort", ["-created_at", "created_at"])
def test_walking_forward_returns_every_row_once_while_rows_are_added(admin, resource, sort):
    t = f.tenant(admin)
    original = seed(admin, t, resource, 17)
    added: list[str] = []

    def add_a_row() -> None:
        added.append(str(rf.make_row(admin, t, resource).id))  # created_at = now()

    pages = walk(resource, t.claims(), f"page[size]=4&sort={sort}", "next", add_a_row)

    seen = [row_id for page in pages for row_id in page]
    assert len(seen) == len(set(seen)), "a row was returned twice"
    expected = expected_order(original, admin, resource, descending=sort.startswith("-"))
    assert [row_id for row_id in seen if row_id not in added] == expected
    assert all(len(page) == 4 for page in pages[:-1])


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize("sort", ["-created_at", "created_at"])
def test_walking_backward_returns_every_row_once_while_rows_are_added(admin, resource, sort):
    t = f.tenant(admin)
    original = seed(admin, t, resource, 17)
    forward = walk(resource, t.claims(), f"page[size]=4&sort={sort}", "next")
    # Start from the last page and follow prev to the first.
    last_query = f"page[size]=4&sort={sort}"
    for _ in forward[:-1]:
        last_query = rf.follow(links(read(resource, t.claims(), query=last_query))["next"])
    added: list[str] = []

    def add_a_row() -> None:
        added.append(str(rf.make_row(admin, t, resource).id))

    pages = walk(resource, t.claims(), last_query, "prev", add_a_row)

    seen = [row_id for page in reversed(pages) for row_id in page]
    assert len(seen) == len(set(seen)), "a row was returned twice"
    expected = expected_order(original, admin, resource, descending=sort.startswith("-"))
    assert [row_id for row_id in seen if row_id not in added] == expected


def test_rows_deleted_during_a_walk_are_skipped_and_nothing_else_moves(admin):
    t = f.tenant(admin)
    rows = seed(admin, t, "company_workspace_connectors", 12)
    order = expected_order(rows, admin, "company_workspace_connectors", descending=True)
    pks = {str(r.id): r.pk for r in rows}
    seen: list[str] = []
    skipped: list[str] = []
    query = "page[size]=4"
    while True:
        reply = read("company_workspace_connectors", t.claims(), query=query)
        seen += ids(reply)
        link = links(reply)["next"]
        if link is None:
            break
        # Delete the row the cursor falls on, and the first row of the coming page.
        upcoming = next(r for r in order if r not in seen and r not in skipped)
        rf.soft_delete(admin, "company_workspace_connectors", pks[seen[-1]])
        rf.soft_delete(admin, "company_workspace_connectors", pks[upcoming])
        skipped.append(upcoming)
        query = rf.follow(link)

    assert len(skipped) == 2
    assert seen == [r for r in order if r not in skipped]


# --- cursors that are not valid here -----------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_for", "used_with"),
    [
        ("sort=-created_at", "sort=created_at"),
        ("sort=-created_at", "sort=-updated_at"),
        ("sort=updated_at", ""),
        ("sort=created_at", "sort=updated_at"),
    ],
)
@pytest.mark.parametrize("parameter", ["page[after]", "page[before]"])
def test_a_cursor_issued_for_another_sort_is_rejected(admin, issued_for, used_with, parameter):
    # The provider's List takes every sort; a ledger's, created_at only (below).
    t = f.tenant(admin)
    seed(admin, t, "workspace_providers", 3)
    reply = read("workspace_providers", t.claims(), query=f"{issued_for}&page[size]=1")
    cursor = rf.cursor_of(links(reply)["next"], "page[after]")

    refused = read(
        "workspace_providers",
        t.claims(),
        query=f"{used_with}&{parameter}={cursor}".lstrip("&"),
    )

    obj = rf.error(refused, 400, parameter)
    assert obj["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("resource", PROVENANCE)
@pytest.mark.parametrize("issued_for", ["updated_at", "-updated_at"])
@pytest.mark.parametrize("parameter", ["page[after]", "page[before]", "cursor"])
def test_a_ledger_cursor_issued_for_updated_at_is_refused_naming_the_changes_feed(
    admin, resource, issued_for, parameter
):
    # A link kept from when the ledgers sorted by updated_at too, its sort dropped by hand.
    t = f.tenant(admin)
    row = seed(admin, t, resource, 1)[0]
    cursor = token([issued_for, at(0).isoformat(), str(row.id)])

    refused = read(resource, t.claims(), query=f"{parameter}={cursor}")

    obj = rf.error(refused, 400, parameter)
    assert obj["code"] == "INVALID_CURSOR"
    assert f"sort={issued_for}" in obj["detail"]
    assert "GET /v1/changes" in obj["detail"]


GARBAGE = [
    "",
    "garbage",
    "!!!",
    "%00",
    token("just a string"),
    token({"sort": "-created_at"}),
    token(["-created_at", "2024-05-10T08:00:00+00:00"]),
    token(
        [
            "-created_at",
            "2024-05-10T08:00:00+00:00",
            "33c1faeb-218d-5094-91d2-de009d8eb5b9",
            "extra",
        ]
    ),
    token(["-created_at", "2024-05-10T08:00:00+00:00", 5]),  # an integer where the id goes
    token(["-created_at", "2024-05-10T08:00:00+00:00", None]),
    token(["-created_at", 1715328000, "9e61da36-0fac-5fe5-bf5a-82c4524b915f"]),
    token(
        ["-created_at", "2024-05-10T08:00:00", "23a023f2-a9d8-5739-88ab-aaf47e2b8320"]
    ),  # naive timestamp
    token(["-created_at", "not a time", "7aacb18d-164a-5fa4-8ccf-5cc7f568aa17"]),
    # Valid ISO-8601 with no UTC instant in years 1-9999 (the range Python and the API hold).
    token(["-created_at", "0001-01-01T00:00:00+01:00", "47a0f366-d2bd-50a1-a92d-306723e5558a"]),
    token(["-created_at", "9999-12-31T23:59:59-01:00", "1331a636-6c25-5a76-bd28-553a4b516ed8"]),
    token(["-created_at", "0001-01-01T00:00:00+23:59", "01b4ce1f-f9bd-5c41-8691-f1ecce57c48e"]),
    token(["-created_at", "2024-05-10T08:00:00+00:00", "not-a-uuid"]),
    token([["-created_at"], "2024-05-10T08:00:00+00:00", "fd0508be-3985-5099-bdc4-4efc0527a7b9"]),
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    base64.urlsafe_b64encode(b"[" * 100_000).decode(),
]


@pytest.mark.parametrize("cursor", GARBAGE)
@pytest.mark.parametrize("parameter", ["page[after]", "page[before]"])
def test_a_cursor_the_api_did_not_issue_is_rejected(admin, cursor, parameter):
    t = f.tenant(admin)

    reply = read("workspace_providers", t.claims(), query=f"{parameter}={cursor}")

    rf.error(reply, 400, parameter)


def test_a_well_formed_cursor_for_a_row_that_no_longer_exists_still_pages(admin):
    t = f.tenant(admin)
    rows = seed(admin, t, "workspace_providers", 4)
    order = expected_order(rows, admin, "workspace_providers", descending=True)
    # The profile: a cursor that no longer falls on a row still divides the list.
    cursor = token(
        ["-created_at", datetime(2024, 5, 10, 8, 0, 30, tzinfo=UTC).isoformat(), str(uuid4())]
    )

    reply = read("workspace_providers", t.claims(), query=f"page[after]={cursor}")

    # Seeded: three rows at 08:00, one at 08:01; after 08:00:30 (descending) come the three.
    assert ids(reply) == order[1:]


def test_page_after_and_page_before_together_is_the_range_pagination_error(admin):
    t = f.tenant(admin)
    seed(admin, t, "account_workspace_connectors", 4)
    reply = read("account_workspace_connectors", t.claims(), query="page[size]=1")
    cursor = rf.cursor_of(links(reply)["next"], "page[after]")

    refused = read(
        "account_workspace_connectors",
        t.claims(),
        query=f"page[after]={cursor}&page[before]={cursor}",
    )

    assert refused.status == 400
    (obj,) = refused.errors
    assert obj["links"]["type"] == f"{PROFILE}/range-pagination-not-supported"


def test_a_sparse_fieldset_without_the_sort_field_still_pages(admin):
    t = f.tenant(admin)
    rows = seed(admin, t, "workspace_providers", 5)
    order = expected_order(rows, admin, "workspace_providers", descending=False)

    pages = walk(
        "workspace_providers",
        t.claims(),
        "fields[workspace_provider]=is_selected&sort=created_at&page[size]=2",
        "next",
    )

    assert [row_id for page in pages for row_id in page] == order


# --- the platform's limit and cursor -----------------------------------------------------------


def query_parameters(link: str | None) -> list[str]:
    assert link is not None
    return [name for name, _ in parse_qsl(rf.follow(link), keep_blank_values=True)]


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize("sort", ["-created_at", "created_at"])
def test_limit_and_cursor_walk_the_same_pages_as_the_profiles_form(admin, resource, sort):
    t = f.tenant(admin)
    rows = seed(admin, t, resource, 11)

    flat = walk(resource, t.claims(), f"limit=4&sort={sort}", "next")
    profile = walk(resource, t.claims(), f"page[size]=4&sort={sort}", "next")

    assert flat == profile
    seen = [row_id for page in flat for row_id in page]
    assert seen == expected_order(rows, admin, resource, descending=sort.startswith("-"))


@pytest.mark.parametrize("resource", ALL)
def test_the_links_of_a_flat_request_carry_cursor_and_never_page(admin, resource):
    t = f.tenant(admin)
    seed(admin, t, resource, 9)

    first = read(resource, t.claims(), query="limit=3&sort=created_at")
    next_link = links(first)["next"]
    assert query_parameters(next_link) == ["limit", "sort", "cursor"]
    second = read(resource, t.claims(), query=rf.follow(next_link))
    assert query_parameters(links(second)["prev"]) == ["limit", "sort", "cursor"]
    assert query_parameters(links(second)["next"]) == ["limit", "sort", "cursor"]
    # Back from the second page is the first page again, still in the flat form.
    back = read(resource, t.claims(), query=rf.follow(links(second)["prev"]))
    assert ids(back) == ids(first)
    assert links(back)["prev"] is None
    assert query_parameters(links(back)["next"]) == ["limit", "sort", "cursor"]


def test_walking_backward_with_cursor_returns_every_row_once(admin):
    t = f.tenant(admin)
    rows = seed(admin, t, "workspace_providers", 10)
    forward = walk("workspace_providers", t.claims(), "limit=3", "next")
    last_page = read("workspace_providers", t.claims(), query="limit=3")
    while (link := links(last_page)["next"]) is not None:
        last_page = read("workspace_providers", t.claims(), query=rf.follow(link))

    prev = links(last_page)["prev"]
    assert prev is not None
    backward = walk("workspace_providers", t.claims(), rf.follow(prev), "prev")

    assert [*reversed(backward), ids(last_page)] == forward
    seen = [row_id for page in forward for row_id in page]
    assert seen == expected_order(rows, admin, "workspace_providers", descending=True)


def test_a_profile_request_keeps_profile_links(admin):
    t = f.tenant(admin)
    seed(admin, t, "company_workspace_connectors", 5)

    first = read("company_workspace_connectors", t.claims(), query="page[size]=2")
    second = read("company_workspace_connectors", t.claims(), query=rf.follow(links(first)["next"]))

    assert query_parameters(links(first)["next"]) == ["page[size]", "page[after]"]
    assert query_parameters(links(second)["prev"]) == ["page[size]", "page[before]"]


@pytest.mark.parametrize(
    ("query", "named"),
    [("limit=2&page[size]=2", "page[size]"), ("page[size]=2&limit=2", "limit")],
)
def test_mixing_limit_or_cursor_with_page_is_a_400_naming_the_clash(admin, query, named):
    t = f.tenant(admin)
    seed(admin, t, "account_workspace_connectors", 3)
    issued = links(read("account_workspace_connectors", t.claims(), query="limit=1"))["next"]
    assert issued is not None
    cursor = dict(parse_qsl(rf.follow(issued)))["cursor"]

    for sent, name in [
        (query, named),
        (f"cursor={cursor}&page[after]={cursor}", "page[after]"),
        (f"page[before]={cursor}&limit=1", "limit"),
    ]:
        reply = read("account_workspace_connectors", t.claims(), query=sent)
        obj = rf.error(reply, 400, name)
        assert obj["code"] == "MIXED_PAGINATION"


@pytest.mark.parametrize("value", ["501", "0", "x"])
def test_limit_has_the_bounds_of_page_size(admin, value):
    t = f.tenant(admin)
    reply = read("workspace_group_workspaces", t.claims(), query=f"limit={value}")
    obj = rf.error(reply, 400, "limit")
    expected = "PAGE_SIZE_TOO_LARGE" if value == "501" else "INVALID_PAGE_PARAMETER"
    assert obj["code"] == expected


# --- counts in meta ----------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
def test_every_page_counts_its_rows_in_meta(admin, resource):
    t = f.tenant(admin)
    seed(admin, t, resource, 7)

    pages = [read(resource, t.claims(), query="limit=3")]
    while (link := links(pages[-1])["next"]) is not None:
        pages.append(read(resource, t.claims(), query=rf.follow(link)))

    assert [p.json["meta"]["count"] for p in pages] == [3, 3, 1]
    assert [p.json["meta"]["count"] for p in pages] == [len(ids(p)) for p in pages]
    empty = read(resource, f.tenant(admin).claims())
    assert empty.json["meta"]["count"] == 0


def test_the_catalog_counts_its_rows_in_meta(admin):
    t = f.tenant(admin)
    for _ in range(3):
        f.provider(admin)
    reply = w.catalog(t.claims(), t.workspace_id, "limit=2")
    assert reply.status == 200, reply.body
    assert reply.json["meta"]["count"] == len(reply.json["data"])


@pytest.mark.parametrize("resource", ALL)
def test_every_page_says_the_lists_total_which_ignores_the_cursor(admin, resource):
    t = f.tenant(admin)
    seed(admin, t, resource, 7)

    first = read(resource, t.claims(), query="limit=3")
    second = read(resource, t.claims(), query=rf.follow(links(first)["next"]))

    assert first.json["meta"] == rf.list_meta(resource, total=7, count=3)
    assert second.json["meta"] == rf.list_meta(resource, total=7, count=3)
    empty = read(resource, f.tenant(admin).claims())
    assert empty.json["meta"] == rf.list_meta(resource, total=0, count=0)


def test_the_total_counts_what_the_filters_keep(admin):
    t = f.tenant(admin)
    seed(admin, t, "workspace_providers", 4)
    kept = read("workspace_providers", t.claims(), query="filter[is_selected]=true")
    dropped = read("workspace_providers", t.claims(), query="filter[is_selected]=false")
    assert kept.json["meta"]["total"] + dropped.json["meta"]["total"] == 4
    assert kept.json["meta"]["total"] == len(ids(kept))


@pytest.mark.parametrize("resource", ALL)
def test_a_total_over_the_bound_is_the_bound_and_says_it_is_a_lower_bound(
    admin, resource, monkeypatch
):
    monkeypatch.setattr("wellapi.operations.read.TOTAL_BOUND", 5)
    t = f.tenant(admin)
    seed(admin, t, resource, 7)

    at_bound = read(resource, t.claims(), query="limit=2&sort=created_at")
    assert at_bound.json["meta"] == rf.list_meta(
        resource, total=5, count=2, total_is_lower_bound=True
    )

    monkeypatch.setattr("wellapi.operations.read.TOTAL_BOUND", 7)
    exact = read(resource, t.claims(), query="limit=2&sort=created_at")
    assert exact.json["meta"] == rf.list_meta(resource, total=7, count=2)
