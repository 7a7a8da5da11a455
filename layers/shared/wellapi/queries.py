"""SQL for reads, built from a resource description and compiled once per query shape.

A List or Retrieve is one statement: tenant scope, soft delete, the joins that give every
relationship's public id and every included parent's attributes, filters, keyset cursor and
limit. Values are not part of the shape, so the compiled text is reused across requests and
only the literals change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import FromClause, NamedFromClause

from wellapi import schema
from wellapi.jsonapi.query import RANGE_OPERATORS, ReadQuery
from wellapi.resources import Attribute, Parent, Relationship, Resource, resource_named
from wellapi.sql import Template, compile_template


def scope_workspace_pk() -> ColumnElement[Any]:
    return func.core_api.scope_workspace_pk()


def scope_person_pk() -> ColumnElement[Any]:
    return func.core_api.scope_person_pk()


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
    # Service principals act across workspaces: no tenant condition (RLS says the same).
    service: bool = False

    @classmethod
    def of(
        cls, resource: Resource, query: ReadQuery, *, single: bool, service: bool = False
    ) -> ReadShape:
        cursor = "after" if query.after else "before" if query.before else None
        return cls(
            resource=resource.key,
            single=single,
            include=query.include,
            sort=query.sort,
            descending=query.descending,
            relationship_filters=tuple((n, len(v)) for n, v in query.relationship_filters),
            attribute_filters=tuple((n, len(v)) for n, v in query.attribute_filters),
            ranges=tuple((r.attribute, r.operator) for r in query.ranges),
            cursor=cursor,
            service=service,
        )


def read_params(query: ReadQuery, *, row_id: Any = None) -> dict[str, Any]:
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
    cursor = query.after or query.before
    if cursor is not None:
        params["cursor_value"] = cursor.value
        params["cursor_id"] = cursor.id
    return params


@dataclass(frozen=True)
class Layout:
    """Where each value sits in a result row, by label."""

    labels: tuple[str, ...]

    def index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def parent_visible(
    parent: Parent, alias: FromClause, *, service: bool = False
) -> ColumnElement[bool]:
    """Whether a parent may be shown to (or pointed at by) the current scope, and is live."""
    live = alias.c.deleted_at.is_(None)
    if service:
        return live
    if parent.visibility == "workspace_owned":
        return and_(live, alias.c.workspace_pk == scope_workspace_pk())
    if parent.visibility == "workspace":
        return and_(live, alias.c.pk == scope_workspace_pk())
    if parent.visibility == "group":
        return and_(live, or_(group_enrolled(alias.c.pk), group_member(alias.c.pk)))
    return live


def group_enrolled(group_pk: ColumnElement[Any]) -> ColumnElement[bool]:
    wgw = schema.workspace_group_workspaces
    return exists().where(
        wgw.c.workspace_group_pk == group_pk,
        wgw.c.workspace_pk == scope_workspace_pk(),
        wgw.c.deleted_at.is_(None),
    )


def group_member(group_pk: ColumnElement[Any]) -> ColumnElement[bool]:
    gm = schema.workspace_group_memberships
    return exists().where(
        gm.c.workspace_group_pk == group_pk,
        gm.c.person_pk == scope_person_pk(),
        gm.c.deleted_at.is_(None),
    )


def scope_condition(
    resource: Resource,
    table: FromClause,
    parents: dict[str, NamedFromClause],
    *,
    service: bool = False,
) -> ColumnElement[bool]:
    """The tenant rule of the resource, in SQL (row-level security repeats it)."""
    if service or resource.scope == "catalog":
        return true()
    if resource.scope == "provenance":
        return and_(
            *(
                parents[name].c.workspace_pk == scope_workspace_pk()
                for name in resource.scope_relationships
            )
        )
    if resource.scope == "workspace":
        return table.c.workspace_pk == scope_workspace_pk()
    return or_(
        table.c.workspace_pk == scope_workspace_pk(), group_member(table.c.workspace_group_pk)
    )


def relationship_join(
    rel: Relationship, table: FromClause, alias: NamedFromClause
) -> ColumnElement[bool]:
    if rel.reverse_column is not None:
        return and_(
            alias.c[rel.reverse_column] == table.c.pk,
            alias.c.workspace_pk == scope_workspace_pk(),
            alias.c.deleted_at.is_(None),
        )
    return alias.c.pk == table.c[rel.column]


def attribute_column(
    attribute: Attribute, table: FromClause, parents: dict[str, NamedFromClause]
) -> ColumnElement[Any]:
    if attribute.source is None:
        return table.c[attribute.column]
    return func.coalesce(parents[attribute.source].c[attribute.column], attribute.default)


def relationship_filter(
    rel: Relationship, alias: NamedFromClause, count: int
) -> ColumnElement[bool]:
    """``filter[<relationship>]=<id>,...`` as a condition on the joined parent's internal key.

    The public ids are looked up in the parent's table by an uncorrelated subquery (for one id,
    an InitPlan), so the key is known before the junction is read: the junction's
    ``(<fk>, created_at)`` index is then scanned for that key in sort order and the scan stops
    at the page limit. Compared on the joined parent's public id instead, the planner can only
    bitmap-scan every row in the range and sort them all before the limit (the sync-status
    query on a 20k-row range: 19 ms against 0.08 ms).
    """
    table = rel.parent.table
    public_id = table.c[rel.parent.id_column]
    ids: list[BindParameter[Any]] = [bindparam(f"rel_{rel.name}_{i}") for i in range(count)]
    if count == 1:
        lookup = select(table.c.pk).where(public_id == ids[0]).correlate(None)
        return alias.c.pk == lookup.scalar_subquery()
    return alias.c.pk.in_(select(table.c.pk).where(public_id.in_(ids)).correlate(None))


def _build(shape: ReadShape) -> tuple[Select[Any], Layout]:
    resource = resource_named(shape.resource)
    t = resource.table.alias("t")
    parents = {rel.name: rel.parent.table.alias(f"p_{rel.name}") for rel in resource.relationships}

    columns: list[ColumnElement[Any]] = [t.c[resource.id_column].label("id")]
    columns += [attribute_column(a, t, parents).label(f"a_{a.name}") for a in resource.attributes]
    columns += [
        parents[r.name].c[r.parent.id_column].label(f"r_{r.name}") for r in resource.relationships
    ]
    for name in shape.include:
        rel = resource.relationship(name)
        alias = parents[name]
        columns.append(parent_visible(rel.parent, alias, service=shape.service).label(f"v_{name}"))
        columns += [alias.c[a.column].label(f"i_{name}_{a.name}") for a in rel.parent.attributes]

    joined: FromClause = t
    for rel in resource.relationships:
        joined = joined.join(
            parents[rel.name],
            relationship_join(rel, t, parents[rel.name]),
            isouter=not rel.required,
        )

    conditions: list[ColumnElement[bool]] = [
        t.c.deleted_at.is_(None),
        scope_condition(resource, t, parents, service=shape.service),
    ]
    if shape.single:
        conditions.append(t.c[resource.id_column] == bindparam("row_id"))
    for name, count in shape.relationship_filters:
        conditions.append(relationship_filter(resource.relationship(name), parents[name], count))
    for name, count in shape.attribute_filters:
        value = attribute_column(resource.attribute(name), t, parents)
        conditions.append(value.in_([bindparam(f"attr_{name}_{i}") for i in range(count)]))
    for attribute, operator in shape.ranges:
        bounded = attribute_column(resource.attribute(attribute), t, parents)
        conditions.append(
            bounded.op(RANGE_OPERATORS[operator])(bindparam(f"range_{attribute}_{operator}"))
        )

    sort_column = t.c[resource.attribute(shape.sort).column]
    id_column = t.c[resource.id_column]
    # Walking backwards (page[before]) reads the other way and the rows are reversed after.
    forward = shape.cursor != "before"
    descending = shape.descending == forward
    if shape.cursor is not None:
        key = tuple_(sort_column, id_column)
        bound = tuple_(bindparam("cursor_value"), bindparam("cursor_id"))
        # The plain bound on the sort column lets the index range-scan to the cursor;
        # the row comparison then breaks ties on the public id.
        if descending:
            conditions += [sort_column <= bindparam("cursor_value"), key < bound]
        else:
            conditions += [sort_column >= bindparam("cursor_value"), key > bound]

    stmt = select(*columns).select_from(joined).where(and_(*conditions))
    if shape.single:
        stmt = stmt.limit(1)
    else:
        order = (
            (sort_column.desc(), id_column.desc())
            if descending
            else (sort_column.asc(), id_column.asc())
        )
        stmt = stmt.order_by(*order).limit(bindparam("limit"))
    return stmt, Layout(tuple(c.key for c in columns if c.key is not None))


@lru_cache(maxsize=1024)
def read_template(shape: ReadShape) -> tuple[Template, Layout]:
    stmt, layout = _build(shape)
    return compile_template(stmt), layout


__all__ = ["Layout", "ReadShape", "false", "read_params", "read_template", "true"]
