"""What a rule is as SQL: a named condition a write's one statement evaluates, what it may
look at, and the words the family modules' conditions are written in (the scope's person and
workspace, an ``EXISTS``).

Every check has a name (a ``CheckName`` of its family module, or a member check of
``wellapi.resources.rules``); when it is false the client gets what the resource's rules
answer for that name. Built with SQLAlchemy, so loaded only where statements are compiled
(ahead of time, or on demand for a shape that was not): by the SQL builders and the families'
``*_sql`` modules, never by the request path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select

from wellapi.resources.changes import ResourceDocument
from wellapi.resources.description import Resource


@dataclass(frozen=True)
class Check:
    """A condition the write needs, by the name its error is found under (``Rules``)."""

    name: str
    condition: ColumnElement[bool]


@dataclass(frozen=True)
class WriteContext:
    """What a rule may look at: the relationship rows the request points at, the target row
    (each builder of ``wellapi.sqlbuild.write_sql`` gives them, once it has made them)."""

    resource: Resource
    document: ResourceDocument
    service: bool
    related: Mapping[str, Any] = field(default_factory=dict)
    target: Any = None


def scope_workspace_pk() -> ColumnElement[Any]:
    return func.core_api.scope_workspace_pk()


def scope_person_pk() -> ColumnElement[Any]:
    return func.core_api.scope_person_pk()


def scope_principal_kind() -> ColumnElement[Any]:
    return func.core_api.scope_principal_kind()


def exists_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """``EXISTS (SELECT 1 FROM ... WHERE ...)``; not ``SELECT *``, which would need the right to
    read every column of the table (the roles may read only what they use: revision 0014)."""
    return select(literal(1)).where(*conditions).exists()


class Conditions:
    """The default: no extra conditions."""

    def relationship_visible(
        self, ctx: WriteContext, name: str, alias: Any
    ) -> ColumnElement[bool] | None:
        """Override which parents a relationship may point at (None: as for include)."""
        return None

    def create_checks(self, ctx: WriteContext) -> list[Check]:
        return []

    def update_checks(self, ctx: WriteContext) -> list[Check]:
        return []

    def delete_checks(self, ctx: WriteContext) -> list[Check]:
        return []

    def create_values(self, ctx: WriteContext) -> dict[str, Any]:
        return {}

    def delete_values(self) -> dict[str, Any]:
        return {}
