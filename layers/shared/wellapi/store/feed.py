"""The changes feed's SQL: a page of the scoped workspace's change records in commit order.

Every page follows the outbox's reader rule (docs/changes.md): only records with ``xid <
pg_snapshot_xmin(pg_current_snapshot())``, in ``(xid, pk)`` order, after the cursor's place.
Below that horizon every transaction has ended, so the records before a place a page has
shown can never change: following ``links.next`` never misses nor repeats one.

A page scans index ranges, reading at most a page of entries from each, whatever the workspace
holds (revision 0022):

- no filter: ``idx_change_records_feed`` ``(workspace_pk, xid, pk)``;
- a sync run: ``idx_change_records_feed_sync_run`` ``(workspace_pk, sync_run_id, xid, pk)``,
  any type or change filter checked on its rows;
- resource types and/or changes: ``idx_change_records_feed_kind`` ``(workspace_pk,
  resource_type, change, xid, pk)``, one LATERAL range per (type, change) pair the filters keep
  (``wellapi.resources.feed.CHANGE_PAIRS``, at most 15), merged and cut to the page.

The statement writes each record's JSON:API resource object itself, as the reads do
(``wellapi.sqltext.document``): every value is JSON text made by PostgreSQL. Its text is
composed once per shape (a cursor or none, how many (type, change) pairs, a sync run or none)
and its values (the cursor's place, the page's size, the pairs, the sync run id) go through
the slots of its ``Statement``, as every statement's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from wellapi.resources.conditions import slot
from wellapi.store.sql import BoundStatement, Statement

# The labels of a page's columns: the record's id (its place), and its resource object.
FEED_COLUMNS = ("id", "document")

SCOPED_WORKSPACE = "core_api.scope_workspace_pk()"
HORIZON = "pg_snapshot_xmin(pg_current_snapshot())"
# What a page reads of a record (the feed's columns, revision 0019's grant to the API role).
RECORD = (
    "r.xid, r.pk, r.resource_type, r.change, r.ids, r.record_ids, r.detail, r.occurred_at, "
    "r.recorded_at, r.actor_kind, r.sync_run_id, r.message_key"
)


def _instant(column: str) -> str:
    """A ``timestamptz`` as the documents write it: ISO 8601 in UTC, no empty fraction."""
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
    )


# A place in the order, ``(xid, pk)``: the cursor's.
PLACE = f"({slot('after_xid', 'xid8')}, {slot('after_pk')})"
# A page's size.
LIMIT = slot("limit")


def _after(after: bool) -> str:
    return f" AND (r.xid, r.pk) > {PLACE}" if after else ""


def _range(conditions: str, after: bool) -> str:
    """One index range scan: the records ``conditions`` keeps, behind the horizon, after the
    cursor."""
    return (
        f"SELECT {RECORD} FROM core_api.change_records r "
        f"WHERE r.workspace_pk = {SCOPED_WORKSPACE} AND r.xid < {HORIZON}{_after(after)}"
        f"{conditions} ORDER BY r.xid, r.pk LIMIT {LIMIT}"
    )


def _pairs_sql(count: int) -> str:
    return ", ".join(f"({slot(f'resource_type_{i}')}, {slot(f'change_{i}')})" for i in range(count))


def _page(after: bool, pairs: int | None, sync_run: bool) -> str:
    """The records of a page, by the index range the filters choose (the module says which)."""
    if pairs == 0:
        return _range(" AND false", after)
    if sync_run:
        kept = f" AND (r.resource_type, r.change) IN ({_pairs_sql(pairs)})" if pairs else ""
        return _range(f" AND r.sync_run_id = {slot('sync_run_id')}{kept}", after)
    if pairs is not None:
        scan = _range(" AND r.resource_type = k.resource_type AND r.change = k.change", after)
        return (
            f"SELECT w.* FROM (VALUES {_pairs_sql(pairs)}) AS k(resource_type, change) "
            f"CROSS JOIN LATERAL ({scan}) w ORDER BY w.xid, w.pk LIMIT {LIMIT}"
        )
    return _range("", after)


@lru_cache(maxsize=128)
def page_template(after: bool, pairs: int | None, sync_run: bool) -> Statement:
    """A page's statement: after a cursor's place or from the start, of ``pairs`` (type,
    change) pairs (None: no such filter; 0: nothing can match), of one sync run or of all."""
    record_id = "c.xid::text || '-' || c.pk::text"
    attributes = (
        "json_build_object('sequence', c.pk, 'resource_type', c.resource_type, "
        "'change', c.change, "
        "'ids', c.ids, 'record_ids', c.record_ids, 'detail', c.detail, "
        f"'occurred_at', {_instant('c.occurred_at')}, "
        f"'recorded_at', {_instant('c.recorded_at')}, "
        "'lag_seconds', round(extract(epoch FROM c.recorded_at - c.occurred_at), 3), "
        "'actor_kind', c.actor_kind, 'sync_run_id', c.sync_run_id, "
        "'message_key', c.message_key)"
    )
    workspace = "json_build_object('data', json_build_object('type', 'workspace', 'id', w.id))"
    document = (
        f"json_build_object('type', 'change', 'id', {record_id}, 'attributes', {attributes}, "
        f"'relationships', json_build_object('workspace', {workspace}))::text"
    )
    page = _page(after, pairs, sync_run)
    return Statement(
        f"SELECT {record_id} AS id, {document} AS document FROM ({page}) c, "
        "(SELECT workspace_id::text AS id FROM core_api.workspaces "
        f"WHERE pk = {SCOPED_WORKSPACE}) w ORDER BY c.xid, c.pk"
    )


def _place_params(after: tuple[int, int]) -> dict[str, Any]:
    xid, pk = after
    # An ``xid8`` is read from text: no integer casts to it.
    return {"after_xid": str(int(xid)), "after_pk": int(pk)}


def page_statement(
    *,
    after: tuple[int, int] | None,
    limit: int,
    pairs: Sequence[tuple[str, str]] | None = None,
    sync_run_id: str | None = None,
) -> BoundStatement:
    """Up to ``limit`` records after the place ``after``: their ids and resource objects, in order.

    ``pairs``: the (resource type, change) pairs the filters keep (None: no such filter; empty:
    nothing can match). ``sync_run_id``: one sync run's records only.
    """
    params: dict[str, Any] = {"limit": limit, "sync_run_id": sync_run_id}
    if after is not None:
        params |= _place_params(after)
    for i, (resource_type, change) in enumerate(pairs or ()):
        params |= {f"resource_type_{i}": resource_type, f"change_{i}": change}
    shape = page_template(
        after is not None, None if pairs is None else len(pairs), sync_run_id is not None
    )
    return shape.bind(params)


# Whether retention pruned a record after the place in the scoped workspace.
EXPIRED = Statement(
    "SELECT EXISTS (SELECT 1 FROM core_api.change_feed_pruned p "
    f"WHERE p.workspace_pk = {SCOPED_WORKSPACE} AND (p.xid, p.pk) > {PLACE})"
)


def expired_statement(after: tuple[int, int]) -> BoundStatement:
    """Whether retention pruned a record after the place ``after`` in the scoped workspace: a cursor
    there would skip it (one row, one boolean).

    Run after the page, in the same script: the page's snapshot is older, and pruning only
    moves forward, so when this says no, the page missed nothing either.
    """
    return EXPIRED.bind(_place_params(after))


__all__ = ["FEED_COLUMNS", "expired_statement", "page_statement"]
