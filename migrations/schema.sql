--
-- PostgreSQL database dump
--

--
-- Name: core_api; Type: SCHEMA; Schema: -; Owner: migration_owner
--

CREATE SCHEMA core_api;

ALTER SCHEMA core_api OWNER TO migration_owner;

--
-- Name: well_private; Type: SCHEMA; Schema: -; Owner: migration_owner
--

CREATE SCHEMA well_private;

ALTER SCHEMA well_private OWNER TO migration_owner;

--
-- Name: account_type_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.account_type_enum AS ENUM (
    'deposit',
    'credit',
    'loan',
    'investment',
    'payroll',
    'other'
);

ALTER TYPE core_api.account_type_enum OWNER TO migration_owner;

--
-- Name: api_key_kind_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.api_key_kind_enum AS ENUM (
    'member',
    'service'
);

ALTER TYPE core_api.api_key_kind_enum OWNER TO migration_owner;

--
-- Name: connector_provider_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.connector_provider_enum AS ENUM (
    'apideck',
    'chift',
    'well',
    'plaid_eu',
    'plaid_us'
);

ALTER TYPE core_api.connector_provider_enum OWNER TO migration_owner;

--
-- Name: direction_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.direction_enum AS ENUM (
    'input',
    'output'
);

ALTER TYPE core_api.direction_enum OWNER TO migration_owner;

--
-- Name: membership_role_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.membership_role_enum AS ENUM (
    'owner',
    'admin',
    'member',
    'viewer'
);

ALTER TYPE core_api.membership_role_enum OWNER TO migration_owner;

--
-- Name: membership_status_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.membership_status_enum AS ENUM (
    'pending',
    'active'
);

ALTER TYPE core_api.membership_status_enum OWNER TO migration_owner;

--
-- Name: provider_category_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.provider_category_enum AS ENUM (
    'Finance',
    'Accounting',
    'Productivity',
    'CRM & Marketing',
    'Dev & Infra',
    'Telecom',
    'Travel & Logistics',
    'E-commerce & Retail',
    'Media & Subscriptions',
    'General'
);

ALTER TYPE core_api.provider_category_enum OWNER TO migration_owner;

--
-- Name: workspace_connector_status_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.workspace_connector_status_enum AS ENUM (
    'enabled',
    'disabled',
    'to_configure',
    'processing',
    'error',
    'need_reconnect',
    'suspended'
);

ALTER TYPE core_api.workspace_connector_status_enum OWNER TO migration_owner;

--
-- Name: workspace_group_role_enum; Type: TYPE; Schema: core_api; Owner: migration_owner
--

CREATE TYPE core_api.workspace_group_role_enum AS ENUM (
    'owner',
    'admin',
    'member',
    'guest'
);

ALTER TYPE core_api.workspace_group_role_enum OWNER TO migration_owner;

--
-- Name: account_workspace_connectors_created_at(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.account_workspace_connectors_created_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  -- A row's time is its id's: the period it is kept in, and the order a List reads it in.
  NEW.created_at := core_api.uuid_time(NEW.account_workspace_connector_id);
  RETURN NEW;
END
$$;

ALTER FUNCTION core_api.account_workspace_connectors_created_at() OWNER TO migration_owner;

--
-- Name: account_workspace_connectors_parents_agree(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.account_workspace_connectors_parents_agree() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
DECLARE
  v_crossed bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    SELECT count(*) INTO v_crossed
      FROM new_rows n
     WHERE (SELECT r.workspace_pk FROM core_api.accounts r WHERE r.pk = n.account_pk)
           <> (SELECT wc.workspace_pk FROM core_api.workspace_connectors wc
                WHERE wc.pk = n.workspace_connector_pk);
  ELSE
    SELECT count(*) INTO v_crossed
      FROM core_api.accounts r, core_api.workspace_connectors wc
     WHERE r.pk = NEW.account_pk AND wc.pk = NEW.workspace_connector_pk
       AND r.workspace_pk <> wc.workspace_pk;
  END IF;
  IF v_crossed > 0 THEN
    RAISE EXCEPTION '% row(s) of % would point at a record and a workspace connector of two workspaces',
      v_crossed, TG_TABLE_NAME
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_parents_share_a_workspace';
  END IF;
  RETURN NULL;
END
$$;

ALTER FUNCTION core_api.account_workspace_connectors_parents_agree() OWNER TO migration_owner;

--
-- Name: archived_before(text); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.archived_before(p_ledger text) RETURNS timestamp with time zone
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- The end of p_ledger's newest archived (or detached) period, NULL for none: a List covers
  -- the rows created from then on, and says so (meta.archived_before; docs/archive.md).
  SELECT max(p.ends_at) FROM core_api.ledger_periods p
   WHERE p.ledger = p_ledger AND p.detached_at IS NOT NULL
$$;

ALTER FUNCTION core_api.archived_before(p_ledger text) OWNER TO migration_owner;

--
-- Name: archived_period_of(text, uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid) RETURNS TABLE(starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- The period of p_ledger that a version 7 id's time falls in, when the archive took it
  -- (or is taking it: detached): what a request for an id no longer served is answered with,
  -- 410 PERIOD_ARCHIVED (docs/archive.md). None for an id of another version, whose bits name
  -- no time. Whether such a row existed is not known, so nothing of any tenant is told.
  SELECT p.starts_at, p.ends_at FROM core_api.ledger_periods p
   WHERE p.ledger = p_ledger AND p.detached_at IS NOT NULL
     AND substr(p_id::text, 15, 1) = '7'
     AND p.starts_at <= core_api.uuid_time(p_id) AND core_api.uuid_time(p_id) < p.ends_at
$$;

ALTER FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid) OWNER TO migration_owner;

--
-- Name: authenticate_key(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.authenticate_key() OWNER TO migration_owner;

--
-- Name: check_client_id(regclass, uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.check_client_id(p_table regclass, p_id uuid) OWNER TO migration_owner;

--
-- Name: check_prepared(text[], text[], text[]); Type: PROCEDURE; Schema: core_api; Owner: migration_owner
--

CREATE PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[])
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  held integer;
BEGIN
  -- The names first, then the digests of those alone (OFFSET 0 keeps the planner from
  -- pushing md5 down onto every statement the session holds).
  SELECT count(*) INTO held FROM (
    SELECT p.statement, p.parameter_types, w.digest, w.types
    FROM unnest(names, digests, types) AS w(name, digest, types)
    JOIN pg_prepared_statements p ON p.name = w.name AND NOT p.from_sql
    OFFSET 0
  ) AS m
  WHERE md5(m.statement) = m.digest
    AND cardinality(m.parameter_types) = cardinality(m.types::oid[])
    AND NOT EXISTS (
      SELECT FROM unnest(m.parameter_types::oid[], m.types::oid[]) AS t(got, declared)
      WHERE t.declared <> 0 AND t.got IS DISTINCT FROM t.declared);
  IF held IS DISTINCT FROM cardinality(names) THEN
    RAISE EXCEPTION 'a prepared statement is not the one its name was given to'
      USING ERRCODE = 'WP001';
  END IF;
END
$$;

ALTER PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) OWNER TO migration_owner;

--
-- Name: claim_idempotency_key(text, text); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text) OWNER TO migration_owner;

--
-- Name: company_workspace_connectors_created_at(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.company_workspace_connectors_created_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  -- A row's time is its id's: the period it is kept in, and the order a List reads it in.
  NEW.created_at := core_api.uuid_time(NEW.company_workspace_connector_id);
  RETURN NEW;
END
$$;

ALTER FUNCTION core_api.company_workspace_connectors_created_at() OWNER TO migration_owner;

--
-- Name: company_workspace_connectors_parents_agree(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.company_workspace_connectors_parents_agree() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
DECLARE
  v_crossed bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    SELECT count(*) INTO v_crossed
      FROM new_rows n
     WHERE (SELECT r.workspace_pk FROM core_api.companies r WHERE r.pk = n.company_pk)
           <> (SELECT wc.workspace_pk FROM core_api.workspace_connectors wc
                WHERE wc.pk = n.workspace_connector_pk);
  ELSE
    SELECT count(*) INTO v_crossed
      FROM core_api.companies r, core_api.workspace_connectors wc
     WHERE r.pk = NEW.company_pk AND wc.pk = NEW.workspace_connector_pk
       AND r.workspace_pk <> wc.workspace_pk;
  END IF;
  IF v_crossed > 0 THEN
    RAISE EXCEPTION '% row(s) of % would point at a record and a workspace connector of two workspaces',
      v_crossed, TG_TABLE_NAME
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_parents_share_a_workspace';
  END IF;
  RETURN NULL;
END
$$;

ALTER FUNCTION core_api.company_workspace_connectors_parents_agree() OWNER TO migration_owner;

--
-- Name: end_stalled_sessions(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.end_stalled_sessions() RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  WITH stalled AS (
    SELECT a.pid
      FROM pg_stat_activity a
      JOIN well_private.session_bounds b ON b.role = a.usename
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
       AND (
         (a.state = 'active' AND b.statement_bound IS NOT NULL
          AND a.query_start < clock_timestamp() - b.statement_bound - interval '1 second')
         OR (a.state LIKE 'idle in transaction%' AND b.idle_bound IS NOT NULL
          AND a.state_change < clock_timestamp() - b.idle_bound - interval '1 second')
         OR (a.state = 'idle'
          AND a.state_change < clock_timestamp() - interval '10 s'
                               - interval '1 second'
          AND EXISTS (SELECT FROM pg_locks l
                       WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted))
       )
  )
  SELECT count(*)::integer FROM stalled WHERE pg_terminate_backend(stalled.pid)
$$;

ALTER FUNCTION core_api.end_stalled_sessions() OWNER TO migration_owner;

--
-- Name: ledger_direction_stays(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.ledger_direction_stays() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
BEGIN
  RAISE EXCEPTION 'a row of % keeps its direction', TG_TABLE_NAME
    USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_direction_stays';
END
$$;

ALTER FUNCTION core_api.ledger_direction_stays() OWNER TO migration_owner;

--
-- Name: ledger_seconds_ahead(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.ledger_seconds_ahead() RETURNS double precision
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- How long from now until a ledger's new ids have no period, the least over the ledgers (0
  -- for a ledger with none): what the sweeper reports (LedgerPeriodSecondsAhead, alarmed on).
  SELECT min(coalesce(EXTRACT(epoch FROM (SELECT max(p.ends_at) FROM core_api.ledger_periods p
                                          WHERE p.ledger = c.record_type || '_workspace_connectors')
                                         - now()), 0))::double precision
    FROM well_private.change_types c WHERE c.record_type IS NOT NULL
$$;

ALTER FUNCTION core_api.ledger_seconds_ahead() OWNER TO migration_owner;

--
-- Name: linked_parent_stays_in_its_workspace(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.linked_parent_stays_in_its_workspace() OWNER TO migration_owner;

--
-- Name: make_ledger_periods_ahead(text, integer); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) RETURNS TABLE(ledger text, starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- The sweeper's, every run: the periods that cover now and p_ahead (1 to 3) periods after it,
-- made where they are missing. Never a period in the past.
BEGIN
  IF p_ahead IS NULL OR p_ahead NOT BETWEEN 1 AND 3 THEN
    RAISE EXCEPTION 'ledger periods are made 1 to 3 periods ahead, not %', p_ahead
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY SELECT m.ledger, m.starts_at, m.ends_at
    FROM well_private.make_ledger_periods(p_period, now(),
                                          now() + p_ahead * well_private.ledger_period_length(p_period)) m;
END
$$;

ALTER FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) OWNER TO migration_owner;

--
-- Name: may_enrol(bigint, bigint); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) OWNER TO migration_owner;

--
-- Name: operator_add_person(uuid, text, text, uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_workspace bigint := well_private.live_workspace_pk(p_workspace_id);
  v_person bigint;
  v_person_id uuid;
  v_member record;
  v_detail jsonb;
BEGIN
  SELECT p.pk, p.person_id INTO v_person, v_person_id FROM core_api.peoples p
   WHERE p.person_id = p_person_id AND p.deleted_at IS NULL;
  IF v_person IS NULL THEN
    INSERT INTO core_api.peoples (person_id, workspace_pk, full_name)
    VALUES (coalesce(p_person_id, gen_random_uuid()), v_workspace, p_full_name)
    RETURNING pk, person_id INTO v_person, v_person_id;
    PERFORM well_private.record_operator_change(v_workspace, 'people', 'created', v_person_id,
                                                jsonb_build_object('workspace', p_workspace_id));
  END IF;
  v_detail := jsonb_build_object('person', v_person_id, 'workspace', p_workspace_id,
                                 'role', p_role, 'status', 'active');
  SELECT m.pk, m.membership_id, m.role::text AS role, m.status::text AS status INTO v_member
    FROM core_api.memberships m
   WHERE m.person_pk = v_person AND m.workspace_pk = v_workspace AND m.deleted_at IS NULL
     FOR UPDATE;
  IF v_member.pk IS NULL THEN
    INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status)
    VALUES (v_workspace, v_person, p_role::core_api.membership_role_enum, 'active')
    RETURNING pk, membership_id, role::text, status::text INTO v_member;
    PERFORM well_private.record_operator_change(v_workspace, 'membership', 'created',
                                                v_member.membership_id, v_detail);
  ELSIF (v_member.role, v_member.status) IS DISTINCT FROM (p_role, 'active') THEN
    UPDATE core_api.memberships
       SET role = p_role::core_api.membership_role_enum, status = 'active'
     WHERE pk = v_member.pk;
    PERFORM well_private.record_operator_change(v_workspace, 'membership', 'changed',
                                                v_member.membership_id, v_detail);
  END IF;
  RETURN jsonb_build_object('person_id', v_person_id, 'membership_id', v_member.membership_id,
                            'workspace_id', p_workspace_id, 'role', p_role);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'the id % is a deleted person''s', p_person_id USING ERRCODE = 'WO409';
END
$$;

ALTER FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) OWNER TO migration_owner;

--
-- Name: operator_add_workspace_connector(uuid, text, text, text, uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_workspace bigint := well_private.live_workspace_pk(p_workspace_id);
  v_found record;
  v_connector bigint;
  v_connector_id uuid;
  v_id uuid;
BEGIN
  SELECT wc.workspace_pk, wc.workspace_connector_id INTO v_found
    FROM core_api.workspace_connectors wc
   WHERE wc.workspace_connector_id = p_workspace_connector_id AND wc.deleted_at IS NULL;
  IF v_found.workspace_pk = v_workspace THEN
    RETURN jsonb_build_object('workspace_connector_id', v_found.workspace_connector_id,
                              'created', false);
  ELSIF v_found.workspace_pk IS NOT NULL THEN
    RAISE EXCEPTION 'the workspace connector % is another workspace''s', p_workspace_connector_id
      USING ERRCODE = 'WO409';
  END IF;
  SELECT c.pk, c.connector_id INTO v_connector, v_connector_id FROM core_api.connectors c
   WHERE c.name = p_connector_name
     AND c.provider = p_provider::core_api.connector_provider_enum AND c.deleted_at IS NULL
   ORDER BY c.pk LIMIT 1;
  IF v_connector IS NULL THEN
    INSERT INTO core_api.connectors (name, provider)
    VALUES (p_connector_name, p_provider::core_api.connector_provider_enum)
    RETURNING pk, connector_id INTO v_connector, v_connector_id;
  END IF;
  INSERT INTO core_api.workspace_connectors (workspace_connector_id, workspace_pk, connector_pk,
                                             status)
  VALUES (coalesce(p_workspace_connector_id, gen_random_uuid()), v_workspace, v_connector,
          p_status::core_api.workspace_connector_status_enum)
  RETURNING workspace_connector_id INTO v_id;
  PERFORM well_private.record_operator_change(v_workspace, 'workspace_connector', 'created', v_id,
    jsonb_build_object('connector', v_connector_id, 'provider', p_provider, 'status', p_status));
  RETURN jsonb_build_object('workspace_connector_id', v_id, 'connector_id', v_connector_id,
                            'created', true);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'the id % is a deleted workspace connector''s', p_workspace_connector_id
    USING ERRCODE = 'WO409';
END
$$;

ALTER FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) OWNER TO migration_owner;

--
-- Name: operator_issue_key(uuid, uuid, text, text, text, bytea, integer); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_workspace bigint := well_private.live_workspace_pk(p_workspace_id);
  v_person bigint;
BEGIN
  SELECT p.pk INTO v_person FROM core_api.peoples p
   WHERE p.person_id = p_person_id AND p.deleted_at IS NULL;
  IF v_person IS NULL THEN
    RAISE EXCEPTION 'no live person %', p_person_id USING ERRCODE = 'WO404';
  END IF;
  RETURN well_private.insert_api_key(v_workspace, v_person, p_kind, p_name, p_prefix,
                                     p_secret_hash, p_expires_in_seconds, NULL);
END
$$;

ALTER FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) OWNER TO migration_owner;

--
-- Name: operator_make_workspace(text, uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint;
  v_id uuid;
BEGIN
  SELECT w.pk, w.workspace_id INTO v_pk, v_id FROM core_api.workspaces w
   WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  IF v_pk IS NOT NULL THEN
    RETURN jsonb_build_object('workspace_id', v_id, 'created', false);
  END IF;
  INSERT INTO core_api.workspaces (workspace_id, name)
  VALUES (coalesce(p_workspace_id, gen_random_uuid()), p_name)
  RETURNING pk, workspace_id INTO v_pk, v_id;
  PERFORM well_private.record_operator_change(v_pk, 'workspace', 'created', v_id,
                                              jsonb_build_object('name', p_name));
  RETURN jsonb_build_object('workspace_id', v_id, 'created', true);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'the id % is a deleted workspace''s', p_workspace_id USING ERRCODE = 'WO409';
END
$$;

ALTER FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) OWNER TO migration_owner;

--
-- Name: operator_revoke_key(uuid, text); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint := well_private.locked_api_key_pk(p_api_key_id, p_prefix);
  v_key core_api.api_keys;
  v_answer jsonb;
BEGIN
  SELECT * INTO v_key FROM core_api.api_keys k WHERE k.pk = v_pk;
  v_answer := jsonb_build_object('api_key_id', v_key.api_key_id, 'prefix', v_key.prefix);
  IF v_key.revoked_at IS NOT NULL THEN
    RETURN v_answer || jsonb_build_object('revoked', false, 'revoked_at', v_key.revoked_at);
  END IF;
  UPDATE core_api.api_keys SET revoked_at = now() WHERE pk = v_key.pk;
  PERFORM well_private.record_operator_change(v_key.workspace_pk, 'api_key', 'revoked',
    v_key.api_key_id,
    jsonb_build_object('name', v_key.name, 'kind', v_key.kind, 'prefix', v_key.prefix));
  RETURN v_answer || jsonb_build_object('revoked', true, 'revoked_at', now());
END
$$;

ALTER FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) OWNER TO migration_owner;

--
-- Name: operator_rotate_key(uuid, text, text, bytea, integer); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint := well_private.locked_api_key_pk(p_api_key_id, p_prefix);
  v_old core_api.api_keys;
  v_new jsonb;
BEGIN
  SELECT * INTO v_old FROM core_api.api_keys k WHERE k.pk = v_pk;
  v_new := well_private.issued_api_key(p_new_prefix, p_new_secret_hash);
  IF v_new ->> 'replaces' = v_old.api_key_id::text THEN
    RETURN v_new;
  END IF;
  IF v_old.revoked_at IS NOT NULL THEN
    RAISE EXCEPTION 'the API key % is revoked', v_old.prefix USING ERRCODE = 'WO409';
  END IF;
  v_new := well_private.insert_api_key(v_old.workspace_pk, v_old.person_pk, v_old.kind::text,
    v_old.name, p_new_prefix, p_new_secret_hash, p_expires_in_seconds, v_old.api_key_id);
  UPDATE core_api.api_keys SET revoked_at = now() WHERE pk = v_old.pk;
  PERFORM well_private.record_operator_change(v_old.workspace_pk, 'api_key', 'revoked',
    v_old.api_key_id, jsonb_build_object('name', v_old.name, 'kind', v_old.kind,
                                         'prefix', v_old.prefix,
                                         'replaced_by', v_new -> 'api_key_id'));
  RETURN v_new;
END
$$;

ALTER FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) OWNER TO migration_owner;

