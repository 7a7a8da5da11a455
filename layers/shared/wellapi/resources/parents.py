"""The tables the junctions point at, each served as a resource of its own type when included.

Shared by the resource modules (a workspace is the parent of an enrolment and of a workspace
provider); their tables are in ``wellapi.resources.tables``, as every table is.
"""

from __future__ import annotations

from wellapi.domain import AccountType, ProviderCategory, WorkspaceConnectorStatus
from wellapi.resources.description import Attribute, Parent, TableRef, enum_values

ACCOUNT = Parent(
    "account",
    TableRef("accounts", "account_id"),
    "accounts",
    (
        # JSON:API reserves `type`; the column is exposed under a qualified name.
        Attribute("account_type", "type", "enum", enum_values(AccountType), nullable=False),
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
    (Attribute("status", "status", "enum", enum_values(WorkspaceConnectorStatus), nullable=False),),
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
        Attribute("category", "category", "enum", enum_values(ProviderCategory), nullable=False),
        Attribute("popularity_score", "popularity_score", "integer"),
    ),
    "global",
)
