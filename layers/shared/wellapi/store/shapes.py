"""What decides the SQL text of a request (its shape), apart from the values in it.

Shapes are plain data: ``wellapi.sqltext.statements`` composes a shape's text once and keeps it,
keyed by the shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from wellapi.resources import Resource, Walk, resource_named
from wellapi.store.sql import Layout, Statement

if TYPE_CHECKING:  # a read function never loads what a write document holds
    from wellapi.resources.changes import ResourceDocument, WriteKind


# What a shape reads from a parsed query (``wellapi.jsonapi.query.ReadQuery`` is one): this
# package (store) never imports the JSON:API package, which parses it.


class Bound(Protocol):
    """A range filter: ``attribute`` ``operator`` ``value``."""

    @property
    def attribute(self) -> str: ...

    @property
    def operator(self) -> str: ...

    @property
    def value(self) -> Any: ...


class Position(Protocol):
    """A keyset cursor: the sort value and the id of the row to read after (or before)."""

    @property
    def value(self) -> Any: ...

    @property
    def id(self) -> Any: ...


class ReadRequest(Protocol):
    """A read's parameters, parsed and typed."""

    @property
    def include(self) -> tuple[str, ...]: ...

    @property
    def sort(self) -> str: ...

    @property
    def descending(self) -> bool: ...

    @property
    def relationship_filters(self) -> Sequence[tuple[str, Sequence[Any]]]: ...

    @property
    def attribute_filters(self) -> Sequence[tuple[str, Sequence[Any]]]: ...

    @property
    def ranges(self) -> Sequence[Bound]: ...

    @property
    def page_size(self) -> int: ...

    @property
    def after(self) -> Position | None: ...

    @property
    def before(self) -> Position | None: ...

    @property
    def offset(self) -> int: ...


@dataclass(frozen=True)
class ReadShape:
    """Everything that changes the SQL text of a read; values are not in it."""

    resource: str
    single: bool
    include: tuple[str, ...] = ()
    sort: str = "created_at"
    descending: bool = True
    relationship_filters: tuple[tuple[str, int], ...] = ()
    attribute_filters: tuple[tuple[str, int], ...] = ()
    ranges: tuple[tuple[str, str], ...] = ()
    cursor: str | None = None
    # A numbered page past the first: the rows before it are skipped (``OFFSET``).
    offset: bool = False
    # Service principals act across workspaces: no tenant condition (RLS says the same).
    service: bool = False
    # For a resource with a walk: the values of its indexed enum the List may show, in
    # the text (each value has its own partial index, which the planner matches on the text).
    enum_values: tuple[str, ...] = ()
    # A keyed create's re-read (``wellapi.operations.conditional_write.run_write``): its
    # statement writes the documents (JSON text), since a retry-safe create keeps its rows as
    # the answer a retry gets, and the previous release, which a deploy or a rollback runs
    # beside this one, replays them as such. Every other read's statement answers with the
    # values, and the function writes the documents.
    documents_in_sql: bool = False

    @classmethod
    def of(
        cls, resource: Resource, query: ReadRequest, *, single: bool, service: bool = False
    ) -> ReadShape:
        cursor = "after" if query.after else "before" if query.before else None
        attribute_filters = query.attribute_filters
        enum_values: tuple[str, ...] = ()
        walk = resource.default_walk
        if walk is not None and walk.indexed_enum is not None:
            indexed = walk.indexed_enum
            chosen = dict(attribute_filters).get(indexed)
            allowed = resource.attribute(indexed).enum
            enum_values = tuple(v for v in allowed if chosen is None or v in chosen)
            attribute_filters = tuple((n, v) for n, v in attribute_filters if n != indexed)
        return cls(
            resource=resource.key,
            single=single,
            include=query.include,
            sort=query.sort,
            descending=query.descending,
            # In name order: the same filters written in another order are the same shape.
            relationship_filters=tuple(sorted((n, len(v)) for n, v in query.relationship_filters)),
            attribute_filters=tuple(sorted((n, len(v)) for n, v in attribute_filters)),
            ranges=tuple(sorted((r.attribute, r.operator) for r in query.ranges)),
            cursor=cursor,
            offset=query.offset > 0 and not single,
            service=service,
            enum_values=enum_values,
        )

    @property
    def across_workspaces(self) -> bool:
        """Whether this read is held to no workspace: a service principal's, of a named row.

        A service principal retrieves a row of any workspace by id; its List reads the parents
        its filter names (any workspace's connectors, records, groups, workspaces) or else the
        scoped workspace, so no List reads every tenant at once.
        """
        if not self.service or self.single:
            return self.service
        named = {name for name, _ in self.relationship_filters}
        return not named.isdisjoint(resource_named(self.resource).scope_relationships)

    @property
    def walk(self) -> Walk | None:
        """The walk this List takes (``Walk``), if any.

        The records a filter names, when it names some (their rows are few); otherwise the
        default walk over the tenant's connectors, unless the filter names another parent.
        """
        resource = resource_named(self.resource)
        if self.single:
            return None
        named = {name for name, _ in self.relationship_filters}
        for walk in resource.walks:
            if walk.indexed_enum is None and walk.relationship in named:
                return walk
            if walk.indexed_enum is not None and named <= {walk.relationship}:
                return walk
        return None


