"""SQL for Create, Update and Delete: one statement that checks every rule and writes only
when all of them hold, then reports each rule's outcome in one row.

    WITH rel_<name> AS (the parent each relationship points at, if visible),
         target     AS (the row an update or delete addresses, if visible),
         checks     AS (one boolean per rule),
         written    AS (INSERT ... / UPDATE ... WHERE every check holds RETURNING the row)
    SELECT checks.*, (SELECT count(*) FROM written) FROM checks

The database records the change itself (revision 0025, docs/changes.md): a trigger at the end
of the statement writes the record of the row it changed, so it commits exactly when the
change does, in the same round trip, and a write that changes nothing (a failed rule, a PATCH
that changes nothing, a create that meets a live row, a replayed create) records nothing.

Every column of that outcome row is labelled by ``wellapi.store.rows``, which also reads it back
(``WriteOutcome``); the plan keeps the labels in the order the statement emits them.

An update compares what it may not change with the target row instead: each create-only or
read-only member sent back (a timestamp, ``created_by``, a parent by its public id) is a
check that it IS NOT DISTINCT FROM the row's value, and its ``changes`` flag says whether any
writable attribute sent differs from the row's. The row is updated only when it does, so a
PATCH that changes nothing writes nothing (``updated_at`` stays, no trigger fires) and still
reports that it found the row, which the script then reads back.

Compiled once per shape (resource, operation, which members the document has, principal kind):
ahead of time for the common ones, else on demand (``wellapi.store.statements``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from wellapi.resources import RESOURCES, Resource, tables
from wellapi.resources.changes import ResourceDocument, WriteKind
from wellapi.resources.rules import KEEPS_PREFIX, READ_ONLY_PREFIX
from wellapi.sqlbuild.compiler import compile_template
from wellapi.sqlbuild.read_sql import live_row_conditions, parent_visible, scope_condition
from wellapi.sqlbuild.sa_rules import CONDITIONS, Check, WriteContext, scope_workspace_pk
from wellapi.store.rows import (
    CHANGES_LABEL,
    CREATED_LABEL,
    FOUND_TARGET_LABEL,
    WRITTEN_LABEL,
    check_label,
    found_label,
)
from wellapi.store.shapes import WritePlan, WriteShape


def _resolved(resource: Resource, shape: WriteShape) -> list[str]:
    """The relationships whose parents the write looks up (found, and visible to the caller).

    An update looks up the parents a client may point at (create-only ones), for a parent it
    names other than the row's: missing or invisible, that is 404 as on create. Named at the
    row's own parent (by public id, ``_member_checks``), it is not looked up again: a parent
    deleted since may be sent back. A read-only relationship is only compared.
    """
    if shape.kind == "create":
        return list(shape.relationships)
    return [n for n in shape.relationships if resource.relationship(n).writable != "never"]


def _related(resource: Resource, shape: WriteShape, ctx: WriteContext) -> dict[str, Any]:
    conditions = CONDITIONS[resource]
    related: dict[str, Any] = {}
    for name in _resolved(resource, shape):
        rel = resource.relationship(name)
        alias = tables.table(rel.parent.table.name).alias(f"p_{name}")
        visible = conditions.relationship_visible(ctx, name, alias)
        if visible is None:
            visible = parent_visible(rel.parent, alias, service=shape.service)
        # Only what the rules compare: a parent's other columns are none of the API role's
        # business (revision 0014 lets it read no more).
        kept = [alias.c[c] for c in ("pk", "workspace_pk") if c in alias.c]
        related[name] = (
            select(*kept)
            .where(alias.c[rel.parent.id_column] == bindparam(f"rel_{name}"), visible)
            .cte(f"rel_{name}")
        )
    return related


def _row_parent(name: str) -> str:
    """The label under which the target row carries a relationship's public id."""
    return f"rel_id_{name}"


