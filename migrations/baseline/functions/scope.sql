-- Functions: who a request is and what it may see. The authorizer's key check, the signed
-- scope a transaction sets, the proofs that bind it to the transaction, and the readers the
-- row-level security policies call.

CREATE FUNCTION core_api.authenticate_key() RETURNS TABLE(api_key_id uuid, person_id uuid, workspace_id uuid, kind text, scope_token text)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $_$
  WITH proof AS (
    SELECT string_to_array(coalesce(current_setting('well.proof', true), ''), '.') AS v
  ), proven AS (
    -- k3 . key prefix . the moment (epoch microseconds) . MAC over the prefix and the moment.
    SELECT k.pk
      FROM proof, core_api.api_keys k
     WHERE cardinality(proof.v) = 4 AND proof.v[1] = 'k3' AND proof.v[2] ~ '^[a-z2-7]{12}$'
       AND CASE WHEN proof.v[3] ~ '^[0-9]{1,17}$' THEN proof.v[3]::bigint END
           BETWEEN ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) - 10000000 AND ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) + 2000000
       AND k.prefix = proof.v[2]
       AND proof.v[4] = well_private.proof_mac(
             k.secret_hash, 'key|' || proof.v[2] || '|at|' || proof.v[3])
  )
  UPDATE core_api.api_keys k
     SET last_used_at = now()
    FROM proven, core_api.peoples p, core_api.workspaces w
   WHERE k.pk = proven.pk
     AND k.revoked_at IS NULL AND k.deleted_at IS NULL
     AND (k.expires_at IS NULL OR k.expires_at > now())
     AND p.pk = k.person_pk AND p.deleted_at IS NULL
     AND w.pk = k.workspace_pk AND w.deleted_at IS NULL
  RETURNING k.api_key_id, p.person_id, w.workspace_id, k.kind::text,
            well_private.scope_token(p.pk, k.kind::text)
$_$;

CREATE FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
  SELECT EXISTS (SELECT 1 FROM core_api.workspace_groups g
                  WHERE g.pk = p_group_pk AND g.deleted_at IS NULL)
     AND EXISTS (SELECT 1 FROM core_api.workspaces w
                  WHERE w.pk = p_workspace_pk AND w.deleted_at IS NULL)
     AND ((SELECT core_api.verified_principal_kind()) = 'service'
          OR (EXISTS (SELECT 1 FROM core_api.workspace_group_memberships gm
                       WHERE gm.workspace_group_pk = p_group_pk AND gm.person_pk = (SELECT core_api.verified_person_pk())
                         AND gm.role IN ('owner', 'admin') AND gm.deleted_at IS NULL)
              AND EXISTS (SELECT 1 FROM core_api.memberships m
                           WHERE m.workspace_pk = p_workspace_pk AND m.person_pk = (SELECT core_api.verified_person_pk())
                             AND m.status = 'active' AND m.deleted_at IS NULL)))
$$;

CREATE PROCEDURE core_api.prove_key(IN p_proof text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  v_moment text := split_part(p_proof, '.', 3);
BEGIN
  IF split_part(p_proof, '.', 1) = 'k3' AND v_moment ~ '^[0-9]{1,17}$' THEN
    IF v_moment::bigint NOT BETWEEN ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) - 10000000 AND ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) + 2000000 THEN
      RAISE EXCEPTION 'a proof made outside the time the database believes one'
        USING ERRCODE = 'WP002';
    END IF;
  END IF;
  PERFORM set_config('well.proof', p_proof, true);
END
$_$;

CREATE PROCEDURE core_api.prove_scope(IN p_proof text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  v_moment text := split_part(p_proof, '.', 5);
BEGIN
  IF split_part(p_proof, '.', 1) = 'p2' AND v_moment ~ '^[0-9]{1,17}$' THEN
    IF v_moment::bigint NOT BETWEEN ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) - 10000000 AND ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) + 2000000 THEN
      RAISE EXCEPTION 'a proof made outside the time the database believes one'
        USING ERRCODE = 'WP002';
    END IF;
  END IF;
  PERFORM set_config('well.proof', p_proof, true);
END
$_$;

CREATE FUNCTION core_api.scope_person_pk() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (NULLIF(current_setting('well.person_pk'::text, true), ''::text))::bigint AS "nullif";
END;

CREATE FUNCTION core_api.scope_principal_kind() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT NULLIF(current_setting('well.principal_kind'::text, true), ''::text) AS "nullif";
END;

