"""Rows to JSON:API 1.1 documents: resource objects, full linkage, ``included``, links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import Attribute, Parent, Resource
from wellapi.shapes import Layout

JSONAPI = {"version": "1.1"}


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


class Linker:
    """Absolute URLs of this API's resources and of the parents' canonical routes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def resource(self, resource: Resource, row_id: str) -> str:
        return f"{self.base_url}/v1/{resource.path}/{row_id}"

    def collection(self, resource: Resource) -> str:
        return f"{self.base_url}/v1/{resource.path}"

    def parent(self, parent: Parent, row_id: str) -> str:
        return f"{self.base_url}/v1/{parent.path}/{row_id}"


def _attributes(
    attributes: Sequence[Attribute],
    row: Sequence[Any],
    index: dict[str, int],
    prefix: str,
    wanted: frozenset[str] | None,
) -> dict[str, Any]:
    return {
        a.name: json_value(row[index[prefix + a.name]])
        for a in attributes
        if wanted is None or a.name in wanted
    }


class DocumentBuilder:
    def __init__(
        self, resource: Resource, query: ReadQuery, layout: Layout, linker: Linker
    ) -> None:
        self.resource = resource
        self.query = query
        self.index = layout.index()
        self.linker = linker
        self.included: dict[tuple[str, str], dict[str, Any]] = {}

    def resource_object(self, row: Sequence[Any]) -> dict[str, Any]:
        resource, index = self.resource, self.index
        row_id = str(row[index["id"]])
        wanted = self.query.fields.get(resource.type)
        obj: dict[str, Any] = {"type": resource.type, "id": row_id}
        attributes = _attributes(resource.attributes, row, index, "a_", wanted)
        if attributes or wanted is None:
            obj["attributes"] = attributes
        relationships: dict[str, Any] = {}
        for rel in resource.relationships:
            if wanted is not None and rel.name not in wanted:
                continue
            parent_id = row[index["r_" + rel.name]]
            if parent_id is None:
                relationships[rel.name] = {"data": None}
                continue
            pid = str(parent_id)
            relationships[rel.name] = {
                "data": {"type": rel.parent.type, "id": pid},
                "links": {"related": self.linker.parent(rel.parent, pid)},
            }
        if relationships:
            obj["relationships"] = relationships
        obj["links"] = {"self": self.linker.resource(resource, row_id)}
        self._collect_included(row)
        return obj

    def _collect_included(self, row: Sequence[Any]) -> None:
        index = self.index
        for name in self.query.include:
            parent = self.resource.relationship(name).parent
            parent_id = row[index["r_" + name]]
            if parent_id is None or not row[index["v_" + name]]:
                continue
            key = (parent.type, str(parent_id))
            if key in self.included:
                continue
            wanted = self.query.fields.get(parent.type)
            obj: dict[str, Any] = {"type": parent.type, "id": key[1]}
            attributes = _attributes(parent.attributes, row, index, f"i_{name}_", wanted)
            if attributes or wanted is None:
                obj["attributes"] = attributes
            obj["links"] = {"self": self.linker.parent(parent, key[1])}
            self.included[key] = obj

    def single(self, row: Sequence[Any], self_link: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"jsonapi": JSONAPI, "data": self.resource_object(row)}
        if self.query.include_requested:
            doc["included"] = list(self.included.values())
        doc["links"] = {"self": self_link}
        return doc

    def collection(
        self,
        rows: Sequence[Sequence[Any]],
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
