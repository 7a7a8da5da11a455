"""Each resource's own rules, as small hooks the generic write engine calls.

A rule is a named SQL condition evaluated inside the write's one statement, and the error a
client gets when it is false; the write happens only when every rule holds, so a rejected
request writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, literal, or_, true

from wellapi import schema
from wellapi.errors import ApiError, Conflict, ErrorList, Forbidden, Unprocessable
from wellapi.jsonapi.body import ResourceDocument
from wellapi.queries import exists_where, scope_person_pk, scope_workspace_pk
from wellapi.resources import Resource

ADMIN_ROLES = ("owner", "admin")


@dataclass(frozen=True)
class Check:
    """A condition the write needs, and what the client is told when it does not hold."""

    name: str
    condition: ColumnElement[bool]
    # One error, or one per member at fault when the rule is about several.
    error: Callable[[], ApiError | ErrorList]


@dataclass
class WriteContext:
    """What a rule may look at: the relationship rows the request points at, the target row."""

    resource: Resource
    document: ResourceDocument
    service: bool
    related: dict[str, Any] = field(default_factory=dict)
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


class Rules:
    """The default: any principal may write, no extra conditions."""

    members_may_write = True
    patch_allowed = True
    # The columns of the live-row unique index an upsert resolves conflicts on.
    upsert_key: tuple[str, ...] = ()

    def relationship_visible(
        self, ctx: WriteContext, name: str, alias: Any
    ) -> ColumnElement[bool] | None:
        """Override which parents a relationship may point at (None: as for include)."""
        return None

    def normalise(self, document: ResourceDocument, mode: str) -> ResourceDocument:
        return document

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

    def conflict(self, resource: Resource) -> ApiError:
        return Conflict(
            f"A live {resource.type} with these relationships already exists.",
            code=f"{resource.type.upper()}_ALREADY_EXISTS",
            pointer="/data/relationships",
        )

    def constraint_error(self, constraint: str | None) -> ApiError | None:
        """The rule's own error for a CHECK constraint the database enforced (None: generic).

        A write checks its rules on the row it read; a concurrent write to that row can still
        break one by the time the UPDATE runs, and then the table's constraint stops it. The
        client gets the answer the rule gives, as it would have without the race.
        """
        return None


class ProvenanceRules(Rules):
    """Written by the connector sync pipeline; over HTTP only by a service principal."""

    members_may_write = False

    def create_checks(self, ctx: WriteContext) -> list[Check]:
        record, connector = ctx.resource.scope_relationships
        same = ctx.related[record].c.workspace_pk == ctx.related[connector].c.workspace_pk

        def error() -> ErrorList:
            # Either side may be the wrong one: point at both.
            return ErrorList(
                Unprocessable(
                    f"The {record} and the workspace_connector belong to different workspaces.",
                    pointer=f"/data/relationships/{name}",
                    code="WORKSPACE_MISMATCH",
                )
                for name in (record, connector)
            )

        return [Check("same_workspace", same, error)]


class GroupEnrolmentRules(Rules):
    """Enrolment needs owner/admin on the group and an active membership in the workspace."""

    patch_allowed = False

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
            Check(
                "group_admin",
                group_admin(group),
                lambda: Forbidden(
                    "Adding a workspace needs the owner or admin role on the group.",
                    pointer="/data/relationships/workspace_group",
                ),
            ),
            Check(
                "workspace_active",
                workspace_membership(workspace, active=True),
                lambda: Forbidden(
                    "Adding a workspace needs an active membership in it.",
                    pointer="/data/relationships/workspace",
                ),
            ),
        ]

    def delete_checks(self, ctx: WriteContext) -> list[Check]:
        if ctx.service:
            return []
        return [
            Check(
                "group_admin",
                group_admin(ctx.target.c.workspace_group_pk),
                lambda: Forbidden(
                    "Removing a workspace needs the owner or admin role on the group."
                ),
            )
        ]

    def create_values(self, ctx: WriteContext) -> dict[str, Any]:
        return {"created_by_pk": scope_person_pk()}


class WorkspaceProviderRules(Rules):
    """Selecting a provider forces ``is_matched``; removing it clears ``is_selected``."""

    upsert_key = ("workspace_pk", "provider_pk")

    def normalise(self, document: ResourceDocument, mode: str) -> ResourceDocument:
        attributes = dict(document.attributes)
        if attributes.get("is_selected") is True:
            if attributes.get("is_matched") is False:
                raise Unprocessable(
                    "A selected provider is always matched: is_matched cannot be false.",
                    pointer="/data/attributes/is_matched",
                    code="SELECTED_IMPLIES_MATCHED",
                )
            attributes["is_matched"] = True
        return ResourceDocument(attributes, document.relationships)

    def update_checks(self, ctx: WriteContext) -> list[Check]:
        attributes = ctx.document.attributes
        if "is_matched" not in attributes or "is_selected" in attributes:
            return []
        # Unmatching a row that stays selected would break the rule.
        return [
            Check(
                "selected_implies_matched",
                or_(
                    ctx.target.c.is_selected.is_(False), bindparam("attr_is_matched", type_=Boolean)
                ),
                lambda: Unprocessable(
                    "The provider is selected, so it stays matched; unselect it too.",
                    pointer="/data/attributes/is_matched",
                    code="SELECTED_IMPLIES_MATCHED",
                ),
            )
        ]

    def delete_values(self) -> dict[str, Any]:
        return {"is_selected": literal(False)}

    def constraint_error(self, constraint: str | None) -> ApiError | None:
        if constraint != "workspace_providers_selected_implies_matched":
            return None
        return Unprocessable(
            "The provider is selected, so it stays matched; unselect it too.",
            pointer="/data/attributes/is_matched",
            code="SELECTED_IMPLIES_MATCHED",
        )


RULES: dict[str, Rules] = {
    "account_workspace_connectors": ProvenanceRules(),
    "company_workspace_connectors": ProvenanceRules(),
    "people_workspace_connectors": ProvenanceRules(),
    "workspace_group_workspaces": GroupEnrolmentRules(),
    "workspace_providers": WorkspaceProviderRules(),
}

__all__ = ["RULES", "Check", "Rules", "WriteContext", "scope_workspace_pk", "true"]
