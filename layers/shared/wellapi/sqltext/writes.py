"""SQL for Create, Update and Delete: one statement that checks every rule and writes only
when all of them hold, then reports each rule's outcome in one row.

    WITH rel_<name> AS (the parent each relationship points at, if visible),
         target     AS (the row an update or delete addresses, if visible),
         checks     AS (one boolean per rule),
         written    AS (INSERT ... / UPDATE ... WHERE every check holds RETURNING the row)
    SELECT checks.*, (SELECT count(*) FROM written), answered.* FROM checks
      LEFT JOIN (the row a create or update leaves, as a read shows it) AS answered ON true

The database records the change itself (docs/changes.md): a trigger at the end of the
statement (``<table>_recorded_<event>``) writes the record of the row it changed, so it commits
exactly when the change does, in the same round trip, and a write that changes nothing (a
failed rule, a PATCH that changes nothing, a create that meets a live row, a replayed create)
records nothing.

Every column of that outcome row is labelled by ``wellapi.store.rows``, which also reads it back
(``WriteOutcome``); the plan keeps the labels in the order the statement emits them. A create
(unless keyed: ``wellapi.store.idempotency``) or an update answers with the row it leaves in
the same row (``written_row``): no second statement reads it back, which cost a Create a
tenth of its database CPU (the index walk, the policies' verifiers and the executor of
another statement).

An update compares what it may not change with the target row instead: each create-only or
read-only member sent back (a timestamp, ``created_by``, a parent by its public id) is a
check that it IS NOT DISTINCT FROM the row's value, and its ``changes`` flag says whether any
writable attribute sent differs from the row's. The row is updated only when it does, so a
PATCH that changes nothing writes nothing (``updated_at`` stays, no trigger fires) and still
reports that it found the row, which the script then reads back.

Composed once per shape (resource, operation, which members the document has, principal
kind), the first time a function serves it (``wellapi.sqltext.statements``).
"""

from __future__ import annotations

from wellapi.resources import RESOURCES, Resource
from wellapi.resources.all_conditions import CONDITIONS
from wellapi.resources.changes import ResourceDocument
from wellapi.resources.conditions import (
    SCOPE_WORKSPACE_PK,
    Check,
    WriteContext,
    all_of,
    any_of,
    qualified,
    slot,
)
from wellapi.resources.rules import KEEPS_PREFIX, READ_ONLY_PREFIX
from wellapi.sqltext.reads import (
    SLOT_TYPES,
    live_row_conditions,
    parent_visible,
    read_columns,
    scope_condition,
    with_parents,
)
from wellapi.sqltext.text import select, template
from wellapi.store.rows import (
    CHANGES_LABEL,
    CREATED_LABEL,
    FOUND_TARGET_LABEL,
    WRITTEN_LABEL,
    check_label,
    found_label,
)
from wellapi.store.shapes import WritePlan, WriteShape
from wellapi.store.sql import Layout

TARGET = "target"
# Where the write says "every check holds", filled by ``assemble``.
EVERY = "<every check holds>"
# A flag or check of the outcome row: its label and its condition.
Flags = list[tuple[str, str]]


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


def _related(shape: WriteShape, ctx: WriteContext) -> dict[str, str]:
    """Each resolved relationship's CTE (``rel_<name>``), by relationship."""
    resource = ctx.resource
    ctes: dict[str, str] = {}
    answered = _answered_from_ctes(shape, ctx)
    for name in _resolved(resource, shape):
        rel = resource.relationship(name)
        alias = f"p_{name}"
        condition = CONDITIONS[resource].relationship_visible(ctx, name, alias)
        if condition is None:
            condition = parent_visible(rel.parent, alias, service=shape.service)
        # Only what the rules compare: a parent's other columns are none of the API role's
        # business (its column grants let it read no more). A parent owned by a workspace has it.
        kept = [f"{alias}.pk"]
        if rel.parent.visibility == "workspace_owned":
            kept.append(f"{alias}.workspace_pk")
        if name in answered:
            kept.append(f"{alias}.{rel.parent.id_column}")  # the answer's linkage
        found = f"{alias}.{rel.parent.id_column} = {slot(f'rel_{name}', 'UUID')}"
        source = f"{qualified(rel.parent.table.name)} AS {alias}"
        ctes[name] = select(kept, source, [found, condition])
    return ctes


