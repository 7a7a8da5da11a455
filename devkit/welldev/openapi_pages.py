"""How the OpenAPI document (``welldev.openapi``) says a List pages and counts.

Three forms, one per request (``wellapi.jsonapi.query``): the platform's ``limit`` /
``cursor`` and the cursor pagination profile's ``page[...]`` (the same cursor paging), and
numbered pages (``page[number]`` with ``page[size]``) as deep as ``MAX_PAGE_DEPTH`` rows.
"""

from __future__ import annotations

from typing import Any

from wellapi.jsonapi import CURSOR_PROFILE
from wellapi.jsonapi.query import MAX_PAGE_DEPTH, MAX_PAGE_SIZE
from wellapi.operations.read import TOTAL_BOUND

_SIZE: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
_CURSOR: dict[str, Any] = {"type": "string"}

# (name, schema, description) of each paging parameter of a List.
PAGE_PARAMETERS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("limit", _SIZE, "Rows per page, default 20 (the platform's form; not with `page[...]`)."),
    (
        "cursor",
        _CURSOR,
        "The `cursor` of the previous answer's `links.next` or `links.prev`, as it is: opaque "
        "(the platform's form; not with `page[...]`).",
    ),
    ("page[size]", _SIZE, "Default 20 (the profile's form; not with `limit`)."),
    ("page[after]", _CURSOR, f"Cursor ({CURSOR_PROFILE}; not with `cursor`)."),
    ("page[before]", _CURSOR, f"Cursor ({CURSOR_PROFILE}; not with `cursor`)."),
    (
        "page[number]",
        {"type": "integer", "minimum": 1},
        "A numbered page, 1 the first, of `page[size]` rows (not with a cursor or `limit`). It "
        f"may start at most {MAX_PAGE_DEPTH} rows deep (400 `PAGE_NUMBER_TOO_DEEP`); the "
        "deepest page's `links.next` is a cursor. The links are numbered: `first`, `prev`, "
        f"`next`, and `last` while the List holds at most {TOTAL_BOUND} rows.",
    ),
)

# A List's ``meta``: the platform's counts.
LIST_META: dict[str, Any] = {
    "type": "object",
    "required": ["total", "count"],
    "properties": {
        "total": {
            "type": "integer",
            "minimum": 0,
            "maximum": TOTAL_BOUND,
            "description": f"The rows of every page of this List (the cursor aside): exact up to "
            f"{TOTAL_BOUND}; a List holding more says {TOTAL_BOUND} and `total_is_lower_bound`.",
        },
        "total_is_lower_bound": {
            "type": "boolean",
            "enum": [True],
            "description": f"Present (true) only when the List holds more than {TOTAL_BOUND} "
            "rows: `total` is then a lower bound, not a count.",
        },
        "count": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_PAGE_SIZE,
            "description": "The rows of this page (`data`'s length).",
        },
    },
}

# The changes feed pages forward only, in either form: no page[before], and its cursor comes
# from links.next or meta.poll.
_FEED_CURSOR = (
    "cursor",
    _CURSOR,
    "The `cursor` of the previous answer's `links.next` or `meta.poll`, as it is: opaque (the "
    "platform's form; not with `page[...]`).",
)
FEED_PAGE_PARAMETERS = (PAGE_PARAMETERS[0], _FEED_CURSOR, *PAGE_PARAMETERS[2:4])

# The feed's ``meta``: how many records this page holds (a feed is not counted), and where to
# ask later for what commits after it.
FEED_META: dict[str, Any] = {
    "type": "object",
    "required": ["count", "poll"],
    "properties": {
        "poll": {
            "type": "string",
            "description": "The link to follow later for what commits after this page: after "
            "its last record (an empty page: this request's own link). Always present; "
            "`links.next` is the same link while more records are there now, null once the "
            "consumer has caught up.",
        },
        "count": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_PAGE_SIZE,
            "description": "The records of this page (`data`'s length).",
        },
    },
}
