"""The SQL text of a request's shape: compiled ahead of time by a stated rule, else on demand.

SQLAlchemy builds every statement (``wellapi.sqlbuild.read_sql``, ``wellapi.sqlbuild.write_sql``),
but importing it costs an API function more CPU at cold start than everything else it loads. So the
shapes that follow from the resources' descriptions by the rule of ``welldev.compiled`` (every
Retrieve and every write a document can ask for; every List that departs from the default List in at
most two of its dimensions; for members and for services) are compiled when the repository is
built into ``compiled/<resource>/<kind>-<digest>.json``, one file a shape, committed and held
by a test to what SQLAlchemy compiles now. A function reads the one file of the shape it
serves, the first time it serves it: the cost does not grow with the number of shapes. Only a
shape that is not there imports SQLAlchemy, once per execution environment, and compiles it
(logged, so the rule can be weighed against real traffic).
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from wellapi.store.shapes import ReadShape, WritePlan, WriteShape
from wellapi.store.templates import Layout, Template

logger = logging.getLogger(__name__)

COMPILED_PACKAGE = "compiled"
COMPILED_DIR = Path(__file__).parent / COMPILED_PACKAGE


def shape_file(shape: ReadShape | WriteShape) -> Path:
    """Where a shape's compiled statement is: named by its kind and a digest of its ``repr``."""
    if isinstance(shape, ReadShape):
        kind = "retrieve" if shape.single else "list"
    else:
        kind = "upsert" if shape.upsert else shape.kind
    digest = hashlib.sha256(repr(shape).encode()).hexdigest()[:16]
    return COMPILED_DIR / shape.resource / f"{kind}-{digest}.json"


def compiled_entry(shape: ReadShape | WriteShape) -> dict[str, Any] | None:
    """The shape's compiled statement, if it was compiled ahead of time."""
    path = shape_file(shape)
    if not path.is_file():
        return None
    entry: dict[str, Any] = json.loads(path.read_text("utf-8"))
    # A digest names the file; the shape in it says which one it holds.
    return entry if entry["shape"] == repr(shape) else None


# A compiled read: the template text, the values SQLAlchemy bound itself, the result labels.
ReadEntry = tuple[str, dict[str, Any], list[str]]
# A compiled write: the template text, its bound values, its checks, its relationships, the
# labels of its outcome row.
WriteEntry = tuple[str, dict[str, Any], list[str], list[str], list[str]]


@cache
def _compiled_shapes(resource: str) -> dict[str, dict[str, Any]]:
    entries = (
        json.loads(p.read_text("utf-8")) for p in sorted((COMPILED_DIR / resource).glob("*.json"))
    )
    return {e["shape"]: e for e in entries}


# For the tools and the tests: a function reads only the file of the shape it serves.
def compiled_reads(resource: str) -> dict[str, ReadEntry]:
    """The read shapes of ``resource`` compiled ahead of time, by ``repr``."""
    return {
        shape: (e["sql"], e["defaults"], e["labels"])
        for shape, e in _compiled_shapes(resource).items()
        if shape.startswith(ReadShape.__name__ + "(")
    }


def compiled_writes(resource: str) -> dict[str, WriteEntry]:
    """The write shapes of ``resource`` compiled ahead of time, by ``repr``."""
    return {
        shape: (e["sql"], e["defaults"], e["checks"], e["relationships"], e["outcome"])
        for shape, e in _compiled_shapes(resource).items()
        if shape.startswith(WriteShape.__name__ + "(")
    }


@lru_cache(maxsize=1024)
def read_template(shape: ReadShape) -> tuple[Template, Layout]:
    entry = compiled_entry(shape)
    if entry is not None:
        return Template(entry["sql"], entry["defaults"]), Layout(tuple(entry["labels"]))
    logger.info("compiling a read shape on demand", extra={"shape": repr(shape)})
    # The SQL builders (and SQLAlchemy) are imported here on a miss only, never at init.
    from wellapi.sqlbuild.read_sql import compile_read

    return compile_read(shape)


@lru_cache(maxsize=1024)
def total_template(shape: ReadShape) -> Template:
    """A List's total (``wellapi.sqlbuild.read_sql.total_statement``), kept in its shape's file."""
    entry = compiled_entry(shape)
    if entry is not None and "total_sql" in entry:
        return Template(entry["total_sql"], entry["total_defaults"])
    logger.info("compiling a total on demand", extra={"shape": repr(shape)})
    from wellapi.sqlbuild.read_sql import compile_total

    return compile_total(shape)


@lru_cache(maxsize=512)
def write_plan(shape: WriteShape) -> WritePlan:
    entry = compiled_entry(shape)
    if entry is not None:
        return WritePlan(
            Template(entry["sql"], entry["defaults"]),
            tuple(entry["checks"]),
            tuple(entry["relationships"]),
            tuple(entry["outcome"]),
        )
    logger.info("compiling a write shape on demand", extra={"shape": repr(shape)})
    # As for reads: the write builders (and SQLAlchemy) are imported on a miss only.
    from wellapi.sqlbuild.write_sql import compile_write

    return compile_write(shape)
