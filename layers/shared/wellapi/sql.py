"""SQL text for the simple query protocol: compiled statements, values inlined safely.

Every request is sent as one simple-protocol query (one network round trip with pg8000,
against three for a parameterised statement), so values are rendered as literals. They are
rendered by pg8000's own ``literal`` quoting, after the request layer has already validated
and typed them (UUIDs, timestamps, integers, booleans, enum members).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pg8000.native import literal as pg_literal


def to_literal(value: Any) -> str:
    """Render one Python value as a PostgreSQL literal.

    pg8000 quotes a string as ``'...'`` with quotes doubled and backslashes kept, which reads
    right only while the server's ``standard_conforming_strings`` is on (an RDS parameter group
    can turn it off, and then a backslash escapes the closing quote). A literal holding a
    backslash is written as an escape string instead, ``E'...'`` with backslashes doubled,
    which reads the same under either setting.
    """
    if isinstance(value, UUID):
        return str(pg_literal(str(value)))
    if isinstance(value, list | tuple):
        # ARRAY[] of an element type the caller casts; an empty array needs that cast to parse.
        return "ARRAY[" + ",".join(to_literal(v) for v in value) + "]"
    text = str(pg_literal(value))
    if "\\" in text and text.startswith("'"):
        return "E" + text.replace("\\", "\\\\")
    return text


@dataclass(frozen=True)
class Template:
    """A compiled statement with ``%(name)s`` slots and the defaults SQLAlchemy bound itself."""

    text: str
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def render(self, params: Mapping[str, Any] | None = None) -> str:
        values = dict(self.defaults)
        if params:
            values.update(params)
        return self.text % {name: to_literal(v) for name, v in values.items()}


@dataclass(frozen=True)
class Layout:
    """Where each value sits in a result row, by label: what a ``Template``'s rows hold."""

    labels: tuple[str, ...]

    def index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def script(*statements: str) -> str:
    """Join statements into one simple query; PostgreSQL runs it as one implicit transaction."""
    return ";\n".join(statements)


def render_all(templates: Sequence[Template], params: Mapping[str, Any]) -> str:
    return script(*(t.render(params) for t in templates))
