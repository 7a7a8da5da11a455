"""The three provenance ledgers (account, company and people workspace connectors):
one definition, one ledger per kind of record a connector brings into a workspace.

A ledger row says that a workspace connector brought a record into its workspace (``input``)
or carried it out (``output``). The connector sync pipeline writes them
(``wellapi.sync.ledgers`` derives its table of ledgers from ``LEDGER_RESOURCES``); over HTTP
only a service principal does. Their SQL conditions are ``wellapi.resources.ledgers_sql``;
their tables are ``wellapi.resources.tables.<record>_workspace_connectors`` (``_provenance_table``),
made and changed by the migrations.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from wellapi.domain import ChangeKind, Direction
from wellapi.errors import ApiError, ErrorList, Unprocessable
from wellapi.resources.description import (
    Attribute,
    Parent,
    Relationship,
    Resource,
    TableRef,
    Walk,
    enum_values,
    timestamps,
)
from wellapi.resources.parents import ACCOUNT, COMPANY, PEOPLE, WORKSPACE_CONNECTOR
from wellapi.resources.rules import CheckName, Rules

if TYPE_CHECKING:
    from wellapi.resources.changes import WriteKind


class LedgerCheck(CheckName):
    # A revoked connector takes no new links.
    CONNECTOR_NOT_REVOKED = "connector_not_revoked"
    # The record and the connector belong to one workspace.
    SAME_WORKSPACE = "same_workspace"


class LedgerRules(Rules):
    """Written by the connector sync pipeline; over HTTP only by a service principal."""

    members_may_write = False
    change_kinds = MappingProxyType(
        {"create": ChangeKind.LINKED, "update": ChangeKind.CHANGED, "delete": ChangeKind.UNLINKED}
    )
    # A revoked connector's rows, taken out by the sweeper (``wellapi.sync.sweeper``).
    other_changes = (ChangeKind.REMOVED,)

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        record, connector = resource.scope_relationships
        if name == LedgerCheck.CONNECTOR_NOT_REVOKED:
            return Unprocessable(
                f"The {connector} is revoked: it takes no new links.",
                pointer=f"/data/relationships/{connector}",
                code="WORKSPACE_CONNECTOR_REVOKED",
            )
        if name != LedgerCheck.SAME_WORKSPACE:
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


# A ledger row is appended by the sync pipeline and never edited (a PATCH can change nothing):
# its updated_at moves only when the row is removed, which hides it. Who sorts a ledger by
# updated_at wants what changed since a time, which the changes feed answers (deletions
# included) and such a List never did; and were a ledger partitioned by its time, a List in that
# order would read every partition. So a ledger sorts by its time only, and a write keeps no
# index of updated_at up to date.
LEDGER_SORTS = ("created_at",)

DIRECTION = Attribute(
    "direction", "direction", "enum", enum_values(Direction), nullable=False, writable="create"
)
_RULES = LedgerRules()


def _ledger(record: str, parent: Parent, noun: str) -> Resource:
    """The ledger of the records of ``parent`` (``noun``: one of them, with its article)."""
    table = TableRef(f"{record}_workspace_connectors", f"{record}_workspace_connector_id")
    key = table.name
    return Resource(
        key=key,
        type=key[:-1],
        path=key.replace("_", "-"),
        table=table,
        attributes=(DIRECTION, *timestamps()),
        relationships=(
            Relationship(record, parent, f"{record}_pk"),
            Relationship("workspace_connector", WORKSPACE_CONNECTOR, "workspace_connector_pk"),
        ),
        scope="provenance",
        # The record first: ``record_relationship`` and the rules name it by its place.
        scope_relationships=(record, "workspace_connector"),
        rules=_RULES,
        filters=("direction",),
        walks=(Walk(record), Walk("workspace_connector", "direction")),
        sorts=LEDGER_SORTS,
        time_ordered_id=True,
        sort_note="The ledgers sort by created_at only; what changed since a time is "
        "GET /v1/changes, deletions included, in commit order.",
        summary=f"Which workspace connector brought {noun} into the workspace, or carried it "
        "out: a row per sync run (a ledger).",
    )


LEDGER_RESOURCES = (
    _ledger("account", ACCOUNT, "a bank account"),
    _ledger("company", COMPANY, "a company"),
    _ledger("people", PEOPLE, "a person"),
)


def record_relationship(ledger: Resource) -> Relationship:
    """The relationship to the record a ledger's rows bring in or carry out."""
    return ledger.relationship(ledger.scope_relationships[0])


# The kinds of record the ledgers bring in, as a sync message's record_type names them.
RECORD_TYPES = tuple(record_relationship(r).name for r in LEDGER_RESOURCES)
