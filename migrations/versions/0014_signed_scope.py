"""a scope the API role cannot forge: signed tokens, verified policies, an authorizer role

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22

Until now the scope lived in transaction-local settings that any role may set, and
``set_scope`` believed the kind it was given: SQL running as ``well_api`` could widen its own
scope to every tenant. Here (docs/tenancy.md says why each part):

- A signing key in schema ``well_private``, which only the owner may use: two random 32-byte
  keys, drawn from ``gen_random_uuid()`` (PostgreSQL's strong random source). A MAC is
  ``sha256(outer || sha256(inner || message))``, HMAC's construction with independent keys
  (pgcrypto is not needed).
- ``core_api.authenticate_key`` (now for the authorizer's role ``well_auth`` alone) returns a
  scope token with the key's answer: ``t1.<person pk>.<kind>.<expiry>.<mac>``, valid ten
  minutes (the authorizer keeps an answer at most five).
- ``core_api.set_scope(token, workspace)`` takes the person and the kind from a valid token
  only, resolves the workspace as before, and stores, besides the plain settings the queries
  read, ``well.scope``: the scope bound to this backend and this transaction, signed.
- The policies read the scope through ``core_api.verified_*()``, which check that signature
  (once per statement: every call is an uncorrelated sub-select) and answer NULL, so nothing
  matches, for anything else. A setting set by hand, a scope carried from another
  transaction, an expired or altered token: no rows.
- The group-enrolment policy allows what the API allows: only an owner or admin of the group
  enrols a workspace (where they hold an active membership) or changes an enrolment.
- Every security-definer function here searches ``pg_temp`` last (PostgreSQL otherwise searches
  a session's temporary schema first for relations and types).
- Column privileges: each role reads only the columns its code uses; no application role reads
  ``workspace_connectors.config`` or ``api_keys``; ``well_sync`` no longer runs ``set_scope``.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTH_ROLE = "well_auth"
TOKEN_SECONDS = 600

PRIVATE = f"""
CREATE SCHEMA well_private;
REVOKE ALL ON SCHEMA well_private FROM PUBLIC;
CREATE TABLE well_private.scope_keys (
  id smallint PRIMARY KEY CHECK (id = 1),
  inner_key bytea NOT NULL CHECK (octet_length(inner_key) = 32),
  outer_key bytea NOT NULL CHECK (octet_length(outer_key) = 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION well_private.random_key() RETURNS bytea
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                || uuid_send(gen_random_uuid()))
$fn$;
INSERT INTO well_private.scope_keys (id, inner_key, outer_key)
VALUES (1, well_private.random_key(), well_private.random_key());
CREATE FUNCTION well_private.mac(p_message text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT encode(sha256(k.outer_key || sha256(k.inner_key || convert_to(p_message, 'UTF8'))), 'hex')
    FROM well_private.scope_keys k WHERE k.id = 1
$fn$;
CREATE FUNCTION well_private.scope_token(p_person_pk bigint, p_kind text) RETURNS text
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT b.body || '.' || well_private.mac('token|' || b.body)
    FROM (SELECT 't1.' || p_person_pk || '.' || p_kind || '.'
                 || (floor(extract(epoch FROM clock_timestamp()))::bigint + {TOKEN_SECONDS}) AS body) b
$fn$;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA well_private FROM PUBLIC;
"""

AUTHENTICATE = """
CREATE FUNCTION core_api.authenticate_key(p_prefix text, p_secret_hash bytea)
RETURNS TABLE (api_key_id uuid, secret_hash bytea, person_id uuid, workspace_id uuid, kind text,
               scope_token text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
  UPDATE core_api.api_keys k
     SET last_used_at = now()
    FROM core_api.peoples p, core_api.workspaces w
   WHERE k.prefix = p_prefix
     AND k.secret_hash = p_secret_hash
     AND k.revoked_at IS NULL AND k.deleted_at IS NULL
     AND p.pk = k.person_pk AND p.deleted_at IS NULL
     AND w.pk = k.workspace_pk AND w.deleted_at IS NULL
  RETURNING k.api_key_id, k.secret_hash, p.person_id, w.workspace_id, k.kind::text,
            well_private.scope_token(p.pk, k.kind::text)
$fn$
"""

SET_SCOPE = """
CREATE FUNCTION core_api.set_scope(p_token text, p_workspace_id uuid)
RETURNS TABLE (workspace_pk bigint, person_pk bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
DECLARE
  v_parts text[] := string_to_array(p_token, '.');
  v_kind text;
  v_person bigint;
  v_workspace bigint;
  v_connectors text;
  v_scope text;
BEGIN
  IF cardinality(v_parts) = 5 AND v_parts[1] = 't1'
     AND v_parts[2] ~ '^[0-9]{1,18}$' AND v_parts[3] IN ('member', 'service')
     AND v_parts[4] ~ '^[0-9]{1,12}$'
     AND v_parts[4]::bigint > extract(epoch FROM clock_timestamp())
     AND v_parts[5] = well_private.mac('token|' || array_to_string(v_parts[1:4], '.')) THEN
    v_kind := v_parts[3];
    SELECT p.pk INTO v_person
      FROM core_api.peoples p
     WHERE p.pk = v_parts[2]::bigint AND p.deleted_at IS NULL;
  END IF;
  IF v_person IS NOT NULL AND v_kind = 'service' THEN
    SELECT w.pk INTO v_workspace
      FROM core_api.workspaces w
     WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  ELSIF v_person IS NOT NULL THEN
    SELECT w.pk INTO v_workspace
      FROM core_api.workspaces w
      JOIN core_api.memberships ms ON ms.workspace_pk = w.pk
     WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL
       AND ms.person_pk = v_person AND ms.status = 'active' AND ms.deleted_at IS NULL;
  END IF;
  IF v_workspace IS NOT NULL THEN
    SELECT string_agg(wc.pk::text, ',' ORDER BY wc.pk) INTO v_connectors
      FROM core_api.workspace_connectors wc WHERE wc.workspace_pk = v_workspace;
    -- Bound to this backend and this transaction: a copy is worth nothing anywhere else.
    v_scope := concat_ws('.', pg_backend_pid(),
                         (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint,
                         v_workspace, v_person, v_kind, coalesce(v_connectors, ''));
    v_scope := v_scope || '.' || well_private.mac('scope|' || v_scope);
  END IF;
  -- No workspace, no scope at all: the request is refused (401 or 403) after this statement,
  -- and the statements sharing its transaction must find nothing, not even by person.
  PERFORM set_config('well.scope', coalesce(v_scope, ''), true);
  PERFORM set_config('well.person_pk', CASE WHEN v_workspace IS NULL THEN '' ELSE v_person::text END, true);
  PERFORM set_config('well.workspace_pk', coalesce(v_workspace::text, ''), true);
  PERFORM set_config('well.workspace_connector_pks', coalesce(v_connectors, ''), true);
  PERFORM set_config('well.principal_kind', CASE WHEN v_workspace IS NULL THEN '' ELSE v_kind END, true);
  RETURN QUERY SELECT v_workspace, v_person;
END
$fn$
"""

# Each reader verifies the signed scope itself and answers NULL unless it was signed for this
# backend and this transaction. PL/pgSQL, whose plans are cached for the session, and one call
# per reader: about 7 us, against 15 us for the same in SQL through a shared verifier (every
# policy calls a reader once per statement).
VERIFY = """
CREATE FUNCTION core_api.{name}() RETURNS {returns}
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  k record;
BEGIN
  IF cardinality(s) IS DISTINCT FROM 7
     OR s[1] IS DISTINCT FROM pg_backend_pid()::text
     OR s[2] IS DISTINCT FROM
        ((extract(epoch FROM transaction_timestamp()) * 1000000)::bigint)::text THEN
    RETURN NULL;
  END IF;
  -- well_private.mac, inline: one function call less on every policy's path.
  SELECT inner_key, outer_key INTO k FROM well_private.scope_keys WHERE id = 1;
  IF s[7] IS DISTINCT FROM encode(sha256(k.outer_key || sha256(k.inner_key
        || convert_to('scope|' || array_to_string(s[1:6], '.'), 'UTF8'))), 'hex') THEN
    RETURN NULL;
  END IF;
  RETURN {result};
END
$fn$
"""
# name -> (type, the answer from the verified fields s: pid, transaction, workspace, person,
# kind, connectors, mac).
READERS = {
    "verified_workspace_pk": ("bigint", "NULLIF(s[3], '')::bigint"),
    "verified_person_pk": ("bigint", "NULLIF(s[4], '')::bigint"),
    "verified_principal_kind": ("text", "NULLIF(s[5], '')"),
    "verified_workspace_connector_pks": (
        "bigint[]",
        "string_to_array(NULLIF(s[6], ''), ',')::bigint[]",
    ),
}
# Revision 0007's readers, as the policies spelt them, and their verified replacements.
RENAMED = {
    "core_api.scope_workspace_pk()": "core_api.verified_workspace_pk()",
    "core_api.scope_person_pk()": "core_api.verified_person_pk()",
    "core_api.scope_principal_kind()": "core_api.verified_principal_kind()",
    "core_api.scope_workspace_connector_pks()": "core_api.verified_workspace_connector_pks()",
}

GROUP_ADMIN = (
    "EXISTS (SELECT 1 FROM core_api.workspace_group_memberships gm "
    "WHERE gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk "
    "AND gm.person_pk = (SELECT core_api.verified_person_pk()) "
    "AND gm.role IN ('owner', 'admin') AND gm.deleted_at IS NULL)"
)
SERVICE = "(SELECT core_api.verified_principal_kind()) = 'service'"
ENROLMENT_INSERT = (
    f"({SERVICE} OR ({GROUP_ADMIN} AND EXISTS (SELECT 1 FROM core_api.memberships m "
    "WHERE m.workspace_pk = workspace_group_workspaces.workspace_pk "
    "AND m.person_pk = (SELECT core_api.verified_person_pk()) AND m.status = 'active' "
    "AND m.deleted_at IS NULL)))"
)
ENROLMENT_UPDATE = f"({SERVICE} OR {GROUP_ADMIN})"

# The columns each role may read: what its code (and the policies it runs) uses. The API reads
# every column of the five junctions, and of each parent what its documents show and what the
# scope rules compare; the sync writer what it validates; the authorizer nothing.
API_COLUMNS = {
    "account_workspace_connectors": "*",
    "company_workspace_connectors": "*",
    "people_workspace_connectors": "*",
    "workspace_group_workspaces": "*",
    "workspace_providers": "*",
    "accounts": "pk, account_id, workspace_pk, type, account_name, deleted_at",
    "companies": "pk, company_id, workspace_pk, name, domain, deleted_at",
    "peoples": "pk, person_id, workspace_pk, first_name, last_name, full_name, deleted_at",
    "workspace_connectors": "pk, workspace_connector_id, workspace_pk, status, deleted_at",
    "workspaces": "pk, workspace_id, name, deleted_at",
    "workspace_groups": "pk, workspace_group_id, name, deleted_at",
    "workspace_group_memberships": "workspace_group_pk, person_pk, role, deleted_at",
    "memberships": "workspace_pk, person_pk, status, deleted_at",
    "providers": (
        "pk, provider_id, name, slug, url, category, popularity_score, created_at, updated_at, "
        "deleted_at"
    ),
}
SYNC_COLUMNS = {
    "account_workspace_connectors": "*",
    "company_workspace_connectors": "*",
    "people_workspace_connectors": "*",
    "sync_receipts": "*",
    "accounts": "pk, account_id, workspace_pk, deleted_at",
    "companies": "pk, company_id, workspace_pk, deleted_at",
    "peoples": "pk, person_id, workspace_pk, deleted_at",
    "workspace_connectors": "pk, workspace_connector_id, workspace_pk, deleted_at",
}


# Executable by PUBLIC until this revision.
PLAIN_READERS = (
    "core_api.scope_workspace_pk()",
    "core_api.scope_person_pk()",
    "core_api.scope_principal_kind()",
)
TRIGGERS = (
    "core_api.touch_row()",
    "core_api.provenance_parents_agree()",
    "core_api.linked_parent_stays_in_its_workspace()",
)


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Revision 0007's ledger read rule, verified, with the member's test first: OR stops at the
# first true arm, and an InitPlan runs only when first needed, so a member's statement never
# verifies the kind for rows its connectors already admit.
LEDGER_READ = (
    "(workspace_connector_pk = ANY ((SELECT core_api.verified_workspace_connector_pks())"
    "::bigint[]) OR (SELECT core_api.verified_principal_kind()) = 'service')"
)


def _verified(rule: str) -> str:
    for old, new in RENAMED.items():
        rule = rule.replace(old, new)
    return rule


def _policies(r7: Any, rename: Any) -> dict[str, tuple[str, str]]:
    policies = {table: (rename(rule), rename(rule)) for table, rule in r7.API_POLICIES.items()}
    read = LEDGER_READ if rename is _verified else r7.LEDGER_READ
    for ledger, (_, column) in r7.LEDGERS.items():
        policies[ledger] = (read, rename(r7._ledger_write(ledger, column)))
    return policies


# Revision 0004's write check of a new ledger row, on the verified scope, verified once.
LINK_IN_SCOPE = """
CREATE OR REPLACE FUNCTION core_api.{table}_in_scope(p_record_pk bigint, p_workspace_connector_pk bigint)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
  SELECT EXISTS (SELECT 1 FROM core_api.{record_table} r
                  WHERE r.pk = p_record_pk AND r.workspace_pk = s.workspace_pk)
     AND EXISTS (SELECT 1 FROM core_api.workspace_connectors wc
                  WHERE wc.pk = p_workspace_connector_pk AND wc.workspace_pk = s.workspace_pk)
    FROM (SELECT core_api.verified_workspace_pk() AS workspace_pk) s
$fn$
"""


def _link_in_scope(r4: Any, verified: bool) -> None:
    for table, record_table in r4.PROVENANCE_RECORDS.items():
        body = (LINK_IN_SCOPE if verified else r4.LINK_IN_SCOPE).format(
            table=table, record_table=record_table
        )
        op.execute(body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def _grant_columns(role: str, columns: dict[str, str]) -> None:
    op.execute(f"REVOKE SELECT ON ALL TABLES IN SCHEMA core_api FROM {role}")
    for table, names in columns.items():
        listed = "" if names == "*" else f" ({names})"
        op.execute(f"GRANT SELECT{listed} ON core_api.{table} TO {role}")


def upgrade() -> None:
    # Created as revision 0002 creates the other application roles, with rds_iam on RDS.
    r2 = _revision("0002_application_roles_and_grants.py")
    r2._create_role(AUTH_ROLE)
    r2._set_timeouts(AUTH_ROLE, {"statement_timeout": "2s"})
    op.execute(PRIVATE)
    op.execute("DROP FUNCTION core_api.authenticate_key(text, bytea)")
    op.execute(AUTHENTICATE)
    op.execute("REVOKE ALL ON FUNCTION core_api.authenticate_key(text, bytea) FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA core_api TO {AUTH_ROLE}")
    op.execute(f"GRANT EXECUTE ON FUNCTION core_api.authenticate_key(text, bytea) TO {AUTH_ROLE}")

    op.execute("DROP FUNCTION core_api.set_scope(uuid, uuid, text)")
    op.execute(SET_SCOPE)
    op.execute("REVOKE ALL ON FUNCTION core_api.set_scope(text, uuid) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.set_scope(text, uuid) TO well_api")

    for name, (returns, result) in READERS.items():
        op.execute(VERIFY.format(name=name, returns=returns, result=result))
        op.execute(f"REVOKE ALL ON FUNCTION core_api.{name}() FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION core_api.{name}() TO well_api")

    r4 = _revision("0004_api_keys_and_row_level_security.py")
    r7 = _revision("0007_row_level_security_once_per_statement.py")
    _link_in_scope(r4, verified=True)
    r7._create_api_policies(_policies(r7, _verified))
    r7._insert_restrictions({"workspace_group_workspaces": ENROLMENT_INSERT})
    op.execute(
        "CREATE POLICY workspace_group_workspaces_api_update ON core_api.workspace_group_workspaces "
        f"AS RESTRICTIVE FOR UPDATE TO well_api USING {ENROLMENT_UPDATE} "
        f"WITH CHECK {ENROLMENT_UPDATE}"
    )

    _grant_columns("well_api", API_COLUMNS)
    _grant_columns("well_sync", SYNC_COLUMNS)
    # Functions are executable by PUBLIC unless revoked: each role gets what it calls.
    op.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA core_api FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {', '.join(PLAIN_READERS)} TO well_api")
    op.execute(f"GRANT EXECUTE ON FUNCTION {', '.join(TRIGGERS)} TO well_api, well_sync")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.uuid_v7() TO well_api, well_sync")


def downgrade() -> None:
    r4 = _revision("0004_api_keys_and_row_level_security.py")
    r7 = _revision("0007_row_level_security_once_per_statement.py")
    for role in ("well_api", "well_sync"):
        op.execute(f"REVOKE SELECT ON ALL TABLES IN SCHEMA core_api FROM {role}")
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA core_api TO {role}")
        op.execute(f"REVOKE ALL ON core_api.alembic_version FROM {role}")
    op.execute("REVOKE ALL ON core_api.api_keys FROM well_api, well_sync")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION {', '.join((*PLAIN_READERS, *TRIGGERS))}, "
        "core_api.uuid_v7() TO PUBLIC"
    )

    op.execute(
        "DROP POLICY workspace_group_workspaces_api_update ON core_api.workspace_group_workspaces"
    )
    r7._insert_restrictions(r7.API_INSERT_RESTRICTIONS)
    r7._create_api_policies(_policies(r7, lambda rule: rule))
    _link_in_scope(r4, verified=False)
    for name in READERS:
        op.execute(f"DROP FUNCTION core_api.{name}()")

    op.execute("DROP FUNCTION core_api.set_scope(text, uuid)")
    op.execute(r7.SET_SCOPE.replace("CREATE OR REPLACE FUNCTION", "CREATE FUNCTION", 1))
    op.execute("REVOKE ALL ON FUNCTION core_api.set_scope(uuid, uuid, text) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION core_api.set_scope(uuid, uuid, text) TO well_api, well_sync"
    )

    op.execute("DROP FUNCTION core_api.authenticate_key(text, bytea)")
    op.execute(r4.AUTHENTICATE)
    op.execute("REVOKE ALL ON FUNCTION core_api.authenticate_key(text, bytea) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.authenticate_key(text, bytea) TO well_api")
    op.execute("DROP SCHEMA well_private CASCADE")
    # The role is cluster-wide and may serve another database: kept, like 0002's.
    op.execute(f"REVOKE ALL ON SCHEMA core_api FROM {AUTH_ROLE}")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {AUTH_ROLE} IN DATABASE %I RESET ALL', "
        "current_database()); END $$"
    )
