"""no credential in SQL text: each request spends a single-use proof bound to its own text

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24

Until now the API sent its scope token, and the authorizer the SHA-256 of the key's secret, as
literals in the SQL text, and PostgreSQL shows a role the text of its own sessions
(``pg_stat_activity``, and the last query of an idle backend), logs it (``log_statement``,
``log_min_error_statement``, ``auto_explain``): SQL running as ``well_api`` could harvest a
service token and open every workspace. Here (``docs/tenancy.md`` says why each part):

- The credential never travels. The caller sends a *proof*: the token's public body (or the
  key's prefix), a random nonce and a MAC, keyed by the token's own MAC (or the key's stored
  hash), over the nonce and the SHA-256 of the rest of the message. Every message opens with
  ``BEGIN;CALL core_api.spend_<kind>_proof('<proof>');COMMIT;``: the procedure checks that
  the message really starts so, that the MAC covers exactly the text after it, and records the
  nonce in ``well_private.spent_proofs`` with the backend and the message's receipt time
  (``statement_timestamp()``, the same for every statement of one simple query). That
  transaction commits before the request's own statements run, so a request that fails
  afterwards has still spent its proof.
- ``core_api.set_scope(workspace)`` and ``core_api.authenticate_key()`` take no credential:
  they take the person and kind (or the key) from the proof this very message spent on this
  backend, and from nothing else.
- Whatever text the database keeps or shows therefore holds only spent proofs: a replay of the
  same text fails at its first statement (the nonce is spent), and any other text fails the
  MAC. A proof's life is its token's (ten minutes) or, for a key, five minutes either side of
  the time it names; spent nonces are kept that long and pruned by the spenders themselves.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How far a key proof's own time may be from the database's clock (the authorizer's clock and
# RDS's are both synchronised to Amazon's time service, well within this).
KEY_PROOF_SKEW_SECONDS = 300
# One spend in this many also deletes the expired nonces: a short statement, often enough that
# the table stays the size of the last few minutes' traffic.
PRUNE_ONE_IN = 1000

SPENT = """
CREATE TABLE well_private.spent_proofs (
  nonce uuid PRIMARY KEY,
  backend_pid integer NOT NULL,
  message_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  person_pk bigint,
  kind text,
  api_key_pk bigint,
  CONSTRAINT spent_proofs_scope_or_key CHECK ((person_pk IS NULL) <> (api_key_pk IS NULL))
);
CREATE INDEX spent_proofs_message ON well_private.spent_proofs (backend_pid, message_at);
CREATE INDEX spent_proofs_expires_at ON well_private.spent_proofs (expires_at);
"""

# The MAC of a proof: sha256(k || sha256(k || message)), keyed by a 32-byte secret the caller
# holds and never sends (the outer hash takes a fixed-length input: no length extension).
PROOF_MAC = """
CREATE FUNCTION well_private.proof_mac(p_key bytea, p_message text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT encode(sha256(p_key || sha256(p_key || convert_to(p_message, 'UTF8'))), 'hex')
$fn$;
CREATE FUNCTION well_private.message_rest(p_opening text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
  -- The text this message sends after its opening statement, or NULL if it does not open so.
  SELECT CASE WHEN left(current_query(), length(p_opening)) = p_opening
              THEN substr(current_query(), length(p_opening) + 1) END
$fn$;
CREATE FUNCTION well_private.text_digest(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT encode(sha256(convert_to(p_text, 'UTF8')), 'hex')
$fn$;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA well_private FROM PUBLIC;
"""

# What every spend does after its own checks: keep the nonce (once), commit without waiting
# for the disk (a crash forgets at most the last moment's spends), and now and then prune.
SPEND_TAIL = f"""
  PERFORM set_config('synchronous_commit', 'off', true);
  IF random() < {1 / PRUNE_ONE_IN} THEN
    DELETE FROM well_private.spent_proofs WHERE expires_at < clock_timestamp();
  END IF;
"""

SPEND_SCOPE = f"""
CREATE PROCEDURE core_api.spend_scope_proof(p_proof text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
DECLARE
  -- t1 . person . kind . expiry . nonce . mac
  v text[] := string_to_array(p_proof, '.');
  v_body text;
  v_rest text;
BEGIN
  IF cardinality(v) = 6 AND v[1] = 't1'
     AND v[2] ~ '^[0-9]{{1,18}}$' AND v[3] IN ('member', 'service')
     AND v[4] ~ '^[0-9]{{1,12}}$' AND v[4]::bigint > extract(epoch FROM clock_timestamp())
     AND v[5] ~ '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$'
     AND v[6] ~ '^[0-9a-f]{{64}}$' THEN
    v_body := array_to_string(v[1:4], '.');
    v_rest := well_private.message_rest(
      'BEGIN;CALL core_api.spend_scope_proof(' || quote_literal(p_proof) || ');COMMIT;');
    -- The token's MAC is the key of its proofs: the database recomputes it, nobody sends it.
    IF v_rest IS NOT NULL AND v[6] = well_private.proof_mac(
         decode(well_private.mac('token|' || v_body), 'hex'),
         'proof|' || v_body || '|' || v[5] || '|' || well_private.text_digest(v_rest)) THEN
      INSERT INTO well_private.spent_proofs
             (nonce, backend_pid, message_at, expires_at, person_pk, kind)
      VALUES (v[5]::uuid, pg_backend_pid(), statement_timestamp(), to_timestamp(v[4]::bigint),
              v[2]::bigint, v[3])
      ON CONFLICT (nonce) DO NOTHING;
    END IF;
  END IF;
{SPEND_TAIL}
END
$fn$
"""

SPEND_KEY = f"""
CREATE PROCEDURE core_api.spend_key_proof(p_proof text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
DECLARE
  -- k1 . key prefix . issued (epoch seconds) . nonce . mac
  v text[] := string_to_array(p_proof, '.');
  v_rest text;
  v_key record;
BEGIN
  IF cardinality(v) = 5 AND v[1] = 'k1' AND v[2] ~ '^[a-z2-7]{{12}}$'
     AND v[3] ~ '^[0-9]{{1,12}}$'
     AND abs(v[3]::bigint - extract(epoch FROM clock_timestamp())) <= {KEY_PROOF_SKEW_SECONDS}
     AND v[4] ~ '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$'
     AND v[5] ~ '^[0-9a-f]{{64}}$' THEN
    v_rest := well_private.message_rest(
      'BEGIN;CALL core_api.spend_key_proof(' || quote_literal(p_proof) || ');COMMIT;');
    SELECT k.pk, k.secret_hash INTO v_key
      FROM core_api.api_keys k
     WHERE k.prefix = v[2] AND k.revoked_at IS NULL AND k.deleted_at IS NULL;
    -- The stored hash of the key's secret is the key of its proofs.
    IF v_rest IS NOT NULL AND v_key.pk IS NOT NULL AND v[5] = well_private.proof_mac(
         v_key.secret_hash,
         'key|' || v[2] || '|' || v[3] || '|' || v[4] || '|' || well_private.text_digest(v_rest)) THEN
      INSERT INTO well_private.spent_proofs
             (nonce, backend_pid, message_at, expires_at, api_key_pk)
      VALUES (v[4]::uuid, pg_backend_pid(), statement_timestamp(),
              to_timestamp(v[3]::bigint + {KEY_PROOF_SKEW_SECONDS}), v_key.pk)
      ON CONFLICT (nonce) DO NOTHING;
    END IF;
  END IF;
{SPEND_TAIL}
END
$fn$
"""

# The proof this message spent on this backend: a later message, or another backend, never
# finds it.
SPENT_HERE = (
    "s.backend_pid = pg_backend_pid() AND s.message_at = statement_timestamp() "
    "AND s.expires_at > clock_timestamp()"
)

AUTHENTICATE = f"""
CREATE FUNCTION core_api.authenticate_key()
RETURNS TABLE (api_key_id uuid, person_id uuid, workspace_id uuid, kind text, scope_token text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
  UPDATE core_api.api_keys k
     SET last_used_at = now()
    FROM well_private.spent_proofs s, core_api.peoples p, core_api.workspaces w
   WHERE {SPENT_HERE} AND s.api_key_pk IS NOT NULL
     AND k.pk = s.api_key_pk
     AND k.revoked_at IS NULL AND k.deleted_at IS NULL
     AND p.pk = k.person_pk AND p.deleted_at IS NULL
     AND w.pk = k.workspace_pk AND w.deleted_at IS NULL
  RETURNING k.api_key_id, p.person_id, w.workspace_id, k.kind::text,
            well_private.scope_token(p.pk, k.kind::text)
$fn$
"""


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_scope(r14: Any) -> str:
    """Revision 0014's set_scope, taking the person and the kind from the spent proof."""
    body: str = r14.SET_SCOPE
    start = body.index("  IF cardinality(v_parts) = 5")
    end = body.index("  IF v_person IS NOT NULL AND v_kind = 'service' THEN")
    spent = (
        "  SELECT p.pk, s.kind INTO v_person, v_kind\n"
        "    FROM well_private.spent_proofs s\n"
        "    JOIN core_api.peoples p ON p.pk = s.person_pk AND p.deleted_at IS NULL\n"
        f"   WHERE {SPENT_HERE} AND s.person_pk IS NOT NULL;\n"
    )
    body = body[:start] + spent + body[end:]
    body = body.replace(
        "core_api.set_scope(p_token text, p_workspace_id uuid)",
        "core_api.set_scope(p_workspace_id uuid)",
    )
    return body.replace("  v_parts text[] := string_to_array(p_token, '.');\n", "")


def upgrade() -> None:
    r14 = _revision("0014_signed_scope.py")
    op.execute(SPENT)
    op.execute(PROOF_MAC)

    op.execute(SPEND_SCOPE)
    op.execute("DROP FUNCTION core_api.set_scope(text, uuid)")
    op.execute(_set_scope(r14))
    op.execute("REVOKE ALL ON PROCEDURE core_api.spend_scope_proof(text) FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION core_api.set_scope(uuid) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON PROCEDURE core_api.spend_scope_proof(text) TO well_api")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.set_scope(uuid) TO well_api")

    op.execute(SPEND_KEY)
    op.execute("DROP FUNCTION core_api.authenticate_key(text, bytea)")
    op.execute(AUTHENTICATE)
    op.execute("REVOKE ALL ON PROCEDURE core_api.spend_key_proof(text) FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION core_api.authenticate_key() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON PROCEDURE core_api.spend_key_proof(text) TO {r14.AUTH_ROLE}")
    op.execute(f"GRANT EXECUTE ON FUNCTION core_api.authenticate_key() TO {r14.AUTH_ROLE}")


def downgrade() -> None:
    r14 = _revision("0014_signed_scope.py")
    op.execute("DROP FUNCTION core_api.authenticate_key()")
    op.execute("DROP PROCEDURE core_api.spend_key_proof(text)")
    op.execute(r14.AUTHENTICATE)
    op.execute("REVOKE ALL ON FUNCTION core_api.authenticate_key(text, bytea) FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION core_api.authenticate_key(text, bytea) TO {r14.AUTH_ROLE}"
    )

    op.execute("DROP FUNCTION core_api.set_scope(uuid)")
    op.execute("DROP PROCEDURE core_api.spend_scope_proof(text)")
    op.execute(r14.SET_SCOPE)
    op.execute("REVOKE ALL ON FUNCTION core_api.set_scope(text, uuid) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.set_scope(text, uuid) TO well_api")

    op.execute(
        "DROP FUNCTION well_private.proof_mac(bytea, text), well_private.message_rest(text), "
        "well_private.text_digest(text)"
    )
    op.execute("DROP TABLE well_private.spent_proofs")
