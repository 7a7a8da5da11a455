"""One description per resource: everything the generic engine needs to serve it.

The engine (queries, documents, handlers, the OpenAPI document) reads these descriptions;
nothing about a particular resource is written anywhere else except its small rule hooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from wellapi.domain import AccountType, Direction, ProviderCategory, WorkspaceConnectorStatus

AttributeKind = Literal["string", "enum", "boolean", "datetime", "integer"]
SYSTEM_FIELDS = ("created_at", "updated_at", "deleted_at")


@dataclass(frozen=True)
class TableRef:
    """A table by name, and the column holding its public UUID (the JSON:API id).

    Names, not SQLAlchemy tables: a function answering a compiled shape never imports
    SQLAlchemy (``wellapi.statements``); ``wellapi.schema.table`` resolves a name where SQL is
    built, and a test holds every reference to the schema.
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


ScopeRule = Literal["provenance", "workspace", "group_enrolment", "catalog"]


@dataclass(frozen=True)
class Walk:
    """How a List reaches a big table page by page (``wellapi.queries``, revisions 0008, 0011).

    The List reads at most a page of rows for each parent of ``relationship`` it reads, from an
    index in the page's order, and merges those pages. With a ``partition`` (an enum attribute)
    there is one partial index per value, and the List walks each value it shows; such a walk
    is a List's default. Without one, the walk is taken when the List names parents of
    ``relationship`` in its filter.
    """

    relationship: str
    partition: str | None = None


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
    filters: tuple[str, ...] = ()
    # Set on the ledgers: how a List walks its rows one parent at a time (``Walk``).
    walks: tuple[Walk, ...] = ()

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
        """The walk of a List that names no parent to walk: the one with a partition."""
        return next((w for w in self.walks if w.partition is not None), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes) + tuple(r.name for r in self.relationships)


def _values(enum_type: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum_type)


def _timestamps() -> tuple[Attribute, ...]:
    return (
        Attribute("created_at", "created_at", "datetime", nullable=False, system=True),
        Attribute("updated_at", "updated_at", "datetime", system=True),
        Attribute("deleted_at", "deleted_at", "datetime", system=True),
    )


ACCOUNT = Parent(
    "account",
    TableRef("accounts", "account_id"),
    "accounts",
    (
        # JSON:API reserves `type`; the column is exposed under a qualified name.
        Attribute("account_type", "type", "enum", _values(AccountType), nullable=False),
        Attribute("account_name", "account_name", "string"),
    ),
    "workspace_owned",
)
COMPANY = Parent(
    "company",
    TableRef("companies", "company_id"),
    "companies",
    (
        Attribute("name", "name", "string", nullable=False),
        Attribute("domain", "domain", "string"),
    ),
    "workspace_owned",
)
PEOPLE = Parent(
    "people",
    TableRef("peoples", "person_id"),
    "people",
    (
        Attribute("first_name", "first_name", "string"),
        Attribute("last_name", "last_name", "string"),
        Attribute("full_name", "full_name", "string", nullable=False),
    ),
    "workspace_owned",
)
WORKSPACE_CONNECTOR = Parent(
    "workspace_connector",
    TableRef("workspace_connectors", "workspace_connector_id"),
    "workspace-connectors",
    # Never `config`: it holds the connector's credentials.
    (Attribute("status", "status", "enum", _values(WorkspaceConnectorStatus), nullable=False),),
    "workspace_owned",
)
WORKSPACE = Parent(
    "workspace",
    TableRef("workspaces", "workspace_id"),
    "workspaces",
    (Attribute("name", "name", "string", nullable=False),),
    "workspace",
)
WORKSPACE_GROUP = Parent(
    "workspace_group",
    TableRef("workspace_groups", "workspace_group_id"),
    "workspace-groups",
    (Attribute("name", "name", "string", nullable=False),),
    "group",
)
PROVIDER = Parent(
    "provider",
    TableRef("providers", "provider_id"),
    "providers",
    (
        Attribute("name", "name", "string", nullable=False),
        Attribute("slug", "slug", "string", nullable=False),
        Attribute("url", "url", "string"),
        Attribute("category", "category", "enum", _values(ProviderCategory), nullable=False),
        Attribute("popularity_score", "popularity_score", "integer"),
    ),
    "global",
)

