"""The workspace group enrolments' rules as SQL (``wellapi.resources.enrolments``), for the
SQL builders only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from wellapi.resources import tables
from wellapi.resources.conditions import (
    Check,
    Conditions,
    WriteContext,
    exists_where,
    scope_person_pk,
)
from wellapi.resources.enrolments import ADMIN_ROLES, EnrolmentCheck


def group_admin(group_pk: Any) -> ColumnElement[bool]:
    gm = tables.workspace_group_memberships
    return exists_where(
        gm.c.workspace_group_pk == group_pk,
        gm.c.person_pk == scope_person_pk(),
        # Not IN (...): a literal list would be an "expanding" parameter, unknown at compile.
        or_(*(gm.c.role == role for role in ADMIN_ROLES)),
        gm.c.deleted_at.is_(None),
    )


def workspace_membership(workspace_pk: Any, *, active: bool) -> ColumnElement[bool]:
    ms = tables.memberships
    conditions = [
        ms.c.workspace_pk == workspace_pk,
        ms.c.person_pk == scope_person_pk(),
        ms.c.deleted_at.is_(None),
    ]
    if active:
        conditions.append(ms.c.status == "active")
    return exists_where(*conditions)


class EnrolmentConditions(Conditions):
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
            Check(EnrolmentCheck.GROUP_ADMIN, group_admin(group)),
            Check(EnrolmentCheck.WORKSPACE_ACTIVE, workspace_membership(workspace, active=True)),
        ]

    def delete_checks(self, ctx: WriteContext) -> list[Check]:
        if ctx.service:
            return []
        return [Check(EnrolmentCheck.GROUP_ADMIN, group_admin(ctx.target.c.workspace_group_pk))]

    def create_values(self, ctx: WriteContext) -> dict[str, Any]:
        return {"created_by_pk": scope_person_pk()}
