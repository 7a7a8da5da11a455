"""A read's resource objects and included records, written as JSON text by PostgreSQL.

Each value is written once, by the server, in the form the document shows it: an instant as
``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC (microseconds only when there are some, as Python's
``isoformat`` writes them), text escaped by ``to_json`` (which escapes exactly what Python's
``json.dumps(..., ensure_ascii=False)`` does), integers, booleans and enum values as
``to_json`` writes them, ids as their canonical text. The members come in the order of the
resource's description, each behind the ``fields`` value that keeps it
(``wellapi.jsonapi.document.document_values``); the links are made from the request's base
and workspace suffix, given as values too. ``tests/database/test_document_bytes.py`` holds the
result to the bytes the documents had when Python wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Text, and_, bindparam, case, cast, func
from sqlalchemy import literal_column as sql_literal

from wellapi.jsonapi.document import (
    LINK_BASE,
    LINK_SUFFIX,
    any_shown,
    dump,
    served,
    served_parent,
    shown,
)
from wellapi.resources import Attribute, Parent, Relationship, Resource


def constant(text: str) -> ColumnElement[str]:
    """``text`` as an SQL string constant written into the statement (not a value of it)."""
    # The compiled statement is a %-template (``wellapi.store.templates``), which renders a
    # doubled percent sign as one.
    return sql_literal("'" + text.replace("'", "''").replace("%", "%%") + "'", Text)


def formatted(template: str, *arguments: ColumnElement[Any]) -> ColumnElement[str]:
    """``format(template, ...)``: an object's text in one call, each argument (``%N$s``)
    computed once however often the text names it. A NULL argument writes nothing."""
    return func.format(constant(template), *arguments)


def joined(*parts: ColumnElement[Any] | str) -> ColumnElement[str]:
    """The parts' text one after the other (``||``: NULL if any part is)."""
    elements = [constant(p) if isinstance(p, str) else p for p in parts]
    return reduce(lambda left, right: left.op("||", return_type=Text)(right), elements)


def _value(name: str) -> ColumnElement[Any]:
    return bindparam(name, type_=Text)


def _flag(name: str) -> ColumnElement[bool]:
    return bindparam(name, type_=Boolean)


def instant(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A ``timestamptz`` as ISO 8601 text in UTC, as the documents (and cursors) carry it."""
    utc = column.op("AT TIME ZONE", return_type=column.type)(constant("UTC"))
    text = func.to_char(utc, constant('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    # No fraction when there are no microseconds: only the end can read so.
    return func.replace(text, constant(".000000Z"), constant("Z"))


def json_value(attribute: Attribute, column: ColumnElement[Any]) -> ColumnElement[str]:
    """The attribute's value as JSON text: never NULL (a missing value is ``null``)."""
    if attribute.kind == "datetime":
        return case((column.is_(None), constant("null")), else_=joined('"', instant(column), '"'))
    return func.coalesce(cast(func.to_json(column), Text), constant("null"))


def _members(
    type_name: str,
    group: str,
    members: list[tuple[str, ColumnElement[str]]],
) -> ColumnElement[str]:
    """``,"<group>":{...}`` of the members ``fields`` keeps, or nothing if it keeps none."""
    kept = [
        case((_flag(shown(type_name, name)), joined(dump(name) + ":", value)))
        for name, value in members
    ]
    body = func.concat_ws(constant(","), *kept) if kept else constant("")
    return case(
        (_flag(any_shown(type_name, group)), joined(f',"{group}":{{', body, "}")),
        else_=constant(""),
    )


def _prefix(path: str, row_id: ColumnElement[str]) -> ColumnElement[str]:
    """A row's own link but for the workspace suffix, as JSON string text
    (``wellapi.jsonapi.document.Linker.item``)."""
    return joined(_value(LINK_BASE), f"/v1/{path}/", row_id)


def _linkage(parent: Parent, parent_id: ColumnElement[str]) -> ColumnElement[str]:
    identifier = formatted('{"type":' + dump(parent.type) + ',"id":"%s"}', parent_id)
    return case((parent_id.is_(None), constant("null")), else_=identifier)


def resource_object(
    resource: Resource,
    row_id: ColumnElement[str],
    attributes: Mapping[str, ColumnElement[Any]],
    linkages: Mapping[str, ColumnElement[str]],
) -> ColumnElement[str]:
    """The row's resource object: type, id, attributes, relationships (linkage and, for a
    resource served here, links), and its own link."""
    ours = served(resource)
    prefix = _prefix(resource.path, row_id)
    suffix = _value(LINK_SUFFIX)
    relationships = []
    for rel in resource.relationships:
        linkage = _linkage(rel.parent, linkages[rel.name])
        if ours:
            value = formatted(
                '{"data":%1$s,"links":{"self":"%2$s/relationships/'
                + rel.name
                + '%3$s","related":"%2$s/'
                + rel.name
                + '%3$s"}}',
                linkage,
                prefix,
                suffix,
            )
        else:
            value = joined('{"data":', linkage, "}")
        relationships.append((rel.name, value))
    own_link = ',"links":{"self":"%4$s%5$s"}' if ours else ""
    members = _members(
        resource.type,
        "attributes",
        [(a.name, json_value(a, attributes[a.name])) for a in resource.attributes],
    )
    return formatted(
        '{"type":' + dump(resource.type) + ',"id":"%1$s"%2$s%3$s' + own_link + "}",
        row_id,
        members,
        _members(resource.type, "relationships", relationships),
        *((prefix, suffix) if ours else ()),
    )


def included_record(
    rel: Relationship,
    parent_id: ColumnElement[str],
    attributes: Mapping[str, ColumnElement[Any]],
    visible: ColumnElement[bool],
) -> ColumnElement[str]:
    """The record a relationship points at, as ``include`` shows it: NULL when it points at
    none or the caller may not see it."""
    parent = rel.parent
    ours = served_parent(parent)
    own_link = ',"links":{"self":"%3$s%4$s"}' if ours is not None else ""
    links = (_prefix(ours.path, parent_id), _value(LINK_SUFFIX)) if ours is not None else ()
    members = _members(
        parent.type,
        "attributes",
        [(a.name, json_value(a, attributes[a.name])) for a in parent.attributes],
    )
    record = formatted(
        '{"type":' + dump(parent.type) + ',"id":"%1$s"%2$s' + own_link + "}",
        parent_id,
        members,
        *links,
    )
    return case((and_(parent_id.is_not(None), visible), record))
