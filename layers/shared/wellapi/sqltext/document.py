"""A keyed create's re-read: its resource object and included records, written as JSON text by
PostgreSQL (every other read's are written by the function,
``wellapi.jsonapi.document.ObjectWriter``, from the same values: an instant as ``instant``
writes it).

A retry-safe create keeps its re-read's rows as the answer a retry gets, and the release before
this one, which a deploy or a rollback runs beside it, replays those rows as JSON text: so that
statement writes them as it did. ``tests/database/test_document_writers.py`` holds the
two writers to the same bytes for any values, ``fields``, ``include`` and links.

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
from wellapi.resources.conditions import constant, slot


def formatted(template: str, *arguments: str) -> str:
    """``format(template, ...)``: an object's text in one call, each argument (``%N$s``)
    computed once however often the text names it. A NULL argument writes nothing."""
    return f"format({', '.join((constant(template), *arguments))})"


def joined(*parts: str) -> str:
    """The parts' text one after the other (``||``: NULL if any part is); a part given as
    ``(text,)`` is a constant."""
    return "(" + " || ".join(parts) + ")"


def instant(column: str) -> str:
    """A ``timestamptz`` as ISO 8601 text in UTC, as the documents (and cursors) carry it."""
    text = f"to_char({column} AT TIME ZONE 'UTC', {constant('YYYY-MM-DD"T"HH24:MI:SS.US"Z"')})"
    # No fraction when there are no microseconds: only the end can read so.
    return f"replace({text}, '.000000Z', 'Z')"


def json_value(attribute: Attribute, column: str) -> str:
    """The attribute's value as JSON text: never NULL (a missing value is ``null``)."""
    if attribute.kind == "datetime":
        quoted = joined(constant('"'), instant(column), constant('"'))
        return f"CASE WHEN {column} IS NULL THEN 'null' ELSE {quoted} END"
    return f"coalesce(CAST(to_json({column}) AS TEXT), 'null')"


def members(type_name: str, group: str, values: list[tuple[str, str]]) -> str:
    """``,"<group>":{...}`` of the members ``fields`` keeps, or nothing if it keeps none."""
    kept = [
        f"CASE WHEN {slot(shown(type_name, name), 'BOOLEAN')}"
        f" THEN {joined(constant(dump(name) + ':'), value)} END"
        for name, value in values
    ]
    body = f"concat_ws(',', {', '.join(kept)})" if kept else "''"
    opened = constant(f',"{group}":{{')
    return (
        f"CASE WHEN {slot(any_shown(type_name, group), 'BOOLEAN')}"
        f" THEN {joined(opened, body, constant('}'))} ELSE '' END"
    )


def link_prefix(path: str, row_id: str) -> str:
    """A row's own link but for the workspace suffix, as JSON string text
    (``wellapi.jsonapi.document.Linker.item``)."""
    return joined(slot(LINK_BASE, "TEXT"), constant(f"/v1/{path}/"), row_id)


def linkage(parent: Parent, parent_id: str) -> str:
    identifier = formatted('{"type":' + dump(parent.type) + ',"id":"%s"}', parent_id)
    return f"CASE WHEN {parent_id} IS NULL THEN 'null' ELSE {identifier} END"


def _relationship_value(rel: Relationship, parent_id: str, prefix: str | None) -> str:
    """A relationship member: its linkage, and its links when the resource is served here."""
    data = linkage(rel.parent, parent_id)
    if prefix is None:
        return joined(constant('{"data":'), data, constant("}"))
    template = (
        '{"data":%1$s,"links":{"self":"%2$s/relationships/'
        + rel.name
        + '%3$s","related":"%2$s/'
        + rel.name
        + '%3$s"}}'
    )
    return formatted(template, data, prefix, slot(LINK_SUFFIX, "TEXT"))


def resource_object(
    resource: Resource, row_id: str, attributes: Mapping[str, str], linkages: Mapping[str, str]
) -> str:
    """The row's resource object: type, id, attributes, relationships (linkage and, for a
    resource served here, links), and its own link."""
    ours = served(resource)
    prefix = link_prefix(resource.path, row_id) if ours else None
    relationships = [
        (rel.name, _relationship_value(rel, linkages[rel.name], prefix))
        for rel in resource.relationships
    ]
    own_link = ',"links":{"self":"%4$s%5$s"}' if ours else ""
    values = [(a.name, json_value(a, attributes[a.name])) for a in resource.attributes]
    links = (prefix, slot(LINK_SUFFIX, "TEXT")) if prefix is not None else ()
    return formatted(
        '{"type":' + dump(resource.type) + ',"id":"%1$s"%2$s%3$s' + own_link + "}",
        row_id,
        members(resource.type, "attributes", values),
        members(resource.type, "relationships", relationships),
        *links,
    )


def included_record(rel: Relationship, parent_id: str, alias: str, visible: str) -> str:
    """The record a relationship points at, as ``include`` shows it: NULL when it points at
    none or the caller may not see it."""
    parent = rel.parent
    ours = served_parent(parent)
    own_link = ',"links":{"self":"%3$s%4$s"}' if ours is not None else ""
    links = (
        (link_prefix(ours.path, parent_id), slot(LINK_SUFFIX, "TEXT")) if ours is not None else ()
    )
    values = [(a.name, json_value(a, f"{alias}.{a.column}")) for a in parent.attributes]
    record = formatted(
        '{"type":' + dump(parent.type) + ',"id":"%1$s"%2$s' + own_link + "}",
        parent_id,
        members(parent.type, "attributes", values),
        *links,
    )
    return f"CASE WHEN {parent_id} IS NOT NULL AND ({visible}) THEN {record} END"
