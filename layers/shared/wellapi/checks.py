"""Each resource's rules as SQL: the conditions a write's one statement evaluates.

Every check has a name; when it is false the client gets what ``wellapi.rules`` answers for
that name. Built with SQLAlchemy, so loaded only where statements are compiled (ahead of time,
or on demand for a shape that was not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, literal, or_

from wellapi import schema
from wellapi.changes import ResourceDocument
from wellapi.queries import connector_not_revoked, exists_where, scope_person_pk
from wellapi.resources import Resource
from wellapi.rules import (
    ADMIN_ROLES,
    CONNECTOR_NOT_REVOKED,
    GROUP_ADMIN,
    SAME_WORKSPACE,
    SELECTED_IMPLIES_MATCHED,
    WORKSPACE_ACTIVE,
)


@dataclass(frozen=True)
class Check:
    """A condition the write needs, by the name its error is found under (``Rules``)."""

    name: str
    condition: ColumnElement[bool]


@dataclass(frozen=True)
class WriteContext:
    """What a rule may look at: the relationship rows the request points at, the target row
    (each builder of ``wellapi.writes`` gives them, once it has made them)."""

    resource: Resource
    document: ResourceDocument
    service: bool
    related: Mapping[str, Any] = field(default_factory=dict)
    target: Any = None


def group_admin(group_pk: Any) -> ColumnElement[bool]:
    gm = schema.workspace_group_memberships
    return exists_where(
        gm.c.workspace_group_pk == group_pk,
        gm.c.person_pk == scope_person_pk(),
        # Not IN (...): a literal list would be an "expanding" parameter, unknown at compile.
        or_(*(gm.c.role == role for role in ADMIN_ROLES)),
        gm.c.deleted_at.is_(None),
    )


def workspace_membership(workspace_pk: Any, *, active: bool) -> ColumnElement[bool]:
    ms = schema.memberships
    conditions = [
        ms.c.workspace_pk == workspace_pk,
        ms.c.person_pk == scope_person_pk(),
        ms.c.deleted_at.is_(None),
    ]
    if active:
        conditions.append(ms.c.status == "active")
    return exists_where(*conditions)


class Checks:
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


class ProvenanceChecks(Checks):
    def create_checks(self, ctx: WriteContext) -> list[Check]:
        record, connector = ctx.resource.scope_relationships
        # A revoked connector takes no new links (its rows are on their way to soft-deletion,
        # and none of them shows): reported first, since no other record would do either.
        live = connector_not_revoked(ctx.related[connector].c.pk)
        same = ctx.related[record].c.workspace_pk == ctx.related[connector].c.workspace_pk
        return [Check(CONNECTOR_NOT_REVOKED, live), Check(SAME_WORKSPACE, same)]


class GroupEnrolmentChecks(Checks):
    def relationship_visible(
        self, ctx: WriteContext, name: str, alias: Any
    ) -> ColumnElement[bool] | None:
        if ctx.service:
            return None
        if name == "workspace":
            # A workspace the person belongs to in any state is visible; acting needs "active".
            return and_(
                alias.c.deleted_at.is_(None), workspace_membership(alias.c.pk, active=False)
            )
        return None

    def create_checks(self, ctx: WriteContext) -> list[Check]:
        if ctx.service:
            return []
        group = ctx.related["workspace_group"].c.pk
        workspace = ctx.related["workspace"].c.pk
        return [
            Check(GROUP_ADMIN, group_admin(group)),
            Check(WORKSPACE_ACTIVE, workspace_membership(workspace, active=True)),
        ]

    def delete_checks(self, ctx: WriteContext) -> list[Check]:
        if ctx.service:
            return []
        return [Check(GROUP_ADMIN, group_admin(ctx.target.c.workspace_group_pk))]

    def create_values(self, ctx: WriteContext) -> dict[str, Any]:
        return {"created_by_pk": scope_person_pk()}


class WorkspaceProviderChecks(Checks):
    def update_checks(self, ctx: WriteContext) -> list[Check]:
        attributes = ctx.document.attributes
        if "is_matched" not in attributes or "is_selected" in attributes:
            return []
        # Unmatching a row that stays selected would break the rule.
        unmatched_only_if_unselected = or_(
            ctx.target.c.is_selected.is_(False), bindparam("attr_is_matched", type_=Boolean)
        )
        return [Check(SELECTED_IMPLIES_MATCHED, unmatched_only_if_unselected)]

    def delete_values(self) -> dict[str, Any]:
        return {"is_selected": literal(False)}


CHECKS: dict[str, Checks] = {
    "account_workspace_connectors": ProvenanceChecks(),
    "company_workspace_connectors": ProvenanceChecks(),
    "people_workspace_connectors": ProvenanceChecks(),
    "workspace_group_workspaces": GroupEnrolmentChecks(),
    "workspace_providers": WorkspaceProviderChecks(),
}
