"""Rows to JSON:API 1.1 documents: resource objects, full linkage, ``included``, links."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import RESOURCES, Attribute, Parent, Resource

JSONAPI = {"version": "1.1"}


class ResourceRow(Protocol):
    """What a document reads from one row of a read: its id, its attributes, each
    relationship's linkage, whether the caller may see that parent, and the included parent's
    attributes. ``wellapi.store.rows.ReadRow`` is one; this package never imports the SQL rooms.
    """

    @property
    def id(self) -> Any: ...

    def attribute(self, name: str) -> Any: ...

    def linkage(self, relationship: str) -> Any: ...

    def visible(self, relationship: str) -> bool: ...

    def included(self, relationship: str, attribute: str) -> Any: ...


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


# The resources this API serves, by type: a link may lead only to one of these. The platform's
# own records (accounts, workspaces, providers...) are served by another API and get no link.
SERVED: dict[str, Resource] = {r.type: r for r in RESOURCES.values()}


def served(resource: Resource) -> bool:
    """Whether ``resource`` has routes of its own here (the catalog's providers do not)."""
    return SERVED.get(resource.type) is resource


class Linker:
    """Absolute URLs of the routes this API serves, for links a client can follow as they are.

    The workspace the request named rides along on every link: a caller reading another
    workspace it may see (a service, a group member) reaches the same rows by following them.
    """

    def __init__(self, base_url: str, workspace: UUID | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.suffix = f"?workspace_id={workspace}" if workspace is not None else ""

    def _item(self, resource: Resource, row_id: str, tail: str = "") -> str:
        return f"{self.base_url}/v1/{resource.path}/{row_id}{tail}{self.suffix}"

    def resource(self, resource: Resource, row_id: str) -> str | None:
        """The resource's own route, unless it is not one this API serves (the catalog's)."""
        return self._item(resource, row_id) if served(resource) else None

    def parent(self, parent: Parent, row_id: str) -> str | None:
        resource = SERVED.get(parent.type)
        return self._item(resource, row_id) if resource is not None else None

    def relationship(self, resource: Resource, row_id: str, name: str) -> dict[str, str] | None:
        """A relationship's ``self`` (its linkage) and ``related`` (the record) routes."""
        if not served(resource):
            return None
        return {
            "self": self._item(resource, row_id, f"/relationships/{name}"),
            "related": self._item(resource, row_id, f"/{name}"),
        }


def _attributes(
    attributes: Sequence[Attribute],
    value: Callable[[str], Any],
    wanted: frozenset[str] | None,
) -> dict[str, Any]:
    return {
        a.name: json_value(value(a.name)) for a in attributes if wanted is None or a.name in wanted
    }


class DocumentBuilder:
    def __init__(self, resource: Resource, query: ReadQuery, linker: Linker) -> None:
        self.resource = resource
        self.query = query
        self.linker = linker
        self.included: dict[tuple[str, str], dict[str, Any]] = {}

    def resource_object(self, row: ResourceRow) -> dict[str, Any]:
        resource = self.resource
        row_id = str(row.id)
        wanted = self.query.fields.get(resource.type)
        obj: dict[str, Any] = {"type": resource.type, "id": row_id}
        attributes = _attributes(resource.attributes, row.attribute, wanted)
        if attributes or wanted is None:
            obj["attributes"] = attributes
        relationships: dict[str, Any] = {}
        for rel in resource.relationships:
            if wanted is None or rel.name in wanted:
                relationships[rel.name] = self.relationship_object(row, rel.name)
        if relationships:
            obj["relationships"] = relationships
        link = self.linker.resource(resource, row_id)
        if link is not None:
            obj["links"] = {"self": link}
        for name in self.query.include:
            included = self.parent_object(row, name)
            if included is not None:
                self.included.setdefault((included["type"], included["id"]), included)
        return obj

    def linkage(self, row: ResourceRow, name: str) -> dict[str, str] | None:
        parent_id = row.linkage(name)
        if parent_id is None:
            return None
        return {"type": self.resource.relationship(name).parent.type, "id": str(parent_id)}

    def relationship_object(self, row: ResourceRow, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = {"data": self.linkage(row, name)}
        links = self.linker.relationship(self.resource, str(row.id), name)
        if links is not None:
            obj["links"] = links
        return obj

    def parent_object(self, row: ResourceRow, name: str) -> dict[str, Any] | None:
        """The record ``name`` points at, as ``include`` shows it: None if out of scope."""
        parent = self.resource.relationship(name).parent
        parent_id = row.linkage(name)
        if parent_id is None or not row.visible(name):
            return None
        wanted = self.query.fields.get(parent.type)
        obj: dict[str, Any] = {"type": parent.type, "id": str(parent_id)}

        def included(attribute: str) -> Any:
            return row.included(name, attribute)

        attributes = _attributes(parent.attributes, included, wanted)
        if attributes or wanted is None:
            obj["attributes"] = attributes
        link = self.linker.parent(parent, obj["id"])
        if link is not None:
            obj["links"] = {"self": link}
        return obj

    def related(self, row: ResourceRow, name: str, self_link: str) -> dict[str, Any]:
        """The related-resource document: what ``include=name`` would add, or null."""
        return {
            "jsonapi": JSONAPI,
            "data": self.parent_object(row, name),
            "links": {"self": self_link},
        }

    def relationship(self, row: ResourceRow, name: str, self_link: str) -> dict[str, Any]:
        """The relationship document: the linkage as the resource itself shows it."""
        obj = self.relationship_object(row, name)
        # A relationship route exists only for a resource served here, whose links exist.
        return {
            "jsonapi": JSONAPI,
            "data": obj["data"],
            "links": {"self": self_link, "related": obj["links"]["related"]},
        }

    def single(self, row: ResourceRow, self_link: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"jsonapi": JSONAPI, "data": self.resource_object(row)}
        if self.query.include_requested:
            doc["included"] = list(self.included.values())
        doc["links"] = {"self": self_link}
        return doc

    def collection(
        self,
        rows: Sequence[ResourceRow],
        links: dict[str, str | None],
        meta: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {"jsonapi": JSONAPI, "data": [self.resource_object(r) for r in rows]}
        if self.query.include_requested:
            doc["included"] = list(self.included.values())
        doc["links"] = links
        if meta:
            doc["meta"] = meta
        return doc
