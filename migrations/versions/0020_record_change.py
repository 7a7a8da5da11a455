"""the API records its changes through core_api.record_change, which reads the written row
itself: the outbox costs a Create about 1.1x, not 1.35x

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-25

Revision 0019 let the API role insert its change records from the written row's
``RETURNING``, held to its own writes by an INSERT policy. That policy was most of the
outbox's price on a Create (``EXPLAIN (ANALYZE, BUFFERS)`` of the warm Create as the API role,
PostgreSQL 18.4): planning 0.45 ms against 0.24 without the record, execution 0.93 against
0.35. The policy's ``change_is_own`` (PL/pgSQL, security definer) looked the rows up again,
each of its five scope readers verified the signed scope once more, and the record's own
joins to the row's parents carried those tables' policies; a raw round trip took 1.33-1.38x
the one without the record.

Now the write's ``recorded`` CTE is ``SELECT core_api.record_change(type, change, id) FROM
written``, and the function (owner, security definer) makes the record from the row:

- **Only a row this transaction wrote.** It finds the row by its public id with
  ``xmin`` = this transaction, and its workspace, its parents' public ids, its record (a ledger
  row) and the detail are read from that row, not sent: SQL running as the API role cannot
  record a change it did not make, nor one in another workspace, nor what a row does not say.
- **Only the change the row shows.** The change must be one of the resource type's, and a
  removal (``unlinked``, ``unenrolled``, ``removed``) only of a row that is soft-deleted, any
  other change only of a live one.
- **The actor is the verified scope's.** The signed scope is verified once, inline (revision
  0014's readers, once rather than per reader); without a verified scope nothing is recorded.
- It raises ``insufficient_privilege`` instead of recording nothing: the API calls it only with
  rows its statement wrote, so a miss is a forgery or a bug, and the write must not commit
  without its record.

Expand only (docs/deploy.md): the previous release's functions still insert their records
themselves, so the API role keeps its column INSERT on ``change_records``, its policy there and
``change_is_own`` until a revision of a later release revokes them (docs/changes.md, "Not
yet"). Nothing of this release uses them; the policy still holds any direct insert to the
API's own writes. The sync role's insert (trusted, ``sync`` and ``sweep`` actors only) is
unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The changes each resource type's rows go through, and which of them remove the row.
KINDS = {
    "account_workspace_connector": ("linked", "unlinked"),
    "company_workspace_connector": ("linked", "unlinked"),
    "people_workspace_connector": ("linked", "unlinked"),
    "workspace_group_workspace": ("enrolled", "unenrolled"),
    "workspace_provider": ("selected", "changed", "removed"),
}
REMOVALS = ("unlinked", "unenrolled", "removed")

COLUMNS = (
    "workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, "
    "actor_person_pk"
)
# resource type -> (FROM and joins of ``t``, the row; workspace; record ids; detail). The same
# record the API's SQL made from the row in revision 0019 (tests/database/test_change_records).
LEDGER = (
    "core_api.{table} t JOIN core_api.{records} r ON r.pk = t.{record}_pk "
    "JOIN core_api.workspace_connectors wc ON wc.pk = t.workspace_connector_pk",
    "r.workspace_pk",
    "ARRAY[r.{record_id}]",
    "jsonb_build_object('record_type', '{record}', 'workspace_connector', "
    "wc.workspace_connector_id, 'direction', t.direction)",
)
LEDGERS = {
    "account_workspace_connector": ("account", "accounts", "account_id"),
    "company_workspace_connector": ("company", "companies", "company_id"),
    "people_workspace_connector": ("people", "peoples", "person_id"),
}
SOURCES = {
    **{
        f"{record}_workspace_connector": tuple(
            part.format(
                table=f"{record}_workspace_connectors",
                records=records,
                record=record,
                record_id=record_id,
            )
            for part in LEDGER
        )
        for record, records, record_id in LEDGERS.values()
    },
    "workspace_group_workspace": (
        "core_api.workspace_group_workspaces t "
        "JOIN core_api.workspace_groups g ON g.pk = t.workspace_group_pk "
        "JOIN core_api.workspaces w ON w.pk = t.workspace_pk",
        "t.workspace_pk",
        "NULL",
        "jsonb_build_object('workspace_group', g.workspace_group_id, 'workspace', w.workspace_id)",
    ),
    "workspace_provider": (
        "core_api.workspace_providers t JOIN core_api.workspaces w ON w.pk = t.workspace_pk "
        "JOIN core_api.providers p ON p.pk = t.provider_pk",
        "t.workspace_pk",
        "NULL",
        "jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, "
        "'is_selected', t.is_selected, 'is_matched', t.is_matched)",
    ),
}


def _branch(resource_type: str) -> str:
    source, workspace, record_ids, detail = SOURCES[resource_type]
    return (
        f"  WHEN '{resource_type}' THEN\n"
        f"    INSERT INTO core_api.change_records ({COLUMNS})\n"
        f"    SELECT {workspace}, p_resource_type, p_change, ARRAY[t.{resource_type}_id], "
        f"{record_ids}, {detail}, now(), v_kind, v_person\n"
        f"      FROM {source}\n"
        f"     WHERE t.{resource_type}_id = p_id AND t.xmin = v_xid\n"
        "       AND (t.deleted_at IS NOT NULL) = v_removal\n"
        "    RETURNING pk INTO v_pk;\n"
    )


def _pairs() -> str:
    return ", ".join(f"('{t}', '{c}')" for t, changes in KINDS.items() for c in changes)


# VOLATILE: its statements read with snapshots of their own, which see the row the calling
# statement's write CTE has just written (a STABLE function reads the caller's snapshot, from
# before it). The scope check is revision 0014's VERIFY, once for both fields it needs.
RECORD_CHANGE = f"""
CREATE FUNCTION core_api.record_change(p_resource_type text, p_change text, p_id uuid)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  k record;
  v_kind text;
  v_person bigint;
  v_xid xid := pg_current_xact_id_if_assigned()::xid;
  v_removal boolean := p_change IN ({", ".join(f"'{c}'" for c in REMOVALS)});
  v_pk bigint;
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
  IF v_kind IS NULL OR v_person IS NULL OR v_xid IS NULL OR p_id IS NULL
     OR (p_resource_type, p_change) NOT IN ({_pairs()}) THEN
    RAISE EXCEPTION 'no change of this transaction to record'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  CASE p_resource_type
{"".join(_branch(t) for t in KINDS)}  END CASE;
  IF v_pk IS NULL THEN
    RAISE EXCEPTION 'no change of this transaction to record'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN v_pk;
END
$fn$
"""

SIGNATURE = "core_api.record_change(text, text, uuid)"


def upgrade() -> None:
    op.execute(RECORD_CHANGE)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO well_api")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
