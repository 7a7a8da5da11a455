"""The platform's flat pagination (``limit``, ``cursor``) beside the profile's ``page[...]``
(``wellapi.jsonapi.query``): the same page either way, never both forms in one request."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from uuid import UUID

import pytest

from tests.support.queries import parse, refused
from wellapi.errors import InvalidQueryParameter
from wellapi.jsonapi.cursor import Cursor, decode_cursor
from wellapi.jsonapi.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

ROW_ID = UUID("0190a0a0-1234-7abc-8def-0123456789ab")
AT = datetime(2024, 5, 10, 8, 0, 0, 123456, tzinfo=UTC)
FORWARD = Cursor("-created_at", AT, ROW_ID).encode()
BACKWARD = Cursor("-created_at", AT, ROW_ID, backward=True).encode()


def test_no_page_parameter_is_the_profiles_form_with_the_default_size():
    query = parse("")
    assert (query.pagination, query.page_size) == ("profile", DEFAULT_PAGE_SIZE)


@pytest.mark.parametrize("value", ["1", "20", "077", str(MAX_PAGE_SIZE)])
def test_limit_is_page_size(value):
    assert parse(f"limit={value}").page_size == parse(f"page[size]={value}").page_size
    assert parse(f"limit={value}").pagination == "flat"


@pytest.mark.parametrize("value", ["0", "", "-1", "1.5", "abc", "²"])
def test_a_limit_that_is_not_a_positive_integer_names_limit(value):
    obj = refused(f"limit={value}")
    assert obj["code"] == "INVALID_PAGE_PARAMETER"
    assert obj["source"] == {"parameter": "limit"}


@pytest.mark.parametrize("value", [str(MAX_PAGE_SIZE + 1), "9" * 40])
def test_a_limit_over_the_maximum_has_the_same_bound_as_page_size(value):
    obj = refused(f"limit={value}")
    assert obj["code"] == "PAGE_SIZE_TOO_LARGE"
    assert obj["source"] == {"parameter": "limit"}
    assert obj["meta"] == {"page": {"maxSize": MAX_PAGE_SIZE}}
    # The profile's error type names page[size], not the platform's parameter.
    assert "links" not in obj


def test_a_cursor_reads_after_its_row_and_a_backward_cursor_before_it():
    forward = parse(f"cursor={FORWARD}")
    assert forward.after == Cursor("-created_at", AT, ROW_ID)
    assert forward.before is None
    backward = parse(f"cursor={BACKWARD}")
    assert backward.before == Cursor("-created_at", AT, ROW_ID)
    assert backward.after is None
    assert forward.pagination == backward.pagination == "flat"


def test_the_profiles_cursor_is_a_flat_cursor_but_a_backward_one_is_not_the_profiles():
    assert parse(f"cursor={FORWARD}").after == parse(f"page[after]={FORWARD}").after
    for parameter in ("page[after]", "page[before]"):
        obj = refused(f"{parameter}={BACKWARD}")
        assert (obj["code"], obj["source"]) == ("INVALID_CURSOR", {"parameter": parameter})


@pytest.mark.parametrize("tail", [["after"], ["before", "x"], [1]])
def test_a_cursor_with_any_other_fourth_member_is_not_one_this_api_issued(tail):
    raw = json.dumps(["-created_at", AT.isoformat(), str(ROW_ID), *tail]).encode()
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(InvalidQueryParameter):
        decode_cursor(forged, "cursor", flat=True)


def test_a_cursor_for_another_sort_is_refused_naming_cursor():
    obj = refused(f"sort=created_at&cursor={FORWARD}")
    assert (obj["code"], obj["source"]) == ("INVALID_CURSOR", {"parameter": "cursor"})


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("limit=5&page[size]=5", "page[size]"),
        ("page[size]=5&limit=5", "limit"),
        (f"cursor={FORWARD}&page[after]={FORWARD}", "page[after]"),
        (f"page[before]={FORWARD}&cursor={FORWARD}", "cursor"),
        (f"limit=5&page[after]={FORWARD}", "page[after]"),
        (f"page[size]=5&sort=created_at&cursor={FORWARD}", "cursor"),
    ],
)
def test_mixing_the_two_forms_is_a_400_naming_the_clash(raw, named):
    obj = refused(raw)
    assert obj["code"] == "MIXED_PAGINATION"
    assert obj["source"] == {"parameter": named}
    other = {"limit", "cursor", "page[size]", "page[after]", "page[before]"} - {named}
    assert named in str(obj["detail"])
    assert any(name in str(obj["detail"]) for name in other)


@pytest.mark.parametrize("kind", ["retrieve", "related", "relationship"])
@pytest.mark.parametrize("raw", ["limit=5", f"cursor={FORWARD}"])
def test_limit_and_cursor_are_list_parameters_only(kind, raw):
    assert refused(raw, kind)["code"] == "UNKNOWN_QUERY_PARAMETER"


def test_limit_or_cursor_twice_is_a_duplicate():
    assert refused("limit=5&limit=6")["code"] == "DUPLICATE_QUERY_PARAMETER"
    assert refused(f"cursor={FORWARD}&cursor={FORWARD}")["code"] == "DUPLICATE_QUERY_PARAMETER"
