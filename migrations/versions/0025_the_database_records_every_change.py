"""the database records every change of a junction row itself, in the statement that makes it

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-25

Until now a change record was written by the application's statement beside its write
(``core_api.record_change`` in the API's statement, the sync writer's and the sweeper's own
``INSERT``). SQL running as ``well_api`` with a proven scope could ``UPDATE`` a selection
without calling ``record_change``: the row changed and no record said so.

Now each junction table has three statement-level ``AFTER`` triggers (``INSERT``, ``UPDATE``,
``DELETE``) whose function (owner, security definer) writes the records of the rows the
statement changed, read from its transition tables, set-based (one record per 1,000 rows of the
same workspace, change and detail, as before):

- **What a row went through decides the change.** A live row inserted: the resource's
  creation (``linked``, ``enrolled``, ``selected``). Live to soft-deleted, or a live row
  deleted: its removal (``unlinked``, ``unenrolled``, ``removed``; a ledger row swept after a
  revocation: ``removed``). Soft-deleted to live: its creation again. Live to live with a
  different value of what the record's detail says (the parents, a selection's flags):
  ``changed``. Anything else (``updated_at`` alone, a soft-deleted row's columns, a row
  inserted already soft-deleted) changed nothing a reader sees and records nothing.
- **The actor is the database's to say.** A verified scope (revision 0014's signed scope, for
  this backend and transaction) makes it ``member`` or ``service`` and its person. Without
  one, only the sync role and the owner can write a junction row (the API role's policies need
  a scope): the sync writer and the sweeper declare their message with ``well.change``
  (``{"actor": "sync"|"sweep", "sync_run_id", "message_key", "occurred_at"}``, for their
  transaction); an undeclared write in a session of the sync role is ``sync`` (the previous
  release's writer), and any other write is ``system`` (an operator, a migration, the demo).
- **Per row, the record's ``pk`` is the order of its changes.** The triggers run at the end
  of the statement, while it holds the locks of every row it changed, and ``pk`` is taken
  then: a transaction that changes the row next waits for this one to end, so its record's
  ``pk`` is larger. ``(xid, pk)``, the order readers walk (revision 0019), is not that when
  a transaction takes its id before it waits for a row (docs/changes.md says what a consumer
  does).

Expand only (docs/deploy.md): the previous release's API still calls ``record_change`` in its
statements and its sync writer still inserts its records. ``record_change`` now records
nothing (the trigger has), and a ``BEFORE INSERT`` trigger on ``change_records`` discards a
junction row's record the sync role inserts, so the previous release's writes
leave exactly one record too. The revocation's own record (``workspace_connector``) is still
the sync writer's. Revision 0019's direct insert by the API role, which no release since 0020
uses, loses its policy: row-level security refuses the API role any record it would write
itself (its column grant and ``change_is_own`` go with a later release's contracting revision).
"""

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "well_api"
SYNC_ROLE = "well_sync"
ACTORS = ("member", "service", "sync", "sweep", "system")
COLUMNS = (
    "workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, "
    "actor_person_pk, sync_run_id, message_key"
)


@dataclass(frozen=True)
class Recorded:
    """How a table's changed rows become records."""

    resource_type: str
    creation: str
    removal: str
    # The columns a record groups its rows by (one record per 1,000 rows of the same values),
    # of which its workspace and detail are made once per record, from ``g``.
    keys: tuple[str, ...]
    joins: str
    workspace: str
    detail: str
    # The columns whose change is a change (a live row to a live row).
    content: tuple[str, ...]
    # A ledger row's record: its ``pk`` column and the records' table and public id column.
    record: tuple[str, str, str] | None = None


def _ledger(record: str, records: str, record_id: str) -> Recorded:
    return Recorded(
        f"{record}_workspace_connector",
        "linked",
        "unlinked",
        ("workspace_connector_pk", "direction"),
        "JOIN core_api.workspace_connectors wc ON wc.pk = g.workspace_connector_pk",
        "wc.workspace_pk",
        f"jsonb_build_object('record_type', '{record}', 'workspace_connector', "
        "wc.workspace_connector_id, 'direction', g.direction)",
        (f"{record}_pk", "workspace_connector_pk", "direction"),
        (f"{record}_pk", records, record_id),
    )


