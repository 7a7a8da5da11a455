"""The provenance ledgers' rules as SQL (``wellapi.resources.ledgers``): a revoked connector
takes no new links and hides its rows, and a link's record and connector belong to one
workspace."""

from __future__ import annotations

from wellapi.resources.conditions import Check, Conditions, WriteContext, qualified
from wellapi.resources.ledgers import LedgerCheck


def connector_not_revoked(connector_pk: str) -> str:
    """The workspace connector whose internal key is ``connector_pk`` has not been revoked.

    A revocation (``workspace_connector.revoked``) only records the connector in
    ``connector_revocations``; the sweeper soft-deletes its ledger rows later, in bounded
    steps. From the commit of that record on, a ledger row of the connector counts as
    soft-deleted for every read and write: this condition stands beside ``deleted_at IS NULL``
    wherever a ledger row must be live (``wellapi.sqltext.reads``' ``live_row_conditions``),
    and on the connector whose index is scanned, so a revoked connector's rows are never read
    at all.

    It says ``NOT EXISTS (a revocation of the connector)`` as ``connector_pk IS DISTINCT FROM
    (SELECT the connector's revocation)``: the same truth (the sub-select finds the key or
    NULL), a filter that probes the revocations' primary key once per connector scanned or row
    read, and an estimate the planner gets right. Written as NOT EXISTS, the planner makes it
    an anti-join and, from the revocations' statistics (none for an empty table, or more
    revocations than connectors scanned), expects every connector to be revoked; kept a
    sub-select it guesses half. Either shrinks the page it plans for, and the joins above it
    turn into loops over whole tables (tests/database/test_read_plans.py).
    """
    revocations = qualified("connector_revocations")
    revocation = (
        f"SELECT cr.workspace_connector_pk FROM {revocations} AS cr"
        f" WHERE cr.workspace_connector_pk = {connector_pk}"
    )
    return f"{connector_pk} IS DISTINCT FROM ({revocation})"


class LedgerConditions(Conditions):
    def create_checks(self, ctx: WriteContext) -> list[Check]:
        record, connector = ctx.resource.scope_relationships
        rec, con = ctx.related[record], ctx.related[connector]
        # A revoked connector takes no new links (its rows are on their way to soft-deletion,
        # and none of them shows): reported first, since no other record would do either.
        live = connector_not_revoked(f"{con}.pk")
        same = f"{rec}.workspace_pk = {con}.workspace_pk"
        return [
            Check(LedgerCheck.CONNECTOR_NOT_REVOKED, live, (con,)),
            Check(LedgerCheck.SAME_WORKSPACE, same, (rec, con)),
        ]
