"""A query string read as the account ledger's (``wellapi.jsonapi.query``), or the 400 error
object it is refused with: what the query grammar's unit tests ask."""

from __future__ import annotations

import pytest

from wellapi.errors import InvalidQueryParameter
from wellapi.jsonapi.query import ReadKind, ReadQuery, parse_read_query
from wellapi.resources import RESOURCES

RESOURCE = RESOURCES["account_workspace_connectors"]


def parse(raw: str, kind: ReadKind = "list") -> ReadQuery:
    return parse_read_query(RESOURCE, raw, kind)


def refused(raw: str, kind: ReadKind = "list") -> dict[str, object]:
    with pytest.raises(InvalidQueryParameter) as caught:
        parse(raw, kind)
    obj = caught.value.to_object()
    assert obj["status"] == "400"
    return obj
