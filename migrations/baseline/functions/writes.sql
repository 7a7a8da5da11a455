-- Functions: the rules every write keeps, whoever writes (the API, the sync writer, SQL run as
-- either role): ids, kept answers of retried creates, parents that agree, times that move on.

CREATE FUNCTION core_api.check_client_id(p_table regclass, p_id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  -- Only a junction's: of any other table (a parent), it says nothing.
  v_column text := well_private.junction_id_column(p_table);
  v_used boolean;
BEGIN
  IF v_column IS NULL THEN
    RAISE EXCEPTION 'no public id in %', p_table USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF core_api.verified_person_pk() IS NULL OR core_api.verified_workspace_pk() IS NULL THEN
    -- No scope: a replay (nothing written now) or a request the scope check refuses (its
    -- 403 or 404 comes first, and says nothing of the id).
    RETURN true;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1 AND xmin IS DISTINCT FROM $2)',
                 p_table, v_column)
     INTO v_used USING p_id, pg_current_xact_id_if_assigned()::xid;
  IF v_used THEN
    RAISE EXCEPTION 'the id is already used' USING ERRCODE = 'WI409';
  END IF;
  RETURN true;
END
$_$;

CREATE FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text) RETURNS TABLE(replayed boolean, answer_status integer, answer_rows jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_person bigint := core_api.verified_person_pk();
  v_kind text := core_api.verified_principal_kind();
  v_found record;
BEGIN
  IF v_person IS NULL OR v_kind IS NULL THEN
    -- No scope: the write that follows refuses the request (check_scope), nothing to keep.
    RETURN QUERY SELECT false, NULL::integer, NULL::jsonb;
    RETURN;
  END IF;
  DELETE FROM well_private.idempotency_keys
   WHERE (SELECT pg_try_advisory_xact_lock(1515870810, hashtext('well_private.idempotency_keys prune')))
     AND (person_pk, principal_kind, idempotency_key) IN (
       SELECT person_pk, principal_kind, idempotency_key FROM well_private.idempotency_keys
        WHERE created_at < now() - interval '24 hours'
        ORDER BY created_at LIMIT 2);
  DELETE FROM well_private.idempotency_keys
   WHERE person_pk = v_person AND principal_kind = v_kind AND idempotency_key = p_key
     AND created_at < now() - interval '24 hours';
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
      USING ERRCODE = 'WI422';
  END IF;
  -- The statements after this one in the request's script act in no workspace: no write.
  PERFORM set_config('well.scope', '', true);
  RETURN QUERY SELECT true, v_found.status::integer, v_found.rows;
END
$$;

CREATE FUNCTION core_api.ledger_direction_stays() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
BEGIN
  RAISE EXCEPTION 'a row of % keeps its direction', TG_TABLE_NAME
    USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_direction_stays';
END
$$;

CREATE FUNCTION core_api.linked_parent_stays_in_its_workspace() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $_$
DECLARE
  v_linked boolean;
BEGIN
  FOR i IN 0 .. TG_NARGS - 1 BY 2 LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM core_api.%I WHERE %I = $1)',
                   TG_ARGV[i], TG_ARGV[i + 1])
      INTO v_linked USING OLD.pk;
    IF v_linked THEN
      RAISE EXCEPTION 'a row of % that % points at cannot move to another workspace',
        TG_TABLE_NAME, TG_ARGV[i]
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_linked_stays_in_workspace';
    END IF;
  END LOOP;
  RETURN NEW;
END
$_$;

CREATE FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb) RETURNS TABLE(answer_status integer, answer_rows jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  v_person bigint := core_api.verified_person_pk();
  v_kind text := core_api.verified_principal_kind();
  v_status integer;
  v_written boolean := false;
  v_column text := well_private.junction_id_column(p_table);
  v_ids uuid[];
BEGIN
  -- What the write did: the re-read found the row under the id this request minted, it
  -- inserted it (201); else a row it read back carries this transaction's id (a select's
  -- upsert of the live row, 200); else nothing.
  SELECT array_agg((v ->> 1)::uuid) INTO v_ids
    FROM jsonb_array_elements(p_read -> 'rows') AS r(row_values),
         jsonb_array_elements(r.row_values) AS v
   WHERE v ->> 1 ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  IF v_column IS NOT NULL AND v_ids IS NOT NULL
     AND NOT coalesce((p_read ->> 'created')::boolean, false)
     AND pg_current_xact_id_if_assigned() IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = ANY ($1) AND xmin = $2)',
                   p_table, v_column)
       INTO v_written USING v_ids, pg_current_xact_id_if_assigned()::xid;
  END IF;
  v_status := CASE
    WHEN (p_read ->> 'created')::boolean THEN 201
    WHEN v_written THEN 200 END;
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
$_$;

CREATE FUNCTION core_api.touch_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.updated_at := NEW.created_at;
  ELSE
    IF to_jsonb(NEW) -> TG_ARGV[0] IS DISTINCT FROM to_jsonb(OLD) -> TG_ARGV[0] THEN
      RAISE EXCEPTION 'column % is immutable', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.updated_at := greatest(now(), OLD.updated_at + interval '1 microsecond');
  END IF;
  RETURN NEW;
END
$$;

-- A version 7 UUID of the clock's millisecond, the rest random: a ledger row's id, whose time
-- is its created_at. The clock's, not the transaction's: rows one transaction makes follow one
-- another, as they were made.
CREATE FUNCTION core_api.uuid_v7() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (encode(set_bit(set_bit(OVERLAY(uuid_send(gen_random_uuid()) PLACING SUBSTRING(int8send((floor((EXTRACT(epoch FROM clock_timestamp()) * (1000)::numeric)))::bigint) FROM 3) FROM 1 FOR 6), (52)::bigint, 1), (53)::bigint, 1), 'hex'::text))::uuid AS encode;
END;
