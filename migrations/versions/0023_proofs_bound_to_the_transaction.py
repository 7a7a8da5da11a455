"""a read writes nothing: proofs bound to the request's own transaction, no spent nonces

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-24

Revision 0016 made every message spend a single-use proof in a transaction of its own (an
insert into ``well_private.spent_proofs``, committed) before its statements ran. It kept every
credential out of the text PostgreSQL keeps and shows, but every request, a read included,
wrote and committed a row: reads made WAL, the writer bounded the read rate, and no read could
run on a hot standby, which refuses writes. Here the proof is made fresh instead of spent once
(``docs/tenancy.md`` says why each part):

- **The database names the moment.** A request opens its transaction and asks for
  ``core_api.proof_context()``: this backend's pid and this transaction's start, in
  microseconds. No two transactions share both, on one server or on its standbys.
- **The proof is bound to it.** The caller answers, in the same transaction, with
  ``CALL core_api.prove_scope('p1.<person>.<kind>.<expiry>.<mac>')`` (or ``prove_key``
  with ``k2.<key prefix>.<mac>``): the MAC is ``well_private.proof_mac`` keyed by the token's
  own MAC (or the stored hash of the key's secret), which the caller holds and nobody sends,
  over the token's public body (or the prefix) and that context. The procedure only keeps the
  proof in the transaction-local setting ``well.proof``.
- **``set_scope`` and ``authenticate_key`` verify it there.** They recompute the MAC with this
  backend's and this transaction's context: a proof copied from any text the database keeps or
  shows belongs to a transaction that is over or running elsewhere, and opens nothing. Nothing
  is written for it, so a read runs as well on a hot standby, and a read-only transaction is
  enough.

Expand only (docs/deploy.md): the previous release's functions still open their messages with
revision 0016's spent proofs while this release is rolled out, so ``spend_*_proof``,
``well_private.spent_proofs`` and the fallback below (used only when no proof of this revision
was given in the transaction) stay until a revision of a later release drops them.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTH_ROLE = "well_auth"
# The authorizer's key check now spans two messages of one transaction: a function that dies
# between them must not hold a backend (through RDS Proxy, a connection) for long.
AUTH_TIMEOUTS = {"idle_in_transaction_session_timeout": "5s"}

# This backend and this transaction: what a proof is bound to. Written once here, asked by
# the caller through proof_context() and recomputed inline by the verifiers.
CONTEXT_SQL = (
    "pg_backend_pid()::text || '.' "
    "|| ((extract(epoch FROM transaction_timestamp()) * 1000000)::bigint)::text"
)

CONTEXT = f"""
CREATE FUNCTION core_api.proof_context() RETURNS text
LANGUAGE sql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT {CONTEXT_SQL}
$fn$;
"""

PROVE = """
CREATE PROCEDURE core_api.{name}(p_proof text)
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $fn$
  -- Kept for this transaction only; believed by nobody until a verifier recomputes its MAC.
  SELECT set_config('well.proof', p_proof, true)
$fn$;
"""

# The person and the kind a proof of this revision names, once its MAC holds for this
# transaction; otherwise revision 0016's spent proof of this message (the previous release).
# The MACs are computed inline (well_private.mac, proof_mac and proof_context, each a function
# call with its own search_path less): the check costs every request about 10 us, not 25.
PROVEN_PERSON = f"""
  v_proof := string_to_array(current_setting('well.proof', true), '.');
  IF cardinality(v_proof) = 5 AND v_proof[1] = 'p1'
     AND v_proof[2] ~ '^[0-9]{{1,18}}$' AND v_proof[3] IN ('member', 'service')
     AND v_proof[4] ~ '^[0-9]{{1,12}}$'
     AND v_proof[4]::bigint > extract(epoch FROM clock_timestamp()) THEN
    v_body := 't1.' || array_to_string(v_proof[2:4], '.');
    SELECT k.inner_key, k.outer_key INTO v_keys FROM well_private.scope_keys k WHERE k.id = 1;
    -- The token's MAC is the key of its proofs: the database recomputes it, nobody sends it.
    v_key := sha256(v_keys.outer_key
                    || sha256(v_keys.inner_key || convert_to('token|' || v_body, 'UTF8')));
    IF v_proof[5] = encode(sha256(v_key || sha256(v_key || convert_to(
         'scope|' || v_body || '|' || {CONTEXT_SQL}, 'UTF8'))), 'hex') THEN
      v_kind := v_proof[3];
      SELECT p.pk INTO v_person
        FROM core_api.peoples p
       WHERE p.pk = v_proof[2]::bigint AND p.deleted_at IS NULL;
    END IF;
  ELSIF coalesce(current_setting('well.proof', true), '') = '' THEN
    SELECT p.pk, s.kind INTO v_person, v_kind
      FROM well_private.spent_proofs s
      JOIN core_api.peoples p ON p.pk = s.person_pk AND p.deleted_at IS NULL
     WHERE s.backend_pid = pg_backend_pid() AND s.message_at = statement_timestamp()
       AND s.expires_at > clock_timestamp() AND s.person_pk IS NOT NULL;
  END IF;
