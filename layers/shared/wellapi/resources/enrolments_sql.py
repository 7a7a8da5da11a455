"""The workspace group enrolments' rules as SQL (``wellapi.resources.enrolments``)."""

from __future__ import annotations

from wellapi.domain import MembershipStatus
from wellapi.resources.conditions import (
    SCOPE_PERSON_PK,
    Check,
    Conditions,
    WriteContext,
    all_of,
    constant,
    exists_where,
)
from wellapi.resources.enrolments import ADMIN_ROLES, EnrolmentCheck


def group_admin(group_pk: str) -> str:
    roles = ", ".join(constant(role) for role in ADMIN_ROLES)
    return exists_where(
        "workspace_group_memberships",
        "admin_gm",
        f"admin_gm.workspace_group_pk = {group_pk}",
        f"admin_gm.person_pk = {SCOPE_PERSON_PK}",
        f"admin_gm.role IN ({roles})",
        "admin_gm.deleted_at IS NULL",
    )


def workspace_membership(workspace_pk: str, *, active: bool) -> str:
    conditions = [
        f"ms.workspace_pk = {workspace_pk}",
        f"ms.person_pk = {SCOPE_PERSON_PK}",
        "ms.deleted_at IS NULL",
    ]
    if active:
        conditions.append(f"ms.status = {constant(MembershipStatus.ACTIVE.value)}")
    return exists_where("memberships", "ms", *conditions)


class EnrolmentConditions(Conditions):
    def relationship_visible(self, ctx: WriteContext, name: str, alias: str) -> str | None:
        if ctx.service:
            return None
        if name == "workspace":
            # A workspace the person belongs to in any state is visible; acting needs "active".
            live = f"{alias}.deleted_at IS NULL"
            return all_of(live, workspace_membership(f"{alias}.pk", active=False))
        return None

    def create_checks(self, ctx: WriteContext) -> list[Check]:
        if ctx.service:
            return []
        group, workspace = ctx.related["workspace_group"], ctx.related["workspace"]
        return [
            Check(EnrolmentCheck.GROUP_ADMIN, group_admin(f"{group}.pk"), (group,)),
            Check(
                EnrolmentCheck.WORKSPACE_ACTIVE,
                workspace_membership(f"{workspace}.pk", active=True),
                (workspace,),
            ),
        ]

    def delete_checks(self, ctx: WriteContext) -> list[Check]:
        if ctx.service:
            return []
        admin = group_admin(f"{ctx.target}.workspace_group_pk")
        return [Check(EnrolmentCheck.GROUP_ADMIN, admin, (ctx.target,))]

    def create_values(self, ctx: WriteContext) -> dict[str, str]:
        return {"created_by_pk": SCOPE_PERSON_PK}