def _answered_from_ctes(shape: WriteShape, ctx: WriteContext) -> dict[str, str]:
    """The parents a create's answer (``written_row``) reads from the write's own CTEs, by
    relationship: each one it looked up whose row the answer shows by its public id alone (not
    included, no attribute of the row's read from it). The others, and an update's (whose CTE
    finds no parent deleted since, which its row may still point at), are joined as a read
    joins them."""
    if shape.answers is None or shape.kind != "create":
        return {}
    resource = ctx.resource
    sourced = {a.source for a in resource.attributes}
    return {
        name: cte
        for name, cte in ctx.related.items()
        if name not in shape.answers.include
        and name not in sourced
        and resource.relationship(name).reverse_column is None
    }


def _row_columns(resource: Resource) -> list[str]:
    """The columns of a row that a read's columns and joins name (``read_columns``,
    ``with_parents``): its keys, its own attributes' and its parents' keys."""
    columns = ["pk", resource.id_column]
    columns += [a.column for a in resource.attributes if a.source is None]
    columns += [r.column for r in resource.relationships if r.reverse_column is None]
    return list(dict.fromkeys(columns))


def written_row(shape: WriteShape, ctx: WriteContext) -> tuple[str, tuple[str, ...]]:
    """The row the write leaves, as the read ``shape.answers`` shows it: the same columns as
    that read's, the parents a create looked up read from its CTEs (``_answered_from_ctes``);
    with its labels, in order. A create's is the row it wrote; an update's, the row it wrote
    or, when it changed nothing, the row it found (locked, so as it stays). A write's
    RETURNING is the row as it stays: the triggers that change a row run before it, and those
    after only check or record."""
    assert shape.answers is not None
    rows = "written"
    if shape.kind == "update":
        kept = ", ".join(_row_columns(ctx.resource))
        rows = (
            f"(SELECT {kept} FROM written UNION ALL SELECT {kept} FROM {TARGET}"
            " WHERE NOT EXISTS (SELECT 1 FROM written))"
        )
    columns = read_columns(shape.answers)
    parents = _answered_from_ctes(shape, ctx)
    source = with_parents(ctx.resource, rows, "t", parents)
    return select([f"{v} AS {label}" for v, label in columns], source), tuple(
        label for _, label in columns
    )


def _row_parent(name: str) -> str:
    """The column under which the target row carries a relationship's public id."""
    return f"rel_id_{name}"


def _target(resource: Resource, shape: WriteShape) -> str:
    """The row an update or delete addresses, live and in scope; an update's locked."""
    if shape.target_by:
        address = [
            f"p_{n}.{resource.relationship(n).parent.id_column} = {slot(f'target_{n}', 'UUID')}"
            for n in shape.target_by
        ]
    else:
        address = [f"t.{resource.id_column} = {slot('row_id', 'UUID')}"]
    columns = ["t.*"]
    if shape.kind == "update":
        # An update compares the parents a document names with the row's, by public id.
        columns += [
            f"p_{rel.name}.{rel.parent.id_column} AS {_row_parent(rel.name)}"
            for rel in resource.relationships
            if rel.reverse_column is None
        ]
    source = with_parents(resource, qualified(resource.table.name), "t")
    where = [
        *address,
        # A ledger row of a revoked connector is not found, exactly like a deleted one.
        *live_row_conditions(resource, "t"),
        scope_condition(resource, "t", service=shape.service),
    ]
    read = select(columns, source, where)
    if shape.kind == "update":
        # An update compares the row with what it was sent and writes only if something
        # changes: it must compare the row it would overwrite. Locked, the row is read at its
        # latest committed version once a concurrent writer commits, so a PATCH racing another
        # is a no-op only against the row as that one left it
        # (tests/database/test_races_extra.py).
        read += "\nFOR UPDATE OF t"
    return read


