"""The values PostgreSQL writes into documents, against what Python's ``json.dumps`` and
``datetime.isoformat`` write: the two must never differ, whatever the session's settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from wellapi.resources import Attribute
from wellapi.sqltext.document import instant, json_value
from wellapi.sqltext.text import template
from wellapi.store.connections import send

INSTANTS = [
    datetime(2024, 5, 10, 8, 0, tzinfo=UTC),
    datetime(2024, 5, 10, 8, 0, 0, 738, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 5, 10, 8, 0, 0, 100000, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2024, 3, 31, 1, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
]
TEXTS = ['Zoë "Q" \\ \t\n\r\b\f \x01\x1f\x7f \u2028 \u2013 𝄞', "", "plain"]


def _one(admin, expression, value=None):
    """``expression`` read with ``value`` bound to its slot, as a request's statement is sent."""
    return send(admin, [template(f"SELECT {expression} AS v").bind({"value": value})])[0][0]


def _typed(sql_type):
    """The bound value as the composed statements read a column: of the column's type."""
    return f"CAST(%(value)s AS {sql_type})"


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Chatham", "America/St_Johns"])
@pytest.mark.parametrize("value", INSTANTS, ids=str)
def test_an_instant_is_written_as_python_writes_it_in_any_session_time_zone(admin, zone, value):
    admin.run(f"SET TIME ZONE '{zone}'")
    try:
        written = _one(admin, instant(_typed("timestamptz")), value)
        as_json = _one(
            admin, json_value(Attribute("at", "at", "datetime"), _typed("timestamptz")), value
        )
    finally:
        admin.run("SET TIME ZONE 'UTC'")
    expected = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert written == expected
    assert as_json == json.dumps(expected)


@pytest.mark.parametrize("text", TEXTS)
def test_text_is_escaped_as_the_documents_json_escapes_it(admin, text):
    written = _one(admin, json_value(Attribute("s", "s", "string"), _typed("text")), text)
    assert written == json.dumps(text, ensure_ascii=False)


@pytest.mark.parametrize(
    ("kind", "sql_type"),
    [("string", "text"), ("datetime", "timestamptz"), ("integer", "integer")],
)
def test_a_missing_value_is_null(admin, kind, sql_type):
    missing = f"CAST(NULL AS {sql_type})"
    assert _one(admin, json_value(Attribute("x", "x", kind), missing)) == "null"