def _target(resource: Resource, shape: WriteShape) -> Any:
    t = tables.table(resource.table.name).alias("t")
    parents = {
        rel.name: tables.table(rel.parent.table.name).alias(f"p_{rel.name}")
        for rel in resource.relationships
    }
    joined: Any = t
    for rel in resource.relationships:
        joined = joined.join(
            parents[rel.name], parents[rel.name].c.pk == t.c[rel.column], isouter=not rel.required
        )
    if shape.target_by:
        address = [
            parents[name].c[resource.relationship(name).parent.id_column]
            == bindparam(f"target_{name}")
            for name in shape.target_by
        ]
    else:
        address = [t.c[resource.id_column] == bindparam("row_id")]
    # An update compares the parents a document names with the row's, by public id.
    parent_ids = (
        [
            parents[rel.name].c[rel.parent.id_column].label(_row_parent(rel.name))
            for rel in resource.relationships
            if rel.reverse_column is None
        ]
        if shape.kind == "update"
        else []
    )
    read = (
        select(t, *parent_ids)
        .select_from(joined)
        .where(
            *address,
            # A ledger row of a revoked connector is not found, exactly like a deleted one.
            *live_row_conditions(resource, t),
            scope_condition(resource, t, parents, service=shape.service),
        )
    )
    if shape.kind == "update":
        # An update compares the row with what it was sent and writes only if something
        # changes: it must compare the row it would overwrite. Locked, the row is read at its
        # latest committed version once a concurrent writer commits, so a PATCH racing another
        # is a no-op only against the row as that one left it (tests/database/test_races_extra.py).
        read = read.with_for_update(of=t)
    return read.cte("target")


def _member_checks(resource: Resource, shape: WriteShape, target: Any) -> list[Check]:
    """What an update may not change, each compared with the row: a create-only member may
    be sent again at its value (else IMMUTABLE_FIELD), and so may a read-only one (else
    READ_ONLY_FIELD): a client may PATCH back the resource it fetched."""
    checks: list[Check] = []
    for name in shape.attributes:
        attribute = resource.attribute(name)
        if attribute.writable == "create":
            checks.append(
                Check(KEEPS_PREFIX + name, target.c[attribute.column] == bindparam(f"attr_{name}"))
            )
    for name in shape.read_only:
        # Typed after the column: a timestamp is compared as an instant (timestamptz).
        column = target.c[resource.attribute(name).column]
        checks.append(
            Check(READ_ONLY_PREFIX + name, column.is_not_distinct_from(bindparam(f"ro_{name}")))
        )
    for name in (*shape.relationships, *shape.null_relationships):
        rel = resource.relationship(name)
        if rel.writable == "always":
            continue
        current = target.c[_row_parent(rel.name)]
        same = (
            current.is_(None)
            if name in shape.null_relationships
            else current.is_not_distinct_from(bindparam(f"rel_{name}"))
        )
        prefix = KEEPS_PREFIX if rel.writable == "create" else READ_ONLY_PREFIX
        checks.append(Check(prefix + name, same))
    return checks


def _is_own_parent(target: Any, name: str) -> ColumnElement[bool]:
    same: ColumnElement[bool] = target.c[_row_parent(name)] == bindparam(f"rel_{name}")
    return same


def _changes(resource: Resource, shape: WriteShape, target: Any) -> list[ColumnElement[bool]]:
    """For each writable attribute the update sends: whether it differs from the row's."""
    return [
        target.c[resource.attribute(n).column].is_distinct_from(bindparam(f"attr_{n}"))
        for n in shape.attributes
        if resource.attribute(n).writable == "always"
    ]


