"""The composed statements answer exactly as the statements SQLAlchemy compiled did.

Temporary: it lives only while ``layers/shared/wellapi/store/compiled/`` does, to prove the
run-time composer (``wellapi.sqltext``) before the compiled files go. For every shape in those
files, on the seeded demo, as the API role in a member's (or a service's) scope:

- a read returns the same rows (every value, in order) for several sets of values: every
  filter matching seeded rows, a short page after or before a cursor in the middle of the
  data, and ids that match nothing; a List's total counts the same;
- a write returns the same outcome row and leaves the same rows in its table and the same
  change records, each run in a transaction rolled back after;
- the planner reads each statement with the same plan: the same node types, the same indexes.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from tests.support.proven import SignedScope
from wellapi.resources import Resource, resource_named
from wellapi.roles import API_ROLE
from wellapi.sqltext.reads import compose_read, compose_total
from wellapi.sqltext.writes import compose_write
from wellapi.store.rows import WRITTEN_LABEL
from wellapi.store.shapes import ReadShape, WriteShape
from wellapi.store.templates import Template
from welldev import database as local_db
from welldev import seed
from welldev.claims import claims

COMPILED = Path(__file__).parents[2] / "layers" / "shared" / "wellapi" / "store" / "compiled"
NOWHERE = uuid.UUID("00000000-0000-4000-8000-000000000001")


def compiled_entries() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted(COMPILED.rglob("*.json"))]


def shape_of(entry: dict[str, Any]) -> ReadShape | WriteShape:
    # The repr of a frozen dataclass of plain values, written by the compiler: read it back.
    value = eval(entry["shape"], {"ReadShape": ReadShape, "WriteShape": WriteShape})  # noqa: S307
    assert isinstance(value, ReadShape | WriteShape)
    return value


@pytest.fixture(scope="module")
def demo(server: local_db.LocalDatabase) -> Iterator[tuple[Any, Any, dict[str, SignedScope]]]:
    name = f"wellapi_equivalence_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    admin = local_db.admin_connection(db.admin_url)
    api = local_db.admin_connection(db.url_for(API_ROLE))
    try:
        seed.seed(admin)
        admin.run("ANALYZE")
        member = seed.demo_members()[0]
        scopes = {
            kind: SignedScope(
                claims(admin, member.person_id, member.workspace_id, kind)["scope_token"],
                member.workspace_id,
            )
            for kind in ("member", "service")
        }
        yield admin, api, scopes
    finally:
        api.close()
        admin.close()
        local_db.drop_database(server, name)


def in_scope(api: Any, scope: SignedScope, *statements: str) -> list[list[Any]]:
    """Each statement's rows, in one transaction in ``scope``, rolled back after."""
    try:
        scope.open(api)
        return [api.run(sql) for sql in statements]
    finally:
        api.run("ROLLBACK")


INSTANT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


@cache
def parent_ids(admin: Any, resource: Resource, name: str) -> list[Any]:
    """Up to three public ids of the parents rows of ``resource`` point at by ``name``."""
    rel = resource.relationship(name)
    parent = f"core_api.{rel.parent.table.name}"
    if rel.reverse_column is not None:
        sql = f"SELECT p.{rel.parent.id_column} FROM {parent} p ORDER BY p.pk LIMIT 3"
    else:
        sql = (
            f"SELECT p.{rel.parent.id_column} FROM core_api.{resource.table.name} t "
            f"JOIN {parent} p ON p.pk = t.{rel.column} GROUP BY p.{rel.parent.id_column} "
            f"ORDER BY count(*) DESC, 1 LIMIT 3"
        )
    return [r[0] for r in admin.run(sql)]