--
-- Name: people_workspace_connectors_created_at(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.people_workspace_connectors_created_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  -- A row's time is its id's: the period it is kept in, and the order a List reads it in.
  NEW.created_at := core_api.uuid_time(NEW.people_workspace_connector_id);
  RETURN NEW;
END
$$;

ALTER FUNCTION core_api.people_workspace_connectors_created_at() OWNER TO migration_owner;

--
-- Name: people_workspace_connectors_parents_agree(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.people_workspace_connectors_parents_agree() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
DECLARE
  v_crossed bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    SELECT count(*) INTO v_crossed
      FROM new_rows n
     WHERE (SELECT r.workspace_pk FROM core_api.peoples r WHERE r.pk = n.people_pk)
           <> (SELECT wc.workspace_pk FROM core_api.workspace_connectors wc
                WHERE wc.pk = n.workspace_connector_pk);
  ELSE
    SELECT count(*) INTO v_crossed
      FROM core_api.peoples r, core_api.workspace_connectors wc
     WHERE r.pk = NEW.people_pk AND wc.pk = NEW.workspace_connector_pk
       AND r.workspace_pk <> wc.workspace_pk;
  END IF;
  IF v_crossed > 0 THEN
    RAISE EXCEPTION '% row(s) of % would point at a record and a workspace connector of two workspaces',
      v_crossed, TG_TABLE_NAME
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_parents_share_a_workspace';
  END IF;
  RETURN NULL;
END
$$;

ALTER FUNCTION core_api.people_workspace_connectors_parents_agree() OWNER TO migration_owner;

--
-- Name: prove_key(text); Type: PROCEDURE; Schema: core_api; Owner: migration_owner
--

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

ALTER PROCEDURE core_api.prove_key(IN p_proof text) OWNER TO migration_owner;

--
-- Name: prove_scope(text); Type: PROCEDURE; Schema: core_api; Owner: migration_owner
--

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

ALTER PROCEDURE core_api.prove_scope(IN p_proof text) OWNER TO migration_owner;

--
-- Name: record_account_workspace_connectors(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.record_account_workspace_connectors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'unlinked';
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
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.account_id FROM core_api.accounts r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.account_workspace_connector_id AS id, t.account_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.account_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, 'linked'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'account_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'account', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.account_id FROM core_api.accounts r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.account_workspace_connector_id AS id, t.account_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.account_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.account_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.account_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'account_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'account', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.account_id FROM core_api.accounts r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.account_workspace_connector_id AS id, t.account_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.account_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.account_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.account_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'account_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'account', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.account_id FROM core_api.accounts r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.account_workspace_connector_id AS id, t.account_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.account_workspace_connector_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'account_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'account', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  END IF;
  RETURN NULL;
END
$_$;

ALTER FUNCTION core_api.record_account_workspace_connectors() OWNER TO migration_owner;

--
-- Name: record_company_workspace_connectors(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.record_company_workspace_connectors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'unlinked';
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
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.company_id FROM core_api.companies r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.company_workspace_connector_id AS id, t.company_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.company_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, 'linked'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'company_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'company', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.company_id FROM core_api.companies r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.company_workspace_connector_id AS id, t.company_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.company_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.company_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.company_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'company_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'company', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.company_id FROM core_api.companies r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.company_workspace_connector_id AS id, t.company_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.company_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.company_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.company_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'company_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'company', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.company_id FROM core_api.companies r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.company_workspace_connector_id AS id, t.company_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.company_workspace_connector_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'company_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'company', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  END IF;
  RETURN NULL;
END
$_$;

ALTER FUNCTION core_api.record_company_workspace_connectors() OWNER TO migration_owner;

--
-- Name: record_people_workspace_connectors(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.record_people_workspace_connectors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'unlinked';
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
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.person_id FROM core_api.peoples r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.people_workspace_connector_id AS id, t.people_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.people_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, 'linked'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'people_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'people', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.person_id FROM core_api.peoples r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.people_workspace_connector_id AS id, t.people_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.people_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.people_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.people_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'people_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'people', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.person_id FROM core_api.peoples r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.people_workspace_connector_id AS id, t.people_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.people_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.people_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.people_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'people_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'people', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.person_id FROM core_api.peoples r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.people_workspace_connector_id AS id, t.people_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.people_workspace_connector_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, 'people_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', 'people', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  END IF;
  RETURN NULL;
END
$_$;

ALTER FUNCTION core_api.record_people_workspace_connectors() OWNER TO migration_owner;

--
-- Name: record_workspace_group_workspaces(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.record_workspace_group_workspaces() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'unenrolled';
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
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'unenrolled';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT n.*, 'enrolled'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'enrolled' WHEN n.deleted_at IS NULL AND (o.workspace_group_pk, o.workspace_pk) IS DISTINCT FROM (n.workspace_group_pk, n.workspace_pk) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'enrolled' WHEN n.deleted_at IS NULL AND (o.workspace_group_pk, o.workspace_pk) IS DISTINCT FROM (n.workspace_group_pk, n.workspace_pk) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w;
  END IF;
  RETURN NULL;
END
$_$;

ALTER FUNCTION core_api.record_workspace_group_workspaces() OWNER TO migration_owner;

--
-- Name: record_workspace_providers(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.record_workspace_providers() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'removed';
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
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT n.*, 'selected'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'selected' WHEN n.deleted_at IS NULL AND (o.workspace_pk, o.provider_pk, o.is_selected, o.is_matched) IS DISTINCT FROM (n.workspace_pk, n.provider_pk, n.is_selected, n.is_matched) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'selected' WHEN n.deleted_at IS NULL AND (o.workspace_pk, o.provider_pk, o.is_selected, o.is_matched) IS DISTINCT FROM (n.workspace_pk, n.provider_pk, n.is_selected, n.is_matched) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p;
  END IF;
  RETURN NULL;
END
$_$;

ALTER FUNCTION core_api.record_workspace_providers() OWNER TO migration_owner;

--
-- Name: remember_idempotent_answer(text, regclass, jsonb); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb) OWNER TO migration_owner;

--
-- Name: restore_role_defaults(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.restore_role_defaults() RETURNS TABLE(setting text, failure text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  roles name[];
  names text[];
  statements text[];
  local boolean[];
  set_back name[] := '{}';
  role_name name;
BEGIN
  -- Read as well_heal, before any SET ROLE: the roles it sets have no right on the function.
  SELECT coalesce(array_agg(t.role_name), '{}'), coalesce(array_agg(t.setting_name), '{}'),
         coalesce(array_agg(t.statement), '{}'), coalesce(array_agg(t.in_database), '{}')
    INTO roles, names, statements, local
    FROM core_api.role_defaults_to_restore() AS t;
  PERFORM set_config('lock_timeout', '1s', true);
  FOR i IN 1..cardinality(roles) LOOP
    EXECUTE format('SET LOCAL ROLE %I', roles[i]);
    setting := roles[i] || '.' || names[i];
    FOR attempt IN 1..3 LOOP
      -- Ended in the select list: in a WHERE clause, the planner may call it on rows it has
      -- not yet filtered. This database's row is held from this database only; the row for
      -- every database, from any.
      PERFORM pg_terminate_backend(a.pid, 1000)
         FROM pg_stat_activity a
        WHERE a.usename = roles[i] AND a.pid <> pg_backend_pid()
          AND (NOT local[i] OR a.datname = current_database())
          AND EXISTS (SELECT FROM pg_locks l
                       WHERE l.pid = a.pid AND l.granted AND l.mode <> 'AccessShareLock'
                         AND l.relation = 'pg_catalog.pg_db_role_setting'::regclass);
      BEGIN
        EXECUTE statements[i];
        failure := NULL;
        EXIT;
      EXCEPTION
        -- The row's holder came back, or committed first ("tuple concurrently updated").
        WHEN lock_not_available OR internal_error THEN failure := SQLSTATE;
        WHEN OTHERS THEN failure := SQLSTATE; EXIT;
      END;
    END LOOP;
    RESET ROLE;
    IF failure IS NULL THEN
      set_back := set_back || roles[i];
    END IF;
    RETURN NEXT;
  END LOOP;
  FOREACH role_name IN ARRAY ARRAY(SELECT DISTINCT r FROM unnest(set_back) AS r) LOOP
    EXECUTE format('SET LOCAL ROLE %I', role_name);
    PERFORM pg_terminate_backend(a.pid, 1000)
       FROM pg_stat_activity a
      WHERE a.usename = role_name AND a.datname = current_database()
        AND a.pid <> pg_backend_pid();
    RESET ROLE;
  END LOOP;
END
$$;

ALTER FUNCTION core_api.restore_role_defaults() OWNER TO migration_owner;

--
-- Name: role_defaults_to_restore(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.role_defaults_to_restore() RETURNS TABLE(role_name name, setting_name text, statement text, in_database boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '15s'
    AS $$
BEGIN
  LOCK TABLE well_private.role_defaults IN SHARE ROW EXCLUSIVE MODE;
  RETURN QUERY
  WITH declared AS (
    SELECT d.role, d.settings, d.in_database, coalesce(s.setconfig, '{}') AS found,
           format('ALTER ROLE %I', d.role)
             || CASE WHEN d.in_database THEN format(' IN DATABASE %I', current_database())
                     ELSE '' END AS altered
      FROM well_private.role_defaults d
      JOIN pg_roles r ON r.rolname = d.role
      LEFT JOIN pg_db_role_setting s
        ON s.setrole = r.oid
       AND s.setdatabase = CASE WHEN d.in_database
             THEN (SELECT b.oid FROM pg_database b WHERE b.datname = current_database())
             ELSE 0 END
  ), differing AS (
    SELECT d.role, split_part(item, '=', 1) AS name,
           d.altered || format(' RESET %I', split_part(item, '=', 1)) AS statement, d.in_database
      FROM declared d CROSS JOIN unnest(d.found) AS item
     WHERE split_part(item, '=', 1) <> ALL (
             SELECT split_part(w, '=', 1) FROM unnest(d.settings) AS w)
    UNION ALL
    SELECT d.role, split_part(item, '=', 1),
           d.altered || format(' SET %I = %s', split_part(item, '=', 1),
             CASE WHEN split_part(item, '=', 1) IN ('search_path', 'temp_tablespaces',
                                                    'local_preload_libraries')
                  THEN substr(item, strpos(item, '=') + 1)
                  ELSE quote_literal(substr(item, strpos(item, '=') + 1)) END), d.in_database
      FROM declared d CROSS JOIN unnest(d.settings) AS item
     WHERE item <> ALL (d.found)
  )
  SELECT differing.role, differing.name, differing.statement, differing.in_database
    FROM differing ORDER BY 1, 2, 3;
END
$$;

ALTER FUNCTION core_api.role_defaults_to_restore() OWNER TO migration_owner;

--
-- Name: scope_person_pk(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.scope_person_pk() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (NULLIF(current_setting('well.person_pk'::text, true), ''::text))::bigint AS "nullif";
END;

ALTER FUNCTION core_api.scope_person_pk() OWNER TO migration_owner;

--
-- Name: scope_principal_kind(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.scope_principal_kind() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT NULLIF(current_setting('well.principal_kind'::text, true), ''::text) AS "nullif";
END;

ALTER FUNCTION core_api.scope_principal_kind() OWNER TO migration_owner;

--
-- Name: scope_workspace_connector_pks(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.scope_workspace_connector_pks() RETURNS bigint[]
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (string_to_array(NULLIF(current_setting('well.workspace_connector_pks'::text, true), ''::text), ','::text))::bigint[] AS string_to_array;
END;

ALTER FUNCTION core_api.scope_workspace_connector_pks() OWNER TO migration_owner;

--
-- Name: scope_workspace_pk(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.scope_workspace_pk() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (NULLIF(current_setting('well.workspace_pk'::text, true), ''::text))::bigint AS "nullif";
END;

ALTER FUNCTION core_api.scope_workspace_pk() OWNER TO migration_owner;

--
-- Name: set_scope(uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.set_scope(p_workspace_id uuid) OWNER TO migration_owner;

--
-- Name: set_transaction_settings(); Type: PROCEDURE; Schema: core_api; Owner: migration_owner
--

CREATE PROCEDURE core_api.set_transaction_settings()
    LANGUAGE plpgsql
    AS $$
DECLARE
  wanted core_api.transaction_settings;
  set_again text;
BEGIN
  SELECT * INTO wanted FROM core_api.transaction_settings WHERE role = CURRENT_USER;
  IF NOT FOUND THEN
    -- Each role the deployment makes (migrations/baseline/roles.sql) has its own row: without
    -- it, its transactions would run with no timer at all. Refused.
    IF CURRENT_USER IN ('well_api', 'well_sync', 'well_auth', 'well_drain', 'well_heal',
                        'well_operator') THEN
      RAISE EXCEPTION 'no transaction settings are recorded for role %', CURRENT_USER
        USING ERRCODE = 'WP003', HINT = 'The owner runs SELECT well_private.record_settings().';
    END IF;
    -- Any other role (the owner's own tools): the server's.
    SELECT * INTO wanted FROM core_api.transaction_settings WHERE role = '';
  END IF;
  -- The timers first: one a session left could cut this transaction's first statement short.
  -- transaction_timeout is NULL on a server without it (before PostgreSQL 17).
  IF wanted.transaction_timeout IS NOT NULL THEN
    IF pg_catalog.current_setting('transaction_timeout') IS DISTINCT FROM wanted.transaction_timeout THEN
      PERFORM pg_catalog.set_config('transaction_timeout', wanted.transaction_timeout, true);
    END IF;
  END IF;
  IF pg_catalog.current_setting('statement_timeout') IS DISTINCT FROM wanted.statement_timeout THEN
    PERFORM pg_catalog.set_config('statement_timeout', wanted.statement_timeout, true);
  END IF;
  IF pg_catalog.current_setting('idle_in_transaction_session_timeout')
       IS DISTINCT FROM wanted.idle_in_transaction_session_timeout THEN
    PERFORM pg_catalog.set_config('idle_in_transaction_session_timeout',
                                  wanted.idle_in_transaction_session_timeout, true);
  END IF;
  -- The socket's settings show what the socket does, not what was set: set, as written, not
  -- compared (a value unchanged costs no system call).
  PERFORM pg_catalog.set_config('tcp_keepalives_count', wanted.tcp_keepalives_count, true);
  PERFORM pg_catalog.set_config('tcp_keepalives_idle', wanted.tcp_keepalives_idle, true);
  PERFORM pg_catalog.set_config('tcp_keepalives_interval', wanted.tcp_keepalives_interval, true);
  PERFORM pg_catalog.set_config('tcp_user_timeout', wanted.tcp_user_timeout, true);
  -- The application takes only transaction-level advisory locks: a session-level one is a
  -- session's leftover.
  PERFORM pg_catalog.pg_advisory_unlock_all();
  -- The rest compared at once, zipped in the select list (a function scan would first copy
  -- both arrays into a tuplestore, twice the time); set, and said, only when one differs.
  IF EXISTS (
       SELECT FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
                           pg_catalog.unnest(wanted.values_shown) AS value) AS s
        WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value) THEN
    SELECT pg_catalog.string_agg(s.name, ', ' ORDER BY s.name) INTO set_again
      FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
                   pg_catalog.unnest(wanted.values_shown) AS value) AS s
     WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value;
    PERFORM pg_catalog.set_config(s.name, s.value, true)
       FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
                    pg_catalog.unnest(wanted.values_shown) AS value) AS s
      WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value;
    -- Said to a role the deployment makes, which has its own row (the owner's own tools run
    -- this too, with defaults of their own): its connection logs it once
    -- (wellapi.store.notices).
    IF wanted.role <> '' THEN
      RAISE NOTICE 'set again for this transaction: %', set_again USING ERRCODE = 'WS001';
    END IF;
  END IF;
END
$$;

ALTER PROCEDURE core_api.set_transaction_settings() OWNER TO migration_owner;

--
-- Name: touch_row(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.touch_row() OWNER TO migration_owner;

--
-- Name: uuid_floor(timestamp with time zone); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.uuid_floor(p_time timestamp with time zone) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN (p_time < '1970-01-01 00:00:00+00'::timestamp with time zone) THEN '00000000-0000-0000-0000-000000000000'::uuid WHEN (p_time >= ('1970-01-01 00:00:00+00'::timestamp with time zone + (('281474976710656'::bigint)::double precision * '00:00:00.001'::interval))) THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid ELSE ((lpad(to_hex((floor((EXTRACT(epoch FROM p_time) * (1000)::numeric)))::bigint), 12, '0'::text) || '00000000000000000000'::text))::uuid END;

ALTER FUNCTION core_api.uuid_floor(p_time timestamp with time zone) OWNER TO migration_owner;

--
-- Name: uuid_time(uuid); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.uuid_time(p_id uuid) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('1970-01-01 00:00:00+00'::timestamp with time zone + ((((('x'::text || encode(substr(uuid_send(p_id), 1, 6), 'hex'::text)))::bit(48))::bigint)::double precision * '00:00:00.001'::interval));

ALTER FUNCTION core_api.uuid_time(p_id uuid) OWNER TO migration_owner;

--
-- Name: uuid_v7(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.uuid_v7() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (encode(set_bit(set_bit(OVERLAY(uuid_send(gen_random_uuid()) PLACING SUBSTRING(int8send((floor((EXTRACT(epoch FROM clock_timestamp()) * (1000)::numeric)))::bigint) FROM 3) FROM 1 FOR 6), (52)::bigint, 1), (53)::bigint, 1), 'hex'::text))::uuid AS encode;
END;

ALTER FUNCTION core_api.uuid_v7() OWNER TO migration_owner;

--
-- Name: uuid_v7_at(timestamp with time zone); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

CREATE FUNCTION core_api.uuid_v7_at(p_time timestamp with time zone) RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    BEGIN ATOMIC
 SELECT (encode(set_bit(set_bit(OVERLAY(uuid_send(gen_random_uuid()) PLACING SUBSTRING(int8send((floor((EXTRACT(epoch FROM p_time) * (1000)::numeric)))::bigint) FROM 3) FROM 1 FOR 6), (52)::bigint, 1), (53)::bigint, 1), 'hex'::text))::uuid AS encode;
END;

ALTER FUNCTION core_api.uuid_v7_at(p_time timestamp with time zone) OWNER TO migration_owner;

--
-- Name: verified_person_pk(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.verified_person_pk() OWNER TO migration_owner;

--
-- Name: verified_principal_kind(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.verified_principal_kind() OWNER TO migration_owner;

--
-- Name: verified_workspace_connector_pks(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.verified_workspace_connector_pks() OWNER TO migration_owner;

--
-- Name: verified_workspace_pk(); Type: FUNCTION; Schema: core_api; Owner: migration_owner
--

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

ALTER FUNCTION core_api.verified_workspace_pk() OWNER TO migration_owner;

--
-- Name: constraint_name(text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.constraint_name(p_name text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  -- A name PostgreSQL would cut at 63 bytes, cut as SQLAlchemy's naming convention cuts it (its
  -- first 55 characters, then the last four hex digits of its MD5), so the tables of
  -- wellapi.resources.tables name the same constraint.
  SELECT CASE WHEN pg_catalog.octet_length(p_name) <= 63 THEN p_name
              ELSE pg_catalog.left(p_name, 55) || '_' || pg_catalog.right(pg_catalog.md5(p_name), 4) END
$$;

ALTER FUNCTION well_private.constraint_name(p_name text) OWNER TO migration_owner;

--
-- Name: create_ledger(text, text, text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.create_ledger(p_record_type text, p_parent text, p_parent_id text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_X$
-- The ledger of p_record_type (core_api.<record type>_workspace_connectors) of the parent table
-- core_api.<p_parent>, whose public id is <p_parent_id>: made, registered in
-- well_private.change_types, and named where the ledgers are listed.
BEGIN
  IF p_record_type !~ '^[a-z][a-z0-9_]*$' OR p_parent !~ '^[a-z][a-z0-9_]*$'
     OR p_parent_id !~ '^[a-z][a-z0-9_]*$' THEN
    RAISE EXCEPTION 'a ledger is named by plain lowercase words: %, %, %',
      p_record_type, p_parent, p_parent_id USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- %1$s is the record type, %2$s the parent table, %3$s the parent's public id, %4$s the
  -- public id's unique key.
  EXECUTE format($ledger$
CREATE TABLE core_api.%1$s_workspace_connectors (
    %1$s_workspace_connector_id uuid DEFAULT core_api.uuid_v7() NOT NULL CONSTRAINT %4$I UNIQUE,
    %1$s_pk bigint NOT NULL REFERENCES core_api.%2$s(pk) ON UPDATE CASCADE,
    direction core_api.direction_enum NOT NULL,
    workspace_connector_pk bigint NOT NULL REFERENCES core_api.workspace_connectors(pk) ON UPDATE CASCADE,
    pk bigint GENERATED BY DEFAULT AS IDENTITY,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    occurred_at timestamp with time zone,
    CONSTRAINT %1$s_workspace_connectors_pkey PRIMARY KEY (pk, %1$s_workspace_connector_id),
    CONSTRAINT %1$s_workspace_connectors_created_at_is_the_id_time CHECK (created_at = core_api.uuid_time(%1$s_workspace_connector_id))
) PARTITION BY RANGE (%1$s_workspace_connector_id);

CREATE INDEX idx_%1$s_workspace_connectors_record ON core_api.%1$s_workspace_connectors (%1$s_pk, %1$s_workspace_connector_id);

CREATE INDEX idx_%1$s_workspace_connectors_record_live ON core_api.%1$s_workspace_connectors (%1$s_pk, %1$s_workspace_connector_id) WHERE (deleted_at IS NULL);

CREATE INDEX idx_%1$s_workspace_connectors_wc ON core_api.%1$s_workspace_connectors (workspace_connector_pk, %1$s_workspace_connector_id);

CREATE INDEX idx_%1$s_workspace_connectors_wc_input ON core_api.%1$s_workspace_connectors (workspace_connector_pk, %1$s_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'input'::core_api.direction_enum));

CREATE INDEX idx_%1$s_workspace_connectors_wc_output ON core_api.%1$s_workspace_connectors (workspace_connector_pk, %1$s_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'output'::core_api.direction_enum));

ALTER TABLE core_api.%1$s_workspace_connectors ENABLE ROW LEVEL SECURITY;

ALTER TABLE core_api.%1$s_workspace_connectors FORCE ROW LEVEL SECURITY;

CREATE POLICY %1$s_workspace_connectors_api ON core_api.%1$s_workspace_connectors TO well_api USING (((workspace_connector_pk = ANY ((SELECT core_api.verified_workspace_connector_pks())::bigint[])) OR ((SELECT core_api.verified_principal_kind()) = 'service'::text))) WITH CHECK (((SELECT core_api.verified_principal_kind()) = 'service'::text));

CREATE POLICY %1$s_workspace_connectors_api_insert ON core_api.%1$s_workspace_connectors AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK ((((SELECT core_api.verified_principal_kind()) = 'service'::text) AND (deleted_at IS NULL) AND (created_at > (now() - '00:10:00'::interval)) AND (created_at < (now() + '00:01:00'::interval)) AND (EXISTS ( SELECT 1
   FROM core_api.%2$s p
  WHERE ((p.pk = %1$s_workspace_connectors.%1$s_pk) AND (p.deleted_at IS NULL)))) AND (EXISTS ( SELECT 1
   FROM core_api.workspace_connectors p
  WHERE ((p.pk = %1$s_workspace_connectors.workspace_connector_pk) AND (p.deleted_at IS NULL)))) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = %1$s_workspace_connectors.workspace_connector_pk))))));

CREATE POLICY %1$s_workspace_connectors_api_update ON core_api.%1$s_workspace_connectors AS RESTRICTIVE FOR UPDATE TO well_api USING ((((SELECT core_api.verified_principal_kind()) = 'service'::text) AND (deleted_at IS NULL) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = %1$s_workspace_connectors.workspace_connector_pk)))))) WITH CHECK (((SELECT core_api.verified_principal_kind()) = 'service'::text));

CREATE POLICY %1$s_workspace_connectors_owner ON core_api.%1$s_workspace_connectors TO CURRENT_USER USING (true) WITH CHECK (true);

CREATE POLICY %1$s_workspace_connectors_sync ON core_api.%1$s_workspace_connectors TO well_sync USING (true) WITH CHECK (true);

CREATE FUNCTION core_api.%1$s_workspace_connectors_parents_agree() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'core_api', 'pg_temp'
    AS $$
DECLARE
  v_crossed bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    SELECT count(*) INTO v_crossed
      FROM new_rows n
     WHERE (SELECT r.workspace_pk FROM core_api.%2$s r WHERE r.pk = n.%1$s_pk)
           <> (SELECT wc.workspace_pk FROM core_api.workspace_connectors wc
                WHERE wc.pk = n.workspace_connector_pk);
  ELSE
    SELECT count(*) INTO v_crossed
      FROM core_api.%2$s r, core_api.workspace_connectors wc
     WHERE r.pk = NEW.%1$s_pk AND wc.pk = NEW.workspace_connector_pk
       AND r.workspace_pk <> wc.workspace_pk;
  END IF;
  IF v_crossed > 0 THEN
    RAISE EXCEPTION '%% row(s) of %% would point at a record and a workspace connector of two workspaces',
      v_crossed, TG_TABLE_NAME
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_parents_share_a_workspace';
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION core_api.%1$s_workspace_connectors_created_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  -- A row's time is its id's: the period it is kept in, and the order a List reads it in.
  NEW.created_at := core_api.uuid_time(NEW.%1$s_workspace_connector_id);
  RETURN NEW;
END
$$;

CREATE FUNCTION core_api.record_%1$s_workspace_connectors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'unlinked';
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
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.%3$s FROM core_api.%2$s r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.%1$s_workspace_connector_id AS id, t.%1$s_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.%1$s_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, 'linked'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, '%1$s_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', '%1$s', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.%3$s FROM core_api.%2$s r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.%1$s_workspace_connector_id AS id, t.%1$s_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.%1$s_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.%1$s_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.%1$s_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, '%1$s_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', '%1$s', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.%3$s FROM core_api.%2$s r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.%1$s_workspace_connector_id AS id, t.%1$s_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.%1$s_workspace_connector_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'linked' WHEN n.deleted_at IS NULL AND (o.%1$s_pk, o.workspace_connector_pk, o.direction) IS DISTINCT FROM (n.%1$s_pk, n.workspace_connector_pk, n.direction) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, '%1$s_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', '%1$s', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_connector_pk, c.direction, array_agg(c.id ORDER BY c.id) AS ids, array_agg((SELECT r.%3$s FROM core_api.%2$s r WHERE r.pk = c.record_pk) ORDER BY c.id) AS record_ids
      FROM (SELECT t.change, t.%1$s_workspace_connector_id AS id, t.%1$s_pk AS record_pk, t.workspace_connector_pk, t.direction, row_number() OVER (PARTITION BY t.change, t.workspace_connector_pk, t.direction ORDER BY t.%1$s_workspace_connector_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_connector_pk, c.direction, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT wc.workspace_pk, '%1$s_workspace_connector', g.change, g.ids, g.record_ids, jsonb_build_object('record_type', '%1$s', 'workspace_connector', wc.workspace_connector_id, 'direction', g.direction), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_connectors wc WHERE wc.pk = g.workspace_connector_pk OFFSET 0) wc;
  END IF;
  RETURN NULL;
END
$_$;

CREATE TRIGGER %1$s_workspace_connectors_created_at BEFORE INSERT ON core_api.%1$s_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.%1$s_workspace_connectors_created_at();

CREATE TRIGGER %1$s_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.%1$s_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

CREATE TRIGGER %1$s_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.%1$s_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.%1$s_workspace_connectors_parents_agree();

CREATE TRIGGER %1$s_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.%1$s_workspace_connectors FOR EACH ROW WHEN (((old.%1$s_pk IS DISTINCT FROM new.%1$s_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.%1$s_workspace_connectors_parents_agree();

CREATE TRIGGER %1$s_workspace_connectors_recorded_delete AFTER DELETE ON core_api.%1$s_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_%1$s_workspace_connectors();

CREATE TRIGGER %1$s_workspace_connectors_recorded_insert AFTER INSERT ON core_api.%1$s_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_%1$s_workspace_connectors();

CREATE TRIGGER %1$s_workspace_connectors_recorded_update AFTER UPDATE ON core_api.%1$s_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_%1$s_workspace_connectors();

CREATE TRIGGER %1$s_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.%1$s_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('%1$s_workspace_connector_id');

CREATE TRIGGER %2$s_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.%2$s FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('%1$s_workspace_connectors', '%1$s_pk');

REVOKE ALL ON FUNCTION core_api.%1$s_workspace_connectors_parents_agree() FROM PUBLIC;

REVOKE ALL ON FUNCTION core_api.record_%1$s_workspace_connectors() FROM PUBLIC;

REVOKE ALL ON FUNCTION core_api.%1$s_workspace_connectors_created_at() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION core_api.%1$s_workspace_connectors_created_at() TO well_api, well_sync;

GRANT SELECT, INSERT, UPDATE (direction, updated_at, deleted_at) ON TABLE core_api.%1$s_workspace_connectors TO well_api;

GRANT SELECT, INSERT, UPDATE (deleted_at) ON TABLE core_api.%1$s_workspace_connectors TO well_sync;
  $ledger$, p_record_type, p_parent, p_parent_id, well_private.constraint_name(
    p_record_type || '_workspace_connectors_' || p_record_type || '_workspace_connector_id_key'));
  INSERT INTO well_private.change_types (resource_type, junction, record_type)
  VALUES (p_record_type || '_workspace_connector', true, p_record_type);
  PERFORM well_private.name_the_change_types();
END
$_X$;

ALTER FUNCTION well_private.create_ledger(p_record_type text, p_parent text, p_parent_id text) OWNER TO migration_owner;

--
-- Name: drop_ledger(text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.drop_ledger(p_record_type text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- What well_private.create_ledger() made, taken away (a downgrade): refused, by the type checks
-- written again, while a change record or a sync table names the ledger.
DECLARE
  ledger text := p_record_type || '_workspace_connectors';
  parent text;
BEGIN
  SELECT c.confrelid::regclass::text INTO STRICT parent
    FROM pg_constraint c
   WHERE c.conrelid = ('core_api.' || quote_ident(ledger))::regclass AND c.contype = 'f'
     AND c.conname = ledger || '_' || p_record_type || '_pk_fkey';
  EXECUTE format('DROP TRIGGER %s_linked_stays_in_workspace ON %s',
                 split_part(parent, '.', 2), parent);
  EXECUTE format('DROP TABLE core_api.%I', ledger);
  EXECUTE format('DROP FUNCTION core_api.%I(), core_api.%I(), core_api.%I()',
                 'record_' || ledger, ledger || '_parents_agree', ledger || '_created_at');
  DELETE FROM core_api.ledger_periods p WHERE p.ledger = (p_record_type || '_workspace_connectors');
  DELETE FROM well_private.change_types WHERE record_type = p_record_type;
  PERFORM well_private.name_the_change_types();
END
$$;

ALTER FUNCTION well_private.drop_ledger(p_record_type text) OWNER TO migration_owner;

--
-- Name: insert_api_key(bigint, bigint, text, text, text, bytea, integer, uuid); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.insert_api_key(p_workspace_pk bigint, p_person_pk bigint, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer, p_replaces uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_key record;
  v_detail jsonb := well_private.issued_api_key(p_prefix, p_secret_hash);
BEGIN
  IF v_detail IS NOT NULL THEN
    RETURN v_detail;
  END IF;
  IF p_kind = 'member' AND NOT EXISTS (
       SELECT FROM core_api.memberships m
        WHERE m.person_pk = p_person_pk AND m.workspace_pk = p_workspace_pk
          AND m.status = 'active' AND m.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'the person has no active membership in the workspace: a member key would get 403'
      USING ERRCODE = 'WO409';
  END IF;
  INSERT INTO core_api.api_keys (name, prefix, secret_hash, person_pk, workspace_pk, kind,
                                 expires_at)
  VALUES (p_name, p_prefix, p_secret_hash, p_person_pk, p_workspace_pk,
          p_kind::core_api.api_key_kind_enum, now() + make_interval(secs => p_expires_in_seconds))
  RETURNING api_key_id, expires_at INTO v_key;
  v_detail := jsonb_strip_nulls(jsonb_build_object(
    'person', (SELECT p.person_id FROM core_api.peoples p WHERE p.pk = p_person_pk),
    'name', p_name, 'kind', p_kind, 'prefix', p_prefix, 'expires_at', v_key.expires_at,
    'replaces', p_replaces));
  PERFORM well_private.record_operator_change(p_workspace_pk, 'api_key', 'issued', v_key.api_key_id,
                                              v_detail);
  RETURN v_detail || jsonb_build_object('api_key_id', v_key.api_key_id,
                                        'expires_at', v_key.expires_at);
END
$$;

ALTER FUNCTION well_private.insert_api_key(p_workspace_pk bigint, p_person_pk bigint, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer, p_replaces uuid) OWNER TO migration_owner;

--
-- Name: issued_api_key(text, bytea); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.issued_api_key(p_prefix text, p_secret_hash bytea) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT r.detail || jsonb_build_object('api_key_id', k.api_key_id, 'expires_at', k.expires_at)
    FROM core_api.api_keys k
    JOIN core_api.change_records r
      ON r.workspace_pk = k.workspace_pk AND r.resource_type = 'api_key' AND r.change = 'issued'
     AND r.ids = ARRAY[k.api_key_id]
   WHERE k.prefix = p_prefix AND k.secret_hash = p_secret_hash
$$;

ALTER FUNCTION well_private.issued_api_key(p_prefix text, p_secret_hash bytea) OWNER TO migration_owner;

--
-- Name: junction_id_column(regclass); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.junction_id_column(p_table regclass) RETURNS text
    LANGUAGE sql STABLE
    AS $$
  -- The public id of a junction's table (well_private.change_types), NULL for any other table.
  SELECT c.resource_type || '_id' FROM well_private.change_types c
   WHERE c.junction AND pg_catalog.to_regclass('core_api.' || c.resource_type || 's') = p_table
$$;

ALTER FUNCTION well_private.junction_id_column(p_table regclass) OWNER TO migration_owner;

--
-- Name: ledger_period_length(text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.ledger_period_length(p_period text) RETURNS interval
    LANGUAGE sql IMMUTABLE STRICT
    RETURN CASE p_period WHEN 'year'::text THEN '1 year'::interval WHEN 'quarter'::text THEN '3 mons'::interval WHEN 'month'::text THEN '1 mon'::interval ELSE NULL::interval END;

ALTER FUNCTION well_private.ledger_period_length(p_period text) OWNER TO migration_owner;

--
-- Name: live_workspace_pk(uuid); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.live_workspace_pk(p_workspace_id uuid) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint;
BEGIN
  SELECT w.pk INTO v_pk FROM core_api.workspaces w
   WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  IF v_pk IS NULL THEN
    RAISE EXCEPTION 'no live workspace %', p_workspace_id USING ERRCODE = 'WO404';
  END IF;
  RETURN v_pk;
END
$$;

ALTER FUNCTION well_private.live_workspace_pk(p_workspace_id uuid) OWNER TO migration_owner;

--
-- Name: locked_api_key_pk(uuid, text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.locked_api_key_pk(p_api_key_id uuid, p_prefix text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint;
BEGIN
  SELECT k.pk INTO v_pk FROM core_api.api_keys k
   WHERE (k.api_key_id = p_api_key_id OR k.prefix = p_prefix) AND k.deleted_at IS NULL
     FOR UPDATE;
  IF v_pk IS NULL THEN
    RAISE EXCEPTION 'no API key with id or prefix %', coalesce(p_api_key_id::text, p_prefix)
      USING ERRCODE = 'WO404';
  END IF;
  RETURN v_pk;
END
$$;

ALTER FUNCTION well_private.locked_api_key_pk(p_api_key_id uuid, p_prefix text) OWNER TO migration_owner;

--
-- Name: mac(text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.mac(p_message text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(k.outer_key || sha256(k.inner_key || convert_to(p_message, 'UTF8'))), 'hex')
    FROM well_private.scope_keys k WHERE k.id = 1
$$;

ALTER FUNCTION well_private.mac(p_message text) OWNER TO migration_owner;

--
-- Name: make_ledger_period(text, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.make_ledger_period(p_ledger text, p_starts_at timestamp with time zone, p_ends_at timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- One period of p_ledger: its partition, the ids of p_starts_at to p_ends_at, under the
-- ledger's policies (no role but the owner may read a partition by its name, and row-level
-- security is on in it too), and its row in core_api.ledger_periods.
--
-- A record's rows are planned as a busy record's, a thousandth of its period (n_distinct):
-- a List of one record reads a page from each period in id order, where a plan that believed
-- a record holds a handful would read all its rows and sort them (an analysed empty period, the
-- one made ahead, costs its sequential scan nothing, and tips it).
DECLARE
  v_name text := p_ledger || '_p' || to_char(p_starts_at AT TIME ZONE 'UTC', 'YYYYMMDD');
BEGIN
  EXECUTE format('CREATE TABLE core_api.%I PARTITION OF core_api.%I FOR VALUES FROM (%L) TO (%L) '
                 'WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01)',
                 v_name, p_ledger, core_api.uuid_floor(p_starts_at), core_api.uuid_floor(p_ends_at));
  EXECUTE format('ALTER TABLE core_api.%I ALTER COLUMN %I SET (n_distinct = -0.001)',
                 v_name, replace(p_ledger, '_workspace_connectors', '_pk'));
  EXECUTE format('ALTER TABLE core_api.%I ENABLE ROW LEVEL SECURITY', v_name);
  EXECUTE format('REVOKE ALL ON TABLE core_api.%I FROM PUBLIC', v_name);
  INSERT INTO core_api.ledger_periods (ledger, starts_at, ends_at, partition_name)
  VALUES (p_ledger, p_starts_at, p_ends_at, v_name);
END
$$;

ALTER FUNCTION well_private.make_ledger_period(p_ledger text, p_starts_at timestamp with time zone, p_ends_at timestamp with time zone) OWNER TO migration_owner;

--
-- Name: make_ledger_periods(text, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.make_ledger_periods(p_period text, p_from timestamp with time zone, p_through timestamp with time zone) RETURNS TABLE(ledger text, starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '2s'
    AS $$
-- Every ledger's periods made, one partition a period, so that together they cover p_from to
-- p_through: before its first period and after its last, aligned to p_period ('year',
-- 'quarter' or 'month', in UTC; a period after a change of length ends at the next boundary
-- of the new length). Answers each period made. Making a partition locks its ledger briefly
-- (ACCESS EXCLUSIVE): lock_timeout lets a long reader win, and the next run makes it.
DECLARE
  v_step interval;
  v_ledger text;
  v_first timestamptz;
  v_last timestamptz;
  v_start timestamptz;
BEGIN
  IF p_period NOT IN ('year', 'quarter', 'month') THEN
    RAISE EXCEPTION 'a ledger period is a year, a quarter or a month, not %', p_period
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_from IS NULL OR p_through IS NULL OR p_from > p_through THEN
    RAISE EXCEPTION 'ledger periods are made from a time through a later one, not % through %',
      p_from, p_through USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_step := well_private.ledger_period_length(p_period);
  FOR v_ledger IN
    SELECT c.record_type || '_workspace_connectors' FROM well_private.change_types c
     WHERE c.record_type IS NOT NULL ORDER BY 1
  LOOP
    SELECT min(p.starts_at), max(p.ends_at) INTO v_first, v_last
      FROM core_api.ledger_periods p WHERE p.ledger = v_ledger;
    IF v_first IS NULL THEN
      v_first := date_trunc(p_period, p_from, 'UTC');
      v_last := v_first;
    END IF;
    WHILE v_first > p_from LOOP
      v_start := date_trunc(p_period, v_first - interval '1 microsecond', 'UTC');
      PERFORM well_private.make_ledger_period(v_ledger, v_start, v_first);
      RETURN QUERY SELECT v_ledger, v_start, v_first;
      v_first := v_start;
    END LOOP;
    WHILE v_last <= p_through LOOP
      v_start := v_last;
      v_last := date_trunc(p_period, v_start + v_step, 'UTC');
      PERFORM well_private.make_ledger_period(v_ledger, v_start, v_last);
      RETURN QUERY SELECT v_ledger, v_start, v_last;
    END LOOP;
  END LOOP;
END
$$;

ALTER FUNCTION well_private.make_ledger_periods(p_period text, p_from timestamp with time zone, p_through timestamp with time zone) OWNER TO migration_owner;

--
-- Name: name_the_change_types(); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.name_the_change_types() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
-- What lists the change types, written again from well_private.change_types: the change
-- records' resource types, the sync tables' record types (the ledgers'), and the ledgers a
-- workspace connector cannot leave its workspace with. Each check is added NOT VALID, then
-- validated: it only ever widens.
DECLARE
  resource_types text;
  record_types text;
  ledgers text;
BEGIN
  SELECT string_agg(quote_literal(resource_type) || '::text', ', ' ORDER BY resource_type COLLATE "C"),
         string_agg(quote_literal(record_type) || '::text', ', ' ORDER BY record_type COLLATE "C"),
         string_agg(quote_literal(record_type || '_workspace_connectors')
                    || ', ''workspace_connector_pk''', ', ' ORDER BY record_type COLLATE "C")
    INTO resource_types, record_types, ledgers
    FROM well_private.change_types;
  EXECUTE format($checks$
ALTER TABLE core_api.change_records DROP CONSTRAINT IF EXISTS change_records_resource_type,
  ADD CONSTRAINT change_records_resource_type CHECK (resource_type = ANY (ARRAY[%1$s])) NOT VALID;
ALTER TABLE core_api.change_records VALIDATE CONSTRAINT change_records_resource_type;
ALTER TABLE core_api.sync_tombstones DROP CONSTRAINT IF EXISTS sync_tombstones_record_type,
  ADD CONSTRAINT sync_tombstones_record_type CHECK (record_type = ANY (ARRAY[%2$s])) NOT VALID;
ALTER TABLE core_api.sync_tombstones VALIDATE CONSTRAINT sync_tombstones_record_type;
ALTER TABLE core_api.revocation_sweeps DROP CONSTRAINT IF EXISTS revocation_sweeps_record_type,
  ADD CONSTRAINT revocation_sweeps_record_type CHECK (record_type = ANY (ARRAY[%2$s])) NOT VALID;
ALTER TABLE core_api.revocation_sweeps VALIDATE CONSTRAINT revocation_sweeps_record_type;
CREATE OR REPLACE TRIGGER workspace_connectors_linked_stays_in_workspace
  BEFORE UPDATE OF workspace_pk ON core_api.workspace_connectors
  FOR EACH ROW WHEN (old.workspace_pk IS DISTINCT FROM new.workspace_pk)
  EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace(%3$s);
  $checks$, resource_types, record_types, ledgers);
END
$_$;

ALTER FUNCTION well_private.name_the_change_types() OWNER TO migration_owner;

--
-- Name: proof_mac(bytea, text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.proof_mac(p_key bytea, p_message text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(p_key || sha256(p_key || convert_to(p_message, 'UTF8'))), 'hex')
$$;

ALTER FUNCTION well_private.proof_mac(p_key bytea, p_message text) OWNER TO migration_owner;

--
-- Name: random_key(); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.random_key() RETURNS bytea
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                || uuid_send(gen_random_uuid()))
$$;

ALTER FUNCTION well_private.random_key() OWNER TO migration_owner;

--
-- Name: record_operator_change(bigint, text, text, uuid, jsonb); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.record_operator_change(p_workspace_pk bigint, p_resource_type text, p_change text, p_id uuid, p_detail jsonb) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, detail,
                                       occurred_at, actor_kind)
  VALUES (p_workspace_pk, p_resource_type, p_change, ARRAY[p_id], p_detail, now(), 'operator')
$$;

ALTER FUNCTION well_private.record_operator_change(p_workspace_pk bigint, p_resource_type text, p_change text, p_id uuid, p_detail jsonb) OWNER TO migration_owner;

--
-- Name: record_settings(); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.record_settings() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- Each role's own defaults set in the catalog as the deployment declares them
-- (well_private.role_defaults), whatever a role set for itself before; then what every
-- transaction of each role sets again (core_api.transaction_settings) and the bounds beyond which
-- its sessions count as stalled (well_private.session_bounds), from this server's settings and
-- the declared defaults, never from the catalog's. Run by the baseline, and again by a migration
-- that changes the declared defaults and after a major upgrade. The SET clause undoes, at the
-- function's exit, every setting it sets to learn how a value shows.
DECLARE
  -- A transaction's isolation and access mode (its BEGIN names them), who it runs as (no
  -- transaction changes it), the client's name: never set by a transaction.
  not_set CONSTANT text[] := ARRAY['transaction_isolation', 'transaction_read_only',
    'transaction_deferrable', 'role', 'session_authorization', 'application_name'];
  timers CONSTANT text[] := ARRAY['transaction_timeout', 'statement_timeout',
    'idle_in_transaction_session_timeout'];
  socket CONSTANT text[] := ARRAY['tcp_keepalives_count', 'tcp_keepalives_idle',
    'tcp_keepalives_interval', 'tcp_user_timeout'];
  -- The settings the application's functions read, each empty until a statement sets it.
  own CONSTANT text[] := ARRAY['well.scope', 'well.proof', 'well.change', 'well.person_pk',
    'well.principal_kind', 'well.workspace_pk', 'well.workspace_connector_pks'];
  role_name text;
  restore record;
BEGIN
  FOR restore IN SELECT * FROM core_api.role_defaults_to_restore() LOOP
    FOR attempt IN 1..3 LOOP
      BEGIN
        EXECUTE restore.statement;
        EXIT;
      EXCEPTION WHEN internal_error THEN
        -- Another database's healer or migration changed the same every-database row first
        -- ("tuple concurrently updated"): the statement, run again, finds it as it is now.
        IF attempt = 3 THEN RAISE; END IF;
      END;
    END LOOP;
  END LOOP;
  DELETE FROM core_api.transaction_settings;
  FOR role_name IN SELECT DISTINCT d.role FROM well_private.role_defaults d UNION ALL SELECT '' LOOP
    INSERT INTO core_api.transaction_settings
    WITH server AS (
      -- What a session starts with on this server, for every setting a role may change.
      SELECT s.name, CASE s.name WHEN 'search_path' THEN 'pg_catalog, pg_temp'
                                 WHEN 'client_encoding' THEN 'UTF8' ELSE s.reset_val END AS value
        FROM pg_settings s
       WHERE s.context = 'user' AND s.name <> ALL (not_set)
    ), role_own AS (
      -- The role's declared defaults, for every database, then for this one (which wins).
      SELECT DISTINCT ON (split_part(item, '=', 1))
             split_part(item, '=', 1) AS name, substr(item, strpos(item, '=') + 1) AS value
        FROM well_private.role_defaults d
       CROSS JOIN unnest(d.settings) AS item
       WHERE d.role = role_name
       ORDER BY split_part(item, '=', 1), d.in_database DESC
    ), written AS (
      SELECT server.name, COALESCE(role_own.value, server.value) AS value
        FROM server LEFT JOIN role_own USING (name)
    ), shown AS (
      -- As current_setting shows it once set (4MB, not 4096): what a transaction compares.
      SELECT w.name, w.value AS written, set_config(w.name, w.value, true) AS value
        FROM written w
    )
    SELECT role_name,
           (SELECT value FROM shown WHERE name = 'transaction_timeout'),
           (SELECT value FROM shown WHERE name = 'statement_timeout'),
           (SELECT value FROM shown WHERE name = 'idle_in_transaction_session_timeout'),
           (SELECT written FROM shown WHERE name = 'tcp_keepalives_count'),
           (SELECT written FROM shown WHERE name = 'tcp_keepalives_idle'),
           (SELECT written FROM shown WHERE name = 'tcp_keepalives_interval'),
           (SELECT written FROM shown WHERE name = 'tcp_user_timeout'),
           (SELECT array_agg(name ORDER BY name COLLATE "C") FROM shown
             WHERE name <> ALL (timers || socket)) || own,
           (SELECT array_agg(value ORDER BY name COLLATE "C") FROM shown
             WHERE name <> ALL (timers || socket)) || array_fill(''::text, ARRAY[cardinality(own)]);
  END LOOP;
  -- Per role, what its own timeouts allow (a statement, a transaction idle): a role may lift
  -- its own defaults, never this table.
  DELETE FROM well_private.session_bounds;
  INSERT INTO well_private.session_bounds (role, statement_bound, idle_bound)
  SELECT t.role, nullif(t.statement_timeout, '0')::interval,
         nullif(t.idle_in_transaction_session_timeout, '0')::interval
    FROM core_api.transaction_settings t
   WHERE t.role <> '';
END
$$;

ALTER FUNCTION well_private.record_settings() OWNER TO migration_owner;

--
-- Name: scope_token(bigint, text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.scope_token(p_person_pk bigint, p_kind text) RETURNS text
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT b.body || '.' || well_private.mac('token|' || b.body)
    FROM (SELECT 't1.' || p_person_pk || '.' || p_kind || '.'
                 || (floor(extract(epoch FROM clock_timestamp()))::bigint + 600) AS body) b
$$;

ALTER FUNCTION well_private.scope_token(p_person_pk bigint, p_kind text) OWNER TO migration_owner;

--
-- Name: text_digest(text); Type: FUNCTION; Schema: well_private; Owner: migration_owner
--

CREATE FUNCTION well_private.text_digest(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(convert_to(p_text, 'UTF8')), 'hex')
$$;

ALTER FUNCTION well_private.text_digest(p_text text) OWNER TO migration_owner;

--
-- Name: account_workspace_connectors; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.account_workspace_connectors (
    account_workspace_connector_id uuid DEFAULT core_api.uuid_v7() NOT NULL,
    account_pk bigint NOT NULL,
    direction core_api.direction_enum NOT NULL,
    workspace_connector_pk bigint NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    occurred_at timestamp with time zone,
    CONSTRAINT account_workspace_connectors_created_at_is_the_id_time CHECK ((created_at = core_api.uuid_time(account_workspace_connector_id)))
)
PARTITION BY RANGE (account_workspace_connector_id);

ALTER TABLE ONLY core_api.account_workspace_connectors FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.account_workspace_connectors OWNER TO migration_owner;

--
-- Name: account_workspace_connectors_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.account_workspace_connectors ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.account_workspace_connectors_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: accounts; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.accounts (
    account_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_pk bigint NOT NULL,
    type core_api.account_type_enum DEFAULT 'other'::core_api.account_type_enum NOT NULL,
    account_name text,
    account_external_id text,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.accounts FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.accounts OWNER TO migration_owner;

--
-- Name: accounts_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.accounts ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.accounts_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: alembic_version; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.alembic_version (
    version_num character varying(32) NOT NULL
);

ALTER TABLE core_api.alembic_version OWNER TO migration_owner;

--
-- Name: api_keys; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.api_keys (
    api_key_id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    secret_hash bytea NOT NULL,
    person_pk bigint NOT NULL,
    workspace_pk bigint NOT NULL,
    kind core_api.api_key_kind_enum DEFAULT 'member'::core_api.api_key_kind_enum NOT NULL,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    expires_at timestamp with time zone,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    CONSTRAINT api_keys_secret_hash_is_sha256 CHECK ((octet_length(secret_hash) = 32))
);

ALTER TABLE core_api.api_keys OWNER TO migration_owner;

--
-- Name: api_keys_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.api_keys ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.api_keys_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: change_feed_pruned; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.change_feed_pruned (
    workspace_pk bigint NOT NULL,
    xid xid8 NOT NULL,
    pk bigint NOT NULL,
    pruned_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY core_api.change_feed_pruned FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.change_feed_pruned OWNER TO migration_owner;

--
-- Name: change_records; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.change_records (
    pk bigint NOT NULL,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    workspace_pk bigint NOT NULL,
    resource_type text NOT NULL,
    change text NOT NULL,
    ids uuid[] NOT NULL,
    record_ids uuid[],
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    actor_kind text NOT NULL,
    actor_person_pk bigint,
    sync_run_id text,
    message_key text,
    sent_at timestamp with time zone,
    CONSTRAINT change_records_actor CHECK (((actor_kind = ANY (ARRAY['member'::text, 'service'::text])) = (actor_person_pk IS NOT NULL))),
    CONSTRAINT change_records_actor_kind CHECK ((actor_kind = ANY (ARRAY['member'::text, 'service'::text, 'sync'::text, 'sweep'::text, 'operator'::text, 'system'::text]))),
    CONSTRAINT change_records_change CHECK ((change = ANY (ARRAY['linked'::text, 'unlinked'::text, 'removed'::text, 'revoked'::text, 'enrolled'::text, 'unenrolled'::text, 'selected'::text, 'changed'::text, 'created'::text, 'issued'::text]))),
    CONSTRAINT change_records_ids CHECK (((cardinality(ids) >= 1) AND (cardinality(ids) <= 1000))),
    CONSTRAINT change_records_record_ids CHECK (((record_ids IS NULL) OR (cardinality(record_ids) = cardinality(ids)))),
    CONSTRAINT change_records_resource_type CHECK ((resource_type = ANY (ARRAY['account_workspace_connector'::text, 'api_key'::text, 'company_workspace_connector'::text, 'membership'::text, 'people'::text, 'people_workspace_connector'::text, 'workspace'::text, 'workspace_connector'::text, 'workspace_group_workspace'::text, 'workspace_provider'::text])))
);

ALTER TABLE ONLY core_api.change_records FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.change_records OWNER TO migration_owner;

--
-- Name: change_records_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.change_records ALTER COLUMN pk ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME core_api.change_records_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: companies; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.companies (
    company_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_pk bigint NOT NULL,
    name text NOT NULL,
    domain text,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.companies FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.companies OWNER TO migration_owner;

--
-- Name: companies_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.companies ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.companies_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: company_workspace_connectors; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.company_workspace_connectors (
    company_workspace_connector_id uuid DEFAULT core_api.uuid_v7() NOT NULL,
    company_pk bigint NOT NULL,
    direction core_api.direction_enum NOT NULL,
    workspace_connector_pk bigint NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    occurred_at timestamp with time zone,
    CONSTRAINT company_workspace_connectors_created_at_is_the_id_time CHECK ((created_at = core_api.uuid_time(company_workspace_connector_id)))
)
PARTITION BY RANGE (company_workspace_connector_id);

ALTER TABLE ONLY core_api.company_workspace_connectors FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.company_workspace_connectors OWNER TO migration_owner;

--
-- Name: company_workspace_connectors_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.company_workspace_connectors ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.company_workspace_connectors_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: connector_revocations; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.connector_revocations (
    workspace_connector_pk bigint NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone DEFAULT now() NOT NULL,
    swept_at timestamp with time zone,
    rows_swept bigint DEFAULT 0 NOT NULL
);

ALTER TABLE core_api.connector_revocations OWNER TO migration_owner;

--
-- Name: connectors; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.connectors (
    connector_id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    provider core_api.connector_provider_enum NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE core_api.connectors OWNER TO migration_owner;

--
-- Name: connectors_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.connectors ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.connectors_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: ledger_periods; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.ledger_periods (
    ledger text NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    partition_name text NOT NULL,
    made_at timestamp with time zone DEFAULT now() NOT NULL,
    detached_at timestamp with time zone,
    archived_at timestamp with time zone,
    archive_location text,
    archive_rows bigint,
    archive_digest text,
    CONSTRAINT ledger_periods_archived_with_its_files CHECK (((archived_at IS NULL) OR ((detached_at IS NOT NULL) AND (archive_location IS NOT NULL) AND (archive_rows IS NOT NULL) AND (archive_digest IS NOT NULL)))),
    CONSTRAINT ledger_periods_in_order CHECK ((starts_at < ends_at))
);

ALTER TABLE core_api.ledger_periods OWNER TO migration_owner;

--
-- Name: TABLE ledger_periods; Type: COMMENT; Schema: core_api; Owner: migration_owner
--

COMMENT ON TABLE core_api.ledger_periods IS 'The periods of the provenance ledgers, a row a partition: made ahead by core_api.make_ledger_periods_ahead() (the sweeper); archived past the retention horizon by the archive (its partition dropped, its row kept).';

--
-- Name: memberships; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.memberships (
    membership_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_pk bigint NOT NULL,
    person_pk bigint NOT NULL,
    role core_api.membership_role_enum DEFAULT 'member'::core_api.membership_role_enum NOT NULL,
    status core_api.membership_status_enum DEFAULT 'pending'::core_api.membership_status_enum NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.memberships FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.memberships OWNER TO migration_owner;

--
-- Name: memberships_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.memberships ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.memberships_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: people_workspace_connectors; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.people_workspace_connectors (
    people_workspace_connector_id uuid DEFAULT core_api.uuid_v7() NOT NULL,
    people_pk bigint NOT NULL,
    direction core_api.direction_enum NOT NULL,
    workspace_connector_pk bigint NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    occurred_at timestamp with time zone,
    CONSTRAINT people_workspace_connectors_created_at_is_the_id_time CHECK ((created_at = core_api.uuid_time(people_workspace_connector_id)))
)
PARTITION BY RANGE (people_workspace_connector_id);

ALTER TABLE ONLY core_api.people_workspace_connectors FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.people_workspace_connectors OWNER TO migration_owner;

--
-- Name: people_workspace_connectors_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.people_workspace_connectors ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.people_workspace_connectors_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: peoples; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.peoples (
    person_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_pk bigint NOT NULL,
    first_name text,
    last_name text,
    full_name text NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.peoples FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.peoples OWNER TO migration_owner;

--
-- Name: peoples_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.peoples ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.peoples_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: providers; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.providers (
    provider_id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    url text,
    category core_api.provider_category_enum DEFAULT 'General'::core_api.provider_category_enum NOT NULL,
    popularity_score integer,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE core_api.providers OWNER TO migration_owner;

--
-- Name: providers_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.providers ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.providers_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: revocation_sweeps; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.revocation_sweeps (
    workspace_connector_pk bigint NOT NULL,
    record_type text NOT NULL,
    direction core_api.direction_enum NOT NULL,
    after_created_at timestamp with time zone,
    after_id uuid,
    done boolean DEFAULT false NOT NULL,
    CONSTRAINT revocation_sweeps_record_type CHECK ((record_type = ANY (ARRAY['account'::text, 'company'::text, 'people'::text])))
);

ALTER TABLE core_api.revocation_sweeps OWNER TO migration_owner;

--
-- Name: sync_receipts; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.sync_receipts (
    idempotency_key text NOT NULL,
    message_type text NOT NULL,
    workspace_connector_pk bigint NOT NULL,
    sync_run_id text,
    occurred_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    fingerprint bytea,
    CONSTRAINT sync_receipts_fingerprint_is_sha256 CHECK ((octet_length(fingerprint) = 32)),
    CONSTRAINT sync_receipts_key_length CHECK (((length(idempotency_key) >= 1) AND (length(idempotency_key) <= 200)))
);

ALTER TABLE core_api.sync_receipts OWNER TO migration_owner;

--
-- Name: sync_tombstones; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.sync_tombstones (
    workspace_connector_pk bigint NOT NULL,
    record_type text NOT NULL,
    record_pk bigint NOT NULL,
    direction core_api.direction_enum NOT NULL,
    unlinked_at timestamp with time zone NOT NULL,
    CONSTRAINT sync_tombstones_record_type CHECK ((record_type = ANY (ARRAY['account'::text, 'company'::text, 'people'::text])))
);

ALTER TABLE core_api.sync_tombstones OWNER TO migration_owner;

--
-- Name: transaction_settings; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.transaction_settings (
    role name NOT NULL,
    transaction_timeout text,
    statement_timeout text NOT NULL,
    idle_in_transaction_session_timeout text NOT NULL,
    tcp_keepalives_count text NOT NULL,
    tcp_keepalives_idle text NOT NULL,
    tcp_keepalives_interval text NOT NULL,
    tcp_user_timeout text NOT NULL,
    names text[] NOT NULL,
    values_shown text[] NOT NULL
);

ALTER TABLE core_api.transaction_settings OWNER TO migration_owner;

--
-- Name: TABLE transaction_settings; Type: COMMENT; Schema: core_api; Owner: migration_owner
--

COMMENT ON TABLE core_api.transaction_settings IS 'What every transaction of a role (role; '''' for any other) sets again: written by well_private.record_settings(), read by core_api.set_transaction_settings().';

--
-- Name: workspace_connectors; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.workspace_connectors (
    workspace_connector_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_pk bigint NOT NULL,
    connector_pk bigint NOT NULL,
    status core_api.workspace_connector_status_enum DEFAULT 'to_configure'::core_api.workspace_connector_status_enum NOT NULL,
    config jsonb,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.workspace_connectors FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.workspace_connectors OWNER TO migration_owner;

--
-- Name: workspace_connectors_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_connectors ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.workspace_connectors_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: workspace_group_memberships; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.workspace_group_memberships (
    workspace_group_membership_id uuid DEFAULT gen_random_uuid() NOT NULL,
    person_pk bigint NOT NULL,
    workspace_group_pk bigint NOT NULL,
    role core_api.workspace_group_role_enum DEFAULT 'member'::core_api.workspace_group_role_enum NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.workspace_group_memberships FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.workspace_group_memberships OWNER TO migration_owner;

--
-- Name: workspace_group_memberships_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_group_memberships ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.workspace_group_memberships_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: workspace_group_workspaces; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.workspace_group_workspaces (
    workspace_group_workspace_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_group_pk bigint NOT NULL,
    workspace_pk bigint NOT NULL,
    created_by_pk bigint,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.workspace_group_workspaces FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.workspace_group_workspaces OWNER TO migration_owner;

--
-- Name: workspace_group_workspaces_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_group_workspaces ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.workspace_group_workspaces_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: workspace_groups; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.workspace_groups (
    workspace_group_id uuid DEFAULT gen_random_uuid() NOT NULL,
    name character varying(255) NOT NULL,
    created_by_pk bigint,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.workspace_groups FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.workspace_groups OWNER TO migration_owner;

--
-- Name: workspace_groups_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_groups ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.workspace_groups_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: workspace_providers; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.workspace_providers (
    workspace_provider_id uuid DEFAULT gen_random_uuid() NOT NULL,
    workspace_pk bigint NOT NULL,
    provider_pk bigint NOT NULL,
    is_selected boolean DEFAULT false NOT NULL,
    is_matched boolean DEFAULT false NOT NULL,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    CONSTRAINT workspace_providers_selected_implies_matched CHECK (((NOT is_selected) OR is_matched))
);

ALTER TABLE ONLY core_api.workspace_providers FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.workspace_providers OWNER TO migration_owner;

--
-- Name: workspace_providers_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_providers ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.workspace_providers_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: workspaces; Type: TABLE; Schema: core_api; Owner: migration_owner
--

CREATE TABLE core_api.workspaces (
    workspace_id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    external_workspace_id text,
    parent_workspace_pk bigint,
    pk bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY core_api.workspaces FORCE ROW LEVEL SECURITY;

ALTER TABLE core_api.workspaces OWNER TO migration_owner;

--
-- Name: workspaces_pk_seq; Type: SEQUENCE; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspaces ALTER COLUMN pk ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME core_api.workspaces_pk_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: change_types; Type: TABLE; Schema: well_private; Owner: migration_owner
--

CREATE TABLE well_private.change_types (
    resource_type text NOT NULL,
    junction boolean NOT NULL,
    record_type text
);

ALTER TABLE well_private.change_types OWNER TO migration_owner;

--
-- Name: idempotency_keys; Type: TABLE; Schema: well_private; Owner: migration_owner
--

CREATE TABLE well_private.idempotency_keys (
    person_pk bigint NOT NULL,
    principal_kind text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint text NOT NULL,
    status smallint,
    rows jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_keys_answered CHECK (((status IS NULL) = (rows IS NULL))),
    CONSTRAINT idempotency_keys_key_length CHECK (((length(idempotency_key) >= 1) AND (length(idempotency_key) <= 255)))
);

ALTER TABLE well_private.idempotency_keys OWNER TO migration_owner;

--
-- Name: role_defaults; Type: TABLE; Schema: well_private; Owner: migration_owner
--

CREATE TABLE well_private.role_defaults (
    role name NOT NULL,
    in_database boolean NOT NULL,
    settings text[] NOT NULL
);

ALTER TABLE well_private.role_defaults OWNER TO migration_owner;

--
-- Name: TABLE role_defaults; Type: COMMENT; Schema: well_private; Owner: migration_owner
--

COMMENT ON TABLE well_private.role_defaults IS 'What the deployment declares as each role''s own defaults (settings.sql), as pg_db_role_setting holds them (name=value), in this database (in_database) and in every database: what well_private.record_settings() sets and records, and core_api.restore_role_defaults() sets back.';

--
-- Name: scope_keys; Type: TABLE; Schema: well_private; Owner: migration_owner
--

CREATE TABLE well_private.scope_keys (
    id smallint NOT NULL,
    inner_key bytea NOT NULL,
    outer_key bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT scope_keys_id_check CHECK ((id = 1)),
    CONSTRAINT scope_keys_inner_key_check CHECK ((octet_length(inner_key) = 32)),
    CONSTRAINT scope_keys_outer_key_check CHECK ((octet_length(outer_key) = 32))
);

ALTER TABLE well_private.scope_keys OWNER TO migration_owner;

--
-- Name: session_bounds; Type: TABLE; Schema: well_private; Owner: migration_owner
--

CREATE TABLE well_private.session_bounds (
    role name NOT NULL,
    statement_bound interval,
    idle_bound interval
);

ALTER TABLE well_private.session_bounds OWNER TO migration_owner;

--
-- Name: account_workspace_connectors account_workspace_connectors_account_workspace_connector_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.account_workspace_connectors
    ADD CONSTRAINT account_workspace_connectors_account_workspace_connector_id_key UNIQUE (account_workspace_connector_id);

--
-- Name: account_workspace_connectors account_workspace_connectors_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.account_workspace_connectors
    ADD CONSTRAINT account_workspace_connectors_pkey PRIMARY KEY (pk, account_workspace_connector_id);

--
-- Name: accounts accounts_account_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.accounts
    ADD CONSTRAINT accounts_account_id_key UNIQUE (account_id);

--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (pk);

--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

--
-- Name: api_keys api_keys_api_key_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.api_keys
    ADD CONSTRAINT api_keys_api_key_id_key UNIQUE (api_key_id);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (pk);

--
-- Name: api_keys api_keys_prefix_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.api_keys
    ADD CONSTRAINT api_keys_prefix_key UNIQUE (prefix);

--
-- Name: change_feed_pruned change_feed_pruned_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.change_feed_pruned
    ADD CONSTRAINT change_feed_pruned_pkey PRIMARY KEY (workspace_pk);

--
-- Name: change_records change_records_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.change_records
    ADD CONSTRAINT change_records_pkey PRIMARY KEY (pk);

--
-- Name: companies companies_company_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.companies
    ADD CONSTRAINT companies_company_id_key UNIQUE (company_id);

--
-- Name: companies companies_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.companies
    ADD CONSTRAINT companies_pkey PRIMARY KEY (pk);

--
-- Name: company_workspace_connectors company_workspace_connectors_company_workspace_connector_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.company_workspace_connectors
    ADD CONSTRAINT company_workspace_connectors_company_workspace_connector_id_key UNIQUE (company_workspace_connector_id);

--
-- Name: company_workspace_connectors company_workspace_connectors_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.company_workspace_connectors
    ADD CONSTRAINT company_workspace_connectors_pkey PRIMARY KEY (pk, company_workspace_connector_id);

--
-- Name: connector_revocations connector_revocations_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.connector_revocations
    ADD CONSTRAINT connector_revocations_pkey PRIMARY KEY (workspace_connector_pk);

--
-- Name: connectors connectors_connector_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.connectors
    ADD CONSTRAINT connectors_connector_id_key UNIQUE (connector_id);

--
-- Name: connectors connectors_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.connectors
    ADD CONSTRAINT connectors_pkey PRIMARY KEY (pk);

--
-- Name: ledger_periods ledger_periods_partition_name_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.ledger_periods
    ADD CONSTRAINT ledger_periods_partition_name_key UNIQUE (partition_name);

--
-- Name: ledger_periods ledger_periods_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.ledger_periods
    ADD CONSTRAINT ledger_periods_pkey PRIMARY KEY (ledger, starts_at);

--
-- Name: memberships memberships_membership_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.memberships
    ADD CONSTRAINT memberships_membership_id_key UNIQUE (membership_id);

--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (pk);

--
-- Name: people_workspace_connectors people_workspace_connectors_people_workspace_connector_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.people_workspace_connectors
    ADD CONSTRAINT people_workspace_connectors_people_workspace_connector_id_key UNIQUE (people_workspace_connector_id);

--
-- Name: people_workspace_connectors people_workspace_connectors_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.people_workspace_connectors
    ADD CONSTRAINT people_workspace_connectors_pkey PRIMARY KEY (pk, people_workspace_connector_id);

--
-- Name: peoples peoples_person_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.peoples
    ADD CONSTRAINT peoples_person_id_key UNIQUE (person_id);

--
-- Name: peoples peoples_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.peoples
    ADD CONSTRAINT peoples_pkey PRIMARY KEY (pk);

--
-- Name: providers providers_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.providers
    ADD CONSTRAINT providers_pkey PRIMARY KEY (pk);

--
-- Name: providers providers_provider_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.providers
    ADD CONSTRAINT providers_provider_id_key UNIQUE (provider_id);

--
-- Name: providers providers_slug_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.providers
    ADD CONSTRAINT providers_slug_key UNIQUE (slug);

--
-- Name: revocation_sweeps revocation_sweeps_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.revocation_sweeps
    ADD CONSTRAINT revocation_sweeps_pkey PRIMARY KEY (workspace_connector_pk, record_type, direction);

--
-- Name: sync_receipts sync_receipts_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.sync_receipts
    ADD CONSTRAINT sync_receipts_pkey PRIMARY KEY (workspace_connector_pk, idempotency_key);

--
-- Name: sync_tombstones sync_tombstones_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.sync_tombstones
    ADD CONSTRAINT sync_tombstones_pkey PRIMARY KEY (workspace_connector_pk, record_type, record_pk, direction);

--
-- Name: transaction_settings transaction_settings_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.transaction_settings
    ADD CONSTRAINT transaction_settings_pkey PRIMARY KEY (role);

--
-- Name: workspace_connectors workspace_connectors_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_connectors
    ADD CONSTRAINT workspace_connectors_pkey PRIMARY KEY (pk);

--
-- Name: workspace_connectors workspace_connectors_workspace_connector_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_connectors
    ADD CONSTRAINT workspace_connectors_workspace_connector_id_key UNIQUE (workspace_connector_id);

--
-- Name: workspace_group_memberships workspace_group_memberships_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_memberships
    ADD CONSTRAINT workspace_group_memberships_pkey PRIMARY KEY (pk);

--
-- Name: workspace_group_memberships workspace_group_memberships_workspace_group_membership_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_memberships
    ADD CONSTRAINT workspace_group_memberships_workspace_group_membership_id_key UNIQUE (workspace_group_membership_id);

--
-- Name: workspace_group_workspaces workspace_group_workspaces_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_workspaces
    ADD CONSTRAINT workspace_group_workspaces_pkey PRIMARY KEY (pk);

--
-- Name: workspace_group_workspaces workspace_group_workspaces_workspace_group_workspace_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_workspaces
    ADD CONSTRAINT workspace_group_workspaces_workspace_group_workspace_id_key UNIQUE (workspace_group_workspace_id);

--
-- Name: workspace_groups workspace_groups_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_groups
    ADD CONSTRAINT workspace_groups_pkey PRIMARY KEY (pk);

--
-- Name: workspace_groups workspace_groups_workspace_group_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_groups
    ADD CONSTRAINT workspace_groups_workspace_group_id_key UNIQUE (workspace_group_id);

--
-- Name: workspace_providers workspace_providers_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_providers
    ADD CONSTRAINT workspace_providers_pkey PRIMARY KEY (pk);

--
-- Name: workspace_providers workspace_providers_workspace_provider_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_providers
    ADD CONSTRAINT workspace_providers_workspace_provider_id_key UNIQUE (workspace_provider_id);

--
-- Name: workspaces workspaces_external_workspace_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspaces
    ADD CONSTRAINT workspaces_external_workspace_id_key UNIQUE (external_workspace_id);

--
-- Name: workspaces workspaces_pkey; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspaces
    ADD CONSTRAINT workspaces_pkey PRIMARY KEY (pk);

--
-- Name: workspaces workspaces_workspace_id_key; Type: CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspaces
    ADD CONSTRAINT workspaces_workspace_id_key UNIQUE (workspace_id);

--
-- Name: change_types change_types_pkey; Type: CONSTRAINT; Schema: well_private; Owner: migration_owner
--

ALTER TABLE ONLY well_private.change_types
    ADD CONSTRAINT change_types_pkey PRIMARY KEY (resource_type);

--
-- Name: change_types change_types_record_type_key; Type: CONSTRAINT; Schema: well_private; Owner: migration_owner
--

ALTER TABLE ONLY well_private.change_types
    ADD CONSTRAINT change_types_record_type_key UNIQUE (record_type);

--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: well_private; Owner: migration_owner
--

ALTER TABLE ONLY well_private.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (person_pk, principal_kind, idempotency_key);

--
-- Name: role_defaults role_defaults_pkey; Type: CONSTRAINT; Schema: well_private; Owner: migration_owner
--

ALTER TABLE ONLY well_private.role_defaults
    ADD CONSTRAINT role_defaults_pkey PRIMARY KEY (role, in_database);

--
-- Name: scope_keys scope_keys_pkey; Type: CONSTRAINT; Schema: well_private; Owner: migration_owner
--

ALTER TABLE ONLY well_private.scope_keys
    ADD CONSTRAINT scope_keys_pkey PRIMARY KEY (id);

--
-- Name: session_bounds session_bounds_pkey; Type: CONSTRAINT; Schema: well_private; Owner: migration_owner
--

ALTER TABLE ONLY well_private.session_bounds
    ADD CONSTRAINT session_bounds_pkey PRIMARY KEY (role);

--
-- Name: accounts_workspace_external_id_active_unique; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE UNIQUE INDEX accounts_workspace_external_id_active_unique ON core_api.accounts USING btree (workspace_pk, account_external_id) WHERE (deleted_at IS NULL);

--
-- Name: idx_account_workspace_connectors_record; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_account_workspace_connectors_record ON ONLY core_api.account_workspace_connectors USING btree (account_pk, account_workspace_connector_id);

--
-- Name: idx_account_workspace_connectors_record_live; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_account_workspace_connectors_record_live ON ONLY core_api.account_workspace_connectors USING btree (account_pk, account_workspace_connector_id) WHERE (deleted_at IS NULL);

--
-- Name: idx_account_workspace_connectors_wc; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_account_workspace_connectors_wc ON ONLY core_api.account_workspace_connectors USING btree (workspace_connector_pk, account_workspace_connector_id);

--
-- Name: idx_account_workspace_connectors_wc_input; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_account_workspace_connectors_wc_input ON ONLY core_api.account_workspace_connectors USING btree (workspace_connector_pk, account_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'input'::core_api.direction_enum));

--
-- Name: idx_account_workspace_connectors_wc_output; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_account_workspace_connectors_wc_output ON ONLY core_api.account_workspace_connectors USING btree (workspace_connector_pk, account_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'output'::core_api.direction_enum));

--
-- Name: idx_change_records_feed; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_change_records_feed ON core_api.change_records USING btree (workspace_pk, xid, pk);

--
-- Name: idx_change_records_feed_kind; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_change_records_feed_kind ON core_api.change_records USING btree (workspace_pk, resource_type, change, xid, pk);

--
-- Name: idx_change_records_feed_sync_run; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_change_records_feed_sync_run ON core_api.change_records USING btree (workspace_pk, sync_run_id, xid, pk) WHERE (sync_run_id IS NOT NULL);

--
-- Name: idx_change_records_sent; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_change_records_sent ON core_api.change_records USING btree (sent_at) WHERE (sent_at IS NOT NULL);

--
-- Name: idx_change_records_unsent; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_change_records_unsent ON core_api.change_records USING btree (xid, pk) WHERE (sent_at IS NULL);

--
-- Name: idx_companies_workspace; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_companies_workspace ON core_api.companies USING btree (workspace_pk);

--
-- Name: idx_company_workspace_connectors_record; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_company_workspace_connectors_record ON ONLY core_api.company_workspace_connectors USING btree (company_pk, company_workspace_connector_id);

--
-- Name: idx_company_workspace_connectors_record_live; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_company_workspace_connectors_record_live ON ONLY core_api.company_workspace_connectors USING btree (company_pk, company_workspace_connector_id) WHERE (deleted_at IS NULL);

--
-- Name: idx_company_workspace_connectors_wc; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_company_workspace_connectors_wc ON ONLY core_api.company_workspace_connectors USING btree (workspace_connector_pk, company_workspace_connector_id);

--
-- Name: idx_company_workspace_connectors_wc_input; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_company_workspace_connectors_wc_input ON ONLY core_api.company_workspace_connectors USING btree (workspace_connector_pk, company_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'input'::core_api.direction_enum));

--
-- Name: idx_company_workspace_connectors_wc_output; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_company_workspace_connectors_wc_output ON ONLY core_api.company_workspace_connectors USING btree (workspace_connector_pk, company_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'output'::core_api.direction_enum));

--
-- Name: idx_connector_revocations_pending; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_connector_revocations_pending ON core_api.connector_revocations USING btree (revoked_at) WHERE (swept_at IS NULL);

--
-- Name: idx_memberships_workspace; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_memberships_workspace ON core_api.memberships USING btree (workspace_pk);

--
-- Name: idx_people_workspace_connectors_record; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_people_workspace_connectors_record ON ONLY core_api.people_workspace_connectors USING btree (people_pk, people_workspace_connector_id);

--
-- Name: idx_people_workspace_connectors_record_live; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_people_workspace_connectors_record_live ON ONLY core_api.people_workspace_connectors USING btree (people_pk, people_workspace_connector_id) WHERE (deleted_at IS NULL);

--
-- Name: idx_people_workspace_connectors_wc; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_people_workspace_connectors_wc ON ONLY core_api.people_workspace_connectors USING btree (workspace_connector_pk, people_workspace_connector_id);

--
-- Name: idx_people_workspace_connectors_wc_input; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_people_workspace_connectors_wc_input ON ONLY core_api.people_workspace_connectors USING btree (workspace_connector_pk, people_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'input'::core_api.direction_enum));

--
-- Name: idx_people_workspace_connectors_wc_output; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_people_workspace_connectors_wc_output ON ONLY core_api.people_workspace_connectors USING btree (workspace_connector_pk, people_workspace_connector_id) WHERE ((deleted_at IS NULL) AND (direction = 'output'::core_api.direction_enum));

--
-- Name: idx_peoples_workspace; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_peoples_workspace ON core_api.peoples USING btree (workspace_pk);

--
-- Name: idx_sync_receipts_received_at; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_sync_receipts_received_at ON core_api.sync_receipts USING btree (received_at);

--
-- Name: idx_sync_tombstones_unlinked_at; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_sync_tombstones_unlinked_at ON core_api.sync_tombstones USING btree (unlinked_at);

--
-- Name: idx_workspace_connectors_workspace; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_workspace_connectors_workspace ON core_api.workspace_connectors USING btree (workspace_pk);

--
-- Name: idx_workspace_group_memberships_group; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_workspace_group_memberships_group ON core_api.workspace_group_memberships USING btree (workspace_group_pk);

--
-- Name: idx_workspace_group_workspaces_workspace; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_workspace_group_workspaces_workspace ON core_api.workspace_group_workspaces USING btree (workspace_pk);

--
-- Name: idx_workspace_providers_provider; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE INDEX idx_workspace_providers_provider ON core_api.workspace_providers USING btree (provider_pk);

--
-- Name: memberships_person_workspace_active_unique; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE UNIQUE INDEX memberships_person_workspace_active_unique ON core_api.memberships USING btree (person_pk, workspace_pk) WHERE (deleted_at IS NULL);

--
-- Name: workspace_group_memberships_person_group_active_unique; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE UNIQUE INDEX workspace_group_memberships_person_group_active_unique ON core_api.workspace_group_memberships USING btree (person_pk, workspace_group_pk) WHERE (deleted_at IS NULL);

--
-- Name: workspace_group_workspaces_group_workspace_active_unique; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE UNIQUE INDEX workspace_group_workspaces_group_workspace_active_unique ON core_api.workspace_group_workspaces USING btree (workspace_group_pk, workspace_pk) WHERE (deleted_at IS NULL);

--
-- Name: workspace_providers_workspace_provider_active_unique; Type: INDEX; Schema: core_api; Owner: migration_owner
--

CREATE UNIQUE INDEX workspace_providers_workspace_provider_active_unique ON core_api.workspace_providers USING btree (workspace_pk, provider_pk) WHERE (deleted_at IS NULL);

--
-- Name: idempotency_keys_created_at; Type: INDEX; Schema: well_private; Owner: migration_owner
--

CREATE INDEX idempotency_keys_created_at ON well_private.idempotency_keys USING btree (created_at);

--
-- Name: account_workspace_connectors account_workspace_connectors_created_at; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_created_at BEFORE INSERT ON core_api.account_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.account_workspace_connectors_created_at();

--
-- Name: account_workspace_connectors account_workspace_connectors_direction_stays; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.account_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

--
-- Name: account_workspace_connectors account_workspace_connectors_parents_agree_on_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.account_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.account_workspace_connectors_parents_agree();

--
-- Name: account_workspace_connectors account_workspace_connectors_parents_agree_on_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.account_workspace_connectors FOR EACH ROW WHEN (((old.account_pk IS DISTINCT FROM new.account_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.account_workspace_connectors_parents_agree();

--
-- Name: account_workspace_connectors account_workspace_connectors_recorded_delete; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_recorded_delete AFTER DELETE ON core_api.account_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_account_workspace_connectors();

--
-- Name: account_workspace_connectors account_workspace_connectors_recorded_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_recorded_insert AFTER INSERT ON core_api.account_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_account_workspace_connectors();

--
-- Name: account_workspace_connectors account_workspace_connectors_recorded_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_recorded_update AFTER UPDATE ON core_api.account_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_account_workspace_connectors();

--
-- Name: account_workspace_connectors account_workspace_connectors_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER account_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.account_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('account_workspace_connector_id');

--
-- Name: accounts accounts_linked_stays_in_workspace; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER accounts_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.accounts FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('account_workspace_connectors', 'account_pk');

--
-- Name: accounts accounts_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER accounts_touch_row BEFORE INSERT OR UPDATE ON core_api.accounts FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('account_id');

--
-- Name: api_keys api_keys_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER api_keys_touch_row BEFORE INSERT OR UPDATE ON core_api.api_keys FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('api_key_id');

--
-- Name: companies companies_linked_stays_in_workspace; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER companies_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.companies FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('company_workspace_connectors', 'company_pk');

--
-- Name: companies companies_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER companies_touch_row BEFORE INSERT OR UPDATE ON core_api.companies FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('company_id');

--
-- Name: company_workspace_connectors company_workspace_connectors_created_at; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_created_at BEFORE INSERT ON core_api.company_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.company_workspace_connectors_created_at();

--
-- Name: company_workspace_connectors company_workspace_connectors_direction_stays; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.company_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

--
-- Name: company_workspace_connectors company_workspace_connectors_parents_agree_on_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.company_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.company_workspace_connectors_parents_agree();

--
-- Name: company_workspace_connectors company_workspace_connectors_parents_agree_on_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.company_workspace_connectors FOR EACH ROW WHEN (((old.company_pk IS DISTINCT FROM new.company_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.company_workspace_connectors_parents_agree();

--
-- Name: company_workspace_connectors company_workspace_connectors_recorded_delete; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_recorded_delete AFTER DELETE ON core_api.company_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_company_workspace_connectors();

--
-- Name: company_workspace_connectors company_workspace_connectors_recorded_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_recorded_insert AFTER INSERT ON core_api.company_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_company_workspace_connectors();

--
-- Name: company_workspace_connectors company_workspace_connectors_recorded_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_recorded_update AFTER UPDATE ON core_api.company_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_company_workspace_connectors();

--
-- Name: company_workspace_connectors company_workspace_connectors_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER company_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.company_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('company_workspace_connector_id');

--
-- Name: connectors connectors_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('connector_id');

--
-- Name: memberships memberships_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER memberships_touch_row BEFORE INSERT OR UPDATE ON core_api.memberships FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('membership_id');

--
-- Name: people_workspace_connectors people_workspace_connectors_created_at; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_created_at BEFORE INSERT ON core_api.people_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.people_workspace_connectors_created_at();

--
-- Name: people_workspace_connectors people_workspace_connectors_direction_stays; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_direction_stays BEFORE UPDATE OF direction ON core_api.people_workspace_connectors FOR EACH ROW WHEN ((old.direction IS DISTINCT FROM new.direction)) EXECUTE FUNCTION core_api.ledger_direction_stays();

--
-- Name: people_workspace_connectors people_workspace_connectors_parents_agree_on_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_parents_agree_on_insert AFTER INSERT ON core_api.people_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.people_workspace_connectors_parents_agree();

--
-- Name: people_workspace_connectors people_workspace_connectors_parents_agree_on_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_parents_agree_on_update AFTER UPDATE ON core_api.people_workspace_connectors FOR EACH ROW WHEN (((old.people_pk IS DISTINCT FROM new.people_pk) OR (old.workspace_connector_pk IS DISTINCT FROM new.workspace_connector_pk))) EXECUTE FUNCTION core_api.people_workspace_connectors_parents_agree();

--
-- Name: people_workspace_connectors people_workspace_connectors_recorded_delete; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_recorded_delete AFTER DELETE ON core_api.people_workspace_connectors REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_people_workspace_connectors();

--
-- Name: people_workspace_connectors people_workspace_connectors_recorded_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_recorded_insert AFTER INSERT ON core_api.people_workspace_connectors REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_people_workspace_connectors();

--
-- Name: people_workspace_connectors people_workspace_connectors_recorded_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_recorded_update AFTER UPDATE ON core_api.people_workspace_connectors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_people_workspace_connectors();

--
-- Name: people_workspace_connectors people_workspace_connectors_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER people_workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.people_workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('people_workspace_connector_id');

--
-- Name: peoples peoples_linked_stays_in_workspace; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER peoples_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.peoples FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('people_workspace_connectors', 'people_pk');

--
-- Name: peoples peoples_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER peoples_touch_row BEFORE INSERT OR UPDATE ON core_api.peoples FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('person_id');

--
-- Name: providers providers_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER providers_touch_row BEFORE INSERT OR UPDATE ON core_api.providers FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('provider_id');

--
-- Name: workspace_connectors workspace_connectors_linked_stays_in_workspace; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_connectors_linked_stays_in_workspace BEFORE UPDATE OF workspace_pk ON core_api.workspace_connectors FOR EACH ROW WHEN ((old.workspace_pk IS DISTINCT FROM new.workspace_pk)) EXECUTE FUNCTION core_api.linked_parent_stays_in_its_workspace('account_workspace_connectors', 'workspace_connector_pk', 'company_workspace_connectors', 'workspace_connector_pk', 'people_workspace_connectors', 'workspace_connector_pk');

--
-- Name: workspace_connectors workspace_connectors_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_connectors_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_connectors FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_connector_id');

--
-- Name: workspace_group_memberships workspace_group_memberships_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_group_memberships_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_group_memberships FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_group_membership_id');

--
-- Name: workspace_group_workspaces workspace_group_workspaces_recorded_delete; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_group_workspaces_recorded_delete AFTER DELETE ON core_api.workspace_group_workspaces REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_group_workspaces();

--
-- Name: workspace_group_workspaces workspace_group_workspaces_recorded_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_group_workspaces_recorded_insert AFTER INSERT ON core_api.workspace_group_workspaces REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_group_workspaces();

--
-- Name: workspace_group_workspaces workspace_group_workspaces_recorded_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_group_workspaces_recorded_update AFTER UPDATE ON core_api.workspace_group_workspaces REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_group_workspaces();

--
-- Name: workspace_group_workspaces workspace_group_workspaces_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_group_workspaces_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_group_workspaces FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_group_workspace_id');

--
-- Name: workspace_groups workspace_groups_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_groups_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_groups FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_group_id');

--
-- Name: workspace_providers workspace_providers_recorded_delete; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_providers_recorded_delete AFTER DELETE ON core_api.workspace_providers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_providers();

--
-- Name: workspace_providers workspace_providers_recorded_insert; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_providers_recorded_insert AFTER INSERT ON core_api.workspace_providers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_providers();

--
-- Name: workspace_providers workspace_providers_recorded_update; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_providers_recorded_update AFTER UPDATE ON core_api.workspace_providers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION core_api.record_workspace_providers();

--
-- Name: workspace_providers workspace_providers_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspace_providers_touch_row BEFORE INSERT OR UPDATE ON core_api.workspace_providers FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_provider_id');

--
-- Name: workspaces workspaces_touch_row; Type: TRIGGER; Schema: core_api; Owner: migration_owner
--

CREATE TRIGGER workspaces_touch_row BEFORE INSERT OR UPDATE ON core_api.workspaces FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('workspace_id');

--
-- Name: account_workspace_connectors account_workspace_connectors_account_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.account_workspace_connectors
    ADD CONSTRAINT account_workspace_connectors_account_pk_fkey FOREIGN KEY (account_pk) REFERENCES core_api.accounts(pk) ON UPDATE CASCADE;

--
-- Name: account_workspace_connectors account_workspace_connectors_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.account_workspace_connectors
    ADD CONSTRAINT account_workspace_connectors_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk) ON UPDATE CASCADE;

--
-- Name: accounts accounts_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.accounts
    ADD CONSTRAINT accounts_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: api_keys api_keys_person_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.api_keys
    ADD CONSTRAINT api_keys_person_pk_fkey FOREIGN KEY (person_pk) REFERENCES core_api.peoples(pk);

--
-- Name: api_keys api_keys_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.api_keys
    ADD CONSTRAINT api_keys_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: companies companies_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.companies
    ADD CONSTRAINT companies_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: company_workspace_connectors company_workspace_connectors_company_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.company_workspace_connectors
    ADD CONSTRAINT company_workspace_connectors_company_pk_fkey FOREIGN KEY (company_pk) REFERENCES core_api.companies(pk) ON UPDATE CASCADE;

--
-- Name: company_workspace_connectors company_workspace_connectors_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.company_workspace_connectors
    ADD CONSTRAINT company_workspace_connectors_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk) ON UPDATE CASCADE;

--
-- Name: connector_revocations connector_revocations_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.connector_revocations
    ADD CONSTRAINT connector_revocations_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk);

--
-- Name: memberships memberships_person_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.memberships
    ADD CONSTRAINT memberships_person_pk_fkey FOREIGN KEY (person_pk) REFERENCES core_api.peoples(pk);

--
-- Name: memberships memberships_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.memberships
    ADD CONSTRAINT memberships_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: people_workspace_connectors people_workspace_connectors_people_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.people_workspace_connectors
    ADD CONSTRAINT people_workspace_connectors_people_pk_fkey FOREIGN KEY (people_pk) REFERENCES core_api.peoples(pk) ON UPDATE CASCADE;

--
-- Name: people_workspace_connectors people_workspace_connectors_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.people_workspace_connectors
    ADD CONSTRAINT people_workspace_connectors_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk) ON UPDATE CASCADE;

--
-- Name: peoples peoples_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.peoples
    ADD CONSTRAINT peoples_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: revocation_sweeps revocation_sweeps_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.revocation_sweeps
    ADD CONSTRAINT revocation_sweeps_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk);

--
-- Name: sync_receipts sync_receipts_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.sync_receipts
    ADD CONSTRAINT sync_receipts_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk);

--
-- Name: sync_tombstones sync_tombstones_workspace_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.sync_tombstones
    ADD CONSTRAINT sync_tombstones_workspace_connector_pk_fkey FOREIGN KEY (workspace_connector_pk) REFERENCES core_api.workspace_connectors(pk);

--
-- Name: workspace_connectors workspace_connectors_connector_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_connectors
    ADD CONSTRAINT workspace_connectors_connector_pk_fkey FOREIGN KEY (connector_pk) REFERENCES core_api.connectors(pk);

--
-- Name: workspace_connectors workspace_connectors_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_connectors
    ADD CONSTRAINT workspace_connectors_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: workspace_group_memberships workspace_group_memberships_person_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_memberships
    ADD CONSTRAINT workspace_group_memberships_person_pk_fkey FOREIGN KEY (person_pk) REFERENCES core_api.peoples(pk);

--
-- Name: workspace_group_memberships workspace_group_memberships_workspace_group_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_memberships
    ADD CONSTRAINT workspace_group_memberships_workspace_group_pk_fkey FOREIGN KEY (workspace_group_pk) REFERENCES core_api.workspace_groups(pk);

--
-- Name: workspace_group_workspaces workspace_group_workspaces_created_by_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_workspaces
    ADD CONSTRAINT workspace_group_workspaces_created_by_pk_fkey FOREIGN KEY (created_by_pk) REFERENCES core_api.peoples(pk) ON DELETE SET NULL;

--
-- Name: workspace_group_workspaces workspace_group_workspaces_workspace_group_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_workspaces
    ADD CONSTRAINT workspace_group_workspaces_workspace_group_pk_fkey FOREIGN KEY (workspace_group_pk) REFERENCES core_api.workspace_groups(pk) ON DELETE RESTRICT;

--
-- Name: workspace_group_workspaces workspace_group_workspaces_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_group_workspaces
    ADD CONSTRAINT workspace_group_workspaces_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk) ON DELETE RESTRICT;

--
-- Name: workspace_groups workspace_groups_created_by_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_groups
    ADD CONSTRAINT workspace_groups_created_by_pk_fkey FOREIGN KEY (created_by_pk) REFERENCES core_api.peoples(pk) ON DELETE SET NULL;

--
-- Name: workspace_providers workspace_providers_provider_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_providers
    ADD CONSTRAINT workspace_providers_provider_pk_fkey FOREIGN KEY (provider_pk) REFERENCES core_api.providers(pk);

--
-- Name: workspace_providers workspace_providers_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspace_providers
    ADD CONSTRAINT workspace_providers_workspace_pk_fkey FOREIGN KEY (workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: workspaces workspaces_parent_workspace_pk_fkey; Type: FK CONSTRAINT; Schema: core_api; Owner: migration_owner
--

ALTER TABLE ONLY core_api.workspaces
    ADD CONSTRAINT workspaces_parent_workspace_pk_fkey FOREIGN KEY (parent_workspace_pk) REFERENCES core_api.workspaces(pk);

--
-- Name: account_workspace_connectors; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.account_workspace_connectors ENABLE ROW LEVEL SECURITY;

--
-- Name: account_workspace_connectors account_workspace_connectors_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY account_workspace_connectors_api ON core_api.account_workspace_connectors TO well_api USING (((workspace_connector_pk = ANY (( SELECT core_api.verified_workspace_connector_pks() AS verified_workspace_connector_pks)::bigint[])) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK ((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text));

--
-- Name: account_workspace_connectors account_workspace_connectors_api_insert; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY account_workspace_connectors_api_insert ON core_api.account_workspace_connectors AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) AND (deleted_at IS NULL) AND (created_at > (now() - '00:10:00'::interval)) AND (created_at < (now() + '00:01:00'::interval)) AND (EXISTS ( SELECT 1
   FROM core_api.accounts p
  WHERE ((p.pk = account_workspace_connectors.account_pk) AND (p.deleted_at IS NULL)))) AND (EXISTS ( SELECT 1
   FROM core_api.workspace_connectors p
  WHERE ((p.pk = account_workspace_connectors.workspace_connector_pk) AND (p.deleted_at IS NULL)))) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = account_workspace_connectors.workspace_connector_pk))))));

--
-- Name: account_workspace_connectors account_workspace_connectors_api_update; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY account_workspace_connectors_api_update ON core_api.account_workspace_connectors AS RESTRICTIVE FOR UPDATE TO well_api USING (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) AND (deleted_at IS NULL) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = account_workspace_connectors.workspace_connector_pk)))))) WITH CHECK ((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text));

--
-- Name: account_workspace_connectors account_workspace_connectors_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY account_workspace_connectors_owner ON core_api.account_workspace_connectors TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: account_workspace_connectors account_workspace_connectors_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY account_workspace_connectors_sync ON core_api.account_workspace_connectors TO well_sync USING (true) WITH CHECK (true);

--
-- Name: accounts; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.accounts ENABLE ROW LEVEL SECURITY;

--
-- Name: accounts accounts_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY accounts_api ON core_api.accounts TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: accounts accounts_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY accounts_owner ON core_api.accounts TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: accounts accounts_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY accounts_sync ON core_api.accounts TO well_sync USING (true) WITH CHECK (true);

--
-- Name: change_feed_pruned; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.change_feed_pruned ENABLE ROW LEVEL SECURITY;

--
-- Name: change_feed_pruned change_feed_pruned_api_read; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_feed_pruned_api_read ON core_api.change_feed_pruned FOR SELECT TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: change_feed_pruned change_feed_pruned_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_feed_pruned_owner ON core_api.change_feed_pruned TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: change_feed_pruned change_feed_pruned_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_feed_pruned_sync ON core_api.change_feed_pruned TO well_sync USING (true) WITH CHECK (true);

--
-- Name: change_records; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.change_records ENABLE ROW LEVEL SECURITY;

--
-- Name: change_records change_records_api_read; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_api_read ON core_api.change_records FOR SELECT TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: change_records change_records_drain_mark; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_drain_mark ON core_api.change_records FOR UPDATE TO well_drain USING ((sent_at IS NULL)) WITH CHECK (((sent_at >= now()) AND (sent_at <= clock_timestamp())));

--
-- Name: change_records change_records_drain_read; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_drain_read ON core_api.change_records FOR SELECT TO well_drain USING (true);

--
-- Name: change_records change_records_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_owner ON core_api.change_records TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: change_records change_records_sync_insert; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_sync_insert ON core_api.change_records FOR INSERT TO well_sync WITH CHECK (((resource_type = 'workspace_connector'::text) AND (actor_kind = ANY (ARRAY['sync'::text, 'sweep'::text])) AND (actor_person_pk IS NULL)));

--
-- Name: change_records change_records_sync_prune; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_sync_prune ON core_api.change_records FOR DELETE TO well_sync USING ((sent_at < (now() - '30 days'::interval)));

--
-- Name: change_records change_records_sync_prune_read; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY change_records_sync_prune_read ON core_api.change_records FOR SELECT TO well_sync USING ((sent_at < (now() - '30 days'::interval)));

--
-- Name: companies; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.companies ENABLE ROW LEVEL SECURITY;

--
-- Name: companies companies_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY companies_api ON core_api.companies TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: companies companies_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY companies_owner ON core_api.companies TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: companies companies_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY companies_sync ON core_api.companies TO well_sync USING (true) WITH CHECK (true);

--
-- Name: company_workspace_connectors; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.company_workspace_connectors ENABLE ROW LEVEL SECURITY;

--
-- Name: company_workspace_connectors company_workspace_connectors_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY company_workspace_connectors_api ON core_api.company_workspace_connectors TO well_api USING (((workspace_connector_pk = ANY (( SELECT core_api.verified_workspace_connector_pks() AS verified_workspace_connector_pks)::bigint[])) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK ((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text));

--
-- Name: company_workspace_connectors company_workspace_connectors_api_insert; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY company_workspace_connectors_api_insert ON core_api.company_workspace_connectors AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) AND (deleted_at IS NULL) AND (created_at > (now() - '00:10:00'::interval)) AND (created_at < (now() + '00:01:00'::interval)) AND (EXISTS ( SELECT 1
   FROM core_api.companies p
  WHERE ((p.pk = company_workspace_connectors.company_pk) AND (p.deleted_at IS NULL)))) AND (EXISTS ( SELECT 1
   FROM core_api.workspace_connectors p
  WHERE ((p.pk = company_workspace_connectors.workspace_connector_pk) AND (p.deleted_at IS NULL)))) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = company_workspace_connectors.workspace_connector_pk))))));

--
-- Name: company_workspace_connectors company_workspace_connectors_api_update; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY company_workspace_connectors_api_update ON core_api.company_workspace_connectors AS RESTRICTIVE FOR UPDATE TO well_api USING (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) AND (deleted_at IS NULL) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = company_workspace_connectors.workspace_connector_pk)))))) WITH CHECK ((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text));

--
-- Name: company_workspace_connectors company_workspace_connectors_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY company_workspace_connectors_owner ON core_api.company_workspace_connectors TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: company_workspace_connectors company_workspace_connectors_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY company_workspace_connectors_sync ON core_api.company_workspace_connectors TO well_sync USING (true) WITH CHECK (true);

--
-- Name: memberships; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: memberships memberships_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY memberships_api ON core_api.memberships TO well_api USING (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)))) WITH CHECK (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))));

--
-- Name: memberships memberships_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY memberships_owner ON core_api.memberships TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: people_workspace_connectors; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.people_workspace_connectors ENABLE ROW LEVEL SECURITY;

--
-- Name: people_workspace_connectors people_workspace_connectors_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY people_workspace_connectors_api ON core_api.people_workspace_connectors TO well_api USING (((workspace_connector_pk = ANY (( SELECT core_api.verified_workspace_connector_pks() AS verified_workspace_connector_pks)::bigint[])) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK ((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text));

--
-- Name: people_workspace_connectors people_workspace_connectors_api_insert; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY people_workspace_connectors_api_insert ON core_api.people_workspace_connectors AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) AND (deleted_at IS NULL) AND (created_at > (now() - '00:10:00'::interval)) AND (created_at < (now() + '00:01:00'::interval)) AND (EXISTS ( SELECT 1
   FROM core_api.peoples p
  WHERE ((p.pk = people_workspace_connectors.people_pk) AND (p.deleted_at IS NULL)))) AND (EXISTS ( SELECT 1
   FROM core_api.workspace_connectors p
  WHERE ((p.pk = people_workspace_connectors.workspace_connector_pk) AND (p.deleted_at IS NULL)))) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = people_workspace_connectors.workspace_connector_pk))))));

--
-- Name: people_workspace_connectors people_workspace_connectors_api_update; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY people_workspace_connectors_api_update ON core_api.people_workspace_connectors AS RESTRICTIVE FOR UPDATE TO well_api USING (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) AND (deleted_at IS NULL) AND (NOT (EXISTS ( SELECT 1
   FROM core_api.connector_revocations r
  WHERE (r.workspace_connector_pk = people_workspace_connectors.workspace_connector_pk)))))) WITH CHECK ((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text));

--
-- Name: people_workspace_connectors people_workspace_connectors_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY people_workspace_connectors_owner ON core_api.people_workspace_connectors TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: people_workspace_connectors people_workspace_connectors_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY people_workspace_connectors_sync ON core_api.people_workspace_connectors TO well_sync USING (true) WITH CHECK (true);

--
-- Name: peoples; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.peoples ENABLE ROW LEVEL SECURITY;

--
-- Name: peoples peoples_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY peoples_api ON core_api.peoples TO well_api USING (((pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)))) WITH CHECK (((pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR ((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))));

--
-- Name: peoples peoples_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY peoples_owner ON core_api.peoples TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: peoples peoples_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY peoples_sync ON core_api.peoples TO well_sync USING (true) WITH CHECK (true);

--
-- Name: workspace_connectors; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_connectors ENABLE ROW LEVEL SECURITY;

--
-- Name: workspace_connectors workspace_connectors_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_connectors_api ON core_api.workspace_connectors TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: workspace_connectors workspace_connectors_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_connectors_owner ON core_api.workspace_connectors TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: workspace_connectors workspace_connectors_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_connectors_sync ON core_api.workspace_connectors TO well_sync USING (true) WITH CHECK (true);

--
-- Name: workspace_group_memberships; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_group_memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: workspace_group_memberships workspace_group_memberships_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_group_memberships_api ON core_api.workspace_group_memberships TO well_api USING (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: workspace_group_memberships workspace_group_memberships_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_group_memberships_owner ON core_api.workspace_group_memberships TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: workspace_group_workspaces; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_group_workspaces ENABLE ROW LEVEL SECURITY;

--
-- Name: workspace_group_workspaces workspace_group_workspaces_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_group_workspaces_api ON core_api.workspace_group_workspaces TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL))))));

--
-- Name: workspace_group_workspaces workspace_group_workspaces_api_insert; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_group_workspaces_api_insert ON core_api.workspace_group_workspaces AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK (((deleted_at IS NULL) AND (created_at = now()) AND (created_by_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND core_api.may_enrol(workspace_group_pk, workspace_pk)));

--
-- Name: workspace_group_workspaces workspace_group_workspaces_api_update; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_group_workspaces_api_update ON core_api.workspace_group_workspaces AS RESTRICTIVE FOR UPDATE TO well_api USING ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.role = ANY (ARRAY['owner'::core_api.workspace_group_role_enum, 'admin'::core_api.workspace_group_role_enum])) AND (gm.deleted_at IS NULL))))) AND (deleted_at IS NULL))) WITH CHECK ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_group_workspaces.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.role = ANY (ARRAY['owner'::core_api.workspace_group_role_enum, 'admin'::core_api.workspace_group_role_enum])) AND (gm.deleted_at IS NULL))))) AND (deleted_at IS NOT NULL)));

--
-- Name: workspace_group_workspaces workspace_group_workspaces_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_group_workspaces_owner ON core_api.workspace_group_workspaces TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: workspace_groups; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_groups ENABLE ROW LEVEL SECURITY;

--
-- Name: workspace_groups workspace_groups_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_groups_api ON core_api.workspace_groups TO well_api USING (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_groups.pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_group_pk = workspace_groups.pk) AND (e.workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) AND (e.deleted_at IS NULL)))))) WITH CHECK (((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_memberships gm
  WHERE ((gm.workspace_group_pk = workspace_groups.pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_group_pk = workspace_groups.pk) AND (e.workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) AND (e.deleted_at IS NULL))))));

--
-- Name: workspace_groups workspace_groups_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_groups_owner ON core_api.workspace_groups TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: workspace_providers; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspace_providers ENABLE ROW LEVEL SECURITY;

--
-- Name: workspace_providers workspace_providers_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_providers_api ON core_api.workspace_providers TO well_api USING (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text))) WITH CHECK (((workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text)));

--
-- Name: workspace_providers workspace_providers_api_insert; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_providers_api_insert ON core_api.workspace_providers AS RESTRICTIVE FOR INSERT TO well_api WITH CHECK ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk))) AND (deleted_at IS NULL) AND (created_at = now()) AND (EXISTS ( SELECT 1
   FROM core_api.workspaces p
  WHERE ((p.pk = workspace_providers.workspace_pk) AND (p.deleted_at IS NULL)))) AND (EXISTS ( SELECT 1
   FROM core_api.providers p
  WHERE ((p.pk = workspace_providers.provider_pk) AND (p.deleted_at IS NULL))))));

--
-- Name: workspace_providers workspace_providers_api_update; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_providers_api_update ON core_api.workspace_providers AS RESTRICTIVE FOR UPDATE TO well_api USING ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk))) AND (deleted_at IS NULL))) WITH CHECK ((((( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (workspace_pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk))) AND ((deleted_at IS NULL) OR (NOT is_selected))));

--
-- Name: workspace_providers workspace_providers_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspace_providers_owner ON core_api.workspace_providers TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: workspaces; Type: ROW SECURITY; Schema: core_api; Owner: migration_owner
--

ALTER TABLE core_api.workspaces ENABLE ROW LEVEL SECURITY;

--
-- Name: workspaces workspaces_api; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspaces_api ON core_api.workspaces TO well_api USING (((pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.memberships m
  WHERE ((m.workspace_pk = workspaces.pk) AND (m.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (m.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_pk = workspaces.pk) AND (e.deleted_at IS NULL) AND (EXISTS ( SELECT 1
           FROM core_api.workspace_group_memberships gm
          WHERE ((gm.workspace_group_pk = e.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL))))))))) WITH CHECK (((pk = ( SELECT core_api.verified_workspace_pk() AS verified_workspace_pk)) OR (( SELECT core_api.verified_principal_kind() AS verified_principal_kind) = 'service'::text) OR (EXISTS ( SELECT 1
   FROM core_api.memberships m
  WHERE ((m.workspace_pk = workspaces.pk) AND (m.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (m.deleted_at IS NULL)))) OR (EXISTS ( SELECT 1
   FROM core_api.workspace_group_workspaces e
  WHERE ((e.workspace_pk = workspaces.pk) AND (e.deleted_at IS NULL) AND (EXISTS ( SELECT 1
           FROM core_api.workspace_group_memberships gm
          WHERE ((gm.workspace_group_pk = e.workspace_group_pk) AND (gm.person_pk = ( SELECT core_api.verified_person_pk() AS verified_person_pk)) AND (gm.deleted_at IS NULL)))))))));

--
-- Name: workspaces workspaces_drain; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspaces_drain ON core_api.workspaces FOR SELECT TO well_drain USING (true);

--
-- Name: workspaces workspaces_owner; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspaces_owner ON core_api.workspaces TO migration_owner USING (true) WITH CHECK (true);

--
-- Name: workspaces workspaces_sync; Type: POLICY; Schema: core_api; Owner: migration_owner
--

CREATE POLICY workspaces_sync ON core_api.workspaces TO well_sync USING (true) WITH CHECK (true);

--
-- Name: SCHEMA core_api; Type: ACL; Schema: -; Owner: migration_owner
--

GRANT USAGE ON SCHEMA core_api TO well_api;
GRANT USAGE ON SCHEMA core_api TO well_auth;
GRANT USAGE ON SCHEMA core_api TO well_drain;
GRANT USAGE ON SCHEMA core_api TO well_heal;
GRANT USAGE ON SCHEMA core_api TO well_operator;
GRANT USAGE ON SCHEMA core_api TO well_sync;

--
-- Name: FUNCTION account_workspace_connectors_created_at(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.account_workspace_connectors_created_at() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.account_workspace_connectors_created_at() TO well_api;
GRANT ALL ON FUNCTION core_api.account_workspace_connectors_created_at() TO well_sync;

--
-- Name: FUNCTION account_workspace_connectors_parents_agree(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.account_workspace_connectors_parents_agree() FROM PUBLIC;

--
-- Name: FUNCTION archived_before(p_ledger text); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.archived_before(p_ledger text) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.archived_before(p_ledger text) TO well_api;

--
-- Name: FUNCTION archived_period_of(p_ledger text, p_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid) TO well_api;

--
-- Name: FUNCTION authenticate_key(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.authenticate_key() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.authenticate_key() TO well_auth;

--
-- Name: FUNCTION check_client_id(p_table regclass, p_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.check_client_id(p_table regclass, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.check_client_id(p_table regclass, p_id uuid) TO well_api;

--
-- Name: PROCEDURE check_prepared(IN names text[], IN digests text[], IN types text[]); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) FROM PUBLIC;
GRANT ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) TO well_api;
GRANT ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) TO well_auth;
GRANT ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) TO well_drain;
GRANT ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) TO well_operator;
GRANT ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) TO well_sync;

--
-- Name: FUNCTION claim_idempotency_key(p_key text, p_fingerprint text); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text) TO well_api;

--
-- Name: FUNCTION company_workspace_connectors_created_at(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.company_workspace_connectors_created_at() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.company_workspace_connectors_created_at() TO well_api;
GRANT ALL ON FUNCTION core_api.company_workspace_connectors_created_at() TO well_sync;

--
-- Name: FUNCTION company_workspace_connectors_parents_agree(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.company_workspace_connectors_parents_agree() FROM PUBLIC;

--
-- Name: FUNCTION end_stalled_sessions(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.end_stalled_sessions() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.end_stalled_sessions() TO well_drain;
GRANT ALL ON FUNCTION core_api.end_stalled_sessions() TO well_sync;

--
-- Name: FUNCTION ledger_direction_stays(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.ledger_direction_stays() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.ledger_direction_stays() TO well_api;
GRANT ALL ON FUNCTION core_api.ledger_direction_stays() TO well_sync;

--
-- Name: FUNCTION ledger_seconds_ahead(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.ledger_seconds_ahead() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.ledger_seconds_ahead() TO well_sync;

--
-- Name: FUNCTION linked_parent_stays_in_its_workspace(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.linked_parent_stays_in_its_workspace() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.linked_parent_stays_in_its_workspace() TO well_api;
GRANT ALL ON FUNCTION core_api.linked_parent_stays_in_its_workspace() TO well_sync;

--
-- Name: FUNCTION make_ledger_periods_ahead(p_period text, p_ahead integer); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) TO well_sync;

--
-- Name: FUNCTION may_enrol(p_group_pk bigint, p_workspace_pk bigint); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) TO well_api;

--
-- Name: FUNCTION operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) TO well_operator;

--
-- Name: FUNCTION operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) TO well_operator;

--
-- Name: FUNCTION operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) TO well_operator;

--
-- Name: FUNCTION operator_make_workspace(p_name text, p_workspace_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) TO well_operator;

--
-- Name: FUNCTION operator_revoke_key(p_api_key_id uuid, p_prefix text); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) TO well_operator;

--
-- Name: FUNCTION operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) TO well_operator;

--
-- Name: FUNCTION people_workspace_connectors_created_at(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.people_workspace_connectors_created_at() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.people_workspace_connectors_created_at() TO well_api;
GRANT ALL ON FUNCTION core_api.people_workspace_connectors_created_at() TO well_sync;

--
-- Name: FUNCTION people_workspace_connectors_parents_agree(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.people_workspace_connectors_parents_agree() FROM PUBLIC;

--
-- Name: PROCEDURE prove_key(IN p_proof text); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON PROCEDURE core_api.prove_key(IN p_proof text) FROM PUBLIC;
GRANT ALL ON PROCEDURE core_api.prove_key(IN p_proof text) TO well_auth;

--
-- Name: PROCEDURE prove_scope(IN p_proof text); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON PROCEDURE core_api.prove_scope(IN p_proof text) FROM PUBLIC;
GRANT ALL ON PROCEDURE core_api.prove_scope(IN p_proof text) TO well_api;

--
-- Name: FUNCTION record_account_workspace_connectors(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.record_account_workspace_connectors() FROM PUBLIC;

--
-- Name: FUNCTION record_company_workspace_connectors(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.record_company_workspace_connectors() FROM PUBLIC;

--
-- Name: FUNCTION record_people_workspace_connectors(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.record_people_workspace_connectors() FROM PUBLIC;

--
-- Name: FUNCTION record_workspace_group_workspaces(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.record_workspace_group_workspaces() FROM PUBLIC;

--
-- Name: FUNCTION record_workspace_providers(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.record_workspace_providers() FROM PUBLIC;

--
-- Name: FUNCTION remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb) TO well_api;

--
-- Name: FUNCTION restore_role_defaults(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.restore_role_defaults() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.restore_role_defaults() TO well_heal;

--
-- Name: FUNCTION role_defaults_to_restore(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.role_defaults_to_restore() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.role_defaults_to_restore() TO well_heal;

--
-- Name: FUNCTION scope_person_pk(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.scope_person_pk() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.scope_person_pk() TO well_api;

--
-- Name: FUNCTION scope_principal_kind(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.scope_principal_kind() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.scope_principal_kind() TO well_api;

--
-- Name: FUNCTION scope_workspace_connector_pks(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.scope_workspace_connector_pks() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.scope_workspace_connector_pks() TO well_api;

--
-- Name: FUNCTION scope_workspace_pk(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.scope_workspace_pk() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.scope_workspace_pk() TO well_api;

--
-- Name: FUNCTION set_scope(p_workspace_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.set_scope(p_workspace_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.set_scope(p_workspace_id uuid) TO well_api;

--
-- Name: PROCEDURE set_transaction_settings(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON PROCEDURE core_api.set_transaction_settings() FROM PUBLIC;
GRANT ALL ON PROCEDURE core_api.set_transaction_settings() TO well_api;
GRANT ALL ON PROCEDURE core_api.set_transaction_settings() TO well_auth;
GRANT ALL ON PROCEDURE core_api.set_transaction_settings() TO well_drain;
GRANT ALL ON PROCEDURE core_api.set_transaction_settings() TO well_heal;
GRANT ALL ON PROCEDURE core_api.set_transaction_settings() TO well_operator;
GRANT ALL ON PROCEDURE core_api.set_transaction_settings() TO well_sync;

--
-- Name: FUNCTION touch_row(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.touch_row() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.touch_row() TO well_api;
GRANT ALL ON FUNCTION core_api.touch_row() TO well_sync;

--
-- Name: FUNCTION uuid_floor(p_time timestamp with time zone); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.uuid_floor(p_time timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.uuid_floor(p_time timestamp with time zone) TO well_api;
GRANT ALL ON FUNCTION core_api.uuid_floor(p_time timestamp with time zone) TO well_sync;

--
-- Name: FUNCTION uuid_time(p_id uuid); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.uuid_time(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.uuid_time(p_id uuid) TO well_api;
GRANT ALL ON FUNCTION core_api.uuid_time(p_id uuid) TO well_sync;

--
-- Name: FUNCTION uuid_v7(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.uuid_v7() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.uuid_v7() TO well_api;
GRANT ALL ON FUNCTION core_api.uuid_v7() TO well_sync;

--
-- Name: FUNCTION uuid_v7_at(p_time timestamp with time zone); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.uuid_v7_at(p_time timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION verified_person_pk(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.verified_person_pk() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.verified_person_pk() TO well_api;

--
-- Name: FUNCTION verified_principal_kind(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.verified_principal_kind() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.verified_principal_kind() TO well_api;

--
-- Name: FUNCTION verified_workspace_connector_pks(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.verified_workspace_connector_pks() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.verified_workspace_connector_pks() TO well_api;

--
-- Name: FUNCTION verified_workspace_pk(); Type: ACL; Schema: core_api; Owner: migration_owner
--

REVOKE ALL ON FUNCTION core_api.verified_workspace_pk() FROM PUBLIC;
GRANT ALL ON FUNCTION core_api.verified_workspace_pk() TO well_api;

--
-- Name: FUNCTION constraint_name(p_name text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.constraint_name(p_name text) FROM PUBLIC;

--
-- Name: FUNCTION create_ledger(p_record_type text, p_parent text, p_parent_id text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.create_ledger(p_record_type text, p_parent text, p_parent_id text) FROM PUBLIC;

--
-- Name: FUNCTION drop_ledger(p_record_type text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.drop_ledger(p_record_type text) FROM PUBLIC;

--
-- Name: FUNCTION insert_api_key(p_workspace_pk bigint, p_person_pk bigint, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer, p_replaces uuid); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.insert_api_key(p_workspace_pk bigint, p_person_pk bigint, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer, p_replaces uuid) FROM PUBLIC;

--
-- Name: FUNCTION issued_api_key(p_prefix text, p_secret_hash bytea); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.issued_api_key(p_prefix text, p_secret_hash bytea) FROM PUBLIC;

--
-- Name: FUNCTION junction_id_column(p_table regclass); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.junction_id_column(p_table regclass) FROM PUBLIC;

--
-- Name: FUNCTION ledger_period_length(p_period text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.ledger_period_length(p_period text) FROM PUBLIC;

--
-- Name: FUNCTION live_workspace_pk(p_workspace_id uuid); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.live_workspace_pk(p_workspace_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION locked_api_key_pk(p_api_key_id uuid, p_prefix text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.locked_api_key_pk(p_api_key_id uuid, p_prefix text) FROM PUBLIC;

--
-- Name: FUNCTION mac(p_message text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.mac(p_message text) FROM PUBLIC;

--
-- Name: FUNCTION make_ledger_period(p_ledger text, p_starts_at timestamp with time zone, p_ends_at timestamp with time zone); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.make_ledger_period(p_ledger text, p_starts_at timestamp with time zone, p_ends_at timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION make_ledger_periods(p_period text, p_from timestamp with time zone, p_through timestamp with time zone); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.make_ledger_periods(p_period text, p_from timestamp with time zone, p_through timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION name_the_change_types(); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.name_the_change_types() FROM PUBLIC;

--
-- Name: FUNCTION proof_mac(p_key bytea, p_message text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.proof_mac(p_key bytea, p_message text) FROM PUBLIC;

--
-- Name: FUNCTION random_key(); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.random_key() FROM PUBLIC;

--
-- Name: FUNCTION record_operator_change(p_workspace_pk bigint, p_resource_type text, p_change text, p_id uuid, p_detail jsonb); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.record_operator_change(p_workspace_pk bigint, p_resource_type text, p_change text, p_id uuid, p_detail jsonb) FROM PUBLIC;

--
-- Name: FUNCTION record_settings(); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.record_settings() FROM PUBLIC;

--
-- Name: FUNCTION scope_token(p_person_pk bigint, p_kind text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.scope_token(p_person_pk bigint, p_kind text) FROM PUBLIC;

--
-- Name: FUNCTION text_digest(p_text text); Type: ACL; Schema: well_private; Owner: migration_owner
--

REVOKE ALL ON FUNCTION well_private.text_digest(p_text text) FROM PUBLIC;

--
-- Name: TABLE account_workspace_connectors; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT ON TABLE core_api.account_workspace_connectors TO well_api;
GRANT SELECT,INSERT ON TABLE core_api.account_workspace_connectors TO well_sync;

--
-- Name: COLUMN account_workspace_connectors.direction; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(direction) ON TABLE core_api.account_workspace_connectors TO well_api;

--
-- Name: COLUMN account_workspace_connectors.updated_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(updated_at) ON TABLE core_api.account_workspace_connectors TO well_api;

--
-- Name: COLUMN account_workspace_connectors.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(deleted_at) ON TABLE core_api.account_workspace_connectors TO well_api;
GRANT UPDATE(deleted_at) ON TABLE core_api.account_workspace_connectors TO well_sync;

--
-- Name: COLUMN accounts.account_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(account_id) ON TABLE core_api.accounts TO well_api;
GRANT SELECT(account_id) ON TABLE core_api.accounts TO well_sync;

--
-- Name: COLUMN accounts.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.accounts TO well_api;
GRANT SELECT(workspace_pk) ON TABLE core_api.accounts TO well_sync;

--
-- Name: COLUMN accounts.type; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(type) ON TABLE core_api.accounts TO well_api;

--
-- Name: COLUMN accounts.account_name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(account_name) ON TABLE core_api.accounts TO well_api;

--
-- Name: COLUMN accounts.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.accounts TO well_api;
GRANT SELECT(pk) ON TABLE core_api.accounts TO well_sync;

--
-- Name: COLUMN accounts.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.accounts TO well_api;
GRANT SELECT(deleted_at) ON TABLE core_api.accounts TO well_sync;

--
-- Name: TABLE change_feed_pruned; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE core_api.change_feed_pruned TO well_sync;

--
-- Name: COLUMN change_feed_pruned.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.change_feed_pruned TO well_api;

--
-- Name: COLUMN change_feed_pruned.xid; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(xid) ON TABLE core_api.change_feed_pruned TO well_api;

--
-- Name: COLUMN change_feed_pruned.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.change_feed_pruned TO well_api;

--
-- Name: TABLE change_records; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT DELETE ON TABLE core_api.change_records TO well_sync;

--
-- Name: COLUMN change_records.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(pk) ON TABLE core_api.change_records TO well_drain;
GRANT SELECT(pk) ON TABLE core_api.change_records TO well_sync;

--
-- Name: COLUMN change_records.xid; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(xid) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(xid) ON TABLE core_api.change_records TO well_drain;
GRANT SELECT(xid) ON TABLE core_api.change_records TO well_sync;

--
-- Name: COLUMN change_records.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(workspace_pk) ON TABLE core_api.change_records TO well_drain;
GRANT SELECT(workspace_pk),INSERT(workspace_pk) ON TABLE core_api.change_records TO well_sync;

--
-- Name: COLUMN change_records.resource_type; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(resource_type) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(resource_type) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(resource_type) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.change; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(change) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(change) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(change) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.ids; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(ids) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(ids) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(ids) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.record_ids; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(record_ids) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(record_ids) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(record_ids) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.detail; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(detail) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(detail) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(detail) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.occurred_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(occurred_at) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(occurred_at) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(occurred_at) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.recorded_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(recorded_at) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(recorded_at) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.actor_kind; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(actor_kind) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(actor_kind) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(actor_kind) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.sync_run_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(sync_run_id) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(sync_run_id) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(sync_run_id) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.message_key; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT INSERT(message_key) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(message_key) ON TABLE core_api.change_records TO well_api;
GRANT SELECT(message_key) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN change_records.sent_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(sent_at) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT(sent_at),UPDATE(sent_at) ON TABLE core_api.change_records TO well_drain;

--
-- Name: COLUMN companies.company_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(company_id) ON TABLE core_api.companies TO well_api;
GRANT SELECT(company_id) ON TABLE core_api.companies TO well_sync;

--
-- Name: COLUMN companies.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.companies TO well_api;
GRANT SELECT(workspace_pk) ON TABLE core_api.companies TO well_sync;

--
-- Name: COLUMN companies.name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(name) ON TABLE core_api.companies TO well_api;

--
-- Name: COLUMN companies.domain; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(domain) ON TABLE core_api.companies TO well_api;

--
-- Name: COLUMN companies.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.companies TO well_api;
GRANT SELECT(pk) ON TABLE core_api.companies TO well_sync;

--
-- Name: COLUMN companies.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.companies TO well_api;
GRANT SELECT(deleted_at) ON TABLE core_api.companies TO well_sync;

--
-- Name: TABLE company_workspace_connectors; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT ON TABLE core_api.company_workspace_connectors TO well_api;
GRANT SELECT,INSERT ON TABLE core_api.company_workspace_connectors TO well_sync;

--
-- Name: COLUMN company_workspace_connectors.direction; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(direction) ON TABLE core_api.company_workspace_connectors TO well_api;

--
-- Name: COLUMN company_workspace_connectors.updated_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(updated_at) ON TABLE core_api.company_workspace_connectors TO well_api;

--
-- Name: COLUMN company_workspace_connectors.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(deleted_at) ON TABLE core_api.company_workspace_connectors TO well_api;
GRANT UPDATE(deleted_at) ON TABLE core_api.company_workspace_connectors TO well_sync;

--
-- Name: TABLE connector_revocations; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE core_api.connector_revocations TO well_sync;

--
-- Name: COLUMN connector_revocations.workspace_connector_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_connector_pk) ON TABLE core_api.connector_revocations TO well_api;

--
-- Name: COLUMN memberships.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.memberships TO well_api;

--
-- Name: COLUMN memberships.person_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(person_pk) ON TABLE core_api.memberships TO well_api;

--
-- Name: COLUMN memberships.status; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(status) ON TABLE core_api.memberships TO well_api;

--
-- Name: COLUMN memberships.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.memberships TO well_api;

--
-- Name: TABLE people_workspace_connectors; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT ON TABLE core_api.people_workspace_connectors TO well_api;
GRANT SELECT,INSERT ON TABLE core_api.people_workspace_connectors TO well_sync;

--
-- Name: COLUMN people_workspace_connectors.direction; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(direction) ON TABLE core_api.people_workspace_connectors TO well_api;

--
-- Name: COLUMN people_workspace_connectors.updated_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(updated_at) ON TABLE core_api.people_workspace_connectors TO well_api;

--
-- Name: COLUMN people_workspace_connectors.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(deleted_at) ON TABLE core_api.people_workspace_connectors TO well_api;
GRANT UPDATE(deleted_at) ON TABLE core_api.people_workspace_connectors TO well_sync;

--
-- Name: COLUMN peoples.person_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(person_id) ON TABLE core_api.peoples TO well_api;
GRANT SELECT(person_id) ON TABLE core_api.peoples TO well_sync;

--
-- Name: COLUMN peoples.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.peoples TO well_api;
GRANT SELECT(workspace_pk) ON TABLE core_api.peoples TO well_sync;

--
-- Name: COLUMN peoples.first_name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(first_name) ON TABLE core_api.peoples TO well_api;

--
-- Name: COLUMN peoples.last_name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(last_name) ON TABLE core_api.peoples TO well_api;

--
-- Name: COLUMN peoples.full_name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(full_name) ON TABLE core_api.peoples TO well_api;

--
-- Name: COLUMN peoples.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.peoples TO well_api;
GRANT SELECT(pk) ON TABLE core_api.peoples TO well_sync;

--
-- Name: COLUMN peoples.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.peoples TO well_api;
GRANT SELECT(deleted_at) ON TABLE core_api.peoples TO well_sync;

--
-- Name: COLUMN providers.provider_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(provider_id) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(name) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.slug; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(slug) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.url; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(url) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.category; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(category) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.popularity_score; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(popularity_score) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.created_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(created_at) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.updated_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(updated_at) ON TABLE core_api.providers TO well_api;

--
-- Name: COLUMN providers.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.providers TO well_api;

--
-- Name: TABLE revocation_sweeps; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE core_api.revocation_sweeps TO well_sync;

--
-- Name: TABLE sync_receipts; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE core_api.sync_receipts TO well_sync;

--
-- Name: TABLE sync_tombstones; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE core_api.sync_tombstones TO well_sync;

--
-- Name: TABLE transaction_settings; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT ON TABLE core_api.transaction_settings TO well_api;
GRANT SELECT ON TABLE core_api.transaction_settings TO well_auth;
GRANT SELECT ON TABLE core_api.transaction_settings TO well_drain;
GRANT SELECT ON TABLE core_api.transaction_settings TO well_heal;
GRANT SELECT ON TABLE core_api.transaction_settings TO well_operator;
GRANT SELECT ON TABLE core_api.transaction_settings TO well_sync;

--
-- Name: COLUMN workspace_connectors.workspace_connector_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_connector_id) ON TABLE core_api.workspace_connectors TO well_api;
GRANT SELECT(workspace_connector_id) ON TABLE core_api.workspace_connectors TO well_sync;

--
-- Name: COLUMN workspace_connectors.workspace_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_pk) ON TABLE core_api.workspace_connectors TO well_api;
GRANT SELECT(workspace_pk) ON TABLE core_api.workspace_connectors TO well_sync;

--
-- Name: COLUMN workspace_connectors.status; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(status) ON TABLE core_api.workspace_connectors TO well_api;

--
-- Name: COLUMN workspace_connectors.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.workspace_connectors TO well_api;
GRANT SELECT(pk) ON TABLE core_api.workspace_connectors TO well_sync;

--
-- Name: COLUMN workspace_connectors.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.workspace_connectors TO well_api;
GRANT SELECT(deleted_at) ON TABLE core_api.workspace_connectors TO well_sync;

--
-- Name: COLUMN workspace_group_memberships.person_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(person_pk) ON TABLE core_api.workspace_group_memberships TO well_api;

--
-- Name: COLUMN workspace_group_memberships.workspace_group_pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_group_pk) ON TABLE core_api.workspace_group_memberships TO well_api;

--
-- Name: COLUMN workspace_group_memberships.role; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(role) ON TABLE core_api.workspace_group_memberships TO well_api;

--
-- Name: COLUMN workspace_group_memberships.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.workspace_group_memberships TO well_api;

--
-- Name: TABLE workspace_group_workspaces; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT ON TABLE core_api.workspace_group_workspaces TO well_api;

--
-- Name: COLUMN workspace_group_workspaces.updated_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(updated_at) ON TABLE core_api.workspace_group_workspaces TO well_api;

--
-- Name: COLUMN workspace_group_workspaces.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(deleted_at) ON TABLE core_api.workspace_group_workspaces TO well_api;

--
-- Name: COLUMN workspace_groups.workspace_group_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_group_id) ON TABLE core_api.workspace_groups TO well_api;

--
-- Name: COLUMN workspace_groups.name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(name) ON TABLE core_api.workspace_groups TO well_api;

--
-- Name: COLUMN workspace_groups.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.workspace_groups TO well_api;

--
-- Name: COLUMN workspace_groups.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.workspace_groups TO well_api;

--
-- Name: TABLE workspace_providers; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT,INSERT ON TABLE core_api.workspace_providers TO well_api;

--
-- Name: COLUMN workspace_providers.is_selected; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(is_selected) ON TABLE core_api.workspace_providers TO well_api;

--
-- Name: COLUMN workspace_providers.is_matched; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(is_matched) ON TABLE core_api.workspace_providers TO well_api;

--
-- Name: COLUMN workspace_providers.updated_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(updated_at) ON TABLE core_api.workspace_providers TO well_api;

--
-- Name: COLUMN workspace_providers.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT UPDATE(deleted_at) ON TABLE core_api.workspace_providers TO well_api;

--
-- Name: COLUMN workspaces.workspace_id; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(workspace_id) ON TABLE core_api.workspaces TO well_api;
GRANT SELECT(workspace_id) ON TABLE core_api.workspaces TO well_drain;

--
-- Name: COLUMN workspaces.name; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(name) ON TABLE core_api.workspaces TO well_api;

--
-- Name: COLUMN workspaces.pk; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(pk) ON TABLE core_api.workspaces TO well_api;
GRANT SELECT(pk) ON TABLE core_api.workspaces TO well_drain;

--
-- Name: COLUMN workspaces.deleted_at; Type: ACL; Schema: core_api; Owner: migration_owner
--

GRANT SELECT(deleted_at) ON TABLE core_api.workspaces TO well_api;

--
-- PostgreSQL database dump complete
--

--
-- The application roles and the database (pg_dumpall's part)
--

ALTER ROLE well_api WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1;
ALTER ROLE well_auth WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1;
ALTER ROLE well_drain WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1;
ALTER ROLE well_heal WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1;
ALTER ROLE well_operator WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1;
ALTER ROLE well_sync WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1;
GRANT well_api TO well_heal WITH INHERIT FALSE, SET TRUE, ADMIN FALSE;
GRANT well_auth TO well_heal WITH INHERIT FALSE, SET TRUE, ADMIN FALSE;
GRANT well_drain TO well_heal WITH INHERIT FALSE, SET TRUE, ADMIN FALSE;
GRANT well_operator TO well_heal WITH INHERIT FALSE, SET TRUE, ADMIN FALSE;
GRANT well_sync TO well_heal WITH INHERIT FALSE, SET TRUE, ADMIN FALSE;
ALTER ROLE well_api IN DATABASE current_database SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE well_api IN DATABASE current_database SET lock_timeout = '2s';
ALTER ROLE well_api IN DATABASE current_database SET log_parameter_max_length = '0';
ALTER ROLE well_api IN DATABASE current_database SET log_parameter_max_length_on_error = '0';
ALTER ROLE well_api IN DATABASE current_database SET plan_cache_mode = 'force_generic_plan';
ALTER ROLE well_api IN DATABASE current_database SET random_page_cost = '1.1';
ALTER ROLE well_api IN DATABASE current_database SET search_path = pg_catalog, pg_temp;
ALTER ROLE well_api IN DATABASE current_database SET statement_timeout = '5s';
ALTER ROLE well_auth IN DATABASE current_database SET idle_in_transaction_session_timeout = '5s';
ALTER ROLE well_auth IN DATABASE current_database SET log_parameter_max_length = '0';
ALTER ROLE well_auth IN DATABASE current_database SET log_parameter_max_length_on_error = '0';
ALTER ROLE well_auth IN DATABASE current_database SET search_path = pg_catalog, pg_temp;
ALTER ROLE well_auth IN DATABASE current_database SET statement_timeout = '2s';
ALTER ROLE well_drain IN DATABASE current_database SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE well_drain IN DATABASE current_database SET lock_timeout = '2s';
ALTER ROLE well_drain IN DATABASE current_database SET search_path = pg_catalog, pg_temp;
ALTER ROLE well_drain IN DATABASE current_database SET statement_timeout = '5s';
ALTER ROLE well_heal IN DATABASE current_database SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE well_heal IN DATABASE current_database SET lock_timeout = '2s';
ALTER ROLE well_heal IN DATABASE current_database SET search_path = pg_catalog, pg_temp;
ALTER ROLE well_heal IN DATABASE current_database SET statement_timeout = '20s';
ALTER ROLE well_operator IN DATABASE current_database SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE well_operator IN DATABASE current_database SET lock_timeout = '2s';
ALTER ROLE well_operator IN DATABASE current_database SET log_parameter_max_length = '0';
ALTER ROLE well_operator IN DATABASE current_database SET log_parameter_max_length_on_error = '0';
ALTER ROLE well_operator IN DATABASE current_database SET search_path = pg_catalog, pg_temp;
ALTER ROLE well_operator IN DATABASE current_database SET statement_timeout = '5s';
ALTER ROLE well_sync IN DATABASE current_database SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE well_sync IN DATABASE current_database SET lock_timeout = '10s';
ALTER ROLE well_sync IN DATABASE current_database SET random_page_cost = '1.1';
ALTER ROLE well_sync IN DATABASE current_database SET search_path = pg_catalog, pg_temp;
ALTER ROLE well_sync IN DATABASE current_database SET statement_timeout = '60s';
-- current_database's privileges: =c/migration_owner migration_owner=CTc/migration_owner