def _isolated(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """A rule as a subquery of its own, false when a row it reads is missing.

    A rule may read the target or a relationship's row; inline, that row would join the FROM
    of the outcome row, which would then vanish whenever the row does not exist (the found
    flags are there to report that, and the outcome row must always be there to carry them).
    """
    return func.coalesce(select(condition).scalar_subquery(), false())


@dataclass(frozen=True)
class WriteStatement:
    """What a write's builder makes: the one statement, its rule checks in the order the
    outcome row reports them, and the relationships whose parents it resolves."""

    statement: Select[Any]
    checks: tuple[Check, ...]
    relationships: tuple[str, ...]


Flags = list[tuple[str, ColumnElement[bool]]]
# The write itself, given the CTE of the checks and the condition that all of them hold.
Writer = Callable[[Any, ColumnElement[bool]], Any]


def _returned(resource: Resource, table: Any) -> list[Any]:
    """What a write returns of each row it wrote: its public id."""
    return [table.c[resource.id_column]]


def _found(related: dict[str, Any]) -> Flags:
    """Whether each relationship's parent was found (and may be pointed at)."""
    return [
        (found_label(name), exists(select(literal(1)).select_from(cte)))
        for name, cte in related.items()
    ]


def _assemble(
    shape: WriteShape,
    related: dict[str, Any],
    flags: Flags,
    checks: list[Check],
    write: Writer,
    changes: list[ColumnElement[bool]] | None = None,
) -> WriteStatement:
    """The statement around a write: the checks CTE, the write when every check holds, and
    the outcome row (each flag and check, whether the update changes anything, how many rows
    it wrote and, for a create, whether it created)."""
    # A rule about rows that were not found is moot: guard each with the found flags.
    found_all = and_(true(), *(cond for _, cond in flags))
    conditions = [(check_label(c.name), and_(found_all, _isolated(c.condition))) for c in checks]
    outcomes: Flags = []
    if changes is not None:
        # Not a rule: whether to write at all. Evaluated on the row the statement read, as the
        # rules are; a row that is found and changes nothing is left alone.
        changed = and_(found_all, _isolated(or_(*changes))) if changes else false()
        outcomes = [(CHANGES_LABEL, changed)]
    checks_cte = select(
        *(cond.label(name) for name, cond in (*flags, *conditions, *outcomes)),
    ).cte("checks")
    # No resolved scope (the person may not act in the requested workspace): the request is
    # refused after the statement, so it must write nothing, whatever the rules say.
    every = and_(
        scope_workspace_pk().is_not(None),
        *(checks_cte.c[name] for name, _ in (*flags, *conditions)),
    )
    written_cte = write(checks_cte, every).cte("written")
    created = (
        [select(func.bool_or(written_cte.c[CREATED_LABEL])).scalar_subquery().label(CREATED_LABEL)]
        if shape.kind == "create"
        else []
    )
    stmt: Select[Any] = select(
        *(checks_cte.c[name] for name, _ in (*flags, *conditions, *outcomes)),
        select(func.count()).select_from(written_cte).scalar_subquery().label(WRITTEN_LABEL),
        *created,
    ).select_from(checks_cte)
    return WriteStatement(stmt, tuple(checks), tuple(related))


def build_create(shape: WriteShape, base: WriteContext) -> WriteStatement:
    """INSERT ... SELECT the values FROM checks WHERE every check holds (ON CONFLICT: nothing,
    or for an upsert the update of the live row)."""
    resource = RESOURCES[shape.resource]
    conditions = CONDITIONS[resource]
    related = _related(resource, shape, base)
    ctx = replace(base, related=related)
    table = tables.table(resource.table.name)

    def insert_row(checks_cte: Any, every: ColumnElement[bool]) -> Any:
        values: dict[str, Any] = {resource.id_column: bindparam("row_id")}
        for name in shape.attributes:
            values[resource.attribute(name).column] = bindparam(f"attr_{name}")
        for name, cte in related.items():
            values[resource.relationship(name).column] = select(cte.c.pk).scalar_subquery()
        values.update(conditions.create_values(ctx))
        columns = list(values)
        source = select(*(values[c] for c in columns)).select_from(checks_cte).where(every)
        statement = insert(table).from_select(columns, source)
        returned = _returned(resource, table)
        if not shape.upsert:
            return statement.on_conflict_do_nothing().returning(
                literal(True).label(CREATED_LABEL), *returned
            )
        key = resource.rules.upsert_key
        return statement.on_conflict_do_update(
            index_elements=list(key),
            index_where=table.c.deleted_at.is_(None),
            set_={c: statement.excluded[c] for c in columns if c not in (*key, resource.id_column)},
        ).returning(literal_column("(xmax = 0)").label(CREATED_LABEL), *returned)

    return _assemble(shape, related, _found(related), conditions.create_checks(ctx), insert_row)


def _update_target(
    resource: Resource,
    table: Any,
    target: Any,
    assignments: dict[str, Any],
    *,
    if_changed: bool = False,
) -> Writer:
    """UPDATE the target row (live) with ``assignments`` when every check holds (and, for a
    PATCH, when it changes something)."""

    def update_row(checks_cte: Any, every: ColumnElement[bool]) -> Any:
        target_pk = select(target.c.pk).scalar_subquery()
        guard = [checks_cte.c[CHANGES_LABEL]] if if_changed else []
        return (
            update(table)
            .where(table.c.pk == target_pk, table.c.deleted_at.is_(None), every, *guard)
            .values(assignments)
            .returning(*_returned(resource, table))
        )

    return update_row


def _found_target(target: Any) -> tuple[str, ColumnElement[bool]]:
    return FOUND_TARGET_LABEL, exists(select(literal(1)).select_from(target))


def build_update(shape: WriteShape, base: WriteContext) -> WriteStatement:
    """UPDATE the addressed row when every check holds and a writable attribute it sends
    differs from the row's; what it may not change is compared with the row."""
    resource = RESOURCES[shape.resource]
    related = _related(resource, shape, base)
    target = _target(resource, shape)
    ctx = replace(base, related=related, target=target)
    # The row's own parent, named again, is found whatever has become of it since.
    flags: Flags = [_found_target(target)]
    flags += [
        (label, or_(found, _isolated(_is_own_parent(target, name))))
        for name, (label, found) in zip(related, _found(related), strict=True)
    ]
    checks = _member_checks(resource, shape, target) + CONDITIONS[resource].update_checks(ctx)
    assignments: dict[str, Any] = {
        resource.attribute(n).column: bindparam(f"attr_{n}") for n in shape.attributes
    }
    # The trigger moves updated_at; naming it keeps the SET list from ever being empty.
    assignments["updated_at"] = func.now()
    table = tables.table(resource.table.name)
    write = _update_target(resource, table, target, assignments, if_changed=True)
    changes = _changes(resource, shape, target)
    return _assemble(shape, related, flags, checks, write, changes)


def build_delete(shape: WriteShape, base: WriteContext) -> WriteStatement:
    """Soft-delete the addressed row (and clear what the resource clears with it) when every
    check holds."""
    resource = RESOURCES[shape.resource]
    conditions = CONDITIONS[resource]
    related = _related(resource, shape, base)
    target = _target(resource, shape)
    ctx = replace(base, related=related, target=target)
    flags: Flags = [_found_target(target), *_found(related)]
    assignments = {"deleted_at": func.now(), **conditions.delete_values()}
    write = _update_target(resource, tables.table(resource.table.name), target, assignments)
    return _assemble(shape, related, flags, conditions.delete_checks(ctx), write)


BUILDERS: dict[WriteKind, Callable[[WriteShape, WriteContext], WriteStatement]] = {
    "create": build_create,
    "update": build_update,
    "delete": build_delete,
}


def write_context(shape: WriteShape) -> WriteContext:
    """What the rules see of a write of this shape when its plan is built."""
    resource = RESOURCES[shape.resource]
    return WriteContext(
        resource, ResourceDocument(dict.fromkeys(shape.attributes), {}), shape.service
    )


def compile_write(shape: WriteShape) -> WritePlan:
    """The plan of a write (``wellapi.store.statements`` caches it)."""
    built = BUILDERS[shape.kind](shape, write_context(shape))
    outcome = tuple(str(c.key) for c in built.statement.selected_columns)
    checks = tuple(c.name for c in built.checks)
    return WritePlan(compile_template(built.statement), checks, built.relationships, outcome)