def _member_checks(resource: Resource, shape: WriteShape) -> list[Check]:
    """What an update may not change, each compared with the row: a create-only member may
    be sent again at its value (else IMMUTABLE_FIELD), and so may a read-only one (else
    READ_ONLY_FIELD): a client may PATCH back the resource it fetched."""
    checks: list[Check] = []
    for name in shape.attributes:
        attribute = resource.attribute(name)
        if attribute.writable == "create":
            sent = slot(f"attr_{name}", SLOT_TYPES.get(attribute.kind))
            condition = f"{TARGET}.{attribute.column} = {sent}"
            checks.append(Check(KEEPS_PREFIX + name, condition, (TARGET,)))
    for name in shape.read_only:
        # Typed after the column: a timestamp is compared as an instant (timestamptz).
        attribute = resource.attribute(name)
        sent = slot(f"ro_{name}", SLOT_TYPES.get(attribute.kind))
        condition = f"{TARGET}.{attribute.column} IS NOT DISTINCT FROM {sent}"
        checks.append(Check(READ_ONLY_PREFIX + name, condition, (TARGET,)))
    for name in (*shape.relationships, *shape.null_relationships):
        rel = resource.relationship(name)
        if rel.writable == "always":
            continue
        current = f"{TARGET}.{_row_parent(rel.name)}"
        same = (
            f"{current} IS NULL"
            if name in shape.null_relationships
            else f"{current} IS NOT DISTINCT FROM {slot(f'rel_{name}', 'UUID')}"
        )
        prefix = KEEPS_PREFIX if rel.writable == "create" else READ_ONLY_PREFIX
        checks.append(Check(prefix + name, same, (TARGET,)))
    return checks


def _changes(resource: Resource, shape: WriteShape) -> list[str]:
    """For each writable attribute the update sends: whether it differs from the row's."""
    changes = []
    for name in shape.attributes:
        attribute = resource.attribute(name)
        if attribute.writable == "always":
            sent = slot(f"attr_{name}", SLOT_TYPES.get(attribute.kind))
            changes.append(f"{TARGET}.{attribute.column} IS DISTINCT FROM {sent}")
    return changes


def isolated(condition: str, reads: tuple[str, ...]) -> str:
    """A rule as a subquery of its own over the rows it reads, false when one is missing.

    A rule may read the target or a relationship's row; inline, that row would join the FROM
    of the outcome row, which would then vanish whenever the row does not exist (the found
    flags are there to report that, and the outcome row must always be there to carry them).
    """
    source = f" FROM {', '.join(reads)}" if reads else ""
    return f"coalesce((SELECT {condition}{source}), false)"


def _exists(cte: str) -> str:
    return f"EXISTS (SELECT 1 FROM {cte})"


def _found(related: dict[str, str]) -> Flags:
    """Whether each relationship's parent was found (and may be pointed at)."""
    return [(found_label(name), _exists(f"rel_{name}")) for name in related]


class Write:
    """A write's parts, before they are assembled into its one statement: the CTEs it reads
    (relationships, target), its found flags and rule checks, whether an update changes
    anything, and the write itself given the condition that every check holds. A plain class:
    making a dataclass would cost a write function's cold start about a millisecond."""

    __slots__ = ("changes", "checks", "ctes", "flags", "relationships", "shape", "write")

    def __init__(
        self,
        shape: WriteShape,
        ctes: list[tuple[str, str]],
        flags: Flags,
        checks: list[Check],
        relationships: tuple[str, ...],
        write: str,
        changes: list[str] | None = None,
    ) -> None:
        self.shape = shape
        self.ctes = ctes
        self.flags = flags
        self.checks = checks
        self.relationships = relationships
        self.write = write
        self.changes = changes


def _checks_cte(parts: Write) -> tuple[str, Flags, Flags]:
    """The checks CTE: each flag, each rule guarded by the flags (a rule about rows that were
    not found is moot), and an update's ``changes``; with the outcome's flags and checks."""
    found_all = [condition for _, condition in parts.flags]
    conditions = [
        (check_label(c.name), all_of(*found_all, isolated(c.condition, c.reads)))
        for c in parts.checks
    ]
    outcomes: Flags = []
    if parts.changes is not None:
        # Not a rule: whether to write at all. Evaluated on the row the statement read, as the
        # rules are; a row that is found and changes nothing is left alone.
        changed = (
            all_of(*found_all, isolated(any_of(*parts.changes), (TARGET,)))
            if parts.changes
            else "false"
        )
        outcomes = [(CHANGES_LABEL, changed)]
    every = [*parts.flags, *conditions, *outcomes]
    return select([f"{cond} AS {name}" for name, cond in every]), conditions, outcomes


