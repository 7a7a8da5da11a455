"""The SQL text of a request's shape, composed the first time a function serves it.

Every shape a client can send is composed here from the resources' descriptions
(``wellapi.sqltext.reads``, ``wellapi.sqltext.writes``), in microseconds and with nothing to
import, and kept for the life of the execution environment: a function's later requests of the
same shape find it in the cache.
"""

from __future__ import annotations

from functools import lru_cache

from wellapi.sqltext.reads import compose_read, compose_total
from wellapi.sqltext.writes import compose_write
from wellapi.store.shapes import ReadShape, WritePlan, WriteShape
from wellapi.store.templates import Layout, Template


@lru_cache(maxsize=1024)
def read_template(shape: ReadShape) -> tuple[Template, Layout]:
    """A List's or Retrieve's statement, and where its values sit."""
    return compose_read(shape)


@lru_cache(maxsize=1024)
def total_template(shape: ReadShape) -> Template:
    """A List's bounded total (``wellapi.sqltext.reads.total_text``)."""
    return compose_total(shape)


@lru_cache(maxsize=512)
def write_plan(shape: WriteShape) -> WritePlan:
    """A Create's, Update's or Delete's one checked statement, and how to read its outcome."""
    return compose_write(shape)
