"""Statements composed at run time: for every shape a client can send, cached per shape, and
never with SQLAlchemy.

``wellapi.sqltext`` composes a shape's statement from the resources' descriptions the first
time a function serves it. Whatever a request asks (every include, sort, filter, range and
cursor at once), the function imports no SQL toolkit to answer it; the shapes the tests hold
to their row contracts and plans (``tests.support.shapes``) follow from the descriptions by a
stated rule, and so do the bench's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from uuid import UUID

import pytest

from tests.support import shapes as rule
from wellapi.handlers.entry_points import handler_name
from wellapi.http.request import related_query
from wellapi.jsonapi.body import parse_resource_document
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import FEEDS, RESOURCES, VIEWS
from wellapi.sqltext.statements import read_template, write_plan
from wellapi.store.shapes import ReadShape, WriteShape
from welldev.bench import large_tenant
from welldev.bench.wire import PINNING_BYTES

ROOT = Path(__file__).resolve().parents[2]


# The changes feed's statement is its own (wellapi.store.feed).
FEED_ROUTES = {f"GET /v1/{feed.path}" for feed in FEEDS.values()}
READ_EXAMPLES = sorted(
    path
    for path in (ROOT / "events").glob("*-*.json")
    if str(json.loads(path.read_text()).get("routeKey", "")).startswith("GET ")
    and json.loads(path.read_text())["routeKey"] not in FEED_ROUTES
)


def test_the_read_examples_are_found():
    # List, Retrieve, related and relationship of every resource, and the catalog.
    assert len(READ_EXAMPLES) == 4 * len(RESOURCES) + 1


def example_shapes(event_file: Path) -> list[ReadShape]:
    """The shapes of a read example, for a member and for a service."""
    event = json.loads(event_file.read_text())
    name = event_file.stem
    resource = next(
        (r for r in RESOURCES.values() if name.startswith(r.path + "-")), VIEWS["provider_catalog"]
    )
    if name.endswith("-catalog"):
        resource = VIEWS["provider_catalog"]
    single = not name.endswith(("-list", "-catalog"))
    raw_query = event["rawQueryString"]
    if name.endswith("-related"):
        relationship = resource.relationship(event["pathParameters"]["relationship"])
        query = related_query(resource, relationship, raw_query)
    else:
        kind = "relationship" if name.endswith("-relationship") else "retrieve"
        query = parse_read_query(resource, raw_query, kind if single else "list")
    return [
        ReadShape.of(resource, query, single=single, service=service) for service in (False, True)
    ]


@pytest.mark.parametrize("event_file", READ_EXAMPLES, ids=lambda p: p.stem)
def test_every_read_example_is_composed_once_per_environment(event_file):
    for shape in example_shapes(event_file):
        template, layout = read_template(shape)
        assert "%(limit)s" in template.text or shape.single
        assert len(set(layout.labels)) == len(layout.labels)
        # Composed the first time, then found: the same objects for the same shape.
        assert read_template(replace(shape)) is read_template(shape)


# A deep cursor's direction is in the text, its value is a parameter.
BENCH_CURSOR = "{cursor}"
ROW_ID = "00000000-0000-4000-8000-00000000000a"


def bench_shape(shape: large_tenant.Shape) -> ReadShape:
    """A bench request's shape, for a member (the bench's tenants ask as members)."""
    resource = RESOURCES[shape.resource]
    head, cursor, _ = shape.query.partition(BENCH_CURSOR)
    direction = "after" if head.endswith("page[after]=") else "before" if cursor else None
    query = head.rsplit("page[", 1)[0].rstrip("&") if cursor else shape.query
    query = query.format(
        connector=rule.AN_ID,
        export=ROW_ID,
        record=rule.AN_ID,
        group=rule.AN_ID,
        workspace=rule.AN_ID,
    )
    parsed = parse_read_query(resource, query, "retrieve" if shape.single else "list")
    read = ReadShape.of(resource, parsed, single=shape.single)
    return replace(read, cursor=direction) if direction else read


def test_every_shape_the_bench_sends_is_composed_with_its_page_bounded():
    for shape in map(bench_shape, large_tenant.SHAPES):
        template, _ = read_template(shape)
        assert template.text.count("LIMIT") >= 1, shape


KEYS = sorted(RESOURCES) + sorted(VIEWS)


@pytest.mark.parametrize("key", KEYS)
def test_the_rule_takes_every_list_departing_in_at_most_two_dimensions_at_every_page(key):
    resource = RESOURCES.get(key) or VIEWS[key]
    dimensions = rule.list_dimensions(resource)
    # Counted from the description, apart from the enumeration: pairs of options of two
    # dimensions, less the ranges sorted by updated_at the API refuses (where the resource sorts
    # by updated_at at all), each at four pages.
    sizes = [len(options) for options in dimensions.values()]
    refused = sum(f"sort={s}" in dimensions["sort"] for s in ("updated_at", "-updated_at"))
    refused *= len(dimensions["range"])
    pairs = sum(a * b for a, b in combinations(sizes, 2))
    lists = len(rule.PAGES) * (1 + sum(sizes) + pairs - refused)
    retrieves = 0 if key in VIEWS else 1 + len(rule.include_options(resource))
    shapes = rule.common_shapes(resource, view=key in VIEWS)
    assert len(shapes) == 2 * (lists + retrieves)  # members and services


PATCHABLE = sorted(k for k in RESOURCES if RESOURCES[k].rules.patch_allowed)


def fetched_resource(resource: str, *, relationships: bool) -> bytes:
    """A resource object as a Retrieve answers it, sent back as a PATCH body."""
    description = RESOURCES[resource]
    values = {"boolean": False, "datetime": "2026-05-10T08:00:00.123456Z"}
    attributes = {
        a.name: a.enum[0] if a.enum else None if a.name == "deleted_at" else values[a.kind]
        for a in description.attributes
    }
    data: dict[str, object] = {
        "type": description.type,
        "id": ROW_ID,
        "attributes": attributes,
        "links": {"self": f"https://api.test/v1/{description.path}/{ROW_ID}"},
    }
    if relationships:
        data["relationships"] = {
            r.name: {"data": {"type": r.parent.type, "id": rule.AN_ID}, "links": {}}
            for r in description.relationships
        }
    return json.dumps({"data": data}).encode()


@pytest.mark.parametrize("relationships", [True, False], ids=["with", "without"])
@pytest.mark.parametrize("resource", PATCHABLE)
def test_a_fetched_resource_sent_back_compares_every_read_only_member(resource, relationships):
    document = parse_resource_document(
        RESOURCES[resource],
        fetched_resource(resource, relationships=relationships),
        "update",
        row_id=UUID(ROW_ID),
    )
    assert document.read_only, "the timestamps are sent back too"
    for service in (True, False) if RESOURCES[resource].rules.members_may_write else (True,):
        plan = write_plan(WriteShape.of(RESOURCES[resource], "update", document, service))
        assert {f"read_only_{name}" for name in document.read_only} <= set(plan.checks)


# A fresh interpreter, as a Lambda environment: import a function, then compose a Retrieve
# and a List departing from the default List in every dimension at once (every include, a
# sort, every filter of two ids or values, a range, a cursor or a numbered page), its total,
# and every write of the resource; print the modules loaded from SQLAlchemy at each step,
# and the List's shapes.
PROBE = """
import json, sys
from dataclasses import replace
sys.path[:0] = [sys.argv[1]]
import importlib
module_name, _, attribute = sys.argv[2].rpartition(".")
getattr(importlib.import_module(module_name), attribute)
after_import = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import RESOURCES, resource_named
from wellapi.sqltext.statements import read_template, total_template, write_plan
from wellapi.store.shapes import ReadShape
from tests.support import shapes as rule
resource = resource_named(sys.argv[3])
names = [r.name for r in resource.relationships]
parts = ["include=" + ",".join(names), "sort=created_at"]
parts += [f"filter[{r.name}]={rule.AN_ID},{rule.AN_ID[:-1]}2"
          for r in resource.relationships if r.reverse_column is None]