def outcome_columns(shape: WriteShape, flags: Flags) -> list[tuple[str, str]]:
    """The outcome row's columns, each with its label: each flag and check from the checks
    CTE, how many rows the write wrote and, for a create, whether it created."""
    columns = [(f"checks.{name}", name) for name, _ in flags]
    columns.append(("(SELECT count(*) FROM written)", WRITTEN_LABEL))
    if shape.kind == "create":
        columns.append((f"(SELECT bool_or(written.{CREATED_LABEL}) FROM written)", CREATED_LABEL))
    return columns


def assemble(parts: Write, answered: tuple[str, tuple[str, ...]] | None = None) -> WritePlan:
    """The statement around a write: the checks CTE, the write when every check holds, and
    the outcome row (each flag and check, whether the update changes anything, how many rows
    it wrote and, for a create, whether it created), then the row the write leaves when it
    ``answered`` with it (``written_row``: NULLs when there is none)."""
    checks_cte, conditions, outcomes = _checks_cte(parts)
    # No resolved scope (the person may not act in the requested workspace): the request is
    # refused after the statement, so it must write nothing, whatever the rules say.
    every = all_of(
        f"{SCOPE_WORKSPACE_PK} IS NOT NULL",
        *(f"checks.{name}" for name, _ in (*parts.flags, *conditions)),
    )
    ctes = [*parts.ctes, ("checks", checks_cte), ("written", parts.write.replace(EVERY, every))]
    columns = outcome_columns(parts.shape, [*parts.flags, *conditions, *outcomes])
    source = "checks"
    if answered is not None:
        row, row_labels = answered
        source = f"checks LEFT OUTER JOIN (\n{row}\n) AS answered ON true"
        columns += [(f"answered.{label}", label) for label in row_labels]
    with_ = ",\n".join(f"{name} AS (\n{body}\n)" for name, body in ctes)
    selected = [f"{value} AS {label}" for value, label in columns]
    text = f"WITH {with_}\n{select(selected, source)}"
    labels = tuple(label for _, label in columns)
    checks = tuple(c.name for c in parts.checks)
    layout = None if answered is None else Layout(labels)
    return WritePlan(template(text), checks, parts.relationships, labels, layout)


def _insert(shape: WriteShape, ctx: WriteContext) -> str:
    """INSERT ... SELECT the values FROM checks WHERE every check holds (ON CONFLICT: nothing,
    or for an upsert the update of the live row); ``EVERY`` is left for ``assemble``."""
    resource = ctx.resource
    values: dict[str, str] = {resource.id_column: slot("row_id")}
    for name in shape.attributes:
        values[resource.attribute(name).column] = slot(f"attr_{name}")
    for name, cte in ctx.related.items():
        values[resource.relationship(name).column] = f"(SELECT {cte}.pk FROM {cte})"
    values.update(CONDITIONS[resource].create_values(ctx))
    table = qualified(resource.table.name)
    # The row itself when the statement answers with it (``written_row``), else its id.
    returned = f"{table}.{'*' if shape.answers else resource.id_column}"
    source = select(list(values.values()), "checks", [EVERY])
    insert = f"INSERT INTO {table} ({', '.join(values)})\n{source}"
    if not shape.upsert:
        return f"{insert}\nON CONFLICT DO NOTHING RETURNING true AS {CREATED_LABEL}, {returned}"
    key = resource.rules.upsert_key
    kept = [c for c in values if c not in (*key, resource.id_column)]
    assignments = ", ".join(f"{c} = excluded.{c}" for c in kept)
    return (
        f"{insert}\nON CONFLICT ({', '.join(key)}) WHERE deleted_at IS NULL"
        f" DO UPDATE SET {assignments}"
        f"\nRETURNING (xmax = 0) AS {CREATED_LABEL}, {returned}"
    )