RESOURCES = {
    "account_workspace_connectors": _ledger("account", "accounts", "account_id"),
    "company_workspace_connectors": _ledger("company", "companies", "company_id"),
    "people_workspace_connectors": _ledger("people", "peoples", "person_id"),
    "workspace_group_workspaces": Recorded(
        "workspace_group_workspace",
        "enrolled",
        "unenrolled",
        ("workspace_group_pk", "workspace_pk"),
        "JOIN core_api.workspace_groups wg ON wg.pk = g.workspace_group_pk "
        "JOIN core_api.workspaces w ON w.pk = g.workspace_pk",
        "g.workspace_pk",
        "jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id)",
        ("workspace_group_pk", "workspace_pk"),
    ),
    "workspace_providers": Recorded(
        "workspace_provider",
        "selected",
        "removed",
        ("workspace_pk", "provider_pk", "is_selected", "is_matched"),
        "JOIN core_api.workspaces w ON w.pk = g.workspace_pk "
        "JOIN core_api.providers p ON p.pk = g.provider_pk",
        "g.workspace_pk",
        "jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, "
        "'is_selected', g.is_selected, 'is_matched', g.is_matched)",
        ("workspace_pk", "provider_pk", "is_selected", "is_matched"),
    ),
}
CHANGE_IDS = 1000


def _changed_rows(table: str) -> dict[str, str]:
    """TG_OP -> the rows the statement changed that a reader sees change, with their change."""
    r = RESOURCES[table]
    old = ", ".join(f"o.{c}" for c in r.content)
    new = ", ".join(f"n.{c}" for c in r.content)
    return {
        "INSERT": f"SELECT n.*, '{r.creation}'::text AS change FROM new_rows n "
        "WHERE n.deleted_at IS NULL",
        "UPDATE": "SELECT n.*, CASE "
        "WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal "
        f"WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN '{r.creation}' "
        f"WHEN n.deleted_at IS NULL AND ({old}) IS DISTINCT FROM ({new}) THEN 'changed' "
        "END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk",
        "DELETE": "SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL",
    }


def _insert_records(table: str, rows: str) -> str:
    """The records of ``rows``: one per 1,000 rows of the same change and keys, grouped on the
    rows' own columns, their workspace and detail made once per record."""
    r = RESOURCES[table]
    keys = ", ".join(f"c.{k}" for k in r.keys)
    if r.record is None:
        record_join, record_ids, record_pk = "", "NULL::uuid[]", ""
    else:
        column, records, record_id = r.record
        record_join = f"JOIN core_api.{records} r ON r.pk = c.record_pk "
        record_ids = f"array_agg(r.{record_id} ORDER BY c.id)"
        record_pk = f"t.{column} AS record_pk, "
    return (
        f"    WITH g AS (SELECT c.change, {keys}, array_agg(c.id ORDER BY c.id) AS ids, "
        f"{record_ids} AS record_ids\n"
        f"      FROM (SELECT t.change, t.{r.resource_type}_id AS id, {record_pk}"
        f"{', '.join(f't.{k}' for k in r.keys)}, row_number() OVER (PARTITION BY t.change, "
        f"{', '.join(f't.{k}' for k in r.keys)} ORDER BY t.{r.resource_type}_id) - 1 AS n\n"
        f"              FROM ({rows}) t WHERE t.change IS NOT NULL) c {record_join}\n"
        f"     GROUP BY c.change, {keys}, c.n / {CHANGE_IDS})\n"
        f"    INSERT INTO core_api.change_records ({COLUMNS})\n"
        f"    SELECT {r.workspace}, '{r.resource_type}', g.change, g.ids, g.record_ids, "
        f"{r.detail}, v_occurred, v_kind, v_person, v_run, v_key\n"
        f"      FROM g {r.joins};\n"
    )


# The actor, once per statement: the verified scope (revision 0014's check, inline, as
# record_change did), else the sync writer's or sweeper's declared message, else ``system``.
RECORDER = """
CREATE FUNCTION core_api.record_{table}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := '{removal}';
BEGIN
  IF cardinality(s) = 7 AND s[1] = pg_backend_pid()::text
     AND s[2] = ((extract(epoch FROM transaction_timestamp()) * 1000000)::bigint)::text THEN
    SELECT inner_key, outer_key INTO k FROM well_private.scope_keys WHERE id = 1;
    IF s[7] = encode(sha256(k.outer_key || sha256(k.inner_key
          || convert_to('scope|' || array_to_string(s[1:6], '.'), 'UTF8'))), 'hex') THEN
      v_kind := NULLIF(s[5], '');
      v_person := NULLIF(s[4], '')::bigint;
    END IF;
  END IF;
  IF v_kind IS NULL OR v_person IS NULL THEN
    v_person := NULL;
    -- The previous release's sync writer declares nothing: its session is the sync role's.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = '{sync_role}' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := '{swept}';
  END IF;
  IF TG_OP = 'INSERT' THEN
{insert}  ELSIF TG_OP = 'UPDATE' THEN
{update}  ELSE
{delete}  END IF;
  RETURN NULL;
END
$fn$
"""


