"""SQLAlchemy statements to ``Template``s: the one place SQL is compiled.

Run ahead of time for the common shapes (``wellapi.store.statements``), and in a function only for a
shape that was not compiled ahead.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql.pg8000 import PGDialect_pg8000
from sqlalchemy.sql.expression import ClauseElement

from wellapi.store.templates import Template

_DIALECT = PGDialect_pg8000(paramstyle="pyformat")  # type: ignore[no-untyped-call]


def compile_template(stmt: ClauseElement) -> Template:
    compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    return Template(compiled.string, dict(compiled.params))
