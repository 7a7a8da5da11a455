"""The workspace group enrolments (``workspace-group-workspaces``): a workspace
enrolled in a workspace group.

A member enrols a workspace only as an owner or admin of the group who is active in the
workspace, and removes it only as an owner or admin; an enrolment is never modified. Its SQL
conditions are ``wellapi.resources.enrolments_sql``; its table is
``wellapi.resources.tables.workspace_group_workspaces``, made and changed by the migrations.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from wellapi.domain import ChangeKind
from wellapi.errors import ApiError, ErrorList, Forbidden
from wellapi.resources.description import Relationship, Resource, TableRef, timestamps
from wellapi.resources.parents import PEOPLE, WORKSPACE, WORKSPACE_GROUP
from wellapi.resources.rules import CheckName, Rules

if TYPE_CHECKING:
    from wellapi.resources.changes import WriteKind

# The roles of a group's membership that may enrol a workspace in it, or remove one.
ADMIN_ROLES = ("owner", "admin")


class EnrolmentCheck(CheckName):
    # The person is an owner or admin of the group (``ADMIN_ROLES``).
    GROUP_ADMIN = "group_admin"
    # The person is an active member of the workspace enrolled.
    WORKSPACE_ACTIVE = "workspace_active"


class EnrolmentRules(Rules):
    """Enrolment needs owner/admin on the group and an active membership in the workspace."""

    patch_allowed = False
    change_kinds = MappingProxyType(
        {
            "create": ChangeKind.ENROLLED,
            "update": ChangeKind.CHANGED,
            "delete": ChangeKind.UNENROLLED,
        }
    )

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        if name == EnrolmentCheck.GROUP_ADMIN and kind == "delete":
            return Forbidden("Removing a workspace needs the owner or admin role on the group.")
        if name == EnrolmentCheck.GROUP_ADMIN:
            return Forbidden(
                "Adding a workspace needs the owner or admin role on the group.",
                pointer="/data/relationships/workspace_group",
            )
        if name == EnrolmentCheck.WORKSPACE_ACTIVE:
            return Forbidden(
                "Adding a workspace needs an active membership in it.",
                pointer="/data/relationships/workspace",
            )
        return super().check_error(resource, kind, name)


WORKSPACE_GROUP_WORKSPACES = Resource(
    key="workspace_group_workspaces",
    type="workspace_group_workspace",
    path="workspace-group-workspaces",
    table=TableRef("workspace_group_workspaces", "workspace_group_workspace_id"),
    attributes=timestamps(),
    relationships=(
        Relationship("workspace_group", WORKSPACE_GROUP, "workspace_group_pk"),
        Relationship("workspace", WORKSPACE, "workspace_pk"),
        Relationship("created_by", PEOPLE, "created_by_pk", required=False, writable="never"),
    ),
    scope="group_enrolment",
    scope_relationships=("workspace", "workspace_group"),
    rules=EnrolmentRules(),
    summary="The workspaces enrolled in a workspace group.",
)
