"""What a rule is as SQL: a named condition a write's one statement evaluates, what it may
look at, and the words the resource modules' conditions are written in (the scope's person and
workspace, an ``EXISTS``).

Every check has a name (a ``CheckName`` of its resource module, or a member check of
``wellapi.resources.rules``); when it is false the client gets what the resource's rules
answer for that name. A condition is SQL text: identifiers come from the resources'
descriptions only, values from a request only through ``%(name)s`` slots
(``wellapi.store.sql``), so no request can change the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from wellapi.domain import SCHEMA

if TYPE_CHECKING:  # a read never loads what a write document holds
    from wellapi.resources.changes import ResourceDocument
    from wellapi.resources.description import Resource

# The scope of the request, as the connection sets it (core_api.set_scope, in
# migrations/baseline/functions/scope.sql): a statement narrows its reads by it, and row-level
# security checks each row against the signed scope (core_api.verified_*).
SCOPE_WORKSPACE_PK = f"{SCHEMA}.scope_workspace_pk()"
SCOPE_PERSON_PK = f"{SCHEMA}.scope_person_pk()"


def qualified(table: str) -> str:
    """A table of the API's schema, by its name in a description."""
    return f"{SCHEMA}.{table}"


def slot(name: str, cast: str | None = None) -> str:
    """Where a value goes (``Statement``), with the type it is read as when the context alone
    does not say (a boolean on its own, an instant compared with a bound, a UUID)."""
    return f"%({name})s" + (f"::{cast}" if cast else "")


def constant(text: str) -> str:
    """``text`` as an SQL string constant written into the template (not a value of it): its
    quotes doubled, and its percent signs too, which the template renders as one."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def all_of(*conditions: str) -> str:
    """Every condition holds (``true`` for none)."""
    conditions = tuple(c for c in conditions if c != "true")
    if not conditions:
        return "true"
    if len(conditions) == 1:
        return conditions[0]
    return " AND ".join(f"({c})" for c in conditions)


def any_of(*conditions: str) -> str:
    """One condition at least holds (``false`` for none)."""
    if not conditions:
        return "false"
    return "(" + " OR ".join(f"({c})" for c in conditions) + ")"


def exists_where(table: str, alias: str, *conditions: str) -> str:
    """``EXISTS (SELECT 1 FROM <table> AS <alias> WHERE ...)``; not ``SELECT *``, which would
    need the right to read every column of the table (a role reads only the columns its code
    uses)."""
    return f"EXISTS (SELECT 1 FROM {qualified(table)} AS {alias} WHERE {all_of(*conditions)})"


# Plain classes, not dataclasses: a read function imports this module for the words above,
# and making a dataclass costs an import about a millisecond of CPU at every cold start.
class Check:
    """A condition the write needs, by the name its error is found under (``Rules``), and the
    rows it reads (the target's, a relationship's: ``WriteContext``), which it is evaluated
    over."""

    __slots__ = ("condition", "name", "reads")

    def __init__(self, name: str, condition: str, reads: tuple[str, ...]) -> None:
        self.name = name
        self.condition = condition
        self.reads = reads


class WriteContext:
    """What a rule may look at: the row each relationship the request points at resolves to,
    and the target row, each by the name of the statement's CTE that holds it (the builders of
    ``wellapi.sqltext.writes`` name them, once they have made them)."""

    __slots__ = ("document", "related", "resource", "service", "target")

    def __init__(
        self,
        resource: Resource,
        document: ResourceDocument,
        service: bool,
        related: Mapping[str, str],
        target: str,
    ) -> None:
        self.resource = resource
        self.document = document
        self.service = service
        self.related = related
        self.target = target


class Conditions:
    """The default: no extra conditions."""

    def relationship_visible(self, ctx: WriteContext, name: str, alias: str) -> str | None:
        """Override which parents a relationship may point at (None: as for include)."""
        return None

    def create_checks(self, ctx: WriteContext) -> list[Check]:
        return []

    def update_checks(self, ctx: WriteContext) -> list[Check]:
        return []

    def delete_checks(self, ctx: WriteContext) -> list[Check]:
        return []

    def create_values(self, ctx: WriteContext) -> dict[str, str]:
        return {}

    def delete_values(self) -> dict[str, str]:
        return {}
