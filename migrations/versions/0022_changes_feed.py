"""the changes feed's walks and the outbox's retention: an index per filter, the pruned
positions a cursor is checked against, and the sync role's prune of sent records only

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-25

The feed (``GET /v1/changes``, docs/changes.md) reads a workspace's records behind the
``pg_snapshot_xmin`` horizon in ``(xid, pk)`` order, a page at a time. Unfiltered it walks
revision 0019's ``idx_change_records_feed`` ``(workspace_pk, xid, pk)``. Each filter gets an
index whose leading columns are equalities and whose tail is the order, so a page of a filter
reads a page of index entries, however many records the workspace holds:

- ``idx_change_records_feed_kind`` ``(workspace_pk, resource_type, change, xid, pk)``: a
  filter on resource types and/or changes is walked once per (type, change) pair it keeps,
  a page each, merged (``wellapi.store.feed``);
- ``idx_change_records_feed_sync_run`` ``(workspace_pk, sync_run_id, xid, pk)`` on the sync
  records: a sync run's records (the sync-run visibility).

Retention (``wellapi.sync.retention``, run by the sweep function): a sent record is deleted
``CHANGE_RETENTION_DAYS`` (30) after its ``sent_at``, in bounded steps on
``idx_change_records_sent`` (``sent_at`` of the sent records); an unsent one never is. The
database holds the sync role to that: it may read and delete only records sent more than 30
days ago (its SELECT and DELETE policies), never another one, whatever SQL it runs.

Each step raises, in the same statement, the workspace's pruned position in
``core_api.change_feed_pruned`` to the largest ``(xid, pk)`` it deleted there. A feed request
with a cursor below its workspace's pruned position would skip a record it never read: it is
answered 410 ``CURSOR_EXPIRED`` instead, in the request's one round trip. The API role reads
the positions of its verified scope's workspace (a service, every workspace), like the
records.

It touches no object revision 0021 (the drainer's role) creates. The 30 days
are written here as they are today (``wellapi.domain.CHANGE_RETENTION_DAYS``); a change of the
promise is a revision of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION = "interval '30 days'"
PRUNABLE = f"sent_at < now() - {RETENTION}"
SERVICE = "(SELECT core_api.verified_principal_kind()) = 'service'"
WORKSPACE = "(SELECT core_api.verified_workspace_pk())"

# Built in the migration's one transaction, under a write lock on the outbox: the migration
# runner (wellapi.handlers.migration) holds every revision in one lock-retried transaction, so
# it cannot run CREATE INDEX CONCURRENTLY. The outbox is revision 0019's, of the same release
# (#33): deployed together, the table is near empty when these are built (a few ms). The lock
# is bounded: on an outbox of more than LOCKED_BUILD_RECORDS records the revision refuses to
# build under it and fails, naming the CONCURRENTLY statements to run by hand first (IF NOT
# EXISTS then takes them as they are), so no deploy stops the API's writes for the length of
# a build. tests/database/test_migrations.py lists this revision among those that break the
# expand-only rule, with this reason.
LOCKED_BUILD_RECORDS = 100_000
# Each index's name and what follows ON.
INDEXES = {
    "idx_change_records_feed_kind": (
        "core_api.change_records (workspace_pk, resource_type, change, xid, pk)"
    ),
    "idx_change_records_feed_sync_run": (
        "core_api.change_records (workspace_pk, sync_run_id, xid, pk) WHERE sync_run_id IS NOT NULL"
    ),
    "idx_change_records_sent": ("core_api.change_records (sent_at) WHERE sent_at IS NOT NULL"),
}


def _build(name: str, *, concurrently: bool = False) -> str:
    how = "CONCURRENTLY " if concurrently else ""
    return f"CREATE INDEX {how}IF NOT EXISTS {name} ON {INDEXES[name]}"


PRUNED = """
CREATE TABLE core_api.change_feed_pruned (
  workspace_pk bigint NOT NULL,
  xid xid8 NOT NULL,
  pk bigint NOT NULL,
  pruned_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT change_feed_pruned_pkey PRIMARY KEY (workspace_pk)
);
"""


def _refuse_a_long_locked_build() -> None:
    bind = op.get_bind()
    missing = [
        name
        for name in INDEXES
        if bind.exec_driver_sql(f"SELECT to_regclass('core_api.{name}') IS NULL").scalar()
    ]
    records = bind.exec_driver_sql(
        "SELECT count(*) FROM (SELECT 1 FROM core_api.change_records "
        f"LIMIT {LOCKED_BUILD_RECORDS + 1}) AS outbox"
    ).scalar()
    if missing and int(records or 0) > LOCKED_BUILD_RECORDS:
        concurrently = ";\n".join(_build(name, concurrently=True) for name in missing)
        raise RuntimeError(
            f"revision 0022: the outbox holds more than {LOCKED_BUILD_RECORDS:,} change records, "
            "and building its indexes here would stop the API's writes for the build. Build "
            f"them first, outside a transaction, then deploy again:\n{concurrently};"
        )


def upgrade() -> None:
    _refuse_a_long_locked_build()
    for name in INDEXES:
        op.execute(_build(name))
    op.execute(PRUNED)
    op.execute("ALTER TABLE core_api.change_feed_pruned ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE core_api.change_feed_pruned FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY change_feed_pruned_owner ON core_api.change_feed_pruned TO CURRENT_USER "
        "USING (true) WITH CHECK (true)"
    )
    op.execute(
        "CREATE POLICY change_feed_pruned_api_read ON core_api.change_feed_pruned FOR SELECT "
        f"TO well_api USING (workspace_pk = {WORKSPACE} OR {SERVICE})"
    )
    op.execute(
        "CREATE POLICY change_feed_pruned_sync ON core_api.change_feed_pruned "
        "TO well_sync USING (true) WITH CHECK (true)"
    )
    op.execute("GRANT SELECT (workspace_pk, xid, pk) ON core_api.change_feed_pruned TO well_api")
    op.execute("GRANT SELECT, INSERT, UPDATE ON core_api.change_feed_pruned TO well_sync")
    # The prune: only records sent more than the retention ago, for reading and deleting.
    op.execute(
        "CREATE POLICY change_records_sync_prune_read ON core_api.change_records FOR SELECT "
        f"TO well_sync USING ({PRUNABLE})"
    )
    op.execute(
        "CREATE POLICY change_records_sync_prune ON core_api.change_records FOR DELETE "
        f"TO well_sync USING ({PRUNABLE})"
    )
    op.execute(
        "GRANT SELECT (pk, xid, workspace_pk, sent_at) ON core_api.change_records TO well_sync"
    )
    op.execute("GRANT DELETE ON core_api.change_records TO well_sync")


def downgrade() -> None:
    op.execute("REVOKE DELETE ON core_api.change_records FROM well_sync")
    op.execute(
        "REVOKE SELECT (pk, xid, workspace_pk, sent_at) ON core_api.change_records FROM well_sync"
    )
    op.execute("DROP POLICY change_records_sync_prune ON core_api.change_records")
    op.execute("DROP POLICY change_records_sync_prune_read ON core_api.change_records")
    op.execute("DROP TABLE core_api.change_feed_pruned")
    op.execute("DROP INDEX core_api.idx_change_records_sent")
    op.execute("DROP INDEX core_api.idx_change_records_feed_sync_run")
    op.execute("DROP INDEX core_api.idx_change_records_feed_kind")
