"""retry-safe creates: the answers of POSTs sent with an Idempotency-Key, kept 24 hours

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24

A create, select or enrol sent with an ``Idempotency-Key`` header runs in its one round trip
(``wellapi.operations.idempotency``; docs/design.md, "Retry-safe creates"):

    scope; SELECT core_api.claim_idempotency_key(key, fingerprint); the write;
    SELECT core_api.remember_idempotent_answer(key, table, the re-read's rows)

- ``well_private.idempotency_keys`` holds one row per (person, principal kind, key): the
  principal is the one the request's own verified scope names (revision 0014), never a value the
  API sends, so keys of different principals never collide and no principal reads another's
  answer. The API role has no privilege on the table, only these two functions.
- ``claim_idempotency_key`` inserts the key (``ON CONFLICT DO NOTHING``: a concurrent request
  with the same key waits on the first's uncommitted row, then finds it). Found with another
  fingerprint, it raises ``WI422`` (422 ``IDEMPOTENCY_KEY_REUSED``) and the transaction writes
  nothing. Found with the same one, it answers the stored status and rows and empties the
  transaction's scope (``well.scope``), so the write that follows in the script sees no
  workspace and writes nothing, and the re-read reads nothing: a replay never writes.
- ``remember_idempotent_answer`` stores the answer of a claim made by this transaction, but only
  when the write wrote: the re-read finds the row under the id the request minted (an insert,
  201), or the transaction updated the resource's table (a select's upsert of the live row,
  200: ``pg_stat_get_xact_tuples_updated``). A request the rules refused leaves no answer
  behind and frees its key, so a corrected retry is applied. The rows are the re-read's, each value as its type
  and the text PostgreSQL sends for it, which the API decodes as the driver does: a replay's
  body is rebuilt byte for byte.
- Kept 24 hours (``KEYS_KEPT``) from the first request. Each claim deletes up to two expired
  keys, oldest first, while no concurrent claim does (a transaction-level advisory lock, as
  the sync writer prunes its receipts), and a principal's own expired key is taken afresh.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How long an answer is remembered (docs/api.md says it to clients).
KEYS_KEPT = "24 hours"
# Expired keys one claim deletes: more than the one it adds, so the table stops growing.
PRUNED_PER_CLAIM = 2
# The advisory lock of the pruning: (class, hashtext(what)), the sync writer's class
# (wellapi.sync.batches.LOCK_CLASS) with a name of its own.
LOCK = "1515870810, hashtext('well_private.idempotency_keys prune')"
# The SQLSTATE of a key sent again with another request.
REUSED_SQLSTATE = "WI422"

TABLE = """
CREATE TABLE well_private.idempotency_keys (
  person_pk bigint NOT NULL,
  principal_kind text NOT NULL,
  idempotency_key text NOT NULL,
  fingerprint text NOT NULL,
  status smallint,
  rows jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (person_pk, principal_kind, idempotency_key),
  CONSTRAINT idempotency_keys_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  CONSTRAINT idempotency_keys_answered CHECK ((status IS NULL) = (rows IS NULL))
);
CREATE INDEX idempotency_keys_created_at ON well_private.idempotency_keys (created_at);
"""

# Both functions run as their owner, for the principal the transaction's verified scope names.
PRINCIPAL = """LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_person bigint := core_api.verified_person_pk();
  v_kind text := core_api.verified_principal_kind();
"""

CLAIM = f"""
CREATE FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text)
RETURNS TABLE (replayed boolean, answer_status integer, answer_rows jsonb)
{PRINCIPAL}  v_found record;
BEGIN
  IF v_person IS NULL OR v_kind IS NULL THEN
    -- No scope: the write that follows refuses the request (check_scope), nothing to keep.
    RETURN QUERY SELECT false, NULL::integer, NULL::jsonb;
    RETURN;
  END IF;
  DELETE FROM well_private.idempotency_keys
   WHERE (SELECT pg_try_advisory_xact_lock({LOCK}))
     AND (person_pk, principal_kind, idempotency_key) IN (
       SELECT person_pk, principal_kind, idempotency_key FROM well_private.idempotency_keys
        WHERE created_at < now() - interval '{KEYS_KEPT}'
        ORDER BY created_at LIMIT {PRUNED_PER_CLAIM});
  DELETE FROM well_private.idempotency_keys
   WHERE person_pk = v_person AND principal_kind = v_kind AND idempotency_key = p_key
     AND created_at < now() - interval '{KEYS_KEPT}';
  INSERT INTO well_private.idempotency_keys (person_pk, principal_kind, idempotency_key,
                                             fingerprint)
  VALUES (v_person, v_kind, p_key, p_fingerprint)
  ON CONFLICT DO NOTHING;
  IF FOUND THEN
    RETURN QUERY SELECT false, NULL::integer, NULL::jsonb;
    RETURN;
  END IF;
  -- A new statement, a new snapshot: the row a concurrent request committed while we waited.
  SELECT k.fingerprint, k.status, k.rows INTO v_found FROM well_private.idempotency_keys k
   WHERE k.person_pk = v_person AND k.principal_kind = v_kind AND k.idempotency_key = p_key;
  IF NOT FOUND OR v_found.status IS NULL THEN
    -- Pruned or released between the conflict and this read: the client may simply retry.
    RAISE EXCEPTION 'the idempotency key changed hands; retry'
      USING ERRCODE = 'serialization_failure';
  END IF;
  IF v_found.fingerprint IS DISTINCT FROM p_fingerprint THEN
    RAISE EXCEPTION 'the idempotency key was sent with another request'
      USING ERRCODE = '{REUSED_SQLSTATE}';
  END IF;
  -- The statements after this one in the request's script act in no workspace: no write.
  PERFORM set_config('well.scope', '', true);
  RETURN QUERY SELECT true, v_found.status::integer, v_found.rows;
END
$fn$
"""

REMEMBER = f"""
CREATE FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb)
RETURNS TABLE (answer_status integer, answer_rows jsonb)
{PRINCIPAL}  v_status integer;
BEGIN
  -- What the write did: the re-read found the row under the id this request minted, it
  -- inserted it (201); else it updated the live row (a select's upsert, 200); else nothing.
  v_status := CASE
    WHEN (p_read ->> 'created')::boolean THEN 201
    WHEN pg_stat_get_xact_tuples_updated(p_table) > 0 THEN 200 END;
  IF v_person IS NULL OR v_kind IS NULL THEN
    -- No scope (a replay emptied it, or there was none): nothing of this transaction's.
    RETURN QUERY SELECT v_status, p_read -> 'rows';
    RETURN;
  END IF;
  IF v_status IS NULL THEN
    -- Refused: no answer kept, and the key is free again.
    DELETE FROM well_private.idempotency_keys
     WHERE person_pk = v_person AND principal_kind = v_kind AND idempotency_key = p_key
       AND status IS NULL;
  ELSE
    UPDATE well_private.idempotency_keys SET status = v_status, rows = p_read -> 'rows'
     WHERE person_pk = v_person AND principal_kind = v_kind AND idempotency_key = p_key
       AND status IS NULL;
  END IF;
  RETURN QUERY SELECT v_status, p_read -> 'rows';
END
$fn$
"""

FUNCTIONS = (
    "core_api.claim_idempotency_key(text, text)",
    "core_api.remember_idempotent_answer(text, regclass, jsonb)",
)


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(CLAIM)
    op.execute(REMEMBER)
    for function in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO well_api")


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP TABLE well_private.idempotency_keys")
