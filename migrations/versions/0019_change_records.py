"""a transactional outbox: every change the service makes leaves a change record in its own
transaction

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25

Nothing outside the service could learn that a ledger row was unlinked, a connector revoked or
a selection removed (a List never shows a deleted row). ``core_api.change_records`` is the
outbox the drainer (EventBridge) and the changes feed read (docs/changes.md):

- **Written by the statement that changes.** Every API write inserts its record from the
  written row's ``RETURNING`` in a data-modifying CTE of its one statement
  (``wellapi.sqlbuild.write_sql``); every sync message's statement and every sweep step
  inserts its records the same way (``wellapi.sync.outbox``). So a record commits exactly
  when its change does, costs no round trip, and a refused write, a PATCH that changes
  nothing, a replayed create or a transaction that fails leaves none. A bulk change writes
  one record per ``CHANGE_IDS`` (1,000) rows it changed, set-based: a sync message of 5,000
  records writes 5, a sweep step of 10,000 rows 10, never a statement per row.
- **Ordered by transaction id, read behind the horizon.** ``xid`` is the writing
  transaction's id (``pg_current_xact_id()``, xid8, which never wraps), ``pk`` orders a
  transaction's own records. Neither is commit order on its own: a transaction that took its
  id earlier may commit later, so a reader walking ``(xid, pk)`` up to the newest record
  would pass a position that an older, still running transaction fills in afterwards, and
  miss it for good. A reader therefore takes only records with
  ``xid < pg_snapshot_xmin(pg_current_snapshot())``: every transaction below that horizon has
  ended, so the set of records before any position it has passed can never grow, and a cursor
  ``(xid, pk)`` never misses one. The price: a record waits for every transaction older than
  its own to end (milliseconds; the roles' statement and idle-in-transaction timeouts bound
  it). Within one row's history the order is the order of its changes: a writer that waits for
  another's row lock takes its id when it gets the lock (docs/changes.md says the one
  exception).
- **Tenant-scoped like every other table.** ``workspace_pk`` is the workspace of the rows the
  record is about. Row-level security is enabled and forced; the API role reads the records
  of its verified scope's workspace (a service, every workspace), as it reads selections.
  No foreign keys: a change record is history, and a key's check would lock the workspace row
  (``FOR KEY SHARE``) on every write.
- **The API role records only its own writes.** It may insert only the columns a record's
  content needs (the order, the time, the sync columns and ``sent_at`` take their defaults),
  and its policy, like revision 0017's, allows exactly what the API does: the actor is the
  verified scope's principal, the change occurred now, and every id names a row of the
  record's resource type, in the record's workspace, that this very transaction wrote
  (``core_api.change_is_own``, its ``xmin``). SQL running as ``well_api`` cannot plant a
  record of a change it did not make, nor one for another workspace. The sync role is trusted
  as it is for the ledgers (docs/tenancy.md) and may insert the sync actors' records only.
- ``sent_at`` is the drainer's mark; the partial index on the unsent records is its walk,
  ``(workspace_pk, xid, pk)`` the feed's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ids one record carries at most (wellapi.domain.CHANGE_IDS): an event of that many ids
# stays well under EventBridge's 256 KB, and a feed page of records stays bounded.
CHANGE_IDS = 1000
# The closed vocabularies (wellapi.domain.ChangeKind, ActorKind, CHANGE_RESOURCE_TYPES).
CHANGES = (
    "linked",
    "unlinked",
    "removed",
    "revoked",
    "enrolled",
    "unenrolled",
    "selected",
    "changed",
)
ACTORS = ("member", "service", "sync", "sweep")
# resource type -> (table, public id column, the SQL of a row's workspace, ``t`` the row)
OWN = {
    "account_workspace_connector": (
        "account_workspace_connectors",
        "account_workspace_connector_id",
        "(SELECT wc.workspace_pk FROM core_api.workspace_connectors wc "
        "WHERE wc.pk = t.workspace_connector_pk)",
    ),
    "company_workspace_connector": (
        "company_workspace_connectors",
        "company_workspace_connector_id",
        "(SELECT wc.workspace_pk FROM core_api.workspace_connectors wc "
        "WHERE wc.pk = t.workspace_connector_pk)",
    ),
    "people_workspace_connector": (
        "people_workspace_connectors",
        "people_workspace_connector_id",
        "(SELECT wc.workspace_pk FROM core_api.workspace_connectors wc "
        "WHERE wc.pk = t.workspace_connector_pk)",
    ),
    "workspace_group_workspace": (
        "workspace_group_workspaces",
        "workspace_group_workspace_id",
        "t.workspace_pk",
    ),
    "workspace_provider": ("workspace_providers", "workspace_provider_id", "t.workspace_pk"),
}
# A revocation's own record names the connector.
RESOURCE_TYPES = (*OWN, "workspace_connector")


def _listed(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


TABLE = f"""
CREATE TABLE core_api.change_records (
  pk bigint GENERATED ALWAYS AS IDENTITY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  workspace_pk bigint NOT NULL,
  resource_type text NOT NULL,
  change text NOT NULL,
  ids uuid[] NOT NULL,
  record_ids uuid[],
  detail jsonb NOT NULL DEFAULT '{{}}'::jsonb,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  actor_kind text NOT NULL,
  actor_person_pk bigint,
  sync_run_id text,
  message_key text,
  sent_at timestamptz,
  CONSTRAINT change_records_pkey PRIMARY KEY (pk),
  CONSTRAINT change_records_ids CHECK (cardinality(ids) BETWEEN 1 AND {CHANGE_IDS}),
  CONSTRAINT change_records_record_ids
    CHECK (record_ids IS NULL OR cardinality(record_ids) = cardinality(ids)),
  CONSTRAINT change_records_change CHECK (change IN ({_listed(CHANGES)})),
  CONSTRAINT change_records_resource_type CHECK (resource_type IN ({_listed(RESOURCE_TYPES)})),
  CONSTRAINT change_records_actor_kind CHECK (actor_kind IN ({_listed(ACTORS)})),
  CONSTRAINT change_records_actor
    CHECK ((actor_kind IN ('member', 'service')) = (actor_person_pk IS NOT NULL))
);
CREATE INDEX idx_change_records_feed ON core_api.change_records (workspace_pk, xid, pk);
CREATE INDEX idx_change_records_unsent ON core_api.change_records (xid, pk)
  WHERE sent_at IS NULL;