for name in resource.filters:
    values = resource.attribute(name).enum or ("false",)
    parts.append(f"filter[{name}]={values[-1]}")
parts += [f"filter[created_at][gte]={rule.A_TIME}", f"filter[created_at][lt]={rule.A_TIME}"]
query = parse_read_query(resource, "&".join(parts), "list")
shapes = []
for service in (False, True):
    listed = replace(ReadShape.of(resource, query, single=False, service=service), cursor="after")
    read_template(listed)
    total_template(listed)
    shapes.append(repr(listed))
    # A numbered page instead of the cursor: the same List, skipping the pages before it.
    numbered = replace(listed, cursor=None, offset=True)
    read_template(numbered)
    shapes.append(repr(numbered))
    if resource.key in RESOURCES:
        whole = parse_read_query(resource, parts[0], "retrieve")
        read_template(ReadShape.of(resource, whole, single=True, service=service))
for write in rule.write_shapes(resource) if resource.key in RESOURCES else ():
    write_plan(write)
after_statement = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")
print(json.dumps([after_import, after_statement, shapes]))
"""


@pytest.mark.parametrize(
    ("function", "resource"),
    [
        ("retrieve", "account_workspace_connectors"),
        ("list", "people_workspace_connectors"),
        ("list", "company_workspace_connectors"),
        ("create", "workspace_group_workspaces"),
        ("update", "workspace_providers"),
        ("catalog", "provider_catalog"),
    ],
)
def test_a_function_serving_any_shape_never_imports_sqlalchemy(function, resource):
    directory = resource if resource != "provider_catalog" else "workspace_providers"
    handler = handler_name(directory, function)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions"), handler, resource],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    after_import, after_statements, shapes = json.loads(done.stdout.splitlines()[-1])
    assert (after_import, after_statements) == ([], [])
    # The List departs from the default List in every dimension at once.
    description = RESOURCES.get(resource) or VIEWS[resource]
    for text in shapes:
        assert f"include={tuple(r.name for r in description.relationships)!r}" in text
        assert "descending=False" in text
        assert "cursor='after', offset=False" in text or "cursor=None, offset=True" in text
        assert "ranges=(('created_at', 'gte'), ('created_at', 'lt'))" in text
        # Every filter: the catalog's one relationship points back at it (no filter).
        assert ("relationship_filters=()" in text) == (resource == "provider_catalog")
        # An indexed enum's value is not a filter of the text but the partial indexes it scans.
        chosen = "attribute_filters=()" not in text or "enum_values=('output',)" in text
        assert chosen == bool(description.filters)


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_write_answering_with_every_include_stays_under_what_pins_rds_proxy(resource):
    """A create's or update's statement carries the row it answers with
    (``wellapi.sqltext.writes.written_row``), included records and all: for each write shape
    and either principal, with every include, its text stays under the 16 KB that pin."""
    described = RESOURCES[resource]
    include = tuple(r.name for r in described.relationships)
    lengths = []
    for write in rule.write_shapes(described):
        read = ReadShape(resource, single=True, include=include, service=write.service)
        answered = write if write.kind == "delete" else replace(write, answers=read)
        lengths.append(len(write_plan(answered).template.text.encode()))
    assert lengths
    assert max(lengths) <= PINNING_BYTES, max(lengths)
