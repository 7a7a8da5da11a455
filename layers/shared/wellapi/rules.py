"""Each resource's own rules as the client meets them: who may write, how a document is
normalised, and what each failed rule answers.

The conditions themselves are SQL, evaluated inside the write's one statement
(``wellapi.checks``, by the same names); the write happens only when every one holds, so a
rejected request writes nothing. This module is what a function needs at run time: it holds
no SQL, so a write compiled ahead of time never imports SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import replace

from wellapi.changes import ResourceDocument
from wellapi.errors import ApiError, Conflict, ErrorList, Forbidden, Unprocessable
from wellapi.resources import Resource
from wellapi.shapes import WriteKind

ADMIN_ROLES = ("owner", "admin")
# A member that may be set on create only, and that an update would change (``checks``).
KEEPS_PREFIX = "keeps_"
# A member no client may write (a timestamp, ``created_by``), sent back on update with another
# value than the row's (``writes``).
READ_ONLY_PREFIX = "read_only_"
# The names of the resources' own checks: ``wellapi.checks`` builds each condition under its
# name, and ``check_error`` answers by it.
SAME_WORKSPACE = "same_workspace"
CONNECTOR_NOT_REVOKED = "connector_not_revoked"
GROUP_ADMIN = "group_admin"
WORKSPACE_ACTIVE = "workspace_active"
SELECTED_IMPLIES_MATCHED = "selected_implies_matched"


def _selected_implies_matched() -> ApiError:
    return Unprocessable(
        "The provider is selected, so it stays matched; unselect it too.",
        pointer="/data/attributes/is_matched",
        code="SELECTED_IMPLIES_MATCHED",
    )


class Rules:
    """The default: any principal may write, no extra conditions."""

    members_may_write = True
    patch_allowed = True
    # The columns of the live-row unique index an upsert resolves conflicts on.
    upsert_key: tuple[str, ...] = ()

    def normalise(self, document: ResourceDocument, mode: str) -> ResourceDocument:
        return document

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        """What the client is told when the write's check ``name`` does not hold."""
        attributes = {a.name: a for a in resource.attributes}
        if name.startswith(READ_ONLY_PREFIX):
            member = name.removeprefix(READ_ONLY_PREFIX)
            attribute = attributes.get(member)
            section = "relationships" if attribute is None else "attributes"
            said = (
                "cannot be written"
                if attribute is not None and not attribute.system
                else "is set by the server"
            )
            return Forbidden(
                f"{member} {said}: send its current value or leave it out.",
                pointer=f"/data/{section}/{member}",
                code="READ_ONLY_FIELD",
            )
        member = name.removeprefix(KEEPS_PREFIX)
        if member == name:
            raise KeyError(f"{resource.key} has no rule {name!r}")
        section = "attributes" if member in attributes else "relationships"
        return Forbidden(
            f"{member} cannot change after creation.",
            pointer=f"/data/{section}/{member}",
            code="IMMUTABLE_FIELD",
        )

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

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        record, connector = resource.scope_relationships
        if name == CONNECTOR_NOT_REVOKED:
            return Unprocessable(
                f"The {connector} is revoked: it takes no new links.",
                pointer=f"/data/relationships/{connector}",
                code="WORKSPACE_CONNECTOR_REVOKED",
            )
        if name != SAME_WORKSPACE:
            return super().check_error(resource, kind, name)
        # Either side may be the wrong one: point at both.
        return ErrorList(
            Unprocessable(
                f"The {record} and the workspace_connector belong to different workspaces.",
                pointer=f"/data/relationships/{side}",
                code="WORKSPACE_MISMATCH",
            )
            for side in (record, connector)
        )


class GroupEnrolmentRules(Rules):
    """Enrolment needs owner/admin on the group and an active membership in the workspace."""

    patch_allowed = False

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        if name == GROUP_ADMIN and kind == "delete":
            return Forbidden("Removing a workspace needs the owner or admin role on the group.")
        if name == GROUP_ADMIN:
            return Forbidden(
                "Adding a workspace needs the owner or admin role on the group.",
                pointer="/data/relationships/workspace_group",
            )
        if name == WORKSPACE_ACTIVE:
            return Forbidden(
                "Adding a workspace needs an active membership in it.",
                pointer="/data/relationships/workspace",
            )
        return super().check_error(resource, kind, name)


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
        return replace(document, attributes=attributes)

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        if name == SELECTED_IMPLIES_MATCHED:
            return _selected_implies_matched()
        return super().check_error(resource, kind, name)

    def constraint_error(self, constraint: str | None) -> ApiError | None:
        if constraint != "workspace_providers_selected_implies_matched":
            return None
        return _selected_implies_matched()


RULES: dict[str, Rules] = {
    "account_workspace_connectors": ProvenanceRules(),
    "company_workspace_connectors": ProvenanceRules(),
    "people_workspace_connectors": ProvenanceRules(),
    "workspace_group_workspaces": GroupEnrolmentRules(),
    "workspace_providers": WorkspaceProviderRules(),
}

__all__ = [
    "ADMIN_ROLES",
    "CONNECTOR_NOT_REVOKED",
    "GROUP_ADMIN",
    "KEEPS_PREFIX",
    "READ_ONLY_PREFIX",
    "RULES",
    "SAME_WORKSPACE",
    "SELECTED_IMPLIES_MATCHED",
    "WORKSPACE_ACTIVE",
    "Rules",
]
