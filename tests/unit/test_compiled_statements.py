"""Statements compiled ahead of time: current, chosen by the rule, found by shape, SQLAlchemy-free.

``wellapi/store/compiled/<resource>/`` holds a file per shape that the rule of ``welldev.compiled``
chooses from the resources' descriptions (``wellapi.store.statements``); a function serving one of
them must not import SQLAlchemy, and any other shape is compiled on demand with the same
result it would have had. The bench does not choose them: its shapes are checked against the
rule here, and the one it sends that the rule leaves out is named.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from uuid import UUID

import pytest

from wellapi.http.request import related_query
from wellapi.jsonapi.body import parse_resource_document
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import FEEDS, RESOURCES, VIEWS
from wellapi.sqlbuild.read_sql import compile_read
from wellapi.store.shapes import ReadShape, WriteShape
from wellapi.store.statements import compiled_reads, compiled_writes, read_template
from welldev import compiled
from welldev.bench import large_tenant

ROOT = Path(__file__).resolve().parents[2]


# The changes feed's statement is written at run time, not compiled (wellapi.store.feed).
FEED_ROUTES = {f"GET /v1/{feed.path}" for feed in FEEDS.values()}
READ_EXAMPLES = sorted(
    path
    for path in (ROOT / "events").glob("*-*.json")
    if str(json.loads(path.read_text()).get("routeKey", "")).startswith("GET ")
    and json.loads(path.read_text())["routeKey"] not in FEED_ROUTES
)


def test_the_read_examples_are_found():
    # List, Retrieve, related and relationship of five resources, and the catalog.
    assert len(READ_EXAMPLES) == 21


@pytest.mark.parametrize("event_file", READ_EXAMPLES, ids=lambda p: p.stem)
def test_every_read_example_in_events_is_compiled_for_members_and_services(event_file):
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
    for service in (False, True):
        shape = ReadShape.of(resource, query, single=single, service=service)
        assert repr(shape) in compiled_reads(resource.key)


def test_the_compiler_reads_nothing_of_the_bench():
    probe = "import sys, welldev.compiled; print(sorted(m for m in sys.modules if 'bench' in m))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


# A deep cursor's direction is in the text, its value is a parameter.
BENCH_CURSOR = "{cursor:"


def bench_shape(shape: large_tenant.Shape) -> ReadShape:
    """A bench request's shape, for a member (the bench's tenants ask as members)."""
    resource = RESOURCES[shape.resource]
    head, cursor, _ = shape.query.partition(BENCH_CURSOR)
    direction = "after" if head.endswith("page[after]=") else "before" if cursor else None
    query = head.rsplit("page[", 1)[0].rstrip("&") if cursor else shape.query
    query = query.format(
        connector=compiled.AN_ID,
        export=ROW_ID,
        record=compiled.AN_ID,
        group=compiled.AN_ID,
        workspace=compiled.AN_ID,
    )
    parsed = parse_read_query(resource, query, "retrieve" if shape.single else "list")
    read = ReadShape.of(resource, parsed, single=shape.single)
    return replace(read, cursor=direction) if direction else read


def test_the_bench_sends_what_the_rule_compiles_but_a_filter_of_two_ids():
    # Each id of a filter is a parameter of its own in the text, so a filter's every count of
    # ids is a shape; the rule compiles one id, and the bench reports this one on demand.
    on_demand = [
        f"{s.resource}.{s.name}"
        for s in large_tenant.SHAPES
        if repr(bench_shape(s)) not in compiled_reads(s.resource)
    ]
    assert on_demand == [f"{ledger}.connectors_two" for ledger in large_tenant.LEDGERS]


KEYS = sorted(RESOURCES) + sorted(VIEWS)


@pytest.mark.parametrize("key", KEYS)
def test_every_list_departing_in_at_most_two_dimensions_is_compiled_at_every_page(key):
    resource = RESOURCES.get(key) or VIEWS[key]
    dimensions = compiled.list_dimensions(resource)
    # Counted from the description, apart from the enumeration: pairs of options of two
    # dimensions, less the ranges sorted by updated_at the API refuses, each at three pages.
    sizes = [len(options) for options in dimensions.values()]
    refused = 2 * len(dimensions["range"])
    lists = 3 * (1 + sum(sizes) + sum(a * b for a, b in combinations(sizes, 2)) - refused)
    retrieves = 0 if key in VIEWS else 1 + len(compiled.include_options(resource))
    assert len(compiled_reads(key)) == 2 * (lists + retrieves)  # members and services


def test_a_function_reads_one_small_file_for_its_shape():
    # What a first request pays does not grow with the number of shapes compiled ahead.
    files = list((ROOT / "layers" / "shared" / "wellapi" / "store" / "compiled").rglob("*.json"))
    assert len(files) == sum(len(compiled_reads(k)) + len(compiled_writes(k)) for k in KEYS)
    assert max(f.stat().st_size for f in files) < 16 * 1024


ROW_ID = "00000000-0000-4000-8000-00000000000a"
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
            r.name: {"data": {"type": r.parent.type, "id": compiled.AN_ID}, "links": {}}
            for r in description.relationships
        }
    return json.dumps({"data": data}).encode()


@pytest.mark.parametrize("relationships", [True, False], ids=["with", "without"])
@pytest.mark.parametrize("resource", PATCHABLE)
def test_a_fetched_resource_sent_back_is_a_write_compiled_ahead(resource, relationships):
    document = parse_resource_document(
        RESOURCES[resource],
        fetched_resource(resource, relationships=relationships),
        "update",
        row_id=UUID(ROW_ID),
    )
    assert document.read_only, "the timestamps are sent back too"
    for service in (True, False) if RESOURCES[resource].rules.members_may_write else (True,):
        shape = WriteShape.of(RESOURCES[resource], "update", document, service)
        assert repr(shape) in compiled_writes(resource)


def test_a_compiled_shape_is_served_from_the_file_exactly_as_compiled():
    shape = ReadShape.of(
        RESOURCES["account_workspace_connectors"],
        parse_read_query(RESOURCES["account_workspace_connectors"], "include=account", "list"),
        single=False,
    )
    read_template.cache_clear()
    assert read_template(shape) == compile_read(shape)


def test_a_shape_not_compiled_ahead_is_compiled_on_demand_and_logged(caplog):
    resource = RESOURCES["workspace_providers"]
    # Three dimensions: an attribute filter, a sort and an include.
    query = parse_read_query(
        resource,
        "filter[is_selected]=true&filter[is_matched]=false&sort=updated_at&include=provider",
        "list",
    )
    shape = replace(ReadShape.of(resource, query, single=False), cursor="before")
    assert repr(shape) not in compiled_reads(resource.key)
    read_template.cache_clear()

    with caplog.at_level(logging.INFO, logger="wellapi.store.statements"):
        assert read_template(shape) == compile_read(shape)

    assert [r.shape for r in caplog.records] == [repr(shape)]  # type: ignore[attr-defined]


# A fresh interpreter, as a Lambda environment: import a function, then build the statement of
# its example request; print the modules loaded from SQLAlchemy at each step.
PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1]]
import importlib
module = importlib.import_module(sys.argv[2])
after_import = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import resource_named
from wellapi.store.shapes import ReadShape
from wellapi.store.statements import read_template
resource = resource_named(sys.argv[3])
single = sys.argv[4] == "retrieve"
query = parse_read_query(resource, sys.argv[5], sys.argv[4])
for service in (False, True):
    read_template(ReadShape.of(resource, query, single=single, service=service))
after_statement = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")
print(json.dumps([after_import, after_statement]))
"""


@pytest.mark.parametrize(
    ("function", "resource", "operation", "event"),
    [
        ("retrieve", "account_workspace_connectors", "retrieve", "account-workspace-connectors"),
        ("list", "people_workspace_connectors", "list", "people-workspace-connectors"),
        ("list", "workspace_group_workspaces", "list", "workspace-group-workspaces"),
        ("catalog", "provider_catalog", "list", "workspace-providers"),
    ],
)
def test_a_function_serving_a_compiled_shape_never_imports_sqlalchemy(
    function, resource, operation, event
):
    directory = resource if resource != "provider_catalog" else "workspace_providers"
    example = json.loads((ROOT / "events" / f"{event}-{function}.json").read_text())
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(ROOT / "functions"),
            f"{directory}.{function}",
            resource,
            operation,
            example["rawQueryString"],
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [[], []]