def _update(
    resource: Resource, assignments: dict[str, str], *, if_changed: bool, answers: bool = False
) -> str:
    """UPDATE the target row (live) with ``assignments`` when every check holds (and, for a
    PATCH, when it changes something), returning its id (or, when the statement ``answers``
    with it, the row); ``EVERY`` is left for ``assemble``."""
    table = qualified(resource.table.name)
    guard = [f"checks.{CHANGES_LABEL}"] if if_changed else []
    where = all_of(
        f"{table}.pk = (SELECT {TARGET}.pk FROM {TARGET})",
        f"{table}.deleted_at IS NULL",
        EVERY,
        *guard,
    )
    sets = ", ".join(f"{column} = {value}" for column, value in assignments.items())
    return (
        f"UPDATE {table} SET {sets} FROM checks WHERE {where}"
        f" RETURNING {table}.{'*' if answers else resource.id_column}"
    )


def _context(shape: WriteShape) -> WriteContext:
    """What the rules see of a write of this shape, its relationships' CTEs named."""
    resource = RESOURCES[shape.resource]
    document = ResourceDocument(dict.fromkeys(shape.attributes), {})
    related = {name: f"rel_{name}" for name in _resolved(resource, shape)}
    return WriteContext(resource, document, shape.service, related, TARGET)


def _relationship_ctes(shape: WriteShape, ctx: WriteContext) -> list[tuple[str, str]]:
    return [(ctx.related[name], body) for name, body in _related(shape, ctx).items()]


def compose_create(shape: WriteShape) -> WritePlan:
    ctx = _context(shape)
    checks = CONDITIONS[ctx.resource].create_checks(ctx)
    write = _insert(shape, ctx)
    parts = Write(
        shape,
        _relationship_ctes(shape, ctx),
        _found(dict(ctx.related)),
        checks,
        tuple(ctx.related),
        write,
    )
    return assemble(parts, None if shape.answers is None else written_row(shape, ctx))


def compose_update(shape: WriteShape) -> WritePlan:
    """UPDATE the addressed row when every check holds and a writable attribute it sends
    differs from the row's; what it may not change is compared with the row."""
    ctx = _context(shape)
    resource = ctx.resource
    # The row's own parent, named again, is found whatever has become of it since.
    flags: Flags = [(FOUND_TARGET_LABEL, _exists(TARGET))]
    for name, cte in ctx.related.items():
        own = f"{TARGET}.{_row_parent(name)} = {slot(f'rel_{name}', 'UUID')}"
        flags.append((found_label(name), any_of(_exists(cte), isolated(own, (TARGET,)))))
    checks = _member_checks(resource, shape) + CONDITIONS[resource].update_checks(ctx)
    assignments = {
        resource.attribute(n).column: slot(f"attr_{n}", SLOT_TYPES.get(resource.attribute(n).kind))
        for n in shape.attributes
    }
    # The trigger moves updated_at; naming it keeps the SET list from ever being empty.
    assignments["updated_at"] = "now()"
    ctes = [(TARGET, _target(resource, shape)), *_relationship_ctes(shape, ctx)]
    answers = shape.answers is not None
    write = _update(resource, assignments, if_changed=True, answers=answers)
    parts = Write(shape, ctes, flags, checks, tuple(ctx.related), write, _changes(resource, shape))
    return assemble(parts, written_row(shape, ctx) if answers else None)


def compose_delete(shape: WriteShape) -> WritePlan:
    """Soft-delete the addressed row (and clear what the resource clears with it) when every
    check holds."""
    ctx = _context(shape)
    resource = ctx.resource
    conditions = CONDITIONS[resource]
    flags: Flags = [(FOUND_TARGET_LABEL, _exists(TARGET)), *_found(dict(ctx.related))]
    ctes = [(TARGET, _target(resource, shape)), *_relationship_ctes(shape, ctx)]
    assignments = {"deleted_at": "now()", **conditions.delete_values()}
    write = _update(resource, assignments, if_changed=False)
    checks = conditions.delete_checks(ctx)
    return assemble(Write(shape, ctes, flags, checks, tuple(ctx.related), write))


def compose_write(shape: WriteShape) -> WritePlan:
    """The plan of a write (``wellapi.sqltext.statements`` caches it)."""
    if shape.kind == "create":
        return compose_create(shape)
    if shape.kind == "update":
        return compose_update(shape)
    return compose_delete(shape)