def read_params(query: ReadRequest, *, row_id: Any = None) -> dict[str, Any]:
    """The values that go into a ``ReadShape``'s template."""
    params: dict[str, Any] = {"limit": query.page_size + 1}
    if row_id is not None:
        params["row_id"] = row_id
    for name, ids in query.relationship_filters:
        params.update({f"rel_{name}_{i}": v for i, v in enumerate(ids)})
    for name, values in query.attribute_filters:
        params.update({f"attr_{name}_{i}": v for i, v in enumerate(values)})
    for r in query.ranges:
        params[f"range_{r.attribute}_{r.operator}"] = r.value
    if query.offset:
        params["offset"] = query.offset
    cursor = query.after or query.before
    if cursor is not None:
        params["cursor_value"] = cursor.value
        params["cursor_id"] = cursor.id
    return params


@dataclass(frozen=True)
class WriteShape:
    resource: str
    kind: WriteKind
    attributes: tuple[str, ...]
    relationships: tuple[str, ...]
    null_relationships: tuple[str, ...]
    service: bool
    # Address the target by these relationships' ids (from the URL) instead of its own id.
    target_by: tuple[str, ...] = ()
    # Create, or update the one live row with the same upsert key (see Rules.upsert_key).
    upsert: bool = False
    # On update: the read-only attributes sent back, each compared with the row's value.
    read_only: tuple[str, ...] = ()
    # On create or update: the statement answers with the row it leaves, as this read shows
    # it, beside its outcome (``wellapi.sqltext.writes.written_row``), so no second statement
    # reads it back.
    answers: ReadShape | None = None

    @classmethod
    def of(
        cls,
        resource: Resource,
        kind: WriteKind,
        document: ResourceDocument,
        service: bool,
        *,
        target_by: tuple[str, ...] = (),
        upsert: bool = False,
    ) -> WriteShape:
        rels = document.relationships
        return cls(
            resource.key,
            kind,
            tuple(sorted(document.attributes)),
            tuple(sorted(n for n, v in rels.items() if v is not None)),
            tuple(sorted(n for n, v in rels.items() if v is None)),
            service,
            target_by,
            upsert,
            tuple(sorted(document.read_only)),
        )


@dataclass(frozen=True)
class WritePlan:
    """A write's composed statement, and how to read its outcome row (``WriteOutcome``)."""

    template: Statement
    # The rules' check names (``wellapi.resources.rules``), in the order their failures are
    # reported.
    checks: tuple[str, ...]
    # The relationships whose parents the write looks up, in the order they are reported.
    relationships: tuple[str, ...]
    # The labels of the outcome row's columns, in the order the statement emits them.
    outcome: tuple[str, ...]
    # Where the written row's values sit in the outcome row, when the write answers with it
    # (``WriteShape.answers``): the outcome's labels, then the read's.
    answer: Layout | None = None


def write_params(
    document: ResourceDocument, *, row_id: Any, target: dict[str, Any] | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"row_id": row_id}
    params.update({f"target_{k}": v for k, v in (target or {}).items()})
    params.update({f"attr_{k}": v for k, v in document.attributes.items()})
    params.update({f"ro_{k}": v for k, v in document.read_only.items()})
    params.update({f"rel_{k}": v for k, v in document.relationships.items() if v is not None})
    return params
