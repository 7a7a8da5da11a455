"""The resources' rules as SQLAlchemy conditions: what ``read_sql`` and ``write_sql`` build
from until the text composer (``wellapi.sqltext``) replaces them, kept only to compare with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, func, literal, or_, select

from wellapi.resources import tables
from wellapi.resources.changes import ResourceDocument
from wellapi.resources.description import Resource
from wellapi.resources.enrolments import ADMIN_ROLES, WORKSPACE_GROUP_WORKSPACES, EnrolmentCheck
from wellapi.resources.ledgers import LEDGER_RESOURCES, LedgerCheck
from wellapi.resources.providers import WORKSPACE_PROVIDERS, ProviderCheck


@dataclass(frozen=True)
class Check:
    """A condition the write needs, by the name its error is found under (``Rules``)."""

    name: str
    condition: ColumnElement[bool]


@dataclass(frozen=True)
class WriteContext:
    """What a rule may look at: the relationship rows the request points at, the target row
    (each builder of ``wellapi.sqlbuild.write_sql`` gives them, once it has made them)."""

    resource: Resource
    document: ResourceDocument
    service: bool
    related: Mapping[str, Any] = field(default_factory=dict)
    target: Any = None


def scope_workspace_pk() -> ColumnElement[Any]:
    return func.core_api.scope_workspace_pk()


def scope_person_pk() -> ColumnElement[Any]:
    return func.core_api.scope_person_pk()


def scope_principal_kind() -> ColumnElement[Any]:
    return func.core_api.scope_principal_kind()


def exists_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """``EXISTS (SELECT 1 FROM ... WHERE ...)``; not ``SELECT *``, which would need the right to
    read every column of the table (the roles may read only what they use: revision 0014)."""
    return select(literal(1)).where(*conditions).exists()


class Conditions:
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


def connector_not_revoked(connector_pk: ColumnElement[Any]) -> ColumnElement[bool]:
    """The workspace connector whose internal key is ``connector_pk`` has not been revoked.

    A revocation (``workspace_connector.revoked``) only records the connector in
    ``connector_revocations``; the sweeper soft-deletes its ledger rows later, in bounded
    steps (revision 0015). From the commit of that record on, a ledger row of the connector
    counts as soft-deleted for every read and write: this condition stands beside
    ``deleted_at IS NULL`` wherever a ledger row must be live (``wellapi.sqlbuild.read_sql``'
    ``live_row_conditions``), and on the connector whose index is scanned, so a revoked connector's
    rows are never read at all.

    It says ``NOT EXISTS (a revocation of the connector)`` as ``connector_pk IS DISTINCT FROM
    (SELECT the connector's revocation)``: the same truth (the sub-select finds the key or
    NULL), a filter that probes the revocations' primary key once per connector scanned or row
    read, and an estimate the planner gets right. Written as NOT EXISTS, the planner makes it
    an anti-join and, from the revocations' statistics (none for an empty table, or more
    revocations than connectors scanned), expects every connector to be revoked; kept a
    sub-select it guesses half. Either shrinks the page it plans for, and the joins above it
    turn into loops over whole tables (tests/database/test_read_plans.py).
    """
    revocations = tables.connector_revocations
    key = revocations.c.workspace_connector_pk
    revocation = select(key).where(key == connector_pk).scalar_subquery()
    return connector_pk.is_distinct_from(revocation)


class LedgerConditions(Conditions):
    def create_checks(self, ctx: WriteContext) -> list[Check]:
        record, connector = ctx.resource.scope_relationships
        # A revoked connector takes no new links (its rows are on their way to soft-deletion,
        # and none of them shows): reported first, since no other record would do either.
        live = connector_not_revoked(ctx.related[connector].c.pk)
        same = ctx.related[record].c.workspace_pk == ctx.related[connector].c.workspace_pk
        return [
            Check(LedgerCheck.CONNECTOR_NOT_REVOKED, live),
            Check(LedgerCheck.SAME_WORKSPACE, same),
        ]


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


class ProviderConditions(Conditions):
    def update_checks(self, ctx: WriteContext) -> list[Check]:
        attributes = ctx.document.attributes
        if "is_matched" not in attributes or "is_selected" in attributes:
            return []
        # Unmatching a row that stays selected would break the rule.
        unmatched_only_if_unselected = or_(
            ctx.target.c.is_selected.is_(False), bindparam("attr_is_matched", type_=Boolean)
        )
        return [Check(ProviderCheck.SELECTED_IMPLIES_MATCHED, unmatched_only_if_unselected)]

    def delete_values(self) -> dict[str, Any]:
        return {"is_selected": literal(False)}


CONDITIONS: Mapping[Resource, Conditions] = {
    **dict.fromkeys(LEDGER_RESOURCES, LedgerConditions()),
    WORKSPACE_GROUP_WORKSPACES: EnrolmentConditions(),
    WORKSPACE_PROVIDERS: ProviderConditions(),
}
