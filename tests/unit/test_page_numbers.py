"""Numbered pages (``page[number]`` with ``page[size]``), as page-number clients send them
(``wellapi.jsonapi.query``): accepted beside the cursors, never mixed with another form, and
refused past ``MAX_PAGE_DEPTH`` rows with an error that says how far they go."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.queries import RESOURCE, parse, refused
from wellapi.jsonapi.cursor import Cursor
from wellapi.jsonapi.query import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_DEPTH,
    MAX_PAGE_SIZE,
)
from wellapi.sqltext.statements import read_template, total_template
from wellapi.store.shapes import ReadShape, read_params

AFTER = Cursor("-created_at", datetime(2024, 5, 10, tzinfo=UTC), UUID(int=7)).encode()


def test_a_numbered_page_skips_the_rows_of_the_pages_before_it():
    query = parse("page[number]=3&page[size]=10")
    assert (query.pagination, query.page_number, query.page_size) == ("number", 3, 10)
    assert query.offset == 20


def test_page_number_alone_takes_the_default_size_and_either_order_of_parameters():
    assert parse("page[number]=2").offset == DEFAULT_PAGE_SIZE
    assert parse("page[size]=5&page[number]=4") == parse("page[number]=4&page[size]=5")


def test_the_first_numbered_page_is_the_first_cursor_page_but_answers_in_numbers():
    numbered, cursor = parse("page[number]=1&page[size]=7"), parse("page[size]=7")
    assert numbered.offset == cursor.offset == 0
    assert (numbered.pagination, cursor.pagination) == ("number", "profile")


@pytest.mark.parametrize("value", ["0", "", "-1", "1.5", "abc", "²", "0000"])
def test_a_page_number_that_is_not_a_whole_number_from_one_names_page_number(value):
    obj = refused(f"page[number]={value}")
    assert obj["code"] == "INVALID_PAGE_PARAMETER"
    assert obj["source"] == {"parameter": "page[number]"}


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (f"page[number]=2&page[after]={AFTER}", "page[after]"),
        (f"page[after]={AFTER}&page[number]=2", "page[number]"),
        (f"page[number]=2&page[before]={AFTER}", "page[before]"),
        ("page[number]=2&limit=5", "limit"),
        (f"page[number]=2&cursor={AFTER}", "cursor"),
        ("limit=5&page[number]=2", "page[number]"),
        (f"page[size]=3&page[number]=2&page[after]={AFTER}", "page[after]"),
    ],
)
def test_page_number_is_never_mixed_with_a_cursor_or_the_flat_form(raw, named):
    obj = refused(raw)
    assert obj["code"] == "MIXED_PAGINATION"
    assert obj["source"] == {"parameter": named}
    for form in ("limit", "page[after]", "page[number]"):
        assert form in str(obj["detail"])


def test_the_feed_has_no_numbered_pages():
    obj = refused("page[number]=2", "feed")
    assert (obj["code"], obj["source"]) == (
        "UNKNOWN_QUERY_PARAMETER",
        {"parameter": "page[number]"},
    )


@pytest.mark.parametrize("kind", ["retrieve", "relationship"])
def test_a_single_resource_has_no_numbered_pages(kind):
    assert refused("page[number]=2", kind)["code"] == "UNKNOWN_QUERY_PARAMETER"


def test_the_deepest_page_is_accepted_and_the_next_refused_with_how_far_pages_go():
    size = 20
    deepest = MAX_PAGE_DEPTH // size
    assert parse(f"page[number]={deepest}&page[size]={size}").offset < MAX_PAGE_DEPTH
    obj = refused(f"page[number]={deepest + 1}&page[size]={size}")
    assert obj["code"] == "PAGE_NUMBER_TOO_DEEP"
    assert obj["title"] == "Page number is too deep."
    assert obj["source"] == {"parameter": "page[number]"}
    assert obj["meta"] == {"page": {"maxDepth": MAX_PAGE_DEPTH}}
    assert f"at most {deepest}" in str(obj["detail"])
    assert "links.next" in str(obj["detail"])


def test_a_page_number_too_long_to_read_is_too_deep_not_a_crash():
    assert refused("page[number]=" + "9" * 5000)["code"] == "PAGE_NUMBER_TOO_DEEP"


@given(
    number=st.integers(min_value=1, max_value=10**6),
    size=st.integers(min_value=1, max_value=MAX_PAGE_SIZE),
)
def test_a_numbered_page_is_accepted_exactly_when_it_starts_within_the_depth(number, size):
    raw = f"page[number]={number}&page[size]={size}"
    if (number - 1) * size < MAX_PAGE_DEPTH:
        assert parse(raw).offset == (number - 1) * size
    else:
        assert refused(raw)["code"] == "PAGE_NUMBER_TOO_DEEP"


def test_a_numbered_page_past_the_first_is_its_own_shape_and_its_total_is_the_lists():
    first = parse("page[number]=1&page[size]=10")
    third = parse("page[number]=3&page[size]=10")
    first_shape = ReadShape.of(RESOURCE, first, single=False)
    third_shape = ReadShape.of(RESOURCE, third, single=False)
    assert (first_shape.offset, third_shape.offset) == (False, True)
    assert first_shape == ReadShape.of(RESOURCE, parse("page[size]=10"), single=False)
    page, _ = read_template(third_shape)
    bound = page.bind(read_params(third))
    limit, offset = (f"${bound.values.index(n) + 1}" for n in (11, 20))
    # Each walked connector gives the skipped rows and the page; the merge skips, then limits.
    assert f"LIMIT (SELECT {limit} + {offset})" in bound.text
    assert f"LIMIT {limit} OFFSET {offset}" in bound.text
    assert total_template(third_shape) == total_template(first_shape)