"""

AUTHENTICATE = """
CREATE OR REPLACE FUNCTION core_api.authenticate_key()
RETURNS TABLE (api_key_id uuid, person_id uuid, workspace_id uuid, kind text, scope_token text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
  WITH proof AS (
    SELECT string_to_array(coalesce(current_setting('well.proof', true), ''), '.') AS v
  ), proven AS (
    -- A key proof of this revision: k2 . key prefix . mac over the prefix and this transaction.
    SELECT k.pk
      FROM proof, core_api.api_keys k
     WHERE cardinality(proof.v) = 3 AND proof.v[1] = 'k2' AND proof.v[2] ~ '^[a-z2-7]{12}$'
       AND k.prefix = proof.v[2]
       AND proof.v[3] = well_private.proof_mac(
             k.secret_hash, 'key|' || proof.v[2] || '|' || core_api.proof_context())
    UNION ALL
    -- Revision 0016's spent proof of this message, for the previous release's authorizer.
    SELECT s.api_key_pk
      FROM proof, well_private.spent_proofs s
     WHERE proof.v = '{}'::text[]
       AND s.backend_pid = pg_backend_pid() AND s.message_at = statement_timestamp()
       AND s.expires_at > clock_timestamp() AND s.api_key_pk IS NOT NULL
  )
  UPDATE core_api.api_keys k
     SET last_used_at = now()
    FROM proven, core_api.peoples p, core_api.workspaces w
   WHERE k.pk = proven.pk
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
    """Revision 0014's set_scope, taking the person and the kind from the transaction's proof."""
    body: str = r14.SET_SCOPE
    start = body.index("  IF cardinality(v_parts) = 5")
    end = body.index("  IF v_person IS NOT NULL AND v_kind = 'service' THEN")
    body = body[:start] + PROVEN_PERSON + body[end:]
    body = body.replace(
        "CREATE FUNCTION core_api.set_scope(p_token text, p_workspace_id uuid)",
        "CREATE OR REPLACE FUNCTION core_api.set_scope(p_workspace_id uuid)",
    )
    return body.replace(
        "  v_parts text[] := string_to_array(p_token, '.');\n",
        "  v_proof text[];\n  v_body text;\n  v_keys record;\n  v_key bytea;\n",
    )


def upgrade() -> None:
    r2 = _revision("0002_application_roles_and_grants.py")
    r14 = _revision("0014_signed_scope.py")
    op.execute(CONTEXT)
    op.execute("REVOKE ALL ON FUNCTION core_api.proof_context() FROM PUBLIC")
    for name, role in (("prove_scope", "well_api"), ("prove_key", AUTH_ROLE)):
        op.execute(PROVE.format(name=name))
        op.execute(f"REVOKE ALL ON PROCEDURE core_api.{name}(text) FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON PROCEDURE core_api.{name}(text) TO {role}")
        op.execute(f"GRANT EXECUTE ON FUNCTION core_api.proof_context() TO {role}")
    op.execute(_set_scope(r14))
    op.execute(AUTHENTICATE)
    r2._set_timeouts(AUTH_ROLE, AUTH_TIMEOUTS)


def downgrade() -> None:
    r16 = _revision("0016_single_use_proofs.py")
    r14 = _revision("0014_signed_scope.py")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {AUTH_ROLE} IN DATABASE %I RESET "
        "idle_in_transaction_session_timeout', current_database()); END $$"
    )
    op.execute(r16.AUTHENTICATE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute(
        r16._set_scope(r14).replace(
            "CREATE FUNCTION core_api.set_scope(p_workspace_id uuid)",
            "CREATE OR REPLACE FUNCTION core_api.set_scope(p_workspace_id uuid)",
        )
    )
    op.execute("DROP PROCEDURE core_api.prove_scope(text), core_api.prove_key(text)")
    op.execute("DROP FUNCTION core_api.proof_context()")