def _recorder(table: str) -> str:
    removal = RESOURCES[table].removal
    rows = _changed_rows(table)
    swept = "removed" if removal == "unlinked" else removal
    return RECORDER.format(
        sync_role=SYNC_ROLE,
        table=table,
        removal=removal,
        swept=swept,
        insert=_insert_records(table, rows["INSERT"]),
        update=_insert_records(table, rows["UPDATE"]),
        delete=_insert_records(table, rows["DELETE"]),
    )


TRANSITIONS = {
    "insert": ("INSERT", "NEW TABLE AS new_rows"),
    "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "delete": ("DELETE", "OLD TABLE AS old_rows"),
}

# A record of a junction row inserted by the sync role (the recorders run as the owner) is the
# previous release's own: the trigger has recorded that change already. Any other role's is
# left to the policies, which refuse it.
DISCARD = f"""
CREATE FUNCTION core_api.change_records_of_junctions_are_the_databases() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF NEW.resource_type <> 'workspace_connector' AND NOT pg_has_role(current_user,
       (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
     AND pg_has_role(current_user, '{SYNC_ROLE}', 'MEMBER') THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$fn$
"""

# Revision 0020's function, for the previous release's statements: the trigger has recorded.
RECORD_CHANGE_NOOP = """
CREATE OR REPLACE FUNCTION core_api.record_change(p_resource_type text, p_change text, p_id uuid)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$ SELECT NULL::bigint $fn$
"""


def _actor_kinds(actors: Sequence[str], *, validate: bool) -> None:
    listed = ", ".join(f"'{a}'" for a in actors)
    op.execute("ALTER TABLE core_api.change_records DROP CONSTRAINT change_records_actor_kind")
    # NOT VALID, then validated: the scan takes no lock that stops writers.
    op.execute(
        "ALTER TABLE core_api.change_records ADD CONSTRAINT change_records_actor_kind "
        f"CHECK (actor_kind IN ({listed})) NOT VALID"
    )
    if validate:
        op.execute(
            "ALTER TABLE core_api.change_records VALIDATE CONSTRAINT change_records_actor_kind"
        )


def upgrade() -> None:
    _actor_kinds(ACTORS, validate=True)
    for table in RESOURCES:
        op.execute(_recorder(table))
        op.execute(f"REVOKE ALL ON FUNCTION core_api.record_{table}() FROM PUBLIC")
        for name, (event, transition) in TRANSITIONS.items():
            op.execute(
                f"CREATE TRIGGER {table}_recorded_{name} AFTER {event} ON core_api.{table} "
                f"REFERENCING {transition} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION core_api.record_{table}()"
            )
    op.execute(DISCARD)
    op.execute(
        "CREATE TRIGGER change_records_of_junctions_are_the_databases BEFORE INSERT ON "
        "core_api.change_records FOR EACH ROW "
        "EXECUTE FUNCTION core_api.change_records_of_junctions_are_the_databases()"
    )
    op.execute(RECORD_CHANGE_NOOP)
    op.execute("DROP POLICY change_records_api_insert ON core_api.change_records")


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    r19 = _revision("0019_change_records.py")
    op.execute(
        "CREATE POLICY change_records_api_insert ON core_api.change_records FOR INSERT "
        f"TO {API_ROLE} WITH CHECK ({r19.API_INSERT})"
    )
    r20 = _revision("0020_record_change.py")
    op.execute(r20.RECORD_CHANGE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute(
        "DROP TRIGGER change_records_of_junctions_are_the_databases ON core_api.change_records"
    )
    op.execute("DROP FUNCTION core_api.change_records_of_junctions_are_the_databases()")
    for table in RESOURCES:
        for name in TRANSITIONS:
            op.execute(f"DROP TRIGGER {table}_recorded_{name} ON core_api.{table}")
        op.execute(f"DROP FUNCTION core_api.record_{table}()")
    # The system's records stay history; the narrower check holds the rows written from now.
    _actor_kinds([a for a in ACTORS if a != "system"], validate=False)
