"""The changes feed (``changes``: the change records of a workspace, in commit order;
docs/changes.md).

A change record is history, not a row anyone writes over HTTP: the feed is a collection with
one operation (``wellapi.operations.feed.FEED``), and its resource has no rules of its own. Its
``id`` is the record's place in the order, ``<xid>-<pk>`` (the writing transaction and the
record: a stable event id, which never changes and is never reused); ``lag_seconds`` is how long
after ``occurred_at`` its transaction began writing it (``recorded_at``), the sync pipeline's lag
for a sync record. The SQL that reads it is ``wellapi.store.feed``.
"""

from __future__ import annotations

from collections.abc import Iterable

from wellapi.domain import ActorKind, ChangeKind
from wellapi.resources.description import (
    Attribute,
    Relationship,
    Resource,
    TableRef,
    enum_values,
)
from wellapi.resources.parents import PEOPLE, WORKSPACE, WORKSPACE_CONNECTOR
from wellapi.resources.rules import Rules

# The longest sync run id a filter takes: the sync message contract's (wellapi.sync.messages).
SYNC_RUN_ID_MAX = 200

# The revocation's own record (wellapi.sync.revocation), about the workspace connector revoked.
REVOCATION = (WORKSPACE_CONNECTOR.type, str(ChangeKind.REVOKED))
# The records of the operator's actions (core_api.operator_*()): the platform's rows it makes,
# a membership it makes active, the API keys it issues and revokes.
OPERATOR_PAIRS = tuple(
    (kind, str(change))
    for kind, changes in (
        (WORKSPACE.type, (ChangeKind.CREATED,)),
        (PEOPLE.type, (ChangeKind.CREATED,)),
        ("membership", (ChangeKind.CREATED, ChangeKind.CHANGED)),
        (WORKSPACE_CONNECTOR.type, (ChangeKind.CREATED,)),
        ("api_key", (ChangeKind.ISSUED, ChangeKind.REVOKED)),
    )
    for change in changes
)


def change_pairs(resources: Iterable[Resource]) -> tuple[tuple[str, str], ...]:
    """The changes each resource type's records can say (the junctions' recorders,
    ``core_api.record_<junction>()``, the revocation's and the operator's): the feed scans one
    index range per pair a filter keeps. ``changed`` of a ledger row or an enrolment is a change
    of its parents no API operation makes (SQL by hand)."""
    pairs = ((r.type, str(change)) for r in resources for change in r.rules.changes())
    return (*pairs, REVOCATION, *OPERATOR_PAIRS)


def changes_feed(resource_types: tuple[str, ...]) -> Resource:
    """The feed's resource, whose records are about ``resource_types``."""
    return Resource(
        key="changes",
        type="change",
        path="changes",
        table=TableRef("change_records", "pk"),
        attributes=(
            # The order of its rows' changes: of two records of a row, the later change's is larger.
            Attribute("sequence", "pk", "integer", nullable=False),
            Attribute(
                "resource_type", "resource_type", "enum", enum=resource_types, nullable=False
            ),
            Attribute("change", "change", "enum", enum=enum_values(ChangeKind), nullable=False),
            Attribute("ids", "ids", "uuids", nullable=False),
            Attribute("record_ids", "record_ids", "uuids"),
            Attribute("detail", "detail", "object", nullable=False),
            Attribute("occurred_at", "occurred_at", "datetime", nullable=False),
            Attribute("recorded_at", "recorded_at", "datetime", nullable=False),
            Attribute("lag_seconds", "lag_seconds", "number", nullable=False),
            Attribute(
                "actor_kind", "actor_kind", "enum", enum=enum_values(ActorKind), nullable=False
            ),
            Attribute("sync_run_id", "sync_run_id", "string"),
            Attribute("message_key", "message_key", "string"),
        ),
        relationships=(Relationship("workspace", WORKSPACE, "workspace_pk", writable="never"),),
        scope="feed",
        scope_relationships=(),
        # A collection no operation writes: the default rules are never asked.
        rules=Rules(),
        summary="The workspace's change records in commit order: what a consumer that missed "
        "events reads.",
        filters=("resource_type", "change", "sync_run_id"),
    )
