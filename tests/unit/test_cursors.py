"""Pagination cursors (``wellapi.jsonapi.cursor``): what the API issues, it takes back; anything
else given as a cursor is the client's 400 INVALID_CURSOR naming the parameter, never a 500."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from itertools import permutations
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wellapi.errors import InvalidQueryParameter
from wellapi.jsonapi.cursor import Cursor, decode_cursor
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import RESOURCES
from wellapi.resources.ledgers import LEDGER_RESOURCES

# Every sort a List of any resource takes, as its cursor names it; the provider's take them all.
PROVIDERS = RESOURCES["workspace_providers"]
SORTS = sorted({s for r in RESOURCES.values() for s in r.sort_values})
PARAMETERS = ["page[after]", "page[before]"]
ROW_ID = UUID("0190a0a0-1234-7abc-8def-0123456789ab")
AT = datetime(2024, 5, 10, 8, 0, 0, 123456, tzinfo=UTC)
VALID = ["-created_at", AT.isoformat(), str(ROW_ID)]


def token(value: Any) -> str:
    """A cursor's encoding of any JSON value (the API only ever encodes three strings)."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_invalid_cursor(error: InvalidQueryParameter, parameter: str) -> None:
    obj = error.to_object()
    assert obj["status"] == "400"
    assert obj["code"] == "INVALID_CURSOR"
    assert obj["source"] == {"parameter": parameter}


# --- what the API issues ----------------------------------------------------------------------


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("parameter", PARAMETERS)
def test_a_cursor_decodes_to_what_was_encoded_for_every_sort(sort, parameter):
    cursor = Cursor(sort, AT, ROW_ID)

    decoded = decode_cursor(cursor.encode(), parameter)

    assert decoded == cursor
    assert decoded.value.tzinfo is UTC


def test_the_encoding_is_unpadded_urlsafe_base64_of_a_compact_json_triple():
    encoded = Cursor("-created_at", AT, ROW_ID).encode()

    # The bytes a client holds between two pages: pinned, so a change of format is seen.
    assert encoded == (
        "WyItY3JlYXRlZF9hdCIsIjIwMjQtMDUtMTBUMDg6MDA6MDAuMTIzNDU2KzAwOjAwIiwiMDE5MGEwYTAtMTIz"
        "NC03YWJjLThkZWYtMDEyMzQ1Njc4OWFiIl0"
    )
    assert "=" not in encoded
    assert json.loads(base64.urlsafe_b64decode(encoded + "==")) == VALID


def test_a_cursor_with_another_offset_decodes_to_the_same_instant_in_utc():
    local = AT.astimezone(timezone(timedelta(hours=-7, minutes=-30)))

    decoded = decode_cursor(Cursor("created_at", local, ROW_ID).encode(), "page[after]")

    assert decoded.value == AT
    assert decoded.value.tzinfo is UTC


def test_an_uppercase_id_is_the_same_id():
    cursor = decode_cursor(token([*VALID[:2], str(ROW_ID).upper()]), "page[after]")

    assert cursor.id == ROW_ID


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("parameter", PARAMETERS)
def test_the_query_of_a_list_takes_back_the_cursor_of_its_sort(sort, parameter):
    cursor = Cursor(sort, AT, ROW_ID)
    query_string = urlencode({"sort": sort, parameter: cursor.encode()})

    query = parse_read_query(PROVIDERS, query_string, "list")

    assert (query.after, query.before) == (
        (cursor, None) if parameter == "page[after]" else (None, cursor)
    )
    assert query.sort_token == sort


# --- what it does not issue ---------------------------------------------------------------------

FORGED = {
    "empty": "",
    "not base64": "!!!",
    "a NUL": "\x00",
    "not ASCII": "é" * 4,
    "not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    "not JSON": base64.urlsafe_b64encode(b"garbage").decode(),
    "a JSON string": token("just a string"),
    "a JSON object": token({"sort": "-created_at"}),
    "two members": token(VALID[:2]),
    "four members": token([*VALID, "extra"]),
    "an integer id": token([*VALID[:2], 5]),
    "a null id": token([*VALID[:2], None]),
    "an epoch timestamp": token([VALID[0], 1715328000, VALID[2]]),
    "a list for the sort": token([[VALID[0]], *VALID[1:]]),
    "not a UUID": token([*VALID[:2], "not-a-uuid"]),
    "a UUID without hyphens": token([*VALID[:2], ROW_ID.hex]),
    "a UUID in braces": token([*VALID[:2], "{" + str(ROW_ID) + "}"]),
    "a URN": token([*VALID[:2], ROW_ID.urn]),
    "a naive timestamp": token([VALID[0], "2024-05-10T08:00:00", VALID[2]]),
    "a date": token([VALID[0], "2024-05-10", VALID[2]]),
    "not a time": token([VALID[0], "not a time", VALID[2]]),
    # Valid ISO-8601 with no UTC instant in years 1-9999 (the range Python and the API hold).
    "before year 1 in UTC": token([VALID[0], "0001-01-01T00:00:00+01:00", VALID[2]]),
    "after year 9999 in UTC": token([VALID[0], "9999-12-31T23:59:59-01:00", VALID[2]]),
    "nested too deep": base64.urlsafe_b64encode(b"[" * 100_000).decode(),
}


