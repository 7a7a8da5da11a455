"""What a resource is: the types every resource's description is made of.

The engine (queries, documents, handlers, the OpenAPI document) reads only these; each
resource's own description is in its resource module (``wellapi.resources.<module>``), and the
registry (``wellapi.resources``) lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from wellapi.resources.rules import Rules

# ``uuids``: a JSON array of UUID strings (or null); ``object``: a JSON object; ``number``: a
# JSON number (the changes feed's attributes, which no write takes).
AttributeKind = Literal[
    "string", "enum", "boolean", "datetime", "integer", "uuids", "object", "number"
]
SYSTEM_FIELDS = ("created_at", "updated_at", "deleted_at")
# What a List sorts by unless its resource says otherwise (``Resource.sorts``).
SORTS = ("created_at", "updated_at")


@dataclass(frozen=True)
class TableRef:
    """A table by name, and the column holding its public UUID (the JSON:API id).

    Names, not SQLAlchemy tables: a function composes its SQL text from them and never imports
    SQLAlchemy (``wellapi.sqltext``); ``wellapi.resources.tables.table`` resolves a name
    where SQL is built, and a test holds every reference to the schema.
    """

    name: str
    id_column: str


@dataclass(frozen=True)
class Attribute:
    name: str
    column: str
    kind: AttributeKind
    enum: tuple[str, ...] = ()
    nullable: bool = True
    system: bool = False
    # When a client may set it: never, only on create, or on create and update.
    writable: Literal["never", "create", "always"] = "never"
    # Read from a joined relationship's table instead of the resource's own (a view's column),
    # with this value when that row is absent.
    source: str | None = None
    default: bool | None = None


@dataclass(frozen=True)
class Parent:
    """A table a junction points at, serialised as a resource of its own type when included."""

    type: str
    table: TableRef
    path: str
    attributes: tuple[Attribute, ...]
    # How visibility of an included parent is decided: it belongs to the scoped workspace,
    # it is the scoped workspace, it is a group the scope may see, or it is global catalog.
    visibility: Literal["workspace_owned", "workspace", "group", "global"]

    @property
    def id_column(self) -> str:
        return self.table.id_column


@dataclass(frozen=True)
class Relationship:
    name: str
    parent: Parent
    column: str
    required: bool = True
    writable: Literal["never", "create", "always"] = "create"
    # Set when the parent points at us (``parent.<reverse_column> = t.pk``), one live row per
    # scoped workspace; ``column`` is then unused.
    reverse_column: str | None = None


# ``feed``: the changes feed, a workspace's change records (``wellapi.resources.feed``).
ScopeRule = Literal["provenance", "workspace", "group_enrolment", "catalog", "feed"]


@dataclass(frozen=True)
class Walk:
    """How a List reaches a big table page by page (``wellapi.sqltext.reads``): a walk
    (docs/code.md, "Glossary").

    The List reads at most a page of rows for each parent of ``relationship`` it reads, each an
    index scan in the page's order, and merges those pages. With an ``indexed_enum`` (an enum
    attribute with one partial index per value), the List scans the index of each value it
    shows; such a walk is a List's default. Without one, the walk is
    taken when the List names parents of ``relationship`` in its filter.
    """

    relationship: str
    indexed_enum: str | None = None


@dataclass(frozen=True)
class Resource:
    key: str
    type: str
    path: str
    table: TableRef
    attributes: tuple[Attribute, ...]
    relationships: tuple[Relationship, ...]
    scope: ScopeRule
    # The relationships through which the scope rule reaches a workspace.
    scope_relationships: tuple[str, ...]
    # Who may write, and what each failed rule answers; its conditions as SQL are
    # ``wellapi.resources.all_conditions.CONDITIONS[resource]``.
    rules: Rules
    filters: tuple[str, ...] = ()
    # Set on the ledgers: how a List reads its rows one parent at a time (``Walk``).
    walks: tuple[Walk, ...] = ()
    # The attributes a List sorts by, either way (``sort=<name>``, ``sort=-<name>``), among them
    # ``created_at``, a List's default (newest first); a walk scans an index of each.
    sorts: tuple[str, ...] = SORTS
    # Why a List takes no other sort, where a client would ask for one: said in its 400.
    sort_note: str = ""
    # Set on the ledgers: the id is a version 7 UUID carrying the row's created_at (the table is
    # partitioned on it, a period a partition), so a List in created_at order is read in id
    # order, a created_at range is a range of ids, and a client's id must be of now.
    time_ordered_id: bool = False
    # What its collection holds, in a sentence: the OpenAPI document's description of its tag.
    summary: str = ""

    @property
    def id_column(self) -> str:
        return self.table.id_column

    def relationship(self, name: str) -> Relationship:
        for rel in self.relationships:
            if rel.name == name:
                return rel
        raise KeyError(name)

    def attribute(self, name: str) -> Attribute:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        raise KeyError(name)

    @property
    def default_walk(self) -> Walk | None:
        """The walk of a List that names no parent to walk: the one by enum value."""
        return next((w for w in self.walks if w.indexed_enum is not None), None)

    @property
    def sort_values(self) -> tuple[str, ...]:
        """Every value a List's ``sort`` takes: each of ``sorts``, ascending then descending."""
        return tuple(value for name in self.sorts for value in (name, f"-{name}"))

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes) + tuple(r.name for r in self.relationships)


def enum_values(enum_type: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum_type)


def timestamps() -> tuple[Attribute, ...]:
    return (
        Attribute("created_at", "created_at", "datetime", nullable=False, system=True),
        Attribute("updated_at", "updated_at", "datetime", system=True),
        Attribute("deleted_at", "deleted_at", "datetime", system=True),
    )
