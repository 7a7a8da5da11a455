"""The changes feed's query and cursor, without a database: a record's place round-trips
through its cursor, anything else is refused, and the query takes only what the feed serves."""

from __future__ import annotations

import pytest

from wellapi.errors import InvalidQueryParameter
from wellapi.jsonapi.cursor import ChangePlace, decode_change_place
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import CHANGE_PAIRS, CHANGES
from wellapi.store.feed import page_statement

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "place",
    [ChangePlace(0, 1), ChangePlace(745, 12), ChangePlace((1 << 64) - 1, (1 << 63) - 1)],
)
def test_a_records_place_round_trips_through_its_cursor(place):
    assert decode_change_place(place.encode(), "cursor") == place
    assert ChangePlace.of(place.id) == place


@pytest.mark.parametrize(
    "record_id",
    ["", "1", "1-", "-1", "1-0", "a-1", "1-1-1", "+1-2", " 1-2", "1_0-2", "\uff11-2", "1-2 "],
)
def test_an_id_that_is_not_a_records_place_is_refused(record_id):
    with pytest.raises(ValueError, match="not a change record id"):
        ChangePlace.of(record_id)


def test_places_order_as_the_feed_reads_them():
    assert sorted([ChangePlace(2, 1), ChangePlace(1, 9), ChangePlace(1, 3)]) == [
        ChangePlace(1, 3),
        ChangePlace(1, 9),
        ChangePlace(2, 1),
    ]


def test_the_feed_query_takes_its_filters_pages_and_cursor_in_either_form():
    cursor = ChangePlace(12, 3).encode()
    flat = parse_read_query(
        CHANGES, f"filter[change]=linked,unlinked&limit=5&cursor={cursor}", "feed"
    )
    profile = parse_read_query(CHANGES, f"page[size]=5&page[after]={cursor}", "feed")

    assert flat.position == profile.position == ChangePlace(12, 3)
    assert (flat.pagination, profile.pagination) == ("flat", "profile")
    assert flat.attribute_filters == (("change", ("linked", "unlinked")),)
    assert flat.page_size == profile.page_size == 5


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("sort=-created_at", "sort"), ("include=workspace", "include"), ("page[before]=x", None)],
)
def test_the_feed_query_refuses_what_a_list_takes_and_the_feed_does_not(query, parameter):
    with pytest.raises(InvalidQueryParameter) as raised:
        parse_read_query(CHANGES, query, "feed")
    assert raised.value.error_code == "UNKNOWN_QUERY_PARAMETER"
    assert raised.value.parameter == (parameter or query.split("=")[0])


def test_every_change_pair_is_of_a_known_type_and_change():
    types = CHANGES.attribute("resource_type").enum
    changes = CHANGES.attribute("change").enum
    assert {t for t, _ in CHANGE_PAIRS} == set(types)
    assert {c for _, c in CHANGE_PAIRS} == set(changes)
    assert len(set(CHANGE_PAIRS)) == len(CHANGE_PAIRS)


def test_every_page_reads_behind_the_horizon_after_its_cursor_in_order():
    for pairs in (None, (), (("workspace_provider", "selected"),)):
        for run in (None, "run-1"):
            page = page_statement(after=(7, 3), limit=21, pairs=pairs, sync_run_id=run)
            sql = page.text
            assert "r.xid < pg_snapshot_xmin(pg_current_snapshot())" in sql
            after = page.values.index("7") + 1
            assert f"(r.xid, r.pk) > (${after}::xid8, ${page.values.index(3) + 1})" in sql
            assert sql.endswith("ORDER BY c.xid, c.pk")
            assert f"LIMIT ${page.values.index(21) + 1}" in sql


def test_a_sync_run_id_is_bound_as_a_value_however_it_is_written():
    page = page_statement(after=None, limit=2, sync_run_id="it's\\here")
    assert "it's" not in page.text
    assert f"r.sync_run_id = ${page.values.index("it's\\here") + 1}" in page.text
