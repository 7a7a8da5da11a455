"""SQL text for the simple query protocol: composed statements, values inlined safely.

Every request is sent as one simple-protocol query (one network round trip with pg8000,
against three for a parameterised statement), so values are rendered as literals. They are
rendered by pg8000's own ``literal`` quoting, after the request layer has already validated
and typed them (UUIDs, timestamps, integers, booleans, enum members).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal
from uuid import UUID

from pg8000.native import literal as pg_literal

from wellapi.store.rows import ReadColumns, ReadRow


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
    if isinstance(value, bytes):
        # A ``bytea``: pg8000 writes bytes as ``X'...'``, which PostgreSQL reads as a bit string.
        return "decode('" + value.hex() + "', 'hex')"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, UUID) for v in value):
            # A UUID is hexadecimal digits and dashes: the array's text form is one literal
            # with nothing to escape, which the server reads at once (a batch's record ids
            # run to thousands, each a constant of its own in an ARRAY[]).
            return "'{" + ",".join(map(str, value)) + "}'"
        # ARRAY[] of an element type the caller casts; an empty array needs that cast to parse.
        return "ARRAY[" + ",".join(to_literal(v) for v in value) + "]"
    text = str(pg_literal(value))
    if "\\" in text and text.startswith("'"):
        return "E" + text.replace("\\", "\\\\")
    return text


@dataclass(frozen=True)
class Statement:
    """A composed statement with ``%(name)s`` slots and the values a request may leave unset."""

    text: str
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def render(self, params: Mapping[str, Any] | None = None) -> str:
        values = dict(self.defaults)
        if params:
            values.update(params)
        return self.text % {name: to_literal(v) for name, v in values.items()}


@dataclass(frozen=True)
class Layout:
    """Where each value sits in a result row, by label (``wellapi.store.rows``): the labels of a
    ``Statement``'s columns, in the order the statement emits them."""

    labels: tuple[str, ...]

    @cached_property
    def columns(self) -> ReadColumns:
        # A layout lives as long as its composed statement (statements.read_template's cache),
        # so each label is looked up once per environment, not once per row.
        return ReadColumns(self.labels)

    def rows(self, values: list[list[Any]]) -> list[ReadRow]:
        columns = self.columns
        return [ReadRow(row, columns) for row in values]


def slots(name: str, count: int, cast: str | None = None) -> str:
    """``count`` slots in a row, ``%(name_0)s, %(name_1)s, ...``, each read as ``cast`` when one
    is given: a list of values is a shape of its length, each value in a slot of its own
    (``numbered`` fills them). The slot is ``wellapi.resources.conditions.slot``'s, written here
    for the statements of the functions that load no resource (the drainer's)."""
    read_as = f"::{cast}" if cast else ""
    return ", ".join(f"%({name}_{i})s{read_as}" for i in range(count))


def numbered(name: str, values: Iterable[Any]) -> dict[str, Any]:
    """The values of ``slots(name, ...)``, each under its slot's name."""
    return {f"{name}_{i}": value for i, value in enumerate(values)}


def script(*statements: str) -> str:
    """Join statements into one simple query; PostgreSQL runs it as one implicit transaction."""
    return ";\n".join(statements)


# How many rows a statement of a script answers with.
Returns = Literal["nothing", "one", "rows"]


@dataclass(frozen=True)
class ScriptPart:
    """One statement of a script, named, with the number of rows it answers with."""

    name: str
    sql: str
    returns: Returns


@dataclass(frozen=True)
class Script:
    """Statements sent as one simple query, whose answer is taken apart again by name.

    The server sends the rows of every statement of a simple query one after another, with
    nothing to tell where one statement's end; each part says how many it gives, and one
    part may give any number, so the parts that build the script also split its answer.
    """

    parts: tuple[ScriptPart, ...]

    def __post_init__(self) -> None:
        names = [p.name for p in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"parts named twice: {names}")
        if sum(p.returns == "rows" for p in self.parts) > 1:
            raise ValueError("only one part may answer with any number of rows")

    @property
    def text(self) -> str:
        return script(*(p.sql for p in self.parts))

    def split(self, rows: Sequence[list[Any]]) -> dict[str, list[list[Any]]]:
        """Each part's rows, by name."""
        fixed = sum(p.returns == "one" for p in self.parts)
        spare = len(rows) - fixed
        open_ended = any(p.returns == "rows" for p in self.parts)
        if spare < 0 or (spare and not open_ended):
            raise RuntimeError(f"expected {fixed} rows besides a read's, got {len(rows)}")
        answer: dict[str, list[list[Any]]] = {}
        at = 0
        for part in self.parts:
            count = {"nothing": 0, "one": 1, "rows": spare}[part.returns]
            answer[part.name] = list(rows[at : at + count])
            at += count
        return answer