DIRECTION = Attribute(
    "direction", "direction", "enum", _values(Direction), nullable=False, writable="create"
)


def _provenance_resource(record: str, parent: Parent) -> Resource:
    table = TableRef(f"{record}_workspace_connectors", f"{record}_workspace_connector_id")
    key = table.name
    return Resource(
        key=key,
        type=key[:-1],
        path=key.replace("_", "-"),
        table=table,
        attributes=(DIRECTION, *_timestamps()),
        relationships=(
            Relationship(record, parent, f"{record}_pk"),
            Relationship("workspace_connector", WORKSPACE_CONNECTOR, "workspace_connector_pk"),
        ),
        scope="provenance",
        scope_relationships=(record, "workspace_connector"),
        filters=("direction",),
        walks=(Walk(record), Walk("workspace_connector", "direction")),
    )


RESOURCES: dict[str, Resource] = {
    r.key: r
    for r in (
        _provenance_resource("account", ACCOUNT),
        _provenance_resource("company", COMPANY),
        _provenance_resource("people", PEOPLE),
        Resource(
            key="workspace_group_workspaces",
            type="workspace_group_workspace",
            path="workspace-group-workspaces",
            table=TableRef("workspace_group_workspaces", "workspace_group_workspace_id"),
            attributes=_timestamps(),
            relationships=(
                Relationship("workspace_group", WORKSPACE_GROUP, "workspace_group_pk"),
                Relationship("workspace", WORKSPACE, "workspace_pk"),
                Relationship(
                    "created_by", PEOPLE, "created_by_pk", required=False, writable="never"
                ),
            ),
            scope="group_enrolment",
            scope_relationships=("workspace", "workspace_group"),
        ),
        Resource(
            key="workspace_providers",
            type="workspace_provider",
            path="workspace-providers",
            table=TableRef("workspace_providers", "workspace_provider_id"),
            attributes=(
                Attribute(
                    "is_selected", "is_selected", "boolean", nullable=False, writable="always"
                ),
                Attribute("is_matched", "is_matched", "boolean", nullable=False, writable="always"),
                *_timestamps(),
            ),
            relationships=(
                Relationship("workspace", WORKSPACE, "workspace_pk"),
                Relationship("provider", PROVIDER, "provider_pk"),
            ),
            scope="workspace",
            scope_relationships=("workspace",),
            filters=("is_selected", "is_matched"),
        ),
    )
}

WORKSPACE_PROVIDER = Parent(
    "workspace_provider",
    TableRef("workspace_providers", "workspace_provider_id"),
    "workspace-providers",
    (
        Attribute("is_selected", "is_selected", "boolean", nullable=False),
        Attribute("is_matched", "is_matched", "boolean", nullable=False),
        *_timestamps(),
    ),
    "workspace_owned",
)

# The provider catalog as one workspace sees it (GET /v1/workspaces/{workspace_id}/providers):
# every live provider, with this workspace's selection state and a link to its live
# workspace_provider row, if any. Primary data are `provider` resources.
PROVIDER_CATALOG = Resource(
    key="provider_catalog",
    type="provider",
    path="providers",
    table=TableRef("providers", "provider_id"),
    attributes=(
        *PROVIDER.attributes,
        *(
            Attribute(n, n, "boolean", nullable=False, source="workspace_provider", default=False)
            for n in ("is_selected", "is_matched")
        ),
        *_timestamps(),
    ),
    relationships=(
        Relationship(
            "workspace_provider",
            WORKSPACE_PROVIDER,
            "pk",
            required=False,
            writable="never",
            reverse_column="provider_pk",
        ),
    ),
    scope="catalog",
    scope_relationships=(),
    filters=("is_selected", "is_matched", "category"),
)

VIEWS: dict[str, Resource] = {PROVIDER_CATALOG.key: PROVIDER_CATALOG}


def resource_named(key: str) -> Resource:
    return RESOURCES[key] if key in RESOURCES else VIEWS[key]


PARENTS: dict[str, Parent] = {
    p.type: p
    for p in (
        ACCOUNT,
        COMPANY,
        PEOPLE,
        WORKSPACE_CONNECTOR,
        WORKSPACE,
        WORKSPACE_GROUP,
        PROVIDER,
        WORKSPACE_PROVIDER,
    )
}
