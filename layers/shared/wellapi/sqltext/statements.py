"""The SQL text of a request's shape, composed the first time a function serves it.

Every shape a client can send is composed from the resources' descriptions
(``wellapi.sqltext.reads``, ``wellapi.sqltext.writes``) and kept for the life of the execution
environment: a function's later requests of the same shape find it in the cache. A read
function never loads the write composer: ``write_plan`` imports it on a write function's first
write, as the write path's other modules are loaded only by the functions that write.
"""

from __future__ import annotations

from functools import lru_cache

from wellapi.sqltext.reads import compose_read, compose_total
from wellapi.store.shapes import ReadShape, WritePlan, WriteShape
from wellapi.store.sql import Layout, Statement


@lru_cache(maxsize=1024)
def read_template(shape: ReadShape) -> tuple[Statement, Layout]:
    """A List's or Retrieve's statement, and where its values sit."""
    return compose_read(shape)


@lru_cache(maxsize=1024)
def total_template(shape: ReadShape) -> Statement:
    """A List's bounded total (``wellapi.sqltext.reads.total_text``)."""
    return compose_total(shape)


@lru_cache(maxsize=512)
def write_plan(shape: WriteShape) -> WritePlan:
    """A Create's, Update's or Delete's one checked statement, and how to read its outcome."""
    from wellapi.sqltext.writes import compose_write  # the write path's: see above

    return compose_write(shape)