"""


def _own_branch(resource_type: str) -> str:
    table, id_column, workspace = OWN[resource_type]
    return (
        f"WHEN '{resource_type}' THEN\n"
        "    SELECT count(DISTINCT t.pk) INTO v_found\n"
        f"      FROM core_api.{table} t\n"
        f"     WHERE t.{id_column} = ANY (p_ids) AND t.xmin = v_xid\n"
        f"       AND {workspace} = p_workspace_pk;\n"
    )


# VOLATILE: it reads with a snapshot of its own, which sees the rows the calling statement's
# write CTE has just written (a STABLE function would read the statement's snapshot, from
# before them). As the owner, it reads past the tables' policies; it answers only whether this
# transaction wrote the rows, which the caller knows.
CHANGE_IS_OWN = f"""
CREATE FUNCTION core_api.change_is_own(p_resource_type text, p_workspace_pk bigint, p_ids uuid[])
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_xid xid := pg_current_xact_id_if_assigned()::xid;
  v_found bigint;
BEGIN
  IF v_xid IS NULL OR p_ids IS NULL OR cardinality(p_ids) = 0 THEN
    RETURN false;
  END IF;
  CASE p_resource_type
  {"  ".join(_own_branch(t) for t in OWN)}  ELSE
    RETURN false;
  END CASE;
  RETURN v_found = (SELECT count(DISTINCT i) FROM unnest(p_ids) i);
END
$fn$
"""

SERVICE = "(SELECT core_api.verified_principal_kind()) = 'service'"
WORKSPACE = "(SELECT core_api.verified_workspace_pk())"
READ = f"(workspace_pk = {WORKSPACE} OR {SERVICE})"
API_INSERT = (
    "actor_kind = (SELECT core_api.verified_principal_kind()) "
    "AND actor_person_pk = (SELECT core_api.verified_person_pk()) "
    "AND occurred_at = now() "
    "AND core_api.change_is_own(resource_type, workspace_pk, ids)"
)
SYNC_INSERT = "actor_kind IN ('sync', 'sweep') AND actor_person_pk IS NULL"
# What each role may set; the rest is the database's (the order, the time, the drainer's mark).
CONTENT = "workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind"
API_COLUMNS = f"{CONTENT}, actor_person_pk"
SYNC_COLUMNS = f"{CONTENT}, sync_run_id, message_key"
# What the feed reads (#33's next part); the drainer's mark is not the API's business.
API_READS = (
    "pk, xid, workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, "
    "recorded_at, actor_kind, actor_person_pk, sync_run_id, message_key"
)


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(CHANGE_IS_OWN)
    op.execute("REVOKE ALL ON FUNCTION core_api.change_is_own(text, bigint, uuid[]) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.change_is_own(text, bigint, uuid[]) TO well_api")
    op.execute("ALTER TABLE core_api.change_records ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE core_api.change_records FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY change_records_owner ON core_api.change_records TO CURRENT_USER "
        "USING (true) WITH CHECK (true)"
    )
    op.execute(
        "CREATE POLICY change_records_api_read ON core_api.change_records FOR SELECT "
        f"TO well_api USING {READ}"
    )
    op.execute(
        "CREATE POLICY change_records_api_insert ON core_api.change_records FOR INSERT "
        f"TO well_api WITH CHECK ({API_INSERT})"
    )
    op.execute(
        "CREATE POLICY change_records_sync_insert ON core_api.change_records FOR INSERT "
        f"TO well_sync WITH CHECK ({SYNC_INSERT})"
    )
    op.execute(f"GRANT SELECT ({API_READS}) ON core_api.change_records TO well_api")
    op.execute(f"GRANT INSERT ({API_COLUMNS}) ON core_api.change_records TO well_api")
    op.execute(f"GRANT INSERT ({SYNC_COLUMNS}) ON core_api.change_records TO well_sync")


def downgrade() -> None:
    op.execute("DROP TABLE core_api.change_records")
    op.execute("DROP FUNCTION core_api.change_is_own(text, bigint, uuid[])")
