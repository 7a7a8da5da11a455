"""The SQL text of a request's shape: compiled ahead of time for the common ones, else on demand.

SQLAlchemy builds every statement (``wellapi.queries``), but importing it costs an API
function more CPU at cold start than everything else it loads. So the shapes clients send
most (each resource's default List and Retrieve, every include, filter, sort and cursor
page; every write a document can ask for; the examples in ``events/``; for members and for
services)
are compiled when the repository is built into ``compiled/<resource>.json``, which ships in
the layer and which a test holds equal to what SQLAlchemy compiles now. A function finds its
shape there by the shape's ``repr``; only a shape that is not there imports SQLAlchemy, once
per execution environment, and compiles it (logged, so the list can grow with real traffic).
"""

from __future__ import annotations

import json
import logging
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from wellapi.shapes import ReadShape, WritePlan, WriteShape
from wellapi.sql import Layout, Template

logger = logging.getLogger(__name__)

COMPILED_PACKAGE = "compiled"

# A compiled read: the template text, the values SQLAlchemy bound itself, the result labels.
ReadEntry = tuple[str, dict[str, Any], list[str]]
# A compiled write: the template text, its bound values, its checks, its relationships, the
# labels of its outcome row.
WriteEntry = tuple[str, dict[str, Any], list[str], list[str], list[str]]


@cache
def _compiled(resource: str) -> dict[str, Any]:
    path = Path(__file__).parent / COMPILED_PACKAGE / f"{resource}.json"
    if not path.is_file():
        return {"reads": {}, "writes": {}}
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def compiled_reads(resource: str) -> dict[str, ReadEntry]:
    """The read shapes of ``resource`` compiled ahead of time, by ``repr``."""
    reads: dict[str, ReadEntry] = _compiled(resource)["reads"]
    return reads


def compiled_writes(resource: str) -> dict[str, WriteEntry]:
    """The write shapes of ``resource`` compiled ahead of time, by ``repr``."""
    writes: dict[str, WriteEntry] = _compiled(resource)["writes"]
    return writes


@lru_cache(maxsize=1024)
def read_template(shape: ReadShape) -> tuple[Template, Layout]:
    entry = compiled_reads(shape.resource).get(repr(shape))
    if entry is not None:
        text, defaults, labels = entry
        return Template(text, defaults), Layout(tuple(labels))
    logger.info("compiling a read shape on demand", extra={"shape": repr(shape)})
    # The SQL builders (and SQLAlchemy) are imported here on a miss only, never at init.
    from wellapi.queries import compile_read

    return compile_read(shape)


@lru_cache(maxsize=512)
def write_plan(shape: WriteShape) -> WritePlan:
    entry = compiled_writes(shape.resource).get(repr(shape))
    if entry is not None:
        text, defaults, checks, relationships, outcome = entry
        return WritePlan(
            Template(text, defaults), tuple(checks), tuple(relationships), tuple(outcome)
        )
    logger.info("compiling a write shape on demand", extra={"shape": repr(shape)})
    # As for reads: the write builders (and SQLAlchemy) are imported on a miss only.
    from wellapi.writes import compile_write

    return compile_write(shape)
