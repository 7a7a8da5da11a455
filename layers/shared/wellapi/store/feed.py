"""The changes feed's SQL: a page of the scoped workspace's change records in commit order.

Every page follows the outbox's reader rule (docs/changes.md): only records with ``xid <
pg_snapshot_xmin(pg_current_snapshot())``, in ``(xid, pk)`` order, after the cursor's place.
Below that horizon every transaction has ended, so the records before a place a page has
shown can never change: following ``links.next`` never misses nor repeats one.

A page scans index ranges, reading at most a page of entries from each, whatever the workspace
holds:

- no filter: ``idx_change_records_feed`` ``(workspace_pk, xid, pk)``;
- a sync run: ``idx_change_records_feed_sync_run`` ``(workspace_pk, sync_run_id, xid, pk)``,
  any type or change filter checked on its rows;
- resource types and/or changes: ``idx_change_records_feed_kind`` ``(workspace_pk,
  resource_type, change, xid, pk)``, one LATERAL range per (type, change) pair the filters keep
  (``wellapi.resources.feed.CHANGE_PAIRS``, at most 15), merged and cut to the page.

The statement writes each record's JSON:API resource object itself, as the reads do
(``wellapi.sqltext.document``): every value is JSON text made by PostgreSQL. The three
statements are plain SQL whose values (the cursor's place, the page's size, the pairs as two
arrays, the sync run id) are named parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wellapi.store.sql import BoundStatement, Statement

# The labels of a page's columns: the record's id (its place), and its resource object.
FEED_COLUMNS = ("id", "document")

# A page: the records ``{records}`` reads, each written as its JSON:API resource object,
# instants in ISO 8601 UTC with no empty fraction, as the documents write them.
PAGE = """SELECT c.xid::text || '-' || c.pk::text AS id, json_build_object(
    'type', 'change',
    'id', c.xid::text || '-' || c.pk::text,
    'attributes', json_build_object(
        'sequence', c.pk, 'resource_type', c.resource_type, 'change', c.change,
        'ids', c.ids, 'record_ids', c.record_ids, 'detail', c.detail,
        'occurred_at', replace(to_char(c.occurred_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '.000000Z', 'Z'),
        'recorded_at', replace(to_char(c.recorded_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '.000000Z', 'Z'),
        'lag_seconds', round(extract(epoch FROM c.recorded_at - c.occurred_at), 3),
        'actor_kind', c.actor_kind, 'sync_run_id', c.sync_run_id, 'message_key', c.message_key
    ),
    'relationships', json_build_object('workspace', json_build_object(
        'data', json_build_object('type', 'workspace', 'id', w.id)
    ))
)::text AS document
FROM ({records}) c, (
    SELECT workspace_id::text AS id FROM core_api.workspaces
    WHERE pk = core_api.scope_workspace_pk()
) w
ORDER BY c.xid, c.pk"""

# One index range scan: the scoped workspace's records behind the horizon, after the cursor's
# place (``(0, 0)`` for the first page), those ``{kept}`` keeps, a page of them at most. What it
# reads of a record is the feed's columns (the API role's column grant on the table).
RANGE = """SELECT r.xid, r.pk, r.resource_type, r.change, r.ids, r.record_ids, r.detail,
    r.occurred_at, r.recorded_at, r.actor_kind, r.sync_run_id, r.message_key
FROM core_api.change_records r
WHERE r.workspace_pk = core_api.scope_workspace_pk()
    AND r.xid < pg_snapshot_xmin(pg_current_snapshot())
    AND (r.xid, r.pk) > (%(after_xid)s::xid8, %(after_pk)s)
    AND {kept}
ORDER BY r.xid, r.pk
LIMIT %(limit)s"""

# The three pages, by the index range the filters choose (the module says which): every record;
# one sync run's, of the (type, change) pairs kept when ``by_pairs``; one range per pair kept,
# merged and cut to the page.
EVERY_RECORD = Statement(PAGE.format(records=RANGE.format(kept="true")))
SYNC_RUN = Statement(
    PAGE.format(
        records=RANGE.format(
            kept="""r.sync_run_id = %(sync_run_id)s AND (NOT %(by_pairs)s::boolean
        OR (r.resource_type, r.change) IN (
            SELECT * FROM unnest(%(resource_types)s::text[], %(changes)s::text[])
        ))"""
        )
    )
)
PAIRS = Statement(
    PAGE.format(
        records="""SELECT p.* FROM unnest(%(resource_types)s::text[], %(changes)s::text[])
    AS k(resource_type, change)
CROSS JOIN LATERAL ("""
        + RANGE.format(kept="r.resource_type = k.resource_type AND r.change = k.change")
        + """) p
ORDER BY p.xid, p.pk
LIMIT %(limit)s"""
    )
)


def _place_params(after: tuple[int, int] | None) -> dict[str, Any]:
    xid, pk = after or (0, 0)
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
    kept = list(pairs or ())
    params: dict[str, Any] = _place_params(after) | {
        "limit": limit,
        "resource_types": [t for t, _ in kept],
        "changes": [c for _, c in kept],
    }
    if sync_run_id is not None:
        params |= {"sync_run_id": sync_run_id, "by_pairs": pairs is not None}
        return SYNC_RUN.bind(params)
    return EVERY_RECORD.bind(params) if pairs is None else PAIRS.bind(params)


# Whether retention pruned a record after the place in the scoped workspace.
EXPIRED = Statement(
    """SELECT EXISTS (
    SELECT 1 FROM core_api.change_feed_pruned p
    WHERE p.workspace_pk = core_api.scope_workspace_pk()
        AND (p.xid, p.pk) > (%(after_xid)s::xid8, %(after_pk)s)
)"""
)


def expired_statement(after: tuple[int, int]) -> BoundStatement:
    """Whether retention pruned a record after the place ``after`` in the scoped workspace: a cursor
    there would skip it (one row, one boolean).

    Run after the page, in the same script: the page's snapshot is older, and pruning only
    moves forward, so when this says no, the page missed nothing either.
    """
    return EXPIRED.bind(_place_params(after))


__all__ = ["FEED_COLUMNS", "expired_statement", "page_statement"]
