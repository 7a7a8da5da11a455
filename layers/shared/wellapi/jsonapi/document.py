"""JSON:API 1.1 documents, written as text: each resource object and included record, then
the envelope around them.

A read's statement answers with each row's values (an instant already as its ISO text), and
``ObjectWriter`` writes the row's resource object and included records from them, compiled
once per request for its resource, ``fields`` and links: the database, the tier that does not
scale out, builds no JSON for a read. A keyed create's re-read has its statement write them
(``wellapi.sqltext.document``, the request's part given as values by ``document_values``):
a retry-safe create keeps those rows as its answer, and the release before this one replays
them as JSON text. Both write the same bytes (``tests/database/test_document_writers.py``).
What is left is the envelope: ``data``, ``included`` without duplicates, ``links`` and
``meta``, joined as text around the rows' own.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from json.encoder import encode_basestring
from typing import Any, Protocol
from uuid import UUID

from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import RESOURCES, Attribute, Parent, Resource

JSONAPI = {"version": "1.1"}
_OPENING = '{"jsonapi":{"version":"1.1"},"data":'


# json.dumps makes an encoder for each call given options; one made once writes the same text.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump(value: Any) -> str:
    """JSON text as every answer writes it: compact, non-ASCII text as it is."""
    return _ENCODER.encode(value)


@functools.cache
def _name(text: str) -> str:
    """A member's name or a type as JSON text: the descriptions' few, each written once."""
    return dump(text)


class ValueRow(Protocol):
    """What ``ObjectWriter`` reads from one row of a read (``wellapi.store.rows.ReadRow``):
    its id, its attributes' values (an instant as ISO text), its parents' ids, and for each
    included record whether it is shown and its attributes' values."""

    @property
    def id(self) -> str: ...

    def value(self, attribute: str) -> Any: ...

    def linkage(self, relationship: str) -> str | None: ...

    def visible(self, relationship: str) -> bool: ...

    def parent_value(self, relationship: str, attribute: str) -> Any: ...


class DocumentRow(Protocol):
    """What a document reads from one row of a read: its resource object as JSON text, and
    each requested include's record as JSON text (None where ``include`` shows nothing).
    ``wellapi.store.rows.ReadRow`` is one; this package never imports the SQL packages."""

    @property
    def document(self) -> str: ...

    def included(self, relationship: str) -> str | None: ...


# The resources this API serves, by type: a link may lead only to one of these. The platform's
# own records (accounts, workspaces, providers...) are served by another API and get no link.
SERVED: dict[str, Resource] = {r.type: r for r in RESOURCES.values()}


def served(resource: Resource) -> bool:
    """Whether ``resource`` has routes of its own here (the catalog's providers do not)."""
    return SERVED.get(resource.type) is resource


def served_parent(parent: Parent) -> Resource | None:
    """The resource of ours an included record is, if any: its links lead there."""
    return SERVED.get(parent.type)


