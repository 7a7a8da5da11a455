"""The function's writer (``wellapi.jsonapi.document.ObjectWriter``, a read's) against the
statement's (``wellapi.sqltext.document``, a keyed create's re-read): for any values, ``fields``,
``include`` and links, the same resource object and included records, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wellapi.jsonapi.document import Linker, ObjectWriter, document_values
from wellapi.jsonapi.query import ReadQuery
from wellapi.resources import RESOURCES, Attribute, Resource
from wellapi.sqltext.reads import document_columns, ids_of, parent_visible, value_columns
from wellapi.sqltext.text import template
from wellapi.store.connections import send
from wellapi.store.rows import ReadColumns, ReadRow, linkage_label

SQL_TYPES = {"datetime": "timestamptz", "integer": "integer", "boolean": "boolean"}
# What PostgreSQL's text holds: no NUL, no lone surrogate.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
INSTANT = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC))
IDS = st.uuids()


def values_for(attribute: Attribute) -> st.SearchStrategy[Any]:
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "datetime": INSTANT,
        "integer": st.integers(-(2**31), 2**31 - 1),
        "boolean": st.booleans(),
        "enum": st.sampled_from(attribute.enum or ("x",)),
    }
    values = kinds.get(attribute.kind, TEXT)
    return values | st.none() if attribute.nullable else values


def fieldset(names: list[str]) -> st.SearchStrategy[frozenset[str] | None]:
    return st.none() | st.frozensets(st.sampled_from(names))


@st.composite
def cases(draw: st.DrawFn, resource: Resource) -> dict[str, Any]:
    relationships = [r.name for r in resource.relationships]
    order = draw(st.permutations(relationships))
    include = tuple(order[: draw(st.integers(0, len(order)))])
    fields = {resource.type: draw(fieldset([a.name for a in resource.attributes] + relationships))}
    for rel in resource.relationships:
        fields[rel.parent.type] = draw(fieldset([a.name for a in rel.parent.attributes]))
    return {
        "query": ReadQuery(
            include=include,
            fields={k: v for k, v in fields.items() if v is not None},
            include_requested=bool(include),
        ),
        "linker": Linker(draw(TEXT), draw(st.none() | IDS)),
        "id": draw(IDS),
        "values": {a.name: draw(values_for(a)) for a in resource.attributes},
        "parents": {
            r.name: (
                draw(st.none() | IDS),
                draw(st.booleans()),
                {a.name: draw(values_for(a)) for a in r.parent.attributes},
            )
            for r in resource.relationships
        },
    }


def _typed(slot: str, kind: str) -> str:
    return f"CAST(%({slot})s AS {SQL_TYPES.get(kind, 'text')})"


def both_writers(
    admin: Any, resource: Resource, case: dict[str, Any]
) -> tuple[tuple[str | None, ...], tuple[str | None, ...]]:
    """One statement over the case's values: the statement's resource object and included
    records, then the values a read answers with (``read_columns``), by label."""
    params: dict[str, Any] = {"id": case["id"]}
    own = [f"CAST(%(id)s AS uuid) AS {resource.id_column}"]
    for a in resource.attributes:
        params[f"a_{a.name}"] = case["values"][a.name]
        own.append(f"{_typed(f'a_{a.name}', a.kind)} AS {a.column}")
    sources = [f"(SELECT {', '.join(own)}) AS t"]
    for rel in resource.relationships:
        parent_id, live, values = case["parents"][rel.name]
        params |= {f"p_{rel.name}": parent_id, f"live_{rel.name}": live}
        columns = [
            f"CAST(%(p_{rel.name})s AS uuid) AS {rel.parent.id_column}",
            f"CASE WHEN %(live_{rel.name})s THEN NULL ELSE now() END AS deleted_at",
        ]
        for a in rel.parent.attributes:
            params[f"p_{rel.name}_{a.name}"] = values[a.name]
            columns.append(f"{_typed(f'p_{rel.name}_{a.name}', a.kind)} AS {a.column}")
        sources.append(f"(SELECT {', '.join(columns)}) AS p_{rel.name}")
    row_id, linkages = ids_of(resource)
    attributes = {a.name: f"t.{a.column}" for a in resource.attributes}
    visible = {
        name: parent_visible(resource.relationship(name).parent, f"p_{name}", service=True)
        for name in case["query"].include
    }
    written = [
        value for value, _ in document_columns(resource, row_id, attributes, linkages, visible)
    ]
    raw = [(row_id, "id")] + [(linkages[name], linkage_label(name)) for name in linkages]
    raw += value_columns(resource, attributes, linkages, visible)
    selected = written + [f"{value} AS {label}" for value, label in raw]
    params |= document_values(resource, case["query"], case["linker"])
    statement = template(f"SELECT {', '.join(selected)} FROM {', '.join(sources)}")
    (row,) = send(admin, [statement.bind(params)])
    values = row[len(written) :]
    read = ReadRow(values, ReadColumns([label for _, label in raw]))
    writer = ObjectWriter(resource, case["query"], case["linker"])
    ours: list[str | None] = [writer.resource_object(read)]
    ours += [writer.included(read, name) for name in case["query"].include]
    return tuple(row[: len(written)]), tuple(ours)


# A ledger (instants, an enum; included text and enums) and the providers (booleans; an
# included integer, and links to a parent this API does not serve).
RESOURCES_WRITTEN = [RESOURCES["company_workspace_connectors"], RESOURCES["workspace_providers"]]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(written=st.sampled_from(RESOURCES_WRITTEN).flatmap(lambda r: cases(r).map(lambda c: (r, c))))
def test_a_row_is_written_alike_by_the_function_and_by_the_statement(admin, written):
    resource, case = written
    statement, function = both_writers(admin, resource, case)
    assert function == statement