CREATE FUNCTION core_api.scope_workspace_connector_pks() RETURNS bigint[]
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (string_to_array(NULLIF(current_setting('well.workspace_connector_pks'::text, true), ''::text), ','::text))::bigint[] AS string_to_array;
END;

CREATE FUNCTION core_api.scope_workspace_pk() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (NULLIF(current_setting('well.workspace_pk'::text, true), ''::text))::bigint AS "nullif";
END;

CREATE FUNCTION core_api.set_scope(p_workspace_id uuid) RETURNS TABLE(workspace_pk bigint, person_pk bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $_$
DECLARE
  v_proof text[];
  v_body text;
  v_keys record;
  v_key bytea;
  v_bound text;
  v_mac text;
  v_kind text;
  v_person bigint;
  v_workspace bigint;
  v_connectors text;
  v_scope text;
BEGIN
  -- p2 . person . kind . expiry . the moment (epoch microseconds) . MAC keyed by the token's.
  v_proof := string_to_array(current_setting('well.proof', true), '.');
  IF cardinality(v_proof) = 6 AND v_proof[1] = 'p2' AND v_proof[5] ~ '^[0-9]{1,17}$' THEN
    IF v_proof[5]::bigint BETWEEN ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) - 10000000 AND ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint) + 2000000 THEN
      v_bound := 'at|' || v_proof[5];
      v_mac := v_proof[6];
    END IF;
  END IF;
  IF v_bound IS NOT NULL
     AND v_proof[2] ~ '^[0-9]{1,18}$' AND v_proof[3] IN ('member', 'service')
     AND v_proof[4] ~ '^[0-9]{1,12}$' THEN
    IF v_proof[4]::bigint > extract(epoch FROM clock_timestamp()) THEN
      v_body := 't1.' || array_to_string(v_proof[2:4], '.');
      SELECT k.inner_key, k.outer_key INTO v_keys FROM well_private.scope_keys k WHERE k.id = 1;
      -- The token's MAC is the key of its proofs: the database recomputes it, nobody sends it.
      v_key := sha256(v_keys.outer_key
                      || sha256(v_keys.inner_key || convert_to('token|' || v_body, 'UTF8')));
      IF v_mac = encode(sha256(v_key || sha256(v_key || convert_to(
           'scope|' || v_body || '|' || v_bound, 'UTF8'))), 'hex') THEN
        v_kind := v_proof[3];
        SELECT p.pk INTO v_person
          FROM core_api.peoples p
         WHERE p.pk = v_proof[2]::bigint AND p.deleted_at IS NULL;
      END IF;
    END IF;
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
$_$;

CREATE FUNCTION core_api.verified_person_pk() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
  RETURN NULLIF(s[4], '')::bigint;
END
$$;

CREATE FUNCTION core_api.verified_principal_kind() RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
  RETURN NULLIF(s[5], '');
END
$$;

CREATE FUNCTION core_api.verified_workspace_connector_pks() RETURNS bigint[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
  RETURN string_to_array(NULLIF(s[6], ''), ',')::bigint[];
END
$$;

CREATE FUNCTION core_api.verified_workspace_pk() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
  RETURN NULLIF(s[3], '')::bigint;
END
$$;

CREATE FUNCTION well_private.mac(p_message text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(k.outer_key || sha256(k.inner_key || convert_to(p_message, 'UTF8'))), 'hex')
    FROM well_private.scope_keys k WHERE k.id = 1
$$;

CREATE FUNCTION well_private.proof_mac(p_key bytea, p_message text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(p_key || sha256(p_key || convert_to(p_message, 'UTF8'))), 'hex')
$$;

CREATE FUNCTION well_private.random_key() RETURNS bytea
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                || uuid_send(gen_random_uuid()))
$$;

CREATE FUNCTION well_private.scope_token(p_person_pk bigint, p_kind text) RETURNS text
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT b.body || '.' || well_private.mac('token|' || b.body)
    FROM (SELECT 't1.' || p_person_pk || '.' || p_kind || '.'
                 || (floor(extract(epoch FROM clock_timestamp()))::bigint + 600) AS body) b
$$;

CREATE FUNCTION well_private.text_digest(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(convert_to(p_text, 'UTF8')), 'hex')
$$;



SET default_tablespace = '';

SET default_table_access_method = heap;