class Linker:
    """Absolute URLs of the routes this API serves, for links a client can follow as they are.

    The workspace the request named rides along on every link: a caller reading another
    workspace it may see (a service, a group member) reaches the same rows by following them.
    The statement writes the rows' own links from the same two parts (``base_url``,
    ``suffix``), so a link made here and one made there are the same text.
    """

    def __init__(self, base_url: str, workspace: UUID | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.suffix = f"?workspace_id={workspace}" if workspace is not None else ""

    def prefix(self, resource: Resource) -> str:
        """What precedes a row's id in its links."""
        return f"{self.base_url}/v1/{resource.path}/"

    def item(self, resource: Resource, row_id: str, tail: str = "") -> str:
        return f"{self.prefix(resource)}{row_id}{tail}{self.suffix}"


def _instant(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _value(value: Any) -> str:
    return "null" if value is None else dump(value)


# An attribute's value as JSON text, as ``to_json`` writes it (the statement's writer): an
# instant comes as its ISO text already; text is escaped as ``dump`` escapes it, by the same
# function (``json.encoder.encode_basestring``), without an encoder made for each value.
_WRITTEN: dict[str, Callable[[Any], str]] = {"datetime": _instant, "string": _text, "enum": _text}


class _Members:
    """The attributes of one type that ``fields[type]`` keeps, each with its key's text and
    how its value is written; and whether the group is written at all (a fieldset keeping none
    of them leaves it out)."""

    def __init__(self, attributes: Iterable[Attribute], wanted: frozenset[str] | None) -> None:
        self.kept = [
            (a.name, _WRITTEN.get(a.kind, _value), _name(a.name) + ":")
            for a in attributes
            if wanted is None or a.name in wanted
        ]
        self.written = wanted is None or bool(self.kept)

    def text(self, value: Callable[[str], Any]) -> str:
        """``,"attributes":{...}`` of the kept members, each ``value(name)``; or nothing."""
        if not self.written:
            return ""
        members = [key + write(value(name)) for name, write, key in self.kept]
        return ',"attributes":{' + ",".join(members) + "}"


class ObjectWriter:
    """Writes a read's resource objects and included records from their rows' values, for one
    request: its resource, which members ``fields`` keeps, what it includes, and its links
    (``Linker``). Each is the text a keyed create's re-read's statement writes
    (``wellapi.sqltext.document``: member order, links, ``fields``), byte for byte."""

    def __init__(self, resource: Resource, query: ReadQuery, linker: Linker) -> None:
        wanted = query.fields.get(resource.type)
        self._attributes = _Members(resource.attributes, wanted)
        relationships = [r for r in resource.relationships if wanted is None or r.name in wanted]
        self._relationships = [
            (r.name, _name(r.name) + ":", '{"type":' + _name(r.parent.type) + ',"id":"')
            for r in relationships
        ]
        self._any_relationship = wanted is None or bool(relationships)
        self._opening = '{"type":' + _name(resource.type) + ',"id":"'
        self._suffix = _json_text(linker.suffix)
        self._prefix = _json_text(linker.prefix(resource)) if served(resource) else None
        self._included = {
            name: self._record_writer(resource.relationship(name).parent, query, linker)
            for name in query.include
        }
        # A page's rows point at the same few records: each is written once a request.
        self._records: dict[tuple[str, str], str | None] = {}

    def _record_writer(self, parent: Parent, query: ReadQuery, linker: Linker) -> _RecordWriter:
        ours = served_parent(parent)
        prefix = _json_text(linker.prefix(ours)) if ours is not None else None
        members = _Members(parent.attributes, query.fields.get(parent.type))
        opening = '{"type":' + _name(parent.type) + ',"id":"'
        return _RecordWriter(opening, members, prefix, self._suffix)

    def resource_object(self, row: ValueRow) -> str:
        row_id = row.id
        parts = [self._opening, row_id, '"', self._attributes.text(row.value)]
        link = None if self._prefix is None else self._prefix + row_id
        if self._any_relationship:
            members = (
                key + self._relationship(row.linkage(name), opening, name, link)
                for name, key, opening in self._relationships
            )
            parts += [',"relationships":{', ",".join(members), "}"]
        if link is not None:
            parts += [',"links":{"self":"', link, self._suffix, '"}']
        parts.append("}")
        return "".join(parts)

    def _relationship(
        self, parent_id: str | None, opening: str, name: str, link: str | None
    ) -> str:
        data = "null" if parent_id is None else f'{opening}{parent_id}"}}'
        if link is None:
            return f'{{"data":{data}}}'
        suffix = self._suffix
        return (
            f'{{"data":{data},"links":{{"self":"{link}/relationships/{name}{suffix}",'
            f'"related":"{link}/{name}{suffix}"}}}}'
        )

    def included(self, row: ValueRow, relationship: str) -> str | None:
        """The record ``relationship`` points at, as ``include`` shows it: None when it points
        at none or the caller may not see it."""
        parent_id = row.linkage(relationship)
        if parent_id is None:
            return None
        key = (relationship, parent_id)
        if key not in self._records:
            # Whether the caller sees a record is the record's own (live, in its scope).
            shown = row.visible(relationship)
            writer = self._included[relationship]
            record = writer.write(row, relationship, parent_id) if shown else None
            self._records[key] = record
        return self._records[key]


class _RecordWriter:
    """An included record of one parent type, as ``ObjectWriter`` writes it."""

    def __init__(self, opening: str, members: _Members, prefix: str | None, suffix: str) -> None:
        self._opening = opening
        self._members = members
        self._prefix = prefix
        self._suffix = suffix

    def write(self, row: ValueRow, relationship: str, parent_id: str) -> str:
        value = functools.partial(row.parent_value, relationship)
        parts = [self._opening, parent_id, '"', self._members.text(value)]
        if self._prefix is not None:
            parts += [',"links":{"self":"', self._prefix, parent_id, self._suffix, '"}']
        parts.append("}")
        return "".join(parts)


# ---------------------------------------------------------------------------------------------
# The request's part of a statement's document text.
# ---------------------------------------------------------------------------------------------

LINK_BASE = "link_base"
LINK_SUFFIX = "link_suffix"


def shown(type_name: str, member: str) -> str:
    """The value saying whether ``fields[type_name]`` keeps ``member`` of that type."""
    return f"show_{type_name}__{member}"


def any_shown(type_name: str, group: str) -> str:
    """The value saying whether any of the type's ``attributes`` (or ``relationships``) is
    kept: a sparse fieldset that keeps none leaves the member out."""
    return f"any_{type_name}__{group}"


def _json_text(text: str) -> str:
    """``text`` as it reads inside a JSON string."""
    return dump(text)[1:-1]


def _fieldset(
    type_name: str, members: Iterable[str], wanted: frozenset[str] | None, group: str
) -> dict[str, bool]:
    flags = {shown(type_name, m): wanted is None or m in wanted for m in members}
    flags[any_shown(type_name, group)] = wanted is None or any(flags.values())
    return flags


def document_values(resource: Resource, query: ReadQuery, linker: Linker) -> dict[str, Any]:
    """The values a read's template takes for its documents: the links' two parts (as JSON
    string text) and, for the resource's type and each included one, which members to show."""
    fields = query.fields
    values: dict[str, Any] = {
        LINK_BASE: _json_text(linker.base_url),
        LINK_SUFFIX: _json_text(linker.suffix),
    }
    wanted = fields.get(resource.type)
    values |= _fieldset(resource.type, (a.name for a in resource.attributes), wanted, "attributes")
    relationships = (r.name for r in resource.relationships)
    values |= _fieldset(resource.type, relationships, wanted, "relationships")
    for name in query.include:
        parent = resource.relationship(name).parent
        attributes = (a.name for a in parent.attributes)
        values |= _fieldset(parent.type, attributes, fields.get(parent.type), "attributes")
    return values


# ---------------------------------------------------------------------------------------------
# Documents, as text.
# ---------------------------------------------------------------------------------------------


def _included(rows: Sequence[DocumentRow], include: Sequence[str]) -> str:
    """``included``: each record once, in the order the rows first name it. The same record
    is the same text (its type, id and the fields asked), so the text is its key."""
    records: dict[str, None] = {}
    for row in rows:
        for name in include:
            record = row.included(name)
            if record is not None:
                records[record] = None
    return ',"included":[' + ",".join(records) + "]"


def resource_document(row: DocumentRow, query: ReadQuery, self_link: str) -> str:
    """A resource document: the row, what it includes, and its link."""
    included = _included((row,), query.include) if query.include_requested else ""
    return f'{_OPENING}{row.document}{included},"links":{{"self":{dump(self_link)}}}}}'


def collection_document(
    rows: Sequence[DocumentRow],
    query: ReadQuery,
    links: dict[str, str | None],
    meta: dict[str, Any],
) -> str:
    """A collection document: the page's rows in order, what they include, links and meta."""
    data = ",".join(row.document for row in rows)
    included = _included(rows, query.include) if query.include_requested else ""
    return f'{_OPENING}[{data}]{included},"links":{dump(links)},"meta":{dump(meta)}}}'


def related_document(record: str | None, self_link: str) -> str:
    """The related-resource document: what ``include`` would add for the row, or null."""
    data = "null" if record is None else record
    return f'{_OPENING}{data},"links":{{"self":{dump(self_link)}}}}}'


def relationship_document(
    resource: Resource,
    row_id: str,
    name: str,
    parent_id: str | None,
    linker: Linker,
    self_link: str,
) -> str:
    """The relationship document: the linkage as the resource itself shows it. A
    relationship route exists only for a resource served here, whose links exist."""
    parent_type = resource.relationship(name).parent.type
    linkage = None if parent_id is None else {"type": parent_type, "id": parent_id}
    links = {"self": self_link, "related": linker.item(resource, row_id, f"/{name}")}
    return f'{_OPENING}{dump(linkage)},"links":{dump(links)}}}'
