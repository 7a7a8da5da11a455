"""Compile the common request shapes ahead of time into ``wellapi/compiled/<resource>.json``.

``python -m welldev.compiled`` rewrites the files; ``--check`` only says whether they
are what SQLAlchemy compiles now (``tests/test_compiled_statements.py`` holds them to it).
Which shapes: for members and for services, each resource's Retrieve and List with no
include, each include and all of them; every List in both sort orders of both sortable
attributes, with each relationship or attribute filter, a ``created_at`` range beside the
filter that walks the records; each of them on a first page and behind a cursor; the
shapes of the examples in ``events/`` and of ``make bench`` (``large_tenant.SHAPES``, whose
cursors may walk backwards); and every write shape a document can give (each set
of writable members, by id or by the nested routes' path, plain or upsert, and an update
sending back the whole resource as fetched, read-only members included), for the
principals that may write. ``wellapi.statements`` compiles any other on demand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from urllib.parse import quote

from wellapi.jsonapi.query import parse_read_query
from wellapi.queries import compile_read
from wellapi.resources import RESOURCES, VIEWS, Resource
from wellapi.rules import RULES
from wellapi.shapes import ReadShape, WriteShape
from wellapi.statements import COMPILED_PACKAGE
from wellapi.writes import compile_write
from welldev.bench import large_tenant

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = ROOT / "layers" / "shared" / "wellapi" / COMPILED_PACKAGE
EVENTS_DIR = ROOT / "events"
AN_ID = "00000000-0000-4000-8000-000000000001"
OTHER_ID = "00000000-0000-4000-8000-000000000002"
RANGE = "filter[created_at][gte]=2026-01-01T00:00:00Z&filter[created_at][lt]=2026-02-01T00:00:00Z"


def _includes(resource: Resource) -> list[str]:
    names = [r.name for r in resource.relationships]
    return ["", *(f"include={n}" for n in names), f"include={','.join(names)}"]


def _list_queries(resource: Resource) -> Iterator[str]:
    yield from _includes(resource)
    for sort in ("created_at", "updated_at", "-updated_at"):
        yield f"sort={sort}"
    everything = _includes(resource)[-1]
    for rel in resource.relationships:
        if rel.reverse_column is None:
            yield f"filter[{rel.name}]={AN_ID}"
            yield f"filter[{rel.name}]={AN_ID}&{everything}"
    # Every relationship named at once: how a select (upsert) re-reads the row it wrote.
    named = "&".join(
        f"filter[{r.name}]={AN_ID}" for r in resource.relationships if r.reverse_column is None
    )
    yield from (named, f"{named}&{everything}")
    for walk in resource.walks:
        if walk.partition is None:
            yield f"filter[{walk.relationship}]={AN_ID}&{RANGE}"
    partitions = {w.partition for w in resource.walks}
    for name in resource.filters:
        values = resource.attribute(name).enum or ("true",)
        # A filter's text depends on how many values it has, a partition's on which ones.
        for value in values if name in partitions else values[:1]:
            yield f"filter[{name}]={quote(value)}"


def _event_queries(resource: Resource, operation: str) -> Iterator[str]:
    # The catalog's example is named after the route's resource, not after the view.
    pattern = "*-catalog.json" if operation == "catalog" else f"{resource.path}-{operation}.json"
    for path in sorted(EVENTS_DIR.glob(pattern)):
        yield json.loads(path.read_text("utf-8")).get("rawQueryString") or ""


# A bench shape's deep cursor, e.g. page[after]={cursor:-created_at}: the direction only
# decides the SQL text; the cursor's value is a parameter.
BENCH_CURSOR = re.compile(r"&?page\[(after|before)\]=\{cursor:[^}]+\}")


def _bench_shapes(resource: Resource) -> list[ReadShape]:
    """The shapes ``make bench`` sends (large_tenant.SHAPES), for members and for services."""
    shapes = []
    for bench in large_tenant.SHAPES:
        if bench.resource != resource.key:
            continue
        cursor = BENCH_CURSOR.search(bench.query)
        query = BENCH_CURSOR.sub("", bench.query).lstrip("&")
        query = query.format(
            connector=AN_ID, export=OTHER_ID, record=AN_ID, group=AN_ID, workspace=AN_ID
        )
        parsed = parse_read_query(resource, query, "retrieve" if bench.single else "list")
        for service in (False, True):
            shape = ReadShape.of(resource, parsed, single=bench.single, service=service)
            shapes.append(replace(shape, cursor=cursor.group(1)) if cursor else shape)
    return shapes


def common_shapes(resource: Resource, *, view: bool) -> list[ReadShape]:
    """Every shape compiled ahead for ``resource`` (a view is only ever listed)."""
    shapes: list[ReadShape] = []
    kinds = [("list", False)] if view else [("list", False), ("retrieve", True)]
    for operation, single in kinds:
        queries = _list_queries(resource) if not single else iter(_includes(resource))
        event_operation = "catalog" if view else operation
        for raw in [*queries, *_event_queries(resource, event_operation)]:
            query = parse_read_query(resource, raw, "retrieve" if single else "list")
            for service in (False, True):
                shape = ReadShape.of(resource, query, single=single, service=service)
                pages = [shape] if single else [shape, replace(shape, cursor="after")]
                shapes += [s for s in pages if s not in shapes]
    return shapes + [s for s in _bench_shapes(resource) if s not in shapes]


# The nested routes address a row by these relationships' ids (wellapi.operations.nested).
NESTED_TARGETS = {
    "workspace_providers": ("provider", "workspace"),
    "workspace_group_workspaces": ("workspace", "workspace_group"),
}


def _subsets(names: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(sorted(c)) for n in range(len(names) + 1) for c in combinations(names, n)]


def write_shapes(resource: Resource) -> list[WriteShape]:
    """Every shape a write of ``resource`` can take, for the principals that may write."""
    rules = RULES[resource.key]
    attributes = [a.name for a in resource.attributes if a.writable != "never"]
    writable = [r for r in resource.relationships if r.writable != "never"]
    required = [r.name for r in writable if r.required]
    optional = [r.name for r in writable if not r.required]
    shapes: list[WriteShape] = []
    for service in (True, False) if rules.members_may_write else (True,):
        for members in _subsets(attributes):
            for extra in _subsets(optional):
                rels = tuple(sorted((*required, *extra)))
                shapes.append(WriteShape(resource.key, "create", members, rels, (), service))
                # An upsert always sets something: the select route forces is_selected.
                if rules.upsert_key and members:
                    shapes.append(
                        WriteShape(resource.key, "create", members, rels, (), service, upsert=True)
                    )
            if rules.patch_allowed:
                # An update may repeat create-only members at their values (checked as such).
                for rels in _subsets([r.name for r in writable]):
                    shapes.append(WriteShape(resource.key, "update", members, rels, (), service))
        if rules.patch_allowed:
            shapes += round_trips(resource, service)
        for target in ((), NESTED_TARGETS.get(resource.key, ())):
            shapes.append(WriteShape(resource.key, "delete", (), (), (), service, target))
    return list(dict.fromkeys(shapes))


def round_trips(resource: Resource, service: bool) -> list[WriteShape]:
    """The updates of a client that PATCHes back the resource it fetched: every attribute
    (the read-only ones at their values), with every relationship as read (an optional one
    linked or null) or with none."""
    writable = tuple(sorted(a.name for a in resource.attributes if a.writable != "never"))
    read_only = tuple(sorted(a.name for a in resource.attributes if a.writable == "never"))
    rels = [r for r in resource.relationships if r.reverse_column is None]
    required = [r.name for r in rels if r.required]
    optional = [r.name for r in rels if not r.required]
    shapes = [WriteShape(resource.key, "update", writable, (), (), service, read_only=read_only)]
    for linked in _subsets(optional):
        unlinked = tuple(sorted(set(optional) - set(linked)))
        named = tuple(sorted((*required, *linked)))
        shapes.append(
            WriteShape(
                resource.key, "update", writable, named, unlinked, service, read_only=read_only
            )
        )
    return shapes


def compile_all() -> dict[str, str]:
    """File name -> content, for every resource and view."""
    files: dict[str, str] = {}
    targets = [(r, False) for r in RESOURCES.values()] + [(v, True) for v in VIEWS.values()]
    for resource, view in targets:
        reads: dict[str, list[object]] = {}
        for shape in common_shapes(resource, view=view):
            template, layout = compile_read(shape)
            defaults = _json_safe(shape, dict(template.defaults))
            reads[repr(shape)] = [template.text, defaults, list(layout.labels)]
        writes: dict[str, list[object]] = {}
        for write in [] if view else write_shapes(resource):
            plan = compile_write(write)
            defaults = _json_safe(write, dict(plan.template.defaults))
            writes[repr(write)] = [
                plan.template.text,
                defaults,
                list(plan.checks),
                list(plan.relationships),
                list(plan.outcome),
            ]
        document = {
            "generated_by": "python -m welldev.compiled",
            "reads": reads,
            "writes": writes,
        }
        files[f"{resource.key}.json"] = json.dumps(document, indent=1, sort_keys=True) + "\n"
    return files


def _json_safe(shape: object, defaults: dict[str, object]) -> dict[str, object]:
    if json.loads(json.dumps(defaults)) != defaults:
        raise ValueError(f"{shape!r}: bound values that JSON cannot carry: {defaults}")
    return defaults


def stale_files(directory: Path = OUTPUT_DIR) -> list[str]:
    """The files that differ from what would be written now (or that should not be there)."""
    expected = compile_all()
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    differing = [
        name
        for name, text in expected.items()
        if not (directory / name).is_file() or (directory / name).read_text("utf-8") != text
    ]
    return sorted(differing + sorted(present - set(expected)))


def write_all(directory: Path = OUTPUT_DIR) -> list[str]:
    directory.mkdir(exist_ok=True)
    files = compile_all()
    for stale in {p.name for p in directory.glob("*.json")} - set(files):
        (directory / stale).unlink()
    for name, text in files.items():
        (directory / name).write_text(text, "utf-8")
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m welldev.compiled", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: {OUTPUT_DIR / name}", file=sys.stderr)
        return 1 if stale else 0
    for name in write_all():
        print(OUTPUT_DIR / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
