"""SQL for reads, built from a resource description and compiled once per query shape.

This module and its SQLAlchemy are loaded by ``wellapi.store.statements`` only for a shape that was
not compiled ahead of time.

A List or Retrieve is one statement: tenant scope, soft delete, the joins that give every
relationship's public id and every included parent's attributes, filters, keyset cursor and
limit. Values are not part of the shape, so the compiled text is reused across requests and
only the literals change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import FromClause, NamedFromClause

from wellapi.jsonapi.query import RANGE_OPERATORS
from wellapi.resources import (
    Attribute,
    Parent,
    Relationship,
    Resource,
    Walk,
    resource_named,
    tables,
)
from wellapi.sqlbuild.compiler import compile_template
from wellapi.sqlbuild.document_sql import included_record, instant, resource_object
from wellapi.sqlbuild.sa_rules import (
    connector_not_revoked,
    exists_where,
    scope_person_pk,
    scope_workspace_pk,
)
from wellapi.store.rows import (
    DOCUMENT_LABEL,
    ID_LABEL,
    attribute_label,
    included_label,
    linkage_label,
)
from wellapi.store.shapes import ReadShape
from wellapi.store.templates import Layout, Template


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
    wgw = tables.workspace_group_workspaces
    return exists_where(
        wgw.c.workspace_group_pk == group_pk,
        wgw.c.workspace_pk == scope_workspace_pk(),
        wgw.c.deleted_at.is_(None),
    )


def group_member(group_pk: ColumnElement[Any]) -> ColumnElement[bool]:
    gm = tables.workspace_group_memberships
    return exists_where(
        gm.c.workspace_group_pk == group_pk,
        gm.c.person_pk == scope_person_pk(),
        gm.c.deleted_at.is_(None),
    )


def revocable_connector(resource: Resource) -> Relationship | None:
    """The relationship whose revocation hides a row (``connector_not_revoked``): the
    connector of a provenance ledger; None for every other resource."""
    if resource.scope != "provenance":
        return None
    _, connector = resource.scope_relationships
    return resource.relationship(connector)


def live_row_conditions(resource: Resource, table: FromClause) -> list[ColumnElement[bool]]:
    """What makes a row of ``resource`` live: not soft-deleted, and for a ledger row, its
    connector not revoked (a revoked connector's rows count as soft-deleted)."""
    conditions: list[ColumnElement[bool]] = [table.c.deleted_at.is_(None)]
    connector = revocable_connector(resource)
    if connector is not None:
        conditions.append(connector_not_revoked(table.c[connector.column]))
    return conditions


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
        # Both parents must be in the workspace; the database holds every ledger row's record
        # and connector in one workspace (revision 0007), so the connector answers for both.
        walk = resource.default_walk
        assert walk is not None
        return parents[walk.relationship].c.workspace_pk == scope_workspace_pk()
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


def with_parents(
    resource: Resource, rows: FromClause
) -> tuple[dict[str, NamedFromClause], FromClause]:
    """Each relationship's parent table, aliased ``p_<name>``, and ``rows`` joined to them (an
    outer join where the relationship is optional): what a read's columns, scope and filters
    refer to."""
    parents = {
        rel.name: tables.table(rel.parent.table.name).alias(f"p_{rel.name}")
        for rel in resource.relationships
    }
    joined: FromClause = rows
    for rel in resource.relationships:
        joined = joined.join(
            parents[rel.name],
            relationship_join(rel, rows, parents[rel.name]),
            isouter=not rel.required,
        )
    return parents, joined


def attribute_column(
    attribute: Attribute, table: FromClause, parents: dict[str, NamedFromClause]
) -> ColumnElement[Any]:
    if attribute.source is None:
        return table.c[attribute.column]
    return func.coalesce(parents[attribute.source].c[attribute.column], attribute.default)


def relationship_filter(
    rel: Relationship, key: ColumnElement[Any], count: int
) -> ColumnElement[bool]:
    """``filter[<relationship>]=<id>,...`` as a condition on an internal key of the parent.

    The public ids are looked up in the parent's table by an uncorrelated subquery (for one id,
    an InitPlan), so the key is known before the junction is read: the junction's
    ``(<fk>, created_at)`` index is then scanned for that key in sort order and the scan stops
    at the page limit. Compared on the joined parent's public id instead, the planner can only
    bitmap-scan every row in the range and sort them all before the limit (the sync-status
    query on a 20k-row range: 19 ms against 0.08 ms).
    """
    table = tables.table(rel.parent.table.name)
    id_column = table.c[rel.parent.id_column]
    ids: list[BindParameter[Any]] = [bindparam(f"rel_{rel.name}_{i}") for i in range(count)]
    if count == 1:
        lookup = select(table.c.pk).where(id_column == ids[0]).correlate(None)
        return key == lookup.scalar_subquery()
    return key.in_(select(table.c.pk).where(id_column.in_(ids)).correlate(None))


def _order(shape: ReadShape, table: FromClause) -> tuple[list[ColumnElement[Any]], bool]:
    """The ORDER BY of a page on ``table``, and whether it runs descending.

    Walking backwards (page[before]) reads the other way; the rows are reversed after.
    """
    resource = resource_named(shape.resource)
    sort_column = table.c[resource.attribute(shape.sort).column]
    id_column = table.c[resource.id_column]
    descending = shape.descending == (shape.cursor != "before")
    if descending:
        return [sort_column.desc(), id_column.desc()], True
    return [sort_column.asc(), id_column.asc()], False


def _cursor(shape: ReadShape, table: FromClause) -> list[ColumnElement[bool]]:
    if shape.cursor is None:
        return []
    resource = resource_named(shape.resource)
    sort_column = table.c[resource.attribute(shape.sort).column]
    key = tuple_(sort_column, table.c[resource.id_column])
    bound = tuple_(bindparam("cursor_value"), bindparam("cursor_id"))
    # One row comparison, which an index on (..., sort, id) or (..., sort) takes as its range
    # start. A plain bound on the sort column beside it would say the same twice, and the
    # planner, multiplying the two estimates, would expect a handful of rows past the cursor
    # and choose to fetch them all and sort instead of walking the index to the page's end.
    if _order(shape, table)[1]:
        return [key < bound]
    return [key > bound]


def _row_filters(
    shape: ReadShape, table: FromClause, parents: dict[str, NamedFromClause]
) -> list[ColumnElement[bool]]:
    """The request's filters, ranges and cursor, on the resource's own table where they can."""
    resource = resource_named(shape.resource)
    conditions: list[ColumnElement[bool]] = []
    for name, count in shape.relationship_filters:
        rel = resource.relationship(name)
        key = parents[name].c.pk if rel.reverse_column else table.c[rel.column]
        conditions.append(relationship_filter(rel, key, count))
    for name, count in shape.attribute_filters:
        value = attribute_column(resource.attribute(name), table, parents)
        conditions.append(value.in_([bindparam(f"attr_{name}_{i}") for i in range(count)]))
    walk = resource.default_walk
    if walk is not None and walk.partition is not None and shape.partitions:
        partition = table.c[resource.attribute(walk.partition).column]
        conditions.append(partition.in_([literal(v, partition.type) for v in shape.partitions]))
    for attribute, operator in shape.ranges:
        bounded = attribute_column(resource.attribute(attribute), table, parents)
        value = bindparam(f"range_{attribute}_{operator}")
        conditions.append(bounded.op(RANGE_OPERATORS[operator])(value))
    return conditions + _cursor(shape, table)


def _walked_rows(
    shape: ReadShape, walk: Walk, *, limit: str = "limit", ordered: bool = True
) -> FromClause:
    """A page of the resource's rows, read at most a page per walked parent (``Walk``).

    For each parent walked (the tenant's connectors, or the records the filter names) and each
    partition value the List shows, a LATERAL subquery reads up to ``limit`` live rows from an
    index in the page's order, starting at the cursor; the outer query merges them and keeps
    the first ``limit``. Rows read: at most ``limit`` x parents x partition values, whatever
    the tenant holds. Unordered (``ordered=False``, the total's walk), the outer query merges
    nothing: it stops at ``limit`` rows, however many parents are left to walk.
    """
    resource = resource_named(shape.resource)
    rel = resource.relationship(walk.relationship)
    parent = tables.table(rel.parent.table.name).alias("w")
    connector = revocable_connector(resource)
    walks_connector = connector is not None and connector.name == rel.name
    rest = replace(
        shape,
        relationship_filters=tuple(f for f in shape.relationship_filters if f[0] != rel.name),
        # A partitioned walk says the partition in each branch; another filters on it.
        partitions=() if walk.partition else shape.partitions,
    )
    branches = []
    for value in shape.partitions if walk.partition else (None,):
        x = tables.table(resource.table.name).alias(f"x_{value or 'all'}")
        # Walking the connectors, a revoked one is left out of the walk itself (below); a
        # row reached through another parent (a record) is checked for its own connector.
        live = [x.c.deleted_at.is_(None)] if walks_connector else live_row_conditions(resource, x)
        conditions = [x.c[rel.column] == parent.c.pk, *live]
        if walk.partition is not None:
            column = x.c[resource.attribute(walk.partition).column]
            # Equal to the partial index's predicate, so the planner can prove it.
            conditions.append(column == literal(value, column.type))
        conditions += _row_filters(rest, x, {})
        order, _ = _order(shape, x)
        branches.append(select(x).where(*conditions).order_by(*order).limit(bindparam(limit)))
    pages = (branches[0] if len(branches) == 1 else union_all(*branches)).lateral("page")

    walked = [
        relationship_filter(rel, parent.c.pk, count)
        for name, count in shape.relationship_filters
        if name == rel.name
    ]
    if not shape.across_workspaces:
        walked.append(scope_parent(parent))
    if walks_connector:
        # On the walked connector, not on its rows: a revoked connector is not walked, so
        # none of its rows is read, however many the sweeper has still to soft-delete.
        walked.append(connector_not_revoked(parent.c.pk))
    merged = select(pages).select_from(parent.join(pages, true())).where(*walked)
    if ordered:
        merged = merged.order_by(*_order(shape, pages)[0])
    return merged.limit(bindparam(limit)).subquery("t")


def scope_parent(parent: FromClause) -> ColumnElement[bool]:
    """A walked parent (a connector, a record) of the scoped workspace."""
    return parent.c.workspace_pk == scope_workspace_pk()


def _build(shape: ReadShape) -> tuple[Select[Any], Layout]:
    resource = resource_named(shape.resource)
    walk = shape.walk
    t = _walked_rows(shape, walk) if walk else tables.table(resource.table.name).alias("t")
    parents, joined = with_parents(resource, t)

    # Every value is text: the document's JSON as PostgreSQL writes it, the ids and the sort
    # value a cursor holds (``wellapi.store.rows``); nothing for the driver to parse.
    row_id = cast(t.c[resource.id_column], Text)
    linkages = {
        r.name: cast(parents[r.name].c[r.parent.id_column], Text) for r in resource.relationships
    }
    attributes = {a.name: attribute_column(a, t, parents) for a in resource.attributes}
    columns: list[ColumnElement[Any]] = [
        row_id.label(ID_LABEL),
        instant(attributes[shape.sort]).label(attribute_label(shape.sort)),
        resource_object(resource, row_id, attributes, linkages).label(DOCUMENT_LABEL),
    ]
    columns += [linkages[r.name].label(linkage_label(r.name)) for r in resource.relationships]
    for name in shape.include:
        rel = resource.relationship(name)
        alias = parents[name]
        visible = parent_visible(rel.parent, alias, service=shape.service)
        record = {a.name: alias.c[a.column] for a in rel.parent.attributes}
        columns.append(
            included_record(rel, linkages[name], record, visible).label(included_label(name))
        )

    conditions: list[ColumnElement[bool]] = []
    if walk is None:
        # A walk has read only live rows in scope that pass every filter, already limited.
        conditions += _conditions(shape, t, parents)
        if shape.single:
            conditions.append(t.c[resource.id_column] == bindparam("row_id"))

    stmt = select(*columns).select_from(joined)
    if conditions:
        stmt = stmt.where(*conditions)
    if shape.single:
        stmt = stmt.limit(1)
    else:
        order, _ = _order(shape, t)
        stmt = stmt.order_by(*order)
        if walk is None:
            stmt = stmt.limit(bindparam("limit"))
    return stmt, Layout(tuple(c.key for c in columns if c.key is not None))


def _conditions(
    shape: ReadShape, t: FromClause, parents: dict[str, NamedFromClause]
) -> list[ColumnElement[bool]]:
    """What a row read without a walk must meet: live, in scope, and every filter."""
    resource = resource_named(shape.resource)
    return [
        *live_row_conditions(resource, t),
        scope_condition(resource, t, parents, service=shape.across_workspaces),
        *_row_filters(shape, t, parents),
    ]


# The bound parameter of a total's walk: how many rows it counts at most (TOTAL_BOUND + 1).
TOTAL_LIMIT = "total_limit"


def total_statement(shape: ReadShape) -> Select[Any]:
    """How many rows a List's pages hold, counted up to ``total_limit`` and no further.

    The List's rows from its first page on (no cursor), read the way its page is (the same
    walk, each parent's index in the page's order), but not merged into one order: the count
    stops at ``total_limit`` rows, so it costs at most that many index entries and rows,
    whatever the tenant holds.
    """
    counted = replace(shape, cursor=None)
    walk = counted.walk
    if walk is not None:
        rows = _walked_rows(counted, walk, limit=TOTAL_LIMIT, ordered=False)
    else:
        resource = resource_named(counted.resource)
        t = tables.table(resource.table.name).alias("t")
        parents, joined = with_parents(resource, t)
        rows = (
            select(literal_column("1").label("one"))
            .select_from(joined)
            .where(*_conditions(counted, t, parents))
            .limit(bindparam(TOTAL_LIMIT))
            .subquery("counted")
        )
    return select(func.count().label("total")).select_from(rows)


def compile_total(shape: ReadShape) -> Template:
    """The template of a List's total (``total_statement``)."""
    return compile_template(total_statement(shape))


def read_statement(shape: ReadShape) -> Select[Any]:
    """The one statement of a read, before it is compiled."""
    return _build(shape)[0]


def compile_read(shape: ReadShape) -> tuple[Template, Layout]:
    """The template of a read and where its values sit (``wellapi.store.statements`` caches it)."""
    stmt, layout = _build(shape)
    return compile_template(stmt), layout


__all__ = ["compile_read", "compile_total", "false", "read_statement", "total_statement", "true"]
