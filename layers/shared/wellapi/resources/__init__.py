"""The resources: one module per group of resources, each holding its descriptions, its rules
and (in a ``*_sql`` sibling the request path never imports) its rules as SQL conditions.

    description   what a resource is (Resource, Attribute, Parent, Relationship, Walk, ...)
    rules         what a rule is (Rules, CheckName, the member checks' prefixes)
    conditions    what a rule is as SQL (Check, WriteContext, Conditions), build side only
    parents       the tables the junctions point at (PARENTS: those a relationship names)
    ledgers       the three provenance ledgers                 + ledgers_sql
    enrolments    the workspace group enrolments               + enrolments_sql
    providers     the workspace providers and the catalog      + providers_sql
    feed          the changes feed (the outbox's records, read in commit order)
    all_conditions  each resource's conditions, for the SQL builders

This module is the registry: ``RESOURCES`` is the one list of the API's resources, the
engine (queries, documents, handlers, the OpenAPI document) reads it, and the sync writer's
ledgers (``wellapi.sync.ledgers``) are derived from the same descriptions.
"""

from __future__ import annotations

from wellapi.resources.description import (
    SYSTEM_FIELDS,
    Attribute,
    Parent,
    Relationship,
    Resource,
    ScopeRule,
    TableRef,
    Walk,
)
from wellapi.resources.enrolments import WORKSPACE_GROUP_WORKSPACES
from wellapi.resources.feed import change_pairs, changes_feed
from wellapi.resources.ledgers import LEDGER_RESOURCES
from wellapi.resources.providers import PROVIDER_CATALOG, WORKSPACE_PROVIDERS

RESOURCES: dict[str, Resource] = {
    r.key: r for r in (*LEDGER_RESOURCES, WORKSPACE_GROUP_WORKSPACES, WORKSPACE_PROVIDERS)
}

VIEWS: dict[str, Resource] = {PROVIDER_CATALOG.key: PROVIDER_CATALOG}

# The changes each resource type's records can say, and the types: every resource's, the
# workspace connector of a revocation's own record, and those of the operator's records.
CHANGE_PAIRS = change_pairs(RESOURCES.values())
CHANGE_RESOURCE_TYPES = tuple(dict.fromkeys(kind for kind, _ in CHANGE_PAIRS))
CHANGES = changes_feed(CHANGE_RESOURCE_TYPES)

# Collections read by an operation of their own, never by the generic List or a write: the
# changes feed.
FEEDS: dict[str, Resource] = {CHANGES.key: CHANGES}


def resource_named(key: str) -> Resource:
    if key in RESOURCES:
        return RESOURCES[key]
    return VIEWS[key] if key in VIEWS else FEEDS[key]


# Every table a relationship points at, each served as a resource of its own type when included.
PARENTS: dict[str, Parent] = {
    rel.parent.type: rel.parent
    for r in (*RESOURCES.values(), *VIEWS.values(), *FEEDS.values())
    for rel in r.relationships
}

__all__ = [
    "CHANGES",
    "CHANGE_PAIRS",
    "CHANGE_RESOURCE_TYPES",
    "FEEDS",
    "PARENTS",
    "PROVIDER_CATALOG",
    "RESOURCES",
    "SYSTEM_FIELDS",
    "VIEWS",
    "Attribute",
    "Parent",
    "Relationship",
    "Resource",
    "ScopeRule",
    "TableRef",
    "Walk",
    "resource_named",
]