@pytest.mark.parametrize("cursor", FORGED.values(), ids=FORGED.keys())
@pytest.mark.parametrize("parameter", PARAMETERS)
def test_a_forged_or_damaged_cursor_is_invalid_cursor_naming_its_parameter(cursor, parameter):
    with pytest.raises(InvalidQueryParameter) as caught:
        decode_cursor(cursor, parameter)

    assert_invalid_cursor(caught.value, parameter)
    assert caught.value.detail == "The cursor is not one this API issued."


@pytest.mark.parametrize(("issued_for", "used_with"), list(permutations(SORTS, 2)))
@pytest.mark.parametrize("parameter", PARAMETERS)
def test_a_cursor_of_another_sort_is_invalid_cursor(issued_for, used_with, parameter):
    cursor = Cursor(issued_for, AT, ROW_ID).encode()
    query_string = urlencode({"sort": used_with, parameter: cursor})

    with pytest.raises(InvalidQueryParameter) as caught:
        parse_read_query(PROVIDERS, query_string, "list")

    assert_invalid_cursor(caught.value, parameter)
    assert f"sort={issued_for}" in caught.value.detail
    assert used_with in caught.value.detail


@pytest.mark.parametrize("parameter", PARAMETERS)
def test_the_query_names_the_parameter_of_a_cursor_of_another_sort(parameter):
    # No sort parameter: the List sorts by -created_at, and this cursor was issued for another.
    cursor = Cursor("updated_at", AT, ROW_ID).encode()

    with pytest.raises(InvalidQueryParameter) as caught:
        parse_read_query(PROVIDERS, f"{parameter}={cursor}", "list")

    assert_invalid_cursor(caught.value, parameter)


@pytest.mark.parametrize("ledger", LEDGER_RESOURCES, ids=lambda r: r.key)
@pytest.mark.parametrize("issued_for", ["updated_at", "-updated_at"])
@pytest.mark.parametrize("parameter", [*PARAMETERS, "cursor"])
def test_a_ledger_cursor_issued_for_updated_at_is_invalid_cursor_saying_what_the_ledger_sorts_by(
    ledger, issued_for, parameter
):
    # A ledger sorted by updated_at once: a link kept from then is refused at its cursor, and
    # the answer says which sorts the ledger takes now and where to read what changed.
    cursor = Cursor(issued_for, AT, ROW_ID).encode()

    with pytest.raises(InvalidQueryParameter) as caught:
        parse_read_query(ledger, f"{parameter}={cursor}", "list")

    assert_invalid_cursor(caught.value, parameter)
    assert f"sort={issued_for}" in caught.value.detail
    assert "created_at, -created_at" in caught.value.detail
    assert "GET /v1/changes" in caught.value.detail


# --- any text at all --------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
cursors = st.builds(Cursor, st.sampled_from(SORTS), instants, st.uuids())
# Near misses as well as noise: base64 of JSON lists of strings, which reach every check.
near_misses = st.builds(
    token,
    st.lists(
        st.one_of(st.sampled_from([*VALID, "updated_at", "2024-05-10T08:00:00"]), st.text()),
        max_size=4,
    ),
)
texts = st.one_of(st.text(), near_misses, cursors.map(Cursor.encode))


@given(cursors, st.sampled_from(PARAMETERS))
def test_every_cursor_the_api_issues_decodes_to_itself(cursor, parameter):
    assert decode_cursor(cursor.encode(), parameter) == cursor


@given(texts, st.sampled_from(PARAMETERS))
def test_any_text_decodes_to_what_was_encoded_or_is_invalid_cursor(text, parameter):
    try:
        cursor = decode_cursor(text, parameter)
    except InvalidQueryParameter as error:
        assert_invalid_cursor(error, parameter)
        return
    assert cursor.value.tzinfo is UTC
    # What it decoded to is a cursor the API could have issued: it encodes to itself again.
    assert decode_cursor(cursor.encode(), parameter) == cursor


@given(texts, st.sampled_from(PARAMETERS))
def test_any_text_in_the_query_string_is_a_cursor_or_invalid_cursor(text, parameter):
    try:
        query = parse_read_query(PROVIDERS, urlencode({parameter: text}), "list")
    except InvalidQueryParameter as error:
        assert_invalid_cursor(error, parameter)
        return
    cursor = query.after or query.before
    assert cursor is not None
    assert cursor.sort == "-created_at"
    assert decode_cursor(cursor.encode(), parameter) == cursor
