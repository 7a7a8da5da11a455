"""SQL for reads, composed from a resource description once per query shape.

A List or Retrieve is one statement: tenant scope, soft delete, the joins that give every
relationship's public id and every included parent's attributes, filters, keyset cursor and
limit. Values are not part of the shape, so the text is reused across requests and only the
values bound to its parameters change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from wellapi.jsonapi.query import RANGE_OPERATORS
from wellapi.resources import Attribute, Parent, Relationship, Resource, Walk, resource_named
from wellapi.resources.conditions import (
    SCOPE_PERSON_PK,
    SCOPE_WORKSPACE_PK,
    all_of,
    any_of,
    constant,
    exists_where,
    qualified,
    slot,
)
from wellapi.resources.ledgers_sql import connector_not_revoked
from wellapi.sqltext.document import included_record, instant, resource_object
from wellapi.sqltext.text import select, template
from wellapi.store.rows import (
    DOCUMENT_LABEL,
    ID_LABEL,
    attribute_label,
    included_label,
    linkage_label,
    parent_value_label,
    visible_label,
)
from wellapi.store.shapes import ReadShape
from wellapi.store.sql import Layout, Statement

# How each kind of attribute's value is read from a slot where nothing else says its type.
SLOT_TYPES = {"datetime": "TIMESTAMPTZ", "boolean": "BOOLEAN", "integer": "INTEGER"}


def parent_visible(parent: Parent, alias: str, *, service: bool = False) -> str:
    """Whether a parent may be shown to (or pointed at by) the current scope, and is live."""
    live = f"{alias}.deleted_at IS NULL"
    if service:
        return live
    if parent.visibility == "workspace_owned":
        return all_of(live, f"{alias}.workspace_pk = {SCOPE_WORKSPACE_PK}")
    if parent.visibility == "workspace":
        return all_of(live, f"{alias}.pk = {SCOPE_WORKSPACE_PK}")
    if parent.visibility == "group":
        return all_of(live, any_of(group_enrolled(f"{alias}.pk"), group_member(f"{alias}.pk")))
    return live


def group_enrolled(group_pk: str) -> str:
    return exists_where(
        "workspace_group_workspaces",
        "wgw",
        f"wgw.workspace_group_pk = {group_pk}",
        f"wgw.workspace_pk = {SCOPE_WORKSPACE_PK}",
        "wgw.deleted_at IS NULL",
    )


def group_member(group_pk: str) -> str:
    return exists_where(
        "workspace_group_memberships",
        "gm",
        f"gm.workspace_group_pk = {group_pk}",
        f"gm.person_pk = {SCOPE_PERSON_PK}",
        "gm.deleted_at IS NULL",
    )


def revocable_connector(resource: Resource) -> Relationship | None:
    """The relationship whose revocation hides a row (``connector_not_revoked``): the
    connector of a provenance ledger; None for every other resource."""
    if resource.scope != "provenance":
        return None
    _, connector = resource.scope_relationships
    return resource.relationship(connector)


def live_row_conditions(resource: Resource, alias: str) -> list[str]:
    """What makes a row of ``resource`` live: not soft-deleted, and for a ledger row, its
    connector not revoked (a revoked connector's rows count as soft-deleted)."""
    conditions = [f"{alias}.deleted_at IS NULL"]
    connector = revocable_connector(resource)
    if connector is not None:
        conditions.append(connector_not_revoked(f"{alias}.{connector.column}"))
    return conditions


def scope_condition(resource: Resource, alias: str, *, service: bool = False) -> str:
    """The tenant rule of the resource, in SQL (row-level security repeats it); the parents
    are joined as ``p_<relationship>`` (``with_parents``)."""
    if service or resource.scope == "catalog":
        return "true"
    if resource.scope == "provenance":
        # Both parents must be in the workspace; the database holds every ledger row's record
        # and connector in one workspace (core_api.<ledger>_parents_agree() and
        # linked_parent_stays_in_its_workspace()), so the connector answers for both.
        walk = resource.default_walk
        assert walk is not None
        return f"p_{walk.relationship}.workspace_pk = {SCOPE_WORKSPACE_PK}"
    if resource.scope == "workspace":
        return f"{alias}.workspace_pk = {SCOPE_WORKSPACE_PK}"
    return any_of(
        f"{alias}.workspace_pk = {SCOPE_WORKSPACE_PK}", group_member(f"{alias}.workspace_group_pk")
    )


def relationship_join(rel: Relationship, alias: str, parent: str) -> str:
    if rel.reverse_column is not None:
        return all_of(
            f"{parent}.{rel.reverse_column} = {alias}.pk",
            f"{parent}.workspace_pk = {SCOPE_WORKSPACE_PK}",
            f"{parent}.deleted_at IS NULL",
        )
    return f"{parent}.pk = {alias}.{rel.column}"


def with_parents(
    resource: Resource, rows: str, alias: str, parents: Mapping[str, str] | None = None
) -> str:
    """``rows`` (a table or a subquery, as ``alias``) joined to each relationship's parent
    table, aliased ``p_<name>`` (an outer join where the relationship is optional): what a
    read's columns, scope and filters refer to. ``parents`` names another source for some of
    them, by relationship (a write's CTE that holds the parent's row already)."""
    joined = f"{rows} AS {alias}"
    for rel in resource.relationships:
        kind = "JOIN" if rel.required else "LEFT OUTER JOIN"
        parent = f"p_{rel.name}"
        on = relationship_join(rel, alias, parent)
        source = (parents or {}).get(rel.name) or qualified(rel.parent.table.name)
        joined += f" {kind} {source} AS {parent} ON {on}"
    return joined


def attribute_column(attribute: Attribute, alias: str) -> str:
    if attribute.source is None:
        return f"{alias}.{attribute.column}"
    default = "true" if attribute.default else "false"
    return f"coalesce(p_{attribute.source}.{attribute.column}, {default})"


def relationship_filter(rel: Relationship, key: str, count: int) -> str:
    """``filter[<relationship>]=<id>,...`` as a condition on an internal key of the parent.

    The public ids are looked up in the parent's table by an uncorrelated subquery (for one id,
    an InitPlan), so the key is known before the junction is read: the junction's
    ``(<fk>, created_at)`` index is then scanned for that key in sort order and the scan stops
    at the page limit. Compared on the joined parent's public id instead, the planner can only
    bitmap-scan every row in the range and sort them all before the limit (the sync-status
    query on a 20k-row range: 19 ms against 0.08 ms).
    """
    table = qualified(rel.parent.table.name)
    ids = [slot(f"rel_{rel.name}_{i}", "UUID") for i in range(count)]
    lookup = f"SELECT f.pk FROM {table} AS f WHERE f.{rel.parent.id_column}"
    if count == 1:
        return f"{key} = ({lookup} = {ids[0]})"
    return f"{key} IN ({lookup} IN ({', '.join(ids)}))"


def _sort_and_id(shape: ReadShape, alias: str) -> tuple[str, str]:
    """The columns a page is ordered by: the sort attribute's, then the public id's."""
    resource = resource_named(shape.resource)
    return f"{alias}.{resource.attribute(shape.sort).column}", f"{alias}.{resource.id_column}"


def _by_id(shape: ReadShape) -> bool:
    """Whether a page is ordered by its id alone: created_at on a resource whose id carries it
    (``Resource.time_ordered_id``), the order of its partitions and of its indexes' ids."""
    return shape.sort == "created_at" and resource_named(shape.resource).time_ordered_id


def descending(shape: ReadShape) -> bool:
    """Whether a page of ``shape`` is read descending. Walking backwards (page[before]) reads
    the other way; the rows are reversed after."""
    return shape.descending == (shape.cursor != "before")


def order_by(shape: ReadShape, alias: str) -> str:
    """The ORDER BY of a page on ``alias``."""
    way = "DESC" if descending(shape) else "ASC"
    sort, row_id = _sort_and_id(shape, alias)
    if _by_id(shape):
        return f"{row_id} {way}"
    return f"{sort} {way}, {row_id} {way}"


def after_cursor(shape: ReadShape, alias: str) -> str:
    """The rows past the cursor, in the page's order.

    One row comparison, which an index on (..., sort, id) or (..., sort) takes as its range
    start. A plain bound on the sort column beside it would say the same twice, and the
    planner, multiplying the two estimates, would expect a handful of rows past the cursor and
    choose to fetch them all and sort instead of walking the index to the page's end.
    """
    way = "<" if descending(shape) else ">"
    sort, row_id = _sort_and_id(shape, alias)
    if _by_id(shape):
        # The cursor's id says its time too: a bound the plan prunes the periods by.
        return f"{row_id} {way} {slot('cursor_id')}"
    return f"({sort}, {row_id}) {way} ({slot('cursor_value')}, {slot('cursor_id')})"


# A created_at range as the range of the ids that carry it, exactly: created_at is the id's
# millisecond, and a bound is a microsecond (so at or after t is from t's millisecond rounded
# up, and at or before t is before the millisecond after t's).
_ID_RANGES = {
    "gte": (">=", "interval '999 microseconds'"),
    "gt": (">=", "interval '1 millisecond'"),
    "lt": ("<", "interval '999 microseconds'"),
    "lte": ("<", "interval '1 millisecond'"),
}


def id_range(id_column: str, operator: str, value: str) -> str:
    """``created_at <operator> value`` on a time-ordered id: a bound on the id, which the index
    ranges over and the plan prunes the periods by when it starts."""
    way, shift = _ID_RANGES[operator]
    return f"{id_column} {way} core_api.uuid_floor({value} + {shift})"


# No id is more than a day after now: a client's is made now (a minute ahead at most,
# ``wellapi.jsonapi.ids.CLIENT_ID_AHEAD``), the database's is its clock's. A List's bound on it
# prunes the periods made ahead, which hold no row yet, when its plan starts.
NOT_AHEAD = "core_api.uuid_floor(now() + interval '1 day')"


def _enum_filter(resource: Resource, shape: ReadShape, alias: str) -> list[str]:
    walk = resource.default_walk
    if walk is None or walk.indexed_enum is None or not shape.enum_values:
        return []
    column = f"{alias}.{resource.attribute(walk.indexed_enum).column}"
    return [f"{column} IN ({', '.join(constant(v) for v in shape.enum_values)})"]


def row_filters(shape: ReadShape, alias: str) -> list[str]:
    """The request's filters, ranges and cursor, on the resource's own table where they can."""
    resource = resource_named(shape.resource)
    conditions: list[str] = []
    for name, count in shape.relationship_filters:
        rel = resource.relationship(name)
        key = f"p_{name}.pk" if rel.reverse_column else f"{alias}.{rel.column}"
        conditions.append(relationship_filter(rel, key, count))
    for name, count in shape.attribute_filters:
        attribute = resource.attribute(name)
        cast = SLOT_TYPES.get(attribute.kind)
        values = ", ".join(slot(f"attr_{name}_{i}", cast) for i in range(count))
        conditions.append(f"{attribute_column(attribute, alias)} IN ({values})")
    conditions += _enum_filter(resource, shape, alias)
    for name, operator in shape.ranges:
        attribute = resource.attribute(name)
        value = slot(f"range_{name}_{operator}", SLOT_TYPES.get(attribute.kind))
        if name == "created_at" and resource.time_ordered_id:
            conditions.append(id_range(f"{alias}.{resource.id_column}", operator, value))
            continue
        conditions.append(
            f"{attribute_column(attribute, alias)} {RANGE_OPERATORS[operator]} {value}"
        )
    if shape.cursor is not None:
        conditions.append(after_cursor(shape, alias))
    if resource.time_ordered_id and not shape.single:
        conditions.append(f"{alias}.{resource.id_column} < {NOT_AHEAD}")
    return conditions


def _walk_branch(shape: ReadShape, walk: Walk, value: str | None, limit: str) -> str:
    """One LATERAL branch of a walk: up to ``limit`` live rows of one walked parent (``w``)
    and, for a walk by enum value, one value, read in the page's order."""
    resource = resource_named(shape.resource)
    rel = resource.relationship(walk.relationship)
    x = f"x_{value or 'all'}"
    connector = revocable_connector(resource)
    walks_connector = connector is not None and connector.name == rel.name
    # Walking the connectors, a revoked one is left out of the walk itself; a row reached
    # through another parent (a record) is checked for its own connector.
    live = [f"{x}.deleted_at IS NULL"] if walks_connector else live_row_conditions(resource, x)
    conditions = [f"{x}.{rel.column} = w.pk", *live]
    if walk.indexed_enum is not None and value is not None:
        column = resource.attribute(walk.indexed_enum).column
        # Equal to the partial index's predicate, so the planner can prove it.
        conditions.append(f"{x}.{column} = {constant(value)}")
    rest = replace(
        shape,
        relationship_filters=tuple(f for f in shape.relationship_filters if f[0] != rel.name),
        # A walk by enum value names its value in each branch; another filters on them.
        enum_values=() if walk.indexed_enum else shape.enum_values,
    )
    conditions += row_filters(rest, x)
    source = f"{qualified(resource.table.name)} AS {x}"
    order = order_by(shape, x)
    # A numbered page's rows lie after the rows it skips: each parent gives as many as both.
    # That limit (up to MAX_PAGE_DEPTH + a page) can exceed the planner's estimate of a
    # filtered branch (a range on one connector is underestimated severalfold), and a
    # constant limit over the estimate makes it scan the whole range and sort it. Given as a
    # sub-select, the limit is unknown when the plan is made and the planner plans for a
    # fraction of the rows: the index walk in the page's order, which stops at the limit.
    branch_limit = f"(SELECT {slot(limit)} + {slot('offset')})" if shape.offset else slot(limit)
    return select([f"{x}.*"], source, conditions, order=order, limit=branch_limit)


def walked_rows(shape: ReadShape, walk: Walk, *, limit: str = "limit", ordered: bool = True) -> str:
    """A page of the resource's rows, read at most a page per walked parent (``Walk``).

    For each parent walked (the tenant's connectors, or the records the filter names) and each
    value of its indexed enum the List shows, a LATERAL subquery reads up to ``limit`` live rows
    from an index in the page's order, starting at the cursor; the outer query merges them and keeps
    the first ``limit`` (after the ``offset`` rows a numbered page skips, which each branch
    reads too). Rows read: at most (``limit`` + ``offset``) x parents x enum values,
    whatever the tenant holds. Unordered (``ordered=False``, the total's walk), the outer query
    merges nothing: it stops at ``limit`` rows, however many parents are left to walk.
    """
    resource = resource_named(shape.resource)
    rel = resource.relationship(walk.relationship)
    values = shape.enum_values if walk.indexed_enum else (None,)
    branches = [f"({_walk_branch(shape, walk, value, limit)})" for value in values]
    pages = " UNION ALL ".join(branches)
    walked = [
        relationship_filter(rel, "w.pk", count)
        for name, count in shape.relationship_filters
        if name == rel.name
    ]
    if not shape.across_workspaces:
        walked.append(f"w.workspace_pk = {SCOPE_WORKSPACE_PK}")
    connector = revocable_connector(resource)
    if connector is not None and connector.name == rel.name:
        # On the walked connector, not on its rows: a revoked connector is not walked, so
        # none of its rows is read, however many the sweeper has still to soft-delete.
        walked.append(connector_not_revoked("w.pk"))
    source = f"{qualified(rel.parent.table.name)} AS w JOIN LATERAL ({pages}) AS page ON true"
    if not ordered:
        return select(["page.*"], source, walked, limit=slot(limit))
    order = order_by(shape, "page")
    return select(["page.*"], source, walked, order=order, limit=page_limit(shape))


def page_limit(shape: ReadShape) -> str:
    """A List's ``LIMIT``: its page (and the row that says more lie ahead), after the rows a
    numbered page skips."""
    return f"{slot('limit')} OFFSET {slot('offset')}" if shape.offset else slot("limit")


def read_columns(shape: ReadShape) -> list[tuple[str, str]]:
    """A read's columns, each with its label (``wellapi.store.rows``): the id, the parents'
    ids, and either the documents (``documents_in_sql``: ``document_columns``) or the values
    the function writes them from (``value_columns``)."""
    resource = resource_named(shape.resource)
    row_id, linkages = ids_of(resource)
    attributes = {a.name: attribute_column(a, "t") for a in resource.attributes}
    visible = {
        name: parent_visible(resource.relationship(name).parent, f"p_{name}", service=shape.service)
        for name in shape.include
    }
    columns = [(row_id, ID_LABEL)]
    columns += [(linkages[r.name], linkage_label(r.name)) for r in resource.relationships]
    if not shape.documents_in_sql:
        return columns + value_columns(resource, attributes, linkages, visible)
    columns.append((instant(attributes[shape.sort]), attribute_label(shape.sort)))
    return columns + document_columns(resource, row_id, attributes, linkages, visible)


def ids_of(resource: Resource) -> tuple[str, dict[str, str]]:
    """The row's public id (``t``) and each parent's (``p_<relationship>``), as text."""
    linkages = {
        r.name: f"CAST(p_{r.name}.{r.parent.id_column} AS TEXT)" for r in resource.relationships
    }
    return f"CAST(t.{resource.id_column} AS TEXT)", linkages


def document_columns(
    resource: Resource,
    row_id: str,
    attributes: dict[str, str],
    linkages: dict[str, str],
    visible: dict[str, str],
) -> list[tuple[str, str]]:
    """The row's resource object and each included record (``visible``: the condition that
    shows it, by relationship), as JSON text the statement writes."""
    columns = [(resource_object(resource, row_id, attributes, linkages), DOCUMENT_LABEL)]
    for name, shown in visible.items():
        rel = resource.relationship(name)
        record = included_record(rel, linkages[name], f"p_{name}", shown)
        columns.append((record, included_label(name)))
    return columns


def value_columns(
    resource: Resource,
    attributes: dict[str, str],
    linkages: dict[str, str],
    visible: dict[str, str],
) -> list[tuple[str, str]]:
    """What the function writes the same from: each attribute's value (an instant as ISO
    text, the sort value a cursor holds is one), and for each included record whether it is
    shown and its attributes' values."""
    columns = [
        (value_of(a, attributes[a.name]), attribute_label(a.name)) for a in resource.attributes
    ]
    for name, shown in visible.items():
        parent = resource.relationship(name).parent
        columns.append((f"{linkages[name]} IS NOT NULL AND ({shown})", visible_label(name)))
        columns += [
            (value_of(a, f"p_{name}.{a.column}"), parent_value_label(f"{name}.{a.name}"))
            for a in parent.attributes
        ]
    return columns


def value_of(attribute: Attribute, column: str) -> str:
    """An attribute's value as a read answers it: an instant as ISO text in UTC, as the
    documents show it; any other as its type reads."""
    return instant(column) if attribute.kind == "datetime" else column


def _conditions(shape: ReadShape, alias: str) -> list[str]:
    """What a row read without a walk must meet: live, in scope, and every filter."""
    resource = resource_named(shape.resource)
    return [
        *live_row_conditions(resource, alias),
        scope_condition(resource, alias, service=shape.across_workspaces),
        *row_filters(shape, alias),
    ]


def read_text(shape: ReadShape) -> tuple[str, Layout]:
    """The one statement of a read, and where its values sit."""
    resource = resource_named(shape.resource)
    walk = shape.walk
    rows = f"({walked_rows(shape, walk)})" if walk else qualified(resource.table.name)
    columns = read_columns(shape)
    selected = [f"{value} AS {label}" for value, label in columns]
    layout = Layout(tuple(label for _, label in columns))
    source = with_parents(resource, rows, "t")
    if shape.single:
        where = [*_conditions(shape, "t"), f"t.{resource.id_column} = {slot('row_id', 'UUID')}"]
        return select(selected, source, where, limit="1"), layout
    # A walk has read only live rows in scope that pass every filter, already limited.
    where = [] if walk else _conditions(shape, "t")
    limit = None if walk else page_limit(shape)
    order = order_by(shape, "t")
    return select(selected, source, where, order=order, limit=limit), layout


def compose_read(shape: ReadShape) -> tuple[Statement, Layout]:
    """The template of a read and where its values sit (``wellapi.sqltext.statements``)."""
    text, layout = read_text(shape)
    return template(text), layout


# The value of a total's walk: how many rows it counts at most (TOTAL_BOUND + 1).
TOTAL_LIMIT = "total_limit"


def total_text(shape: ReadShape) -> str:
    """How many rows a List's pages hold, counted up to ``total_limit`` and no further.

    The List's rows from its first page on (no cursor), read the way its page is (the same
    walk, each parent's index in the page's order), but not merged into one order: the count
    stops at ``total_limit`` rows, so it costs at most that many index entries and rows,
    whatever the tenant holds.
    """
    counted = replace(shape, cursor=None, offset=False)
    walk = counted.walk
    if walk is not None:
        rows = walked_rows(counted, walk, limit=TOTAL_LIMIT, ordered=False)
    else:
        resource = resource_named(counted.resource)
        source = with_parents(resource, qualified(resource.table.name), "t")
        where = _conditions(counted, "t")
        rows = select(["1 AS one"], source, where, limit=slot(TOTAL_LIMIT))
    return select(["count(*) AS total"], f"({rows}) AS counted")


def compose_total(shape: ReadShape) -> Statement:
    """The template of a List's total (``total_text``)."""
    return template(total_text(shape))