@cache
def middle_row(admin: Any, resource: Resource, sort: str) -> tuple[str, Any]:
    """The sort value (as a cursor holds it) and id of the row in the middle of the table."""
    column = resource.attribute(sort).column
    rows = admin.run(
        f"SELECT {INSTANT.format('t.' + column)}, t.{resource.id_column} "
        f"FROM core_api.{resource.table.name} t WHERE t.{column} IS NOT NULL "
        f"ORDER BY t.{column}, t.{resource.id_column}"
    )
    value, row_id = rows[len(rows) // 2]
    return value, row_id


def read_values(admin: Any, shape: ReadShape, variant: str, slots: set[str]) -> dict[str, Any]:
    """The values of a read of ``shape``: ``wide`` (every filter matching seeded rows, a page
    holding them all), ``narrow`` (a page of 3 from a cursor in the middle, fields hidden by
    turns) or ``none`` (ids that match nothing)."""
    resource = resource_named(shape.resource)
    wide = variant == "wide"
    params: dict[str, Any] = {
        "limit": 1000 if wide else 3,
        "total_limit": 1000 if wide else 2,
        "link_base": "https://api.example.test",
        "link_suffix": "?workspace_id=x",
    }
    params.update({s: wide or len(s) % 2 == 0 for s in slots if s.startswith(("show_", "any_"))})
    for name, count in shape.relationship_filters:
        ids = parent_ids(admin, resource, name) if variant != "none" else []
        for i in range(count):
            params[f"rel_{name}_{i}"] = ids[i % len(ids)] if ids else NOWHERE
    for name, count in shape.attribute_filters:
        attribute = resource.attribute(name)
        choices: list[Any] = list(attribute.enum) or [True, False]
        for i in range(count):
            params[f"attr_{name}_{i}"] = choices[(i + (0 if wide else 1)) % len(choices)]
    value, row_id = middle_row(admin, resource, shape.sort)
    for name, operator in shape.ranges:
        low, high = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z") if wide else (value, value)
        params[f"range_{name}_{operator}"] = low if operator.startswith("g") else high
    params["cursor_value"], params["cursor_id"] = value, row_id
    params["row_id"] = NOWHERE if variant == "none" else row_id
    return params


def plan_signature(api: Any, scope: SignedScope, sql: str) -> tuple[Counter[str], set[str]]:
    """The node types of the statement's plan (counted) and the indexes it uses."""
    (rows,) = in_scope(api, scope, f"EXPLAIN (FORMAT JSON) {sql}")
    raw = rows[0][0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes: Counter[str] = Counter()
    indexes: set[str] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        nodes[node["Node Type"]] += 1
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        stack.extend(node.get("Plans", []))
    return nodes, indexes


ENTRIES = compiled_entries()
READS = [e for e in ENTRIES if e["shape"].startswith("ReadShape(")]
WRITES = [e for e in ENTRIES if e["shape"].startswith("WriteShape(")]


def _slots(*templates: Template) -> set[str]:
    names: set[str] = set()
    for t in templates:
        names |= set(t.defaults)
    return names


def read_differences(
    admin: Any, api: Any, scope: SignedScope, entry: dict[str, Any], tally: Counter[str]
) -> list[str]:
    """How the composed read of ``entry``'s shape answers otherwise than the compiled one."""
    shape = shape_of(entry)
    assert isinstance(shape, ReadShape)
    compiled = Template(entry["sql"], entry["defaults"])
    composed, _ = compose_read(shape)
    pairs = [(compiled, composed)]
    if "total_sql" in entry:
        pairs.append((Template(entry["total_sql"], entry["total_defaults"]), compose_total(shape)))
    found = []
    for variant in ("wide", "narrow", "none"):
        values = read_values(admin, shape, variant, _slots(compiled, composed))
        for old, new in pairs:
            before, after = in_scope(api, scope, old.render(values), new.render(values))
            if before != after:
                found.append(f"{variant}: {len(before)} rows against {len(after)}")
            tally[f"{variant} {'rows' if before and before[0] != [0] else 'none'}"] += 1
            if variant == "wide" and plan_signature(api, scope, old.render(values)) != (
                plan_signature(api, scope, new.render(values))
            ):
                found.append(f"{variant}: another plan")
    return found


def test_every_compiled_read_answers_as_composed(demo):
    admin, api, scopes = demo
    differences = {}
    tally: Counter[str] = Counter()
    for entry in READS:
        shape = shape_of(entry)
        scope = scopes["service" if shape.service else "member"]
        found = read_differences(admin, api, scope, entry, tally)
        if found:
            differences[entry["shape"]] = found
    assert differences == {}
    assert len(READS) == 6954
    print(dict(tally))
    # Compared on rows, not on empty answers: most wide and narrow reads find some.
    assert tally["wide rows"] > tally["wide none"], tally
    assert tally["narrow rows"] > 0, tally


@cache
def sample_rows(admin: Any, resource: Resource) -> list[dict[str, Any]]:
    """Two live rows of ``resource``: their ids, parents' ids and attributes' values."""
    joins = " ".join(
        f"LEFT JOIN core_api.{r.parent.table.name} p_{r.name} ON p_{r.name}.pk = t.{r.column}"
        for r in resource.relationships
    )
    parents = [f"p_{r.name}.{r.parent.id_column}" for r in resource.relationships]
    values = [f"CAST(t.{a.column} AS TEXT)" for a in resource.attributes]
    rows = admin.run(
        f"SELECT t.{resource.id_column}, {', '.join(parents + values)} "
        f"FROM core_api.{resource.table.name} t {joins} WHERE t.deleted_at IS NULL ORDER BY t.pk"
    )
    names = ["id", *(f"rel_{r.name}" for r in resource.relationships)]
    names += [f"attr_{a.name}" for a in resource.attributes]
    return [dict(zip(names, row, strict=True)) for row in (rows[0], rows[-1])]


def write_values(admin: Any, shape: WriteShape, variant: int) -> dict[str, Any]:
    """The values of a write of ``shape`` after a seeded row: sent back as it is (variant 0),
    another row's parents and read-only values (1), or ids that match nothing (2)."""
    resource = resource_named(shape.resource)
    row = sample_rows(admin, resource)[min(variant, 1)]
    other = sample_rows(admin, resource)[0 if variant else 1]
    params: dict[str, Any] = {"row_id": row["id"] if variant < 2 else NOWHERE}
    if shape.kind == "create":
        params["row_id"] = uuid.uuid5(NOWHERE, repr(shape) + str(variant))
    for name in shape.target_by:
        params[f"target_{name}"] = row[f"rel_{name}"] if variant < 2 else NOWHERE
    for name in shape.attributes:
        attribute = resource.attribute(name)
        current = row[f"attr_{name}"]
        if attribute.kind == "boolean":
            params[f"attr_{name}"] = current != "true"
        elif attribute.enum:
            params[f"attr_{name}"] = attribute.enum[variant % len(attribute.enum)]
        else:
            params[f"attr_{name}"] = current
    for name in shape.read_only:
        params[f"ro_{name}"] = row[f"attr_{name}"] if variant == 0 else "2001-01-01T00:00:00Z"
    for name in shape.relationships:
        source = other if variant == 1 else row
        params[f"rel_{name}"] = source[f"rel_{name}"] if variant < 2 else NOWHERE
    return params


def table_state(resource: Resource) -> str:
    """What a write may change of its table, as the API role sees it, and the changes it
    recorded."""
    kept = [a.column for a in resource.attributes if a.kind != "datetime"]
    kept += [r.column for r in resource.relationships]
    columns = ", ".join([f"t.{resource.id_column}", "t.deleted_at IS NULL", *kept])
    return (
        f"SELECT {columns} FROM core_api.{resource.table.name} t ORDER BY 1; "
        "SELECT count(*) FROM core_api.change_records"
    )


def answer(api: Any, scope: SignedScope, *statements: str) -> list[Any]:
    """What ``in_scope`` answers, or the error the database raised: its code and constraint
    (a constraint the rules leave to the database, such as a provider selected but unmatched,
    is an answer too)."""
    try:
        return in_scope(api, scope, *statements)
    except pg8000.native.DatabaseError as error:
        fields = error.args[0]
        return [fields["C"], fields.get("n")]


def write_differences(
    admin: Any, api: Any, scope: SignedScope, entry: dict[str, Any], tally: Counter[str]
) -> list[str]:
    shape = shape_of(entry)
    assert isinstance(shape, WriteShape)
    compiled = Template(entry["sql"], entry["defaults"])
    composed = compose_write(shape).template
    state = table_state(resource_named(shape.resource))
    found = []
    for variant in (0, 1, 2):
        values = write_values(admin, shape, variant)
        before = answer(api, scope, compiled.render(values), state)
        after = answer(api, scope, composed.render(values), state)
        if before != after:
            found.append(f"variant {variant}: {before[0]} against {after[0]}")
        tally[_kind_of(before, entry["outcome"].index(WRITTEN_LABEL))] += 1
    return found


def _kind_of(answer: list[Any], written: int) -> str:
    """What a write's answer was: an error's code, or whether it wrote a row."""
    if isinstance(answer[0], str):
        return f"error {answer[0]}"
    (outcome,) = answer[0]
    return "wrote" if outcome[written] else "refused"


def test_every_compiled_write_answers_and_writes_as_composed(demo):
    admin, api, scopes = demo
    differences = {}
    tally: Counter[str] = Counter()
    for entry in WRITES:
        shape = shape_of(entry)
        scope = scopes["service" if shape.service else "member"]
        found = write_differences(admin, api, scope, entry, tally)
        if found:
            differences[entry["shape"]] = found
    assert differences == {}
    assert len(WRITES) == 478
    print(dict(tally))
    # The writes wrote, were refused, and met the one constraint left to the database.
    assert set(tally) == {"wrote", "refused", "error 23514"}, tally
