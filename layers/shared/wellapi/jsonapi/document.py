"""JSON:API 1.1 documents, assembled from the JSON text PostgreSQL writes for each row.

A read's statement (``wellapi.sqltext.document``) writes every resource object, and every
included record, as JSON text: the values never become Python objects, so nothing is parsed,
formatted back or encoded again on the way out. What is left here is the envelope: ``data``,
``included`` without duplicates, ``links`` and ``meta``, joined as text around the rows' own.

What the statement cannot know is the request's: the links' base (scheme, host, stage) and the
workspace a link carries, and which members ``fields[type]`` keeps. Both go into its template
as values (``document_values``), so one composed statement serves every request of its shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol
from uuid import UUID

from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import RESOURCES, Parent, Resource

JSONAPI = {"version": "1.1"}
_OPENING = '{"jsonapi":{"version":"1.1"},"data":'


def dump(value: Any) -> str:
    """JSON text as every answer writes it: compact, non-ASCII text as it is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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

    def item(self, resource: Resource, row_id: str, tail: str = "") -> str:
        return f"{self.base_url}/v1/{resource.path}/{row_id}{tail}{self.suffix}"


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
